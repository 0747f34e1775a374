// Trains the project's model once per test run into a temporary folder, so the tests work right after
// generation (before `npm run train`) and never touch model_bin/.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectPaths } from '../src/environment.js';
import { loadSpec, type Spec } from '../src/spec/load.js';
import { runTraining, type TrainingResult } from '../src/training/pipeline.js';

export interface TrainedProject extends TrainingResult {
  spec: Spec;
  modelDir: string;
}

let training: Promise<TrainedProject> | undefined;

export function trainedProject(): Promise<TrainedProject> {
  training ??= (async () => {
    const paths = projectPaths();
    const spec = loadSpec(paths.features, paths.config);
    const modelDir = mkdtempSync(join(tmpdir(), 'model-'));
    process.once('exit', () => rmSync(modelDir, { recursive: true, force: true }));
    const result = await runTraining({ spec, featuresText: readFileSync(paths.features, 'utf8'), modelDir });
    return { ...result, spec, modelDir };
  })();
  return training;
}
