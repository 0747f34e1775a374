// The shapes of the service's JSON answers, as zod schemas: the route table (routes.ts) names them per route and
// status, and the OpenAPI document is generated from them (openapi.ts). They describe what the handlers write; the
// API tests validate real answers against the published document, so a change to an answer that is not made here
// fails a test.
import { z } from 'zod';
import type { Spec } from '../contract/index.js';

/** What every error answer holds; some add fields (the feedback answers name the id, /feedback/batch the results). */
export function errorSchema() {
  return z.object({
    error: z.string().meta({ description: 'Machine-readable error code', examples: ['validation_failed'] }),
    message: z.string().meta({ description: 'What went wrong, for people' }),
    issues: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'The failing fields, the first 100 of them (422 only)' }),
    issue_count: z.number().int().optional().meta({ description: 'How many fields fail in all (422 only)' }),
    request_id: z.string().optional().meta({ description: 'The id the error is logged under (500 only)' }),
  });
}

export function answerSchemas(spec: Spec) {
  const { config } = spec;
  const idField = config.id_field;
  const classification = config.task === 'classification';
  const count = z.number().int().min(0);
  const metric = z.number().nullable();
  const share = z.number().min(0);

  const model = z
    .object({
      version: z.string().meta({
        description: "The model's own version: its folder in model_bin/ (a new one per training run); api_version is the API's",
        examples: ['20250101T120000Z-1a2b3c4d'],
      }),
      uuid: z.string(),
      created_at: z.string(),
    })
    .meta({ description: 'The model that made the prediction (from model_bin/<version>/model.json)' });
  const predictionValue = classification
    ? z.string().meta({ description: 'The predicted class' })
    : z.number().meta({ description: `The predicted ${config.target}` });
  const predictionFields = {
    prediction: predictionValue,
    ...(classification ? { probabilities: z.record(z.string(), z.number()).meta({ description: 'Probability per class name' }) } : {}),
  };
  const apiVersion = z.string().meta({ description: "The API's version (config.yaml version)", examples: [config.version] });
  const requestId = z.union([z.string(), z.number()]);
  const answeredId = requestId.meta({ description: 'The id sent in the request, or a generated one' });

  const explanation = z
    .object({
      scale: z.enum(['logit', 'probability', 'value']).meta({
        description: classification
          ? "What base, contributions and output are in: the explained class's logit (logistic regression) or probability (trees and forests)"
          : `What base, contributions and output are in: the predicted ${config.target} itself`,
      }),
      ...(classification ? { class: z.string().meta({ description: 'The class explained: the predicted one' }) } : {}),
      base: z.number().meta({
        description: "The model's output at the training rows' column means (linear models) or on average over the training rows (trees)",
      }),
      output: z.number().meta({ description: 'The output explained for this row: base + the sum of the contributions (within 1e-6)' }),
      contributions: z
        .object(Object.fromEntries(spec.features.features.map((feature) => [feature.name, z.number()])))
        .meta({ description: 'Each feature of features.yaml: how much it moves this row away from the base' }),
    })
    .meta({ description: "Why this prediction (POST …?explain=true): each feature's contribution, exact for the built-in models" });
  const explained = { explanation: explanation.optional() };
  const predictResponse = z.object({ [idField]: answeredId, ...predictionFields, ...explained, model, api_version: apiVersion });
  const batchResponse = z.object({
    predictions: z
      .array(z.object({ [idField]: answeredId, ...predictionFields, ...explained }))
      .meta({ description: 'One per row, in order' }),
    model,
    api_version: apiVersion,
  });

  const error = errorSchema();
  const predictionLog = z
    .object({
      sinks: z.record(
        z.string(),
        z.object({
          queued: count,
          in_flight: count,
          sent: count,
          retried: count,
          dropped: count,
          failed_sends: count,
          last_error: z.string().optional().meta({ description: 'The last send error (shown with an API key only)' }),
        }),
      ),
    })
    .meta({ description: "The prediction log's sinks and their counts" });
  const health = z.object({ status: z.literal('ok') });
  const ready = z.object({ status: z.literal('ready'), model, prediction_log: predictionLog });
  const notReady = z.object({
    status: z.enum(['loading', 'model_error']),
    message: z.string().optional().meta({ description: 'Why the model could not be loaded (model_error)' }),
    prediction_log: predictionLog,
  });

  /** The live metrics of the feedback window: accuracy (classification) or rmse and mae (regression); null below min_labels. */
  const liveMetrics = z.record(z.string(), metric).meta({
    description: classification
      ? 'accuracy, null below monitoring.feedback_min_labels'
      : 'rmse and mae, null below monitoring.feedback_min_labels',
  });
  const feedbackStatus = z.enum(['joined', 'unknown_id', 'already_labelled', 'lookup_failed']);
  const outcome = {
    prediction: predictionValue.optional(),
    source: z.enum(['memory', 'prediction_log']).optional().meta({ description: 'Where the prediction was found' }),
    ...(classification
      ? { correct: z.boolean().optional().meta({ description: 'Whether the prediction was right' }) }
      : { error: z.number().optional().meta({ description: 'truth − prediction' }) }),
  };
  const feedbackResponse = z.object({ [idField]: requestId, status: z.literal('joined'), ...outcome, live: liveMetrics });
  const feedbackError = error.extend({
    [idField]: requestId.optional().meta({ description: 'The id of the label (404, 409, and 503 lookup_failed)' }),
  });
  const feedbackResults = {
    joined: count,
    unknown_id: count,
    already_labelled: count,
    lookup_failed: count,
    results: z
      .array(z.object({ [idField]: requestId, status: feedbackStatus, ...outcome }))
      .meta({ description: 'One per label, in order' }),
  };
  const feedbackBatchResponse = z.object({ ...feedbackResults, live: liveMetrics });
  const feedbackBatchError = error.extend(feedbackResults);

  const featureDrift = z.object({
    kind: z.enum(['numeric', 'categorical']),
    psi: metric.meta({ description: 'Population stability index against the training rows; null below min_rows' }),
    drifted: z.boolean(),
    missing_share: metric,
    reference_missing_share: z.number(),
    unknown_share: metric.optional(),
    reference_unknown_share: z.number().optional(),
    histogram: z
      .object({ buckets: z.array(z.string()), reference: z.array(share), live: z.array(share) })
      .meta({ description: 'The buckets PSI compares (numeric ranges, or categories, then unknown and missing) and their shares' }),
  });
  const meanMs = z.number().nullable().meta({ description: 'Mean time in the model per request, in ms; null before the first' });
  const shadowReport = z
    .object({
      model: model.meta({ description: 'The shadow model' }),
      live_model: model.meta({ description: 'The live model it is compared with' }),
      status: z.enum(['comparing', 'same_as_live']).meta({ description: 'same_as_live: the shadow is the live model, so it is not run' }),
      since: z.string().meta({ description: 'When this pair of models began to be compared (the figures count from then)' }),
      requests: count.meta({ description: 'Requests the shadow ran' }),
      rows: count,
      ...(classification
        ? {
            agreement: metric.meta({ description: 'Share of rows where both models predict the same class' }),
            mean_probability_difference: metric.meta({
              description:
                'Mean over rows of the total variation between the two probability vectors (½ Σ |p_live − p_shadow|; 0 same, 1 disjoint)',
            }),
          }
        : { mean_absolute_difference: metric.meta({ description: 'Mean |prediction_live − prediction_shadow| over rows' }) }),
      latency_ms: z.object({ live: meanMs, shadow: meanMs }),
      queue: z.object({ size: count, capacity: count }).meta({ description: 'Requests waiting for the shadow (server.shadow_queue_size)' }),
      shed_requests: count.meta({ description: 'Requests not run by the shadow because its queue was full' }),
      failed_requests: count.meta({ description: 'Requests the shadow model failed on (the live answer was not affected)' }),
    })
    .nullable()
    .meta({ description: 'The shadow model (server.shadow_model_version) against the live one; null when none runs' });
  const monitoringReport = z.object({
    model: model.nullable(),
    drift: z.object({
      status: z.enum(['ok', 'insufficient_data', 'unavailable']),
      reason: z.string().optional(),
      window: z.object({ size: count, rows: count, min_rows: count }),
      psi_threshold: z.number(),
      drifted_features: z.array(z.string()),
      features: z.record(z.string(), featureDrift),
    }),
    live: z.object({
      window: z.object({ size: count, labels: count, min_labels: count }),
      metrics: liveMetrics,
      thresholds: z.record(z.string(), z.object({ min: z.number().optional(), max: z.number().optional() })),
      breached: z.array(z.string()).meta({ description: 'Metrics beyond their bound' }),
      received: z.object({ joined: count, unknown_id: count, already_labelled: count, lookup_failed: count }),
      prediction_store: z.object({ size: count, capacity: count, lookup: z.string().nullable() }),
    }),
    input_ranges: z
      .record(z.string(), z.object({ observed: z.object({ min: z.number(), max: z.number() }), below: count, above: count }))
      .meta({ description: 'Scored values outside the range seen in training, per feature with an observed range' }),
    shadow: shadowReport,
  });

  const roleResult = z.object({
    outcome: z.enum(['swapped', 'unchanged', 'stopped', 'refused']),
    model: model.nullable().meta({ description: 'The model in this role now (null: none)' }),
    previous: model.nullable().optional().meta({ description: 'The model it replaced (swapped, stopped)' }),
    error: z.enum(['unknown_version', 'model_refused']).optional().meta({ description: 'Why it was refused' }),
    version: z.string().optional().meta({ description: 'The version refused' }),
    message: z.string().optional().meta({ description: 'What is wrong with the version refused' }),
  });
  const modelReload = z.object({ live: roleResult, shadow: roleResult });

  /** By component name in the OpenAPI document. */
  return {
    PredictResponse: predictResponse,
    BatchPredictResponse: batchResponse,
    Explanation: explanation,
    Error: error,
    Health: health,
    Ready: ready,
    NotReady: notReady,
    FeedbackResponse: feedbackResponse,
    FeedbackError: feedbackError,
    FeedbackBatchResponse: feedbackBatchResponse,
    FeedbackBatchError: feedbackBatchError,
    MonitoringReport: monitoringReport,
    ModelReload: modelReload,
    ModelReloadRefused: error.extend(modelReload.shape),
  };
}

export type AnswerSchemas = ReturnType<typeof answerSchemas>;
