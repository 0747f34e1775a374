// The rows of a request, as they are queued for logging: a request's predictions are queued as they are (a
// reference to the request's rows and answers) with a record id and the time per row, and each sink makes them
// into what it sends (runtime/wireFormat.ts: record objects, JSON lines), off the request path and a whole
// batch at a time.
import { recordIds } from '../runtime/uniqueIds.js';
import type { AnsweredPredictions, LoggedPrediction, LogTime } from '../runtime/wireFormat.js';

/** When a request was answered, made once per millisecond: under load many records share one toISOString call. */
let clock = { ms: 0, time: { iso: '', json: '""' } as LogTime };
function now(): LogTime {
  const ms = Date.now();
  if (ms !== clock.ms) {
    const iso = new Date(ms).toISOString();
    clock = { ms, time: { iso, json: `"${iso}"` } };
  }
  return clock.time;
}

/** The rows of one request, each with its record id, all with one time: every sink logs the same. */
export function loggedPredictions(predictions: AnsweredPredictions): LoggedPrediction[] {
  const time = now();
  const logged = new Array<LoggedPrediction>(predictions.ids.length);
  for (let row = 0; row < logged.length; row++) logged[row] = { predictions, row, recordId: recordIds.next(), time };
  return logged;
}
