// The mongodb sink: the official driver, from the real HTTP server, over TCP to a wire-protocol test server
// (test/support/mongoServer.ts). With MONGODB_URL set, one more test runs against that MongoDB.
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { PredictionLog } from '../../src/predictionLog/index.js';
import type { PredictionRecord } from '../../src/runtime/wireFormat.js';
import { loggedPredictions } from '../../src/predictionLog/record.js';
import { MongoPredictionLookup } from '../../src/monitoring/predictionLookup.js';
import { MongodbSink } from '../../src/predictionLog/sinks/mongodb.js';
import { MongodbConnection } from '../../src/predictionLog/sinks/mongodbConnection.js';
import { MongoTestServer } from '../support/mongoServer.js';
import { logSettings, predictionsToLog, predictMany, startLoggingServer, until } from '../support/predictionLoad.js';
import { outageUnderLoad, quickRetries, sinkTestSetup, skipUnlessSet } from '../support/remoteSinks.js';

describe('prediction log to MongoDB', () => {
  const setup = sinkTestSetup(() => MongoTestServer.start());

  const mongoSettings = (section: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) =>
    logSettings(setup.project.spec, quickRetries('mongodb', section), {
      MONGODB_URL: setup.testServer.url,
      MONGODB_DB: 'logs',
      MONGODB_COLLECTION: 'predictions',
      ...env,
    });
  const idField = () => setup.project.spec.config.id_field;
  const storedIds = () => setup.testServer.documents('logs', 'predictions').map((document) => document[idField()] as string);
  const mongoCounts = () => setup.running!.predictionLog.stats().sinks.mongodb!;
  const logged = (count: number, prefix: string) => loggedPredictions(predictionsToLog(setup.project, count, prefix));

  it('stores every prediction once, in batched inserts, with its indexes, readable through the driver', async () => {
    setup.running = await startLoggingServer(
      setup.project.spec,
      setup.project.modelDir,
      mongoSettings({ mongodb: { timeout_ms: 500, ttl_days: 30 } }),
    );
    const load = await predictMany(setup.running.url, setup.project.spec, 300, 'n');
    assert.deepEqual(load.statuses, { 200: 300 });
    await until('all stored', mongoCounts, (counts) => counts.sent === 300);

    assert.deepEqual(storedIds().sort(), [...load.ids].sort());
    const inserts = setup.testServer.commands.filter((name) => name === 'insert').length;
    assert.ok(inserts < 300, `${inserts} inserts for 300 records: batched`);
    assert.deepEqual(
      setup.testServer.indexesOf('logs', 'predictions').map(({ key, expireAfterSeconds }) => ({ key, expireAfterSeconds })),
      [
        { key: { [idField()]: 1 }, expireAfterSeconds: undefined },
        { key: { timestamp: 1 }, expireAfterSeconds: 30 * 86_400 },
      ],
    );

    const client = new MongoClient(setup.testServer.url);
    try {
      const stored = await client
        .db('logs')
        .collection('predictions')
        .findOne({ [idField()]: 'n-7' });
      assert.ok(stored, 'found by the id field');
      assert.ok(stored.timestamp instanceof Date, 'a BSON date, as TTL indexes need');
      assert.equal(typeof stored._id, 'string');
      assert.equal(stored.model.uuid, setup.project.metadata.uuid);
      assert.equal(stored.record_id, undefined); // it is the _id
    } finally {
      await client.close();
    }
    assert.deepEqual(mongoCounts(), { queued: 0, in_flight: 0, sent: 300, retried: 0, dropped: 0, failed_sends: 0 });
  });

  it('loses nothing during an outage of several seconds under load, answering 200 throughout', async () => {
    setup.running = await startLoggingServer(setup.project.spec, setup.project.modelDir, mongoSettings({ queue_size: 200_000 }));
    const { result, counts } = await outageUnderLoad(setup, 'MongoDB', () => storedIds().length, mongoCounts);
    assert.equal(counts.dropped, 0);
    assert.ok(counts.retried > 0);
    // _id = record_id: a batch re-sent after a lost reply is not stored twice, so this is exact.
    assert.deepEqual(storedIds().sort(), [...result.ids].sort());
  });

  it('counts a re-sent batch as delivered without storing it twice', async () => {
    const sink = new MongodbSink(mongoSettings().mongodb);
    try {
      const batch = logged(20, 'again');
      await sink.send(batch.slice(0, 8)); // as if the reply to this insert had been lost …
      await sink.send(batch); // … so the whole batch comes again
      assert.deepEqual(storedIds().sort(), batch.map((logged) => logged.predictions.ids[logged.row] as string).sort());
    } finally {
      await sink.close();
    }
  });

  it('keeps storing when the indexes cannot be created, and says why', async () => {
    const warnings: string[] = [];
    const first = new MongodbSink(mongoSettings().mongodb);
    await first.send(logged(1, 'plain')); // creates timestamp_1 without TTL
    await first.close();
    const withTtl = new MongodbSink({ ...mongoSettings().mongodb, ttlDays: 7 }, (message) => warnings.push(message));
    await withTtl.send(logged(3, 'ttl'));
    await withTtl.close();
    assert.equal(storedIds().length, 4);
    assert.match(warnings.join('\n'), /could not create the indexes on logs\.predictions .*different name.*drop the old timestamp index/);
  });

  it('recovers when MongoDB is down at start-up: the records queued meanwhile all arrive once it is up', async () => {
    // Kubernetes often starts the pod before the database: the driver's client stays closed for good once its
    // first connect fails, so the sink must start over with a new one.
    await setup.testServer.stop();
    setup.running = await startLoggingServer(setup.project.spec, setup.project.modelDir, mongoSettings({ mongodb: { timeout_ms: 200 } }));
    const load = await predictMany(setup.running.url, setup.project.spec, 40, 'early');
    assert.deepEqual(load.statuses, { 200: 40 });
    await until('failed sends while down', mongoCounts, (counts) => counts.failed_sends >= 2);
    await setup.testServer.restart();
    await until('all stored', mongoCounts, (counts) => counts.sent === 40);
    assert.deepEqual(storedIds().sort(), [...load.ids].sort());
    assert.equal(mongoCounts().dropped, 0);
    assert.equal(mongoCounts().last_error, undefined);
  });

  it('the feedback lookup, too, reads the log once a MongoDB that was down at start-up is up', async () => {
    await setup.testServer.stop();
    const settings = mongoSettings({ mongodb: { timeout_ms: 200 } }).mongodb;
    const lookup = new MongoPredictionLookup(new MongodbConnection(settings));
    try {
      await assert.rejects(lookup.find(['x-1'], setup.project.metadata.uuid), /Server selection timed out|ECONNREFUSED/);
      await setup.testServer.restart();
      const sink = new MongodbSink(settings);
      await sink.send(logged(1, 'x'));
      await sink.close();
      const found = await lookup.find(['x-0'], setup.project.metadata.uuid);
      assert.equal(found.size, 1);
    } finally {
      await lookup.close();
    }
  });

  it('fails a batch (kept for retry) while no server answers, within the configured timeout', async () => {
    await setup.testServer.stop();
    const sink = new MongodbSink(mongoSettings({ mongodb: { timeout_ms: 200 } }).mongodb);
    try {
      await assert.rejects(sink.send(logged(1, 'down')), /Server selection timed out|ECONNREFUSED/);
    } finally {
      await sink.close();
    }
  });

  describe('against a real MongoDB (runs when MONGODB_URL is set)', () => {
    before(skipUnlessSet('MONGODB_URL', '(e.g. mongodb://127.0.0.1:27017) to reach a real MongoDB'));

    it('stores every record and reads it back', async () => {
      const collection = `prediction_log_test_${Date.now()}`;
      const settings = logSettings(
        setup.project.spec,
        { sinks: ['mongodb'], flush_interval_ms: 20, mongodb: { ttl_days: 1 } },
        { ...process.env, MONGODB_COLLECTION: collection },
      );
      const log = PredictionLog.create({ ...settings, sinks: ['mongodb'] });
      log.log(predictionsToLog(setup.project, 100, `integration-${Date.now()}`));
      assert.equal(await log.close(15_000), 0, `last error: ${log.stats().sinks.mongodb?.last_error}`);
      const client = new MongoClient(settings.mongodb.url);
      try {
        const stored = client.db(settings.mongodb.db).collection<PredictionRecord>(collection);
        assert.equal((await stored.find({}).toArray()).length, 100);
        const indexes = await stored.listIndexes().toArray();
        assert.ok(indexes.some((index) => index.expireAfterSeconds === 86_400));
        await stored.drop();
      } finally {
        await client.close();
      }
    });
  });
});
