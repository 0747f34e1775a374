// Two versions side by side on the same holdout rows (npm run models -- compare a b). The holdout is made again
// the way `npm run train` makes it now: the project's loadData(), then the split seeded by config.yaml's
// training.seed and holdout_fraction (src/training/dataset.ts). Both models are run by onnxruntime as the service
// runs them, so the figures compare the models, not how they were scored. Each model's model.json records a hash
// of the holdout it was evaluated on: when it matches this one, the model never trained on these rows; when it
// does not (other data, seed or fraction), some of them may have been its training rows, and the output says so.
import { join } from 'node:path';
import { listModelVersions } from '../model/artifacts.js';
import type { Spec } from '../contract/index.js';
import { holdoutOf, loadDataset, type Dataset } from './dataset.js';
import { classificationMetrics, regressionMetrics } from './metrics.js';
import { ModelStoreError } from './modelStore.js';

export interface ComparedModel {
  version: string;
  /** Scalar metrics on the holdout: accuracy and macro_f1, or rmse, mae and r2. */
  metrics: Record<string, number>;
  /** Whether model.json's data.holdout_sha256 is this holdout's; null when model.json does not record it. */
  evaluated_on_this_holdout: boolean | null;
}

export interface Comparison {
  holdout: {
    rows: number;
    /** config.yaml data.path, and the sha256 of that file (null when loadData() reads elsewhere). */
    data_path: string;
    data_sha256: string | null;
    seed: number;
    holdout_fraction: number;
    holdout_sha256: string;
  };
  models: [ComparedModel, ComparedModel];
  /** How often the two give the same answer on these rows: the share of equal classes, or the mean absolute difference. */
  agreement: { same_label_share: number } | { mean_abs_difference: number };
}

async function scoredOnHoldout(storeDir: string, version: string, spec: Spec, dataset: Dataset) {
  // Imported here: onnxruntime is loaded only for a comparison.
  const { OnnxPredictor } = await import('../runtime/predictor.js');
  const holdout = holdoutOf(dataset);
  const dir = join(storeDir, version);
  let predictions: (string | number)[];
  let recorded: unknown;
  try {
    const predictor = await OnnxPredictor.load(dir, spec);
    try {
      predictions = (await predictor.predict(holdout.rows)).map((p) => p.prediction);
      // model.json's fields beyond those the service reads are kept on its metadata.
      recorded = (predictor.metadata as { data?: { holdout_sha256?: unknown } }).data?.holdout_sha256;
    } finally {
      await predictor.close(); // its native session: outside V8's heap
    }
  } catch (error) {
    throw new ModelStoreError(`${version} cannot be run on the holdout rows:\n  ${(error as Error).message.split('\n').join('\n  ')}`);
  }
  const evaluatedOnThisHoldout = typeof recorded === 'string' ? recorded === dataset.provenance.holdout_sha256 : null;
  let metrics: Record<string, number>;
  if (spec.config.task === 'classification') {
    // Classes as the data has them; a class only a model predicts counts as wrong for every row.
    const classes = [...dataset.classes];
    const index = (name: string) => {
      if (!classes.includes(name)) classes.push(name);
      return classes.indexOf(name);
    };
    const actual = holdout.labels.map((label) => index(String(label)));
    const predicted = predictions.map((prediction) => index(String(prediction)));
    const { accuracy, macro_f1 } = classificationMetrics(actual, predicted, classes.length);
    metrics = { accuracy, macro_f1 };
  } else {
    const { rmse, mae, r2 } = regressionMetrics(holdout.labels.map(Number), predictions.map(Number));
    metrics = { rmse, mae, r2 };
  }
  return { model: { version, metrics, evaluated_on_this_holdout: evaluatedOnThisHoldout }, predictions };
}

export async function compareModels(storeDir: string, spec: Spec, a: string, b: string): Promise<Comparison> {
  const available = await listModelVersions(storeDir);
  const missing = [a, b].filter((version) => !available.includes(version));
  if (missing.length)
    throw new ModelStoreError(
      `${storeDir}/ has no model ${missing.map((version) => `"${version}"`).join(' or ')} (${available.length ? `available: ${available.join(', ')}` : 'it holds no model'})`,
    );
  const dataset = await loadDataset(spec);
  if (dataset.split.holdout.length === 0)
    throw new ModelStoreError(
      'the holdout is empty (config.yaml training.holdout_fraction leaves no rows out): there is nothing to compare on',
    );
  const first = await scoredOnHoldout(storeDir, a, spec, dataset);
  const second = await scoredOnHoldout(storeDir, b, spec, dataset);
  const rows = dataset.split.holdout.length;
  const agreement =
    spec.config.task === 'classification'
      ? { same_label_share: first.predictions.filter((p, i) => String(p) === String(second.predictions[i])).length / rows }
      : {
          mean_abs_difference:
            first.predictions.reduce<number>((sum, p, i) => sum + Math.abs(Number(p) - Number(second.predictions[i])), 0) / rows,
        };
  const { provenance } = dataset;
  return {
    holdout: {
      rows,
      data_path: provenance.path,
      data_sha256: provenance.sha256,
      seed: provenance.seed,
      holdout_fraction: provenance.holdout_fraction,
      holdout_sha256: provenance.holdout_sha256,
    },
    models: [first.model, second.model],
    agreement,
  };
}
