// npm run replay (src/cli/replay.ts, run as a process): the real service serves the project's data with one model
// and logs it (the file sink, and the mongodb sink through the official driver to the wire-level test server in
// ../support/mongoServer.ts); replay re-scores the logged rows with the other model. The figures are checked against
// the two models' own predictions on the same rows, and against the data's labels for the ground truth.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadData } from '../../src/data/dataLoader.js';
import { OnnxPredictor } from '../../src/runtime/predictor.js';
import type { FeatureValues, Spec } from '../../src/contract/index.js';
import { MongoTestServer } from '../support/mongoServer.js';
import { featureRows } from '../support/monitoring.js';
import { logSettings, startLoggingServer } from '../support/predictionLoad.js';
import { storeCopy, temporaryDir, type TwoModelStore } from '../support/modelStore.js';

/** Rows served and logged (at most): enough for the figures to mean something, few enough to stay quick. */
const MAX_ROWS = 120;

/** Runs `npm run replay`'s script; asynchronously, so the MongoDB test server in this process keeps answering. */
function replay(args: string[], modelDir: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/replay.ts', ...args],
      { encoding: 'utf8', env: { ...process.env, MODEL_DIR: modelDir } },
      (_error, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }),
    );
  });
}

/** Serves `rows` through POST /predict/batch of the real server with these log settings, then shuts it down (flushing the log). */
async function serveAndLog(
  spec: Spec,
  modelDir: string,
  rows: FeatureValues[],
  ids: string[],
  settings: Parameters<typeof startLoggingServer>[2],
) {
  const running = await startLoggingServer(spec, modelDir, settings);
  try {
    const size = spec.config.server.max_batch_rows;
    for (let start = 0; start < rows.length; start += size) {
      const batch = rows.slice(start, start + size).map((row, i) => ({ ...row, [spec.config.id_field]: ids[start + i] }));
      const response = await fetch(`${running.url}/predict/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ rows: batch }),
      });
      assert.equal(response.status, 200, await response.text());
    }
  } finally {
    await running.close();
  }
}

describe('npm run replay: logged predictions re-scored with another model', function () {
  this.timeout(300_000);
  let store: TwoModelStore;
  let dir: string;
  let spec: Spec;
  let rows: FeatureValues[];
  let ids: string[];
  let truth: unknown[];
  /** What the stump (LATEST, the served model) and the project's own model answer on the rows. */
  let served: (string | number)[];
  let candidate: (string | number)[];
  let logFile: string;
  let rowCount: number;

  before(async () => {
    ({ store, dir } = await storeCopy());
    spec = store.spec;
    const data = await loadData(spec);
    rows = (await featureRows(spec)).slice(0, MAX_ROWS) as FeatureValues[];
    rowCount = rows.length;
    ids = rows.map((_, i) => `replay-${i}`);
    truth = data.slice(0, MAX_ROWS).map((row) => row[spec.config.target]);
    served = (await (await OnnxPredictor.load(store.stump.versionDir, spec)).predict(rows)).map((p) => p.prediction);
    candidate = (await (await OnnxPredictor.load(store.own.versionDir, spec)).predict(rows)).map((p) => p.prediction);
    logFile = join(temporaryDir('replay-'), 'predictions.jsonl');
    await serveAndLog(spec, dir, rows, ids, logSettings(spec, { sinks: ['file'], file: { path: logFile } }));
  });

  const classification = () => spec.config.task === 'classification';
  /** The agreement the report must give: share of equal classes, or the mean absolute difference. */
  const expectedAgreement = (a: readonly (string | number)[], b: readonly (string | number)[]) =>
    classification()
      ? a.filter((value, i) => String(value) === String(b[i])).length / a.length
      : a.reduce<number>((sum, value, i) => sum + Math.abs(Number(value) - Number(b[i])), 0) / a.length;
  const agreementOf = (agreement: { same_label_share?: number; mean_abs_difference?: number }) =>
    agreement.same_label_share ?? agreement.mean_abs_difference ?? Number.NaN;
  const closeTo = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) <= 1e-9, `${actual} ≠ ${expected}`);

  it('re-scores every logged row: the served model agrees with itself, the other one as its own predictions say', async () => {
    const self = await replay(['--from', logFile, '--model', store.stump.metadata.model_version, '--json'], dir);
    assert.equal(self.status, 0, self.stderr);
    const same = JSON.parse(self.stdout);
    assert.equal(same.replayed, rowCount);
    closeTo(agreementOf(same.agreement), classification() ? 1 : 0);

    const other = await replay(['--from', logFile, '--model', store.own.metadata.model_version, '--json'], dir);
    assert.equal(other.status, 0, other.stderr);
    const report = JSON.parse(other.stdout);
    assert.deepEqual([report.records, report.replayed, report.refused.rows], [rowCount, rowCount, 0]);
    closeTo(agreementOf(report.agreement), expectedAgreement(served, candidate));
    assert.deepEqual(
      report.by_served_model.map((group: { served_by: string; rows: number }) => [group.served_by, group.rows]),
      [[store.stump.metadata.model_version, rowCount]],
    );
    assert.equal(report.ground_truth, null);

    const table = await replay(['--from', logFile, '--model', 'latest'], dir);
    assert.equal(table.status, 0, table.stderr);
    assert.match(
      table.stdout,
      new RegExp(`Replayed ${rowCount} of ${rowCount} logged predictions from .* with ${store.stump.metadata.model_version}`),
    );
    assert.match(table.stdout, /No ground truth: pass --labels/);
  });

  it('compares both with the ground truth of the labelled ids, from a CSV file or POST /feedback bodies', async () => {
    const { id_field: idField, target } = spec.config;
    // Labels for every other row: the comparison is on the labelled rows only.
    const labelled = ids.map((id, i) => ({ id, truth: truth[i], i })).filter(({ i }) => i % 2 === 0);
    const folder = temporaryDir('labels-');
    const csv = join(folder, 'labels.csv');
    writeFileSync(csv, `${idField},${target}\n${labelled.map(({ id, truth }) => `${id},${String(truth)}`).join('\n')}\n`);
    const jsonLines = join(folder, 'feedback.jsonl');
    writeFileSync(jsonLines, labelled.map(({ id, truth }) => `${JSON.stringify({ [idField]: id, [target]: truth })}\n`).join(''));

    const metric = (predictions: readonly (string | number)[]) => {
      const pairs = labelled.map(({ i, truth }) => [predictions[i]!, truth] as const);
      return classification()
        ? { accuracy: pairs.filter(([p, t]) => String(p) === String(t)).length / pairs.length }
        : { mae: pairs.reduce((sum, [p, t]) => sum + Math.abs(Number(t) - Number(p)), 0) / pairs.length };
    };
    for (const labels of [csv, jsonLines]) {
      const { status, stdout, stderr } = await replay(
        ['--from', logFile, '--model', store.own.metadata.model_version, '--labels', labels, '--json'],
        dir,
      );
      assert.equal(status, 0, stderr);
      const { ground_truth: groundTruth } = JSON.parse(stdout);
      assert.equal(groundTruth.rows, labelled.length);
      for (const [name, value] of Object.entries(metric(served))) closeTo(groundTruth.served[name], value);
      for (const [name, value] of Object.entries(metric(candidate))) closeTo(groundTruth.replayed[name], value);
    }
    const table = await replay(['--from', logFile, '--model', store.own.metadata.model_version, '--labels', csv], dir);
    assert.match(table.stdout, new RegExp(`Against the ground truth \\(${labelled.length} replayed rows whose id has a label\\)`));
  });

  it('reads the MongoDB prediction log through the driver, and reports the same figures', async () => {
    const mongo = await MongoTestServer.start();
    try {
      const settings = logSettings(spec, { sinks: ['mongodb'] }, { MONGODB_URL: mongo.url });
      await serveAndLog(spec, dir, rows, ids, settings);
      const { db, collection } = settings.mongodb;
      assert.equal(mongo.documents(db, collection).length, rowCount, 'every prediction stored');
      const { status, stdout, stderr } = await replay(['--from', mongo.url, '--model', store.own.metadata.model_version, '--json'], dir);
      assert.equal(status, 0, stderr);
      const report = JSON.parse(stdout);
      assert.equal(report.source, `MongoDB ${db}.${collection}`);
      assert.equal(report.replayed, rowCount);
      closeTo(agreementOf(report.agreement), expectedAgreement(served, candidate));
      assert.ok(mongo.commands.includes('find'), 'read with a find command');
    } finally {
      await mongo.stop();
    }
  });

  it('skips lines that are no prediction record and shadow-model records; refuses rows features.yaml refuses now', async () => {
    const mixed = join(temporaryDir('mixed-'), 'stdout.log');
    const [first] = readFileSync(logFile, 'utf8').split('\n');
    const record = JSON.parse(first!);
    writeFileSync(mixed, `${first}\n`);
    appendFileSync(mixed, '{"level":30,"msg":"listening on http://0.0.0.0:8000"}\nnot JSON at all\n');
    appendFileSync(mixed, `${JSON.stringify({ ...record, role: 'shadow' })}\n`);
    // An object is no feature's value: refused by the request schema.
    const [feature] = spec.features.features;
    appendFileSync(mixed, `${JSON.stringify({ ...record, features: { ...record.features, [feature!.name]: { nested: true } } })}\n`);
    const { status, stdout, stderr } = await replay(['--from', mixed, '--model', store.own.metadata.model_version, '--json'], dir);
    assert.equal(status, 0, stderr);
    const report = JSON.parse(stdout);
    assert.deepEqual([report.records, report.replayed, report.skipped_lines, report.shadow_records, report.refused.rows], [2, 1, 2, 1, 1]);
    assert.match(report.refused.examples[0], /stdout\.log:5: /);
  });

  it('says what is wrong: no such log, no prediction records, an unknown model, missing options', async () => {
    const missing = await replay(['--from', join(dir, 'nope.jsonl'), '--model', 'latest'], dir);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope\.jsonl: no such file/);
    const empty = join(temporaryDir('empty-log-'), 'empty.jsonl');
    writeFileSync(empty, '{"level":30,"msg":"started"}\n');
    const nothing = await replay(['--from', empty, '--model', 'latest'], dir);
    assert.equal(nothing.status, 2);
    assert.match(nothing.stderr, /no prediction records found \(1 other lines\)/);
    const unknown = await replay(['--from', logFile, '--model', 'no-such-model'], dir);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /has no model "no-such-model" \(available: /);
    const usage = await replay(['--from', logFile], dir);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /^usage: npm run replay/);
    for (const result of [missing, nothing, unknown, usage]) assert.doesNotMatch(result.stderr, /\n\s+at /);
  });
});
