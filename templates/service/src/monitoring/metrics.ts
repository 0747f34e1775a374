// The Prometheus metrics of GET /metrics, in a registry per app (not prom-client's global one), so several apps
// in one process (tests) keep their own. Request-path metrics are updated as requests go; everything that is
// state elsewhere (the model, the prediction log's counts, drift, live accuracy, thresholds) is read at scrape.
// monitoring/prometheus-rules.yml and monitoring/grafana-dashboard.json use these names.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ModelIdentity } from '../model/modelIdentity.js';
import type { PredictionLogStats } from '../predictionLog/index.js';
import type { Config, Task } from '../contract/index.js';
import type { DriftReport } from './drift.js';
import type { LiveMetrics } from './feedback.js';

/** Seconds: from 1 ms (a small model on loopback) to 10 s (a large batch). */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];

/** Metrics only one task exports (the dashboard shows both tasks' panels). */
export const TASK_METRICS: Record<Task, readonly string[]> = {
  classification: ['ml_predictions_total'],
  regression: ['ml_prediction_value'],
};

/** Predicted-value buckets when config.yaml gives none: ±1, 2.5, 5 per decade from 0.01 to 50000, and 0. */
export function defaultPredictionBuckets(): number[] {
  const positive = Array.from({ length: 7 }, (_, decade) => [1, 2.5, 5].map((step) => step * 10 ** (decade - 2))).flat();
  // Rounded so 2.5 × 0.01 prints as 0.025, not 0.025000000000000001.
  const rounded = positive.map((bucket) => Number(bucket.toPrecision(3)));
  return [...rounded.map((bucket) => -bucket).reverse(), 0, ...rounded];
}

/** The alert thresholds, from config.yaml's monitoring section (the live bounds default to the training quality gate's). */
export interface Thresholds {
  driftPsi: number;
  minLiveAccuracy?: number;
  maxLiveRmse?: number;
  maxLiveMae?: number;
  maxErrorRatio: number;
  maxP99LatencySeconds: number;
}

export function monitoringThresholds(config: Config): Thresholds {
  const { monitoring, training } = config;
  const thresholds: Thresholds = {
    driftPsi: monitoring.drift_psi_threshold,
    maxErrorRatio: monitoring.max_error_ratio,
    maxP99LatencySeconds: monitoring.max_p99_latency_ms / 1000,
  };
  const minLiveAccuracy = monitoring.min_live_accuracy ?? training.min_metric?.accuracy;
  const maxLiveRmse = monitoring.max_live_rmse ?? training.max_metric?.rmse;
  const maxLiveMae = monitoring.max_live_mae ?? training.max_metric?.mae;
  if (config.task === 'classification' && minLiveAccuracy !== undefined) thresholds.minLiveAccuracy = minLiveAccuracy;
  if (config.task === 'regression' && maxLiveRmse !== undefined) thresholds.maxLiveRmse = maxLiveRmse;
  if (config.task === 'regression' && maxLiveMae !== undefined) thresholds.maxLiveMae = maxLiveMae;
  return thresholds;
}

/** What the scrape-time metrics read. */
export interface MetricSources {
  task: Task;
  thresholds: Thresholds;
  /** The served model's identity and the project version (config.yaml version) it was trained for; undefined while it loads. */
  model(): { identity: ModelIdentity; trainedFor: string } | undefined;
  /** The served model's classes (classification; none while it loads). */
  classes(): readonly string[];
  predictionLog(): PredictionLogStats;
  drift(): DriftReport;
  live(): LiveMetrics;
}

export type FeedbackOutcome = 'joined' | 'unknown_id' | 'already_labelled' | 'lookup_failed';

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly inferenceDuration: Histogram<'route' | 'model_version'>;
  readonly batchSize: Histogram;
  /** Classification only. */
  readonly predictionsByClass?: Counter<'class' | 'model_version'>;
  /** Regression only. */
  readonly predictionValue?: Histogram<'model_version'>;
  readonly feedback: Counter<'outcome'>;
  readonly modelReloads: Counter<'role' | 'outcome'>;

  constructor(sources: MetricSources, predictionBuckets: readonly number[] = defaultPredictionBuckets()) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route (the pattern, not the path) and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from a request’s arrival to its answer being sent, by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.inferenceDuration = new Histogram({
      name: 'ml_inference_duration_seconds',
      help: 'Time spent in the model (preprocessing and ONNX inference) per request, by route and model_version (the model that answered)',
      labelNames: ['route', 'model_version'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.batchSize = new Histogram({
      name: 'ml_batch_size_rows',
      help: 'Rows per batch request (POST /predict/batch, V2 infer)',
      buckets: BATCH_BUCKETS,
      registers,
    });
    if (sources.task === 'classification') {
      this.predictionsByClass = new Counter({
        name: 'ml_predictions_total',
        help: 'Predictions, by predicted class and model_version (the model that answered)',
        labelNames: ['class', 'model_version'],
        registers,
        collect() {
          // Every class of the served model shows from the start, at 0, so rates and shares have a series before its
          // first prediction.
          const model_version = sources.model()?.identity.version;
          if (model_version !== undefined) for (const name of sources.classes()) this.inc({ class: name, model_version }, 0);
        },
      });
    } else {
      this.predictionValue = new Histogram({
        name: 'ml_prediction_value',
        help: 'Predicted values, by model_version (the model that answered; config.yaml monitoring.prediction_buckets sets the buckets)',
        labelNames: ['model_version'],
        buckets: [...predictionBuckets],
        registers,
      });
    }
    this.feedback = new Counter({
      name: 'ml_feedback_total',
      help: 'Ground-truth labels received at POST /feedback, by outcome (joined, unknown_id, already_labelled, lookup_failed)',
      labelNames: ['outcome'],
      registers,
    });

    this.modelReloads = new Counter({
      name: 'ml_model_reloads_total',
      help: 'Model changes while serving (hot reload), by role (live, shadow) and outcome: loaded, refused (could not be loaded or checked; the current model stayed), released (freed after its last run)',
      labelNames: ['role', 'outcome'],
      registers,
    });

    new Gauge({
      name: 'ml_model_info',
      help: 'The served model: 1, with its uuid, version (config.yaml version it was trained for) and model_version (its model_bin/ folder)',
      labelNames: ['uuid', 'version', 'model_version'],
      registers,
      collect() {
        this.reset();
        const model = sources.model();
        if (model) this.set({ uuid: model.identity.uuid, version: model.trainedFor, model_version: model.identity.version }, 1);
      },
    });

    this.predictionLogMetrics(sources);
    this.driftMetrics(sources);
    this.liveMetrics(sources);

    const { thresholds } = sources;
    const constant = (name: string, help: string, value: number) => new Gauge({ name, help, registers }).set(value);
    constant(
      'ml_drift_psi_threshold',
      'config.yaml monitoring.drift_psi_threshold: a feature drifts when its PSI is above it',
      thresholds.driftPsi,
    );
    constant(
      'ml_http_error_ratio_threshold',
      'config.yaml monitoring.max_error_ratio: the share of 5xx answers that alerts',
      thresholds.maxErrorRatio,
    );
    constant(
      'ml_http_latency_p99_threshold_seconds',
      'config.yaml monitoring.max_p99_latency_ms, in seconds: the p99 prediction latency that alerts',
      thresholds.maxP99LatencySeconds,
    );
    const bounds = (name: string, help: string, values: Record<string, number | undefined>) => {
      const gauge = new Gauge({ name, help, labelNames: ['metric'], registers });
      for (const [metric, value] of Object.entries(values)) if (value !== undefined) gauge.set({ metric }, value);
    };
    bounds('ml_live_metric_min', 'config.yaml monitoring.min_live_accuracy (default: training.min_metric.accuracy), by metric', {
      accuracy: thresholds.minLiveAccuracy,
    });
    bounds('ml_live_metric_max', 'config.yaml monitoring.max_live_rmse / max_live_mae (default: training.max_metric), by metric', {
      rmse: thresholds.maxLiveRmse,
      mae: thresholds.maxLiveMae,
    });
  }

  /** The prediction log's per-sink counts, read from its stats() at scrape. */
  private predictionLogMetrics(sources: MetricSources): void {
    const registers = [this.registry];
    const outcomes = ['sent', 'dropped', 'retried'] as const;
    new Counter({
      name: 'ml_prediction_log_records_total',
      help: 'Prediction log records per sink: sent (confirmed), dropped (queue full or undelivered at shutdown), retried (sends repeated)',
      labelNames: ['sink', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const [sink, counts] of Object.entries(sources.predictionLog().sinks)) {
          for (const outcome of outcomes) this.inc({ sink, outcome }, counts[outcome]);
        }
      },
    });
    new Counter({
      name: 'ml_prediction_log_failed_sends_total',
      help: 'Failed sends (whole batches) per prediction log sink',
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset();
        for (const [sink, counts] of Object.entries(sources.predictionLog().sinks)) this.inc({ sink }, counts.failed_sends);
      },
    });
    new Gauge({
      name: 'ml_prediction_log_pending_records',
      help: 'Prediction log records queued or in flight per sink',
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset();
        for (const [sink, counts] of Object.entries(sources.predictionLog().sinks)) this.set({ sink }, counts.queued + counts.in_flight);
      },
    });
  }

  private driftMetrics(sources: MetricSources): void {
    const registers = [this.registry];
    new Gauge({
      name: 'ml_drift_window_rows',
      help: 'Rows in the data drift window (at most config.yaml monitoring.drift_window_size)',
      registers,
      collect() {
        this.set(sources.drift().window.rows);
      },
    });
    const perFeature = (name: string, help: string, value: (report: DriftReport, feature: string) => number | null | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['feature'],
        registers,
        collect() {
          this.reset();
          const report = sources.drift(); // O(features × buckets): cheap enough to compute per gauge
          for (const feature of Object.keys(report.features)) {
            const v = value(report, feature);
            if (v !== null && v !== undefined) this.set({ feature }, v);
          }
        },
      });
    perFeature(
      'ml_drift_psi',
      'Population stability index of each feature over the drift window against the training rows; absent below monitoring.drift_min_rows rows',
      (r, feature) => r.features[feature]!.psi,
    );
    perFeature(
      'ml_drift_missing_share',
      'Share of drift window rows without a value, per feature',
      (r, feature) => r.features[feature]!.missing_share,
    );
    perFeature(
      'ml_drift_unknown_share',
      'Share of present values training never saw (categorical features), per feature',
      (r, feature) => r.features[feature]!.unknown_share,
    );
  }

  private liveMetrics(sources: MetricSources): void {
    const registers = [this.registry];
    new Gauge({
      name: 'ml_feedback_window_labels',
      help: 'Joined ground-truth labels in the live metric window (at most config.yaml monitoring.feedback_window_size)',
      registers,
      collect() {
        this.set(sources.live().labels);
      },
    });
    new Gauge({
      name: 'ml_live_metric',
      help: 'The model’s live accuracy (classification) or RMSE and MAE (regression) over the feedback window, by metric; absent below monitoring.feedback_min_labels labels',
      labelNames: ['metric'],
      registers,
      collect() {
        this.reset();
        for (const [metric, value] of Object.entries(sources.live()))
          if (metric !== 'labels' && value !== null) this.set({ metric }, value);
      },
    });
  }
}
