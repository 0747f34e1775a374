// Ready building blocks for src/model/preprocessor.ts. Each encoder learns its state from training rows
// (fit), writes its columns into the model's input vector (encode) and serializes to plain JSON, so the
// very same code and state run in training and in serving.
import type { FeatureValue } from '../spec/requestSchema.js';
import type { Feature } from '../spec/schema.js';

/** What to do with a category value the encoder did not see in features.yaml. */
export type UnknownCategory = 'zeros' | 'error';

export type ColumnEncoder =
  /** (x − mean) / std; a missing value is replaced by `fill` (the spec default, else the training mean). */
  | { kind: 'standardize'; feature: string; mean: number; std: number; fill: number }
  /** One column per category; a missing value uses `fill` (spec default, else the most frequent). */
  | { kind: 'one-hot'; feature: string; categories: string[]; fill: string | null; unknown: UnknownCategory }
  /** 1 for true, 0 for false; a missing value becomes `fill` (spec default, else the share of true). */
  | { kind: 'boolean'; feature: string; fill: number };

const isPresent = (value: FeatureValue | undefined | null): value is FeatureValue => value !== undefined && value !== null;

export function fitStandardize(feature: Feature, values: readonly (FeatureValue | undefined)[]): ColumnEncoder {
  const numbers = values.filter(isPresent).map(Number);
  const mean = numbers.length ? numbers.reduce((sum, x) => sum + x, 0) / numbers.length : 0;
  const variance = numbers.length ? numbers.reduce((sum, x) => sum + (x - mean) ** 2, 0) / numbers.length : 0;
  // A constant column keeps std 1 so it encodes to 0 instead of dividing by zero.
  const std = variance > 0 ? Math.sqrt(variance) : 1;
  const fill = typeof feature.default === 'number' ? feature.default : mean;
  return { kind: 'standardize', feature: feature.name, mean, std, fill };
}

export function fitOneHot(
  feature: Feature,
  values: readonly (FeatureValue | undefined)[],
  unknown: UnknownCategory = 'zeros',
): ColumnEncoder {
  const categories = feature.values ?? [...new Set(values.filter(isPresent).map(String))].sort();
  let fill: string | null = typeof feature.default === 'string' ? feature.default : null;
  if (fill === null) {
    const counts = new Map<string, number>();
    for (const value of values) if (isPresent(value)) counts.set(String(value), (counts.get(String(value)) ?? 0) + 1);
    let best = 0;
    for (const [category, count] of counts) if (count > best) [fill, best] = [category, count];
  }
  return { kind: 'one-hot', feature: feature.name, categories, fill, unknown };
}

export function fitBoolean(feature: Feature, values: readonly (FeatureValue | undefined)[]): ColumnEncoder {
  const present = values.filter(isPresent);
  const fill =
    typeof feature.default === 'boolean'
      ? Number(feature.default)
      : present.length
        ? present.filter((v) => v === true).length / present.length
        : 0;
  return { kind: 'boolean', feature: feature.name, fill };
}

/** The default encoder for a feature type; string features have none (they need your own encoding). */
export function fitDefaultEncoder(feature: Feature, values: readonly (FeatureValue | undefined)[]): ColumnEncoder | undefined {
  switch (feature.type) {
    case 'number':
    case 'integer':
      return fitStandardize(feature, values);
    case 'category':
      return fitOneHot(feature, values);
    case 'boolean':
      return fitBoolean(feature, values);
    case 'string':
      return undefined;
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
export function encode(encoder: ColumnEncoder, value: FeatureValue | undefined | null, out: number[] | Float32Array, offset: number): void {
  switch (encoder.kind) {
    case 'standardize':
      out[offset] = ((isPresent(value) ? Number(value) : encoder.fill) - encoder.mean) / encoder.std;
      return;
    case 'boolean':
      out[offset] = isPresent(value) ? (value === true ? 1 : 0) : encoder.fill;
      return;
    case 'one-hot': {
      const category = isPresent(value) ? String(value) : encoder.fill;
      const index = category === null ? -1 : encoder.categories.indexOf(category);
      if (index < 0 && category !== null && encoder.unknown === 'error') {
        throw new Error(`${encoder.feature}: unknown category ${JSON.stringify(category)}`);
      }
      for (let i = 0; i < encoder.categories.length; i++) out[offset + i] = i === index ? 1 : 0;
      return;
    }
  }
}
