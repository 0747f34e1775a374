// Prediction logging without external servers: the config.yaml section and its environment overrides, the
// queue's accounting (batches, retries, drop-oldest), and the service logging every prediction to standard
// output and to a file without a failing sink ever failing a request.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import request from 'supertest';
import { EnvironmentError, predictionLogSettings } from '../../src/contract/environment.js';
import { PredictionLog } from '../../src/predictionLog/index.js';
import type { PredictionRecord } from '../../src/runtime/wireFormat.js';
import { SinkQueue, type QueueOptions, type Sink } from '../../src/predictionLog/queue.js';
import { loggedPredictions } from '../../src/predictionLog/record.js';
import { createApp } from '../../src/http/app.js';
import { OnnxPredictor, type Predictor } from '../../src/runtime/predictor.js';
import { exampleRow, configFileSchema, crossCheck, PREDICTION_RECORD_KEYS } from '../../src/contract/index.js';
import { logSettings, sleep, until, withPredictionLog } from '../support/predictionLoad.js';
import { trainedProject, type TrainedProject } from '../support/trainedModel.js';

/** A sink in memory: records what it got; fails while `down`. */
class MemorySink implements Sink<number> {
  readonly name = 'memory';
  readonly batches: number[][] = [];
  down = false;
  async send(records: readonly number[]): Promise<void> {
    await sleep(1);
    if (this.down) throw new Error('memory sink is down');
    this.batches.push([...records]);
  }
  async close(): Promise<void> {}
  get received(): number[] {
    return this.batches.flat();
  }
}

const fastQueue = (overrides: Partial<QueueOptions> = {}): QueueOptions => ({
  capacity: 100,
  batchSize: 10,
  flushIntervalMs: 5,
  retryInitialMs: 5,
  retryMaxMs: 20,
  ...overrides,
});

/** Waits until the queue has sent `count` records, then checks the sink got first, first + 1, … in order. */
async function allSentInOrder(queue: SinkQueue<number>, sink: MemorySink, first: number, count: number): Promise<void> {
  await until(
    'all sent',
    () => queue.counts().sent,
    (sent) => sent === count,
  );
  assert.deepEqual(
    sink.received,
    Array.from({ length: count }, (_, i) => first + i),
  );
}

describe('prediction log', () => {
  describe('settings', () => {
    let project: TrainedProject;
    before(async () => {
      project = await trainedProject();
    });

    it('defaults to stdout, with tag and database named after the service', () => {
      const config = withPredictionLog(project.spec.config, undefined);
      const settings = predictionLogSettings(config, {});
      assert.deepEqual(settings.sinks, ['stdout']);
      assert.equal(settings.fluentd.tag, `${config.name}.prediction`);
      assert.deepEqual([settings.fluentd.host, settings.fluentd.port, settings.fluentd.ack], ['127.0.0.1', 24224, true]);
      assert.deepEqual(
        [settings.mongodb.db, settings.mongodb.collection, settings.mongodb.idField],
        [config.name, 'predictions', config.id_field],
      );
      assert.equal(settings.mongodb.ttlDays, undefined);
    });

    it('takes sinks, names and addresses from the environment over config.yaml', () => {
      const settings = logSettings(
        project.spec,
        { sinks: ['stdout'], fluentd: { tag: 'from.config' }, mongodb: { db: 'configdb', ttl_days: 30 } },
        {
          PREDICTION_LOG_SINKS: ' fluentd , mongodb,fluentd',
          FLUENTD_HOST: 'fluentd.logging',
          FLUENTD_PORT: '24225',
          FLUENTD_TAG: 'from.env',
          MONGODB_URL: 'mongodb://user:pw@mongo:27017/?authSource=admin',
          MONGODB_DB: 'envdb',
          MONGODB_COLLECTION: 'envcollection',
          PREDICTION_LOG_FILE: '/var/log/predictions.jsonl',
        },
      );
      assert.deepEqual(settings.sinks, ['fluentd', 'mongodb']);
      assert.deepEqual([settings.fluentd.host, settings.fluentd.port, settings.fluentd.tag], ['fluentd.logging', 24225, 'from.env']);
      assert.deepEqual(
        [settings.mongodb.url, settings.mongodb.db, settings.mongodb.collection],
        ['mongodb://user:pw@mongo:27017/?authSource=admin', 'envdb', 'envcollection'],
      );
      assert.equal(settings.mongodb.ttlDays, 30);
      assert.equal(settings.file.path, '/var/log/predictions.jsonl');
      assert.deepEqual(logSettings(project.spec, { sinks: ['stdout', 'file'] }, { PREDICTION_LOG_SINKS: 'none' }).sinks, []);
    });

    it('rejects environment values it cannot use, naming the variable', () => {
      const cases: [NodeJS.ProcessEnv, RegExp][] = [
        [{ PREDICTION_LOG_SINKS: 'stdout,kafka' }, /PREDICTION_LOG_SINKS: unknown sink "kafka"/],
        [{ FLUENTD_PORT: 'http' }, /FLUENTD_PORT must be a port number/],
        [{ FLUENTD_TAG: 'has space' }, /FLUENTD_TAG: expected a Fluentd tag/],
        [{ MONGODB_DB: 'a.b' }, /MONGODB_DB: expected a MongoDB database name/],
        [{ MONGODB_COLLECTION: 'system.users' }, /MONGODB_COLLECTION: expected a MongoDB collection name/],
      ];
      for (const [env, message] of cases) {
        assert.throws(
          () => logSettings(project.spec, {}, env),
          (error: Error) => error instanceof EnvironmentError && message.test(error.message),
        );
      }
    });

    it('refuses a malformed MONGODB_URL at start-up without printing it', () => {
      const settings = logSettings(project.spec, { sinks: ['mongodb'] }, { MONGODB_URL: 'mongodb://admin:s3cret@' });
      assert.throws(
        () => PredictionLog.create(settings),
        (error: Error) => error instanceof EnvironmentError && /MONGODB_URL/.test(error.message) && !error.message.includes('s3cret'),
      );
    });

    it('validates the config.yaml section strictly', () => {
      const section = configFileSchema.shape.prediction_log;
      const problems = (value: unknown) => {
        const result = section.safeParse(value);
        return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
      };
      assert.deepEqual(problems({ sinks: ['stdout', 'fluentd'], mongodb: { ttl_days: 7 } }), []);
      assert.match(problems({ sinks: ['syslog'] }).join(), /sinks\.0/);
      assert.match(problems({ sinks: ['stdout', 'stdout'] }).join(), /each sink at most once/);
      assert.match(problems({ queue_size: 10, batch_size: 20 }).join(), /batch_size: batch_size \(20\) must not exceed queue_size \(10\)/);
      assert.match(problems({ fluentd: { host: 'fluentd' } }).join(), /Unrecognized key.*host/i); // addresses belong to the environment
      assert.match(problems({ mongodb: { url: 'mongodb://x' } }).join(), /Unrecognized key.*url/i);
      assert.match(problems({ mongodb: { ttl_days: 0 } }).join(), /ttl_days/);
    });

    it('keeps id_field off the keys of the log record', () => {
      const config = { ...project.spec.config, id_field: 'timestamp' };
      assert.match(
        crossCheck(project.spec.features, config)
          .map((problem) => problem.message)
          .join(),
        /id_field "timestamp" is a key of the prediction log record/,
      );
    });
  });

  describe('records', () => {
    it('gives every record an id of its own, in UUID form, and all rows of a request one time', () => {
      const predictions = {
        idField: 'id',
        featureNames: [],
        ids: [1, 2],
        rows: [{}, {}],
        results: [{ prediction: 1 }, { prediction: 2 }],
        model: { uuid: 'u', version: '1', created_at: 't' },
        apiVersion: '1',
        latencyMs: 1,
      };
      const logged = Array.from({ length: 5000 }, () => loggedPredictions(predictions));
      const ids = logged.flat().map((prediction) => prediction.recordId);
      assert.equal(new Set(ids).size, 10_000);
      for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      for (const [first, second] of logged) assert.equal(first!.time, second!.time);
    });
  });

  describe('queue', () => {
    it('sends in batches of at most batch_size, in order', async () => {
      const sink = new MemorySink();
      const queue = new SinkQueue(sink, fastQueue());
      for (let i = 0; i < 35; i++) queue.push(i);
      await allSentInOrder(queue, sink, 0, 35);
      assert.ok(sink.batches.every((batch) => batch.length <= 10));
      assert.deepEqual(queue.counts(), { queued: 0, in_flight: 0, sent: 35, retried: 0, dropped: 0, failed_sends: 0 });
    });

    it('keeps and retries records while the sink is down, losing none while there is room', async () => {
      const sink = new MemorySink();
      sink.down = true;
      const queue = new SinkQueue(sink, fastQueue());
      for (let i = 0; i < 50; i++) queue.push(i);
      await until(
        'several failed sends',
        () => queue.counts().failed_sends,
        (failed) => failed >= 3,
      );
      sink.down = false;
      await allSentInOrder(queue, sink, 0, 50);
      const counts = queue.counts();
      assert.equal(counts.dropped, 0);
      assert.ok(counts.retried >= 10, `retried ${counts.retried}`);
      assert.equal(counts.last_error, undefined); // cleared by the success
    });

    it('drops exactly the oldest records when full, and counts them', async () => {
      const sink = new MemorySink();
      sink.down = true;
      const queue = new SinkQueue(sink, fastQueue({ capacity: 20, batchSize: 5 }));
      for (let i = 0; i < 50; i++) queue.push(i);
      await until(
        'the failed batch back in the queue',
        () => queue.counts(),
        (counts) => counts.failed_sends > 0 && counts.in_flight === 0,
      );
      assert.deepEqual([queue.counts().queued, queue.counts().dropped], [20, 30]);
      sink.down = false;
      await allSentInOrder(queue, sink, 30, 20);
      assert.equal(queue.counts().dropped, 30);
    });

    it('flushes on close, and counts what a dead sink never got as dropped', async () => {
      const sink = new MemorySink();
      const queue = new SinkQueue(sink, fastQueue({ flushIntervalMs: 60_000 }));
      for (let i = 0; i < 7; i++) queue.push(i);
      assert.equal(await queue.flush(5_000), true);
      assert.deepEqual(sink.received, [0, 1, 2, 3, 4, 5, 6]);

      const dead = new MemorySink();
      dead.down = true;
      const stuck = new SinkQueue(dead, fastQueue({ retryInitialMs: 50, retryMaxMs: 50 }));
      for (let i = 0; i < 7; i++) stuck.push(i);
      assert.equal(await stuck.flush(120), false);
      await stuck.close();
      stuck.push(99); // after close: refused, and counted
      assert.deepEqual([stuck.counts().sent, stuck.counts().dropped, stuck.counts().queued], [0, 8, 0]);
    });
  });

  describe('in the service', () => {
    let project: TrainedProject;
    let predictor: Predictor;
    let directory: string;
    before(async () => {
      project = await trainedProject();
      predictor = await OnnxPredictor.load(project.modelDir, project.spec);
      directory = mkdtempSync(join(tmpdir(), 'prediction-log-'));
    });
    after(() => rmSync(directory, { recursive: true, force: true }));

    const idField = () => project.spec.config.id_field;
    const row = () => exampleRow(project.spec.features.features);

    it('logs every prediction with its id, model, inputs, outputs and latency, and shows the counts in /ready', async () => {
      const stdout = new PassThrough();
      let text = '';
      stdout.on('data', (chunk) => (text += chunk));
      const path = join(directory, 'nested', 'predictions.jsonl');
      const log = PredictionLog.create(
        logSettings(project.spec, { sinks: ['stdout', 'file'], flush_interval_ms: 10 }, { PREDICTION_LOG_FILE: path }),
        { stdout },
      );
      const app = createApp({ spec: project.spec, model: { predictor }, predictionLog: log });

      const one = await request(app)
        .post('/predict')
        .send({ ...row(), [idField()]: 'one' })
        .expect(200);
      const batch = await request(app)
        .post('/predict/batch')
        .send({ rows: [{ ...row(), [idField()]: 'two' }, row()] })
        .expect(200);
      await request(app).post('/predict').send({ nonsense: true }).expect(422); // not a prediction: not logged
      assert.equal(await log.close(), 0);

      const lines = text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as PredictionRecord);
      assert.deepEqual(
        readFileSync(path, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line)),
        lines,
      );
      assert.deepEqual(
        lines.map((record) => record[idField()]),
        ['one', 'two', batch.body.predictions[1][idField()]],
      );
      const [first] = lines;
      assert.deepEqual(
        Object.keys(first!)
          .filter((key) => key !== idField())
          .every((key) => PREDICTION_RECORD_KEYS.includes(key)),
        true,
      );
      assert.deepEqual(first!.model, {
        version: project.metadata.model_version, // the model's own version, beside the API's api_version
        uuid: project.metadata.uuid,
        created_at: project.metadata.created_at,
      });
      assert.equal(first!.api_version, project.spec.config.version);
      assert.deepEqual(first!.features, row());
      assert.equal(first!.prediction, one.body.prediction);
      assert.deepEqual(first!.probabilities, one.body.probabilities);
      assert.ok(typeof first!.latency_ms === 'number' && first!.latency_ms >= 0);
      assert.ok(Math.abs(Date.parse(first!.timestamp) - Date.now()) < 60_000);
      assert.deepEqual(
        lines.map((record) => record.batch_size),
        [1, 2, 2],
      );
      assert.equal(new Set(lines.map((record) => record.record_id)).size, 3);

      const ready = await request(app).get('/ready').expect(200);
      assert.deepEqual(ready.body.prediction_log.sinks.stdout, {
        queued: 0,
        in_flight: 0,
        sent: 3,
        retried: 0,
        dropped: 0,
        failed_sends: 0,
      });
      assert.equal(ready.body.prediction_log.sinks.file.sent, 3);
    });

    it('logs nothing when no sink is configured', async () => {
      const log = PredictionLog.create(logSettings(project.spec, { sinks: [] }));
      const app = createApp({ spec: project.spec, model: { predictor }, predictionLog: log });
      await request(app).post('/predict').send(row()).expect(200);
      assert.deepEqual((await request(app).get('/ready').expect(200)).body.prediction_log, { sinks: {} });
    });

    it('answers 200 while a sink fails, and reports the failure in /ready', async () => {
      const warnings: string[] = [];
      const path = join(directory, 'a-directory');
      rmSync(path, { recursive: true, force: true });
      const blocked = join(path, 'file');
      // Appending to a path below a regular file fails (ENOTDIR) for as long as the file is there.
      writeFileSync(path, 'not a directory');
      const log = PredictionLog.create(
        logSettings(
          project.spec,
          { sinks: ['file'], flush_interval_ms: 5, retry_initial_ms: 5, retry_max_ms: 10 },
          { PREDICTION_LOG_FILE: blocked },
        ),
        {
          warn: (message) => warnings.push(message),
        },
      );
      const app = createApp({ spec: project.spec, model: { predictor }, predictionLog: log });
      for (let i = 0; i < 5; i++) await request(app).post('/predict').send(row()).expect(200);
      const counts = await until(
        'a failed send',
        () => log.stats().sinks.file!,
        (file) => file.failed_sends > 0,
      );
      assert.match(counts.last_error ?? '', /ENOTDIR/);
      assert.match((await request(app).get('/ready').expect(200)).body.prediction_log.sinks.file.last_error, /ENOTDIR/);
      assert.match(warnings.join('\n'), /prediction log: sending to file failed .*ENOTDIR.*kept and retried/);
      assert.equal(await log.close(50), 5);
      assert.equal(log.stats().sinks.file!.dropped, 5);
    });
  });
});
