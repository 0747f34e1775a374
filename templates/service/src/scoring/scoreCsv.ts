// Offline scoring of a CSV file with the served model (npm run predict): each row goes through the request
// schema the API validates with (the same messages), then the same Predictor the API runs (preprocessing and
// ONNX model). Rows that fail are reported by line and left out; the rest are scored. No HTTP on the way.
import { parse } from 'csv-parse/sync';
import { csvColumn, parseCell, quoteColumn } from '../data/rows.js';
import { InputRangeError, type Prediction, type Predictor } from '../runtime/predictor.js';
import { type Spec, buildRequestSchemas, fieldIssues, type FeatureValues } from '../contract/index.js';

/** Input that cannot be scored at all (not a CSV, no rows, a required column missing): npm run predict exits 2. */
export class UnusableInputError extends Error {
  override name = 'UnusableInputError';
}

/** A refused row: where it is and why, as `file:line: field: message`. */
export interface RowProblem {
  line: number;
  field: string;
  message: string;
}

export interface ScoredCsv {
  /** The input's columns, then prediction (and probability_<class> per class for classification; `_2` added to a name the
   * input already has); one line per scored row. */
  csv: string;
  scored: number;
  refused: RowProblem[];
}

/** Rows given to the model per run: large enough to be fast, small enough that a refused run is re-run cheaply. */
const CHUNK_ROWS = 1000;

export function formatProblem(label: string, { line, field, message }: RowProblem): string {
  return `${label}:${line}: ${field}: ${message}`;
}

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const csvLine = (fields: readonly string[]) => fields.map(csvField).join(',');

/** The text of a score in the output: as JavaScript prints the number (the API's JSON does the same). */
const numberText = (value: number) => String(value);

export async function scoreCsv(text: string, label: string, spec: Spec, predictor: Predictor): Promise<ScoredCsv> {
  const { features } = spec.features;
  const { config } = spec;
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true, info: true }) as unknown as typeof records;
  } catch (error) {
    throw new UnusableInputError(`${label}: not a readable CSV file: ${(error as Error).message}`);
  }
  const [head, ...body] = records;
  if (!head) throw new UnusableInputError(`${label}: empty file (expected a header row and rows to score)`);
  const header = head.record;
  if (body.length === 0) throw new UnusableInputError(`${label}: no rows to score below the header`);
  const position = new Map<string, number>();
  header.forEach((column, index) => {
    if (position.has(column)) throw new UnusableInputError(`${label}:${head.info.lines}: column ${quoteColumn(column)} appears twice`);
    position.set(column, index);
  });
  const missing = features.filter((feature) => feature.required && !position.has(csvColumn(feature))).map(csvColumn);
  if (missing.length)
    throw new UnusableInputError(
      `${label}:${head.info.lines}: missing column${missing.length > 1 ? 's' : ''} ${missing.map(quoteColumn).join(', ')} ` +
        `(the header has ${header.map(quoteColumn).join(', ')})`,
    );

  const { predictRequest } = buildRequestSchemas(spec.features, config);
  // Problems name the column as the file names it (`mean radius`, not mean_radius).
  const columnOf = new Map<string, string>(features.map((feature) => [feature.name, quoteColumn(csvColumn(feature))]));
  columnOf.set(config.id_field, quoteColumn(config.data.id_column ?? config.id_field));
  const idColumn = position.get(config.data.id_column ?? config.id_field);
  const refused: RowProblem[] = [];
  const valid: { line: number; cells: string[]; row: FeatureValues }[] = [];
  for (const { record: cells, info } of body) {
    const line = info.lines;
    if (cells.length !== header.length) {
      refused.push({ line, field: '(row)', message: `expected ${header.length} cells as in the header, got ${cells.length}` });
      continue;
    }
    // The request body this row would be: its features by name (an empty cell is missing) and its id, if the file has one.
    const request: Record<string, unknown> = {};
    for (const feature of features) {
      const index = position.get(csvColumn(feature));
      const value = index === undefined ? undefined : parseCell(feature.type, cells[index]!);
      if (value !== undefined) request[feature.name] = value;
    }
    const id = idColumn === undefined ? '' : cells[idColumn]!.trim();
    if (id !== '') request[config.id_field] = id;
    const parsed = predictRequest.safeParse(request);
    if (parsed.success) valid.push({ line, cells, row: parsed.data });
    else
      for (const { field, message } of fieldIssues(parsed.error, request, Infinity).issues)
        refused.push({ line, field: columnOf.get(field) ?? field, message });
  }

  const predictions = new Map<number, Prediction>();
  for (let start = 0; start < valid.length; start += CHUNK_ROWS) {
    const chunk = valid.slice(start, start + CHUNK_ROWS);
    try {
      (await predictor.predict(chunk.map(({ row }) => row))).forEach((prediction, i) => predictions.set(chunk[i]!.line, prediction));
    } catch (error) {
      if (!(error instanceof InputRangeError)) throw error;
      // A value the model cannot compute with refuses the whole run: score the rows one by one to find it.
      for (const { line, row } of chunk) {
        try {
          predictions.set(line, (await predictor.predict([row]))[0]!);
        } catch (rowError) {
          if (!(rowError instanceof InputRangeError)) throw rowError;
          refused.push({ line, field: '(row)', message: 'holds a number too large for the model' });
        }
      }
    }
  }

  const classes = config.task === 'classification' ? predictor.metadata.classes : [];
  // An input column that already has one of these names (a scored file scored again) is kept; ours take a free name.
  const taken = new Set(header);
  const freeName = (name: string) => {
    let candidate = name;
    for (let n = 2; taken.has(candidate); n++) candidate = `${name}_${n}`;
    taken.add(candidate);
    return candidate;
  };
  const added = ['prediction', ...classes.map((name) => `probability_${name}`)].map(freeName);
  const lines = [csvLine([...header, ...added])];
  for (const { line, cells } of valid) {
    const result = predictions.get(line);
    if (!result) continue;
    const scores = classes.map((name) => numberText(result.probabilities?.[name] ?? Number.NaN));
    const prediction = typeof result.prediction === 'number' ? numberText(result.prediction) : result.prediction;
    lines.push(csvLine([...cells, prediction, ...scores]));
  }
  refused.sort((a, b) => a.line - b.line);
  return { csv: `${lines.join('\n')}\n`, scored: lines.length - 1, refused };
}
