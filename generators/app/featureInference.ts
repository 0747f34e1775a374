// Drafts features.yaml and config.yaml from a CSV and the prompt answers, for users who start from their
// data instead of from hand-written files. The drafts are validated like any user file afterwards.
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { Document } from 'yaml';
import { configFileSchema, type FeatureType, type Task } from '../../templates/service/src/spec/schema.js';

export interface CsvTable {
  /** How the file is named in messages. */
  label: string;
  header: string[];
  rows: string[][];
}

/** Categories: at most this many distinct values… */
export const MAX_CATEGORY_VALUES = 20;
/** …and fewer than this fraction of the rows (otherwise the column looks like free text or an id). */
export const MAX_CATEGORY_FRACTION = 0.5;

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
const BOOLEAN = /^(?:true|false)$/i;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function readCsv(path: string, label: string): CsvTable {
  let records: string[][];
  try {
    records = parse(readFileSync(path, 'utf8'), { skip_empty_lines: true, trim: true, bom: true }) as string[][];
  } catch (error) {
    throw new Error(`${label}: ${(error as Error).message}`, { cause: error });
  }
  const [header, ...rows] = records;
  if (!header || rows.length === 0) throw new Error(`${label}: expected a header row and at least one data row`);
  const problems: string[] = [];
  header.forEach((name, index) => {
    if (!IDENTIFIER.test(name))
      problems.push(
        `column ${index + 1} "${name}" is not a usable feature name (letters, digits and underscores, not starting with a digit)`,
      );
    if (header.indexOf(name) !== index) problems.push(`column ${index + 1} "${name}" repeats column ${header.indexOf(name) + 1}`);
  });
  if (problems.length) throw new Error(`${label}: rename the columns first:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return { label, header, rows };
}

/** A features.yaml entry as drafted (before validation fills in defaults). */
export interface DraftFeature {
  name: string;
  type: FeatureType;
  required?: false;
  min?: number;
  max?: number;
  values?: string[];
  example?: number | boolean | string;
}

export function inferFeatureType(values: readonly string[], rowCount: number): FeatureType {
  if (values.length === 0) return 'string';
  if (values.every((v) => BOOLEAN.test(v))) return 'boolean';
  if (values.every((v) => INTEGER.test(v))) return 'integer';
  if (values.every((v) => NUMBER.test(v))) return 'number';
  const distinct = new Set(values).size;
  if (distinct <= MAX_CATEGORY_VALUES && distinct < rowCount * MAX_CATEGORY_FRACTION) return 'category';
  return 'string';
}

function typed(type: FeatureType, value: string): number | boolean | string {
  if (type === 'number' || type === 'integer') return Number(value);
  if (type === 'boolean') return value.toLowerCase() === 'true';
  return value;
}

/** One feature per column except `excluded` (the target and the id field), in column order. */
export function inferFeatures(table: CsvTable, excluded: readonly string[]): DraftFeature[] {
  return table.header.flatMap((name, column) => {
    if (excluded.includes(name)) return [];
    const cells = table.rows.map((row) => row[column] ?? '');
    const values = cells.filter((cell) => cell !== '');
    const type = inferFeatureType(values, table.rows.length);
    const feature: DraftFeature = { name, type };
    if (values.length < cells.length) feature.required = false;
    if (type === 'number' || type === 'integer') {
      const numbers = values.map(Number);
      feature.min = Math.min(...numbers);
      feature.max = Math.max(...numbers);
    }
    if (type === 'category') feature.values = [...new Set(values)].sort();
    const first = values[0];
    if (first !== undefined) feature.example = typed(type, first);
    return [feature];
  });
}

export function featuresYaml(features: readonly DraftFeature[], source: string): string {
  const document = new Document({ features });
  document.commentBefore =
    ` The model's inputs, inferred from ${source} by generator-ml-microservice.\n` +
    ' Review the types, the bounds (min/max are the ones seen in the data) and add descriptions.';
  return document.toString();
}

export interface ProjectAnswers {
  name: string;
  task: Task;
  target: string;
  idField: string;
  /** data.path as it will be in the project. */
  dataPath: string;
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
    data: { path: answers.dataPath },
    // Written out with their defaults so the knobs are visible in the file.
    training: shape.training.parse(undefined),
    server: shape.server.parse(undefined),
  });
  document.commentBefore = ' Project settings. Secrets (API keys, sink credentials) never go here: they come from the environment.';
  return document.toString();
}
