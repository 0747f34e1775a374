// Replay (npm run replay): the inputs of logged predictions re-scored by another model version, offline, so a
// candidate is judged on real traffic before it is promoted. The log is what the prediction log's sinks wrote: JSON
// lines (the file or stdout sink; other lines, such as the service's own log lines, are skipped) or the MongoDB
// collection (the mongodb sink). Each logged row is checked against the request schema of features.yaml as it is now,
// then run through the same Predictor the service runs. The report says how often the candidate agrees with what was
// served, per served model, and, for rows whose ground truth is given (a labels file: the id and the true value, as
// POST /feedback takes them), how each did against the truth on the same rows.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse/sync';
import type { PredictionDocument } from '../predictionLog/sinks/mongodb.js';
import { MongodbConnection } from '../predictionLog/sinks/mongodbConnection.js';
import { predictionLogSettings } from '../contract/environment.js';
import { buildRequestSchemas, fieldIssues, type FeatureValues, type Spec } from '../contract/index.js';
import { idKey, type PredictionValue } from '../monitoring/feedback.js';
import { InputRangeError, type Predictor } from '../runtime/predictor.js';

/** Input replay cannot use at all (no such file, no prediction records, an unreadable labels file): exit 2. */
export class ReplayInputError extends Error {
  override name = 'ReplayInputError';
}

/** One logged prediction, as replay reads it. */
export interface LoggedPrediction {
  /** Where it is: `file:line`, or the record's id in MongoDB. */
  where: string;
  id: unknown;
  features: Record<string, unknown>;
  prediction: PredictionValue;
  /** The served model's version (its model_bin/ folder), when the record names it. */
  servedBy: string;
}

export interface PredictionLogRead {
  records: LoggedPrediction[];
  /** Lines that are not prediction records (the service's own log lines share stdout with the stdout sink). */
  skipped: number;
  /** Records of a shadow model (role: shadow): they were never served, so they are left out. */
  shadow: number;
}

const asObject = (value: unknown): Record<string, unknown> | undefined =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/** A logged record's fields replay needs; undefined when it is not a prediction record. */
function loggedPrediction(value: unknown, idField: string, where: string): LoggedPrediction | 'shadow' | undefined {
  const record = asObject(value);
  const features = asObject(record?.features);
  const prediction = record?.prediction;
  if (!record || !features || (typeof prediction !== 'string' && typeof prediction !== 'number')) return undefined;
  if (record.role === 'shadow') return 'shadow';
  const version = asObject(record.model)?.version;
  // Own keys only: an id field named like an Object.prototype member (constructor) must not read the prototype's.
  const id = Object.hasOwn(record, idField) ? record[idField] : undefined;
  return { where, id, features, prediction, servedBy: typeof version === 'string' ? version : '(unknown)' };
}

/** Keeps the newest `limit` of the records read. */
function newest<T>(items: T[], limit: number | undefined): T[] {
  return limit === undefined || items.length <= limit ? items : items.slice(items.length - limit);
}

/** The prediction records of a JSON-lines file (the file or stdout sink), oldest first. */
export async function readPredictionLogFile(path: string, spec: Spec, limit?: number): Promise<PredictionLogRead> {
  const stream = createReadStream(path, 'utf8');
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ReplayInputError(`${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const read: PredictionLogRead = { records: [], skipped: 0, shadow: 0 };
  let line = 0;
  try {
    for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
      line++;
      if (!text.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
      const record = loggedPrediction(value, spec.config.id_field, `${path}:${line}`);
      if (record === 'shadow') read.shadow++;
      else if (record) read.records.push(record);
      else read.skipped++;
    }
  } catch (error) {
    throw new ReplayInputError(`${path}: cannot be read (${(error as Error).message})`);
  }
  read.records = newest(read.records, limit);
  return read;
}

/**
 * The prediction records of the MongoDB prediction log at `url`, oldest first (the newest `limit` when given): the
 * database and collection the service logs to (config.yaml prediction_log.mongodb, MONGODB_DB, MONGODB_COLLECTION).
 */
export async function readPredictionLogMongodb(
  url: string,
  spec: Spec,
  limit?: number,
): Promise<PredictionLogRead & { collection: string }> {
  let connection: MongodbConnection;
  const settings = predictionLogSettings(spec.config, { ...process.env, MONGODB_URL: url }).mongodb;
  try {
    connection = new MongodbConnection(settings).use();
  } catch (error) {
    throw new ReplayInputError(`${url}: not a MongoDB connection string (${(error as Error).message})`);
  }
  const name = `${settings.db}.${settings.collection}`;
  try {
    const collection = await connection.collection<PredictionDocument>().catch((error: Error) => {
      throw new ReplayInputError(`cannot reach MongoDB at ${url}: ${error.message}`);
    });
    const documents = await collection.find({}, { sort: { timestamp: -1 }, ...(limit === undefined ? {} : { limit }) }).toArray();
    const read: PredictionLogRead = { records: [], skipped: 0, shadow: 0 };
    // The newest first from the server; the report reads them oldest first, as a file has them.
    for (const document of documents.reverse()) {
      const record = loggedPrediction(document, spec.config.id_field, `${name} _id ${String(document._id)}`);
      if (record === 'shadow') read.shadow++;
      else if (record) read.records.push(record);
      else read.skipped++;
    }
    return { ...read, collection: name };
  } finally {
    await connection.release();
  }
}

/**
 * Ground truth by id: a JSON-lines file of POST /feedback bodies ({"<id_field>": …, "<target>": …} per line) or a CSV
 * file with the id column and the target column (data.id_column and data.target_column when the data names them so).
 */
export async function readLabels(path: string, spec: Spec): Promise<Map<string, PredictionValue>> {
  const { config } = spec;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ReplayInputError(`${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const labels = new Map<string, PredictionValue>();
  const add = (where: string, id: unknown, value: unknown) => {
    if (id === undefined || id === null || id === '') throw new ReplayInputError(`${where}: no ${config.id_field}`);
    const truth = config.task === 'regression' ? Number(value) : value === undefined || value === null ? '' : String(value);
    if (truth === '' || (typeof truth === 'number' && !Number.isFinite(truth)))
      throw new ReplayInputError(
        `${where}: ${config.target} must be ${config.task === 'regression' ? 'a number' : 'a class'}, got ${JSON.stringify(value)}`,
      );
    labels.set(idKey(id), truth);
  };
  if (text.trimStart().startsWith('{')) {
    text.split('\n').forEach((line, index) => {
      if (!line.trim()) return;
      let row: Record<string, unknown> | undefined;
      try {
        row = asObject(JSON.parse(line));
      } catch {
        row = undefined;
      }
      if (!row) throw new ReplayInputError(`${path}:${index + 1}: not a JSON object`);
      const fields = row;
      const own = (key: string) => (Object.hasOwn(fields, key) ? fields[key] : undefined);
      add(`${path}:${index + 1}`, own(config.id_field), own(config.target));
    });
    return labels;
  }
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
  } catch (error) {
    throw new ReplayInputError(`${path}: neither JSON lines nor a readable CSV file (${(error as Error).message})`);
  }
  const header = records[0] ?? {};
  const idColumn = [config.id_field, config.data.id_column].find((column) => column !== undefined && Object.hasOwn(header, column));
  const targetColumn = [config.target, config.data.target_column].find((column) => column !== undefined && Object.hasOwn(header, column));
  if (!records.length || !idColumn || !targetColumn)
    throw new ReplayInputError(`${path}: expected a header with the columns ${config.id_field} and ${config.target}, and rows below it`);
  records.forEach((record, index) => add(`${path}:${index + 2}`, record[idColumn], record[targetColumn]));
  return labels;
}

export type Agreement = { same_label_share: number } | { mean_abs_difference: number; max_abs_difference: number };

export interface ReplayReport {
  /** Prediction records read (served ones; shadow records and other lines are counted apart). */
  records: number;
  skipped_lines: number;
  shadow_records: number;
  /** Rows the request schema (features.yaml as it is now) or the model refused, with the first few reasons. */
  refused: { rows: number; examples: string[] };
  replayed: number;
  agreement: Agreement;
  /** The agreement per model that served the rows. */
  by_served_model: ({ served_by: string; rows: number } & Agreement)[];
  /** The replayed rows whose id has a label: both the served and the replayed predictions against the truth. */
  ground_truth: {
    rows: number;
    served: Record<string, number>;
    replayed: Record<string, number>;
  } | null;
}

function agreementOf(task: Spec['config']['task'], pairs: readonly [PredictionValue, PredictionValue][]): Agreement {
  if (task === 'classification') return { same_label_share: pairs.filter(([a, b]) => String(a) === String(b)).length / pairs.length };
  const differences = pairs.map(([a, b]) => Math.abs(Number(a) - Number(b)));
  return {
    mean_abs_difference: differences.reduce((sum, d) => sum + d, 0) / differences.length,
    max_abs_difference: Math.max(...differences),
  };
}

function truthMetrics(task: Spec['config']['task'], pairs: readonly [PredictionValue, PredictionValue][]): Record<string, number> {
  if (task === 'classification')
    return { accuracy: pairs.filter(([prediction, truth]) => String(prediction) === String(truth)).length / pairs.length };
  const errors = pairs.map(([prediction, truth]) => Number(truth) - Number(prediction));
  return {
    mae: errors.reduce((sum, e) => sum + Math.abs(e), 0) / errors.length,
    rmse: Math.sqrt(errors.reduce((sum, e) => sum + e * e, 0) / errors.length),
  };
}

/** Rows per model run, as in `npm run predict`. */
const CHUNK_ROWS = 1000;
const EXAMPLES = 5;

/** Re-scores the logged rows with `predictor` and compares with what was served (and with `labels`, by id). */
export async function replay(
  read: PredictionLogRead,
  predictor: Predictor,
  spec: Spec,
  labels?: ReadonlyMap<string, PredictionValue>,
): Promise<ReplayReport> {
  const { task } = spec.config;
  const { predictRequest } = buildRequestSchemas(spec.features, spec.config);
  const refusals: string[] = [];
  const valid: { record: LoggedPrediction; row: FeatureValues }[] = [];
  for (const record of read.records) {
    const parsed = predictRequest.safeParse(record.features);
    if (parsed.success) valid.push({ record, row: parsed.data as FeatureValues });
    else {
      const [issue] = fieldIssues(parsed.error, record.features, 1).issues;
      refusals.push(`${record.where}: ${issue ? `${issue.field}: ${issue.message}` : 'refused by the request schema'}`);
    }
  }
  const replayed: { record: LoggedPrediction; prediction: PredictionValue }[] = [];
  for (let start = 0; start < valid.length; start += CHUNK_ROWS) {
    const chunk = valid.slice(start, start + CHUNK_ROWS);
    try {
      (await predictor.predict(chunk.map(({ row }) => row))).forEach((p, i) =>
        replayed.push({ record: chunk[i]!.record, prediction: p.prediction }),
      );
    } catch (error) {
      if (!(error instanceof InputRangeError)) throw error;
      // A value the model cannot compute with refuses the whole run: score the rows one by one to find it.
      for (const { record, row } of chunk) {
        try {
          replayed.push({ record, prediction: (await predictor.predict([row]))[0]!.prediction });
        } catch (rowError) {
          if (!(rowError instanceof InputRangeError)) throw rowError;
          refusals.push(`${record.where}: holds a number too large for the model`);
        }
      }
    }
  }
  if (!replayed.length)
    throw new ReplayInputError(
      read.records.length
        ? `none of the ${read.records.length} logged rows could be re-scored; the first: ${refusals[0]}`
        : `no prediction records found (${read.skipped} other lines${read.shadow ? `, ${read.shadow} shadow records` : ''})`,
    );
  const pairs = (rows: typeof replayed) =>
    rows.map(({ record, prediction }) => [record.prediction, prediction] as [PredictionValue, PredictionValue]);
  const servedBy = new Map<string, typeof replayed>();
  for (const row of replayed) {
    const rows = servedBy.get(row.record.servedBy);
    if (rows) rows.push(row);
    else servedBy.set(row.record.servedBy, [row]);
  }
  let groundTruth: ReplayReport['ground_truth'] = null;
  if (labels?.size) {
    const labelled = replayed.flatMap((row) => {
      const truth = labels.get(idKey(row.record.id));
      return truth === undefined || row.record.id === undefined ? [] : [{ ...row, truth }];
    });
    if (labelled.length)
      groundTruth = {
        rows: labelled.length,
        served: truthMetrics(
          task,
          labelled.map(({ record, truth }) => [record.prediction, truth]),
        ),
        replayed: truthMetrics(
          task,
          labelled.map(({ prediction, truth }) => [prediction, truth]),
        ),
      };
  }
  return {
    records: read.records.length,
    skipped_lines: read.skipped,
    shadow_records: read.shadow,
    refused: { rows: refusals.length, examples: refusals.slice(0, EXAMPLES) },
    replayed: replayed.length,
    agreement: agreementOf(task, pairs(replayed)),
    by_served_model: [...servedBy].map(([version, rows]) => ({ served_by: version, rows: rows.length, ...agreementOf(task, pairs(rows)) })),
    ground_truth: groundTruth,
  };
}
