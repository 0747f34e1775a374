import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadData } from '../src/data/dataLoader.js';
import { METADATA_FILE } from '../src/model/artifacts.js';
import { Predictor } from '../src/serving/predictor.js';
import { trainHoldoutSplit } from '../src/training/split.js';
import { trainedProject } from './trainedModel.js';

describe('training pipeline', () => {
  it('writes model.json describing the model, its features and holdout metrics', async () => {
    const { modelDir, spec } = await trainedProject();
    const metadata = JSON.parse(readFileSync(join(modelDir, METADATA_FILE), 'utf8'));
    assert.match(metadata.uuid, /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(metadata.created_at)));
    assert.equal(metadata.version, spec.config.version);
    assert.equal(metadata.task, spec.config.task);
    assert.deepEqual(
      metadata.features.map((f: { name: string }) => f.name),
      spec.features.features.map((f) => f.name),
    );
    assert.match(metadata.features_sha256, /^[0-9a-f]{64}$/);
    assert.ok(metadata.rows.train > 0 && metadata.rows.holdout > 0);
    const metric = spec.config.task === 'classification' ? metadata.metrics.accuracy : metadata.metrics.r2;
    assert.equal(typeof metric, 'number');
  });

  it('exports an ONNX model that predicts what the in-process model predicts on every row (max abs diff ≤ 1e-5)', async () => {
    const project = await trainedProject();
    const { spec, model, preprocessor, modelDir } = project;
    const rows = await loadData(spec);
    // Training and holdout rows alike: a float32 rounding that flips a decision shows up on any row.
    const inputs = rows.map(({ [spec.config.target]: _target, ...values }) => values);
    const predictor = await Predictor.load(modelDir, spec);
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
      model
        .predict(matrix)
        .forEach(
          (value, i) => (maxDiff = Math.max(maxDiff, Math.abs((served[i]!.prediction as number) - value) / Math.max(1, Math.abs(value)))),
        );
    }
    assert.ok(maxDiff <= 1e-5, `max abs diff ${maxDiff}`);
  });

  it('splits reproducibly by seed, keeping every class in training', () => {
    const labels = Array.from({ length: 100 }, (_, i) => i % 3);
    const a = trainHoldoutSplit(100, 0.2, 7, labels);
    assert.deepEqual(a, trainHoldoutSplit(100, 0.2, 7, labels));
    assert.notDeepEqual(a, trainHoldoutSplit(100, 0.2, 8, labels));
    assert.equal(a.train.length + a.holdout.length, 100);
    for (const c of [0, 1, 2]) assert.ok(a.holdout.filter((i) => labels[i] === c).length >= 6);
  });
});
