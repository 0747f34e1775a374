// The shadow model (config.yaml server.shadow_model_version): a candidate run on the same rows as the live model, off
// the request path. It observes the runtime's prediction events, published once an answer is sent, so it can neither
// slow nor fail one: each answered request is queued (at most server.shadow_queue_size; beyond, it is shed and
// counted) and a single loop runs the shadow on the queued rows one request at a time, yielding to the event loop
// between runs. Its predictions go to the prediction log beside the live ones (role: shadow), and the two models are
// compared row by row: the share of equal labels and the probability difference (classification) or the mean
// absolute difference (regression), and each model's time per request. The figures count from when the pair of
// models began (a reload of either starts them again); GET /monitoring and /metrics show them.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { modelIdentity, type ModelIdentity } from '../model/modelIdentity.js';
import type { FeatureValues, Task } from '../contract/index.js';
import type { PredictionLog } from '../predictionLog/index.js';
import type { ModelCall, PredictionEvent } from '../runtime/predictions.js';
import type { Prediction, Predictor } from '../runtime/predictor.js';

/** Seconds: as the other model timings (ml_inference_duration_seconds). */
const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface ShadowOptions {
  task: Task;
  /** The live model now: requests still answered by one a reload replaced are not compared. */
  live: () => Predictor | undefined;
  /** The shadow model now, if any (the model lifecycle's shadow slot). */
  shadow: () => Predictor | undefined;
  /** Requests that may wait for the shadow (server.shadow_queue_size). */
  queueSize: number;
  predictionLog: PredictionLog;
  registry: Registry;
  /** Told of an unexpected error of the loop (a failing shadow run is counted, not reported). */
  onError: (error: unknown) => void;
}

/** GET /monitoring's `shadow`. */
export interface ShadowReport {
  model: ModelIdentity;
  live_model: ModelIdentity;
  status: 'comparing' | 'same_as_live';
  since: string;
  requests: number;
  rows: number;
  agreement?: number | null;
  mean_probability_difference?: number | null;
  mean_absolute_difference?: number | null;
  latency_ms: { live: number | null; shadow: number | null };
  queue: { size: number; capacity: number };
  shed_requests: number;
  failed_requests: number;
}

/** The comparison of one pair of models, from when it began. */
class Comparison {
  readonly since = new Date().toISOString();
  readonly liveIdentity: ModelIdentity;
  readonly shadowIdentity: ModelIdentity;
  requests = 0;
  rows = 0;
  /** Classification: rows with the same label, and the sum of the rows' probability differences. */
  agreeing = 0;
  probabilityDifference = 0;
  /** Regression: the sum of |live − shadow|. */
  absoluteDifference = 0;
  liveSeconds = { sum: 0, count: 0 };
  shadowSeconds = { sum: 0, count: 0 };
  shed = 0;
  failed = 0;

  constructor(
    readonly live: Predictor,
    readonly shadow: Predictor,
  ) {
    this.liveIdentity = modelIdentity(live);
    this.shadowIdentity = modelIdentity(shadow);
  }

  add(live: readonly Prediction[], shadow: readonly Prediction[]): void {
    this.requests++;
    for (let i = 0; i < live.length; i++) {
      const a = live[i]!;
      const b = shadow[i]!;
      this.rows++;
      if (a.probabilities && b.probabilities) {
        if (a.prediction === b.prediction) this.agreeing++;
        let difference = 0;
        for (const name of Object.keys(a.probabilities)) difference += Math.abs(a.probabilities[name]! - (b.probabilities[name] ?? 0));
        this.probabilityDifference += difference / 2;
      } else this.absoluteDifference += Math.abs(Number(a.prediction) - Number(b.prediction));
    }
  }
}

const mean = ({ sum, count }: { sum: number; count: number }, scale = 1) => (count ? (sum / count) * scale : null);

export class ShadowRunner {
  /** Each with the comparison it counts in (that of the models when it was answered). */
  private readonly queue: { event: PredictionEvent; comparison: Comparison }[] = [];
  private running = false;
  private comparison: Comparison | undefined;
  private readonly requests: Counter<'outcome'>;
  private readonly duration: Histogram<'role' | 'model_version'>;

  constructor(private readonly options: ShadowOptions) {
    const registers = [options.registry];
    const classification = options.task === 'classification';
    const current = () => this.currentComparison();
    this.requests = new Counter({
      name: 'ml_shadow_requests_total',
      help: 'Answered requests offered to the shadow model, by outcome: compared, shed (its queue was full), failed (the shadow run failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'ml_shadow_model_duration_seconds',
      help: 'While a shadow model runs: time in each model per request, by role (live, shadow) and model_version',
      labelNames: ['role', 'model_version'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    const gauge = (name: string, help: string, value: (comparison: Comparison) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['live_version', 'shadow_version'],
        registers,
        collect() {
          this.reset();
          const comparison = current();
          const v = comparison && value(comparison);
          if (comparison && v !== null && v !== undefined)
            this.set({ live_version: comparison.liveIdentity.version, shadow_version: comparison.shadowIdentity.version }, v);
        },
      });
    gauge('ml_shadow_compared_rows', 'Rows both the live and the shadow model predicted, since this pair of models began', (c) => c.rows);
    if (classification) {
      gauge('ml_shadow_agreement', 'Share of rows where the live and the shadow model predict the same class', (c) =>
        c.rows ? c.agreeing / c.rows : null,
      );
      gauge(
        'ml_shadow_probability_difference',
        'Mean over rows of the total variation between the two models’ probabilities (½ Σ |p_live − p_shadow|)',
        (c) => (c.rows ? c.probabilityDifference / c.rows : null),
      );
    } else {
      gauge('ml_shadow_absolute_difference', 'Mean |live − shadow| prediction over rows', (c) =>
        c.rows ? c.absoluteDifference / c.rows : null,
      );
    }
  }

  /** The live model's time in each call, while a shadow runs: the other side of the latency comparison. */
  modelCall({ predictor, seconds, failed }: ModelCall): void {
    const shadow = this.options.shadow();
    if (failed || !shadow || shadow.modelDir === predictor.modelDir || predictor !== this.options.live()) return;
    const comparison = this.comparisonOf(predictor, shadow);
    comparison.liveSeconds.sum += seconds;
    comparison.liveSeconds.count++;
    this.duration.observe({ role: 'live', model_version: comparison.liveIdentity.version }, seconds);
  }

  /** An answered request: queued for the shadow, or shed when the queue is full. Constant time, never throws. */
  prediction(event: PredictionEvent): void {
    const shadow = this.options.shadow();
    // None, the live model itself, or an answer of a live model just replaced (its pair is no longer compared).
    if (!shadow || shadow.modelDir === event.predictor.modelDir || event.predictor !== this.options.live()) return;
    const comparison = this.comparisonOf(event.predictor, shadow);
    if (this.queue.length >= this.options.queueSize) {
      this.requests.inc({ outcome: 'shed' });
      comparison.shed++;
      return;
    }
    this.queue.push({ event, comparison });
    if (!this.running) void this.drain();
  }

  report(live: Predictor | undefined): ShadowReport | null {
    const shadow = this.options.shadow();
    if (!shadow || !live) return null;
    const comparison = this.comparisonOf(live, shadow);
    const { rows } = comparison;
    const ratio = (sum: number) => (rows ? sum / rows : null);
    return {
      model: comparison.shadowIdentity,
      live_model: comparison.liveIdentity,
      status: shadow.modelDir === live.modelDir ? 'same_as_live' : 'comparing',
      since: comparison.since,
      requests: comparison.requests,
      rows,
      ...(this.options.task === 'classification'
        ? { agreement: ratio(comparison.agreeing), mean_probability_difference: ratio(comparison.probabilityDifference) }
        : { mean_absolute_difference: ratio(comparison.absoluteDifference) }),
      latency_ms: { live: mean(comparison.liveSeconds, 1000), shadow: mean(comparison.shadowSeconds, 1000) },
      queue: { size: this.queue.length, capacity: this.options.queueSize },
      shed_requests: comparison.shed,
      failed_requests: comparison.failed,
    };
  }

  /** The comparison of this pair of models, begun afresh when either changed. */
  private comparisonOf(live: Predictor, shadow: Predictor): Comparison {
    if (this.comparison?.live !== live || this.comparison.shadow !== shadow) this.comparison = new Comparison(live, shadow);
    return this.comparison;
  }

  /** The comparison under way, if the shadow it compares still runs. */
  private currentComparison(): Comparison | undefined {
    const shadow = this.options.shadow();
    return shadow && this.comparison?.shadow === shadow ? this.comparison : undefined;
  }

  /** Runs the shadow on the queued requests, one at a time, until the queue is empty. */
  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let queued = this.queue.shift(); queued; queued = this.queue.shift()) {
        // Requests being served go first: the shadow runs in what time is left over.
        await new Promise((resolve) => setImmediate(resolve));
        // A shadow replaced or stopped since: its requests are dropped (the new pair's figures start afresh).
        if (this.options.shadow() !== queued.comparison.shadow) continue;
        await this.run(queued.event, queued.comparison);
      }
    } catch (error) {
      this.options.onError(error);
    } finally {
      this.running = false;
    }
  }

  private async run(event: PredictionEvent, comparison: Comparison): Promise<void> {
    const { shadow } = comparison;
    const started = performance.now();
    let results: Prediction[];
    try {
      // The event's rows are the request's validated feature rows (PredictionRequest.rows), typed loosely for the log.
      results = await shadow.predict(event.rows as readonly FeatureValues[]);
      if (results.length !== event.rows.length) throw new Error(`${results.length} predictions for ${event.rows.length} rows`);
    } catch {
      comparison.failed++;
      this.requests.inc({ outcome: 'failed' });
      return;
    }
    const seconds = (performance.now() - started) / 1000;
    comparison.shadowSeconds.sum += seconds;
    comparison.shadowSeconds.count++;
    this.duration.observe({ role: 'shadow', model_version: comparison.shadowIdentity.version }, seconds);
    comparison.add(event.results, results);
    this.requests.inc({ outcome: 'compared' });
    const { idField, featureNames, ids, rows, apiVersion } = event;
    this.options.predictionLog.log({
      idField,
      featureNames,
      ids,
      rows,
      results,
      model: comparison.shadowIdentity,
      apiVersion,
      latencyMs: seconds * 1000,
      role: 'shadow',
    });
  }
}
