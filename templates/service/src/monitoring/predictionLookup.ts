// Finds earlier predictions by id in the prediction log, for feedback whose prediction is no longer (or never
// was) in this process's memory: made before a restart, or answered by another replica. Only the MongoDB sink
// can be queried; it reads through the sink's own connection (one MongoClient for both: MONGODB_URL, db, collection).
import type { MongodbConnection } from '../predictionLog/sinks/mongodbConnection.js';
import { idKey, type PredictionValue, type RequestId } from './feedback.js';

export interface PredictionLookup {
  /** Where it looks, for messages, e.g. "MongoDB iris.predictions". */
  readonly description: string;
  /** The newest logged prediction of the model `modelUuid` for each id found, by idKey(id). Rejects when the log cannot be read. */
  find(ids: readonly RequestId[], modelUuid: string): Promise<Map<string, PredictionValue>>;
  close(): Promise<void>;
}

/** The fields of a logged prediction read here. */
interface LoggedPrediction {
  prediction: PredictionValue;
  model?: { uuid?: string };
  role?: string;
}

/** Ids looked up at once: one find per id (the id field is indexed by the sink), a few in flight. */
const CONCURRENT_FINDS = 8;
/** Records per id read: the same id may have been used again, by other models too. */
const RECORDS_PER_ID = 10;

export class MongoPredictionLookup implements PredictionLookup {
  readonly description: string;
  private readonly connection: MongodbConnection;

  /** `connection`: the mongodb sink's (PredictionLog.mongodbConnection), which the lookup shares. */
  constructor(connection: MongodbConnection) {
    const { db, collection } = connection.settings;
    this.description = `MongoDB ${db}.${collection}`;
    this.connection = connection.use();
  }

  async find(ids: readonly RequestId[], modelUuid: string): Promise<Map<string, PredictionValue>> {
    const found = new Map<string, PredictionValue>();
    const queue = [...new Set(ids)];
    const collection = await this.connection.collection();
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const records = await collection
          .find<LoggedPrediction>(
            { [this.connection.settings.idField]: id },
            { sort: { timestamp: -1 }, limit: RECORDS_PER_ID, projection: { prediction: 1, model: 1, role: 1 } },
          )
          .toArray();
        // Only the served model's answers measure its accuracy (not its runs as a shadow, before it was promoted).
        const record = records.find((candidate) => candidate.model?.uuid === modelUuid && candidate.role !== 'shadow');
        if (record) found.set(idKey(id), record.prediction);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENT_FINDS, queue.length) }, worker));
    return found;
  }

  async close(): Promise<void> {
    await this.connection.release();
  }
}
