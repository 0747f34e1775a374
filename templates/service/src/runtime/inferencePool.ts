// server.inference.worker_threads: the model runs in a pool of worker threads (piscina), each with its own
// onnxruntime session, so a heavy session.run does not hold up the event loop that serves HTTP (health
// checks, metrics, other requests' parsing). For small models like iris the hop to a thread costs more than
// the run itself: keep 0 (in-process) unless a run takes more than about a millisecond.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { ModelLoadError, type ServedMetadata } from '../model/artifacts.js';
import { type Spec, exampleRow, type FeatureColumn, type FeatureTable, type FeatureValues } from '../contract/index.js';
import { InputRangeError, type ModelOutputs, type Prediction, type Predictor } from './predictor.js';

export interface InferenceWorkerData {
  modelDir: string;
  spec: Spec;
}

export type InferenceTask =
  | { kind: 'describe' }
  | { kind: 'predict'; rows: readonly FeatureValues[] }
  /** A batch by column: a column per feature, in features.yaml order (a structured clone keeps arrays, not classes). */
  | { kind: 'outputs'; rowCount: number; columns: FeatureColumn[] };

/** What a thread answers: errors travel as messages (an Error's class does not survive the thread boundary). */
export type InferenceAnswer =
  | { loadError: string }
  | { metadata: ServedMetadata; modelDir: string }
  | { predictions: Prediction[] }
  | { outputs: ModelOutputs }
  | { inputRangeError: string };

/** The worker module next to this one: .ts when run from source (tsx, tests), .js once built. */
const workerFile = new URL(`./inferenceWorker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export class InferencePool implements Predictor {
  private constructor(
    private readonly pool: Piscina<InferenceTask, InferenceAnswer>,
    readonly metadata: ServedMetadata,
    readonly modelDir: string,
  ) {}

  /** Starts `threads` threads (0: one per CPU), each loading the model; resolves once every one has run a prediction. */
  static async start(modelDir: string, spec: Spec, threads: number): Promise<InferencePool> {
    const size = threads || availableParallelism();
    const pool = new Piscina<InferenceTask, InferenceAnswer>({
      filename: workerFile.href,
      workerData: { modelDir, spec } satisfies InferenceWorkerData,
      minThreads: size,
      maxThreads: size,
      idleTimeout: Infinity, // a thread holds a loaded model: never let it go
    });
    try {
      const described = await pool.run({ kind: 'describe' });
      if ('loadError' in described) throw new ModelLoadError(described.loadError);
      if (!('metadata' in described)) throw new Error('an inference thread answered describe with predictions');
      const ready = new InferencePool(pool, described.metadata, described.modelDir);
      // Ready once every thread has loaded its model (load's own example run is its warm-up): as many concurrent
      // runs as threads, one each, as a thread takes one task at a time and waits for its model before answering.
      const example = [exampleRow(spec.features.features)];
      await Promise.all(Array.from({ length: size }, () => ready.predict(example)));
      return ready;
    } catch (error) {
      await pool.destroy();
      throw error;
    }
  }

  async predict(rows: readonly FeatureValues[]): Promise<Prediction[]> {
    const answer = await this.pool.run({ kind: 'predict', rows });
    if ('predictions' in answer) return answer.predictions;
    throw this.failure(answer, 'predictions');
  }

  /** The batch path: typed arrays cross the thread boundary far cheaper than a Prediction object per row. */
  async predictOutputs(batch: FeatureTable): Promise<ModelOutputs> {
    const columns = batch.featureNames.map((name) => batch.column(name));
    const answer = await this.pool.run({ kind: 'outputs', rowCount: batch.rowCount, columns });
    if ('outputs' in answer) return answer.outputs;
    throw this.failure(answer, 'outputs');
  }

  private failure(answer: InferenceAnswer, expected: string): Error {
    if ('inputRangeError' in answer) return new InputRangeError(answer.inputRangeError);
    return new Error('loadError' in answer ? answer.loadError : `an inference thread answered without ${expected}`);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
