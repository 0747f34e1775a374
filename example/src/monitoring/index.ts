// Model monitoring for one app: the service's Prometheus metrics, data drift against the training rows and live
// accuracy from ground-truth feedback, as plain data (the HTTP layer serves them at GET /metrics, GET /monitoring
// and POST /feedback; nothing here knows HTTP). Settings come from
// config.yaml's monitoring section. It observes the runtime's events (src/runtime/predictions.ts: each model call,
// each answered request) and does only constant work per row: count, put the row's buckets in the drift window,
// remember the prediction by id; scores are computed when read.
import { modelIdentity, type ModelIdentity } from '../model/modelIdentity.js';
import { PredictionLog } from '../predictionLog/index.js';
import type { ModelCall, PredictionEvent } from '../runtime/predictions.js';
import type { ModelLifecycle } from '../runtime/modelLifecycle.js';
import type { Predictor } from '../runtime/predictor.js';
import type { Spec } from '../contract/index.js';
import { DriftMonitor, unavailableDrift, type DriftReport, type DriftSettings } from './drift.js';
import {
  buildFeedbackSchemas,
  FeedbackWindow,
  idKey,
  outcomeOf,
  PredictionStore,
  type FeedbackResult,
  type FeedbackRow,
  type FeedbackSchemas,
  type LiveMetrics,
  type PredictionValue,
  type RequestId,
} from './feedback.js';
import { InputRangeMonitor, type InputRangeReport } from './inputRange.js';
import { monitoringThresholds, ServiceMetrics, type Thresholds } from './metrics.js';
import type { PredictionLookup } from './predictionLookup.js';
import { ShadowRunner, type ShadowReport } from './shadow.js';

export type { PredictionLookup } from './predictionLookup.js';
export { MongoPredictionLookup } from './predictionLookup.js';

export interface MonitoringOptions {
  spec: Spec;
  /** The app's model state: the predictor once it is loaded. */
  model: { predictor?: Predictor };
  /** Its sinks' counts are exported at scrape. */
  predictionLog?: PredictionLog;
  /** Where feedback looks for predictions not in memory (the MongoDB prediction log); none: memory only. */
  predictionLookup?: PredictionLookup;
  /** The live and shadow models as they change (hot reload): reloads are counted, the shadow is run and compared. */
  models?: ModelLifecycle;
  /** Told of an unexpected error off the request path (the shadow's loop); default: console.error. */
  onError?: (error: unknown) => void;
}

export interface LiveReport {
  window: { size: number; labels: number; min_labels: number };
  /** accuracy (classification) or rmse and mae (regression); null below min_labels. */
  metrics: Record<string, number | null>;
  /** The bounds the alerts use; a metric without one is not alerted on. */
  thresholds: Record<string, { min?: number; max?: number }>;
  /** Metrics beyond their bound. */
  breached: string[];
  received: Record<FeedbackResult['status'], number>;
  prediction_store: { size: number; capacity: number; lookup: string | null };
}

export interface MonitoringReport {
  model: ModelIdentity | null;
  drift: DriftReport;
  live: LiveReport;
  /** Scored values outside the range seen in training, per feature with an observed range in features.yaml. */
  input_ranges: InputRangeReport;
  /** The shadow model against the live one; null when none runs. */
  shadow: ShadowReport | null;
}

export class Monitoring {
  readonly metrics: ServiceMetrics;
  readonly thresholds: Thresholds;
  /** The bodies of POST /feedback and /feedback/batch; a class is checked against the loaded model's classes. */
  readonly feedbackSchemas: FeedbackSchemas;
  private readonly driftSettings: DriftSettings;
  private readonly inputRanges: InputRangeMonitor;
  private readonly store: PredictionStore;
  private readonly feedbackWindow: FeedbackWindow;
  private readonly received: Record<FeedbackResult['status'], number> = { joined: 0, unknown_id: 0, already_labelled: 0, lookup_failed: 0 };
  /** The model the drift window was set up for. */
  private served: { predictor: Predictor; drift: DriftMonitor | { unavailable: string } } | undefined;
  private readonly shadow: ShadowRunner | undefined;
  private readonly versions = new WeakMap<Predictor, string>();

  constructor(private readonly options: MonitoringOptions) {
    const { spec, model, predictionLog = PredictionLog.disabled() } = options;
    const { config } = spec;
    const settings = config.monitoring;
    this.thresholds = monitoringThresholds(config);
    this.driftSettings = {
      windowSize: settings.drift_window_size,
      minRows: settings.drift_min_rows,
      psiThreshold: settings.drift_psi_threshold,
    };
    this.store = new PredictionStore(settings.prediction_store_size);
    this.feedbackWindow = new FeedbackWindow(settings.feedback_window_size, config.task);
    this.feedbackSchemas = buildFeedbackSchemas(spec, () => model.predictor?.metadata.classes);
    this.metrics = new ServiceMetrics(
      {
        task: config.task,
        thresholds: this.thresholds,
        model: () => model.predictor && { identity: modelIdentity(model.predictor), trainedFor: model.predictor.metadata.version },
        classes: () => model.predictor?.metadata.classes ?? [],
        predictionLog: () => predictionLog.stats(),
        drift: () => this.driftReport(),
        live: () => this.liveMetrics(),
      },
      settings.prediction_buckets,
    );
    this.inputRanges = new InputRangeMonitor(spec.features.features, this.metrics.registry);
    const { models } = options;
    if (models) {
      const reloads = this.metrics.modelReloads;
      models.subscribe(({ role, outcome }) => reloads.inc({ role, outcome }));
      this.shadow = new ShadowRunner({
        task: config.task,
        live: () => model.predictor,
        shadow: () => models.shadow,
        queueSize: config.server.shadow_queue_size,
        predictionLog,
        registry: this.metrics.registry,
        onError: options.onError ?? ((error) => console.error(error)),
      });
    }
  }

  get registry() {
    return this.metrics.registry;
  }

  /** Observes each model call (the runtime times it): its duration by route, and the rows of a batch request. */
  recordModelCall(call: ModelCall): void {
    const { failed, route, batch, rows, seconds } = call;
    if (!failed) {
      this.metrics.inferenceDuration.observe({ route, model_version: this.versionOf(call.predictor) }, seconds);
      if (batch) this.metrics.batchSize.observe(rows);
    }
    this.shadow?.modelCall(call);
  }

  /**
   * Observes each answered request (after its answer is sent): counts its predictions, adds the rows to the drift
   * window, keeps them for feedback. A batch's work goes a column at a time, one counter update per class (and
   * per feature and side out of range).
   */
  recordPredictions(event: PredictionEvent): void {
    const { predictor, table, predictions, madeIds } = event;
    const { drift } = this.servedModel(predictor);
    const { predictionsByClass, predictionValue } = this.metrics;
    const model_version = this.versionOf(predictor);
    const count = table.rowCount;
    if (predictionsByClass) {
      // prom-client hashes the labels on every inc(): once per class seen, not once per row.
      const byClass = new Map<string, number>();
      for (let i = 0; i < count; i++) {
        const name = String(predictions[i]);
        byClass.set(name, (byClass.get(name) ?? 0) + 1);
      }
      for (const [name, n] of byClass) predictionsByClass.inc({ class: name, model_version }, n);
    } else if (predictionValue) for (let i = 0; i < count; i++) predictionValue.observe({ model_version }, Number(predictions[i]));
    if (drift instanceof DriftMonitor) drift.observe(table);
    this.inputRanges.observe(table);
    if (madeIds) this.store.addMade(madeIds, predictions);
    else {
      const { ids } = event;
      for (let i = 0; i < count; i++) this.store.add(ids[i], predictions[i]!);
    }
    this.shadow?.prediction(event);
  }

  /**
   * Joins labels with their predictions: from memory, else from the prediction log. Each label's outcome is
   * reported; a label for an id already in the window is refused, so re-sending a batch counts nothing twice.
   */
  async feedback(predictor: Predictor, rows: readonly FeedbackRow[]): Promise<FeedbackResult[]> {
    this.servedModel(predictor);
    const { id_field: idField, target, task } = this.options.spec.config;
    const idOf = (row: FeedbackRow) => row[idField] as RequestId;
    const toLookUp = rows.map(idOf).filter((id) => !this.feedbackWindow.has(id) && this.store.get(id) === undefined);
    let logged = new Map<string, PredictionValue>();
    let lookupFailed = false;
    const { predictionLookup } = this.options;
    if (toLookUp.length && predictionLookup) {
      try {
        logged = await predictionLookup.find(toLookUp, predictor.metadata.uuid);
      } catch {
        lookupFailed = true;
      }
    }
    const results = rows.map((row): FeedbackResult => {
      const id = idOf(row);
      if (this.feedbackWindow.has(id)) return { status: 'already_labelled', id };
      const inMemory = this.store.get(id);
      const prediction = inMemory ?? logged.get(idKey(id));
      if (prediction === undefined) return { status: lookupFailed ? 'lookup_failed' : 'unknown_id', id };
      const truth = row[target] as PredictionValue;
      const outcome = outcomeOf(task, truth, prediction);
      this.feedbackWindow.add(id, outcome);
      const source = inMemory === undefined ? 'prediction_log' : 'memory';
      return task === 'classification'
        ? { status: 'joined', id, prediction, source, correct: outcome === 1 }
        : { status: 'joined', id, prediction, source, error: outcome };
    });
    for (const { status } of results) {
      this.received[status]++;
      this.metrics.feedback.inc({ outcome: status });
    }
    return results;
  }

  report(): MonitoringReport {
    const predictor = this.options.model.predictor;
    return {
      model: predictor ? modelIdentity(predictor) : null,
      drift: this.driftReport(),
      live: this.liveReport(),
      input_ranges: this.inputRanges.report(),
      shadow: this.shadow?.report(predictor) ?? null,
    };
  }

  private driftReport(): DriftReport {
    const predictor = this.options.model.predictor;
    if (!predictor) return unavailableDrift('the model is still loading', this.driftSettings);
    const { drift } = this.servedModel(predictor);
    return drift instanceof DriftMonitor ? drift.report() : unavailableDrift(drift.unavailable, this.driftSettings);
  }

  /** The live metrics, null below feedback_min_labels. */
  private liveMetrics(): LiveMetrics {
    const metrics = this.feedbackWindow.metrics();
    if (metrics.labels >= this.options.spec.config.monitoring.feedback_min_labels) return metrics;
    return 'accuracy' in metrics ? { labels: metrics.labels, accuracy: null } : { labels: metrics.labels, rmse: null, mae: null };
  }

  /** The feedback window and its live metrics (GET /monitoring's `live`; POST /feedback answers with its metrics). */
  liveReport(): LiveReport {
    const { labels, ...metrics } = this.liveMetrics();
    const { minLiveAccuracy, maxLiveRmse, maxLiveMae } = this.thresholds;
    const bounds: Record<string, { min?: number; max?: number }> = {};
    if (minLiveAccuracy !== undefined) bounds.accuracy = { min: minLiveAccuracy };
    if (maxLiveRmse !== undefined) bounds.rmse = { max: maxLiveRmse };
    if (maxLiveMae !== undefined) bounds.mae = { max: maxLiveMae };
    const values = metrics as Record<string, number | null>;
    const breached = Object.entries(bounds)
      .filter(([metric, { min, max }]) => {
        const value = values[metric];
        return value !== null && value !== undefined && ((min !== undefined && value < min) || (max !== undefined && value > max));
      })
      .map(([metric]) => metric);
    return {
      window: { size: this.feedbackWindow.size, labels, min_labels: this.options.spec.config.monitoring.feedback_min_labels },
      metrics: values,
      thresholds: bounds,
      breached,
      received: { ...this.received },
      prediction_store: {
        size: this.store.size,
        capacity: this.store.capacity,
        lookup: this.options.predictionLookup?.description ?? null,
      },
    };
  }

  /** The model's version, the metrics' model_version label: made once per model (a hot reload brings another). */
  private versionOf(predictor: Predictor): string {
    let version = this.versions.get(predictor);
    if (version === undefined) this.versions.set(predictor, (version = modelIdentity(predictor).version));
    return version;
  }

  /** Sets up the drift window for a newly served model (at start-up, and again for a model swapped in by a reload). */
  private servedModel(predictor: Predictor): NonNullable<Monitoring['served']> {
    // A request still answered by the model a reload just replaced counts in the new model's window: same traffic.
    if (this.served && predictor !== this.options.model.predictor) return this.served;
    if (this.served?.predictor !== predictor) {
      this.served = {
        predictor,
        drift: DriftMonitor.create(this.options.spec.features.features, predictor.metadata.reference, this.driftSettings),
      };
    }
    return this.served;
  }

  /** The metrics in Prometheus' text exposition format (GET /metrics), of type metricsContentType. */
  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  get metricsContentType(): string {
    return this.registry.contentType;
  }
}
