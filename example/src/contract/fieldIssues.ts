// A body that does not match the request schema, as one entry per failing field (e.g. rows[3].petal_width:
// below min 0): what the API's 422 lists and what `npm run predict` reports per CSV line.
import type { z } from 'zod';
import { fieldPath } from './load.js';

export interface FieldIssue {
  field: string;
  message: string;
}

/** The value at a zod issue path inside the request body (undefined when absent). */
function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (value, key) =>
      value !== null && typeof value === 'object' && Object.hasOwn(value, key) ? (value as Record<PropertyKey, unknown>)[key] : undefined,
    body,
  );
}

/**
 * How many failing fields a 422 lists. The rest are only counted: listed in full, a few KB of empty rows or a body
 * of unknown keys would get an answer hundreds of times its size, and building it would hold up the event loop.
 */
export const MAX_LISTED_ISSUES = 100;

/** The failing fields of a body: the first `limit`, and how many there are in all. */
export interface FieldIssues {
  issues: FieldIssue[];
  count: number;
}

/**
 * Flattens zod issues into one entry per failing field, e.g. rows[3].petal_width: below min 0 (an unknown-keys
 * issue gives one per key). Lists the first `limit` and counts the rest without building them.
 */
export function fieldIssues(error: Pick<z.ZodError, 'issues'>, body: unknown, limit = MAX_LISTED_ISSUES): FieldIssues {
  const issues: FieldIssue[] = [];
  let count = 0;
  for (const issue of error.issues) {
    const field = fieldPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      count += issue.keys.length;
      for (const key of issue.keys.slice(0, Math.max(0, limit - issues.length))) {
        issues.push({ field: field ? `${field}.${key}` : key, message: 'unknown field (not in features.yaml)' });
      }
      continue;
    }
    count += 1;
    if (issues.length >= limit) continue;
    const value = issue.path.length > 0 ? valueAt(body, issue.path) : body;
    const expected = issue.message.replace(/^Invalid (input|option): /, '');
    let message = issue.message;
    // null for a required field is as good as missing (an optional one's null is accepted as absent).
    if (issue.path.length > 0 && value === undefined) message = `required field is missing (${expected})`;
    else if (issue.path.length > 0 && value === null) message = `required field is null (${expected})`;
    issues.push({ field: field || '(body)', message });
  }
  return { issues, count };
}
