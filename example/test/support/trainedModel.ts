// Trains the project's model once per test run into a temporary folder, so the tests work right after
// generation (before `npm run train`) and never touch model_bin/.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectPaths } from '../../src/contract/environment.js';
import { loadSpec, type Spec } from '../../src/contract/index.js';
import { runTraining, type TrainingResult } from '../../src/training/pipeline.js';

export interface TrainedProject extends TrainingResult {
  spec: Spec;
  featuresText: string;
  /** The model store the project was trained into (a temporary model_bin/). */
  modelDir: string;
}

let training: Promise<TrainedProject> | undefined;

export function trainedProject(): Promise<TrainedProject> {
  training ??= (async () => {
    const paths = projectPaths();
    const spec = loadSpec(paths.features, paths.config);
    const modelDir = mkdtempSync(join(tmpdir(), 'model-'));
    process.once('exit', () => rmSync(modelDir, { recursive: true, force: true }));
    const featuresText = readFileSync(paths.features, 'utf8');
    // Without the quality gate: these tests check behaviour, and `npm run train` checks the quality.
    const { min_metric: _min, max_metric: _max, ...training } = spec.config.training;
    const ungated = { ...spec, config: { ...spec.config, training } };
    const result = await runTraining({ spec: ungated, featuresText, modelDir });
    return { ...result, spec, featuresText, modelDir };
  })();
  return training;
}
