// The HTTP API, built from the spec at start-up. createApp() is separate from listen() so tests drive the
// app directly. Every error is JSON with an `error` code and a `message`; none leaks a stack trace.
import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type NextFunction, type Request, type Response } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { z } from 'zod';
import { Monitoring, type PredictionLookup } from '../monitoring/index.js';
import { PredictionLog, predictionRecords } from '../predictionLog/index.js';
import { fieldPath, type Spec } from '../spec/load.js';
import { buildRequestSchemas } from '../spec/requestSchema.js';
import { buildOpenApiDocument } from './openapi.js';
import type { Prediction, Predictor } from './predictor.js';

/** Filled in once the model is loaded and warmed up; until then /ready and /predict answer 503. */
export interface ModelState {
  predictor?: Predictor;
}

export interface AppOptions {
  spec: Spec;
  model: ModelState;
  /** Called with unexpected errors (the 500s); defaults to console.error. */
  onError?: (error: unknown, requestId: string) => void;
  /** Where every prediction is logged once it is answered; by default nowhere. GET /ready shows its counts. */
  predictionLog?: PredictionLog;
  /** Where POST /feedback looks for predictions no longer in memory (the MongoDB prediction log); none: memory only. */
  predictionLookup?: PredictionLookup;
}

export interface FieldIssue {
  field: string;
  message: string;
}

/** The value at a zod issue path inside the request body (undefined when absent). */
function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (value, key) => (value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined),
    body,
  );
}

/** Flattens zod issues into one entry per failing field, e.g. rows[3].petal_width: below min 0. */
export function fieldIssues(error: z.ZodError, body: unknown): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    const field = fieldPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: field ? `${field}.${key}` : key, message: 'unknown field (not in features.yaml)' }));
    }
    const missing = issue.path.length > 0 && valueAt(body, issue.path) === undefined;
    return [
      {
        field: field || '(body)',
        message: missing ? `required field is missing (${issue.message.replace(/^Invalid (input|option): /, '')})` : issue.message,
      },
    ];
  });
}

function sendError(res: Response, status: number, error: string, message: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json({ error, message, ...extra });
}

export function createApp({
  spec,
  model,
  onError = (error) => console.error(error),
  predictionLog = PredictionLog.disabled(),
  predictionLookup,
}: AppOptions): express.Express {
  const { config } = spec;
  const schemas = buildRequestSchemas(spec.features, config);
  const openApi = buildOpenApiDocument(spec, schemas);
  const idField = config.id_field;
  const monitoring = new Monitoring({ spec, model, predictionLog, predictionLookup });

  const app = express();
  app.disable('x-powered-by');
  app.set('json spaces', 0);

  app.use((req, res, next) => {
    res.locals.startedAt = performance.now(); // the prediction log's latency_ms counts from here
    const requestId = (req.get('x-request-id') ?? '').slice(0, 200) || randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('x-request-id', requestId);
    next();
  });
  app.use(monitoring.countRequests);

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', (_req, res) => {
    const prediction_log = predictionLog.stats();
    if (model.predictor) res.json({ status: 'ready', model: modelInfo(model.predictor), prediction_log });
    else res.status(503).json({ status: 'loading', prediction_log });
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.get('/metrics', monitoring.serveMetrics);
  app.get('/monitoring', monitoring.serveReport);
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(openApi, { customSiteTitle: `${config.name} API` }));

  const json = express.json({ limit: config.server.body_limit_bytes, strict: true });
  const requireJson = (req: Request, res: Response, next: NextFunction) => {
    if (!req.is('application/json')) sendError(res, 415, 'unsupported_media_type', 'Send the body as application/json');
    else next();
  };

  /** Call right after the answer is sent: queues the records (never awaited) and never fails the request. */
  const logPredictions = (
    res: Response,
    predictor: Predictor,
    latencyMs: number,
    rows: Record<string, unknown>[],
    ids: unknown[],
    results: Prediction[],
  ) => {
    try {
      monitoring.recordPredictions(predictor, rows, ids, results);
      if (!predictionLog.enabled) return;
      predictionLog.log(
        predictionRecords({ idField, ids, rows, results, model: modelInfo(predictor), apiVersion: config.version, latencyMs }),
      );
    } catch (error) {
      onError(error, String(res.locals.requestId));
    }
  };
  const latencySince = (res: Response) => performance.now() - (res.locals.startedAt as number);

  const predictRoute = <T>(schema: z.ZodType<T>, handle: (body: T, predictor: Predictor, res: Response) => Promise<void>) => [
    requireJson,
    json,
    async (req: Request, res: Response) => {
      const parsed = schema.safeParse(req.body);
      if (!parsed.success) {
        const issues = fieldIssues(parsed.error, req.body);
        sendError(res, 422, 'validation_failed', `The request body is invalid: ${issues.length} problem${issues.length === 1 ? '' : 's'}`, {
          issues,
        });
        return;
      }
      const predictor = model.predictor;
      if (!predictor) {
        sendError(res, 503, 'not_ready', 'The model is still loading; retry shortly');
        return;
      }
      await handle(parsed.data, predictor, res);
    },
  ];

  app.post(
    '/predict',
    predictRoute(schemas.predictRequest, async (body, predictor, res) => {
      const { [idField]: id, ...features } = body;
      const [result] = await monitoring.predict(predictor, '/predict', [features]);
      const answeredId = id ?? randomUUID();
      const latencyMs = latencySince(res);
      res.json({ [idField]: answeredId, ...result, model: modelInfo(predictor), api_version: config.version });
      logPredictions(res, predictor, latencyMs, [features], [answeredId], [result!]);
    }),
  );

  app.post(
    '/predict/batch',
    predictRoute(schemas.batchRequest, async ({ rows }, predictor, res) => {
      const features = rows.map(({ [idField]: _id, ...values }) => values);
      const results = await monitoring.predict(predictor, '/predict/batch', features);
      const ids = rows.map((row) => row[idField] ?? randomUUID());
      const latencyMs = latencySince(res);
      res.json({
        predictions: results.map((result, i) => ({ [idField]: ids[i], ...result })),
        model: modelInfo(predictor),
        api_version: config.version,
      });
      logPredictions(res, predictor, latencyMs, features, ids, results);
    }),
  );

  app.post(
    '/feedback',
    predictRoute(monitoring.feedbackSchemas.feedbackRequest, async (body, predictor, res) => {
      const { status, body: answer } = await monitoring.answerFeedback(predictor, body);
      res.status(status).json(answer);
    }),
  );
  app.post(
    '/feedback/batch',
    predictRoute(monitoring.feedbackSchemas.feedbackBatchRequest, async ({ rows }, predictor, res) => {
      const { status, body: answer } = await monitoring.answerFeedbackBatch(predictor, rows);
      res.status(status).json(answer);
    }),
  );

  app.use((req, res) => {
    sendError(res, 404, 'not_found', `No route for ${req.method} ${req.path}; see /docs`);
  });

  const errorHandler: ErrorRequestHandler = (error: { type?: string; status?: number; message?: string }, _req, res, _next) => {
    if (error.type === 'entity.too.large')
      sendError(res, 413, 'payload_too_large', `The body is larger than ${config.server.body_limit_bytes} bytes`);
    else if (error.type === 'entity.parse.failed') sendError(res, 400, 'malformed_json', `The body is not valid JSON: ${error.message}`);
    else if (error.status && error.status >= 400 && error.status < 500)
      sendError(res, error.status, 'bad_request', error.message ?? 'Bad request');
    else {
      const requestId = String(res.locals.requestId);
      onError(error, requestId);
      sendError(res, 500, 'internal_error', 'The prediction failed unexpectedly; the error is logged under this request id', {
        request_id: requestId,
      });
    }
  };
  app.use(errorHandler);
  return app;
}

function modelInfo(predictor: Predictor) {
  const { uuid, version, created_at } = predictor.metadata;
  return { uuid, version, created_at };
}
