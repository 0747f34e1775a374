// Builds the request validation from features.yaml at start-up: one zod schema per feature, with the
// constraints, descriptions and examples of the spec. The same schema drives the OpenAPI document.
import { z } from 'zod';
import type { Feature, FeaturesFile } from './features.js';
import type { Config } from './serviceSettings.js';

/** A single feature value after validation: missing optional features stay undefined. */
export type FeatureValue = number | string | boolean;
/** One row of inputs keyed by feature name. */
export type FeatureValues = Record<string, FeatureValue | undefined>;

/**
 * One feature's values in row order (undefined where a row has none): a column of a batch. A column of numbers
 * without a missing one is a Float64Array, so that the loops reading every value (the preprocessor, drift) always
 * meet numbers held the same way, which V8 reads several times faster than a mix of array kinds.
 */
export type FeatureColumn = ArrayLike<FeatureValue | undefined>;

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
  /** The batch body's check by columns (see batchColumnCheck): accepts what batchRequest accepts, without zod. */
  acceptBatch: (body: unknown) => AcceptedBatch | undefined;
  /** The same rules for a batch by column (V2 tensors): see columnsCheck. */
  acceptColumns: (columns: ReadonlyMap<string, ArrayLike<unknown>>, rowCount: number) => Map<string, FeatureColumn> | undefined;
}

/** Whether a present value passes the feature's checks in the request schema (featureValueSchema). */
function featureValueCheck(feature: Feature): (value: unknown) => boolean {
  switch (feature.type) {
    case 'number':
    case 'integer': {
      const rule = numberRule(feature)!;
      return (value) => typeof value === 'number' && numberValid(value, rule);
    }
    case 'boolean':
      return (value) => typeof value === 'boolean';
    case 'category': {
      const values = new Set(feature.values);
      return (value) => typeof value === 'string' && values.has(value);
    }
    case 'string':
      return (value) => typeof value === 'string' && value.length <= 10_000;
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** requestIdSchema's check. */
export const isRequestId = (id: unknown): boolean =>
  (typeof id === 'string' && id.length >= 1 && id.length <= 200) || (typeof id === 'number' && Number.isSafeInteger(id));

/** A number or integer feature's bounds; undefined for a feature of another type. */
interface NumberRule {
  min: number;
  max: number;
  integer: boolean;
}

function numberRule({ type, min = -Infinity, max = Infinity }: Feature): NumberRule | undefined {
  return type === 'number' || type === 'integer' ? { min, max, integer: type === 'integer' } : undefined;
}

/** The request schema's rule for a number: finite (an integer feature's: a safe integer, as zod's int()), within the bounds. */
function numberValid(value: number, { min, max, integer }: NumberRule): boolean {
  // value - value is 0 for a finite number, NaN for ±Infinity and NaN (cheaper than Number.isFinite in the batch check's loop).
  return (integer ? Number.isSafeInteger(value) : value - value === 0) && value >= min && value <= max;
}

/** What a column of a feature must hold: its rule for a present value, and what a missing value becomes. */
interface ColumnRule {
  name: string;
  required: boolean;
  /** A missing optional value (null or left out) becomes this: the feature's default, or undefined. */
  absent: FeatureValue | undefined;
  valid: (value: unknown) => boolean;
  /** A number or integer feature's bounds: its column is checked and copied into a Float64Array in one pass. */
  numeric?: NumberRule;
}

/**
 * One feature's values checked down the rows, or undefined when a value fails the feature's rule (or a required
 * one is missing). The accepted column: a number or integer feature's values copied into `numbers` (see
 * FeatureColumn), unless a missing value has no number default to become; else the values, or with a missing value
 * a copy with it made `absent`. `filled`: a missing value was filled in.
 */
function checkColumn(
  rule: ColumnRule,
  values: ArrayLike<unknown> | undefined,
  rowCount: number,
  /** Where a number column's values go (rowCount long): a part of one buffer for all of a batch's number columns. */
  numbers: Float64Array,
): { column: FeatureColumn; filled: boolean } | undefined {
  const { required, valid, numeric, absent } = rule;
  let missing = !values;
  if (numeric) {
    const fill = typeof absent === 'number' ? absent : NaN; // NaN: not a number column after all (copied below)
    if (!values) numbers.fill(fill);
    else
      for (let r = 0; r < rowCount; r++) {
        const value = values[r];
        if (typeof value === 'number') {
          if (!numberValid(value, numeric)) return undefined;
          numbers[r] = value;
        } else if (value === undefined || value === null) {
          missing = true;
          numbers[r] = fill;
        } else return undefined;
      }
  } else if (values)
    for (let r = 0; r < rowCount; r++) {
      const value = values[r];
      if (value === undefined || value === null) missing = true;
      else if (!valid(value)) return undefined;
    }
  if (missing && required) return undefined;
  if (numeric && (!missing || typeof absent === 'number')) return { column: numbers, filled: missing };
  if (!missing) return { column: values as FeatureColumn, filled: false };
  const filled = new Array<FeatureValue | undefined>(rowCount);
  for (let r = 0; r < rowCount; r++) {
    const value = values?.[r];
    filled[r] = value === undefined || value === null ? absent : (value as FeatureValue);
  }
  return { column: filled, filled: true };
}

/** A batch accepted by its columns: the rows (a /predict/batch body's own) and each feature's values down them. */
export interface AcceptedBatch {
  rows: FeatureValues[];
  columns?: ReadonlyMap<string, FeatureColumn>;
}

/**
 * Columns (a feature's values in row order, as V2 tensors carry them) checked with features.yaml's rules, which
 * are the request schema's: the columns with every missing optional value made its default (or undefined; a column
 * with one is copied, never changed), or undefined when a value fails its feature's rule. An absent column is a
 * feature missing from every row. The features whose missing values were filled in are added to `filled`, when
 * given. Row count and ids are the caller's to check.
 */
export function columnsCheck(
  featuresFile: FeaturesFile,
): (columns: ReadonlyMap<string, ArrayLike<unknown>>, rowCount: number, filled?: Set<string>) => Map<string, FeatureColumn> | undefined {
  const rules = featuresFile.features.map((feature): ColumnRule => ({
    name: feature.name,
    required: feature.required,
    absent: feature.default,
    valid: featureValueCheck(feature),
    numeric: numberRule(feature),
  }));
  const numericCount = rules.filter((rule) => rule.numeric).length;
  return (columns, rowCount, filled) => {
    const accepted = new Map<string, FeatureColumn>();
    const numbers = new Float64Array(numericCount * rowCount);
    let at = 0;
    for (const rule of rules) {
      const part = rule.numeric ? numbers.subarray(at, (at += rowCount)) : numbers;
      const checked = checkColumn(rule, columns.get(rule.name), rowCount, part);
      if (!checked) return undefined;
      accepted.set(rule.name, checked.column);
      if (checked.filled) filled?.add(rule.name);
    }
    return accepted;
  };
}

/**
 * The batch body checked a column at a time (columnsCheck): each feature's values are read down the rows once,
 * with no per-row schema object, no copy of a row and no zod issue made for a valid body. It returns the rows as
 * JSON.parse made them, an optional feature's null or missing value replaced by its default in place (what the
 * schema's output holds), and the columns read from them; or undefined when the body is not valid: the schema
 * then decides and words the 422 (fieldIssues), so the answer to a bad body stays the schema's. A row with a key
 * not in features.yaml is left to the schema too: with unknown_fields: strip, the schema's copy of the row drops
 * it, so that it never reaches the model. It never accepts what batchRequest refuses (a property test holds it to
 * that); reading a row by feature name is safe as a name inherited from Object.prototype is handled by
 * withoutPrototypes before either check runs.
 */
export function batchColumnCheck(featuresFile: FeaturesFile, config: Config): (body: unknown) => AcceptedBatch | undefined {
  const idField = config.id_field;
  const strict = config.server.unknown_fields === 'reject';
  const names = featuresFile.features.map((feature) => feature.name);
  const known = new Set([idField, ...names]);
  const maxRows = config.server.max_batch_rows;
  const checkColumns = columnsCheck(featuresFile);
  return (body) => {
    if (!isPlainObject(body)) return undefined;
    const rows = body.rows;
    if (!Array.isArray(rows) || rows.length < 1 || rows.length > maxRows) return undefined;
    if (strict) for (const key in body) if (key !== 'rows') return undefined;
    for (let r = 0; r < rows.length; r++) {
      const row: unknown = rows[r];
      if (!isPlainObject(row)) return undefined;
      for (const key in row) if (!known.has(key)) return undefined;
      const id = row[idField];
      if (id !== undefined && !isRequestId(id)) return undefined;
    }
    const read = new Map<string, unknown[]>();
    for (const name of names) {
      const values = new Array<unknown>(rows.length);
      for (let r = 0; r < rows.length; r++) values[r] = (rows[r] as Record<string, unknown>)[name];
      read.set(name, values);
    }
    const filled = new Set<string>();
    const columns = checkColumns(read, rows.length, filled);
    if (!columns) return undefined;
    // Valid: the schema's output for a null or missing optional value is its default (or undefined).
    for (const name of filled) {
      const values = columns.get(name)!;
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r] as Record<string, unknown>;
        const value = row[name];
        if (value === null || (value === undefined && values[r] !== undefined)) row[name] = values[r];
      }
    }
    return { rows: rows as FeatureValues[], columns };
  };
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
  return {
    predictRequest: predictRequest as z.ZodType<FeatureValues>,
    batchRequest: batchRequest as z.ZodType<{ rows: FeatureValues[] }>,
    acceptBatch: batchColumnCheck(featuresFile, config),
    acceptColumns: columnsCheck(featuresFile),
  };
}
