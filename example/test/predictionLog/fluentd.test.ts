// The fluentd sink: the real fluent-logger client, from the real HTTP server, over TCP to a Forward-protocol
// receiver (test/support/fluentdReceiver.ts). With FLUENTD_HOST set, one more test runs against that Fluentd.
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { PredictionLog } from '../../src/predictionLog/index.js';
import type { PredictionRecord } from '../../src/runtime/wireFormat.js';
import { startDeafPeer } from '../support/deafPeer.js';
import { FluentdReceiver } from '../support/fluentdReceiver.js';
import { logSettings, predictionsToLog, predictMany, startLoggingServer, until } from '../support/predictionLoad.js';
import { outageUnderLoad, quickRetries, sinkTestSetup, skipUnlessSet } from '../support/remoteSinks.js';

describe('prediction log to Fluentd', () => {
  const setup = sinkTestSetup(() => FluentdReceiver.start());

  const fluentdSettings = (section: Record<string, unknown> = {}) =>
    logSettings(setup.project.spec, quickRetries('fluentd', section), {
      FLUENTD_HOST: '127.0.0.1',
      FLUENTD_PORT: String(setup.testServer.port),
    });
  const idField = () => setup.project.spec.config.id_field;
  const receivedIds = () => setup.testServer.events.map((event) => (event.record as PredictionRecord)[idField()] as string);
  const fluentdCounts = () => setup.running!.predictionLog.stats().sinks.fluentd!;

  it('delivers every prediction exactly once, batched and acknowledged, with its tag and sub-second time', async () => {
    // An acknowledgement later than timeout_ms makes the sink send the batch again (at least once): on a busy
    // machine 500 ms can pass, so this test, which is about delivery and not about outages, waits longer.
    setup.running = await startLoggingServer(
      setup.project.spec,
      setup.project.modelDir,
      fluentdSettings({ fluentd: { timeout_ms: 10_000 } }),
    );
    const load = await predictMany(setup.running.url, setup.project.spec, 300, 'n');
    assert.deepEqual(load.statuses, { 200: 300 });
    await setup.testServer.waitForEvents(300);
    await until('the counts to settle', fluentdCounts, (counts) => counts.sent === 300);

    assert.equal(setup.testServer.events.length, 300);
    assert.deepEqual(receivedIds().sort(), [...load.ids].sort());
    assert.ok(setup.testServer.acks < 300, `${setup.testServer.acks} acks for 300 records: sent in batches`);
    const event = setup.testServer.events[0]!;
    assert.equal(event.tag, `${setup.project.spec.config.name}.prediction`);
    const record = event.record as PredictionRecord;
    assert.equal(event.time, Date.parse(record.timestamp) / 1000); // EventTime keeps the milliseconds
    assert.equal((record.model as { uuid: string }).uuid, setup.project.metadata.uuid);
    assert.deepEqual(fluentdCounts(), { queued: 0, in_flight: 0, sent: 300, retried: 0, dropped: 0, failed_sends: 0 });
  });

  it('loses nothing during an outage of several seconds under load, answering 200 throughout', async () => {
    setup.running = await startLoggingServer(setup.project.spec, setup.project.modelDir, fluentdSettings({ queue_size: 200_000 }));
    const { result, counts } = await outageUnderLoad(setup, 'Fluentd', () => setup.testServer.events.length, fluentdCounts);
    assert.equal(counts.dropped, 0);
    assert.ok(counts.retried > 0);
    // At-least-once: a batch received just as the receiver went down may come twice; none may be missing.
    assert.deepEqual([...new Set(receivedIds())].sort(), [...result.ids].sort());
  });

  it('drops exactly the oldest records when the queue is full, and delivers the rest in order', async () => {
    await setup.testServer.stop(); // down from the start
    setup.running = await startLoggingServer(
      setup.project.spec,
      setup.project.modelDir,
      fluentdSettings({ queue_size: 40, batch_size: 10 }),
    );
    const load = await predictMany(setup.running.url, setup.project.spec, 100, 'full', 1); // one at a time: ids in order
    assert.deepEqual(load.statuses, { 200: 100 });
    const full = await until('the failed batch back in the queue', fluentdCounts, (c) => c.failed_sends > 0 && c.in_flight === 0);
    assert.deepEqual([full.queued, full.dropped, full.sent], [40, 60, 0]);

    await setup.testServer.restart();
    await until('the queue to drain', fluentdCounts, (c) => c.sent === 40);
    assert.deepEqual(receivedIds(), load.ids.slice(60));
    assert.equal(fluentdCounts().dropped, 60);
  });

  it('delivers without acks when ack is off', async () => {
    setup.running = await startLoggingServer(
      setup.project.spec,
      setup.project.modelDir,
      fluentdSettings({ fluentd: { ack: false, timeout_ms: 500 } }),
    );
    const load = await predictMany(setup.running.url, setup.project.spec, 50, 'noack');
    await setup.testServer.waitForEvents(50);
    assert.deepEqual(receivedIds().sort(), [...load.ids].sort());
    await until('the counts to settle', fluentdCounts, (counts) => counts.sent === 50);
  });

  it('leaves no socket behind per failed send against a peer that accepts but never reads, and closes', async () => {
    // What Fluentd with `overflow_action block` and its output down looks like: connections are accepted, nothing
    // is read and no ack ever comes. Each failed send must close its socket, not leave it half-closed for good.
    const deaf = await startDeafPeer();
    const { accepted, port } = deaf;
    /** This process's sockets connected to the deaf peer and not yet closed. */
    const openSockets = () =>
      (process as unknown as { _getActiveHandles(): unknown[] })
        ._getActiveHandles()
        .filter((handle) => handle instanceof Socket && handle.remotePort === port && !handle.destroyed).length;
    try {
      const settings = logSettings(
        setup.project.spec,
        { sinks: ['fluentd'], flush_interval_ms: 10, retry_initial_ms: 10, retry_max_ms: 20, fluentd: { timeout_ms: 100 } },
        { FLUENTD_HOST: '127.0.0.1', FLUENTD_PORT: String(port) },
      );
      const log = PredictionLog.create({ ...settings, sinks: ['fluentd'] });
      log.log(predictionsToLog(setup.project, 50, 'deaf'));
      const counts = await until(
        'ten failed sends',
        () => log.stats().sinks.fluentd!,
        (c) => c.failed_sends >= 10,
      );
      assert.ok(accepted.length >= 10, `${accepted.length} connections for ${counts.failed_sends} failed sends`);
      assert.ok(openSockets() <= 1, `${openSockets()} sockets still open after ${counts.failed_sends} failed sends`);
      assert.equal(await log.close(1_000), 50); // none delivered, and close() completes
      await until('every socket to the peer closed', openSockets, (open) => open === 0, 5_000);
    } finally {
      deaf.close();
    }
  });

  describe('against a real Fluentd (runs when FLUENTD_HOST is set)', () => {
    before(skipUnlessSet('FLUENTD_HOST', '(and FLUENTD_PORT, default 24224) to reach a real Fluentd'));

    it('gets every record acknowledged by Fluentd', async () => {
      const settings = logSettings(setup.project.spec, { sinks: ['fluentd'], flush_interval_ms: 20, fluentd: { ack: true } }, process.env);
      const log = PredictionLog.create({ ...settings, sinks: ['fluentd'] });
      log.log(predictionsToLog(setup.project, 100, `integration-${Date.now()}`));
      assert.equal(await log.close(15_000), 0, `last error: ${log.stats().sinks.fluentd?.last_error}`);
      assert.equal(log.stats().sinks.fluentd!.sent, 100);
    });
  });
});
