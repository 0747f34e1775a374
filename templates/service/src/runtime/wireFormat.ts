// The one door for the JSON the service writes about a prediction: the answers of POST /predict and
// /predict/batch, and the prediction log's records (objects for fluentd and mongodb, JSON lines for stdout and
// file). A row's answer is serialized once; the request's answer and each log line are spliced from it and from
// parts made once per model, never serialized again. Every spliced text is exactly JSON.stringify of the object
// it stands for (the property tests in test/runtime/wireFormat.test.ts hold them to it). A prediction's own work is
// small, so the work per record is most of what logging costs (figures: the generator repository's BENCHMARKS.md).
import type { ModelIdentity } from '../model/modelIdentity.js';
import { classIndexAt } from '../model/modelTypes.js';
import type { ModelOutputs, Prediction } from './predictor.js';

/** The predictions of one answered request: what its answer and its log records are written from. */
export interface AnsweredPredictions {
  idField: string;
  /** The features' names in order: rows are read by these names only. */
  featureNames: readonly string[];
  /** One per row: how many rows were answered. */
  ids: readonly unknown[];
  /** The validated rows, read by feature name (a batch's rows are the request's own and may hold the id field too). */
  rows: readonly Record<string, unknown>[];
  results: readonly Prediction[];
  /** Each row's answer as JSON, when already made (else it is made here): see rowAnswerJson. */
  answers?: readonly string[];
  model: ModelIdentity;
  apiVersion: string;
  /** Milliseconds from the request's arrival to its answer being computed (a shadow's: its own run). */
  latencyMs: number;
  /** The shadow model's predictions of the same rows (src/monitoring/shadow.ts); absent: the live model's answer. */
  role?: 'shadow';
}

/** A row's answer, as /predict sends it and /predict/batch lists it: {id, prediction, probabilities}. */
export function rowAnswerJson(idField: string, id: unknown, result: Prediction): string {
  const resultJson = JSON.stringify(result);
  // JSON.stringify({ [idField]: id, ...result }) without building that object (a computed key is a slow path in V8).
  return id === undefined ? resultJson : `{${JSON.stringify(idField)}:${JSON.stringify(id)},${resultJson.slice(1)}`;
}

/** A number as JSON.stringify writes it (null for NaN and ±Infinity, as a model's output could hold). */
export const numberJson = (value: number) => (Number.isFinite(value) ? `${value}` : 'null');

/** The parts of a classification answer made once per list of classes. */
interface ClassParts {
  /** Per class: `"prediction":"<class>","probabilities":{`. */
  heads: string[];
  /** The probabilities' keys (`"<class>":`) in the order JSON.stringify writes an object built class by class, with their class index. */
  keys: { json: string; index: number }[];
}
const classPartsCache = new WeakMap<readonly string[], ClassParts>();
function classParts(classes: readonly string[]): ClassParts {
  let parts = classPartsCache.get(classes);
  if (!parts) {
    // An object's integer-like keys ("0", "1") come first in JSON, ascending: take the order from such an object.
    const byName: Record<string, number> = {};
    classes.forEach((name, c) => (byName[name] = c));
    parts = {
      heads: classes.map((name) => `"prediction":${JSON.stringify(name)},"probabilities":{`),
      keys: Object.keys(byName).map((name) => ({ json: `${JSON.stringify(name)}:`, index: byName[name]! })),
    };
    classPartsCache.set(classes, parts);
  }
  return parts;
}

/**
 * Row r's answer from a model's outputs, rowAnswerJson's text. Made by concatenation: V8 joins the pieces as a
 * rope and copies them once, when the answer is written out (about half the time of collecting them in an array).
 */
function outputRowWriter(idField: string, ids: readonly unknown[], { scores }: ModelOutputs, classes: readonly string[] | undefined) {
  const idKey = `{${JSON.stringify(idField)}:`;
  const parts = classes && classParts(classes);
  const width = classes ? classes.length : 1;
  return (r: number): string => {
    const id = ids[r];
    const head = id === undefined ? '{' : idKey + JSON.stringify(id) + ',';
    if (!parts) return head + '"prediction":' + numberJson(scores[r]!) + '}';
    const start = r * width;
    let json = head + parts.heads[classIndexAt(scores, start, width)]!;
    for (let k = 0; k < parts.keys.length; k++) {
      const key = parts.keys[k]!;
      json += (k ? ',' : '') + key.json + numberJson(scores[start + key.index]!);
    }
    return json + '}}';
  };
}

/**
 * Each row's answer written from the model's outputs: exactly rowAnswerJson(idField, ids[r], prediction) of the
 * Prediction that predictionsOf (predictor.ts) would make for row r, without making it. `classes`: the model's,
 * for classification; undefined for regression.
 */
export function outputAnswersJson(
  idField: string,
  ids: readonly unknown[],
  outputs: ModelOutputs,
  classes: readonly string[] | undefined,
): string[] {
  const row = outputRowWriter(idField, ids, outputs, classes);
  return Array.from({ length: outputs.rows }, (_, r) => row(r));
}

/**
 * An answer's JSON, whole or in pieces written one after the other. A long answer goes in pieces: a string of more
 * than 128 KiB lives in V8's large-object space, and making one (flattening the pieces into it, then encoding it
 * for the socket) costs more than writing the answer (about 1.5 ms of 1000 rows of /predict/batch: BENCHMARKS.md).
 */
export type JsonText = string | readonly string[];

/** The text of a JsonText, in one string. */
export const jsonText = (json: JsonText): string => (typeof json === 'string' ? json : json.join(''));

/** Rows of a batch answer per piece: about 15 KB each (a row with three classes' probabilities is about 150 bytes). */
const ROWS_PER_PIECE = 100;

/**
 * POST /predict/batch's answer written from the model's outputs: batchAnswerJson(outputAnswersJson(…), …) in
 * pieces (JsonText), without an array of rows' answers kept for the length of the request.
 */
export function outputBatchAnswerJson(
  idField: string,
  ids: readonly unknown[],
  outputs: ModelOutputs,
  classes: readonly string[] | undefined,
  model: ModelIdentity,
  apiVersion: string,
): string[] {
  const row = outputRowWriter(idField, ids, outputs, classes);
  const pieces: string[] = [];
  let json = '{"predictions":[';
  for (let r = 0; r < outputs.rows; r++) {
    json += (r ? ',' : '') + row(r);
    if (r % ROWS_PER_PIECE === ROWS_PER_PIECE - 1) {
      pieces.push(json);
      json = '';
    }
  }
  pieces.push(json + '],' + modelJson(model, apiVersion) + '}');
  return pieces;
}

/** `"model":{…},"api_version":"…"`, made once per model: the end of every answer and part of every log line. */
const modelJsonCache = new WeakMap<ModelIdentity, { apiVersion: string; json: string }>();
function modelJson(model: ModelIdentity, apiVersion: string): string {
  let cached = modelJsonCache.get(model);
  if (cached?.apiVersion !== apiVersion) {
    cached = { apiVersion, json: `"model":${JSON.stringify(model)},"api_version":${JSON.stringify(apiVersion)}` };
    modelJsonCache.set(model, cached);
  }
  return cached.json;
}

/** POST /predict's answer: {id, ...result, model, api_version}, from the row's answer (rowAnswerJson). */
export function predictAnswerJson(rowAnswer: string, model: ModelIdentity, apiVersion: string): string {
  // The row's closing brace gives way to the model's keys.
  return `${rowAnswer.slice(0, -1)},${modelJson(model, apiVersion)}}`;
}

/** POST /predict/batch's answer: {predictions: [{id, ...result}, …], model, api_version}, from the rows' answers. */
export function batchAnswerJson(rowAnswers: readonly string[], model: ModelIdentity, apiVersion: string): string {
  return `{"predictions":[${rowAnswers.join(',')}],${modelJson(model, apiVersion)}}`;
}

/** One logged prediction, as the fluentd and mongodb sinks send it and the JSON-line sinks write it. */
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
  /** "shadow": the shadow model's prediction of the same row, never sent to the client; absent on the live model's records. */
  role?: 'shadow';
  // Then the row's answer, as the client got it: config.yaml's id_field under its own name (e.g. request_id;
  // crossCheck keeps it off the keys above), prediction and probabilities.
  prediction: string | number;
  probabilities?: Record<string, number>;
  [idField: string]: unknown;
}

/** When a request was answered. */
export interface LogTime {
  iso: string;
  /** The ISO time as a JSON string. */
  json: string;
}

/** One row of a logged request, as every sink's queue holds it (sinks must never mutate it). */
export interface LoggedPrediction {
  readonly predictions: AnsweredPredictions;
  /** Which of the request's rows. */
  readonly row: number;
  /** Hex digits and dashes only (nothing in it needs escaping in JSON). */
  readonly recordId: string;
  readonly time: LogTime;
}

const roundLatency = (ms: number) => Math.round(ms * 1000) / 1000;

/** A row's features alone, every feature a key in order (undefined when missing): a batch's rows may hold the id field. */
function featuresOf(featureNames: readonly string[], row: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const features: Record<string, unknown> = {};
  for (const name of featureNames) features[name] = row[name];
  return features;
}

export function predictionRecord({ predictions: p, row, recordId, time }: LoggedPrediction): PredictionRecord {
  const result = p.results[row]!;
  // The answer's keys are added after the literal, in this order: a computed key or a spread in it is a slow path in V8.
  const record = {
    record_id: recordId,
    timestamp: time.iso,
    model: p.model,
    api_version: p.apiVersion,
    features: featuresOf(p.featureNames, p.rows[row]!),
    latency_ms: roundLatency(p.latencyMs),
    batch_size: p.ids.length,
  } as PredictionRecord;
  if (p.role) record.role = p.role;
  record[p.idField] = p.ids[row];
  record.prediction = result.prediction;
  if (result.probabilities) record.probabilities = result.probabilities;
  return record;
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

/** The record as a JSON line: JSON.stringify(predictionRecord(logged)) + '\n', with the row's answer spliced in. */
export function predictionLine({ predictions: p, row, recordId, time }: LoggedPrediction): string {
  const answer = p.answers?.[row] ?? rowAnswerJson(p.idField, p.ids[row], p.results[row]!);
  // The answer's opening brace gives way to the record's own keys.
  return (
    `{"record_id":"${recordId}","timestamp":${time.json},${modelJson(p.model, p.apiVersion)},` +
    `"features":${featuresJson(p.featureNames, p.rows[row]!)},"latency_ms":${roundLatency(p.latencyMs)},"batch_size":${p.ids.length},` +
    `${p.role ? `"role":"${p.role}",` : ''}${answer.slice(1)}\n`
  );
}
