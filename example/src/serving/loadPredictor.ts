// The predictor the service runs, as config.yaml server.inference says: the model in this thread (default) or
// in a pool of worker threads, optionally behind the micro-batcher. Resolves once it is loaded and warmed up.
import type { Spec } from '../spec/load.js';
import { exampleRow } from '../spec/requestSchema.js';
import { MicroBatcher } from './microBatcher.js';
import { OnnxPredictor, type Predictor } from './predictor.js';

export async function loadPredictor(modelDir: string, spec: Spec): Promise<Predictor> {
  const { worker_threads: threads, micro_batch: microBatch } = spec.config.server.inference;
  let predictor: Predictor;
  if (threads > 0) {
    // Imported only when configured: piscina and its threads cost start-up time and memory.
    const { InferencePool } = await import('./inferencePool.js');
    predictor = await InferencePool.start(modelDir, spec, threads);
  } else {
    predictor = await OnnxPredictor.load(modelDir, spec);
    await predictor.predict([exampleRow(spec.features.features)]); // warm-up: the first run allocates
  }
  return microBatch.enabled ? new MicroBatcher(predictor, { maxWaitMs: microBatch.max_wait_ms, maxRows: microBatch.max_rows }) : predictor;
}
