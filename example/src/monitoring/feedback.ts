// Ground truth: POST /feedback brings the true label (or value) of an earlier prediction, named by its id
// (config.yaml id_field). It is joined with that prediction — from the recent predictions kept in memory, else
// from the prediction log (MongoDB) — and the outcome goes into a window of the last N joined labels, over
// which the live accuracy (classification) or RMSE and MAE (regression) are kept as running sums.
import { z } from 'zod';
import { type Spec, requestIdSchema, type Task } from '../contract/index.js';
import { rowIds, type IdSequence, type MadeIds } from '../runtime/uniqueIds.js';

export type PredictionValue = string | number;
export type RequestId = string | number;

/** Ids are compared as text, so a label sent for 42 joins the prediction made for "42" and back. */
export const idKey = (id: unknown): string => (typeof id === 'string' ? id : String(id));

/**
 * The last `capacity` predictions by id; the oldest goes first when a new one comes. A ring of slots (key and
 * prediction side by side) with a map from key to slot: adding a prediction makes no object. Ids the service made
 * up (`made`, for rows sent without one) are kept apart, in a ring of their own indexed by the id's number: no map
 * entry and no string kept per row, for the last `capacity` of them.
 */
export class PredictionStore {
  private readonly slots = new Map<string, number>();
  /** Keys in arrival order, as a ring: the oldest is evicted in O(1) (Map.keys().next() slows down after deletes). */
  private readonly keys: (string | undefined)[];
  private readonly predictions: (PredictionValue | undefined)[];
  private next = 0;
  /** Made-up ids: the number of the id in each slot (-1: empty) and its prediction. */
  private readonly madeNumbers: Float64Array;
  private readonly madePredictions: (PredictionValue | undefined)[];
  private madeCount = 0;

  constructor(
    readonly capacity: number,
    private readonly made: IdSequence = rowIds,
  ) {
    this.keys = new Array<string | undefined>(capacity);
    this.predictions = new Array<PredictionValue | undefined>(capacity);
    this.madeNumbers = new Float64Array(capacity).fill(-1);
    this.madePredictions = new Array<PredictionValue | undefined>(capacity);
  }

  add(id: unknown, prediction: PredictionValue): void {
    const n = this.madeNumber(id);
    if (n !== undefined) {
      this.addMadeNumber(n, prediction);
      return;
    }
    const key = idKey(id);
    const slot = this.next;
    const evicted = this.keys[slot];
    // The slot's key is gone unless it was stored again later (a reused id counts as the newest).
    if (evicted !== undefined && this.slots.get(evicted) === slot) this.slots.delete(evicted);
    this.slots.set(key, slot);
    this.keys[slot] = key;
    this.predictions[slot] = prediction;
    this.next = (slot + 1) % this.capacity;
  }

  /** A batch's predictions under the ids made up for its rows: add() for each, without reading an id's text. */
  addMade(ids: MadeIds, predictions: ArrayLike<PredictionValue>): void {
    const { first, count } = ids;
    const newest = this.made.made - this.capacity; // as madeNumber(): older ones are kept by key
    for (let r = 0; r < count; r++) {
      const n = first + r;
      if (ids.sequence !== this.made || n < newest) this.add(ids.ids[r], predictions[r]!);
      else this.addMadeNumber(n, predictions[r]!);
    }
  }

  get(id: unknown): PredictionValue | undefined {
    const n = this.madeNumber(id);
    if (n !== undefined) {
      const slot = n % this.capacity;
      if (this.madeNumbers[slot] === n) return this.madePredictions[slot];
    }
    const slot = this.slots.get(idKey(id));
    return slot === undefined ? undefined : this.predictions[slot];
  }

  private addMadeNumber(n: number, prediction: PredictionValue): void {
    const slot = n % this.capacity;
    if (this.madeNumbers[slot]! < 0) this.madeCount++;
    this.madeNumbers[slot] = n;
    this.madePredictions[slot] = prediction;
  }

  get size(): number {
    return this.slots.size + this.madeCount;
  }

  /**
   * The number of a made-up id among the last `capacity` made, else undefined: an older one (a caller sending back
   * an id it was given) is kept by key, so that it never evicts a newer prediction from the ring.
   */
  private madeNumber(id: unknown): number | undefined {
    const n = this.made.numberOf(id);
    return n !== undefined && n >= this.made.made - this.capacity ? n : undefined;
  }
}

export type LiveMetrics = { labels: number; accuracy: number | null } | { labels: number; rmse: number | null; mae: number | null };

/** The last `size` joined labels: per label 1/0 (correct or not) or the error, with running sums over them. */
export class FeedbackWindow {
  private readonly outcomes: Float64Array;
  private readonly ids: (string | undefined)[];
  /** Ids in the window, so a second label for the same prediction is refused instead of counted twice. */
  private readonly labelled = new Set<string>();
  private head = 0;
  private count = 0;
  private sum = 0; // correct answers, or the sum of errors' absolute values
  private sumOfSquares = 0; // regression: the sum of squared errors

  constructor(
    readonly size: number,
    private readonly task: Task,
  ) {
    this.outcomes = new Float64Array(size);
    this.ids = new Array<string | undefined>(size);
  }

  has(id: unknown): boolean {
    return this.labelled.has(idKey(id));
  }

  /** Adds a joined label: `outcome` is 1 or 0 (classification) or truth − prediction (regression). */
  add(id: unknown, outcome: number): void {
    if (this.count === this.size) {
      const old = this.outcomes[this.head]!;
      this.sum -= Math.abs(old);
      this.sumOfSquares -= old * old;
      this.labelled.delete(this.ids[this.head]!);
    } else this.count++;
    const key = idKey(id);
    this.outcomes[this.head] = outcome;
    this.ids[this.head] = key;
    this.labelled.add(key);
    this.sum += Math.abs(outcome);
    this.sumOfSquares += outcome * outcome;
    this.head = (this.head + 1) % this.size;
    // Adding and subtracting floats drifts: start the sums afresh once per trip round the ring.
    if (this.head === 0) this.resum();
  }

  private resum(): void {
    this.sum = 0;
    this.sumOfSquares = 0;
    for (let i = 0; i < this.count; i++) {
      this.sum += Math.abs(this.outcomes[i]!);
      this.sumOfSquares += this.outcomes[i]! ** 2;
    }
  }

  get labels(): number {
    return this.count;
  }

  metrics(): LiveMetrics {
    const n = this.count;
    if (this.task === 'classification') return { labels: n, accuracy: n ? this.sum / n : null };
    return { labels: n, rmse: n ? Math.sqrt(this.sumOfSquares / n) : null, mae: n ? this.sum / n : null };
  }
}

/** 1 or 0 for a class, truth − prediction for a value. */
export function outcomeOf(task: Task, truth: PredictionValue, prediction: PredictionValue): number {
  return task === 'classification' ? (truth === prediction ? 1 : 0) : Number(truth) - Number(prediction);
}

export type FeedbackRow = Record<string, RequestId | PredictionValue>;

export interface FeedbackSchemas {
  feedbackRequest: z.ZodType<FeedbackRow>;
  feedbackBatchRequest: z.ZodType<{ rows: FeedbackRow[] }>;
}

/**
 * The bodies of POST /feedback and /feedback/batch: the id field and the target column, as in the training data.
 * A class must be one of the served model's classes (known once it is loaded; `classes` returns them).
 */
export function buildFeedbackSchemas(spec: Spec, classes: () => readonly string[] | undefined = () => undefined): FeedbackSchemas {
  const { config } = spec;
  const target =
    config.task === 'classification'
      ? z
          .string()
          .min(1)
          .superRefine((value, ctx) => {
            const known = classes();
            if (known && !known.includes(value)) {
              ctx.addIssue({
                code: 'custom',
                message: `must be one of the model's classes ${known.map((name) => JSON.stringify(name)).join(', ')}, got ${JSON.stringify(value)}`,
              });
            }
          })
          .meta({ description: `The true class of the prediction with this id`, examples: ['setosa'] })
      : z.number().meta({ description: `The true ${config.target} of the prediction with this id (a finite number)`, examples: [1.5] });
  const row = z
    .strictObject({
      [config.id_field]: requestIdSchema.meta({ description: 'The id the prediction was made (or answered) with', examples: ['req-0001'] }),
      [config.target]: target,
    })
    .meta({ description: 'The ground truth of one earlier prediction' });
  const batch = z
    .strictObject({ rows: z.array(row).min(1).max(config.server.max_batch_rows) })
    .meta({ description: `Up to ${config.server.max_batch_rows} labels` });
  // Built from config.yaml, so zod cannot infer the row type statically.
  return { feedbackRequest: row as z.ZodType<FeedbackRow>, feedbackBatchRequest: batch as z.ZodType<{ rows: FeedbackRow[] }> };
}

/** What became of one label. */
export type FeedbackStatus = 'joined' | 'unknown_id' | 'already_labelled' | 'lookup_failed';

export interface FeedbackResult {
  status: FeedbackStatus;
  id: RequestId;
  prediction?: PredictionValue;
  /** Where the prediction was found. */
  source?: 'memory' | 'prediction_log';
  /** Classification: whether the prediction was right. */
  correct?: boolean;
  /** Regression: truth − prediction. */
  error?: number;
}
