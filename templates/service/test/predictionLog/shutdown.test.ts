// Graceful shutdown of the real `npm start` process: on SIGTERM it stops accepting connections, finishes the
// request in flight, flushes the prediction log to every sink (here Fluentd and MongoDB at once), and exits 0.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FluentdReceiver } from '../support/fluentdReceiver.js';
import { MongoTestServer } from '../support/mongoServer.js';
import { predictBody, predictMany, sleep } from '../support/predictionLoad.js';
import { spawnService, writeConfig, type ServiceProcess } from '../support/serviceProcess.js';
import { trainedProject, type TrainedProject } from '../support/trainedModel.js';

/** Resolves true when a TCP connection to the port is refused (nothing listens any more). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('graceful shutdown with prediction logging', () => {
  let project: TrainedProject;
  let receiver: FluentdReceiver;
  let mongo: MongoTestServer;
  let directory: string;
  let service: ServiceProcess | undefined;

  before(async () => {
    project = await trainedProject();
    receiver = await FluentdReceiver.start();
    mongo = await MongoTestServer.start();
    directory = mkdtempSync(join(tmpdir(), 'shutdown-'));
  });
  after(async () => {
    service?.kill();
    await receiver.stop();
    await mongo.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('on SIGTERM stops accepting, finishes the request in flight, flushes every sink and exits 0', async () => {
    // Records are only sent in batches of 1000 or after 10 minutes: what arrives below arrives by the flush.
    const configPath = writeConfig(directory, (config) => {
      config.prediction_log = { sinks: ['fluentd', 'mongodb'], batch_size: 1000, flush_interval_ms: 600_000, shutdown_timeout_ms: 10_000 };
    });
    service = spawnService({
      CONFIG_PATH: configPath,
      MODEL_DIR: project.modelDir,
      PREDICTION_LOG_SINKS: '', // config.yaml's sinks
      FLUENTD_HOST: '127.0.0.1',
      FLUENTD_PORT: String(receiver.port),
      MONGODB_URL: mongo.url,
      MONGODB_DB: 'logs',
    });
    const { child, exited, output } = service;
    const url = await service.listening();
    await service.waitForOutput(/warmed up: ready/);
    const port = Number(new URL(url).port);

    const before = await predictMany(url, project.spec, 20, 'before');
    assert.deepEqual(before.statuses, { 200: 20 });
    assert.equal(receiver.events.length, 0, 'nothing sent before shutdown');

    // A request in flight: its headers are in (the server answered 100 Continue), its body not yet.
    const body = predictBody(project.spec, 'in-flight');
    const inFlight = request(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
    });
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      inFlight.once('response', (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      inFlight.once('error', reject);
    });
    await new Promise<void>((resolve) => inFlight.once('continue', resolve));

    child.kill('SIGTERM');
    for (const deadline = Date.now() + 10_000; !(await refused(port)) && Date.now() < deadline;) await sleep(20);
    assert.equal(await refused(port), true, 'a new connection is refused after SIGTERM');
    inFlight.end(body);
    const { status, text } = await answer;
    assert.equal(status, 200, text);
    assert.equal(JSON.parse(text)[project.spec.config.id_field], 'in-flight');

    assert.equal(await exited, 0, output());
    assert.match(output(), /SIGTERM: finishing in-flight requests and flushing the prediction log/);
    const expected = [...before.ids, 'in-flight'].sort();
    const idField = project.spec.config.id_field;
    assert.deepEqual(receiver.events.map((event) => event.record[idField]).sort(), expected);
    assert.deepEqual(
      mongo
        .documents('logs', 'predictions')
        .map((document) => document[idField])
        .sort(),
      expected,
    );
  });
});
