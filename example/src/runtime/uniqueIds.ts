// Ids the service makes up: for a row sent without one (config.yaml id_field) and for each prediction log record.
// Unique without costing a random UUID each (a batch of 1000 rows would draw 1000): a random UUID drawn once per
// sequence, its last 48 bits replaced by a counter, so they still read as UUIDs and 74 random bits keep processes
// (and the two sequences) apart. A row id's counter lets the feedback store keep it without a map entry.
import { randomUUID } from 'node:crypto';

export class IdSequence {
  private readonly prefix = randomUUID().slice(0, 24); // hex digits and dashes: nothing in an id needs escaping in JSON
  /** How many ids this sequence has made. */
  made = 0;

  /** A new id, UUID-shaped, never made before. */
  next(): string {
    return this.idOf(this.made++);
  }

  /** Ids for `count` rows at once, numbered in row order: their text is made only if something reads it. */
  block(count: number): MadeIds {
    const first = this.made;
    this.made += count;
    return new MadeIds(this, first, count);
  }

  /** The text of the id numbered n. */
  idOf(n: number): string {
    return this.prefix + n.toString(16).padStart(12, '0');
  }

  /** The number of an id this sequence made (0 for its first), else undefined. Read digit by digit: no string made. */
  numberOf(id: unknown): number | undefined {
    if (typeof id !== 'string' || id.length !== 36 || !id.startsWith(this.prefix)) return undefined;
    let n = 0;
    for (let i = 24; i < 36; i++) {
      const code = id.charCodeAt(i);
      // Lower-case hex only: exactly the text next() writes ("ABC" is another id than "abc").
      const digit = code >= 48 && code <= 57 ? code - 48 : code >= 97 && code <= 102 ? code - 87 : -1;
      if (digit < 0) return undefined;
      n = n * 16 + digit;
    }
    return n < this.made ? n : undefined;
  }
}

/**
 * The ids made up for every row of a batch sent without ids (a V2 request without an id input): numbers
 * first … first + count − 1 of their sequence. The feedback store keeps them by number; the text is made when an
 * answer or the prediction log reads `ids`.
 */
export class MadeIds {
  private text: readonly string[] | undefined;

  constructor(
    readonly sequence: IdSequence,
    readonly first: number,
    readonly count: number,
  ) {}

  get ids(): readonly string[] {
    if (!this.text) {
      const ids = new Array<string>(this.count);
      for (let r = 0; r < this.count; r++) ids[r] = this.sequence.idOf(this.first + r);
      this.text = ids;
    }
    return this.text;
  }
}

/** A batch's ids: one per row, or a block made up for all of them. */
export type RowIds = readonly unknown[] | MadeIds;

/** The ids, one per row. */
export const idList = (ids: RowIds): readonly unknown[] => (ids instanceof MadeIds ? ids.ids : ids);

/** The ids of rows sent without one. */
export const rowIds = new IdSequence();
/** The prediction log's record ids (its sinks' idempotency keys). */
export const recordIds = new IdSequence();
