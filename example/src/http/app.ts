// The HTTP API, built from the spec and the route table (routes.ts) at start-up. createApp() is the Express app
// alone (tests drive it directly); createRequestListener() is what the server runs: the routes the table marks
// fastPath (POST /predict, /predict/batch and the V2 infer URL without a version) are found by exact URL and served
// before Express's router when config.yaml server.fast_path is on, and Express serves everything else. Either way a
// route runs the same handler and answers through the same RequestGuards.send. Every error is JSON with an `error`
// code and a `message` (under /v2 in the Open Inference Protocol's form); none leaks a stack trace.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import swaggerUi from 'swagger-ui-express';
import { Monitoring, type PredictionLookup } from '../monitoring/index.js';
import { PredictionLog } from '../predictionLog/index.js';
import type { ModelLifecycle } from '../runtime/modelLifecycle.js';
import { type Spec, buildRequestSchemas } from '../contract/index.js';
import { answerSchemas } from './answerSchemas.js';
import { buildOpenApiDocument } from './openapi.js';
import { Explanations } from '../runtime/explanations.js';
import { openInferenceRoutes } from './openInference/routes.js';
import { inferenceRequestSchema, openInferenceAnswers } from './openInference/protocol.js';
import { JsonRouteHandler, predictionRoutes, servedPredictions, type ModelState } from './predictionHandler.js';
import { exchangeOf, RequestGuards } from './requestGuards.js';
import { expressPath, routeTable, type GetRoute } from './routes.js';

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
  /** The live and shadow models as they change (startServer's): POST /admin/reload, the shadow, the reload metrics. */
  models?: ModelLifecycle;
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** The Express app serving every route. */
export function createApp(options: AppOptions): express.Express {
  return buildService(options).app;
}

/**
 * The server's request listener: a POST to a fast-path route's exact URL skips Express's router (when
 * server.fast_path is on); anything else, including those paths spelled differently (/Predict/), goes to Express.
 */
export function createRequestListener(options: AppOptions): RequestListener {
  const { app, guards, fastRoutes } = buildService(options);
  return (req: IncomingMessage, res: ServerResponse) => {
    const route = req.method === 'POST' ? fastRoutes.get(req.url!) : undefined;
    if (!route) {
      app(req, res);
      return;
    }
    try {
      const exchange = guards.begin(req, res);
      exchange.route = route;
      exchange.params = route.params;
      guards.admit(req, res, route.serve);
    } catch (error) {
      guards.fail(res, error);
    }
  };
}

/** A POST route as both dispatchers run it: its name for the request metrics, its listener, and (fast path) its parameters. */
interface FastRoute {
  method: string;
  path: string;
  serve: Listener;
  params: Readonly<Record<string, string>>;
}

function buildService({
  spec,
  model,
  onError = (error) => console.error(error),
  predictionLog = PredictionLog.disabled(),
  predictionLookup,
  apiKeys,
  models,
}: AppOptions) {
  const { config } = spec;
  const schemas = buildRequestSchemas(spec.features, config);
  const answers = answerSchemas(spec);
  const monitoring = new Monitoring({ spec, model, predictionLog, predictionLookup, models, onError: (error) => onError(error, 'shadow') });
  const predictions = servedPredictions({ spec, monitoring, predictionLog, onError });
  const explanations = new Explanations(spec);
  const routes = routeTable({
    spec,
    model,
    answers,
    predictions: predictionRoutes({ spec, schemas, predictions, explanations }),
    openInference: openInferenceRoutes({ spec, model, schemas, predictions, explanations }),
    monitoring,
    predictionLog,
    predictionLookup,
    models,
    document: () => openApi,
  });
  const alwaysKeyed = routes.filter((route) => route.alwaysKeyed).map((route) => route.path);
  const alwaysPublic = routes.filter((route) => route.alwaysPublic).map((route) => route.path);
  const adminPaths = routes.filter((route) => route.admin).map((route) => route.path);
  const guards = new RequestGuards({ config, apiKeys, alwaysKeyed, alwaysPublic, adminPaths, metrics: monitoring.metrics, onError });
  const feedback = monitoring.feedbackSchemas;
  const openApi = buildOpenApiDocument(
    spec,
    routes,
    {
      requests: {
        PredictRequest: schemas.predictRequest,
        BatchPredictRequest: schemas.batchRequest,
        FeedbackRequest: feedback.feedbackRequest,
        FeedbackBatchRequest: feedback.feedbackBatchRequest,
        InferenceRequest: inferenceRequestSchema,
      },
      answers: { ...answers, ...openInferenceAnswers },
    },
    Boolean(apiKeys?.length) || config.server.auth.enabled,
  );

  const handler = new JsonRouteHandler(guards, model, config);

  const app = express();
  app.disable('x-powered-by');
  app.set('json spaces', 0);
  app.use((req, res, next) => {
    const exchange = guards.begin(req, res);
    // The route pattern, never the raw path, so unknown paths cannot grow the label set.
    guards.answeredByExpress(req, res, exchange, () =>
      req.route ? `${req.baseUrl}${String(req.route.path)}` : req.baseUrl || 'unmatched',
    );
    next();
  });
  app.use((req, res, next) => guards.admit(req, res, () => next()));

  // Each route is mounted on Express; those marked fastPath are also found by exact URL before it. Both ways run
  // the same listener, and the exchange names the route so that send() counts the answer under it.
  const fastRoutes = new Map<string, FastRoute>();
  for (const route of routes) {
    const path = expressPath(route.path);
    if (route.method === 'GET') {
      app.get(path, expressGet(route, guards));
      continue;
    }
    const serve: Listener = (req, res) => handler.serve(route.body, req, res);
    const served: FastRoute = { method: route.method, path, serve, params: {} };
    app.post(path, (req, res) => {
      const exchange = exchangeOf(res)!;
      exchange.route = served;
      exchange.params = pathParams(req);
      served.serve(req, res);
    });
    if (route.fastPath && config.server.fast_path) {
      const params = route.fastPath === true ? {} : route.fastPath.params;
      const url = route.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name]!);
      fastRoutes.set(url, { ...served, params });
    }
  }
  // The POST routes exist: another method on them is 405 naming the one allowed, not "no route".
  for (const { path } of routes.filter((route) => route.method === 'POST')) {
    app.all(expressPath(path), (req, res) => {
      res.setHeader('Allow', 'POST');
      guards.sendError(res, 405, { error: 'method_not_allowed', message: `${req.method} ${req.path} is not served; send POST` });
    });
  }
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(openApi, { customSiteTitle: `${config.name} API` }));

  app.use((req, res) => {
    guards.sendError(res, 404, { error: 'not_found', message: `No route for ${req.method} ${req.path}; see /docs` });
  });
  const errorHandler: ErrorRequestHandler = (error, _req, res, _next) => guards.fail(res, error);
  app.use(errorHandler);
  return { app, guards, fastRoutes };
}

/** The route's path parameters: the table's paths have no wildcards, so each is one string. */
const pathParams = (req: Request) => req.params as Record<string, string>;

/** A GET route under Express: its answer written as JSON (with Express's ETag) or as text of its content type. */
function expressGet(route: GetRoute, guards: RequestGuards): RequestHandler {
  return (req, res, next) => {
    Promise.resolve(route.answer({ showsDetails: guards.showsDetails(res), params: pathParams(req) })).then((answer) => {
      if ('text' in answer) res.type(answer.contentType).send(answer.text);
      else res.status(answer.status ?? 200).json(answer.json);
    }, next);
  };
}
