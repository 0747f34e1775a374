// Two versions of the project's model in a model store of their own, trained with different algorithms so that
// their answers differ (for the hot reload and shadow tests), and what each one predicts for the project's rows.
// Trained once per test run; each test takes a fresh copy of the store, so moving its LATEST affects no other test.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { algorithmSchema, type FeatureValues, type Spec } from '../../src/contract/index.js';
import { loadData } from '../../src/data/dataLoader.js';
import { setLatest } from '../../src/model/artifacts.js';
import { runTraining } from '../../src/training/pipeline.js';
import { OnnxPredictor, type Prediction } from '../../src/runtime/predictor.js';
import { trainedProject, type TrainedProject } from './trainedModel.js';

export interface ModelVersions {
  project: TrainedProject;
  /** The two versions' folder names, oldest first. */
  versions: [string, string];
  /** Rows of the project's data (features only), to send. */
  rows: FeatureValues[];
  /** What each version predicts for each row, by version. */
  expected: Map<string, Prediction[]>;
  /** A copy of the store holding both versions, with LATEST naming `latest` (default: the first). */
  freshStore(latest?: string): Promise<string>;
}

let training: Promise<ModelVersions> | undefined;

export function modelVersions(): Promise<ModelVersions> {
  training ??= (async () => {
    const project = await trainedProject();
    const { spec, featuresText } = project;
    const store = temporaryFolder('versions-');
    const { min_metric: _min, max_metric: _max, ...training } = spec.config.training;
    const versions: string[] = [];
    for (const [i, algorithm] of ['linear', 'decision_tree'].entries()) {
      const trainingSpec: Spec = {
        ...spec,
        config: { ...spec.config, training: { ...training, promote: 'always', algorithm: algorithmSchema.parse(algorithm) } },
      };
      const now = new Date(Date.UTC(2025, 0, 1 + i));
      const { metadata } = await runTraining({ spec: trainingSpec, featuresText, modelDir: store, now });
      versions.push(metadata.model_version);
    }
    const names = spec.features.features.map((feature) => feature.name);
    const rows = (await loadData(spec))
      .slice(0, 30)
      .map((row) => Object.fromEntries(names.filter((name) => row[name] !== undefined).map((name) => [name, row[name]])) as FeatureValues);
    const expected = new Map<string, Prediction[]>();
    for (const version of versions) {
      const predictor = await OnnxPredictor.load(join(store, version), spec);
      expected.set(version, await predictor.predict(rows));
      await predictor.close();
    }
    return {
      project,
      versions: versions as [string, string],
      rows,
      expected,
      async freshStore(latest = versions[0]!) {
        const copy = temporaryFolder('store-');
        cpSync(store, copy, { recursive: true });
        await setLatest(copy, latest);
        return copy;
      },
    };
  })();
  return training;
}

const temporaryFolders: string[] = [];

/** A temporary folder removed when the test process exits. */
export function temporaryFolder(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  if (!temporaryFolders.length)
    process.once('exit', () => temporaryFolders.forEach((path) => rmSync(path, { recursive: true, force: true })));
  temporaryFolders.push(folder);
  return folder;
}

/** Whether `answer` is what `expected` predicts: the same class and probabilities, or the same value, within float rounding. */
export function sameAnswer(answer: { prediction: unknown; probabilities?: Record<string, number> }, expected: Prediction): boolean {
  if (typeof expected.prediction === 'number')
    return Math.abs(Number(answer.prediction) - expected.prediction) <= 1e-5 * Math.max(1, Math.abs(expected.prediction));
  if (answer.prediction !== expected.prediction) return false;
  return Object.entries(expected.probabilities ?? {}).every(([name, p]) => Math.abs((answer.probabilities?.[name] ?? NaN) - p) <= 1e-6);
}
