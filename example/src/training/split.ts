// Train/holdout split with a seeded random generator, stratified by class for classification so the
// holdout keeps the class balance (and every class appears in training).
import { seededRandom } from '../model/random.js';

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

export interface Split {
  train: number[];
  holdout: number[];
}

/**
 * Splits row indexes into train and holdout. With `strata` (one key per row, e.g. the class label) each
 * stratum is split in the same proportion; a stratum of one row stays in training.
 */
export function trainHoldoutSplit(rowCount: number, holdoutFraction: number, seed: number, strata?: readonly unknown[]): Split {
  const random = seededRandom(seed);
  const groups = new Map<unknown, number[]>();
  for (let i = 0; i < rowCount; i++) {
    const key = strata ? strata[i] : 'all';
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  }
  const split: Split = { train: [], holdout: [] };
  for (const indexes of groups.values()) {
    shuffle(indexes, random);
    const holdoutCount = Math.min(Math.round(indexes.length * holdoutFraction), indexes.length - 1);
    split.holdout.push(...indexes.slice(0, holdoutCount));
    split.train.push(...indexes.slice(holdoutCount));
  }
  split.train.sort((a, b) => a - b);
  split.holdout.sort((a, b) => a - b);
  return split;
}
