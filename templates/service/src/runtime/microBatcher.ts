// Micro-batching (config.yaml server.inference.micro_batch): concurrent single-row predictions share one model
// run, up to max_rows. A run has a fixed cost (onnxruntime-node's hop through setImmediate, the native call, the
// output tensor), so under load fewer, larger runs mean more rows per second.
// - max_wait_ms 0 (the default): no row ever waits on purpose. A row that finds the model idle runs at once, as
//   without micro-batching; rows that arrive while a run is in flight queue up and share the next run, which
//   starts as soon as that one ends (like a database's group commit). At low load nothing changes.
// - max_wait_ms > 0 (opt-in): the first row of a batch waits up to that long for others; for models whose run
//   costs far more than a request, at the price of that much added latency.
// Batch requests (more than one row) are already batched and go straight through.
import type { FeatureTable, FeatureValues } from '../contract/index.js';
import type { ModelOutputs, Prediction, Predictor } from './predictor.js';

export interface MicroBatchSettings {
  /** How long the first row of a batch waits for others; 0: only the rows that arrive in the same event-loop turn. */
  maxWaitMs: number;
  /** A batch that reaches this many rows runs at once. */
  maxRows: number;
}

interface Waiting {
  row: FeatureValues;
  resolve(prediction: Prediction): void;
  reject(error: unknown): void;
}

export class MicroBatcher implements Predictor {
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Runs started and not yet settled. */
  private inFlight = 0;

  /** The batch path (Predictor.predictOutputs): a batch request is batched already and goes straight to the model. */
  readonly predictOutputs?: (batch: FeatureTable) => Promise<ModelOutputs>;

  constructor(
    private readonly inner: Predictor,
    private readonly settings: MicroBatchSettings,
  ) {
    if (!(settings.maxRows >= 1) || !(settings.maxWaitMs >= 0)) throw new Error('micro-batching needs max_rows >= 1 and max_wait_ms >= 0');
    if (inner.predictOutputs) this.predictOutputs = (batch) => inner.predictOutputs!(batch);
  }

  get metadata(): Predictor['metadata'] {
    return this.inner.metadata;
  }

  get modelDir(): string {
    return this.inner.modelDir;
  }

  predict(rows: readonly FeatureValues[]): Promise<Prediction[]> {
    if (rows.length !== 1) return this.inner.predict(rows);
    return new Promise<Prediction>((resolve, reject) => {
      this.waiting.push({ row: rows[0]!, resolve, reject });
      if (this.waiting.length >= this.settings.maxRows) this.runBatch();
      else if (this.settings.maxWaitMs === 0) {
        if (this.inFlight === 0) this.runBatch(); // idle: at once; busy: the next run, when this one ends, takes it
      } else this.timer ??= setTimeout(() => this.runBatch(), this.settings.maxWaitMs);
    }).then((prediction) => [prediction]);
  }

  /** Runs what is waiting now; later rows go to the next batch. */
  async close(): Promise<void> {
    if (this.waiting.length) this.runBatch();
    await this.inner.close?.();
  }

  private runBatch(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    this.waiting = [];
    if (!batch.length) return;
    this.inFlight++;
    const settled = () => {
      this.inFlight--;
      // Group commit: the rows that queued while the model was busy run now, together.
      if (this.settings.maxWaitMs === 0 && this.inFlight === 0 && this.waiting.length) this.runBatch();
    };
    this.inner.predict(batch.map((entry) => entry.row)).then(
      (predictions) => {
        if (predictions.length !== batch.length) {
          const error = new Error(`the model gave ${predictions.length} predictions for ${batch.length} rows`);
          for (const entry of batch) entry.reject(error);
        } else batch.forEach((entry, i) => entry.resolve(predictions[i]!));
        settled();
      },
      (error: unknown) => {
        if (batch.length === 1) batch[0]!.reject(error);
        // One caller's row may be what failed (e.g. a value too large for the model): each row runs alone
        // again, so that only its own caller gets the error and the others their predictions.
        else for (const entry of batch) this.inner.predict([entry.row]).then(([prediction]) => entry.resolve(prediction!), entry.reject);
        settled();
      },
    );
  }
}
