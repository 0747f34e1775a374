// Hot reload on the real server: a new model_bin/LATEST is served without a restart, under load, with no failed
// request and every answer from exactly one of the two models; a version that cannot serve is refused while the
// current one keeps serving; POST /admin/reload does the same on demand, for whom it may; a pin in config.yaml
// wins over LATEST and is followed too.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { projectPaths } from '../../src/contract/environment.js';
import { answerSchemas } from '../../src/http/answerSchemas.js';
import { exampleRow, type Spec } from '../../src/contract/index.js';
import { setLatest } from '../../src/model/artifacts.js';
import { startServer, type RunningServer } from '../../src/http/startServer.js';
import type { ModelEvent } from '../../src/runtime/modelLifecycle.js';
import { eventually, until } from '../support/predictionLoad.js';
import { writeConfig } from '../support/serviceProcess.js';
import { withServer } from '../support/serving.js';
import { modelVersions, sameAnswer, temporaryFolder, type ModelVersions } from '../support/modelVersions.js';

interface Answered {
  status: number;
  row: number;
  body: { model?: { version: string }; prediction?: unknown; probabilities?: Record<string, number> };
}

/** A server on a free loopback port that follows the store quickly, its log lines and model events collected. */
async function serve(spec: Spec, store: string, options: { apiKeys?: string[]; specPaths?: { features: string; config: string } } = {}) {
  const lines: string[] = [];
  const events: ModelEvent[] = [];
  const running = await startServer(
    withServer(spec, { hot_reload: { watch: true, poll_interval_ms: 200, admin_without_keys: 'loopback' } }),
    store,
    { host: '127.0.0.1', port: 0 },
    { ...options, log: (line) => lines.push(line), warn: (line) => lines.push(line) },
  );
  running.models.subscribe((event) => events.push(event));
  await running.ready;
  return { running, lines, events };
}

async function predict(url: string, versions: ModelVersions, row: number): Promise<Answered> {
  const response = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(versions.rows[row % versions.rows.length]),
  });
  return { status: response.status, row: row % versions.rows.length, body: (await response.json()) as Answered['body'] };
}

function reload(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${url}/admin/reload`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** The value of one series in a /metrics text, or undefined. */
async function metric(url: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A copy of `version`'s folder in the store under `name`, changed by `damage`. */
function brokenCopy(store: string, version: string, name: string, damage: (dir: string) => void): string {
  const dir = join(store, name);
  cpSync(join(store, version), dir, { recursive: true });
  damage(dir);
  return name;
}

const corruptOnnx = (dir: string) => writeFileSync(join(dir, 'model.onnx'), 'not an onnx model');
const dropFirstFeature = (dir: string) => {
  const metadata = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { features: unknown[] };
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...metadata, features: metadata.features.slice(1) }));
};

describe('hot reload', () => {
  let versions: ModelVersions;
  let spec: Spec;
  const servers: RunningServer[] = [];

  before(async () => {
    versions = await modelVersions();
    spec = versions.project.spec;
    const [a, b] = versions.versions;
    const differing = versions.rows.filter((_, i) => !sameAnswer(versions.expected.get(a)![i]!, versions.expected.get(b)![i]!));
    assert.ok(differing.length > 0, 'the two versions must answer some rows differently, or the tests could not tell them apart');
  });
  after(async () => {
    for (const running of servers) await running.close();
  });

  it('serves the version LATEST names next, under continuous load: no failed request, each answer from exactly one model', async () => {
    const [a, b] = versions.versions;
    const store = await versions.freshStore(a);
    const { running, events } = await serve(spec, store);
    servers.push(running);
    const answers: Answered[] = [];
    let stop = false;
    let next = 0;
    const client = async () => {
      while (!stop) answers.push(await predict(running.url, versions, next++));
    };
    const clients = Array.from({ length: 6 }, client);
    await until(
      'answers from the first model',
      () => answers.length,
      (n) => n >= 60,
    );
    await setLatest(store, b);
    await until('an answer from the second model', () => answers.some((answer) => answer.body.model?.version === b), Boolean);
    const swappedAt = answers.length;
    await until(
      'more answers after the swap',
      () => answers.length,
      (n) => n >= swappedAt + 60,
    );
    stop = true;
    await Promise.all(clients);

    assert.deepEqual(
      answers.filter((answer) => answer.status !== 200),
      [],
      'no request failed',
    );
    for (const { body, row } of answers) {
      const version = body.model!.version;
      assert.ok(version === a || version === b, `answered by ${version}`);
      assert.ok(
        sameAnswer(body as never, versions.expected.get(version)![row]!),
        `row ${row}: the answer is exactly what ${version} predicts`,
      );
    }
    assert.ok(
      answers.slice(-20).every((answer) => answer.body.model!.version === b),
      'once swapped, the new model answers',
    );
    await until(
      'the old model released',
      () => events,
      (seen) => seen.some((e) => e.outcome === 'released' && e.version === a),
    );
    assert.deepEqual(
      events.map(({ role, outcome, version }) => `${role} ${outcome} ${version}`),
      [`live loaded ${a}`, `live loaded ${b}`, `live released ${a}`],
    );
    assert.equal(await metric(running.url, 'ml_model_reloads_total{role="live",outcome="loaded"}'), 2, 'start-up and the swap');
    for (const version of [a, b]) {
      const answered = answers.filter((answer) => answer.body.model!.version === version).length;
      const series = `ml_inference_duration_seconds_count{route="/predict",model_version="${version}"}`;
      assert.equal(await metric(running.url, series), answered, `the metrics name the model that answered: ${series}`);
    }
    const ready = (await (await fetch(`${running.url}/ready`)).json()) as { status: string; model: { version: string } };
    assert.equal(ready.model.version, b);
  });

  it('refuses a version that cannot be loaded or does not fit, and keeps serving the current one with /ready at 200', async () => {
    const [a] = versions.versions;
    const store = await versions.freshStore(a);
    const { running, lines } = await serve(spec, store);
    servers.push(running);
    for (const [name, damage, why] of [
      ['corrupt', corruptOnnx, /model\.onnx cannot be loaded by onnxruntime/],
      ['other-features', dropFirstFeature, /is in features\.yaml but not in the model/],
    ] as const) {
      await setLatest(store, brokenCopy(store, a, name, damage));
      const refusal = await until('the refusal', () => lines.find((line) => line.includes(`(live ${name})`)), Boolean);
      assert.match(refusal!, /^Model reload refused \(live .*\): .* keeps serving$/);
      assert.match(refusal!, why);
      assert.ok(!refusal!.includes('\n'), 'one log line');
      for (let row = 0; row < 10; row++) {
        const answer = await predict(running.url, versions, row);
        assert.equal(answer.status, 200);
        assert.equal(answer.body.model!.version, a);
      }
      assert.equal((await fetch(`${running.url}/ready`)).status, 200);
    }
    assert.equal(await metric(running.url, 'ml_model_reloads_total{role="live",outcome="refused"}'), 2);
  });

  it('POST /admin/reload serves a named version, then what the sources name; refuses unknown (404) and unfit (422) versions', async () => {
    const [a, b] = versions.versions;
    const store = await versions.freshStore(b);
    const unfit = brokenCopy(store, a, 'unfit', dropFirstFeature);
    const { running } = await serve(spec, store);
    servers.push(running);

    const answers = answerSchemas(spec);
    const matches = (schema: { parse(value: unknown): unknown }, value: unknown) => assert.deepEqual(schema.parse(value), value);
    let res = await reload(running.url, { version: a });
    assert.equal(res.status, 200);
    let body = (await res.json()) as { live: { outcome: string; model: { version: string }; previous: { version: string } } };
    matches(answers.ModelReload, body);
    assert.equal(body.live.outcome, 'swapped');
    assert.equal(body.live.model.version, a);
    assert.equal(body.live.previous.version, b);
    assert.equal((await predict(running.url, versions, 0)).body.model!.version, a);
    // The admin's choice stands until the sources change: LATEST still names b, and nothing reverts it.
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal((await predict(running.url, versions, 0)).body.model!.version, a);

    res = await reload(running.url, {});
    body = (await res.json()) as typeof body;
    assert.equal(res.status, 200);
    assert.deepEqual([body.live.outcome, body.live.model.version], ['swapped', b]);
    res = await reload(running.url, {});
    assert.equal(((await res.json()) as typeof body).live.outcome, 'unchanged');

    res = await reload(running.url, { version: 'no-such-version' });
    assert.equal(res.status, 404);
    const unknown = (await res.json()) as { error: string; message: string; live: { model: { version: string } } };
    assert.equal(unknown.error, 'unknown_version');
    assert.match(unknown.message, new RegExp(`has no model "no-such-version" \\(available: .*${a}`));
    assert.equal(unknown.live.model.version, b, 'the current model keeps serving');
    matches(answers.ModelReloadRefused, unknown);

    res = await reload(running.url, { version: unfit });
    assert.equal(res.status, 422);
    const refused = (await res.json()) as { error: string; message: string };
    assert.equal(refused.error, 'model_refused');
    assert.match(refused.message, /does not match features\.yaml/);
    matches(answers.ModelReloadRefused, refused);
    assert.equal((await predict(running.url, versions, 0)).body.model!.version, b);

    res = await reload(running.url, { version: '../etc' });
    assert.equal(res.status, 422, 'a name that is not a folder name is invalid');
  });

  it('POST /admin/reload needs an API key when keys are set, and without keys is for loopback callers only', async () => {
    const [a, b] = versions.versions;
    const keyed = await serve(spec, await versions.freshStore(a), { apiKeys: ['admin-key-0123456789'] });
    servers.push(keyed.running);
    assert.equal((await reload(keyed.running.url, { version: b })).status, 401);
    assert.equal((await reload(keyed.running.url, { version: b }, { 'x-api-key': 'wrong-key-0123456789' })).status, 401);
    assert.equal((await reload(keyed.running.url, { version: b }, { 'x-api-key': 'admin-key-0123456789' })).status, 200);

    const closed = await startServer(
      withServer(spec, { hot_reload: { watch: false, poll_interval_ms: 0, admin_without_keys: 'off' } }),
      await versions.freshStore(a),
      { host: '127.0.0.1', port: 0 },
      { log: () => {}, warn: () => {} },
    );
    servers.push(closed);
    await closed.ready;
    const res = await reload(closed.url, { version: b });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { message: string }).message, /admin_without_keys: off/);

    // From another address of this machine (not loopback), when it has one.
    const address = Object.values(networkInterfaces())
      .flat()
      .find((candidate) => candidate && candidate.family === 'IPv4' && !candidate.internal)?.address;
    if (address) {
      const open = await startServer(spec, await versions.freshStore(a), { host: '0.0.0.0', port: 0 }, { log: () => {}, warn: () => {} });
      servers.push(open);
      await open.ready;
      const port = (open.server.address() as { port: number }).port;
      const remote = await reload(`http://${address}:${port}`, { version: b });
      assert.equal(remote.status, 403);
      assert.match(((await remote.json()) as { message: string }).message, /loopback/);
      assert.equal((await reload(`http://127.0.0.1:${port}`, { version: b })).status, 200);
    }
  });

  it('follows config.yaml: a pinned server.model_version wins over LATEST, and removing the pin serves LATEST again', async () => {
    const [a, b] = versions.versions;
    const store = await versions.freshStore(b);
    const folder = temporaryFolder('config-');
    mkdirSync(folder, { recursive: true });
    const pin = (version: string | undefined) =>
      writeConfig(folder, (config) => {
        const server = (config.server ?? {}) as Record<string, unknown>;
        config.server = { ...server, model_version: version, hot_reload: { poll_interval_ms: 200 } };
        if (version === undefined) delete (config.server as Record<string, unknown>).model_version;
      });
    const config = pin(a);
    const { running, lines } = await serve(
      { ...spec, config: { ...spec.config, server: { ...spec.config.server, model_version: a } } },
      store,
      {
        specPaths: { features: projectPaths().features, config },
      },
    );
    servers.push(running);
    assert.equal((await predict(running.url, versions, 0)).body.model!.version, a, 'pinned at start-up');

    const copy = brokenCopy(store, b, 'copy-of-b', () => {});
    await setLatest(store, copy);
    const note = await until('the note that the pin wins', () => lines.find((line) => line.includes('pins server.model_version')), Boolean);
    assert.match(note!, new RegExp(`LATEST now names ${copy}, but config.yaml pins server.model_version: ${a}, which keeps serving`));
    assert.equal((await predict(running.url, versions, 0)).body.model!.version, a);

    writeFileSync(config, readFileSync(config, 'utf8').replace(/^server:/m, 'server:\n  no_such_setting: 1'));
    await until('the invalid config.yaml noted', () => lines.find((line) => line.includes('is not valid')), Boolean);
    assert.equal((await predict(running.url, versions, 0)).body.model!.version, a, 'an invalid config.yaml changes nothing');

    pin(undefined);
    await eventually(
      'LATEST served once the pin is gone',
      async () => (await predict(running.url, versions, 0)).body.model!.version,
      (v) => v === copy,
    );
  });

  it('swaps a worker-thread pool (server.inference.worker_threads) the same way, and releases the old one', async () => {
    const [a, b] = versions.versions;
    const pooled = withServer(spec, { inference: { ...spec.config.server.inference, worker_threads: 1 } });
    const { running, events } = await serve(pooled, await versions.freshStore(a));
    servers.push(running);
    const answered = async (row: number) => {
      const { status, body } = await predict(running.url, versions, row);
      assert.equal(status, 200);
      return body;
    };
    assert.equal((await answered(0)).model!.version, a);
    assert.equal((await reload(running.url, { version: b })).status, 200);
    for (let row = 0; row < 5; row++) {
      const body = await answered(row);
      assert.equal(body.model!.version, b);
      assert.ok(sameAnswer(body as never, versions.expected.get(b)![row]!), `row ${row}`);
    }
    await until(
      'the old pool released',
      () => events,
      (seen) => seen.some((e) => e.outcome === 'released' && e.version === a),
    );
  });

  it('a service that started without a usable model serves one as soon as LATEST names one (on_model_error: not_ready)', async () => {
    const [a] = versions.versions;
    const store = await versions.freshStore(a);
    await setLatest(store, brokenCopy(store, a, 'corrupt', corruptOnnx));
    const running = await startServer(
      withServer(spec, { on_model_error: 'not_ready', hot_reload: { watch: true, poll_interval_ms: 200, admin_without_keys: 'loopback' } }),
      store,
      { host: '127.0.0.1', port: 0 },
      { log: () => {}, warn: () => {} },
    );
    servers.push(running);
    await assert.rejects(running.ready);
    assert.equal((await fetch(`${running.url}/ready`)).status, 503);
    await setLatest(store, a);
    await eventually(
      'ready',
      async () => (await fetch(`${running.url}/ready`)).status,
      (status) => status === 200,
    );
    const res = await fetch(`${running.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(exampleRow(spec.features.features)),
    });
    assert.equal(res.status, 200);
  });
});
