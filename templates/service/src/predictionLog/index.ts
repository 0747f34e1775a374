// Prediction logging: every prediction goes to each configured sink (stdout, file, fluentd, mongodb) through
// that sink's own bounded queue, so a slow or unreachable sink never slows a request or holds up the others.
// Settings come from config.yaml's prediction_log section, with the environment overriding them
// (see predictionLogSettings in ../contract/environment.ts).
import type { Writable } from 'node:stream';
import { EnvironmentError, type PredictionLogSettings } from '../contract/environment.js';
import type { PredictionLogSinkName } from '../contract/index.js';
import { SinkQueue, type QueueOptions, type Sink, type SinkCounts } from './queue.js';
import type { AnsweredPredictions, LoggedPrediction } from '../runtime/wireFormat.js';
import { loggedPredictions } from './record.js';
import { FileSink } from './sinks/file.js';
import { FluentdSink } from './sinks/fluentd.js';
import { MongodbSink } from './sinks/mongodb.js';
import { MongodbConnection } from './sinks/mongodbConnection.js';
import { StdoutSink } from './sinks/stdout.js';

export type { SinkCounts } from './queue.js';
export type SinkName = PredictionLogSinkName;

/** The counts of every sink, by sink name: what GET /ready shows and what a metrics exporter reads. */
export interface PredictionLogStats {
  sinks: Partial<Record<SinkName, SinkCounts>>;
}

export interface PredictionLogOptions {
  /** Where the stdout sink writes (tests and the benchmark pass their own). */
  stdout?: Writable;
  /** Where problems with the sinks are reported; standard error, so as not to mix with JSON lines on stdout. */
  warn?: (message: string) => void;
}

export class PredictionLog {
  private constructor(
    private readonly queues: SinkQueue<LoggedPrediction>[],
    private readonly shutdownTimeoutMs: number,
    private readonly warn: (message: string) => void,
    /** The mongodb sink's client, when that sink is on: the feedback lookup shares it. */
    readonly mongodbConnection?: MongodbConnection,
  ) {}

  /** Builds the sinks; throws a clear error for settings that cannot work (e.g. a malformed MONGODB_URL). */
  static create(
    settings: PredictionLogSettings,
    { stdout, warn = (message) => console.warn(message) }: PredictionLogOptions = {},
  ): PredictionLog {
    const queueOptions: QueueOptions = {
      ...settings.queue,
      onFailing: (sink, error) =>
        warn(
          `prediction log: sending to ${sink} failed (${error instanceof Error ? error.message : String(error)}); records are kept and retried`,
        ),
      onRecovered: (sink, failedSends) => warn(`prediction log: ${sink} delivers again after ${failedSends} failed send(s)`),
    };
    let mongodbConnection: MongodbConnection | undefined;
    const sinks = settings.sinks.map((name): Sink<LoggedPrediction> => {
      switch (name) {
        case 'stdout':
          return new StdoutSink(stdout);
        case 'file':
          return new FileSink(settings.file.path);
        case 'fluentd':
          return new FluentdSink(settings.fluentd);
        case 'mongodb':
          try {
            mongodbConnection = new MongodbConnection(settings.mongodb);
            return new MongodbSink(settings.mongodb, warn, mongodbConnection);
          } catch (error) {
            // The driver may quote the URL, which can hold credentials: never print it.
            const reason = (error as Error).message.replaceAll(settings.mongodb.url, '(the URL)');
            throw new EnvironmentError(`MONGODB_URL is not a usable MongoDB connection string: ${reason}`);
          }
      }
    });
    return new PredictionLog(
      sinks.map((sink) => new SinkQueue(sink, queueOptions)),
      settings.shutdownTimeoutMs,
      warn,
      mongodbConnection,
    );
  }

  /** Logs nothing: for tests and for `sinks: []`. */
  static disabled(): PredictionLog {
    return new PredictionLog([], 0, () => {});
  }

  get enabled(): boolean {
    return this.queues.length > 0;
  }

  get sinkNames(): string[] {
    return this.queues.map((queue) => queue.sink.name);
  }

  /** Queues the predictions of one request on every sink and returns at once; never throws. */
  log(predictions: AnsweredPredictions): void {
    if (this.queues.length === 0) return;
    const logged = loggedPredictions(predictions);
    for (const queue of this.queues) for (const prediction of logged) queue.push(prediction);
  }

  stats(): PredictionLogStats {
    return { sinks: Object.fromEntries(this.queues.map((queue) => [queue.sink.name, queue.counts()])) };
  }

  /**
   * For shutdown: sends what is queued (retrying failing sinks) until every queue is empty or the bounded wait
   * is over, then closes the sinks. Returns how many records could not be delivered (also counted as dropped).
   */
  async close(timeoutMs = this.shutdownTimeoutMs): Promise<number> {
    await Promise.all(this.queues.map((queue) => queue.flush(timeoutMs)));
    let undelivered = 0;
    for (const queue of this.queues) {
      const before = queue.counts().dropped;
      await queue.close();
      const lost = queue.counts().dropped - before;
      if (lost > 0) this.warn(`prediction log: ${lost} record(s) not delivered to ${queue.sink.name} before shutdown`);
      undelivered += lost;
    }
    return undelivered;
  }
}
