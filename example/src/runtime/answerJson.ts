// The answer's JSON, written once per row: the response is made from it, and the JSON-line prediction log
// sinks splice it into their lines (src/predictionLog/record.ts) instead of serializing the answer again.
import type { Prediction } from './predictor.js';

/** A row's answer, as /predict sends it and /predict/batch lists it: {id, prediction, probabilities}. */
export function rowAnswerJson(idField: string, id: unknown, result: Prediction): string {
  const resultJson = JSON.stringify(result);
  // JSON.stringify({ [idField]: id, ...result }) without building that object (a computed key is a slow path in V8).
  return id === undefined ? resultJson : `{${JSON.stringify(idField)}:${JSON.stringify(id)},${resultJson.slice(1)}`;
}
