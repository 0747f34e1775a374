// The model store (model_bin/): one folder per trained model version, each holding the ONNX graph, the
// preprocessor state and model.json, plus the file LATEST naming the version served: the newest one
// promoted (it passed the quality gate and, with training.promote: if_better, was not worse than the one
// before; see src/training/promotion.ts). model.json describes a model well enough for the service to check it against
// features.yaml before serving it; a model trained elsewhere comes with a hand-written one.
//
//   model_bin/
//     LATEST                                  "20250101T120000Z-1a2b3c4d"
//     20250101T120000Z-1a2b3c4d/              model.onnx, preprocessor.json, model.json, report.html
//     20241224T083000Z-9f8e7d6c/              an older (or rejected) run, kept for comparison and rollback
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { FEATURE_TYPES, TASKS, type FeatureType, type Task } from '../contract/index.js';
import type { Metrics, QualityGateResult } from './evaluation.js';
import type { PreprocessorState } from './preprocessor.js';
import type { FeatureStatistics } from './referenceStatistics.js';

export const MODEL_FILE = 'model.onnx';
export const PREPROCESSOR_FILE = 'preprocessor.json';
export const METADATA_FILE = 'model.json';
/** The training report: one self-contained HTML page (src/training/trainingReport.ts). */
export const REPORT_FILE = 'report.html';
/** In the store folder: the name of the version served when config.yaml names none. */
export const LATEST_FILE = 'LATEST';

/** How to read a model's ONNX inputs and outputs when the names alone do not say (models trained elsewhere). */
export const onnxInterfaceSchema = z.strictObject({
  /** The input to feed; default: the model's only input. */
  input: z.string().min(1).optional(),
  /** The output to read: [N, C] class scores (classification) or [N] / [N, 1] values (regression); default: found by name and shape. */
  output: z.string().min(1).optional(),
  /** Classification: whether `output` holds probabilities or logits (the service applies softmax to logits). */
  scores: z.enum(['probabilities', 'logits']).default('probabilities'),
});
export type OnnxInterface = z.output<typeof onnxInterfaceSchema>;

/**
 * The part of model.json the service reads. Training writes these and more (ModelMetadata); a model
 * trained elsewhere needs only task, target, features and (classification) classes.
 */
export const servedMetadataSchema = z.looseObject({
  task: z.enum(TASKS),
  target: z.string().min(1),
  /** The features the model takes, in order, as features.yaml declares them. */
  features: z.array(z.looseObject({ name: z.string().min(1), type: z.enum(FEATURE_TYPES) })).min(1),
  /** Class names in the order of the model's probability columns (classification). */
  classes: z.array(z.string().min(1)).default([]),
  uuid: z.string().min(1).optional(),
  /** The project version (config.yaml `version`) the model was made for. */
  version: z.string().min(1).optional(),
  created_at: z.string().min(1).optional(),
  onnx: onnxInterfaceSchema.optional(),
});

/** A served model's description, with the identifying fields filled in when model.json leaves them out. */
export type ServedMetadata = z.output<typeof servedMetadataSchema> & { uuid: string; version: string; created_at: string };

/** Where a model's training and holdout rows came from (model.json `data`; src/training/dataset.ts makes it). */
export interface DataProvenance {
  /** config.yaml data.path. */
  path: string;
  /** sha256 of the file at data.path; null when it is not a readable file (a loadData() reading elsewhere). */
  sha256: string | null;
  /** Rows loadData() returned. */
  rows: number;
  seed: number;
  holdout_fraction: number;
  /** sha256 of the holdout rows (features and label, in order): equal exactly when two runs held out the same rows. */
  holdout_sha256: string;
}

/** Everything training writes into model.json. */
export interface ModelMetadata {
  uuid: string;
  /** The model's folder in model_bin/. */
  model_version: string;
  created_at: string;
  /** The project version (config.yaml `version`) the model was trained for. */
  version: string;
  task: Task;
  target: string;
  /** The model's `algorithm`, e.g. "softmaxRegression". */
  algorithm: string;
  /** Class names in the order of the model's probability columns (classification). */
  classes: string[];
  /** The features the model was trained on, in order, as features.yaml declared them. */
  features: { name: string; type: FeatureType }[];
  /** sha256 of the features.yaml text the model was trained with. */
  features_sha256: string;
  /** Names of the model's input columns after preprocessing. */
  input_columns: string[];
  metrics: Metrics;
  quality_gate: QualityGateResult;
  rows: { train: number; holdout: number };
  /** Per-feature statistics of the training rows, the reference for drift monitoring. */
  reference: Record<string, FeatureStatistics>;
  /** The data and split the model was trained and evaluated on (model.json of older models lacks it). */
  data: DataProvenance;
  /** The commit of the code and data that trained the model: $GIT_COMMIT (Jenkins sets it) or `git rev-parse HEAD`. */
  git: { commit: string; dirty: boolean | null } | null;
}

export interface ModelArtifacts {
  onnx: Uint8Array;
  preprocessor: PreprocessorState;
  metadata: ModelMetadata;
  /** More files for the version folder by name (e.g. explainer.json), written with the others. */
  files?: Readonly<Record<string, string | Uint8Array>>;
}

export function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A version name that sorts by creation time: 20250101T120000Z-1a2b3c4d (UTC, then the uuid's first 8 digits). */
export function modelVersionName(createdAt: Date, uuid: string): string {
  return `${createdAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${uuid.slice(0, 8)}`;
}

/** Writes a file whole or not at all: a reader sees the old content or the new, never a part. */
export async function writeAtomically(path: string, content: string | Uint8Array): Promise<void> {
  await writeFile(`${path}.tmp`, content);
  await rename(`${path}.tmp`, path);
}

/**
 * Writes a new version folder (built under a temporary name and renamed, so a reader never sees half a
 * model) and, when `makeLatest`, points LATEST at it. Returns the folder.
 */
export async function writeModelVersion(storeDir: string, artifacts: ModelArtifacts, options: { makeLatest: boolean }): Promise<string> {
  const version = artifacts.metadata.model_version;
  const dir = join(storeDir, version);
  const staging = join(storeDir, `.${version}.tmp`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await writeFile(join(staging, MODEL_FILE), artifacts.onnx);
  await writeFile(join(staging, PREPROCESSOR_FILE), `${JSON.stringify(artifacts.preprocessor, null, 2)}\n`);
  await writeFile(join(staging, METADATA_FILE), `${JSON.stringify(artifacts.metadata, null, 2)}\n`);
  for (const [name, content] of Object.entries(artifacts.files ?? {})) await writeFile(join(staging, name), content);
  await rename(staging, dir);
  if (options.makeLatest) await setLatest(storeDir, version);
  return dir;
}

/** Writes a version folder's training report (atomically, as the other files); returns its path. */
export async function writeReport(versionDir: string, html: string): Promise<string> {
  const path = join(versionDir, REPORT_FILE);
  await writeAtomically(path, html);
  return path;
}

/** Points the store's LATEST at `version` (replaced atomically: a reader sees the old name or the new one). */
export async function setLatest(storeDir: string, version: string): Promise<void> {
  await writeAtomically(join(storeDir, LATEST_FILE), `${version}\n`);
}

/** The version the store's LATEST names, if any. */
export async function readLatest(storeDir: string): Promise<string | undefined> {
  return readFile(join(storeDir, LATEST_FILE), 'utf8').then(
    (text) => text.trim() || undefined,
    () => undefined,
  );
}

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** The version folders in the store (those holding a model.json), sorted by name: oldest first for trained ones. */
export async function listModelVersions(storeDir: string): Promise<string[]> {
  const entries = await readdir(storeDir, { withFileTypes: true }).catch(() => []);
  const versions: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory() && !entry.name.startsWith('.') && (await exists(join(storeDir, entry.name, METADATA_FILE))))
      versions.push(entry.name);
  }
  return versions.sort();
}

/**
 * The folder to serve: `modelDir` itself when it holds a model.json (one model, e.g. copied alone into an
 * image); otherwise the store's version named in config.yaml (server.model_version), else the one LATEST names.
 */
export async function resolveModelDir(modelDir: string, requestedVersion?: string): Promise<string> {
  if (!(await exists(modelDir)))
    throw new ModelLoadError(
      `${modelDir}/ does not exist. Train a model with \`npm run train\`, or set MODEL_DIR to the model store or a model folder.`,
    );
  if (await exists(join(modelDir, METADATA_FILE))) return modelDir;
  const available = await listModelVersions(modelDir);
  const listing = available.length ? `available: ${available.join(', ')}` : 'it holds no model';
  if (requestedVersion !== undefined) {
    if (available.includes(requestedVersion)) return join(modelDir, requestedVersion);
    throw new ModelLoadError(`config.yaml server.model_version is "${requestedVersion}", but ${modelDir}/ has no such model (${listing})`);
  }
  const latest = await readFile(join(modelDir, LATEST_FILE), 'utf8').then(
    (text) => text.trim(),
    () => undefined,
  );
  if (latest === undefined) {
    throw new ModelLoadError(
      `${modelDir}/${LATEST_FILE} not found (${listing}). Train a model with \`npm run train\`, or name a folder in config.yaml server.model_version (or set MODEL_DIR).`,
    );
  }
  if (!available.includes(latest))
    throw new ModelLoadError(`${modelDir}/${LATEST_FILE} names "${latest}", but there is no such model (${listing})`);
  return join(modelDir, latest);
}

type FeatureSignature = { readonly name: string; readonly type: FeatureType };

/**
 * How the features a model was trained on differ from those features.yaml declares now, one line per
 * difference (a renamed feature shows as one missing and one new); empty when names, types and order agree.
 */
export function featureDifferences(trained: readonly FeatureSignature[], declared: readonly FeatureSignature[]): string[] {
  const declaredByName = new Map(declared.map((feature) => [feature.name, feature]));
  const trainedByName = new Map(trained.map((feature) => [feature.name, feature]));
  const differences: string[] = [];
  for (const { name, type } of trained) {
    const now = declaredByName.get(name);
    if (!now) differences.push(`feature "${name}" (${type}) is in the model but not in features.yaml`);
    else if (now.type !== type) differences.push(`feature "${name}" is ${type} in the model but ${now.type} in features.yaml`);
  }
  for (const { name, type } of declared) {
    if (!trainedByName.has(name)) differences.push(`feature "${name}" (${type}) is in features.yaml but not in the model`);
  }
  const order = (features: readonly FeatureSignature[]) => features.map((feature) => feature.name).join(', ');
  if (!differences.length && order(trained) !== order(declared))
    differences.push(`the features are in another order: the model takes [${order(trained)}], features.yaml lists [${order(declared)}]`);
  return differences;
}

export interface LoadedArtifacts {
  onnx: Uint8Array;
  /** Absent for a model trained elsewhere that takes the features as they are (see onnxSignature.ts). */
  preprocessor: PreprocessorState | undefined;
  metadata: ServedMetadata;
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelLoadError(`${path}: ${(error as Error).message}`);
  }
}

function parseJson(path: string, content: Buffer): unknown {
  try {
    return JSON.parse(content.toString('utf8'));
  } catch (error) {
    throw new ModelLoadError(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

/**
 * What preprocessor.json must hold for the project's Preprocessor (PreprocessorState: the column encoders of
 * src/model/preprocessing.ts). Checked on load, so a damaged file is refused naming the file and field instead of
 * failing later inside the encoders. Keys beyond these are kept, for a Preprocessor that stores more.
 */
const finiteNumber = z.number().refine(Number.isFinite, 'expected a finite number');
const preprocessorStateSchema = z.looseObject({
  encoders: z.array(
    z.discriminatedUnion('kind', [
      z.looseObject({ kind: z.literal('numeric'), feature: z.string(), offset: finiteNumber, scale: finiteNumber, fill: finiteNumber }),
      z.looseObject({
        kind: z.literal('one-hot'),
        feature: z.string(),
        categories: z.array(z.string()),
        fill: z.string().nullable(),
        unknown: z.enum(['zeros', 'error']),
      }),
      z.looseObject({ kind: z.literal('boolean'), feature: z.string(), fill: finiteNumber }),
    ]),
  ),
});

function readPreprocessorState(path: string, content: Buffer): PreprocessorState {
  const parsed = preprocessorStateSchema.safeParse(parseJson(path, content));
  if (parsed.success) return parsed.data as PreprocessorState;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  throw new ModelLoadError(`${path} is not a valid preprocessor state (retrain with \`npm run train\`):\n  ${problems.join('\n  ')}`);
}

/** Reads one model folder, checking model.json's fields; fills uuid, version and created_at when it leaves them out. */
export async function readArtifacts(dir: string, projectVersion: string): Promise<LoadedArtifacts> {
  const [onnx, preprocessor, metadataBytes] = await Promise.all([
    readOptional(join(dir, MODEL_FILE)),
    readOptional(join(dir, PREPROCESSOR_FILE)),
    readOptional(join(dir, METADATA_FILE)),
  ]);
  for (const [name, content] of [
    [MODEL_FILE, onnx],
    [METADATA_FILE, metadataBytes],
  ] as const) {
    if (!content) throw new ModelLoadError(`${join(dir, name)}: not found. Train a model first with \`npm run train\` (or set MODEL_DIR).`);
    if (content.length === 0)
      throw new ModelLoadError(`${join(dir, name)} is empty (0 bytes): an interrupted copy? Train or copy the model again.`);
  }
  const metadataPath = join(dir, METADATA_FILE);
  const parsed = servedMetadataSchema.safeParse(parseJson(metadataPath, metadataBytes!));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    throw new ModelLoadError(`${metadataPath} is not a valid model description:\n  ${problems.join('\n  ')}`);
  }
  const modified = await stat(join(dir, MODEL_FILE));
  const metadata: ServedMetadata = {
    ...parsed.data,
    // A hand-written model.json may leave these out: the file's hash and time identify the model instead.
    uuid: parsed.data.uuid ?? uuidFromHash(sha256(onnx!)),
    version: parsed.data.version ?? projectVersion,
    created_at: parsed.data.created_at ?? modified.mtime.toISOString(),
  };
  return {
    onnx: onnx!,
    preprocessor: preprocessor ? readPreprocessorState(join(dir, PREPROCESSOR_FILE), preprocessor) : undefined,
    metadata,
  };
}

/** A uuid-shaped id from a hex digest, so a model without a uuid still has a stable one. */
function uuidFromHash(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
