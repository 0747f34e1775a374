// The built-in models as config.yaml chooses them (training.algorithm, parsed by the project's own schema and
// trained by trainBuiltInModel, the code the generated train.ts calls): each trains on a scikit-learn table
// through the project's Preprocessor, honours its hyper-parameters, and its ONNX export predicts what the
// TypeScript model predicts on every row. (test/service/onnxParity.test.ts checks the model classes
// themselves against scikit-learn; this checks the path from config.yaml.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { readCsvRows } from '../../templates/service/src/data/rows.js';
import { trainBuiltInModel } from '../../templates/service/src/model/builtInModels.js';
import { classIndex, ONNX_INPUT, ONNX_LABEL, ONNX_PREDICTION, ONNX_PROBABILITIES } from '../../templates/service/src/model/modelTypes.js';
import { Preprocessor } from '../../templates/service/src/model/preprocessor.js';
import { algorithmSchema, featureSchema, type Feature, type Task } from '../../templates/service/src/contract/index.js';
import { trainHoldoutSplit } from '../../templates/service/src/training/split.js';

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).pathname;
const SEED = 42;

interface Table {
  label: string;
  task: Task;
  target: string;
  features: Feature[];
  path: string;
}

const breastCancerHeader = readFileSync(fixture('breast_cancer.csv'), 'utf8').split('\n', 1)[0]!.split(',');
const tables: Table[] = [
  {
    label: 'breast cancer (classification, 30 numbers)',
    task: 'classification',
    target: 'diagnosis',
    path: fixture('breast_cancer.csv'),
    features: breastCancerHeader.filter((name) => name !== 'diagnosis').map((name) => featureSchema.parse({ name, type: 'number' })),
  },
  {
    label: 'diabetes with a category, a boolean and blanks (regression)',
    task: 'regression',
    target: 'progression',
    path: fixture('diabetes_mixed.csv'),
    features: [
      ...['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6'].map((name) =>
        featureSchema.parse({ name, type: 'number', required: !['bmi', 'bp', 's3'].includes(name) }),
      ),
      featureSchema.parse({ name: 'region', type: 'category', values: ['east', 'north', 'south', 'west'], required: false }),
      featureSchema.parse({ name: 'smoker', type: 'boolean', required: false }),
    ],
  },
];

/** config.yaml's training.algorithm values, and the model.json name each trains. */
const choices: { algorithm: unknown; trained: Record<Task, string> }[] = [
  { algorithm: 'linear', trained: { classification: 'softmaxRegression', regression: 'linearRegression' } },
  {
    algorithm: { name: 'decision_tree', max_depth: 1 },
    trained: { classification: 'decisionTreeClassifier', regression: 'decisionTreeRegressor' },
  },
  {
    algorithm: { name: 'random_forest', trees: 10, max_depth: 6 },
    trained: { classification: 'randomForestClassifier', regression: 'randomForestRegressor' },
  },
];

async function runOnnx(bytes: Uint8Array, X: readonly number[][]): Promise<InferenceSession.OnnxValueMapType> {
  const session = await InferenceSession.create(Buffer.from(bytes), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const { type } = session.inputMetadata[0] as { type: string };
    const shape = [X.length, X[0]!.length];
    const input =
      type === 'float64'
        ? new Tensor('float64', Float64Array.from(X.flat()), shape)
        : new Tensor('float32', Float32Array.from(X.flat()), shape);
    return await session.run({ [ONNX_INPUT]: input });
  } finally {
    await session.release();
  }
}

for (const table of tables) {
  describe(`built-in models from config.yaml on ${table.label}`, function () {
    this.timeout(60_000);
    let X: number[][];
    let y: number[];
    let classes: string[];
    let train: number[];

    before(async () => {
      const rows = await readCsvRows(table.path, table.features, { target: table.target, task: table.task });
      const labels = rows.map((row) => row[table.target]!);
      classes = table.task === 'classification' ? [...new Set(labels.map(String))].sort() : [];
      y = table.task === 'classification' ? labels.map((label) => classes.indexOf(String(label))) : labels.map(Number);
      ({ train } = trainHoldoutSplit(rows.length, 0.2, SEED, table.task === 'classification' ? y : undefined));
      const featureRows = rows.map(({ [table.target]: _target, ...values }) => values);
      const preprocessor = new Preprocessor(table.features).fit(train.map((i) => featureRows[i]!));
      X = preprocessor.transform(featureRows);
    });

    for (const { algorithm, trained } of choices) {
      it(`${JSON.stringify(algorithm)}: trains ${trained[table.task]}, whose ONNX export predicts what it predicts on every row`, async () => {
        const model = trainBuiltInModel(
          train.map((i) => X[i]!),
          train.map((i) => y[i]!),
          { task: table.task, classes, seed: SEED, algorithm: algorithmSchema.parse(algorithm) },
        );
        assert.equal(model.algorithm, trained[table.task]);
        const outputs = await runOnnx(model.toOnnx(), X);
        let maxDiff = 0;
        let predictions: number[];
        if (model.task === 'classification') {
          const probabilities = outputs[ONNX_PROBABILITIES]!.data as Float32Array;
          const labels = outputs[ONNX_LABEL]!.data as BigInt64Array;
          const expected = model.predictProba(X);
          expected.forEach((row, r) => {
            row.forEach((p, c) => (maxDiff = Math.max(maxDiff, Math.abs(probabilities[r * classes.length + c]! - p))));
            assert.equal(labels[r], BigInt(classIndex(row)), `row ${r}: class`);
          });
          predictions = expected.map(classIndex);
        } else {
          const served = outputs[ONNX_PREDICTION]!.data as Float32Array;
          predictions = model.predict(X);
          predictions.forEach((value, r) => (maxDiff = Math.max(maxDiff, Math.abs(served[r]! - value) / Math.max(1, Math.abs(value)))));
        }
        assert.ok(maxDiff <= 1e-5, `max |onnx − in-process| = ${maxDiff}`);
        // The hyper-parameters reach the model: a tree of depth 1 has two leaves.
        if (
          typeof algorithm === 'object' &&
          (algorithm as { max_depth?: number }).max_depth === 1 &&
          trained[table.task].startsWith('decisionTree')
        )
          assert.ok(new Set(predictions).size <= 2, `${new Set(predictions).size} distinct predictions from a depth-1 tree`);
      });
    }

    it('"decision_tree" without max_depth grows a full tree (ml-cart took maxDepth: undefined for 0 and stopped at the root)', () => {
      const model = trainBuiltInModel(
        train.map((i) => X[i]!),
        train.map((i) => y[i]!),
        { task: table.task, classes, seed: SEED, algorithm: algorithmSchema.parse('decision_tree') },
      );
      const leaves = new Set<unknown>(model.task === 'classification' ? model.predictProba(X).map((row) => row.join()) : model.predict(X));
      assert.ok(leaves.size > 2, `${leaves.size} distinct leaf values`);
    });
  });
}
