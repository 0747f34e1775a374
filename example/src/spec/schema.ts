// The one definition of the project's contract: features.yaml and config.yaml.
// The generator validates both files with these schemas at generation time, and the generated
// service validates them again at start-up, so both sides always agree on what a valid file is.
import { z } from 'zod';

export const FEATURE_TYPES = ['number', 'integer', 'boolean', 'category', 'string'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];

/** A feature (or id/target) name: usable as a JSON key, a CSV column and a Prometheus label. */
const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a name of letters, digits and underscores, not starting with a digit');

const scalar = z.union([z.number(), z.string(), z.boolean()]);

export const featureSchema = z
  .strictObject({
    name: identifier,
    type: z.enum(FEATURE_TYPES),
    description: z.string().optional(),
    example: scalar.optional(),
    required: z.boolean().default(true),
    default: scalar.optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    values: z.array(z.string().min(1)).min(1).optional(),
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
      for (const bound of ['min', 'max'] as const) {
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
  });

export const TASKS = ['classification', 'regression'] as const;
export type Task = (typeof TASKS)[number];

export const configFileSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lower-case name of letters, digits and dashes (it names the package, image and chart)'),
  version: z.string().regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/, 'expected a semantic version such as 1.0.0'),
  description: z.string().default('A machine learning microservice'),
  task: z.enum(TASKS),
  target: identifier,
  id_field: identifier,
  data: z.strictObject({
    path: z.string().min(1),
  }),
  training: z
    .strictObject({
      seed: z.number().int().default(42),
      holdout_fraction: z.number().gt(0).lt(1).default(0.2),
    })
    .prefault({}),
  server: z
    .strictObject({
      host: z.string().min(1).default('0.0.0.0'),
      port: z.number().int().min(1).max(65535).default(8000),
      body_limit_bytes: z.number().int().positive().default(1_048_576),
      max_batch_rows: z.number().int().positive().default(1000),
    })
    .prefault({}),
});

export type Feature = z.output<typeof featureSchema>;
export type FeaturesFile = z.output<typeof featuresFileSchema>;
export type Config = z.output<typeof configFileSchema>;

/** Checks that need both files: the id field and the target must not collide with a feature. */
export function crossCheck(features: FeaturesFile, config: Config): { file: 'config'; path: (string | number)[]; message: string }[] {
  const names = new Set(features.features.map((feature) => feature.name));
  const problems: { file: 'config'; path: (string | number)[]; message: string }[] = [];
  for (const key of ['target', 'id_field'] as const) {
    if (names.has(config[key])) {
      problems.push({ file: 'config', path: [key], message: `${key} "${config[key]}" is also the name of a feature in features.yaml` });
    }
  }
  if (config.target === config.id_field) {
    problems.push({ file: 'config', path: ['id_field'], message: `id_field and target must differ (both are "${config.target}")` });
  }
  return problems;
}
