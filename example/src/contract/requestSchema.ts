// Builds the request validation from features.yaml at start-up: one zod schema per feature, with the
// constraints, descriptions and examples of the spec. The same schema drives the OpenAPI document.
import { z } from 'zod';
import type { Feature, FeaturesFile } from './features.js';
import type { Config } from './serviceSettings.js';

/** A single feature value after validation: missing optional features stay undefined. */
export type FeatureValue = number | string | boolean;
/** One row of inputs keyed by feature name. */
export type FeatureValues = Record<string, FeatureValue | undefined>;

function featureValueSchema(feature: Feature): z.ZodType {
  let schema: z.ZodType;
  switch (feature.type) {
    case 'number':
    case 'integer': {
      // z.number() already rejects NaN and ±Infinity.
      let number = feature.type === 'integer' ? z.number().int() : z.number();
      if (feature.min !== undefined) number = number.min(feature.min);
      if (feature.max !== undefined) number = number.max(feature.max);
      schema = number;
      break;
    }
    case 'boolean':
      schema = z.boolean();
      break;
    case 'category':
      schema = z.enum(feature.values as [string, ...string[]]);
      break;
    case 'string':
      schema = z.string().max(10_000);
      break;
  }
  const meta: Record<string, unknown> = {};
  const notes = [feature.description?.trim().replace(/\.$/, '')];
  // The range seen in training is shown, never enforced: the model can score values beyond it (monitoring counts them).
  if (feature.observed) {
    const { min, max } = feature.observed;
    notes.push(`Seen in training: ${min} to ${max} (not a limit)`);
    meta['x-observed-range'] = { min, max };
  }
  const description = notes.filter(Boolean).join('. ');
  if (description) meta.description = description;
  if (feature.example !== undefined) meta.examples = [feature.example];
  if (feature.required) return schema.meta(meta);
  // null means missing (clients serializing None/null send it): imputed, or the feature's default. The description
  // sits on the nullable schema, so /docs shows it on the field rather than inside its anyOf.
  const absent = feature.default;
  return schema
    .nullish()
    .meta(meta)
    .transform((value) => value ?? absent);
}

/** The example request body built from the spec's examples (or a valid placeholder per type). */
export function exampleRow(features: readonly Feature[]): Record<string, FeatureValue> {
  const row: Record<string, FeatureValue> = {};
  for (const feature of features) {
    if (feature.example !== undefined) row[feature.name] = feature.example;
    else if (feature.default !== undefined) row[feature.name] = feature.default;
    else if (feature.type === 'category') row[feature.name] = feature.values![0]!;
    else if (feature.type === 'boolean') row[feature.name] = false;
    else if (feature.type === 'string') row[feature.name] = '';
    else row[feature.name] = feature.min ?? 0;
  }
  return row;
}

/** A /predict body for documentation and smoke tests: the id field with `id`, then every feature's example row. */
export function exampleRequest(
  { features, config }: { features: FeaturesFile; config: Pick<Config, 'id_field'> },
  id: string,
): Record<string, FeatureValue> {
  return { [config.id_field]: id, ...exampleRow(features.features) };
}

/**
 * A row's own value for `name`, never one inherited from Object.prototype: a feature or id field may be named
 * constructor or toString, and a row that leaves it out must read undefined, not the inherited function.
 */
export function ownValue<T>(row: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(row, name) ? row[name] : undefined;
}

/** The names (features, id field) that every plain object inherits from Object.prototype, such as constructor. */
export function inheritedNames(names: readonly string[]): string[] {
  return names.filter((name) => name in Object.prototype);
}

/**
 * A parsed request body whose objects (the body and each of its rows) have no prototype, so that zod, which reads
 * each declared key with `value[key]`, finds a left-out "constructor" undefined rather than Object's function.
 * Only needed, and only used, when the spec has such a name (inheritedNames): it costs a little per request.
 */
export function withoutPrototypes(body: unknown): unknown {
  const strip = (value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype)
      Object.setPrototypeOf(value, null);
  };
  strip(body);
  const rows = body !== null && typeof body === 'object' ? ownValue(body as Record<string, unknown>, 'rows') : undefined;
  if (Array.isArray(rows)) rows.forEach(strip);
  return body;
}

/** A caller-chosen request id (config.yaml id_field): what /predict echoes and /feedback joins on. */
export const requestIdSchema = z.union([z.string().min(1).max(200), z.number().int()], {
  error: 'expected a string of 1 to 200 characters or an integer',
});

export interface RequestSchemas {
  /** POST /predict body: the features plus the optional id field. Unknown keys are rejected or stripped (server.unknown_fields). */
  predictRequest: z.ZodType<FeatureValues>;
  /** POST /predict/batch body: { rows: [...] } with at most server.max_batch_rows rows. */
  batchRequest: z.ZodType<{ rows: FeatureValues[] }>;
}

export function buildRequestSchemas(featuresFile: FeaturesFile, config: Config): RequestSchemas {
  const shape: Record<string, z.ZodType> = {
    [config.id_field]: requestIdSchema.optional().meta({
      description: 'Caller-chosen id, echoed in the response and logged with the prediction; generated when absent',
      examples: ['req-0001'],
    }),
  };
  for (const feature of featuresFile.features) shape[feature.name] = featureValueSchema(feature);
  const example = { [config.id_field]: 'req-0001', ...exampleRow(featuresFile.features) };
  // server.unknown_fields: reject answers 422 naming them; strip drops them. Either way they never reach the model.
  const object = config.server.unknown_fields === 'strip' ? z.object : z.strictObject;
  const predictRequest = object(shape).meta({ description: 'One row of model inputs', examples: [example] });
  const batchRequest = object(
    { rows: z.array(predictRequest).min(1).max(config.server.max_batch_rows) },
    // A bare array is the commonest mistake: say what to send instead of "expected object".
    { error: (issue) => (Array.isArray(issue.input) ? 'send the rows as {"rows": [...]}, not a bare array' : undefined) },
  ).meta({ description: `Up to ${config.server.max_batch_rows} rows`, examples: [{ rows: [example] }] });
  // The shape is built from features.yaml, so zod cannot infer the row type statically; every value
  // schema above yields a FeatureValue (or undefined for a missing optional feature).
  return { predictRequest: predictRequest as z.ZodType<FeatureValues>, batchRequest: batchRequest as z.ZodType<{ rows: FeatureValues[] }> };
}
