// The JSON POST routes on plain node:http requests: content type (415), body within the byte limit (413),
// JSON (400), the zod schema built once from features.yaml (422 with every failing field), the model (503 until
// it is loaded), then the answer and, after it is sent, the prediction log. The server's fast path calls it
// for POST /predict and /predict/batch before Express's router; Express mounts the very same handler, so
// both ways answer byte for byte alike.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Monitoring } from '../monitoring/index.js';
import type { PredictionLog } from '../predictionLog/index.js';
import type { Explanations, RowExplainer } from '../runtime/explanations.js';
import { Predictions, type PredictionAnswer } from '../runtime/predictions.js';
import {
  FeatureTable,
  fieldIssues,
  type Spec,
  inheritedNames,
  ownValue,
  withoutPrototypes,
  type AcceptedBatch,
  type FeatureValues,
  type RequestSchemas,
} from '../contract/index.js';
import type { Predictor } from '../runtime/predictor.js';
import { rowIds } from '../runtime/uniqueIds.js';
import type { JsonText } from '../runtime/wireFormat.js';
import { parseJsonBody } from './jsonBody.js';
import { exchangeOf, type Exchange, type JsonError, type RequestGuards } from './requestGuards.js';

/** Filled in once the model is loaded and warmed up; until then /ready and /predict answer 503. */
export interface ModelState {
  predictor?: Predictor;
  /** Why the model could not be loaded (config.yaml server.on_model_error: not_ready keeps serving with /ready at 503). */
  loadError?: string;
}

/** The 422 answer for a body (or query) that does not match its schema: the first MAX_LISTED_ISSUES failing fields and their count. */
export function validationFailed(error: z.ZodError, body: unknown, what = 'request body'): JsonError {
  const { issues, count } = fieldIssues(error, body);
  const listed = count > issues.length ? ` (the first ${issues.length} are listed)` : '';
  return {
    error: 'validation_failed',
    message: `The ${what} is invalid: ${count} problem${count === 1 ? '' : 's'}${listed}`,
    issues,
    issue_count: count,
  };
}

/** What a route answers: a status and the JSON text; `afterSend` runs once it is sent (never delaying it). */
export interface JsonAnswer {
  status: number;
  json: JsonText;
  afterSend?: () => void;
}

/** A route's query parameters, each a string or absent, as its `query` schema validated them. */
export type QueryValues = Readonly<Record<string, string | undefined>>;

/** A JSON POST route: the schema its body must match, and how it answers a valid body once the model is loaded. */
export interface JsonRoute<T> {
  readonly schema: z.ZodType<T>;
  /** Readies the parsed JSON for the schema (see withoutPrototypes), when the route needs it. */
  readonly prepare?: (body: unknown) => unknown;
  /** The query parameters the route takes (a bad value is a 422 like the body's); others are ignored. */
  readonly query?: z.ZodObject<Record<string, z.ZodType<string | undefined>>>;
  /** The status of a body that does not match the schema: 422 (default), or 400 where a protocol says so (V2). */
  readonly invalidStatus?: number;
  /** Refuses the request before its body is read, e.g. 404 for a model the URL names that is not served here. */
  readonly refuse?: (exchange: Exchange) => { status: number; error: JsonError } | undefined;
  /**
   * A quicker check that accepts a valid body (returning what the schema would) without running the schema, or
   * returns undefined: then the schema decides, and words the 422. It must never accept what the schema refuses.
   */
  readonly accept?: (body: unknown) => T | undefined;
  answer(body: T, predictor: Predictor, exchange: Exchange, query: QueryValues): Promise<JsonAnswer>;
  /** How the route answers while no model is loaded (POST /admin/reload); absent: 503 not_ready. */
  answerWithoutModel?(body: T, exchange: Exchange): Promise<JsonAnswer>;
}

/** The URL's query parameters (the last of a repeated one); undefined when it has no query string. */
function queryOf(url: string | undefined): Record<string, string> | undefined {
  const start = url?.indexOf('?') ?? -1;
  return start < 0 ? undefined : Object.fromEntries(new URLSearchParams(url!.slice(start + 1)));
}

const NO_QUERY: QueryValues = Object.freeze({});

/** application/json, with no charset or UTF-8 (JSON's only charset in practice, RFC 8259). */
function isUtf8Json(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const semicolon = contentType.indexOf(';');
  const media = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  if (media !== 'application/json') return false;
  if (semicolon < 0) return true;
  const charset = /(?:^|;)\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType.slice(semicolon));
  return !charset || /^utf-?8$/i.test(charset[1]!);
}

export class JsonRouteHandler {
  private readonly limit: number;

  constructor(
    private readonly guards: RequestGuards,
    private readonly model: ModelState,
    config: Spec['config'],
  ) {
    this.limit = config.server.body_limit_bytes;
  }

  /** Serves one request on the route; every outcome, including an unexpected error, is a JSON answer. */
  serve<T>(route: JsonRoute<T>, req: IncomingMessage, res: ServerResponse): void {
    const { guards } = this;
    const refused = route.refuse?.(exchangeOf(res)!);
    if (refused) {
      guards.sendError(res, refused.status, refused.error);
      return;
    }
    // No query string (the usual request): nothing to parse.
    const given = route.query && queryOf(req.url);
    let query = NO_QUERY;
    if (given) {
      const parsed = route.query!.safeParse(given);
      if (!parsed.success) {
        guards.sendError(res, 422, validationFailed(parsed.error, given, 'query string'));
        return;
      }
      query = parsed.data;
    }
    const encoding = req.headers['content-encoding'];
    if (!isUtf8Json(req.headers['content-type']) || (encoding !== undefined && encoding !== 'identity')) {
      guards.sendError(res, 415, { error: 'unsupported_media_type', message: 'Send the body as application/json (UTF-8, not compressed)' });
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.limit) {
      this.answerTooLarge(res); // node:http discards the unread body once the answer is sent
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > this.limit) return;
      size += chunk.length;
      if (size > this.limit) this.answerTooLarge(res);
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > this.limit) return;
      try {
        this.answer(route, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), res, query);
      } catch (error) {
        this.guards.fail(res, error); // a bug in validation must cost this request, never the process
      }
    });
    req.on('error', () => {}); // the client went away: there is no one to answer
  }

  private answerTooLarge(res: ServerResponse): void {
    this.guards.sendError(res, 413, { error: 'payload_too_large', message: `The body is larger than ${this.limit} bytes` });
  }

  private answer<T>(route: JsonRoute<T>, bytes: Buffer, res: ServerResponse, query: QueryValues): void {
    const { guards } = this;
    let body: unknown;
    try {
      body = parseJsonBody(bytes);
    } catch (error) {
      const message =
        bytes.length === 0 ? 'The body is empty; send a JSON object' : `The body is not valid JSON: ${(error as Error).message}`;
      guards.sendError(res, 400, { error: 'malformed_json', message });
      return;
    }
    const prepared = route.prepare ? route.prepare(body) : body;
    let valid = route.accept?.(prepared);
    if (valid === undefined) {
      const parsed = route.schema.safeParse(prepared);
      if (!parsed.success) {
        guards.sendError(res, route.invalidStatus ?? 422, validationFailed(parsed.error, body));
        return;
      }
      valid = parsed.data;
    }
    const predictor = this.model.predictor;
    const exchange = exchangeOf(res)!;
    if (!predictor && route.answerWithoutModel) {
      this.send(res, route.answerWithoutModel(valid, exchange));
      return;
    }
    if (!predictor) {
      const message = this.model.loadError
        ? 'The model could not be loaded; GET /ready says why'
        : 'The model is still loading; retry shortly';
      guards.sendError(res, 503, { error: 'not_ready', message });
      return;
    }
    this.send(res, route.answer(valid, predictor, exchange, query));
  }

  private send(res: ServerResponse, answering: Promise<JsonAnswer>): void {
    const { guards } = this;
    answering
      .then((answer) => {
        if (guards.send(res, answer.status, answer.json)) answer.afterSend?.();
      })
      .catch((error: unknown) => guards.fail(res, error));
  }
}

/** ?explain=true on the prediction routes: each row's answer gets its explanation (src/runtime/explanations.ts). */
export const explainQuery = z.object({
  explain: z
    .enum(['true', 'false'], { error: 'explain must be true or false' })
    .optional()
    .meta({
      description:
        "true: each row's answer adds `explanation`, every feature's contribution to the prediction (base + Σ contributions = output); " +
        '400 explanation_unavailable for a model the service cannot explain',
    }),
});

/**
 * The runtime every prediction route answers through (/predict, /predict/batch, the V2 infer routes), with
 * monitoring and the prediction log subscribed to its prediction events.
 */
export function servedPredictions({
  spec,
  monitoring,
  predictionLog,
  onError,
}: {
  spec: Spec;
  monitoring: Monitoring;
  predictionLog: PredictionLog;
  onError: (error: unknown, requestId: string) => void;
}): Predictions {
  const { config } = spec;
  const featureNames = spec.features.features.map((feature) => feature.name);
  const predictions = new Predictions({ idField: config.id_field, featureNames, apiVersion: config.version, onError });
  predictions.subscribe({
    modelCall: (call) => monitoring.recordModelCall(call),
    prediction: (event) => monitoring.recordPredictions(event),
  });
  predictions.subscribe({ prediction: (event) => predictionLog.log(event) });
  return predictions;
}

export interface PredictionRouteOptions {
  spec: Spec;
  schemas: RequestSchemas;
  predictions: Predictions;
  /** The served models' explainers, shared with the V2 infer routes (loaded on the first request that asks). */
  explanations: Explanations;
}

/**
 * POST /predict and POST /predict/batch: the body's rows and ids to the runtime, which runs the model and writes
 * the answer; once it is sent, the runtime publishes the request's prediction event to monitoring and the
 * prediction log (never awaited, never failing the request).
 */
export function predictionRoutes({ spec, schemas, predictions, explanations }: PredictionRouteOptions) {
  const { config } = spec;
  const idField = config.id_field;
  const featureNames = spec.features.features.map((feature) => feature.name);
  // A feature or id field named like an Object.prototype member (constructor, toString): the body's objects lose
  // their prototype before validation, and every read below is of own properties only.
  const prepare = inheritedNames([...featureNames, idField]).length ? withoutPrototypes : undefined;
  /**
   * The row without the id field: a plain loop, as object rest with a computed key is a slow path in V8. Every
   * feature is an own key (undefined when left out), so later reads by name never reach Object.prototype.
   */
  const featuresOf = (row: FeatureValues) => {
    const features: FeatureValues = {};
    for (const name of featureNames) features[name] = ownValue(row, name);
    return features;
  };
  const idOf = (row: FeatureValues) => ownValue(row, idField) ?? rowIds.next();
  /** ?explain=true: the served model's explainer, or the 400 saying why it has none. */
  const explainerFor = async (
    predictor: Predictor,
    query: QueryValues,
  ): Promise<{ explainer?: RowExplainer } | { refused: JsonAnswer }> => {
    if (query.explain !== 'true') return {};
    const found = await explanations.explainerFor(predictor);
    if ('unavailable' in found)
      return { refused: { status: 400, json: JSON.stringify({ error: 'explanation_unavailable', message: found.unavailable }) } };
    return { explainer: found };
  };
  const answered = async (answer: Promise<PredictionAnswer>): Promise<JsonAnswer> => {
    const { json, publish } = await answer;
    return { status: 200, json, afterSend: publish };
  };

  const predict: JsonRoute<FeatureValues> = {
    schema: schemas.predictRequest,
    prepare,
    query: explainQuery,
    answer: async (body, predictor, { requestId, startedAt }, query) => {
      const explained = await explainerFor(predictor, query);
      if ('refused' in explained) return explained.refused;
      return answered(
        predictions.predict({
          predictor,
          rows: [featuresOf(body)],
          ids: [idOf(body)],
          batch: false,
          route: '/predict',
          requestId,
          startedAt,
          ...explained,
        }),
      );
    },
  };

  /**
   * For a spec with a name inherited from Object.prototype: every feature an own key of its row (undefined when
   * left out) and no prototype, so that reading it by name (here, in a worker thread after structured cloning, in
   * monitoring) never reaches Object.prototype's member.
   */
  const ownFeatures = (rows: FeatureValues[]) => {
    for (const row of rows) {
      for (const name of featureNames) if (!Object.hasOwn(row, name)) row[name] = undefined;
      if (Object.getPrototypeOf(row) !== null) Object.setPrototypeOf(row, null);
    }
  };

  // The batch's rows go to the runtime as JSON.parse made them (validated by columns, defaults filled in place),
  // read a feature at a time by the model's input and monitoring: no row is copied.
  const predictBatch: JsonRoute<AcceptedBatch> = {
    schema: schemas.batchRequest,
    prepare,
    accept: schemas.acceptBatch,
    query: explainQuery,
    answer: async ({ rows, columns }, predictor, { requestId, startedAt }, query) => {
      const explained = await explainerFor(predictor, query);
      if ('refused' in explained) return explained.refused;
      const route = '/predict/batch';
      // Explained: the rows as the explainer reads them (features only), through predict().
      if (explained.explainer) {
        const { explainer } = explained;
        return answered(
          predictions.predict({
            predictor,
            rows: rows.map(featuresOf),
            ids: rows.map(idOf),
            batch: true,
            route,
            requestId,
            startedAt,
            explainer,
          }),
        );
      }
      if (prepare) ownFeatures(rows);
      const ids = new Array<unknown>(rows.length);
      for (let r = 0; r < rows.length; r++) ids[r] = rows[r]![idField] ?? rowIds.next();
      const table = FeatureTable.fromRows(featureNames, rows, columns);
      return answered(predictions.predictBatch({ predictor, table, ids, route, requestId, startedAt }));
    },
  };

  return { '/predict': predict, '/predict/batch': predictBatch };
}
