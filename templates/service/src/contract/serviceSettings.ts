// config.yaml as the service reads it: name, version, task, target and id field, data, training, server, the
// prediction log and monitoring. The generator validates these keys with these schemas at generation time and the
// service again at start-up. The deployment sections (docker, helm, jenkins, ansible, ci) configure what the
// generator renders: the service accepts them unread (the generator validates them), and a mistyped top-level key
// is still an error.
import { z } from 'zod';
import { identifier, type FeaturesFile } from './features.js';

export const TASKS = ['classification', 'regression'] as const;
export type Task = (typeof TASKS)[number];

export const PREDICTION_LOG_SINKS = ['stdout', 'file', 'fluentd', 'mongodb'] as const;
export type PredictionLogSinkName = (typeof PREDICTION_LOG_SINKS)[number];
/** The keys of a prediction log record (src/predictionLog/record.ts); id_field must not take one of them. */
export const PREDICTION_RECORD_KEYS = [
  'record_id',
  'timestamp',
  'model',
  'api_version',
  'features',
  'prediction',
  'probabilities',
  'latency_ms',
  'batch_size',
  'role',
];

// Shared with the environment overrides (FLUENTD_TAG, MONGODB_DB, MONGODB_COLLECTION), which are checked the same way.
export const fluentdTag = z
  .string()
  .regex(
    /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/,
    'expected a Fluentd tag: words of letters, digits, _ and - joined by dots, e.g. iris.prediction',
  );
export const mongodbDatabaseName = z
  .string()
  .regex(/^[^/\\. "$*<>:|?]{1,63}$/, 'expected a MongoDB database name: 1-63 characters, none of / \\ . space " $ * < > : | ?');
export const mongodbCollectionName = z
  .string()
  .regex(/^(?!system\.)[^$\0]{1,120}$/, 'expected a MongoDB collection name: 1-120 characters, no $, not starting with system.');

const milliseconds = z.number().int().positive();

/** Where each prediction is logged. Addresses and credentials are not here: they come from the environment. */
const predictionLogSchema = z
  .strictObject({
    sinks: z
      .array(z.enum(PREDICTION_LOG_SINKS))
      .default(['stdout'])
      .refine((sinks) => new Set(sinks).size === sinks.length, 'list each sink at most once'),
    queue_size: z.number().int().positive().default(10_000),
    batch_size: z.number().int().positive().default(200),
    flush_interval_ms: milliseconds.default(250),
    retry_initial_ms: milliseconds.default(500),
    retry_max_ms: milliseconds.default(30_000),
    shutdown_timeout_ms: milliseconds.default(5_000),
    file: z.strictObject({ path: z.string().min(1).default('logs/predictions.jsonl') }).prefault({}),
    fluentd: z
      .strictObject({
        tag: fluentdTag.optional(), // default: <name>.prediction
        ack: z.boolean().default(true),
        timeout_ms: milliseconds.default(5_000),
      })
      .prefault({}),
    mongodb: z
      .strictObject({
        db: mongodbDatabaseName.optional(), // default: <name>
        collection: mongodbCollectionName.default('predictions'),
        ttl_days: z.number().positive().optional(),
        timeout_ms: milliseconds.default(5_000),
      })
      .prefault({}),
  })
  .superRefine((log, ctx) => {
    if (log.batch_size > log.queue_size) {
      ctx.addIssue({
        code: 'custom',
        path: ['batch_size'],
        message: `batch_size (${log.batch_size}) must not exceed queue_size (${log.queue_size})`,
      });
    }
    if (log.retry_initial_ms > log.retry_max_ms) {
      ctx.addIssue({
        code: 'custom',
        path: ['retry_initial_ms'],
        message: `retry_initial_ms (${log.retry_initial_ms}) must not exceed retry_max_ms (${log.retry_max_ms})`,
      });
    }
  });

/** Lower-case DNS labels joined by dots, at most 253 characters (also the deployment settings' host names). */
export const hostNamePattern = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;
/**
 * A machine to reach: a host name or an IPv4/IPv6 address. Nothing else, because the value is rendered into
 * YAML that Ansible evaluates as Jinja2 (ansible_host) and into the service's listen call.
 */
export const hostOrAddress = z
  .string()
  .refine(
    (value) => hostNamePattern.test(value.toLowerCase()) || z.ipv4().safeParse(value).success || z.ipv6().safeParse(value).success,
    'expected a host name or an IP address such as 10.0.0.5 or node1.example.com',
  );

const share = z.number().min(0).max(1);

/** A model's folder in model_bin/ (server.model_version, server.shadow_model_version, POST /admin/reload). */
export const modelFolderName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected the name of a folder in model_bin/ (letters, digits, . _ -)');

/**
 * server.hot_reload: the service follows model_bin/LATEST and config.yaml's model_version and shadow_model_version
 * while it serves (src/runtime/modelLifecycle.ts), and POST /admin/reload does the same on demand.
 */
const serverHotReloadSchema = z
  .strictObject({
    // Watch model_bin/ and config.yaml's folder; false: only POST /admin/reload (or a restart) changes the model.
    watch: z.boolean().default(true),
    // Also read LATEST and config.yaml this often, for file systems whose change events do not arrive (network
    // volumes, some container mounts); 0: change events only.
    poll_interval_ms: z.number().int().min(0).max(3_600_000).default(2000),
    // POST /admin/reload while no API keys are set: from loopback callers only (127.0.0.1, ::1; kubectl
    // port-forward arrives there), or never. With API keys it always needs one.
    admin_without_keys: z.enum(['loopback', 'off']).default('loopback'),
  })
  .prefault({});

/** server.auth: API keys (from the API_KEYS environment variable or the chart's Secret, never config.yaml). */
const serverAuthSchema = z
  .strictObject({
    // Keys are checked whenever API_KEYS is set; true: the service also refuses to start without them.
    enabled: z.boolean().default(false),
    header: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/, 'expected an HTTP header name')
      .default('x-api-key'),
    // Paths (and everything below them) served without a key and outside the rate limit: the probes (the V2 ones too),
    // the Prometheus scrape and the API's documentation (Swagger UI's Authorize button then sends the key for "Try it out").
    public_paths: z.array(z.string().startsWith('/')).default(['/health', '/ready', '/v2/health', '/metrics', '/docs', '/openapi.json']),
    // Wrong keys per client address: beyond `limit` in `window_seconds`, 429 with Retry-After until the window ends.
    failed_keys: z
      .strictObject({
        limit: z.number().int().positive().default(10),
        window_seconds: z.number().int().positive().default(60),
      })
      .prefault({}),
  })
  .prefault({});

/** server.rate_limit: requests per client (its API key when auth is on, else its IP address) per window; 429 beyond. */
const serverRateLimitSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    requests: z.number().int().positive().default(600),
    window_seconds: z.number().int().positive().default(60),
  })
  .prefault({});

/** server.inference: how predictions are computed (in-process, a worker-thread pool, micro-batched). */
const serverInferenceSchema = z
  .strictObject({
    // 0: session.run in the event loop (fastest for small models); N: a pool of N worker threads for heavy models.
    worker_threads: z.number().int().min(0).max(64).default(0),
    // Micro-batching: concurrent single-row requests share one model run (at most max_rows rows). With
    // max_wait_ms 0 no request waits: a row that finds the model idle runs at once, and the rows that arrive
    // while it runs share the next run (about twice the throughput under load, nothing changed at low load;
    // BENCHMARKS.md). max_wait_ms > 0 (opt-in) makes the first row wait that long for others: for models whose
    // run costs far more than a request.
    micro_batch: z
      .strictObject({
        enabled: z.boolean().default(true),
        max_wait_ms: z.number().min(0).max(1000).default(0),
        max_rows: z.number().int().min(1).default(64),
      })
      .prefault({}),
  })
  .prefault({});

/**
 * Model monitoring (src/monitoring/): the data drift window, the feedback join and the alert thresholds. The
 * service exports each threshold as a metric, so the alert rules in monitoring/ compare against the values
 * configured here without being re-rendered.
 */
const monitoringSchema = z
  .strictObject({
    // Data drift: the last drift_window_size inputs, compared with the training rows (model.json `reference`).
    drift_window_size: z.number().int().min(10).max(1_000_000).default(1000),
    drift_min_rows: z.number().int().positive().default(100), // no drift score on fewer rows (PSI is noise there)
    drift_psi_threshold: z.number().positive().default(0.2),
    // Ground truth: recent predictions kept in memory to join POST /feedback with, and the live metric window.
    prediction_store_size: z.number().int().positive().max(10_000_000).default(10_000),
    feedback_window_size: z.number().int().positive().max(1_000_000).default(1000),
    feedback_min_labels: z.number().int().positive().default(30), // no live metric on fewer joined labels
    min_live_accuracy: share.optional(), // classification; default: training.min_metric.accuracy
    max_live_rmse: z.number().nonnegative().optional(), // regression; default: training.max_metric.rmse
    max_live_mae: z.number().nonnegative().optional(), // regression; default: training.max_metric.mae
    // Service alerts.
    max_error_ratio: share.default(0.05), // share of 5xx answers on /predict* and /feedback*
    max_p99_latency_ms: z.number().positive().default(500), // p99 of /predict and /predict/batch
    // Regression: the buckets of the predicted-value histogram; default: ±1, 2.5, 5 per decade from 0.01 to 50000.
    prediction_buckets: z
      .array(z.number())
      .min(1)
      .refine((buckets) => buckets.every((bucket, i) => i === 0 || bucket > buckets[i - 1]!), 'list the buckets in increasing order')
      .optional(),
  })
  .superRefine((monitoring, ctx) => {
    for (const [count, window] of [
      ['drift_min_rows', 'drift_window_size'],
      ['feedback_min_labels', 'feedback_window_size'],
    ] as const) {
      if (monitoring[count] > monitoring[window]) {
        ctx.addIssue({
          code: 'custom',
          path: [count],
          message: `${count} (${monitoring[count]}) must not exceed ${window} (${monitoring[window]})`,
        });
      }
    }
  });

/**
 * training.algorithm: the built-in model src/model/train.ts trains (a name, or the name with hyper-parameters).
 * linear: logistic regression (classification) or least squares (regression); decision_tree; random_forest.
 */
const positiveInt = z.number().int().positive();
export const algorithmSchema = z.preprocess(
  (value) => (typeof value === 'string' ? { name: value } : value),
  z.discriminatedUnion('name', [
    z.strictObject({ name: z.literal('linear') }),
    z.strictObject({
      name: z.literal('decision_tree'),
      max_depth: positiveInt.optional(), // default: unlimited
      min_samples_split: z.number().int().min(2).default(4), // a node with fewer rows becomes a leaf
    }),
    z.strictObject({
      name: z.literal('random_forest'),
      trees: positiveInt.max(10_000).default(100),
      max_depth: positiveInt.optional(), // default: unlimited
      // Columns tried at each split: sqrt (√ of the columns), a share in (0, 1], or a count; default: sqrt for
      // classification, all for regression (scikit-learn's defaults).
      max_features: z.union([z.literal('sqrt'), z.number().positive()]).optional(),
      min_samples_leaf: positiveInt.default(1),
      bootstrap: z.boolean().default(true),
    }),
  ]),
);
export type AlgorithmConfig = z.output<typeof algorithmSchema>;

/** The holdout metrics each task's quality gate can bound (training.min_metric / training.max_metric). */
export const GATED_METRICS = {
  classification: { min_metric: ['accuracy', 'macro_f1'], max_metric: [] },
  regression: { min_metric: ['r2'], max_metric: ['rmse', 'mae'] },
} as const satisfies Record<Task, Record<'min_metric' | 'max_metric', readonly string[]>>;

/**
 * The project name: it names the package, the image, the chart and the Helm release, and release names are DNS
 * labels of at most 53 characters (Helm refuses longer ones).
 */
export const PROJECT_NAME_MAX_LENGTH = 53;
export const projectName = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
    'expected a lower-case name of letters, digits and dashes, not ending with a dash (it names the package, image, chart and Helm release)',
  )
  .max(PROJECT_NAME_MAX_LENGTH, `at most ${PROJECT_NAME_MAX_LENGTH} characters: it is the Helm release name, which Helm limits to 53`);
/** Free text rendered into package.json, Chart.yaml and the README: one line, no control characters. */
const oneLineText = z.string().regex(/^[^\p{Cc}]*$/u, 'expected one line of text without control characters');

/**
 * The top-level sections of config.yaml that configure the deployment parts the generator renders (the
 * Dockerfiles, the Helm chart, the Jenkins pipelines, the Ansible playbooks, the CI files), not the service.
 */
export const DEPLOYMENT_SECTIONS = ['docker', 'helm', 'jenkins', 'ansible', 'ci'] as const;
export type DeploymentSection = (typeof DEPLOYMENT_SECTIONS)[number];

/** The settings the service reads, one entry per top-level key of config.yaml. */
export const serviceSettings = {
  name: projectName,
  version: z.string().regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/, 'expected a semantic version such as 1.0.0'),
  description: oneLineText.default('A machine learning microservice'),
  task: z.enum(TASKS),
  target: identifier,
  id_field: identifier,
  data: z.strictObject({
    path: z.string().min(1),
    // The data's own column names for the target and the id field when they are not valid names (as features'
    // `column`); default: target and id_field themselves.
    target_column: z.string().min(1).optional(),
    id_column: z.string().min(1).optional(),
  }),
  training: z
    .strictObject({
      seed: z.number().int().default(42),
      holdout_fraction: z.number().gt(0).lt(1).default(0.2),
      // The quality gate: `npm run train` exits 1, and does not make the model the newest, when a holdout
      // metric is below its minimum or above its maximum.
      min_metric: z.strictObject({ accuracy: share.optional(), macro_f1: share.optional(), r2: z.number().max(1).optional() }).optional(),
      max_metric: z.strictObject({ rmse: z.number().nonnegative().optional(), mae: z.number().nonnegative().optional() }).optional(),
      algorithm: algorithmSchema.default({ name: 'linear' }),
      // if_better: a new model becomes model_bin/LATEST only when it is not worse than the current LATEST on
      // this run's holdout rows (accuracy or R²); always: every model that passes the quality gate does.
      promote: z.enum(['if_better', 'always']).default('if_better'),
    })
    .prefault({}),
  server: z
    .strictObject({
      host: hostOrAddress.default('0.0.0.0'),
      port: z.number().int().min(1).max(65535).default(8000),
      body_limit_bytes: z.number().int().positive().default(1_048_576),
      max_batch_rows: z.number().int().positive().default(1000),
      // The model_bin/ folder to serve; default: the one model_bin/LATEST names (the newest promoted, see training.promote).
      // Pinned, it wins over LATEST; either is followed while serving (hot_reload).
      model_version: modelFolderName.optional(),
      // A candidate run beside the live model on the same rows, off the request path: its predictions are logged
      // with role: shadow and compared with the live ones at GET /monitoring and /metrics. It never slows or fails an answer.
      shadow_model_version: modelFolderName.optional(),
      // Requests waiting for the shadow model; beyond this they are shed (counted), so the shadow never falls far behind.
      shadow_queue_size: z.number().int().positive().max(100_000).default(100),
      hot_reload: serverHotReloadSchema,
      // POST /predict and /predict/batch go to a lean handler before Express's router (same checks and answers,
      // a fraction of the cost); false: Express serves them too.
      fast_path: z.boolean().default(true),
      // A request not answered in time gets 503; the connection's headers and body must arrive within it too.
      request_timeout_ms: z.number().int().positive().default(30_000),
      // Open connections per process. At the limit the oldest idle (or still silent) connection is closed to make
      // room, so a flood of slow clients cannot lock out /health and the probes.
      max_connections: z.number().int().min(2, 'expected at least 2: one for a client and one for the probes').max(1_000_000).default(1024),
      // Request fields not in features.yaml: reject (422) or strip (drop silently). They never reach the model.
      unknown_fields: z.enum(['reject', 'strip']).default('reject'),
      // Processes serving the port (node:cluster); 0: one per CPU.
      workers: z.number().int().min(0).max(256).default(1),
      // A model that cannot be loaded (missing, corrupt, trained for other features): exit (exit 1 saying why) or
      // not_ready (keep serving: /health 200, /ready 503 with the reason, /predict 503), so a pod is not restarted in a loop.
      on_model_error: z.enum(['exit', 'not_ready']).default('exit'),
      auth: serverAuthSchema,
      rate_limit: serverRateLimitSchema,
      inference: serverInferenceSchema,
    })
    .prefault({}),
  prediction_log: predictionLogSchema.prefault({}),
  monitoring: monitoringSchema.prefault({}),
};

/** config.yaml as the service validates it at start-up: its own settings, the deployment sections, nothing else. */
export const configFileSchema = z.strictObject({
  ...serviceSettings,
  // Accepted as written: validated by the generator at generation time (generator-ml-microservice's
  // generators/contract/deploymentSettings.ts); the service reads none of it.
  ...(Object.fromEntries(DEPLOYMENT_SECTIONS.map((section) => [section, z.unknown().optional()])) as Record<
    DeploymentSection,
    z.ZodOptional<z.ZodUnknown>
  >),
});

export type Config = z.output<typeof configFileSchema>;

/**
 * Checks across fields and files: the id field and the target must not collide with a feature or each other, and
 * the quality gate and the live metric bounds must suit the task.
 */
export function crossCheck(features: FeaturesFile, config: Config): { file: 'config'; path: (string | number)[]; message: string }[] {
  const names = new Set(features.features.map((feature) => feature.name));
  const problems: { file: 'config'; path: (string | number)[]; message: string }[] = [];
  for (const key of ['target', 'id_field'] as const) {
    if (names.has(config[key])) {
      problems.push({ file: 'config', path: [key], message: `${key} "${config[key]}" is also the name of a feature in features.yaml` });
    }
  }
  if (PREDICTION_RECORD_KEYS.includes(config.id_field)) {
    problems.push({
      file: 'config',
      path: ['id_field'],
      message: `id_field "${config.id_field}" is a key of the prediction log record; choose another name`,
    });
  }
  for (const bound of ['min_metric', 'max_metric'] as const) {
    const allowed: readonly string[] = GATED_METRICS[config.task][bound];
    for (const metric of Object.keys(config.training[bound] ?? {})) {
      if (!allowed.includes(metric)) {
        const expected = allowed.length ? `use ${allowed.join(' or ')}` : `${bound} takes no metric for ${config.task}`;
        problems.push({
          file: 'config',
          path: ['training', bound, metric],
          message: `${metric} is not a ${config.task} metric (${expected})`,
        });
      }
    }
  }
  const liveBounds = { classification: ['min_live_accuracy'], regression: ['max_live_rmse', 'max_live_mae'] } as const;
  for (const [task, keys] of Object.entries(liveBounds)) {
    for (const key of keys) {
      if (task !== config.task && config.monitoring[key] !== undefined) {
        problems.push({
          file: 'config',
          path: ['monitoring', key],
          message: `${key} is for ${task} services, and this one does ${config.task}`,
        });
      }
    }
  }
  if (config.target === config.id_field) {
    problems.push({ file: 'config', path: ['id_field'], message: `id_field and target must differ (both are "${config.target}")` });
  }
  return problems;
}
