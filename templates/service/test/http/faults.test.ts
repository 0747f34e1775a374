// Faults of the real `npm start` process: a model that cannot be served (missing, corrupt, not trained for
// this features.yaml) stops the start-up with a clear message, or leaves the service up with /ready at 503
// (server.on_model_error: not_ready); prediction log sinks that hang hold up no request and no shutdown;
// SIGTERM under keep-alive load loses no request the server took; SIGTERM while loading and a second SIGTERM.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { projectPaths } from '../../src/contract/environment.js';
import { LATEST_FILE, METADATA_FILE, MODEL_FILE, PREPROCESSOR_FILE } from '../../src/model/artifacts.js';
import type { PredictionLogStats } from '../../src/predictionLog/index.js';
import { predictBody, predictMany, sleep, until } from '../support/predictionLoad.js';
import { spawnService, writeConfig, type ServiceProcess } from '../support/serviceProcess.js';
import { SilentServer } from '../support/silentServer.js';
import { trainedProject, type TrainedProject } from '../support/trainedModel.js';

/** A stack trace line, e.g. "    at main (/app/src/http/server.ts:12:3)". */
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function predictionLogCounts(url: string): Promise<PredictionLogStats['sinks']> {
  return ((await getJson(`${url}/ready`)).body.prediction_log as PredictionLogStats).sinks;
}

/** The request ids of the records the file sink wrote, in order. */
function loggedIds(path: string, idField: string): string[] {
  const text = readFileSync(path, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => String((JSON.parse(line) as Record<string, unknown>)[idField]));
}

interface Outcome {
  id: string;
  /** The HTTP status, or undefined when there was no answer. */
  status?: number;
  /** The answer said `connection: close`: it was given during the shutdown. */
  lastOnConnection?: boolean;
  /** Why there was no answer, e.g. ECONNREFUSED. */
  error?: string;
}

/** One POST /predict over the keep-alive agent. */
function predictOver(agent: Agent, url: string, body: string, id: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(`${url}/predict`, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ id, status: res.statusCode!, lastOnConnection: res.headers.connection === 'close' }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ id, error: error.code ?? error.message }));
    req.end(body);
  });
}

describe('faults', () => {
  let project: TrainedProject;
  let directory: string;
  let version: string;
  const started: ServiceProcess[] = [];
  const start = (env: NodeJS.ProcessEnv) => {
    const service = spawnService(env);
    started.push(service);
    return service;
  };

  before(async () => {
    project = await trainedProject();
    directory = mkdtempSync(join(tmpdir(), 'faults-'));
    version = readFileSync(join(project.modelDir, LATEST_FILE), 'utf8').trim();
  });
  after(() => {
    for (const service of started) service.kill();
    rmSync(directory, { recursive: true, force: true });
  });

  /** A copy of the trained model store, damaged by `damage(store, versionFolder)`. */
  function damagedStore(name: string, damage: (store: string, folder: string) => void): string {
    const store = join(directory, name);
    cpSync(project.modelDir, store, { recursive: true });
    damage(store, join(store, version));
    return store;
  }

  /** Starts the service, expects it to refuse: exit 1 with one "Cannot start: …" message, no stack trace. */
  async function refusesToStart(env: NodeJS.ProcessEnv, expected: RegExp): Promise<string> {
    const service = start(env);
    const code = await service.exited;
    const output = service.output();
    assert.equal(code, 1, output);
    const message = output.slice(output.indexOf('Cannot start: '));
    assert.match(message, /^Cannot start: /, output);
    assert.equal(output.match(/Cannot start: /g)?.length, 1, 'said once');
    assert.match(message, expected);
    assert.doesNotMatch(output, STACK_LINE, 'no stack trace');
    assert.doesNotMatch(output, /ready/);
    return message;
  }

  describe('a model that cannot be served: the service refuses to start (server.on_model_error: exit)', () => {
    const cases: { name: string; damage: (store: string, folder: string) => void; expected: (store: string) => RegExp }[] = [
      {
        name: 'model.onnx missing',
        damage: (_store, folder) => unlinkSync(join(folder, MODEL_FILE)),
        expected: () => new RegExp(`${version}/${MODEL_FILE}: not found\\. Train a model first`),
      },
      {
        name: 'model.onnx truncated',
        damage: (_store, folder) => {
          const bytes = readFileSync(join(folder, MODEL_FILE));
          writeFileSync(join(folder, MODEL_FILE), bytes.subarray(0, Math.floor(bytes.length / 2)));
        },
        expected: () => new RegExp(`${version}/${MODEL_FILE} cannot be loaded by onnxruntime: .+`),
      },
      {
        name: 'model.onnx overwritten with bytes that are not ONNX',
        damage: (_store, folder) =>
          writeFileSync(join(folder, MODEL_FILE), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256))),
        expected: () => new RegExp(`${version}/${MODEL_FILE} cannot be loaded by onnxruntime: .+`),
      },
      {
        name: 'model.onnx empty',
        damage: (_store, folder) => writeFileSync(join(folder, MODEL_FILE), ''),
        expected: () => new RegExp(`${version}/${MODEL_FILE} is empty \\(0 bytes\\)`),
      },
      {
        name: 'model.json not valid JSON',
        damage: (_store, folder) => writeFileSync(join(folder, METADATA_FILE), '{ "task": "classif'),
        expected: () => new RegExp(`${version}/${METADATA_FILE}: not valid JSON`),
      },
      {
        name: 'model.json without the features',
        damage: (_store, folder) => {
          const { features: _features, ...rest } = JSON.parse(readFileSync(join(folder, METADATA_FILE), 'utf8')) as Record<string, unknown>;
          writeFileSync(join(folder, METADATA_FILE), JSON.stringify(rest));
        },
        expected: () => new RegExp(`${version}/${METADATA_FILE} is not a valid model description:\\n {2}features: `),
      },
      {
        name: 'preprocessor.json damaged',
        damage: (_store, folder) => writeFileSync(join(folder, PREPROCESSOR_FILE), '{"encoders": '),
        expected: () => new RegExp(`${version}/${PREPROCESSOR_FILE}: not valid JSON`),
      },
      {
        // What the project's Preprocessor.fromJSON makes of it is the project's code: the service only promises
        // a message naming the model store, without a stack trace.
        name: 'preprocessor.json of another shape',
        damage: (_store, folder) => writeFileSync(join(folder, PREPROCESSOR_FILE), '{"unexpected": true}'),
        expected: (store) => new RegExp(`^Cannot start: .*${store}`),
      },
      {
        name: 'model_bin/ without LATEST',
        damage: (store) => unlinkSync(join(store, LATEST_FILE)),
        expected: (store) => new RegExp(`${store}/LATEST not found \\(available: ${version}\\)`),
      },
      {
        name: 'LATEST naming a model that is not there',
        damage: (store) => writeFileSync(join(store, LATEST_FILE), '20200101T000000Z-00000000\n'),
        expected: (store) =>
          new RegExp(`${store}/LATEST names "20200101T000000Z-00000000", but there is no such model \\(available: ${version}\\)`),
      },
    ];
    for (const { name, damage, expected } of cases) {
      it(`${name}: exit 1 with a message saying where and what is wrong`, async () => {
        const store = damagedStore(name.replace(/\W+/g, '-'), damage);
        await refusesToStart({ MODEL_DIR: store }, expected(store));
      });
    }

    it('with server.workers: 2, every worker refuses and the primary exits 1 instead of restarting them', async () => {
      const store = damagedStore('cluster', (_store, folder) => unlinkSync(join(folder, MODEL_FILE)));
      const config = writeConfig(directory, (c) => (c.server = { ...(c.server as object), workers: 2 }), 'cluster.yaml');
      const service = start({ MODEL_DIR: store, CONFIG_PATH: config });
      assert.equal(await service.exited, 1, service.output());
      const output = service.output();
      assert.match(output, new RegExp(`Cannot start: .*${version}/${MODEL_FILE}: not found`));
      assert.match(output, /before serving; stopping the others/);
      assert.doesNotMatch(output, /starting a new one/);
      assert.doesNotMatch(output, STACK_LINE);
    });

    it('MODEL_DIR pointing nowhere: exit 1 naming the folder', async () => {
      const missing = join(directory, 'no-such-folder');
      await refusesToStart({ MODEL_DIR: missing }, new RegExp(`${missing}/ does not exist\\. Train a model with`));
    });
  });

  describe('features.yaml changed after training: the service refuses to start, listing the differences', () => {
    /** features.yaml with its features list changed by `change`; returns its path. */
    const changedFeatures = (name: string, change: (features: Record<string, unknown>[]) => void) => {
      const document = parse(readFileSync(projectPaths().features, 'utf8')) as { features: Record<string, unknown>[] };
      change(document.features);
      const path = join(directory, `${name}.features.yaml`);
      writeFileSync(path, stringify(document));
      return path;
    };
    const refusal = (problems: string) =>
      new RegExp(`The model in .*${version} does not match features\\.yaml / config\\.yaml[^\\n]*:\\n${problems}`);

    it('a feature renamed', async () => {
      const first = project.spec.features.features[0]!;
      const path = changedFeatures('renamed', (features) => (features[0]!.name = `${first.name}_renamed`));
      await refusesToStart(
        { MODEL_DIR: project.modelDir, FEATURES_PATH: path },
        refusal(
          ` {2}feature "${first.name}" \\(${first.type}\\) is in the model but not in features\\.yaml\\n` +
            ` {2}feature "${first.name}_renamed" \\(${first.type}\\) is in features\\.yaml but not in the model`,
        ),
      );
    });

    it('a feature removed', async () => {
      const last = project.spec.features.features.at(-1)!;
      const path = changedFeatures('removed', (features) => features.pop());
      await refusesToStart(
        { MODEL_DIR: project.modelDir, FEATURES_PATH: path },
        refusal(` {2}feature "${last.name}" \\(${last.type}\\) is in the model but not in features\\.yaml`),
      );
    });

    it('a feature of another type', async () => {
      const first = project.spec.features.features[0]!;
      const type = first.type === 'boolean' ? 'number' : 'boolean';
      const path = changedFeatures('retyped', (features) => (features[0] = { name: first.name, type }));
      await refusesToStart(
        { MODEL_DIR: project.modelDir, FEATURES_PATH: path },
        refusal(` {2}feature "${first.name}" is ${first.type} in the model but ${type} in features\\.yaml`),
      );
    });
  });

  describe('server.on_model_error: not_ready', () => {
    it('keeps serving: /health 200, /ready 503 with the reason, /predict 503; the error is logged once', async () => {
      const store = damagedStore('not-ready', (_store, folder) => unlinkSync(join(folder, MODEL_FILE)));
      const config = writeConfig(directory, (c) => (c.server = { ...(c.server as object), on_model_error: 'not_ready' }), 'not-ready.yaml');
      const service = start({ MODEL_DIR: store, CONFIG_PATH: config });
      const url = await service.listening();
      await service.waitForOutput(/Model not loaded/);

      const health = await getJson(`${url}/health`);
      assert.deepEqual([health.status, health.body.status], [200, 'ok']);
      for (let i = 0; i < 3; i++) {
        const ready = await getJson(`${url}/ready`);
        assert.equal(ready.status, 503);
        assert.equal(ready.body.status, 'model_error');
        assert.match(String(ready.body.message), new RegExp(`${version}/${MODEL_FILE}: not found`));
      }
      const predict = await fetch(`${url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: predictBody(project.spec, 'no-model'),
      });
      const answer = (await predict.json()) as Record<string, unknown>;
      assert.equal(predict.status, 503);
      assert.equal(answer.error, 'not_ready');
      assert.match(String(answer.message), /could not be loaded.*GET \/ready says why/);
      assert.doesNotMatch(String(answer.message), new RegExp(store), 'clients are not told file paths');

      const output = service.output();
      assert.equal(output.match(/Model not loaded: /g)?.length, 1, output);
      assert.match(output, new RegExp(`Model not loaded: .*${version}/${MODEL_FILE}: not found`));
      assert.doesNotMatch(output, STACK_LINE);
      service.child.kill('SIGTERM');
      assert.equal(await service.exited, 0, service.output());
    });
  });

  describe('prediction log sinks that hang (they accept the connection and never answer)', () => {
    let fluentd: SilentServer;
    let mongodb: SilentServer;
    before(async () => {
      fluentd = await SilentServer.start();
      mongodb = await SilentServer.start();
    });
    after(async () => {
      await fluentd.stop();
      await mongodb.stop();
    });

    it('answers every request while they acknowledge nothing, counts what they hold and drop, and still stops on SIGTERM', async () => {
      const count = 60;
      const capacity = 20;
      const logFile = join(directory, 'hanging-sinks.jsonl');
      const config = writeConfig(
        directory,
        (c) =>
          (c.prediction_log = {
            sinks: ['file', 'fluentd', 'mongodb'],
            queue_size: capacity,
            batch_size: 5,
            flush_interval_ms: 600_000, // only full batches go: the counts below do not depend on timing
            shutdown_timeout_ms: 500,
            fluentd: { ack: true, timeout_ms: 600_000 },
            mongodb: { timeout_ms: 600_000 },
          }),
        'hanging-sinks.yaml',
      );
      const service = start({
        MODEL_DIR: project.modelDir,
        CONFIG_PATH: config,
        PREDICTION_LOG_SINKS: '', // config.yaml's
        PREDICTION_LOG_FILE: logFile,
        FLUENTD_HOST: '127.0.0.1',
        FLUENTD_PORT: String(fluentd.port),
        MONGODB_URL: `mongodb://127.0.0.1:${mongodb.port}/?directConnection=true`,
      });
      const url = await service.listening();
      await service.waitForOutput(/ready/);

      const load = await predictMany(url, project.spec, count, 'hang');
      assert.deepEqual(load.statuses, { 200: count }, 'every request answered, as without sinks');
      // The file sink (behind a queue as small as the others') keeps writing while the other two hang.
      let sinks = await predictionLogCounts(url);
      for (const deadline = Date.now() + 15_000; !sinks.file?.sent && Date.now() < deadline;) {
        await sleep(20);
        sinks = await predictionLogCounts(url);
      }
      assert.ok(sinks.file!.sent > 0, `the working sink is not held up by the hanging ones: ${JSON.stringify(sinks)}`);
      for (const name of ['fluentd', 'mongodb'] as const) {
        const counts = sinks[name]!;
        assert.equal(counts.sent, 0, `${name} acknowledged nothing`);
        assert.ok(counts.in_flight > 0, `${name} holds a batch in flight: ${JSON.stringify(counts)}`);
        assert.equal(counts.queued, capacity, `${name}'s queue is full`);
        assert.equal(counts.queued + counts.in_flight + counts.dropped, count, `${name}: every record counted once`);
      }
      assert.ok(fluentd.bytesReceived > 0, 'the Fluentd sink did send');
      assert.ok(mongodb.connections > 0, 'the MongoDB sink did connect');

      service.child.kill('SIGTERM');
      assert.equal(await service.exited, 0, `a clean exit, not the forced one:\n${service.output()}`);
      const output = service.output();
      const unsent = sinks.fluentd!.queued + sinks.fluentd!.in_flight;
      assert.match(output, new RegExp(`prediction log: ${unsent} record\\(s\\) not delivered to fluentd before shutdown`));
      const final =
        /Stopped\. Prediction log: file sent (\d+), dropped (\d+); fluentd sent 0, dropped (\d+); mongodb sent 0, dropped (\d+)/.exec(
          output,
        );
      assert.ok(final, output);
      const [fileSent, fileDropped, fluentdDropped, mongodbDropped] = final.slice(1).map(Number);
      assert.equal(fileSent! + fileDropped!, count);
      assert.deepEqual([fluentdDropped, mongodbDropped], [count, count], 'what the hanging sinks never got is counted as dropped');
      assert.equal(loggedIds(logFile, project.spec.config.id_field).length, fileSent, 'the file holds what the file sink counts as sent');
    });
  });

  describe('SIGTERM under keep-alive load', () => {
    it('answers every request the server took with 200, refuses only new connections, exits 0, one log record per answer', async () => {
      const logFile = join(directory, 'sigterm-load.jsonl');
      const config = writeConfig(directory, (c) => (c.prediction_log = { sinks: ['file'] }), 'sigterm-load.yaml');
      const service = start({ MODEL_DIR: project.modelDir, CONFIG_PATH: config, PREDICTION_LOG_SINKS: '', PREDICTION_LOG_FILE: logFile });
      const url = await service.listening();
      await service.waitForOutput(/ready/);

      const clients = 8;
      const agent = new Agent({ keepAlive: true, maxSockets: clients });
      const outcomes: Outcome[] = [];
      let next = 0;
      // Each client sends on its kept-alive connection until it gets no answer: after the shutdown that is a
      // refused new connection; anything else (a reset, a hang-up) would be a request lost in flight.
      const client = async () => {
        for (;;) {
          const id = `load-${next++}`;
          const outcome = await predictOver(agent, url, predictBody(project.spec, id), id);
          outcomes.push(outcome);
          if (outcome.status === undefined) return;
        }
      };
      const running = Array.from({ length: clients }, client);
      await until(
        'some answers before the signal',
        () => outcomes.length,
        (answered) => answered >= 200,
      );
      service.child.kill('SIGTERM');
      await Promise.all(running);
      agent.destroy();
      const code = await service.exited;

      const failures = outcomes.filter((outcome) => outcome.status !== 200);
      assert.deepEqual(
        failures.map((outcome) => outcome.error ?? outcome.status),
        Array(clients).fill('ECONNREFUSED'),
        'each client ends on a refused new connection, and nothing else fails',
      );
      const answered = outcomes.filter((outcome) => outcome.status === 200);
      assert.ok(
        answered.some((outcome) => outcome.lastOnConnection),
        'requests in flight at the signal were answered (with connection: close)',
      );
      assert.equal(code, 0, service.output());
      const logged = loggedIds(logFile, project.spec.config.id_field);
      assert.equal(new Set(logged).size, logged.length, 'no record twice');
      assert.deepEqual(logged.sort(), answered.map((outcome) => outcome.id).sort(), 'one record per 200');
    });
  });

  describe('shutdown edge cases', () => {
    it('SIGTERM while the model is still loading: exit 0, no start-up error', async function () {
      if (process.platform === 'win32') this.skip(); // needs a named pipe (mkfifo)
      // model.onnx is a named pipe the test holds open: reading it, the service waits for the test.
      const store = damagedStore('loading', (_store, folder) => {
        unlinkSync(join(folder, MODEL_FILE));
        execFileSync('mkfifo', [join(folder, MODEL_FILE)]);
      });
      const service = start({ MODEL_DIR: store });
      const url = await service.listening();
      const writer = await open(join(store, version, MODEL_FILE), 'w'); // returns once the service opened it
      const ready = await getJson(`${url}/ready`);
      assert.deepEqual([ready.status, ready.body.status], [503, 'loading']);
      assert.equal((await getJson(`${url}/health`)).status, 200);

      service.child.kill('SIGTERM');
      await service.waitForOutput(/Stopped\./);
      await writer.write(Buffer.from('not a model')); // the load can now end, and fail
      await writer.close();
      assert.equal(await service.exited, 0, service.output());
      assert.doesNotMatch(service.output(), /Cannot start|Model not loaded/);
    });

    it('a second SIGTERM ends a shutdown that waits for a stalled request: exit 1 at once', async () => {
      const service = start({ MODEL_DIR: project.modelDir });
      const url = await service.listening();
      await service.waitForOutput(/ready/);
      // A request whose body never comes: the shutdown waits for it.
      const body = predictBody(project.spec, 'stalled');
      const stalled = request(`${url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
      });
      stalled.on('error', () => {});
      await new Promise<void>((resolve) => stalled.once('continue', resolve));
      stalled.write(body.slice(0, 5));

      service.child.kill('SIGTERM');
      await service.waitForOutput(/SIGTERM: finishing in-flight requests/);
      assert.equal(service.child.exitCode, null, 'the first SIGTERM waits for the request');
      service.child.kill('SIGTERM');
      assert.equal(await service.exited, 1);
      assert.match(service.output(), /SIGTERM again: exiting without finishing the shutdown/);
      stalled.destroy();
    });
  });
});
