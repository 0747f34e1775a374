// Training rows: reading them from CSV with types taken from features.yaml, and checking them against
// the spec before training (the pipeline does this, whatever loadData() returns).
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { booleanFromText, type FeatureValue, type FeatureValues, valueProblem, type Config, type Feature } from '../contract/index.js';

/** A training row: the features plus the target column (a class name or a number). */
export type TrainingRow = FeatureValues & Record<string, FeatureValue | undefined>;

export class DataError extends Error {
  constructor(readonly problems: string[]) {
    const shown = problems.slice(0, 20);
    const more = problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : '';
    super(`Invalid training data:\n  ${shown.join('\n  ')}${more}`);
    this.name = 'DataError';
  }
}

/** Converts one CSV cell to the feature's type; an empty cell is a missing value. */
export function parseCell(type: Feature['type'] | 'target-number' | 'target-class', text: string): FeatureValue | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  switch (type) {
    case 'number':
    case 'integer':
    case 'target-number': {
      const value = Number(trimmed);
      return Number.isNaN(value) ? trimmed : value; // left as text so validation can name it
    }
    case 'boolean':
      // true/false, yes/no, y/n in any case, and 1/0: features.yaml declaring the column boolean settles what 1/0 means.
      // Anything else is left as text so validation can name it.
      return booleanFromText(trimmed) ?? (trimmed === '1' ? true : trimmed === '0' ? false : trimmed);
    default:
      return trimmed;
  }
}

/** The CSV column a feature is read from: its `column` in features.yaml (the data's own name), else its name. */
export function csvColumn(feature: Pick<Feature, 'name' | 'column'>): string {
  return feature.column ?? feature.name;
}

/** Where the target is in the CSV: config.yaml data.target_column, else target. */
type TargetSettings = Pick<Config, 'target' | 'task'> & { data?: Pick<Config['data'], 'target_column'> };

/**
 * Reads a CSV file with a header row into training rows, converting each feature column to its type in
 * features.yaml and the target to a class name (classification) or a number (regression). Each feature is read
 * from its CSV column (csvColumn) and keyed by its name. Columns that are neither a feature nor the target are ignored.
 */
export async function readCsvRows(path: string, features: readonly Feature[], config: TargetSettings): Promise<TrainingRow[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new DataError([
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message}`,
    ]);
  }
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
  } catch (error) {
    throw new DataError([`${path}: ${(error as Error).message}`]);
  }
  const header = new Set(records.length ? Object.keys(records[0]!) : []);
  const targetColumn = config.data?.target_column ?? config.target;
  const required = [...features.filter((f) => f.required).map(csvColumn), targetColumn].filter((column) => !header.has(column));
  if (required.length)
    throw new DataError([`${path}: missing column${required.length > 1 ? 's' : ''} ${required.map(quoteColumn).join(', ')}`]);
  const targetType = config.task === 'regression' ? 'target-number' : 'target-class';
  return records.map((record) => {
    const row: TrainingRow = {};
    for (const feature of features) {
      const cell = Object.hasOwn(record, csvColumn(feature)) ? record[csvColumn(feature)] : undefined;
      row[feature.name] = cell === undefined ? undefined : parseCell(feature.type, cell);
    }
    row[config.target] = parseCell(targetType, record[targetColumn] ?? '');
    return row;
  });
}

/** A column name as messages show it: bare when it is a plain name, quoted when it has spaces or punctuation. */
export function quoteColumn(column: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(column) ? column : JSON.stringify(column);
}

/**
 * Checks every row against features.yaml: required features present, each value of its type and within
 * its bounds or values, the target present (and numeric for regression). Reports row numbers counting the
 * first data row as 1 (in a CSV with a header, row N is on line N + 1).
 */
export function validateRows(rows: readonly TrainingRow[], features: readonly Feature[], config: Pick<Config, 'target' | 'task'>): void {
  const problems: string[] = [];
  if (rows.length === 0) problems.push('no rows: loadData() returned an empty list');
  rows.forEach((row, index) => {
    const at = `row ${index + 1}`;
    for (const feature of features) {
      const value = row[feature.name];
      if (value === undefined || value === null) {
        if (feature.required) problems.push(`${at}, ${feature.name}: missing value for a required feature`);
        continue;
      }
      const problem = valueProblem(feature, value);
      if (problem) problems.push(`${at}, ${feature.name}: ${problem}`);
    }
    const label = row[config.target];
    if (label === undefined || label === null) problems.push(`${at}, ${config.target}: missing target value`);
    else if (config.task === 'regression' && (typeof label !== 'number' || !Number.isFinite(label))) {
      problems.push(`${at}, ${config.target}: regression target must be a finite number, got ${JSON.stringify(label)}`);
    }
  });
  if (problems.length) throw new DataError(problems);
}
