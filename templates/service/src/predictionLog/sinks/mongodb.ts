// Records to MongoDB with the official driver: one insertMany per batch. Each document's _id is the record's
// record_id, so re-sending a batch whose reply was lost stores nothing twice (the duplicates are refused and
// that refusal counts as delivered).
import type { Collection, MongoBulkWriteError } from 'mongodb';
import type { MongodbSettings } from '../../contract/environment.js';
import type { Sink } from '../queue.js';
import { predictionRecord, type LoggedPrediction, type PredictionRecord } from '../../runtime/wireFormat.js';
import { MongodbConnection, mongodbDriver } from './mongodbConnection.js';

const DUPLICATE_KEY = 11000;

export type PredictionDocument = Omit<PredictionRecord, 'record_id' | 'timestamp'> & { _id: string; timestamp: Date };

/** The stored form: the record with _id = record_id, and a BSON date (which TTL indexes need). */
export function predictionDocument({ record_id, timestamp, ...rest }: PredictionRecord): PredictionDocument {
  return { _id: record_id, timestamp: new Date(timestamp), ...rest };
}

/**
 * True when the server stored every document it did not refuse as a duplicate _id: the batch is then all
 * stored (by this attempt or an earlier one). The driver reports network failures as MongoBulkWriteError too,
 * with no write errors, and those must fail the batch.
 */
function onlyDuplicatesRefused(error: MongoBulkWriteError, documents: number): boolean {
  const writeErrors = [error.writeErrors].flat();
  return (
    writeErrors.length > 0 &&
    writeErrors.every((writeError) => writeError.code === DUPLICATE_KEY) &&
    error.result.insertedCount + writeErrors.length === documents
  );
}

export class MongodbSink implements Sink<LoggedPrediction> {
  readonly name = 'mongodb';
  private readonly connection: MongodbConnection;
  private indexesChecked = false;

  /**
   * Throws at start-up when the URL is not a valid connection string; connects on the first batch. `connection`
   * is one shared with the feedback lookup (see startServer); omitted, the sink has its own.
   */
  constructor(
    readonly settings: MongodbSettings,
    private readonly warn: (message: string) => void = console.warn,
    connection?: MongodbConnection,
  ) {
    this.connection = (connection ?? new MongodbConnection(settings)).use();
  }

  async send(predictions: readonly LoggedPrediction[]): Promise<void> {
    const documents = predictions.map((prediction) => predictionDocument(predictionRecord(prediction)));
    const collection = await this.connection.collection<PredictionDocument>();
    if (!this.indexesChecked) await this.createIndexes(collection);
    try {
      await collection.insertMany(documents, { ordered: false });
    } catch (error) {
      if (error instanceof mongodbDriver().MongoBulkWriteError && onlyDuplicatesRefused(error, documents.length)) return;
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.connection.release(); // also closes connections in use: an in-flight insert fails now instead of holding up shutdown
  }

  /** The id field and the timestamp indexed; the timestamp index expires records when ttlDays is set. */
  private async createIndexes(collection: Collection<PredictionDocument>): Promise<void> {
    const { idField, ttlDays } = this.settings;
    try {
      await collection.createIndexes([
        { key: { [idField]: 1 }, name: `${idField}_1` },
        ttlDays === undefined
          ? { key: { timestamp: 1 }, name: 'timestamp_1' }
          : { key: { timestamp: 1 }, name: 'timestamp_ttl', expireAfterSeconds: Math.round(ttlDays * 86_400) },
      ]);
    } catch (error) {
      // A server that refuses (e.g. an existing index with other options) must not stop the logging; a
      // network error is a failed batch like any other, and the indexes are tried again with the retry.
      if (!(error instanceof mongodbDriver().MongoServerError)) throw error;
      this.warn(
        `prediction log: could not create the indexes on ${this.settings.db}.${this.settings.collection} (${error.message}); ` +
          'records are still stored. After changing ttl_days, drop the old timestamp index.',
      );
    }
    this.indexesChecked = true;
  }
}
