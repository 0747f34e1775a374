// One prediction, as it is logged: which model answered, what came in, how long it took, and the answer itself.
// A request's predictions are queued as they are (LoggedPrediction: a reference to the request's rows and
// answers, a record id and the time), and each sink makes them into what it sends, off the request path and a
// whole batch at a time: JSON lines for stdout and file, record objects for fluentd and mongodb. A line is
// spliced from parts already serialized (the answer the client was sent, the model's identity made once) and is
// exactly JSON.stringify of the record plus a newline (a property test holds the two to it). A prediction's
// own work is small, so the work per record is most of what logging costs (figures: the repo's BENCHMARKS.md).
import { randomUUID } from 'node:crypto';
import { rowAnswerJson } from '../runtime/answerJson.js';
import type { Prediction } from '../runtime/predictor.js';

export interface ModelIdentity {
  uuid: string;
  version: string;
  created_at: string;
}

export interface PredictionRecord {
  /** Unique per record: the key that makes retries idempotent (MongoDB _id, Elasticsearch document id). */
  record_id: string;
  /** ISO 8601, when the prediction was answered. */
  timestamp: string;
  model: ModelIdentity;
  api_version: string;
  /** The validated input features (defaults filled in), without the id field. */
  features: Record<string, unknown>;
  /** Milliseconds from the request's arrival to its answer being computed (the whole request for a batch). */
  latency_ms: number;
  /** Rows in the request this prediction came from: 1 for POST /predict. */
  batch_size: number;
  // Then the row's answer, as the client got it: config.yaml's id_field under its own name (e.g. request_id;
  // crossCheck keeps it off the keys above), prediction and probabilities.
  prediction: string | number;
  probabilities?: Record<string, number>;
  [idField: string]: unknown;
}

/** The predictions of one request, to log. */
export interface PredictionsToLog {
  idField: string;
  /** The features' names in order: each row holds these keys (those with a value), in this order, and no others. */
  featureNames: readonly string[];
  ids: readonly unknown[];
  rows: readonly Record<string, unknown>[];
  results: readonly Prediction[];
  /** Each row's answer as JSON, when the caller already made it (else it is made here): see rowAnswerJson. */
  answers?: readonly string[];
  model: ModelIdentity;
  apiVersion: string;
  latencyMs: number;
}

/** When a request was answered, made once per millisecond: under load many records share one toISOString call. */
export interface LogTime {
  iso: string;
  /** The ISO time as a JSON string. */
  json: string;
}
let clock = { ms: 0, time: { iso: '', json: '""' } as LogTime };
function now(): LogTime {
  const ms = Date.now();
  if (ms !== clock.ms) {
    const iso = new Date(ms).toISOString();
    clock = { ms, time: { iso, json: `"${iso}"` } };
  }
  return clock.time;
}

/**
 * Record ids are unique without costing a random UUID each: a random UUID drawn once per process, its last
 * 48 bits replaced by a counter (so they still read as UUIDs, and 74 random bits keep processes apart).
 */
const recordIdPrefix = randomUUID().slice(0, 24); // hex digits and dashes: nothing in a record id needs escaping in JSON
let recordCount = 0;
const nextRecordId = () => recordIdPrefix + (recordCount++).toString(16).padStart(12, '0');

/** One row of a logged request, as every sink's queue holds it (sinks must never mutate it). */
export interface LoggedPrediction {
  readonly predictions: PredictionsToLog;
  /** Which of the request's rows. */
  readonly row: number;
  readonly recordId: string;
  readonly time: LogTime;
}

/** The rows of one request, each with its record id, all with one time: every sink logs the same. */
export function loggedPredictions(predictions: PredictionsToLog): LoggedPrediction[] {
  const time = now();
  return predictions.results.map((_, row) => ({ predictions, row, recordId: nextRecordId(), time }));
}

const roundLatency = (ms: number) => Math.round(ms * 1000) / 1000;

export function predictionRecord({ predictions: p, row, recordId, time }: LoggedPrediction): PredictionRecord {
  const result = p.results[row]!;
  // The answer's keys are added after the literal, in this order: a computed key or a spread in it is a slow path in V8.
  const record = {
    record_id: recordId,
    timestamp: time.iso,
    model: p.model,
    api_version: p.apiVersion,
    features: p.rows[row]!,
    latency_ms: roundLatency(p.latencyMs),
    batch_size: p.results.length,
  } as PredictionRecord;
  record[p.idField] = p.ids[row];
  record.prediction = result.prediction;
  if (result.probabilities) record.probabilities = result.probabilities;
  return record;
}

/** `"model":{…},"api_version":"…"`, made once per model. */
const modelJsonCache = new WeakMap<ModelIdentity, { apiVersion: string; json: string }>();
function modelJson(model: ModelIdentity, apiVersion: string): string {
  let cached = modelJsonCache.get(model);
  if (cached?.apiVersion !== apiVersion) {
    cached = { apiVersion, json: `"model":${JSON.stringify(model)},"api_version":${JSON.stringify(apiVersion)}` };
    modelJsonCache.set(model, cached);
  }
  return cached.json;
}

/** Each feature's `"name":`, made once per list of names. */
const featureKeysCache = new WeakMap<readonly string[], string[]>();

/**
 * A row's features as JSON.stringify writes them, without its generic walk over the object (paid for every
 * logged row): the keys are known in order. Feature names never start with a digit (the spec's
 * rule), so JSON keeps them in the order they were added, which is featureNames' order.
 */
function featuresJson(featureNames: readonly string[], row: Record<string, unknown>): string {
  let keys = featureKeysCache.get(featureNames);
  if (!keys) {
    keys = featureNames.map((name) => `${JSON.stringify(name)}:`);
    featureKeysCache.set(featureNames, keys);
  }
  let json = '';
  for (let i = 0; i < keys.length; i++) {
    const value = row[featureNames[i]!];
    if (value === undefined) continue; // JSON.stringify leaves such a key out too
    json += (json ? ',' : '{') + keys[i] + (typeof value === 'number' && Number.isFinite(value) ? `${value}` : JSON.stringify(value));
  }
  return json ? `${json}}` : '{}';
}

/** The record as a JSON line: JSON.stringify(predictionRecord(logged)) + '\n', with the answer spliced in. */
export function predictionLine({ predictions: p, row, recordId, time }: LoggedPrediction): string {
  const answer = p.answers?.[row] ?? rowAnswerJson(p.idField, p.ids[row], p.results[row]!);
  // The answer's opening brace gives way to the record's own keys.
  return (
    `{"record_id":"${recordId}","timestamp":${time.json},${modelJson(p.model, p.apiVersion)},` +
    `"features":${featuresJson(p.featureNames, p.rows[row]!)},"latency_ms":${roundLatency(p.latencyMs)},"batch_size":${p.results.length},` +
    `${answer.slice(1)}\n`
  );
}
