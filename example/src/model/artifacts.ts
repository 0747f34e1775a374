// The trained model on disk (model_bin/): the ONNX graph, the preprocessor state and model.json, which
// describes the model well enough for the service to check it against features.yaml before serving it.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FeatureType, Task } from '../spec/schema.js';
import type { Metrics } from '../training/metrics.js';
import type { PreprocessorState } from './preprocessor.js';

export const MODEL_FILE = 'model.onnx';
export const PREPROCESSOR_FILE = 'preprocessor.json';
export const METADATA_FILE = 'model.json';

export interface ModelMetadata {
  uuid: string;
  created_at: string;
  /** The project version (config.yaml `version`) the model was trained for. */
  version: string;
  task: Task;
  target: string;
  /** Class names in the order of the model's probability columns (classification). */
  classes: string[];
  /** The features the model was trained on, in order, as features.yaml declared them. */
  features: { name: string; type: FeatureType }[];
  /** sha256 of the features.yaml text the model was trained with. */
  features_sha256: string;
  /** Names of the model's input columns after preprocessing. */
  input_columns: string[];
  metrics: Metrics;
  rows: { train: number; holdout: number };
}

export interface ModelArtifacts {
  onnx: Uint8Array;
  preprocessor: PreprocessorState;
  metadata: ModelMetadata;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Writes the three files, each through a temporary name so a reader never sees half a file. */
export async function writeArtifacts(dir: string, artifacts: ModelArtifacts): Promise<void> {
  await mkdir(dir, { recursive: true });
  const files: [string, string | Uint8Array][] = [
    [MODEL_FILE, artifacts.onnx],
    [PREPROCESSOR_FILE, `${JSON.stringify(artifacts.preprocessor, null, 2)}\n`],
    [METADATA_FILE, `${JSON.stringify(artifacts.metadata, null, 2)}\n`],
  ];
  for (const [name, content] of files) {
    const path = join(dir, name);
    await writeFile(`${path}.tmp`, content);
    await rename(`${path}.tmp`, path);
  }
}

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

async function readRequired(dir: string, name: string): Promise<Buffer> {
  try {
    return await readFile(join(dir, name));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (error as Error).message;
    throw new ModelLoadError(`${join(dir, name)}: ${reason}. Train a model first with \`npm run train\` (or set MODEL_DIR).`);
  }
}

function parseJson<T>(dir: string, name: string, content: Buffer): T {
  try {
    return JSON.parse(content.toString('utf8')) as T;
  } catch (error) {
    throw new ModelLoadError(`${join(dir, name)}: not valid JSON (${(error as Error).message})`);
  }
}

export async function readArtifacts(dir: string): Promise<ModelArtifacts> {
  const [onnx, preprocessor, metadata] = await Promise.all([
    readRequired(dir, MODEL_FILE),
    readRequired(dir, PREPROCESSOR_FILE),
    readRequired(dir, METADATA_FILE),
  ]);
  return {
    onnx,
    preprocessor: parseJson<PreprocessorState>(dir, PREPROCESSOR_FILE, preprocessor),
    metadata: parseJson<ModelMetadata>(dir, METADATA_FILE, metadata),
  };
}
