// Explanations are exact for every built-in model: each algorithm of config.yaml's training.algorithm is trained by
// the real pipeline on this project's data, served from its version folder, and every holdout row's explanation
// (as the service makes it, from model.onnx, preprocessor.json and explainer.json) adds up to its output within
// 1e-6 and explains the class the service answered, whose probability (trees) or value (regression) it is.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadData } from '../../../src/data/dataLoader.js';
import { EXPLAINER_FILE, Explainer, ExplanationUnavailableError, type Explanation } from '../../../src/model/explanation/explainer.js';
import { Explanations } from '../../../src/runtime/explanations.js';
import { OnnxPredictor, type Prediction } from '../../../src/runtime/predictor.js';
import { algorithmSchema, loadSpec, type FeatureValues, type Spec } from '../../../src/contract/index.js';
import { projectPaths } from '../../../src/contract/environment.js';
import { runTraining, type TrainingResult } from '../../../src/training/pipeline.js';
import { trainHoldoutSplit } from '../../../src/training/split.js';

const ALGORITHMS = ['linear', 'decision_tree', 'random_forest'] as const;

/** The spec with another training.algorithm (its defaults) and without the quality gate: this is about explanations. */
function specFor(spec: Spec, name: (typeof ALGORITHMS)[number]): Spec {
  const { min_metric: _min, max_metric: _max, ...training } = spec.config.training;
  return { ...spec, config: { ...spec.config, training: { ...training, algorithm: algorithmSchema.parse({ name }) } } };
}

/** The holdout rows of the pipeline's split (the same seed, fraction and strata). */
async function holdoutRows(spec: Spec, classes: readonly string[]): Promise<FeatureValues[]> {
  const { target, task, training } = spec.config;
  const rows = await loadData(spec);
  const labels = rows.map((row) => String(row[target]));
  const split = trainHoldoutSplit(
    rows.length,
    training.holdout_fraction,
    training.seed,
    task === 'classification' ? labels.map((label) => classes.indexOf(label)) : undefined,
  );
  return split.holdout.map((i) => {
    const { [target]: _target, ...features } = rows[i]!;
    return features;
  });
}

for (const algorithm of ALGORITHMS)
  describe(`explanations: ${algorithm}`, function () {
    this.timeout(600_000);
    let spec: Spec;
    let modelDir: string;
    let trained: TrainingResult;
    let rows: FeatureValues[];
    let results: Prediction[];
    let explanations: Explanation[];

    before(async () => {
      const paths = projectPaths();
      spec = specFor(loadSpec(paths.features, paths.config), algorithm);
      modelDir = mkdtempSync(join(tmpdir(), `explain-${algorithm}-`));
      trained = await runTraining({ spec, featuresText: readFileSync(paths.features, 'utf8'), modelDir });
      rows = await holdoutRows(spec, trained.metadata.classes);
      assert.equal(rows.length, trained.metadata.rows.holdout);
      const predictor = await OnnxPredictor.load(trained.versionDir, spec);
      results = await predictor.predict(rows);
      const explainer = await new Explanations(spec).explainerFor(predictor);
      assert.ok(!('unavailable' in explainer), 'unavailable' in explainer ? explainer.unavailable : '');
      explanations = explainer.explain(rows, results);
    });
    after(() => rmSync(modelDir, { recursive: true, force: true }));

    it('training writes explainer.json beside model.onnx', () => {
      const state = JSON.parse(readFileSync(join(trained.versionDir, EXPLAINER_FILE), 'utf8'));
      assert.equal(state.kind, algorithm === 'linear' ? 'linear' : 'trees');
    });

    it('base + Σ contributions = output within 1e-6 on every holdout row, over every feature of features.yaml', () => {
      const names = spec.features.features.map((feature) => feature.name);
      assert.equal(explanations.length, rows.length);
      explanations.forEach((explanation, r) => {
        assert.deepEqual(Object.keys(explanation.contributions), names);
        const values = Object.values(explanation.contributions);
        assert.ok([explanation.base, explanation.output, ...values].every(Number.isFinite), `row ${r}: not finite`);
        const sum = values.reduce((a, b) => a + b, 0);
        assert.ok(
          Math.abs(explanation.base + sum - explanation.output) <= 1e-6,
          `row ${r}: ${explanation.base} + ${sum} ≠ ${explanation.output}`,
        );
      });
    });

    it('explains the answered prediction on its scale', () => {
      const classification = spec.config.task === 'classification';
      const expectedScale = !classification ? 'value' : algorithm === 'linear' ? 'logit' : 'probability';
      explanations.forEach((explanation, r) => {
        const result = results[r]!;
        assert.equal(explanation.scale, expectedScale);
        if (classification) assert.equal(explanation.class, result.prediction, `row ${r}: explains another class`);
        // The service answers float32 scores; the explainer computes in double from the same graph.
        if (expectedScale === 'probability') {
          assert.ok(Math.abs(explanation.output - result.probabilities![explanation.class!]!) <= 1e-6, `row ${r}: probability`);
        } else if (expectedScale === 'value') {
          const value = result.prediction as number;
          assert.ok(
            Math.abs(explanation.output - value) <= 1e-5 * Math.max(1, Math.abs(value)),
            `row ${r}: ${explanation.output} vs ${value}`,
          );
        }
      });
      if (expectedScale !== 'logit') return;
      // Logits are not answered, but their softmax is: every class's explained output, through softmax, is the answer.
      const matrix = trained.preprocessor.transform(rows);
      const classes = trained.metadata.classes;
      const logits = classes.map((_, c) =>
        trained
          .explainer!.explain(
            matrix,
            matrix.map(() => c),
          )
          .map((e) => e.output),
      );
      rows.forEach((_, r) => {
        assert.equal(logits[classes.indexOf(String(results[r]!.prediction))]![r], explanations[r]!.output);
        const max = Math.max(...logits.map((column) => column[r]!));
        const total = logits.reduce((sum, column) => sum + Math.exp(column[r]! - max), 0);
        classes.forEach((name, c) => {
          const probability = Math.exp(logits[c]![r]! - max) / total;
          assert.ok(Math.abs(probability - results[r]!.probabilities![name]!) <= 1e-5, `row ${r}, ${name}: ${probability}`);
        });
      });
    });

    it("training's global importance: every feature's mean absolute contribution over the holdout rows, largest first", () => {
      const importance = trained.importance!;
      assert.equal(importance.rows, rows.length);
      assert.deepEqual(importance.features.map((f) => f.feature).sort(), spec.features.features.map((f) => f.name).sort());
      importance.features.forEach(({ importance: value }, i) => {
        assert.ok(value >= 0 && Number.isFinite(value));
        if (i > 0) assert.ok(value <= importance.features[i - 1]!.importance);
      });
      assert.ok(importance.features[0]!.importance > 0, 'no feature matters');
    });

    it('refuses a Preprocessor that does not say which feature each column comes from', () => {
      const onnx = readFileSync(join(trained.versionDir, 'model.onnx'));
      const state = JSON.parse(readFileSync(join(trained.versionDir, EXPLAINER_FILE), 'utf8'));
      const { features } = spec.features;
      const classes = trained.metadata.classes;
      const columns = { outputSize: trained.preprocessor.outputSize };
      assert.throws(() => Explainer.create({ onnx, state, columns, features, classes }), ExplanationUnavailableError);
      assert.throws(
        () => Explainer.create({ onnx, state, columns: { ...columns, columnFeatures: ['not_a_feature'] }, features, classes }),
        /columnFeatures/,
      );
      const otherModel = { ...state, model_sha256: '0'.repeat(64) };
      assert.throws(() => Explainer.create({ onnx, state: otherModel, columns: trained.preprocessor, features, classes }), /another model/);
    });
  });
