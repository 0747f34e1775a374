// Ready building blocks for src/model/preprocessor.ts. Each encoder learns its state from training rows
// (fit), writes its columns into the model's input vector (encode) and serializes to plain JSON, so the
// very same code and state run in training and in serving.
//
// Missing values: a feature with a `default` in features.yaml is always filled with it (the API fills
// the same default into requests, so training and serving agree); any other missing optional value is
// filled as the encoder's `impute` option says, with a statistic learned from the training rows.
import type { FeatureColumns, FeatureValue, Feature } from '../contract/index.js';

/** Fill for a missing number: the training mean or median, or a constant. */
export type NumericImputation = 'mean' | 'median' | { constant: number };
/** Fill for a missing category or string: the most frequent training value, or a constant. */
export type CategoryImputation = 'most_frequent' | { constant: string };
/** Fill for a missing boolean: the share of true in training (a number between 0 and 1), the most frequent value, or a constant. */
export type BooleanImputation = 'share' | 'most_frequent' | { constant: boolean };
/** What encoding a value the encoder did not learn does: all-zero columns, or a 422 naming the value. */
export type UnknownCategory = 'zeros' | 'error';

export interface NumericOptions {
  /** 'standard': (x − mean) / std of the training rows (linear models need it); 'none': the value as is (enough for trees). Default 'standard'. */
  scaling?: 'standard' | 'none';
  impute?: NumericImputation;
}

export interface OneHotOptions {
  /** A value outside the learned categories: 'zeros' (default) or 'error'. */
  unknown?: UnknownCategory;
  impute?: CategoryImputation;
  /**
   * For string features (category features use their `values` from features.yaml): keep the most
   * frequent training values, at most this many. Default 20.
   */
  maxCategories?: number;
}

export interface BooleanOptions {
  impute?: BooleanImputation;
}

export type ColumnEncoder =
  /** (x − offset) / scale; a missing value is replaced by `fill` first. */
  | { kind: 'numeric'; feature: string; offset: number; scale: number; fill: number }
  /** One column per category; a missing value uses `fill` (null: all zeros). */
  | { kind: 'one-hot'; feature: string; categories: string[]; fill: string | null; unknown: UnknownCategory }
  /** 1 for true, 0 for false; a missing value becomes `fill`. */
  | { kind: 'boolean'; feature: string; fill: number };

/** A value that a one-hot encoder with unknown: 'error' did not learn; the API answers it with 422. */
export class UnknownCategoryError extends Error {
  override name = 'UnknownCategoryError';
  /** The HTTP status the API answers with (a bad value in the request, not a server fault). */
  readonly status = 422;
}

const isPresent = (value: FeatureValue | undefined | null): value is FeatureValue => value !== undefined && value !== null;

function median(sorted: readonly number[]): number {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Present values with their counts, most frequent first (ties: alphabetical), so the order is reproducible. */
export function valueCounts(values: readonly (FeatureValue | undefined)[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const value of values) if (isPresent(value)) counts.set(String(value), (counts.get(String(value)) ?? 0) + 1);
  return [...counts].sort(([a, countA], [b, countB]) => countB - countA || (a < b ? -1 : a > b ? 1 : 0));
}

export function fitNumeric(feature: Feature, values: readonly (FeatureValue | undefined)[], options: NumericOptions = {}): ColumnEncoder {
  const { scaling = 'standard', impute = 'mean' } = options;
  const numbers = values.filter(isPresent).map(Number);
  const mean = numbers.length ? numbers.reduce((sum, x) => sum + x, 0) / numbers.length : 0;
  let fill: number;
  if (typeof feature.default === 'number') fill = feature.default;
  else if (typeof impute === 'object') fill = impute.constant;
  else if (impute === 'median') fill = numbers.length ? median([...numbers].sort((a, b) => a - b)) : 0;
  else fill = mean;
  if (scaling === 'none') return { kind: 'numeric', feature: feature.name, offset: 0, scale: 1, fill };
  const variance = numbers.length ? numbers.reduce((sum, x) => sum + (x - mean) ** 2, 0) / numbers.length : 0;
  // A constant column keeps scale 1 so it encodes to 0 instead of dividing by zero.
  return { kind: 'numeric', feature: feature.name, offset: mean, scale: variance > 0 ? Math.sqrt(variance) : 1, fill };
}

export function fitOneHot(feature: Feature, values: readonly (FeatureValue | undefined)[], options: OneHotOptions = {}): ColumnEncoder {
  const { unknown = 'zeros', impute = 'most_frequent', maxCategories = 20 } = options;
  const counts = valueCounts(values);
  const categories = feature.values ?? counts.slice(0, maxCategories).map(([value]) => value);
  let fill: string | null;
  if (typeof feature.default === 'string') fill = feature.default;
  else if (typeof impute === 'object') fill = impute.constant;
  else fill = counts[0]?.[0] ?? null;
  return { kind: 'one-hot', feature: feature.name, categories, fill, unknown };
}

export function fitBoolean(feature: Feature, values: readonly (FeatureValue | undefined)[], options: BooleanOptions = {}): ColumnEncoder {
  const { impute = 'share' } = options;
  const present = values.filter(isPresent);
  const share = present.length ? present.filter((v) => v === true).length / present.length : 0;
  let fill: number;
  if (typeof feature.default === 'boolean') fill = Number(feature.default);
  else if (typeof impute === 'object') fill = Number(impute.constant);
  else if (impute === 'most_frequent') fill = share > 0.5 ? 1 : 0;
  else fill = share;
  return { kind: 'boolean', feature: feature.name, fill };
}

export interface DefaultEncoderOptions {
  numeric?: NumericOptions;
  category?: OneHotOptions;
  boolean?: BooleanOptions;
  /** String features are left out unless given options: then one-hot over their most frequent values. */
  string?: OneHotOptions;
}

/** The encoder for a feature by its type; undefined for a string feature without `string` options. */
export function fitDefaultEncoder(
  feature: Feature,
  values: readonly (FeatureValue | undefined)[],
  options: DefaultEncoderOptions = {},
): ColumnEncoder | undefined {
  switch (feature.type) {
    case 'number':
    case 'integer':
      return fitNumeric(feature, values, options.numeric);
    case 'category':
      return fitOneHot(feature, values, options.category);
    case 'boolean':
      return fitBoolean(feature, values, options.boolean);
    case 'string':
      return options.string ? fitOneHot(feature, values, options.string) : undefined;
  }
}

export function encoderWidth(encoder: ColumnEncoder): number {
  return encoder.kind === 'one-hot' ? encoder.categories.length : 1;
}

/** Names of the columns an encoder produces, e.g. color=red, color=blue. */
export function encoderColumns(encoder: ColumnEncoder): string[] {
  return encoder.kind === 'one-hot' ? encoder.categories.map((c) => `${encoder.feature}=${c}`) : [encoder.feature];
}

/** Writes the encoder's columns for one value into `out` starting at `offset`. */
export function encode(
  encoder: ColumnEncoder,
  value: FeatureValue | undefined | null,
  out: number[] | Float32Array | Float64Array,
  offset: number,
): void {
  switch (encoder.kind) {
    case 'numeric':
      out[offset] = ((isPresent(value) ? Number(value) : encoder.fill) - encoder.offset) / encoder.scale;
      return;
    case 'boolean':
      out[offset] = isPresent(value) ? (value === true ? 1 : 0) : encoder.fill;
      return;
    case 'one-hot': {
      const category = isPresent(value) ? String(value) : encoder.fill;
      const index = category === null ? -1 : encoder.categories.indexOf(category);
      if (index < 0 && category !== null && encoder.unknown === 'error') {
        throw new UnknownCategoryError(
          `${encoder.feature}: unknown value ${JSON.stringify(category)}; the model knows ${encoder.categories.map((c) => JSON.stringify(c)).join(', ')}`,
        );
      }
      for (let i = 0; i < encoder.categories.length; i++) out[offset + i] = i === index ? 1 : 0;
      return;
    }
  }
}

/** Encodes rows with a list of encoders: one number[] per row, the encoders' columns side by side. */
export function encodeRows(encoders: readonly ColumnEncoder[], rows: readonly Record<string, FeatureValue | undefined>[]): number[][] {
  const width = encoders.reduce((sum, encoder) => sum + encoderWidth(encoder), 0);
  return rows.map((row) => {
    const out = new Array<number>(width);
    let offset = 0;
    for (const encoder of encoders) {
      encode(encoder, row[encoder.feature], out, offset);
      offset += encoderWidth(encoder);
    }
    return out;
  });
}

/**
 * Encodes a batch, read by column, straight into the model's input tensor: row r's columns at out[r * width …],
 * the same numbers as encodeRows and encode (a Float32Array rounds them as assigning encodeRows' numbers to it
 * would), with no array per row.
 */
export function encodeColumnsInto(encoders: readonly ColumnEncoder[], batch: FeatureColumns, out: Float32Array | Float64Array): void {
  const widths = encoders.map(encoderWidth);
  const width = widths.reduce((sum, w) => sum + w, 0);
  const { rowCount } = batch;
  throwFirstUnknownCategory(encoders, batch);
  let offset = 0;
  for (let e = 0; e < encoders.length; e++) {
    const encoder = encoders[e]!;
    const values = batch.column(encoder.feature);
    if (encoder.kind === 'numeric') {
      // A number's arithmetic inline, without a call per value.
      const { fill, scale } = encoder;
      const shift = encoder.offset;
      for (let r = 0, at = offset; r < rowCount; r++, at += width) {
        const value = values[r];
        out[at] = ((value === undefined || value === null ? fill : Number(value)) - shift) / scale;
      }
    } else for (let r = 0, at = offset; r < rowCount; r++, at += width) encode(encoder, values[r], out, at);
    offset += widths[e]!;
  }
}

/** A value a one-hot encoder with unknown: 'error' did not learn: the first in row order is the one encodeRows reports. */
function throwFirstUnknownCategory(encoders: readonly ColumnEncoder[], batch: FeatureColumns): void {
  let first: { row: number; encoder: ColumnEncoder; value: FeatureValue } | undefined;
  for (const encoder of encoders) {
    if (encoder.kind !== 'one-hot' || encoder.unknown !== 'error') continue;
    const values = batch.column(encoder.feature);
    const rows = first ? first.row : batch.rowCount;
    for (let r = 0; r < rows; r++) {
      const value = values[r];
      if (isPresent(value) && !encoder.categories.includes(String(value))) {
        first = { row: r, encoder, value };
        break;
      }
    }
  }
  if (first) encode(first.encoder, first.value, new Float64Array(encoderWidth(first.encoder)), 0);
}

/**
 * The fixed encoding a model trained elsewhere takes when it comes without a preprocessor.json: the
 * features in features.yaml order, numbers as they are, booleans as 1/0, each category one-hot over its
 * `values` in features.yaml order. A missing optional feature takes its features.yaml default, so every
 * optional feature needs one; string features cannot be encoded without a preprocessor.
 */
export function rawFeatureEncoders(features: readonly Feature[]): { encoders: ColumnEncoder[]; problems: string[] } {
  const problems: string[] = [];
  const encoders = features.flatMap((feature): ColumnEncoder[] => {
    if (!feature.required && feature.default === undefined) {
      problems.push(
        `feature ${feature.name} is optional without a default: give it a default in features.yaml, or ship a preprocessor.json`,
      );
    }
    switch (feature.type) {
      case 'number':
      case 'integer':
        return [
          { kind: 'numeric', feature: feature.name, offset: 0, scale: 1, fill: typeof feature.default === 'number' ? feature.default : 0 },
        ];
      case 'boolean':
        return [{ kind: 'boolean', feature: feature.name, fill: feature.default === true ? 1 : 0 }];
      case 'category':
        return [
          {
            kind: 'one-hot',
            feature: feature.name,
            categories: feature.values ?? [],
            fill: typeof feature.default === 'string' ? feature.default : null,
            unknown: 'error',
          },
        ];
      case 'string':
        problems.push(`feature ${feature.name} is a string, which a model without a preprocessor.json cannot take`);
        return [];
    }
  });
  return { encoders, problems };
}
