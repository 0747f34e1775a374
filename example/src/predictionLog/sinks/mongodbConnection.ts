// One MongoDB client for the mongodb sink and the feedback lookup, connected on first use and made again
// after a failed connect. The driver recovers by itself from a server that goes away after it connected, but
// a MongoClient whose first connect failed stays closed for good ("Topology is closed"): without a new one a
// service started before its database (the usual case in Kubernetes) would never log again.
import { createRequire } from 'node:module';
import type * as Mongodb from 'mongodb';
import type { Collection, Document, MongoClient } from 'mongodb';
import type { MongodbSettings } from '../../contract/environment.js';

let driver: typeof Mongodb | undefined;
/**
 * The MongoDB driver, loaded on first use: importing it costs memory (bson reserves a large buffer up front)
 * and start-up time, which a service that logs elsewhere should not pay.
 */
export function mongodbDriver(): typeof Mongodb {
  return (driver ??= createRequire(import.meta.url)('mongodb') as typeof Mongodb);
}

export class MongodbConnection {
  /** The current client: made in the constructor (which so throws for a malformed URL), again after each failed connect. */
  private client: MongoClient;
  private connecting: Promise<MongoClient> | undefined;
  private users = 0;
  private closed = false;

  constructor(readonly settings: MongodbSettings) {
    this.client = this.newClient();
  }

  /** Counts one more user (the sink, the lookup): the client is closed when the last one releases it. */
  use(): this {
    this.users++;
    return this;
  }

  /** The configured collection, on a connected client; rejects when no server can be reached (try again later). */
  async collection<T extends Document>(): Promise<Collection<T>> {
    if (this.closed) throw new Error('the MongoDB client is closed');
    const client = await (this.connecting ??= this.connect());
    return client.db(this.settings.db).collection<T>(this.settings.collection);
  }

  /**
   * Closes the client once every user has released it: also a connect in progress and the connections in use,
   * so an in-flight operation fails now instead of holding up the shutdown.
   */
  async release(): Promise<void> {
    if (--this.users > 0 || this.closed) return;
    this.closed = true;
    await this.client.close(true);
  }

  private newClient(): MongoClient {
    const { url, timeoutMs, appName } = this.settings;
    return new (mongodbDriver().MongoClient)(url, {
      serverSelectionTimeoutMS: timeoutMs,
      connectTimeoutMS: timeoutMs,
      appName,
      maxPoolSize: 4,
    });
  }

  private async connect(): Promise<MongoClient> {
    const client = this.client;
    try {
      await client.connect();
      return client;
    } catch (error) {
      // This client is closed for good: the next call starts over with a new one.
      this.connecting = undefined;
      await client.close(true).catch(() => {});
      if (!this.closed) this.client = this.newClient();
      throw error;
    }
  }
}
