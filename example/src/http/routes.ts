// The route table: every route of the API declared once, with what it takes (the request body's zod schema), what it
// answers (a zod schema per status), who may call it and what answers it. The table drives the three things that used
// to list the routes each on their own: the Express routes (app.ts), the fast path's exact-URL map (app.ts; the
// routes marked fastPath) and the OpenAPI document (openapi.ts). A new route is one entry here. Paths are written as
// OpenAPI writes them, a parameter as {name}; Express gets them as :name (expressPath).
import type { z } from 'zod';
import { exampleRequest, type Spec } from '../contract/index.js';
import type { Monitoring, PredictionLookup } from '../monitoring/index.js';
import type { FeedbackResult, FeedbackRow } from '../monitoring/feedback.js';
import type { PredictionLog, PredictionLogStats } from '../predictionLog/index.js';
import type { AnswerSchemas } from './answerSchemas.js';
import { modelIdentity } from '../model/modelIdentity.js';
import { DASHBOARD_PATHS, dashboardFiles } from './dashboard/dashboardFiles.js';
import type { ModelLifecycle } from '../runtime/modelLifecycle.js';
import { modelReloadBody } from './modelRoutes.js';
import type { JsonAnswer, JsonRoute, ModelState } from './predictionHandler.js';

/** A route's answers by status: what each means and the shape of its body (JSON, unless the route answers text). */
export type RouteResponses = Record<number, { description: string; schema?: z.ZodType }>;

/** How a route appears in the OpenAPI document. */
export interface RouteDocs {
  operationId: string;
  summary: string;
  description?: string;
  tag: 'Predictions' | 'Open Inference Protocol V2' | 'Health' | 'Monitoring' | 'Models';
}

/** The route's path parameters ({name} in its path): what each is, and an example value for the document. */
export type RouteParameters = Record<string, { description: string; example?: string }>;

interface RouteBase {
  path: string;
  parameters?: RouteParameters;
  /** The schema of the route's error answers, those of the guards included; default: the service's Error. */
  errorSchema?: z.ZodType;
  /** Absent: served but not listed in the OpenAPI document (the document itself, the dashboard's files). */
  docs?: RouteDocs;
  responses: RouteResponses;
  /**
   * The route changes or reveals the live model metrics: with API keys it needs one whatever
   * server.auth.public_paths says. A route neither alwaysKeyed nor alwaysPublic is public exactly when public_paths
   * covers it.
   */
  alwaysKeyed?: boolean;
  /** The route serves a file that holds no data (the dashboard's): never needs a key, whatever public_paths says. */
  alwaysPublic?: boolean;
  /**
   * The route changes the service (POST /admin/reload): as alwaysKeyed with API keys; without keys, served to loopback
   * callers only (or to none), as server.hot_reload.admin_without_keys says.
   */
  admin?: boolean;
}

/** A GET route's answer: JSON with a status (200 by default), or text of a content type. */
export type GetAnswer = { status?: number; json: unknown } | { text: string; contentType: string };

export interface GetRoute extends RouteBase {
  method: 'GET';
  /**
   * `showsDetails`: the caller may see internal details (RequestGuards.showsDetails); `params`: the path's
   * parameters. The app writes the answer.
   */
  answer(caller: { showsDetails: boolean; params: Readonly<Record<string, string | undefined>> }): GetAnswer | Promise<GetAnswer>;
}

/** A POST route with a JSON body, served by JsonRouteHandler: 415, 413, 400, 422 and 503 come from there. */
export interface PostRoute extends RouteBase {
  method: 'POST';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each route's body type is its own
  body: JsonRoute<any>;
  /** The request body's example in the document. */
  example?: unknown;
  /**
   * Served by the fast path (config.yaml server.fast_path) before Express's router, by exact URL. A path with
   * parameters is served there for the one value of each given here (other values go to Express).
   */
  fastPath: boolean | { params: Record<string, string> };
}

export type Route = GetRoute | PostRoute;

export interface RouteTableOptions {
  spec: Spec;
  model: ModelState;
  answers: AnswerSchemas;
  /** POST /predict and /predict/batch (predictionRoutes in predictionHandler.ts). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each route's body type is its own
  predictions: { '/predict': JsonRoute<any>; '/predict/batch': JsonRoute<any> };
  /** The Open Inference Protocol's routes (openInference/routes.ts), listed after /predict/batch. */
  openInference: readonly Route[];
  monitoring: Monitoring;
  predictionLog: PredictionLog;
  predictionLookup?: PredictionLookup;
  /** The live and shadow models, for POST /admin/reload; absent: that route answers 409. */
  models?: ModelLifecycle;
  /** The OpenAPI document, made from this table. */
  document: () => unknown;
}

export function routeTable({
  spec,
  model,
  answers,
  predictions,
  openInference,
  monitoring,
  predictionLog,
  predictionLookup,
  models,
  document,
}: RouteTableOptions): Route[] {
  const { config } = spec;
  const { id_field: idField, target } = config;
  const example = exampleRequest(spec, 'req-0001');
  const feedback = monitoring.feedbackSchemas;
  const feedbackAnswers = new FeedbackAnswers(spec, monitoring, predictionLookup);
  const explanationUnavailable = {
    description: 'Malformed JSON (malformed_json), or explain=true for a model the service cannot explain (explanation_unavailable)',
    schema: answers.Error,
  };
  const dashboard = dashboardFiles();

  return [
    {
      method: 'POST',
      path: '/predict',
      docs: { operationId: 'predict', summary: 'Predict one row', tag: 'Predictions' },
      body: predictions['/predict'],
      example,
      fastPath: true,
      responses: { 200: { description: 'The prediction', schema: answers.PredictResponse }, 400: explanationUnavailable },
    },
    {
      method: 'POST',
      path: '/predict/batch',
      docs: { operationId: 'predictBatch', summary: `Predict up to ${config.server.max_batch_rows} rows`, tag: 'Predictions' },
      body: predictions['/predict/batch'],
      example: { rows: [example] },
      fastPath: true,
      responses: {
        200: { description: 'One prediction per row, in order', schema: answers.BatchPredictResponse },
        400: explanationUnavailable,
      },
    },
    ...openInference,
    {
      method: 'POST',
      path: '/feedback',
      docs: {
        operationId: 'feedback',
        summary: `The true ${target} of an earlier prediction, by ${idField}`,
        description:
          'Joins the label with the prediction made under this id (kept in memory, or found in the MongoDB prediction log) ' +
          'and adds it to the live accuracy / error window shown at GET /monitoring.',
        tag: 'Monitoring',
      },
      alwaysKeyed: true,
      body: {
        schema: feedback.feedbackRequest,
        answer: async (row: FeedbackRow, predictor) => feedbackAnswers.one(await monitoring.feedback(predictor, [row])),
      } satisfies JsonRoute<FeedbackRow>,
      fastPath: false,
      responses: {
        200: {
          description: 'Joined: the prediction, whether it was right (or its error), and the live metrics',
          schema: answers.FeedbackResponse,
        },
        404: { description: `No recent prediction has this ${idField}`, schema: answers.FeedbackError },
        409: { description: 'This prediction already has a label', schema: answers.FeedbackError },
        503: {
          description: 'The model is not loaded yet, the prediction log cannot be read (lookup_failed), or no answer in time',
          schema: answers.FeedbackError,
        },
      },
    },
    {
      method: 'POST',
      path: '/feedback/batch',
      docs: {
        operationId: 'feedbackBatch',
        summary: `Up to ${config.server.max_batch_rows} labels of earlier predictions`,
        description: 'One result per label, in order (status joined, unknown_id, already_labelled or lookup_failed); 404 when none joined.',
        tag: 'Monitoring',
      },
      alwaysKeyed: true,
      body: {
        schema: feedback.feedbackBatchRequest,
        answer: async ({ rows }: { rows: FeedbackRow[] }, predictor) => feedbackAnswers.batch(await monitoring.feedback(predictor, rows)),
      } satisfies JsonRoute<{ rows: FeedbackRow[] }>,
      fastPath: false,
      responses: {
        200: {
          description: 'At least one label joined: counts, a result per label, the live metrics',
          schema: answers.FeedbackBatchResponse,
        },
        404: { description: 'No label joined a prediction (the body lists each result)', schema: answers.FeedbackBatchError },
      },
    },
    {
      method: 'GET',
      path: '/monitoring',
      docs: { operationId: 'monitoring', summary: 'Data drift per feature and live accuracy, with their thresholds', tag: 'Monitoring' },
      alwaysKeyed: true,
      responses: { 200: { description: 'The served model, the drift report and the live metrics', schema: answers.MonitoringReport } },
      answer: () => ({ json: monitoring.report() }),
    },
    {
      method: 'GET',
      path: '/metrics',
      docs: { operationId: 'metrics', summary: 'Prometheus metrics (text exposition format)', tag: 'Monitoring' },
      responses: { 200: { description: 'Metrics' } },
      answer: async () => ({ text: await monitoring.metricsText(), contentType: monitoring.metricsContentType }),
    },
    {
      method: 'POST',
      path: '/admin/reload',
      docs: {
        operationId: 'reloadModel',
        summary: 'Serve another model (or shadow one) without a restart',
        description:
          'Loads the version named (else the one config.yaml server.model_version or model_bin/LATEST names), checks it against ' +
          'features.yaml and config.yaml, warms it up and swaps it in: requests in flight finish on the old model, which is then ' +
          'released. A version that fails is refused and the current model keeps serving. `shadow_version` does the same for ' +
          'the shadow model (null: none). With API keys it needs one; without, it is served to loopback callers only.',
        tag: 'Models',
      },
      alwaysKeyed: true,
      admin: true,
      body: modelReloadBody(models),
      example: { version: '20250101T120000Z-1a2b3c4d' },
      fastPath: false,
      responses: {
        200: { description: 'Each role swapped, unchanged or stopped; `model` names what serves now', schema: answers.ModelReload },
        403: { description: 'Without API keys: not from loopback, or server.hot_reload.admin_without_keys is off', schema: answers.Error },
        404: { description: 'No such version in model_bin/ (error unknown_version)', schema: answers.ModelReloadRefused },
        409: { description: 'The app has no model lifecycle (built without one)', schema: answers.Error },
        422: {
          description:
            'The version cannot be loaded or does not fit features.yaml / config.yaml (error model_refused): the current model keeps serving',
          schema: answers.ModelReloadRefused,
        },
      },
    },
    {
      method: 'GET',
      path: '/health',
      docs: { operationId: 'health', summary: 'Liveness: the process is up', tag: 'Health' },
      responses: { 200: { description: 'Alive', schema: answers.Health } },
      answer: () => ({ json: { status: 'ok' } }),
    },
    {
      method: 'GET',
      path: '/ready',
      docs: { operationId: 'ready', summary: 'Readiness: the model is loaded and warmed up', tag: 'Health' },
      responses: {
        200: { description: 'Ready to serve predictions', schema: answers.Ready },
        503: {
          description: 'Still loading the model (status loading), or it failed to load (status model_error, message says why)',
          schema: answers.NotReady,
        },
      },
      answer({ showsDetails: details }) {
        // Sink errors and the model's load error can name hosts, ports and paths: only for callers with a key.
        const prediction_log = details ? predictionLog.stats() : withoutErrors(predictionLog.stats());
        if (model.predictor) return { json: { status: 'ready', model: modelIdentity(model.predictor), prediction_log } };
        if (model.loadError) {
          const message = details
            ? model.loadError
            : 'The model could not be loaded; the service log, or GET /ready with an API key, says why';
          return { status: 503, json: { status: 'model_error', message, prediction_log } };
        }
        return { status: 503, json: { status: 'loading', prediction_log } };
      },
    },
    {
      method: 'GET',
      path: DASHBOARD_PATHS.page,
      alwaysPublic: true,
      responses: { 200: { description: 'The live dashboard (HTML): it asks for the API key and reads the routes above with it' } },
      answer: () => dashboard.page,
    },
    {
      method: 'GET',
      path: DASHBOARD_PATHS.script,
      alwaysPublic: true,
      responses: { 200: { description: "The dashboard's script" } },
      answer: () => dashboard.script,
    },
    {
      method: 'GET',
      path: DASHBOARD_PATHS.style,
      alwaysPublic: true,
      responses: { 200: { description: "The dashboard's style sheet" } },
      answer: () => dashboard.style,
    },
    {
      method: 'GET',
      path: '/openapi.json',
      responses: { 200: { description: 'This OpenAPI document' } },
      answer: () => ({ json: document() }),
    },
  ];
}

/** A route's path as Express writes it (:name for {name}): its pattern, and the label of its request metrics. */
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

/** The prediction log's counts without the sinks' last errors, for anonymous callers of GET /ready. */
function withoutErrors({ sinks }: PredictionLogStats): PredictionLogStats {
  return {
    sinks: Object.fromEntries(Object.entries(sinks).map(([sink, { last_error: _, ...counts }]) => [sink, counts])),
  };
}

/** The HTTP answers to feedback outcomes (monitoring only says what became of each label). */
class FeedbackAnswers {
  private readonly idField: string;

  constructor(
    private readonly spec: Spec,
    private readonly monitoring: Monitoring,
    private readonly predictionLookup: PredictionLookup | undefined,
  ) {
    this.idField = spec.config.id_field;
  }

  /** POST /feedback: 200 joined, 404 unknown id, 409 already labelled, 503 prediction log unreachable. */
  one([result]: FeedbackResult[]): JsonAnswer {
    const { status, id, ...rest } = result!;
    const { idField } = this;
    const named = { [idField]: id };
    switch (status) {
      case 'joined':
        return json(200, { ...named, status, ...rest, live: this.monitoring.liveReport().metrics });
      case 'already_labelled':
        return json(409, { error: status, message: `The prediction ${idField}=${JSON.stringify(id)} already has a label`, ...named });
      case 'lookup_failed':
        return json(503, {
          error: status,
          message: `The prediction log (${this.predictionLookup?.description}) cannot be read; retry shortly`,
          ...named,
        });
      case 'unknown_id':
        return json(404, { error: status, message: this.unknownMessage(id), ...named });
    }
  }

  /** POST /feedback/batch: a result per row, in order; 200 when at least one label joined, else 404. */
  batch(results: FeedbackResult[]): JsonAnswer {
    const counts = { joined: 0, unknown_id: 0, already_labelled: 0, lookup_failed: 0 };
    for (const { status } of results) counts[status]++;
    const body = { ...counts, results: results.map(({ id, ...rest }) => ({ [this.idField]: id, ...rest })) };
    if (counts.joined > 0) return json(200, { ...body, live: this.monitoring.liveReport().metrics });
    return json(404, {
      error: 'no_match',
      message: `None of the ${results.length} labels joined a prediction; see results for each`,
      ...body,
    });
  }

  private unknownMessage(id: FeedbackResult['id']): string {
    const { id_field: idField, monitoring } = this.spec.config;
    const lookup = this.predictionLookup;
    return (
      `No prediction of the served model has ${idField}=${JSON.stringify(id)}: the service keeps the last ${monitoring.prediction_store_size} ` +
      `predictions in memory${lookup ? ` and looked in the prediction log (${lookup.description})` : ' (turn on the mongodb prediction log sink to look further back)'}`
    );
  }
}

function json(status: number, body: unknown): JsonAnswer {
  return { status, json: JSON.stringify(body) };
}
