// One thread of the inference pool (inferencePool.ts): loads the model once, then answers predict tasks.
// Runs in a worker thread started by piscina; session.run blocks this thread, not the event loop serving HTTP.
import { workerData } from 'node:worker_threads';
import { FeatureTable, type FeatureValues } from '../contract/index.js';
import type { InferenceWorkerData, InferenceTask, InferenceAnswer } from './inferencePool.js';
import { InputRangeError, OnnxPredictor } from './predictor.js';

const { modelDir, spec } = workerData as InferenceWorkerData;
const featureNames = spec.features.features.map((feature) => feature.name);
// Loaded at once (piscina starts the threads eagerly); a failure is answered to every task.
const loading = OnnxPredictor.load(modelDir, spec).then(
  (predictor) => ({ predictor }),
  (error: unknown) => ({ loadError: error instanceof Error ? error.message : String(error) }),
);

export default async function answer(task: InferenceTask): Promise<InferenceAnswer> {
  const loaded = await loading;
  if ('loadError' in loaded) return { loadError: loaded.loadError };
  if (task.kind === 'describe') return { metadata: loaded.predictor.metadata, modelDir: loaded.predictor.modelDir };
  try {
    if (task.kind === 'predict') return { predictions: await loaded.predictor.predict(task.rows as FeatureValues[]) };
    const columns = new Map(featureNames.map((name, i) => [name, task.columns[i]!]));
    return { outputs: await loaded.predictor.predictOutputs(FeatureTable.fromColumns(featureNames, task.rowCount, columns)) };
  } catch (error) {
    if (error instanceof InputRangeError) return { inputRangeError: error.message }; // a 422, not a 500
    throw error;
  }
}
