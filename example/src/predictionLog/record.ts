// One prediction, as it is logged: which model answered, what came in, how long it took, and the answer itself.
// Sinks that store objects (fluentd, mongodb) get it as a PredictionRecord; sinks that write JSON lines (stdout,
// file) get it as text, spliced from parts already serialized: the answer the client was sent and the model's
// identity, made once. predictionLines(p)[i] is exactly JSON.stringify(predictionRecords(p)[i]) + '\n' (a
// property test holds the two to it), for a fraction of the cost: under load a prediction costs 40–50 µs
// in all, and printing every record afresh cost about a tenth of that.
import { randomUUID } from 'node:crypto';
import type { Prediction } from '../serving/predictor.js';

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
  ids: readonly unknown[];
  rows: readonly Record<string, unknown>[];
  results: readonly Prediction[];
  /** Each row's answer as JSON, when the caller already made it (else it is made here): see rowAnswerJson. */
  answers?: readonly string[];
  model: ModelIdentity;
  apiVersion: string;
  latencyMs: number;
}

/** What the log adds to the predictions of one request: a record id per row, and the time. */
export interface LogStamp {
  recordIds: readonly string[];
  timestamp: string;
  /** The timestamp as a JSON string. */
  timestampJson: string;
}

/** A row's answer, as /predict sends it and /predict/batch lists it: {id, prediction, probabilities}. */
export function rowAnswerJson(idField: string, id: unknown, result: Prediction): string {
  const resultJson = JSON.stringify(result);
  // JSON.stringify({ [idField]: id, ...result }) without building that object (a computed key is a slow path in V8).
  return id === undefined ? resultJson : `{${JSON.stringify(idField)}:${JSON.stringify(id)},${resultJson.slice(1)}`;
}

/** The ISO 8601 time and its JSON, made once per millisecond: under load many records share them (toISOString costs ~1 µs). */
let clock = { ms: 0, iso: '', json: '""' };
function now(): typeof clock {
  const ms = Date.now();
  if (ms !== clock.ms) {
    const iso = new Date(ms).toISOString();
    clock = { ms, iso, json: `"${iso}"` };
  }
  return clock;
}

/**
 * Record ids are unique without costing a random UUID each: a random UUID drawn once per process, its last
 * 48 bits replaced by a counter (so they still read as UUIDs, and 74 random bits keep processes apart).
 */
const recordIdPrefix = randomUUID().slice(0, 24);
let recordCount = 0;
const nextRecordId = () => recordIdPrefix + (recordCount++).toString(16).padStart(12, '0');

/** Stamps the predictions of one request once: every sink then logs the same record ids and time. */
export function stamp(predictions: PredictionsToLog): LogStamp {
  const { iso, json } = now();
  return { recordIds: predictions.results.map(nextRecordId), timestamp: iso, timestampJson: json };
}

const roundLatency = (ms: number) => Math.round(ms * 1000) / 1000;

/** One record per row. */
export function predictionRecords(p: PredictionsToLog, { recordIds, timestamp }: LogStamp): PredictionRecord[] {
  const latency_ms = roundLatency(p.latencyMs);
  return p.results.map((result, i) => {
    // The answer's keys are added after the literal, in this order: a computed key or a spread in it is a slow path in V8.
    const record = {
      record_id: recordIds[i]!,
      timestamp,
      model: p.model,
      api_version: p.apiVersion,
      features: p.rows[i]!,
      latency_ms,
      batch_size: p.results.length,
    } as PredictionRecord;
    record[p.idField] = p.ids[i];
    record.prediction = result.prediction;
    if (result.probabilities) record.probabilities = result.probabilities;
    return record;
  });
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

/** One JSON line per row: the text of predictionRecords(p), newline-terminated, with the answers spliced in. */
export function predictionLines(p: PredictionsToLog, { recordIds, timestampJson }: LogStamp): string[] {
  const { idField, ids, rows, results, answers } = p;
  const head = `,"timestamp":${timestampJson},${modelJson(p.model, p.apiVersion)},"features":`;
  const tail = `,"latency_ms":${roundLatency(p.latencyMs)},"batch_size":${results.length},`;
  return results.map((result, i) => {
    const answer = answers?.[i] ?? rowAnswerJson(idField, ids[i], result);
    // The answer's opening brace gives way to the record's own keys.
    return `{"record_id":${JSON.stringify(recordIds[i])}${head}${JSON.stringify(rows[i])}${tail}${answer.slice(1)}\n`;
  });
}
