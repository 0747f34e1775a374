// The predictor the service runs, as config.yaml server.inference says: the model in this thread (default) or
// in a pool of worker threads, optionally behind the micro-batcher. Resolves once it is loaded and warmed up.
import type { Spec } from '../contract/index.js';
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
    // load() has run the example row through the session (checking its outputs): that run is the warm-up.
    predictor = await OnnxPredictor.load(modelDir, spec);
  }
  return microBatch.enabled ? new MicroBatcher(predictor, { maxWaitMs: microBatch.max_wait_ms, maxRows: microBatch.max_rows }) : predictor;
}
