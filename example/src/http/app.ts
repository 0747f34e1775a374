// The HTTP API, built from the spec at start-up. createApp() is the Express app alone (tests drive it directly);
// createRequestListener() is what the server runs: with config.yaml server.fast_path, POST /predict and
// /predict/batch go straight to the lean JSON route handler, and Express serves everything else. Every error is
// JSON with an `error` code and a `message`; none leaks a stack trace.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler } from 'express';
import swaggerUi from 'swagger-ui-express';
import { Monitoring, type PredictionLookup } from '../monitoring/index.js';
import { PredictionLog, type PredictionLogStats } from '../predictionLog/index.js';
import { type Spec, buildRequestSchemas } from '../contract/index.js';
import { buildOpenApiDocument } from './openapi.js';
import { modelIdentity } from '../model/modelIdentity.js';
import { JsonRouteHandler, predictionRoutes, type JsonRoute, type ModelState } from './predictionHandler.js';
import { RequestGuards } from './requestGuards.js';

export type { ModelState } from './predictionHandler.js';

export interface AppOptions {
  spec: Spec;
  model: ModelState;
  /** Called with unexpected errors (the 500s); defaults to console.error. */
  onError?: (error: unknown, requestId: string) => void;
  /** Where every prediction is logged once it is answered; by default nowhere. GET /ready shows its counts. */
  predictionLog?: PredictionLog;
  /** Where POST /feedback looks for predictions no longer in memory (the MongoDB prediction log); none: memory only. */
  predictionLookup?: PredictionLookup;
  /** The keys clients must send (apiKeys() in ../contract/environment.ts): with any, every non-public path needs one. */
  apiKeys?: readonly string[];
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

interface Service {
  app: express.Express;
  guards: RequestGuards;
  /** The fast path's routes by exact URL. */
  fastRoutes: Map<string, Listener>;
}

/** The Express app serving every route (the prediction routes through the same handler as the fast path). */
export function createApp(options: AppOptions): express.Express {
  return buildService(options).app;
}

/**
 * The server's request listener. With config.yaml server.fast_path (the default), POST /predict and /predict/batch
 * skip Express's router; anything else, including those paths spelled differently (/Predict/), goes to Express.
 */
export function createRequestListener(options: AppOptions): RequestListener {
  const { app, guards, fastRoutes } = buildService(options);
  if (!options.spec.config.server.fast_path) return app;
  return (req: IncomingMessage, res: ServerResponse) => {
    const serve = req.method === 'POST' ? fastRoutes.get(req.url!) : undefined;
    if (!serve) {
      app(req, res);
      return;
    }
    try {
      guards.begin(req, res, req.url);
      guards.admit(req, res, serve);
    } catch (error) {
      guards.fail(res, error);
    }
  };
}

function buildService({
  spec,
  model,
  onError = (error) => console.error(error),
  predictionLog = PredictionLog.disabled(),
  predictionLookup,
  apiKeys,
}: AppOptions): Service {
  const { config } = spec;
  const schemas = buildRequestSchemas(spec.features, config);
  const openApi = buildOpenApiDocument(spec, schemas, Boolean(apiKeys?.length) || config.server.auth.enabled);
  const monitoring = new Monitoring({ spec, model, predictionLog, predictionLookup });
  const guards = new RequestGuards({ config, apiKeys, metrics: monitoring.metrics, onError });
  const handler = new JsonRouteHandler(guards, model, config);
  const predictions = predictionRoutes({ spec, schemas, monitoring, predictionLog, onError });
  const jsonRoute =
    <T>(route: JsonRoute<T>): Listener =>
    (req, res) =>
      handler.serve(route, req, res);
  const predict = jsonRoute(predictions['/predict']);
  const predictBatch = jsonRoute(predictions['/predict/batch']);

  const app = express();
  app.disable('x-powered-by');
  app.set('json spaces', 0);

  app.use((req, res, next) => {
    const exchange = guards.begin(req, res);
    res.locals.requestId = exchange.requestId;
    res.once('finish', () => {
      // The route pattern, never the raw path, so unknown paths cannot grow the label set.
      const route: string = req.route ? `${req.baseUrl}${String(req.route.path)}` : req.baseUrl || 'unmatched';
      guards.count(exchange, req.method, route, res.statusCode);
    });
    next();
  });
  app.use((req, res, next) => guards.admit(req, res, () => next()));

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', (_req, res) => {
    // Sink errors and the model's load error can name hosts, ports and paths: only for callers with a key.
    const details = guards.showsDetails(res);
    const prediction_log = details ? predictionLog.stats() : withoutErrors(predictionLog.stats());
    if (model.predictor) res.json({ status: 'ready', model: modelIdentity(model.predictor), prediction_log });
    else if (model.loadError) {
      const message = details ? model.loadError : 'The model could not be loaded; the service log, or GET /ready with an API key, says why';
      res.status(503).json({ status: 'model_error', message, prediction_log });
    } else res.status(503).json({ status: 'loading', prediction_log });
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.get('/metrics', monitoring.serveMetrics);
  app.get('/monitoring', monitoring.serveReport);
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(openApi, { customSiteTitle: `${config.name} API` }));

  app.post('/predict', predict);
  app.post('/predict/batch', predictBatch);
  const feedback = monitoring.feedbackSchemas;
  app.post(
    '/feedback',
    jsonRoute({
      schema: feedback.feedbackRequest,
      answer: async (body, predictor) => jsonAnswer(await monitoring.answerFeedback(predictor, body)),
    }),
  );
  app.post(
    '/feedback/batch',
    jsonRoute({
      schema: feedback.feedbackBatchRequest,
      answer: async ({ rows }, predictor) => jsonAnswer(await monitoring.answerFeedbackBatch(predictor, rows)),
    }),
  );

  // The POST routes exist: another method on them is 405 naming the one allowed, not "no route".
  app.all(['/predict', '/predict/batch', '/feedback', '/feedback/batch'], (req, res) => {
    res.setHeader('Allow', 'POST');
    guards.sendError(res, 405, { error: 'method_not_allowed', message: `${req.method} ${req.path} is not served; send POST` });
  });

  app.use((req, res) => {
    guards.sendError(res, 404, { error: 'not_found', message: `No route for ${req.method} ${req.path}; see /docs` });
  });

  const errorHandler: ErrorRequestHandler = (error, _req, res, _next) => guards.fail(res, error);
  app.use(errorHandler);
  const fastRoutes = new Map([
    ['/predict', predict],
    ['/predict/batch', predictBatch],
  ]);
  return { app, guards, fastRoutes };
}

/** The prediction log's counts without the sinks' last errors, for anonymous callers of GET /ready. */
function withoutErrors({ sinks }: PredictionLogStats): PredictionLogStats {
  return {
    sinks: Object.fromEntries(Object.entries(sinks).map(([sink, { last_error: _, ...counts }]) => [sink, counts])),
  };
}

function jsonAnswer({ status, body }: { status: number; body: unknown }) {
  return { status, json: JSON.stringify(body) };
}
