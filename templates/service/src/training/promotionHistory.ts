// The promotion history: every change of model_bin/LATEST (a training run that promoted its model, `npm run models
// -- promote`, `-- rollback`) as a JSON line in model_bin/HISTORY, so a rollback knows what was served before.
// LATEST is written first, then HISTORY, each atomically (a temporary file renamed over the old one): a run
// stopped between the two leaves a LATEST the history does not name yet, which latestStack() takes as the
// newest entry, so a rollback still returns to the model served before it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { readLatest, setLatest, writeAtomically } from '../model/artifacts.js';

export const HISTORY_FILE = 'HISTORY';

const promotionEventSchema = z.object({
  /** ISO 8601, when LATEST changed. */
  at: z.string(),
  /** What changed it: a training run, `npm run models -- promote` or `-- rollback`. */
  action: z.enum(['train', 'promote', 'rollback']),
  /** The version LATEST named after the change. */
  version: z.string().min(1),
  /** The version it named before (null: there was no LATEST). */
  previous: z.string().min(1).nullable(),
});
export type PromotionEvent = z.output<typeof promotionEventSchema>;

/** A HISTORY file that cannot be read as promotion records; the message names the file and line. */
export class HistoryError extends Error {
  override name = 'HistoryError';
}

export async function readHistory(storeDir: string): Promise<PromotionEvent[]> {
  const path = join(storeDir, HISTORY_FILE);
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw new HistoryError(`${path}: ${error.message}`);
  });
  const events: PromotionEvent[] = [];
  text.split('\n').forEach((line, index) => {
    if (!line.trim()) return;
    let parsed;
    try {
      parsed = promotionEventSchema.safeParse(JSON.parse(line));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success)
      throw new HistoryError(
        `${path}:${index + 1} is not a promotion record ({"at", "action", "version", "previous"}); fix or delete that line`,
      );
    events.push(parsed.data);
  });
  return events;
}

/**
 * The versions LATEST has named, oldest first, the current one last: promotions push, rollbacks pop. A LATEST the
 * history does not end with (written by hand, or by a run stopped before HISTORY) counts as the newest.
 */
export function latestStack(events: readonly PromotionEvent[], current: string | undefined): string[] {
  const stack: string[] = [];
  for (const event of events) {
    // A LATEST set outside the history before this change was served too.
    if (event.previous !== null && stack.at(-1) !== event.previous) stack.push(event.previous);
    if (event.action === 'rollback') {
      stack.pop();
      if (stack.at(-1) !== event.version) stack.push(event.version);
    } else stack.push(event.version);
  }
  if (current !== undefined && stack.at(-1) !== current) stack.push(current);
  return stack;
}

/** Points LATEST at `version` and appends the change to HISTORY; returns the event written. */
export async function recordPromotion(
  storeDir: string,
  change: { action: PromotionEvent['action']; version: string; at?: Date },
): Promise<PromotionEvent> {
  const previous = (await readLatest(storeDir)) ?? null;
  const event: PromotionEvent = { at: (change.at ?? new Date()).toISOString(), action: change.action, version: change.version, previous };
  await setLatest(storeDir, change.version);
  const path = join(storeDir, HISTORY_FILE);
  const before = await readFile(path, 'utf8').catch(() => '');
  await writeAtomically(path, `${before}${before && !before.endsWith('\n') ? '\n' : ''}${JSON.stringify(event)}\n`);
  return event;
}
