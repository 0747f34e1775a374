// Hot reload with server.workers: 2 (node:cluster): each worker process watches model_bin/LATEST and swaps on its
// own, and a POST /admin/reload that reaches one worker is passed on by the primary to the others, so all serve alike.
import assert from 'node:assert/strict';
import { setLatest } from '../../src/model/artifacts.js';
import { spawnService, writeConfig, type ServiceProcess } from '../support/serviceProcess.js';
import { modelVersions, temporaryFolder } from '../support/modelVersions.js';

/** The model version each worker answered with, over `count` requests on new connections (handed out round-robin). */
async function versionsByWorker(url: string, body: unknown, count = 8): Promise<Map<string, Set<string>>> {
  const seen = new Map<string, Set<string>>();
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200);
    const worker = res.headers.get('x-worker-id') ?? 'none';
    const { model } = (await res.json()) as { model: { version: string } };
    if (!seen.has(worker)) seen.set(worker, new Set());
    seen.get(worker)!.add(model.version);
  }
  return seen;
}

/** Waits until both workers answer with `version` only. */
async function allWorkersServe(url: string, body: unknown, version: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = new Map<string, Set<string>>();
  while (Date.now() < deadline) {
    last = await versionsByWorker(url, body);
    if (last.size === 2 && [...last.values()].every((versions) => versions.size === 1 && versions.has(version))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `the workers did not all serve ${version}: ${JSON.stringify([...last].map(([worker, versions]) => [worker, [...versions]]))}`,
  );
}

describe('hot reload in cluster mode (server.workers: 2)', () => {
  let service: ServiceProcess | undefined;
  after(() => service?.kill());

  it('every worker follows LATEST, and POST /admin/reload to one reaches them all', async () => {
    const versions = await modelVersions();
    const [a, b] = versions.versions;
    const store = await versions.freshStore(a);
    const config = writeConfig(temporaryFolder('workers-'), (settings) => {
      settings.server = { ...(settings.server as object), workers: 2, hot_reload: { poll_interval_ms: 200 } };
    });
    service = spawnService({ CONFIG_PATH: config, MODEL_DIR: store });
    const output = await service.waitForOutput(/warmed up: ready[\s\S]*warmed up: ready/);
    const url = /listening on (http:\/\/\S+)/.exec(output)![1]!;
    const row = versions.rows[0];
    await allWorkersServe(url, row, a);

    await setLatest(store, b);
    await allWorkersServe(url, row, b);

    const res = await fetch(`${url}/admin/reload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ version: a }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    await allWorkersServe(url, row, a);

    service.child.kill('SIGTERM');
    assert.equal(await service.exited, 0, service.output());
  });
});
