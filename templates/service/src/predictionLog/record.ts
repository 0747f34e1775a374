// One prediction, as it is logged to every sink: what came in, what went out, which model answered and how
// long it took. The same object goes to every sink's queue, so sinks must never mutate it.
import { randomUUID } from 'node:crypto';

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
  prediction: string | number;
  probabilities?: Record<string, number>;
  /** Milliseconds from the request's arrival to its answer being computed (the whole request for a batch). */
  latency_ms: number;
  /** Rows in the request this prediction came from: 1 for POST /predict. */
  batch_size: number;
  /** config.yaml's id_field, under its own name (e.g. request_id); crossCheck keeps it off the keys above. */
  [idField: string]: unknown;
}

export interface PredictionsToLog {
  idField: string;
  ids: readonly unknown[];
  rows: readonly Record<string, unknown>[];
  results: readonly { prediction: string | number; probabilities?: Record<string, number> }[];
  model: ModelIdentity;
  apiVersion: string;
  latencyMs: number;
}

/** The ISO 8601 time, made once per millisecond: under load many records share one (toISOString costs ~1 µs). */
let clock = { ms: 0, iso: '' };
function isoNow(): string {
  const ms = Date.now();
  if (ms !== clock.ms) clock = { ms, iso: new Date(ms).toISOString() };
  return clock.iso;
}

/** One record per row of a request. */
export function predictionRecords({ idField, ids, rows, results, model, apiVersion, latencyMs }: PredictionsToLog): PredictionRecord[] {
  const timestamp = isoNow();
  const latency_ms = Math.round(latencyMs * 1000) / 1000;
  return results.map((result, i) => ({
    record_id: randomUUID(),
    timestamp,
    [idField]: ids[i],
    model,
    api_version: apiVersion,
    features: rows[i]!,
    prediction: result.prediction,
    ...(result.probabilities ? { probabilities: result.probabilities } : {}),
    latency_ms,
    batch_size: results.length,
  }));
}
