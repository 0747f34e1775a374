// npm run models (src/cli/models.ts, run as a process as users run it) on a store of two real trained versions
// (../support/modelStore.ts): the listing, promote, rollback through the history, compare on the same holdout, and
// the refusals (an unknown version, a model that does not load, one that missed the quality gate, nothing to roll
// back to, no store at all), each with a message and no stack trace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { projectPaths } from '../../src/contract/environment.js';
import { LATEST_FILE, METADATA_FILE, MODEL_FILE } from '../../src/model/artifacts.js';
import { holdoutOf, loadDataset } from '../../src/training/dataset.js';
import { servedHoldoutScore } from '../../src/training/promotion.js';
import { HISTORY_FILE, readHistory } from '../../src/training/promotionHistory.js';
import { storeCopy, temporaryDir, twoModelStore } from '../support/modelStore.js';

/** Runs `npm run models`'s script with MODEL_DIR (and CONFIG_PATH) set; stdout, stderr and the exit status. */
function models(args: string[], modelDir: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/models.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, MODEL_DIR: modelDir, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const latest = (dir: string) => readFileSync(join(dir, LATEST_FILE), 'utf8').trim();
const noStackTrace = (stderr: string) => assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');

describe('npm run models: the model store, promote, rollback, compare', function () {
  this.timeout(300_000);

  it('lists every version with its metrics, gate, data and git provenance, and which one is live', async () => {
    const { dir, own, stump, spec } = await twoModelStore();
    const { status, stdout, stderr } = models([], dir);
    assert.equal(status, 0, stderr);
    const [ownLine] = stdout.split('\n').filter((line) => line.includes(own.metadata.model_version));
    const [stumpLine] = stdout.split('\n').filter((line) => line.includes(stump.metadata.model_version));
    assert.match(stumpLine!, /^live, LATEST\s/);
    assert.doesNotMatch(ownLine!, /live|LATEST/);
    const metric = spec.config.task === 'classification' ? 'accuracy' : 'rmse';
    const value = (metrics: object) => (metrics as Record<string, number>)[metric]!.toFixed(4);
    assert.ok(ownLine!.includes(value(own.metadata.metrics)), ownLine);
    assert.ok(stumpLine!.includes(value(stump.metadata.metrics)), stumpLine);
    assert.match(ownLine!, / passed /);
    assert.ok(ownLine!.includes(spec.config.data.path));
    assert.match(stdout, new RegExp(`live: ${stump.metadata.model_version} \\(LATEST\\)`));

    const json = JSON.parse(models(['--json'], dir).stdout);
    assert.deepEqual(
      json.versions.map((v: { version: string; live: boolean }) => [v.version, v.live]),
      [
        [own.metadata.model_version, false],
        [stump.metadata.model_version, true],
      ],
    );
    const [listed] = json.versions;
    assert.deepEqual(listed.data, own.metadata.data);
    assert.deepEqual(listed.git, own.metadata.git);
    assert.equal(listed.gate, 'passed');
    assert.deepEqual([json.latest, json.pinned, json.live], [stump.metadata.model_version, null, stump.metadata.model_version]);
  });

  it('shows the config.yaml pin as live, and promote says the pin still decides', async () => {
    const { store, dir } = await storeCopy();
    const config = parse(readFileSync(projectPaths().config, 'utf8'));
    config.server = { ...config.server, model_version: store.own.metadata.model_version };
    const configPath = join(dir, '..', 'config.yaml');
    writeFileSync(configPath, stringify(config));
    const listed = JSON.parse(models(['--json'], dir, { CONFIG_PATH: configPath }).stdout);
    assert.deepEqual([listed.live, listed.latest], [store.own.metadata.model_version, store.stump.metadata.model_version]);
    assert.match(
      models([], dir, { CONFIG_PATH: configPath }).stdout,
      /live: \S+, pinned by config\.yaml server\.model_version \(LATEST names /,
    );
    const promoted = models(['promote', store.stump.metadata.model_version], dir, { CONFIG_PATH: configPath });
    assert.equal(promoted.status, 0, promoted.stderr);
    assert.match(promoted.stdout, /config\.yaml server\.model_version pins .*remove the pin to serve LATEST/);
  });

  it('promote writes LATEST and the history; rollback walks the history back, one version at a time', async () => {
    const { store, dir } = await storeCopy();
    const own = store.own.metadata.model_version;
    const stump = store.stump.metadata.model_version;

    const promoted = models(['promote', own], dir);
    assert.equal(promoted.status, 0, promoted.stderr);
    assert.match(promoted.stdout, new RegExp(`LATEST: ${stump} → ${own} \\(promote`));
    assert.equal(latest(dir), own);
    assert.deepEqual(
      (await readHistory(dir)).map(({ action, version, previous }) => [action, version, previous]),
      [
        ['train', own, null],
        ['train', stump, own],
        ['promote', own, stump],
      ],
    );
    assert.match(models(['promote', own], dir).stdout, /is LATEST already; nothing changed/);
    assert.equal((await readHistory(dir)).length, 3, 'an unchanged LATEST adds nothing to the history');

    // Back to the stump (LATEST before the promotion), then to the first model; nothing is before that.
    const back = models(['rollback'], dir);
    assert.equal(back.status, 0, back.stderr);
    assert.match(back.stdout, new RegExp(`LATEST: ${own} → ${stump} \\(rollback`));
    assert.equal(latest(dir), stump);
    assert.equal(models(['rollback'], dir).status, 0);
    assert.equal(latest(dir), own);
    const none = models(['rollback'], dir);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /is the first model the history records: there is no earlier one to roll back to/);
    noStackTrace(none.stderr);
    assert.equal(latest(dir), own);

    // A LATEST written by hand counts as served: a rollback returns from it to the one before.
    writeFileSync(join(dir, LATEST_FILE), `${stump}\n`);
    assert.equal(models(['rollback'], dir).status, 0);
    assert.equal(latest(dir), own);
  });

  it('refuses an unknown version, a model that does not load and one that missed the gate (unless --force), leaving LATEST as it was', async () => {
    const { store, dir } = await storeCopy();
    const before = latest(dir);
    const history = readFileSync(join(dir, HISTORY_FILE), 'utf8');

    const unknown = models(['promote', 'no-such-version'], dir);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /has no model "no-such-version" \(available: /);
    noStackTrace(unknown.stderr);

    const broken = '20250103T000000Z-broken00';
    cpSync(store.own.versionDir, join(dir, broken), { recursive: true });
    writeFileSync(join(dir, broken, MODEL_FILE), 'not an ONNX model');
    const refused = models(['promote', broken], dir);
    assert.equal(refused.status, 1);
    assert.match(
      refused.stderr,
      new RegExp(`${broken} cannot be served, so LATEST is unchanged:\\n  .*model\\.onnx cannot be loaded by onnxruntime`),
    );
    noStackTrace(refused.stderr);

    const gateMissed = '20250104T000000Z-gate0000';
    cpSync(store.own.versionDir, join(dir, gateMissed), { recursive: true });
    const metadata = JSON.parse(readFileSync(join(dir, gateMissed, METADATA_FILE), 'utf8'));
    writeFileSync(join(dir, gateMissed, METADATA_FILE), JSON.stringify({ ...metadata, quality_gate: { passed: false, checks: [] } }));
    const gated = models(['promote', gateMissed], dir);
    assert.equal(gated.status, 1);
    assert.match(gated.stderr, /missed the quality gate .*add --force to promote it anyway/);
    assert.equal(latest(dir), before);
    assert.equal(readFileSync(join(dir, HISTORY_FILE), 'utf8'), history, 'no refusal touches the history');

    assert.equal(models(['promote', gateMissed, '--force'], dir).status, 0);
    assert.equal(latest(dir), gateMissed);
  });

  it('compare re-scores both versions on the same holdout rows, as the service runs them', async () => {
    const { dir, own, stump, spec } = await twoModelStore();
    const { status, stdout, stderr } = models(['compare', own.metadata.model_version, 'latest', '--json'], dir);
    assert.equal(status, 0, stderr);
    const comparison = JSON.parse(stdout);
    const dataset = await loadDataset(spec);
    const holdout = holdoutOf(dataset);
    assert.equal(comparison.holdout.rows, own.metadata.rows.holdout);
    assert.equal(comparison.holdout.holdout_sha256, own.metadata.data!.holdout_sha256);
    assert.deepEqual(
      comparison.models.map((model: { version: string }) => model.version),
      [own.metadata.model_version, stump.metadata.model_version],
    );
    // Each model's figure is the one the promotion decision computes for it on the holdout (both run by onnxruntime).
    const metric = spec.config.task === 'classification' ? 'accuracy' : 'r2';
    for (const [index, result] of [own, stump].entries()) {
      assert.equal(comparison.models[index].evaluated_on_this_holdout, true);
      assert.equal(
        comparison.models[index].metrics[metric],
        await servedHoldoutScore(result.versionDir, spec, holdout.rows, holdout.labels),
      );
    }
    const agreement = comparison.agreement.same_label_share ?? comparison.agreement.mean_abs_difference;
    assert.ok(Number.isFinite(agreement) && agreement >= 0);

    const table = models(['compare', own.metadata.model_version, stump.metadata.model_version], dir);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`on the same ${holdout.rows.length} holdout rows`));
    assert.match(table.stdout, new RegExp(`training\\.seed ${spec.config.training.seed}`));
    assert.match(table.stdout, /evaluated on this same holdout at training/);

    const unknown = models(['compare', own.metadata.model_version, 'nope'], dir);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /has no model "nope"/);
  });

  it('says what is wrong with an empty store, a missing one, one model’s folder, and a wrong command', async () => {
    const { own } = await twoModelStore();
    const empty = join(temporaryDir('empty-'), 'model_bin');
    mkdirSync(empty);
    const listed = models([], empty);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /holds no model yet: train one with `npm run train`/);
    const rollback = models(['rollback'], empty);
    assert.equal(rollback.status, 1);
    assert.match(rollback.stderr, /LATEST does not exist: there is nothing to roll back/);

    const missing = models([], join(empty, 'nothing-here'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /does not exist: train a model with `npm run train`/);
    noStackTrace(missing.stderr);
    const single = models([], own.versionDir);
    assert.equal(single.status, 1);
    assert.match(single.stderr, /holds one model \(its model\.json\), not a store of versions/);

    const wrong = models(['demote', 'x'], empty);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /unknown command "demote"\nusage: npm run models/);
    assert.equal(models(['promote'], empty).status, 2);
    copyFileSync(join(own.versionDir, METADATA_FILE), join(empty, 'stray.json')); // a file is no version
    assert.match(models([], empty).stdout, /holds no model yet/);
  });
});
