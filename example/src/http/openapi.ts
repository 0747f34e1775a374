// The OpenAPI 3.1 document, generated from the same zod schemas that validate requests (zod 4 emits
// JSON Schema 2020-12, which is OpenAPI 3.1's schema dialect), so the docs can never drift from the code.
import { z } from 'zod';
import { buildFeedbackSchemas } from '../monitoring/feedback.js';
import { type Spec, exampleRow, type RequestSchemas } from '../contract/index.js';

export function responseSchemas(spec: Spec) {
  const { config } = spec;
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
  const predictionFields = {
    prediction:
      config.task === 'classification'
        ? z.string().meta({ description: 'The predicted class' })
        : z.number().meta({ description: `The predicted ${config.target}` }),
    ...(config.task === 'classification'
      ? { probabilities: z.record(z.string(), z.number()).meta({ description: 'Probability per class name' }) }
      : {}),
  };
  const apiVersion = z.string().meta({ description: "The API's version (config.yaml version)", examples: [config.version] });
  const idField = z.union([z.string(), z.number()]).meta({ description: 'The id sent in the request, or a generated one' });
  const predictResponse = z.object({ [config.id_field]: idField, ...predictionFields, model, api_version: apiVersion });
  const batchResponse = z.object({
    predictions: z.array(z.object({ [config.id_field]: idField, ...predictionFields })),
    model,
    api_version: apiVersion,
  });
  const errorResponse = z.object({
    error: z.string().meta({ description: 'Machine-readable error code', examples: ['validation_failed'] }),
    message: z.string(),
    issues: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'The failing fields, the first 100 of them (422 only)' }),
    issue_count: z.number().int().optional().meta({ description: 'How many fields fail in all (422 only)' }),
    request_id: z.string().optional(),
  });
  return { predictResponse, batchResponse, errorResponse };
}

interface Operation {
  responses: Record<string, unknown>;
  security?: unknown[];
  [key: string]: unknown;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  security?: unknown[];
  [key: string]: unknown;
}

/** `keyed`: the service checks API keys (API_KEYS is set, or server.auth.enabled makes it required). */
export function buildOpenApiDocument(
  spec: Spec,
  schemas: RequestSchemas,
  keyed = spec.config.server.auth.enabled,
): Record<string, unknown> {
  const { config } = spec;
  const responses = responseSchemas(spec);
  const registry = z.registry<{ id: string }>();
  registry.add(schemas.predictRequest, { id: 'PredictRequest' });
  registry.add(schemas.batchRequest, { id: 'BatchPredictRequest' });
  registry.add(responses.predictResponse, { id: 'PredictResponse' });
  registry.add(responses.batchResponse, { id: 'BatchPredictResponse' });
  registry.add(responses.errorResponse, { id: 'Error' });
  const feedback = buildFeedbackSchemas(spec);
  registry.add(feedback.feedbackRequest, { id: 'FeedbackRequest' });
  registry.add(feedback.feedbackBatchRequest, { id: 'FeedbackBatchRequest' });
  const { schemas: components } = z.toJSONSchema(registry, {
    uri: (id) => `#/components/schemas/${id}`,
    io: 'input',
    unrepresentable: 'any',
  });
  for (const schema of Object.values(components)) {
    delete schema.$schema;
    delete schema.$id;
  }

  const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
  const json = (id: string, example?: unknown) => ({
    'application/json': { schema: ref(id), ...(example === undefined ? {} : { example }) },
  });
  const error = (description: string) => ({ description, content: json('Error') });
  const example = { [config.id_field]: 'req-0001', ...exampleRow(spec.features.features) };
  const { auth, rate_limit: rateLimit } = config.server;
  // What server.auth and server.rate_limit answer on every path they guard.
  const guardedResponses = {
    ...(keyed ? { '401': error(`No valid API key in the ${auth.header} header`) } : {}),
    ...(rateLimit.enabled
      ? {
          '429': error(
            `More than ${rateLimit.requests} requests in ${rateLimit.window_seconds} s from this client; Retry-After says when to retry`,
          ),
        }
      : {}),
  };
  const predictErrors = {
    '400': error('Malformed JSON'),
    '413': error(`Body larger than ${config.server.body_limit_bytes} bytes`),
    '415': error('Body is not application/json'),
    '422': error('The body does not match features.yaml; `issues` lists the failing fields (the first 100), `issue_count` counts them'),
    '503': error(`The model is not loaded yet, or the request was not answered within ${config.server.request_timeout_ms} ms`),
  };
  const objectResponse = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });
  const status = (description: string) => ({
    description,
    content: { 'application/json': { schema: { type: 'object', properties: { status: { type: 'string' } } } } },
  });

  const document: OpenApiDocument = {
    openapi: '3.1.0',
    info: { title: config.name, version: config.version, description: config.description },
    tags: [
      {
        name: 'Predictions',
        description: `Inputs are validated against features.yaml; unknown fields are ${config.server.unknown_fields === 'strip' ? 'dropped' : 'rejected'}`,
      },
      { name: 'Health', description: 'Probes for load balancers and Kubernetes' },
      { name: 'Monitoring', description: 'Prometheus metrics, data drift, and ground truth for live accuracy' },
    ],
    paths: {
      '/predict': {
        post: {
          summary: 'Predict one row',
          tags: ['Predictions'],
          operationId: 'predict',
          requestBody: { required: true, content: json('PredictRequest', example) },
          responses: { '200': { description: 'The prediction', content: json('PredictResponse') }, ...predictErrors },
        },
      },
      '/predict/batch': {
        post: {
          summary: `Predict up to ${config.server.max_batch_rows} rows`,
          tags: ['Predictions'],
          operationId: 'predictBatch',
          requestBody: { required: true, content: json('BatchPredictRequest', { rows: [example] }) },
          responses: {
            '200': { description: 'One prediction per row, in order', content: json('BatchPredictResponse') },
            ...predictErrors,
          },
        },
      },
      '/feedback': {
        post: {
          summary: `The true ${config.target} of an earlier prediction, by ${config.id_field}`,
          description:
            'Joins the label with the prediction made under this id (kept in memory, or found in the MongoDB prediction log) ' +
            'and adds it to the live accuracy / error window shown at GET /monitoring.',
          tags: ['Monitoring'],
          operationId: 'feedback',
          requestBody: { required: true, content: json('FeedbackRequest') },
          responses: {
            '200': objectResponse('Joined: the prediction, whether it was right (or its error), and the live metrics'),
            '404': error(`No recent prediction has this ${config.id_field}`),
            '409': error('This prediction already has a label'),
            ...predictErrors,
          },
        },
      },
      '/feedback/batch': {
        post: {
          summary: `Up to ${config.server.max_batch_rows} labels of earlier predictions`,
          description:
            'One result per label, in order (status joined, unknown_id, already_labelled or lookup_failed); 404 when none joined.',
          tags: ['Monitoring'],
          operationId: 'feedbackBatch',
          requestBody: { required: true, content: json('FeedbackBatchRequest') },
          responses: {
            '200': objectResponse('At least one label joined: counts, a result per label, the live metrics'),
            '404': error('No label joined a prediction (the body lists each result)'),
            ...predictErrors,
          },
        },
      },
      '/monitoring': {
        get: {
          summary: 'Data drift per feature and live accuracy, with their thresholds',
          tags: ['Monitoring'],
          operationId: 'monitoring',
          responses: { '200': objectResponse('The served model, the drift report and the live metrics') },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (text exposition format)',
          tags: ['Monitoring'],
          operationId: 'metrics',
          responses: { '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/health': {
        get: { summary: 'Liveness: the process is up', tags: ['Health'], operationId: 'health', responses: { '200': status('Alive') } },
      },
      '/ready': {
        get: {
          summary: 'Readiness: the model is loaded and warmed up',
          tags: ['Health'],
          operationId: 'ready',
          responses: {
            '200': status('Ready to serve predictions'),
            '503': status('Still loading the model (status loading), or it failed to load (status model_error, message says why)'),
          },
        },
      },
    },
    components: {
      schemas: components,
      ...(keyed ? { securitySchemes: { ApiKey: { type: 'apiKey', in: 'header', name: auth.header } } } : {}),
    },
  };
  if (keyed) document.security = [{ ApiKey: [] }];
  // Every operation needs the key and counts against the rate limit except those under server.auth.public_paths.
  for (const [path, operations] of Object.entries(document.paths)) {
    const open = auth.public_paths.some((publicPath) => path === publicPath || path.startsWith(`${publicPath}/`));
    for (const operation of Object.values(operations)) {
      if (!open) operation.responses = { ...operation.responses, ...guardedResponses };
      else if (keyed) operation.security = [];
    }
  }
  return document;
}
