// Every model in src/model/algorithms/, trained on this project's own data (through its preprocessor), must
// export an ONNX graph that onnxruntime evaluates as the model does in-process, on every row: switching
// trainModel() to another algorithm keeps the served predictions exact. Large data is sampled (the first
// 400 rows) and forests kept small, so the suite stays fast; the generator's own tests cover full datasets.
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { loadData } from '../../src/data/dataLoader.js';
import { DecisionTreeClassifier, DecisionTreeRegressor } from '../../src/model/algorithms/decisionTree.js';
import { LinearRegressor } from '../../src/model/algorithms/linearRegression.js';
import { RandomForestClassifier, RandomForestRegressor } from '../../src/model/algorithms/randomForest.js';
import { SoftmaxRegression } from '../../src/model/algorithms/softmaxRegression.js';
import { ONNX_INPUT, ONNX_LABEL, ONNX_PREDICTION, ONNX_PROBABILITIES, classIndex, type TrainedModel } from '../../src/model/modelTypes.js';
import { Preprocessor } from '../../src/model/preprocessor.js';
import { getClasses } from '../../src/model/train.js';
import { trainedProject } from '../support/trainedModel.js';

const SAMPLE_ROWS = 400;

async function runOnnx(model: TrainedModel, X: number[][]): Promise<ort.InferenceSession.OnnxValueMapType> {
  // The service's session options, so the test sees what the service computes.
  const session = await ort.InferenceSession.create(model.toOnnx(), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const input = session.inputMetadata[0]!;
  const type = input.isTensor && input.type === 'float64' ? 'float64' : 'float32';
  const data = type === 'float64' ? Float64Array.from(X.flat()) : Float32Array.from(X.flat());
  try {
    return await session.run({ [ONNX_INPUT]: new ort.Tensor(type, data, [X.length, X[0]!.length]) });
  } finally {
    await session.release();
  }
}

describe('every algorithm on this project’s data: ONNX equals in-process on every row', function () {
  this.timeout(60_000);
  let X: number[][];
  let y: number[];
  let classCount: number;
  let task: 'classification' | 'regression';
  let seed: number;

  before(async () => {
    const { spec } = await trainedProject();
    const target = spec.config.target;
    const rows = (await loadData(spec)).slice(0, SAMPLE_ROWS);
    const inputs = rows.map(({ [target]: _target, ...values }) => values);
    X = new Preprocessor(spec.features.features).fit(inputs).transform(inputs);
    task = spec.config.task;
    seed = spec.config.training.seed;
    const classes = task === 'classification' ? getClasses(rows.map((row) => String(row[target]))) : [];
    classCount = classes.length;
    y = rows.map((row) => (task === 'classification' ? classes.indexOf(String(row[target])) : Number(row[target])));
  });

  const classifiers = () => [
    new SoftmaxRegression().fit(X, y, classCount),
    new DecisionTreeClassifier().fit(X, y, classCount),
    new RandomForestClassifier({ nEstimators: 10, seed }).fit(X, y, classCount),
  ];
  const regressors = () => [
    new LinearRegressor().fit(X, y),
    new DecisionTreeRegressor().fit(X, y),
    new RandomForestRegressor({ nEstimators: 10, seed }).fit(X, y),
  ];

  it('classifiers: probabilities within 1e-5 and the same class', async function () {
    if (task !== 'classification') this.skip();
    for (const model of classifiers()) {
      const outputs = await runOnnx(model, X);
      const probabilities = outputs[ONNX_PROBABILITIES]!.data as Float32Array;
      const labels = outputs[ONNX_LABEL]!.data as BigInt64Array;
      let maxDiff = 0;
      model.predictProba(X).forEach((row, r) => {
        row.forEach((p, c) => (maxDiff = Math.max(maxDiff, Math.abs(p - probabilities[r * classCount + c]!))));
        assert.equal(labels[r], BigInt(classIndex(row)), `${model.algorithm} row ${r}: class`);
      });
      assert.ok(maxDiff <= 1e-5, `${model.algorithm}: max |onnx − in-process| = ${maxDiff}`);
    }
  });

  it('regressors: values within 1e-5, relative to their size (the output is float32)', async function () {
    if (task !== 'regression') this.skip();
    for (const model of regressors()) {
      const predictions = (await runOnnx(model, X))[ONNX_PREDICTION]!.data as Float32Array;
      const maxDiff = model
        .predict(X)
        .reduce((max, value, r) => Math.max(max, Math.abs(value - predictions[r]!) / Math.max(1, Math.abs(value))), 0);
      assert.ok(maxDiff <= 1e-5, `${model.algorithm}: max relative |onnx − in-process| = ${maxDiff}`);
    }
  });
});
