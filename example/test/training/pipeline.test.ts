import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadData } from '../../src/data/dataLoader.js';
import { LATEST_FILE, METADATA_FILE, ModelLoadError, modelVersionName, REPORT_FILE } from '../../src/model/artifacts.js';
import { binIndex } from '../../src/model/referenceStatistics.js';
import { OnnxPredictor } from '../../src/runtime/predictor.js';
import type { Spec } from '../../src/contract/index.js';
import { runTraining, type TrainingResult } from '../../src/training/pipeline.js';
import { checkQualityGate } from '../../src/training/qualityGate.js';
import { loadDataset } from '../../src/training/dataset.js';
import { HISTORY_FILE, readHistory } from '../../src/training/promotionHistory.js';
import { trainHoldoutSplit } from '../../src/training/split.js';
import { projectPaths } from '../../src/contract/environment.js';
import { trainedProject } from '../support/trainedModel.js';

describe('training pipeline', () => {
  it('writes model.json describing the model, its features, holdout metrics and reference statistics', async () => {
    const { versionDir, modelDir, spec } = await trainedProject();
    const metadata = JSON.parse(readFileSync(join(versionDir, METADATA_FILE), 'utf8'));
    assert.match(metadata.uuid, /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(metadata.created_at)));
    assert.equal(join(modelDir, metadata.model_version), versionDir);
    assert.equal(metadata.version, spec.config.version);
    assert.equal(metadata.task, spec.config.task);
    assert.equal(typeof metadata.algorithm, 'string');
    assert.deepEqual(
      metadata.features.map((f: { name: string }) => f.name),
      spec.features.features.map((f) => f.name),
    );
    assert.match(metadata.features_sha256, /^[0-9a-f]{64}$/);
    assert.ok(metadata.rows.train > 0 && metadata.rows.holdout > 0);
    const metric = spec.config.task === 'classification' ? metadata.metrics.accuracy : metadata.metrics.r2;
    assert.equal(typeof metric, 'number');
    assert.ok(metadata.git === null || /^[0-9a-f]{7,64}$/.test(metadata.git.commit));
    assert.equal(metadata.quality_gate.passed, true);
    // The data and split it was evaluated on: the same split again gives the same holdout hash.
    const { data } = metadata;
    assert.deepEqual(
      [data.path, data.rows, data.seed, data.holdout_fraction],
      [
        spec.config.data.path,
        metadata.rows.train + metadata.rows.holdout,
        spec.config.training.seed,
        spec.config.training.holdout_fraction,
      ],
    );
    // The sha256 of the data file as it was read.
    assert.equal(data.sha256, createHash('sha256').update(readFileSync(spec.config.data.path)).digest('hex'));
    assert.equal(data.holdout_sha256, (await loadDataset(spec)).provenance.holdout_sha256);

    // One reference entry per feature, describing the training rows only.
    assert.deepEqual(
      Object.keys(metadata.reference),
      spec.features.features.map((f) => f.name),
    );
    for (const feature of spec.features.features) {
      const stats = metadata.reference[feature.name];
      assert.ok(stats.missing_share >= 0 && stats.missing_share <= 1);
      if (stats.count === 0) continue;
      if (stats.kind === 'numeric') {
        assert.ok(stats.min <= stats.quantiles.p50 && stats.quantiles.p50 <= stats.max, feature.name);
        assert.equal(stats.bins.shares.length, stats.bins.edges.length + 1);
        assert.ok(Math.abs(stats.bins.shares.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-9);
      } else {
        const total = Object.values(stats.frequencies as Record<string, number>).reduce((a, b) => a + b, 0) + stats.other_share;
        assert.ok(Math.abs(total - 1) < 1e-9, feature.name);
      }
    }
  });

  it('exports an ONNX model that predicts what the in-process model predicts on every row (max abs diff ≤ 1e-5)', async () => {
    const project = await trainedProject();
    const { spec, model, preprocessor, modelDir } = project;
    const rows = await loadData(spec);
    // Training and holdout rows alike: a float32 rounding that flips a decision shows up on any row.
    const inputs = rows.map(({ [spec.config.target]: _target, ...values }) => values);
    const predictor = await OnnxPredictor.load(modelDir, spec);
    const served = await predictor.predict(inputs);
    const matrix = preprocessor.transform(inputs);
    let maxDiff = 0;
    if (model.task === 'classification') {
      model.predictProba(matrix).forEach((probabilities, i) => {
        project.metadata.classes.forEach(
          (name, c) => (maxDiff = Math.max(maxDiff, Math.abs(served[i]!.probabilities![name]! - probabilities[c]!))),
        );
      });
    } else {
      // The output is float32: relative to the value, whose float32 spacing grows with its size.
      model
        .predict(matrix)
        .forEach(
          (value, i) => (maxDiff = Math.max(maxDiff, Math.abs((served[i]!.prediction as number) - value) / Math.max(1, Math.abs(value)))),
        );
    }
    assert.ok(maxDiff <= 1e-5, `max abs diff ${maxDiff}`);
  });

  it('writes report.html beside model.json: the model card of the run, one self-contained page', async () => {
    const { versionDir, reportPath, metadata, spec } = await trainedProject();
    assert.equal(reportPath, join(versionDir, REPORT_FILE));
    const html = readFileSync(reportPath, 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.ok(html.includes(metadata.model_version) && html.includes(metadata.uuid));
    const sections = ['data', 'metrics', 'quality-gate', spec.config.task, 'importance', 'features'];
    assert.deepEqual(
      [...html.matchAll(/<section id="([^"]+)">/g)].map((match) => match[1]),
      sections,
    );
    assert.ok(html.includes(metadata.data.sha256 ?? 'not a file'), 'the data file hash');
    // One distribution chart per feature of features.yaml.
    for (const feature of spec.features.features)
      assert.ok(html.includes(`aria-label="${feature.name}: training and holdout rows"`), feature.name);
    assert.doesNotMatch(html, /<script|\s(src|href)=/);
  });

  it('splits reproducibly by seed, keeping every class in training', () => {
    const labels = Array.from({ length: 100 }, (_, i) => i % 3);
    const a = trainHoldoutSplit(100, 0.2, 7, labels);
    assert.deepEqual(a, trainHoldoutSplit(100, 0.2, 7, labels));
    assert.notDeepEqual(a, trainHoldoutSplit(100, 0.2, 8, labels));
    assert.equal(a.train.length + a.holdout.length, 100);
    for (const c of [0, 1, 2]) assert.ok(a.holdout.filter((i) => labels[i] === c).length >= 6);
  });

  it('names model versions so that they sort by creation time', () => {
    const older = modelVersionName(new Date('2025-01-02T03:04:05.678Z'), 'abcdef12-0000-4000-8000-000000000000');
    assert.equal(older, '20250102T030405Z-abcdef12');
    assert.ok(older < modelVersionName(new Date('2025-01-02T03:04:06Z'), '00000000-0000-4000-8000-000000000000'));
  });

  it('bins numbers at the training deciles', () => {
    assert.equal(binIndex([1, 2, 3], 0.5), 0);
    assert.equal(binIndex([1, 2, 3], 1), 1);
    assert.equal(binIndex([1, 2, 3], 3), 3);
  });
});

describe('model versions and the quality gate', function () {
  let store: string;
  beforeEach(() => (store = mkdtempSync(join(tmpdir(), 'model-store-'))));
  afterEach(() => rmSync(store, { recursive: true, force: true }));

  const withTraining = (
    spec: Spec,
    training: Partial<Spec['config']['training']>,
    server: Partial<Spec['config']['server']> = {},
  ): Spec => ({
    ...spec,
    config: { ...spec.config, training: { ...spec.config.training, ...training }, server: { ...spec.config.server, ...server } },
  });
  /** A bound the model surely meets, and one it misses unless it is perfect on the holdout rows. */
  const bounds = (spec: Spec) =>
    spec.config.task === 'classification'
      ? { met: { min_metric: { accuracy: 0 } }, missed: { min_metric: { accuracy: 1 } } }
      : { met: { max_metric: { rmse: Number.MAX_VALUE } }, missed: { max_metric: { rmse: 0 } } };
  const perfect = (metrics: TrainingResult['metadata']['metrics']) => ('accuracy' in metrics ? metrics.accuracy === 1 : metrics.rmse === 0);

  it('writes each run into a new folder, serves the newest that was promoted, or the one config.yaml names', async function () {
    const { spec, featuresText } = await trainedProject();
    const train = (s: Spec, at: string) => runTraining({ spec: s, featuresText, modelDir: store, now: new Date(at) });

    const first = await train(withTraining(spec, bounds(spec).met), '2025-01-01T00:00:00Z');
    if (perfect(first.metadata.metrics)) this.skip(); // nothing can miss the gate
    assert.equal(first.metadata.quality_gate.passed, true);
    // The same data, seed and algorithm: the same model, which scores the same as the current LATEST, so it is
    // promoted under either training.promote.
    const second = await train(spec, '2025-01-02T00:00:00Z');
    assert.equal(second.promotion.newScore, second.promotion.currentScore, second.promotion.reason);
    assert.equal(second.promotion.promote, true, second.promotion.reason);
    // Its report shows the LATEST model before it (the first) beside it, scored on the same holdout rows: the same model, the same figures.
    const report = readFileSync(second.reportPath, 'utf8');
    assert.ok(report.includes(`LATEST before this run: <code>${first.metadata.model_version}</code>`));
    const compared = spec.config.task === 'classification' ? 'accuracy ↑' : 'R² ↑';
    const row = report.split('<tr>').find((tr) => tr.startsWith(`<td>${compared}</td>`))!;
    const [model, , latest] = [...row.matchAll(/<td class="number">([^<]*)<\/td>/g)].map((match) => Number(match[1]));
    assert.ok(Math.abs(model! - latest!) <= 1e-3, row);
    const rejected = await train(withTraining(spec, { ...bounds(spec).missed, promote: 'always' }), '2025-01-03T00:00:00Z');
    assert.equal(rejected.metadata.quality_gate.passed, false);
    assert.equal(rejected.metadata.quality_gate.checks[0]!.passed, false);
    assert.equal(rejected.promotion.promote, false, 'a model that misses the gate is never promoted');
    assert.match(readFileSync(rejected.reportPath, 'utf8'), /Quality gate: <span class="verdict failed">FAILED<\/span>/);

    // Three folders; LATEST names the newest promoted, so the rejected model is never served by default.
    assert.deepEqual(
      readdirSync(store).sort(),
      [first.metadata.model_version, second.metadata.model_version, rejected.metadata.model_version, LATEST_FILE, HISTORY_FILE].sort(),
    );
    assert.equal(readFileSync(join(store, LATEST_FILE), 'utf8').trim(), second.metadata.model_version);
    // Each promotion is in the history, with the version it replaced.
    assert.deepEqual(
      (await readHistory(store)).map(({ action, version, previous }) => ({ action, version, previous })),
      [
        { action: 'train', version: first.metadata.model_version, previous: null },
        { action: 'train', version: second.metadata.model_version, previous: first.metadata.model_version },
      ],
    );
    assert.equal((await OnnxPredictor.load(store, spec)).metadata.uuid, second.metadata.uuid);

    const pinned = withTraining(spec, {}, { model_version: first.metadata.model_version });
    assert.equal((await OnnxPredictor.load(store, pinned)).metadata.uuid, first.metadata.uuid);
    // A folder holding model.json is served as it is (MODEL_DIR pointing at one model).
    assert.equal((await OnnxPredictor.load(rejected.versionDir, spec)).metadata.uuid, rejected.metadata.uuid);

    await assert.rejects(
      OnnxPredictor.load(store, withTraining(spec, {}, { model_version: 'no-such-model' })),
      (error: ModelLoadError) =>
        error instanceof ModelLoadError && /server\.model_version is "no-such-model".*available: /.test(error.message),
    );
  });

  it('training.promote: if_better keeps a worse model out of LATEST and promotes a better one; always promotes either', async () => {
    const { spec, featuresText } = await trainedProject();
    const ungated = withTraining(spec, { min_metric: undefined, max_metric: undefined });
    const latest = () => readFileSync(join(store, LATEST_FILE), 'utf8').trim();
    let day = 0;
    const train = (training: Partial<Spec['config']['training']>) =>
      runTraining({ spec: withTraining(ungated, training), featuresText, modelDir: store, now: new Date(Date.UTC(2025, 0, ++day)) });
    // The project's own model (config.yaml's training.algorithm) and a one-split tree, compared on the same
    // holdout rows as the service runs them. Which one is better depends on the data, so the test finds out,
    // then trains the worse one over the better one and the better one over the worse one.
    const projects = { algorithm: spec.config.training.algorithm };
    const stump = { algorithm: { name: 'decision_tree', max_depth: 1, min_samples_split: 2 } } as const;

    const own = await train(projects);
    assert.equal(own.promotion.promote, true, own.promotion.reason); // the store was empty
    const compared = await train(stump);
    const { newScore: stumpScore, currentScore: ownScore } = compared.promotion;
    assert.equal(compared.promotion.current, own.metadata.model_version);
    assert.ok(typeof stumpScore === 'number' && typeof ownScore === 'number', compared.promotion.reason);
    assert.equal(compared.promotion.promote, stumpScore >= ownScore, compared.promotion.reason);
    if (stumpScore === ownScore) return; // a tie is promoted (not worse); there is no worse model to keep out
    const [better, worse] = stumpScore > ownScore ? [stump, projects] : [projects, stump];
    const betterLatest = stumpScore > ownScore ? compared : own;
    assert.equal(latest(), betterLatest.metadata.model_version);

    // if_better: the worse model is written but LATEST stays, and the output says why.
    const kept = await train({ ...worse, promote: 'if_better' });
    assert.equal(kept.promotion.promote, false, kept.promotion.reason);
    assert.match(kept.promotion.reason, /NOT promoted: it is worse than the current LATEST .*training\.promote: always/);
    assert.equal(latest(), betterLatest.metadata.model_version);
    assert.ok(readdirSync(store).includes(kept.metadata.model_version));

    // always: the worse model replaces the better one, without a comparison.
    const forced = await train({ ...worse, promote: 'always' });
    assert.equal(forced.promotion.promote, true, forced.promotion.reason);
    assert.match(forced.promotion.reason, /training\.promote: always/);
    assert.equal(latest(), forced.metadata.model_version);

    // if_better: the better model replaces the worse one, and the scores are those of the same rows.
    const promoted = await train({ ...better, promote: 'if_better' });
    assert.equal(promoted.promotion.promote, true, promoted.promotion.reason);
    assert.match(promoted.promotion.reason, /^promoted to LATEST: (accuracy|r2) /);
    assert.deepEqual(
      [promoted.promotion.newScore, promoted.promotion.currentScore],
      [Math.max(stumpScore, ownScore), Math.min(stumpScore, ownScore)],
    );
    assert.equal(latest(), promoted.metadata.model_version);
  });

  it('`npm run train` exits 1 when the model misses the quality gate, saying which bound', async function () {
    this.timeout(60_000);
    const { spec, metadata } = await trainedProject();
    if (perfect(metadata.metrics)) this.skip(); // nothing can miss the gate
    const config = parse(readFileSync(projectPaths().config, 'utf8'));
    config.training = { ...config.training, ...bounds(spec).missed };
    const configPath = join(store, 'config.yaml');
    writeFileSync(configPath, stringify(config));
    const train = spawnSync(process.execPath, ['--import', 'tsx', 'src/training/main.ts'], {
      env: { ...process.env, CONFIG_PATH: configPath, MODEL_DIR: join(store, 'model_bin') },
      encoding: 'utf8',
    });
    assert.equal(train.status, 1, train.stderr);
    assert.match(train.stdout, /FAILED \(training\.(min|max)_metric\.(accuracy|rmse)\)/);
    assert.match(train.stderr, /missed the quality gate: it is kept in .* but is not served as the newest model/);
    // The report is written for a rejected model too: it is what to look at.
    const report = /^Training report: (.*)$/m.exec(train.stdout)?.[1];
    assert.ok(report && report.endsWith(REPORT_FILE) && existsSync(report), train.stdout);
    assert.doesNotMatch(train.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(readdirSync(join(store, 'model_bin')).length, 1, 'one version folder and no LATEST');
  });

  it('refuses to serve from a store without a model, saying how to get one', async () => {
    const { spec } = await trainedProject();
    await assert.rejects(OnnxPredictor.load(store, spec), /LATEST not found \(it holds no model\)\. Train a model with `npm run train`/);
  });

  it('checks every bound of config.yaml against the holdout metrics', () => {
    const training = { min_metric: { accuracy: 0.9, macro_f1: 0.95 } };
    const result = checkQualityGate({ accuracy: 0.93, macro_f1: 0.9, confusion_matrix: [] }, training);
    assert.equal(result.passed, false);
    assert.deepEqual(
      result.checks.map(({ metric, passed }) => [metric, passed]),
      [
        ['accuracy', true],
        ['macro_f1', false],
      ],
    );
    const regression = checkQualityGate({ rmse: 2, mae: 1, r2: 0.5 }, { min_metric: { r2: 0.4 }, max_metric: { rmse: 2 } });
    assert.equal(regression.passed, true);
  });
});
