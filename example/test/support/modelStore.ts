// A model store with two real versions, trained once per test run: the project's own model (config.yaml's
// training.algorithm), then a one-split tree promoted over it (so LATEST names the tree and HISTORY holds both).
// Tests that change LATEST or HISTORY work on a copy (storeCopy), so each starts from the same store.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spec } from '../../src/contract/index.js';
import { runTraining, type TrainingResult } from '../../src/training/pipeline.js';
import { trainedProject } from './trainedModel.js';

export interface TwoModelStore {
  spec: Spec;
  /** The store: <own version>/, <stump version>/, LATEST (the stump), HISTORY. */
  dir: string;
  /** The project's own model, trained first. */
  own: TrainingResult;
  /** A one-split decision tree, trained second and promoted (training.promote: always). */
  stump: TrainingResult;
}

const temporaryDirs: string[] = [];
process.once('exit', () => temporaryDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

export function temporaryDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
}

let made: Promise<TwoModelStore> | undefined;

export function twoModelStore(): Promise<TwoModelStore> {
  made ??= (async () => {
    const { spec, featuresText } = await trainedProject();
    const dir = temporaryDir('models-');
    // Without the quality gate: these tests check the store, and `npm run train` checks the quality.
    const { min_metric: _min, max_metric: _max, ...ungated } = spec.config.training;
    const withTraining = (training: Partial<Spec['config']['training']>): Spec => ({
      ...spec,
      config: { ...spec.config, training: { ...ungated, ...training } },
    });
    const own = await runTraining({ spec: withTraining({}), featuresText, modelDir: dir, now: new Date('2025-01-01T00:00:00Z') });
    const stump = await runTraining({
      spec: withTraining({ algorithm: { name: 'decision_tree', max_depth: 1, min_samples_split: 2 }, promote: 'always' }),
      featuresText,
      modelDir: dir,
      now: new Date('2025-01-02T00:00:00Z'),
    });
    return { spec, dir, own, stump };
  })();
  return made;
}

/** A copy of the two-model store in a new temporary folder. */
export async function storeCopy(): Promise<{ store: TwoModelStore; dir: string }> {
  const store = await twoModelStore();
  const dir = join(temporaryDir('store-'), 'model_bin');
  cpSync(store.dir, dir, { recursive: true });
  return { store, dir };
}
