// features.yaml: the model's inputs, their types and constraints. The one definition of a valid features file:
// the generator checks it at generation time, the service at start-up (and builds its request schema from it,
// requestSchema.ts), and training uses it to pick and order the data's columns.
import { z } from 'zod';

export const FEATURE_TYPES = ['number', 'integer', 'boolean', 'category', 'string'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];

/** A feature (or id/target) name: usable as a JSON key, a CSV column and a Prometheus label. */
export const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a name of letters, digits and underscores, not starting with a digit')
  // Assigning it to an object sets the object's prototype instead of a key: the value would be lost.
  .refine((name) => name !== '__proto__', '"__proto__" cannot be a name: in JavaScript it is not an ordinary key');

const scalar = z.union([z.number(), z.string(), z.boolean()]);

/**
 * observed: the range seen in the training data (written by inference from a CSV). Unlike min/max it is not a
 * limit: requests outside it are scored, counted by ml_input_out_of_range_total and shown in /docs.
 */
export const observedRangeSchema = z
  .strictObject({ min: z.number(), max: z.number() })
  .refine((range) => range.min <= range.max, { message: 'observed.min must not be greater than observed.max', path: ['min'] });

export const featureSchema = z
  .strictObject({
    name: identifier,
    // The data's own column name when it is not a valid feature name (e.g. "mean radius" for mean_radius): the
    // CSV readers (training, npm run predict) find the feature's values under it.
    column: z.string().min(1).optional(),
    type: z.enum(FEATURE_TYPES),
    description: z.string().optional(),
    example: scalar.optional(),
    required: z.boolean().default(true),
    default: scalar.optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    values: z.array(z.string().min(1)).min(1).optional(),
    observed: observedRangeSchema.optional(),
  })
  .superRefine((feature, ctx) => {
    const { type, min, max, values } = feature;
    const numeric = type === 'number' || type === 'integer';
    if (type === 'category' && !values) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: 'a category feature needs its list of values' });
    }
    if (type !== 'category' && values) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: `values are only allowed for category features, not ${type}` });
    }
    if (values && new Set(values).size !== values.length) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: 'category values must be unique' });
    }
    if (!numeric) {
      for (const bound of ['min', 'max', 'observed'] as const) {
        if (feature[bound] !== undefined) {
          ctx.addIssue({ code: 'custom', path: [bound], message: `${bound} is only allowed for number and integer features, not ${type}` });
        }
      }
    }
    if (min !== undefined && max !== undefined && min > max) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: `min (${min}) must not be greater than max (${max})` });
    }
    if (feature.required && feature.default !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: 'a default only makes sense for a feature with required: false' });
    }
    for (const key of ['example', 'default'] as const) {
      const problem = valueProblem(feature, feature[key]);
      if (problem) ctx.addIssue({ code: 'custom', path: [key], message: `${key} ${problem}` });
    }
  });

/**
 * The boolean a data file's cell spells (true/false, yes/no, y/n, any case), else undefined. Inferring features.yaml
 * from a CSV takes a column of these for a boolean. Not 1/0: a column of 0s and 1s is as often a count or a code
 * as a flag, so inference leaves it an integer (a feature declared boolean reads 1/0 too: data/rows.ts).
 */
export function booleanFromText(text: string): boolean | undefined {
  const lower = text.trim().toLowerCase();
  if (lower === 'true' || lower === 'yes' || lower === 'y') return true;
  if (lower === 'false' || lower === 'no' || lower === 'n') return false;
  return undefined;
}

/** Why `value` is not a valid value of `feature`, or undefined when it is (or is absent). */
export function valueProblem(feature: Pick<Feature, 'type' | 'min' | 'max' | 'values'>, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  switch (feature.type) {
    case 'number':
    case 'integer':
      if (typeof value !== 'number' || !Number.isFinite(value)) return `must be a finite number, got ${JSON.stringify(value)}`;
      if (feature.type === 'integer' && !Number.isInteger(value)) return `must be an integer, got ${value}`;
      if (feature.min !== undefined && value < feature.min) return `${value} is below min ${feature.min}`;
      if (feature.max !== undefined && value > feature.max) return `${value} is above max ${feature.max}`;
      return undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `must be true or false, got ${JSON.stringify(value)}`;
    case 'category':
      return typeof value === 'string' && feature.values?.includes(value)
        ? undefined
        : `must be one of ${(feature.values ?? []).map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`;
    case 'string':
      return typeof value === 'string' ? undefined : `must be a string, got ${JSON.stringify(value)}`;
  }
}

export const featuresFileSchema = z
  .strictObject({
    features: z.array(featureSchema).min(1, 'list at least one feature'),
  })
  .superRefine(({ features }, ctx) => {
    const seen = new Map<string, number>();
    features.forEach((feature, index) => {
      const first = seen.get(feature.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['features', index, 'name'],
          message: `duplicate feature name "${feature.name}" (first defined at features[${first}])`,
        });
      } else seen.set(feature.name, index);
    });
    const columns = new Map<string, number>();
    features.forEach((feature, index) => {
      const column = feature.column ?? feature.name;
      const first = columns.get(column);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['features', index, feature.column === undefined ? 'name' : 'column'],
          message: `column "${column}" is already read by features[${first}] (${features[first]!.name})`,
        });
      } else columns.set(column, index);
    });
  });

export type Feature = z.output<typeof featureSchema>;
export type FeaturesFile = z.output<typeof featuresFileSchema>;
