// Per-feature statistics of the training rows, saved in model.json as the reference that live traffic
// can be compared with to detect drift (e.g. the population stability index over the same bins).
import type { FeatureValue, FeatureValues, Feature } from '../contract/index.js';
import { valueCounts } from './preprocessing.js';

/** The quantiles reported for numeric features. */
export const QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;
/** Numeric features are binned at their training deciles: about a tenth of the training rows per bin. */
const BIN_COUNT = 10;
/** Categorical features list at most this many values; the rest are summed into other_share. */
const MAX_FREQUENCIES = 50;

export interface NumericStatistics {
  kind: 'numeric';
  /** Rows with a value. */
  count: number;
  /** Share of rows without a value (before imputation). */
  missing_share: number;
  mean: number;
  /** Population standard deviation. */
  std: number;
  min: number;
  max: number;
  /** e.g. { "p50": 4.35 }: linear interpolation between the closest ranks, as numpy's default. */
  quantiles: Record<string, number>;
  /**
   * A histogram over quantile bins: bin 0 holds values below edges[0], bin i values in
   * [edges[i−1], edges[i]), the last bin values from the last edge up; shares sum to 1.
   */
  bins: { edges: number[]; shares: number[] };
}

export interface CategoricalStatistics {
  kind: 'categorical';
  count: number;
  missing_share: number;
  /** Share of the rows with a value, per value (booleans: "true" and "false"), most frequent first. */
  frequencies: Record<string, number>;
  /** Share of the values beyond the listed ones (string features with many values). */
  other_share: number;
}

export type FeatureStatistics = NumericStatistics | CategoricalStatistics;

const isPresent = (value: FeatureValue | undefined | null): value is FeatureValue => value !== undefined && value !== null;

/** Quantile q of sorted values, interpolating linearly between the closest ranks. */
export function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

/** The bin of `value` for a histogram with these edges (see NumericStatistics.bins). */
export function binIndex(edges: readonly number[], value: number): number {
  let bin = 0;
  while (bin < edges.length && value >= edges[bin]!) bin++;
  return bin;
}

function numericStatistics(values: readonly (FeatureValue | undefined)[]): NumericStatistics {
  const numbers = values
    .filter(isPresent)
    .map(Number)
    .sort((a, b) => a - b);
  const count = numbers.length;
  const missing_share = values.length ? (values.length - count) / values.length : 0;
  if (count === 0)
    return { kind: 'numeric', count, missing_share, mean: 0, std: 0, min: 0, max: 0, quantiles: {}, bins: { edges: [], shares: [] } };
  const mean = numbers.reduce((sum, x) => sum + x, 0) / count;
  const std = Math.sqrt(numbers.reduce((sum, x) => sum + (x - mean) ** 2, 0) / count);
  const quantiles = Object.fromEntries(QUANTILES.map((q) => [`p${Math.round(q * 100)}`, quantile(numbers, q)]));
  // Inner decile edges; repeated values (a feature with few distinct values) collapse into fewer bins.
  const edges = [...new Set(Array.from({ length: BIN_COUNT - 1 }, (_, i) => quantile(numbers, (i + 1) / BIN_COUNT)))].filter(
    (edge) => edge > numbers[0]!,
  );
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const x of numbers) counts[binIndex(edges, x)]!++;
  return {
    kind: 'numeric',
    count,
    missing_share,
    mean,
    std,
    min: numbers[0]!,
    max: numbers[count - 1]!,
    quantiles,
    bins: { edges, shares: counts.map((n) => n / count) },
  };
}

function categoricalStatistics(values: readonly (FeatureValue | undefined)[]): CategoricalStatistics {
  const counts = valueCounts(values);
  const count = counts.reduce((sum, [, n]) => sum + n, 0);
  const listed = counts.slice(0, MAX_FREQUENCIES);
  const listedCount = listed.reduce((sum, [, n]) => sum + n, 0);
  return {
    kind: 'categorical',
    count,
    missing_share: values.length ? (values.length - count) / values.length : 0,
    frequencies: Object.fromEntries(listed.map(([value, n]) => [value, n / count])),
    other_share: count ? (count - listedCount) / count : 0,
  };
}

/** Statistics of every feature over the rows (the training rows, before preprocessing). */
export function referenceStatistics(features: readonly Feature[], rows: readonly FeatureValues[]): Record<string, FeatureStatistics> {
  return Object.fromEntries(
    features.map((feature) => {
      const values = rows.map((row) => row[feature.name]);
      const numeric = feature.type === 'number' || feature.type === 'integer';
      return [feature.name, numeric ? numericStatistics(values) : categoricalStatistics(values)];
    }),
  );
}
