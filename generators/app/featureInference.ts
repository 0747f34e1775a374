// Drafts features.yaml and config.yaml from a CSV and the prompt answers, for users who start from their
// data instead of from hand-written files. The drafts are validated like any user file afterwards.
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { Document } from 'yaml';
import { booleanFromText, configFileSchema, type FeatureType, type Task } from '../contract.js';

export interface CsvTable {
  /** How the file is named in messages. */
  label: string;
  /** The columns as the file names them. */
  header: string[];
  /** The feature name of each column (featureName), in header order. */
  names: string[];
  rows: string[][];
}

/** Categories: at most this many distinct values… */
export const MAX_CATEGORY_VALUES = 20;
/** …and fewer than this fraction of the rows (otherwise the column looks like free text or an id). */
export const MAX_CATEGORY_FRACTION = 0.5;

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The feature name for a column as the data names it: kept when it already is a valid name, else snake_case
 * (`mean radius` → mean_radius, `Sepal.Length (cm)` → sepal_length_cm, `2nd-visit` → col_2nd_visit); '' when
 * nothing usable is left (the caller names it by position).
 */
export function featureName(column: string): string {
  if (IDENTIFIER.test(column) && column !== '__proto__') return column;
  const name = column
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents: é → e
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2') // camelCase → camel_Case
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return /^\d/.test(name) ? `col_${name}` : name;
}

/** The header and the rows of a CSV file, as text. */
export function readCsvRecords(path: string, label: string): { header: string[]; rows: string[][] } {
  let records: string[][];
  try {
    records = parse(readFileSync(path, 'utf8'), { skip_empty_lines: true, trim: true, bom: true }) as string[][];
  } catch (error) {
    throw new Error(`${label}: ${(error as Error).message}`, { cause: error });
  }
  const [header, ...rows] = records;
  if (!header || rows.length === 0) throw new Error(`${label}: expected a header row and at least one data row`);
  return { header, rows };
}

export function readCsv(path: string, label: string): CsvTable {
  const { header, rows } = readCsvRecords(path, label);
  const problems: string[] = [];
  const names = header.map((column, index) => featureName(column) || `column_${index + 1}`);
  const quoted = (index: number) => `column ${index + 1} ${JSON.stringify(header[index])}`;
  header.forEach((column, index) => {
    const first = header.indexOf(column);
    if (first !== index) {
      problems.push(`${quoted(index)} repeats column ${first + 1}`);
      return;
    }
    const clash = names.indexOf(names[index]!);
    if (clash !== index) problems.push(`${quoted(clash)} and ${quoted(index)} both become the feature name "${names[index]}"`);
  });
  if (problems.length)
    throw new Error(`${label}: rename the columns first (each needs its own name):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return { label, header, names, rows };
}

/** A features.yaml entry as drafted (before validation fills in defaults). */
export interface DraftFeature {
  name: string;
  column?: string;
  type: FeatureType;
  description?: string;
  required?: false;
  observed?: { min: number; max: number };
  values?: string[];
  example?: number | boolean | string;
}

export function inferFeatureType(values: readonly string[], rowCount: number): FeatureType {
  if (values.length === 0) return 'string';
  // yes/no, y/n, true/false; a 0/1 column stays an integer (see booleanFromText).
  if (values.every((v) => booleanFromText(v) !== undefined)) return 'boolean';
  if (values.every((v) => INTEGER.test(v))) return 'integer';
  if (values.every((v) => NUMBER.test(v))) return 'number';
  const distinct = new Set(values).size;
  if (distinct <= MAX_CATEGORY_VALUES && distinct < rowCount * MAX_CATEGORY_FRACTION) return 'category';
  return 'string';
}

function typed(type: FeatureType, value: string): number | boolean | string {
  if (type === 'number' || type === 'integer') return Number(value);
  if (type === 'boolean') return booleanFromText(value)!;
  return value;
}

/** A number for people: integers as they are, others to 3 significant digits (6.981 → 6.98), 1000 and up rounded. */
export function roundForText(value: number): string {
  if (Number.isInteger(value)) return String(value);
  if (Math.abs(value) >= 1000) return String(Math.round(value));
  return String(Number(value.toPrecision(3)));
}

/** What can be said about a column from its data, e.g. "Mean radius (from column `mean radius`), numeric, 6.98 to 28.1 in the data". */
export function describeFeature(feature: DraftFeature, missing: number, rows: number): string {
  const words = feature.name
    .replace(/^col_(?=\d)/, '')
    .replaceAll('_', ' ')
    .trim();
  const title = words.charAt(0).toUpperCase() + words.slice(1);
  const parts = [feature.column === undefined ? title : `${title} (from column \`${feature.column}\`)`];
  const range = feature.observed ? `, ${roundForText(feature.observed.min)} to ${roundForText(feature.observed.max)} in the data` : '';
  if (feature.type === 'number') parts.push(`numeric${range}`);
  else if (feature.type === 'integer') parts.push(`integer${range}`);
  else if (feature.type === 'boolean') parts.push('true or false');
  else if (feature.type === 'category') parts.push(`one of ${feature.values!.length} values`);
  else parts.push('text');
  if (missing > 0) parts.push(`missing in ${missing} of ${rows} rows`);
  return parts.join(', ');
}

/** One feature per column except `excluded` (the target and the id field, by feature name), in column order. */
export function inferFeatures(table: CsvTable, excluded: readonly string[]): DraftFeature[] {
  return table.header.flatMap((column, index) => {
    const name = table.names[index]!;
    if (excluded.includes(name)) return [];
    const cells = table.rows.map((row) => row[index] ?? '');
    const values = cells.filter((cell) => cell !== '');
    const type = inferFeatureType(values, table.rows.length);
    // Key order in features.yaml: name, column, type, description, then the rest.
    const feature = { name } as DraftFeature;
    if (column !== name) feature.column = column;
    feature.type = type;
    feature.description = '';
    if (values.length < cells.length) feature.required = false;
    if (type === 'number' || type === 'integer') {
      // What the data holds, not a limit: requests outside it are still scored (and counted by the monitoring).
      let min = Infinity;
      let max = -Infinity;
      for (const value of values) {
        const number = Number(value);
        if (number < min) min = number;
        if (number > max) max = number;
      }
      feature.observed = { min, max };
    }
    if (type === 'category') feature.values = [...new Set(values)].sort();
    const first = values[0];
    if (first !== undefined) feature.example = typed(type, first);
    feature.description = describeFeature(feature, cells.length - values.length, cells.length);
    return [feature];
  });
}

/**
 * Whether the target column can be learnt for the task: a regression target must be numeric; a classification
 * target needs two classes at least, and a continuous number of many values is not a class (error), nor, most
 * likely, an integer of many values (warning). Empty target cells are a warning: training refuses those rows.
 */
export function targetProblems(
  table: CsvTable,
  target: string,
  task: Task,
  /** How the messages name the settings: the flags (--task, --target) or config.yaml's keys (task:, target:). */
  settings: { task: string; target: string } = { task: '--task ', target: '--target' },
): { errors: string[]; warnings: string[] } {
  const index = table.names.indexOf(target);
  const column = table.header[index] ?? target;
  const cells = table.rows.map((row) => row[index] ?? '');
  const values = cells.filter((cell) => cell !== '');
  const distinct = new Set(values);
  const errors: string[] = [];
  const warnings: string[] = [];
  const named = `target column ${JSON.stringify(column)}`;
  if (values.length === 0) errors.push(`${named} is empty in every row`);
  else if (task === 'regression') {
    const text = values.find((value) => !NUMBER.test(value));
    if (text !== undefined) {
      const kinds = distinct.size <= MAX_CATEGORY_VALUES ? ` (${distinct.size} distinct values: it looks like classes)` : '';
      errors.push(
        `${settings.task}regression needs a numeric target, but ${named} holds text such as ${JSON.stringify(text)}${kinds}; ` +
          `use ${settings.task}classification, or choose a numeric ${settings.target}`,
      );
    }
  } else {
    if (distinct.size < 2)
      errors.push(`${settings.task}classification needs at least two classes, but ${named} holds only ${JSON.stringify(values[0])}`);
    else if (distinct.size > MAX_CATEGORY_VALUES && values.every((value) => NUMBER.test(value))) {
      const continuous = values.some((value) => !INTEGER.test(value) && !Number.isInteger(Number(value)));
      const message =
        `${named} holds ${distinct.size} different numbers: ` +
        (continuous ? 'a continuous value, not classes' : 'each would be a class of its own');
      if (continuous) errors.push(`${settings.task}classification: ${message}; use ${settings.task}regression`);
      else warnings.push(`${settings.task}classification: ${message}; if it is a quantity, use ${settings.task}regression`);
    }
  }
  const empty = cells.length - values.length;
  if (values.length > 0 && empty > 0)
    warnings.push(`${named} is empty in ${empty} of ${cells.length} rows: training refuses rows without a target (drop or fill them)`);
  return { errors, warnings };
}

export function featuresYaml(features: readonly DraftFeature[], source: string): string {
  const document = new Document({ features });
  document.commentBefore =
    ` The model's inputs, inferred from ${source} by generator-ml-microservice.\n` +
    ' Review the types and descriptions. `observed` is the range seen in the data, not a limit (requests outside it\n' +
    ' are scored and counted by the monitoring); add min/max for values the service must refuse. `column` is the\n' +
    " data's own name for a feature whose name had to be changed.";
  return document.toString({ lineWidth: 0 }); // a description stays on one line
}

export interface ProjectAnswers {
  name: string;
  task: Task;
  target: string;
  idField: string;
  /** data.path as it will be in the project. */
  dataPath: string;
  /** The data's own names for the target and the id field, when they differ from the names. */
  targetColumn?: string;
  idColumn?: string;
}

export function configYaml(answers: ProjectAnswers): string {
  const shape = configFileSchema.shape;
  const document = new Document({
    name: answers.name,
    version: '0.1.0',
    description: shape.description.parse(undefined),
    task: answers.task,
    target: answers.target,
    id_field: answers.idField,
    data: {
      path: answers.dataPath,
      ...(answers.targetColumn === undefined ? {} : { target_column: answers.targetColumn }),
      ...(answers.idColumn === undefined ? {} : { id_column: answers.idColumn }),
    },
    // Written out with their defaults so the knobs are visible in the file.
    training: shape.training.parse(undefined),
    server: shape.server.parse(undefined),
  });
  document.commentBefore = ' Project settings. Secrets (API keys, sink credentials) never go here: they come from the environment.';
  return document.toString();
}
