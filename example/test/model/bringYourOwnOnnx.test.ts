// Models trained elsewhere, in the shapes scikit-learn's skl2onnx and PyTorch's torch.onnx.export produce
// (input and output names, element types, fixed or dynamic batch, label + probability outputs, logits),
// built here with the project's own graph builder, dropped into a model folder with a hand-written
// model.json, and served. The spec is this test's own, so the test does not depend on features.yaml.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRows, rawFeatureEncoders } from '../../src/model/preprocessing.js';
import { softmax } from '../../src/model/onnxSignature.js';
import {
  DataType,
  ONNX_ML_DOMAIN,
  attr,
  doubleTensor,
  encodeModel,
  floatTensor,
  node,
  tensorValueInfo,
  type NodeProto,
  type ValueInfoProto,
} from '../../src/onnx/graphBuilder.js';
import { InputRangeError, ModelLoadError, OnnxPredictor, type Predictor } from '../../src/runtime/predictor.js';
import { FeatureTable, parseSpec, type Spec, type FeatureValues } from '../../src/contract/index.js';

const FEATURES_YAML = `
features:
  - { name: length, type: number, min: 0 }
  - { name: width, type: number, min: 0 }
  - { name: shiny, type: boolean }
  - { name: color, type: category, values: [red, green], required: false, default: green }
`;
const configYaml = (task: 'classification' | 'regression') => `
name: byo-test
version: 2.0.0
task: ${task}
target: kind
id_field: request_id
data: { path: data.csv }
`;
const CLASSES = ['large', 'medium', 'small'];
/** Raw encoding: length, width, shiny, color=red, color=green. */
const WIDTH = 5;
const WEIGHTS = [
  [0.8, 0.5, 0.3, -0.2, 0.1],
  [0.1, -0.4, 0.2, 0.5, -0.3],
  [-0.9, 0.2, -0.4, 0.1, 0.6],
];
const BIASES = [0.1, -0.2, 0.3];
const ROWS: FeatureValues[] = [
  { length: 5.1, width: 3.5, shiny: true, color: 'red' },
  { length: 0.4, width: 0.2, shiny: false },
  { length: 7.7, width: 2.6, shiny: false, color: 'green' },
];

const spec = (task: 'classification' | 'regression'): Spec => parseSpec(FEATURES_YAML, configYaml(task));
const encoded = (rows: readonly FeatureValues[]) => encodeRows(rawFeatureEncoders(spec('classification').features.features).encoders, rows);
const logitsOf = (x: readonly number[]) => WEIGHTS.map((w, c) => w.reduce((sum, wj, j) => sum + wj * x[j]!, BIASES[c]!));

interface GraphParts {
  input: ValueInfoProto;
  outputs: ValueInfoProto[];
  nodes: NodeProto[];
  double?: boolean;
}

function model({ input, outputs, nodes, double = false }: GraphParts, weights = WEIGHTS, biases = BIASES): Uint8Array {
  const tensor = double ? doubleTensor : floatTensor;
  return encodeModel({
    graphName: 'elsewhere',
    inputs: [input],
    outputs,
    initializers: [tensor('W', [weights.length, weights[0]!.length], weights.flat()), tensor('B', [biases.length], biases)],
    nodes,
  });
}

const gemm = (input: string, output: string) => node('Gemm', [input, 'W', 'B'], [output], { transB: attr.int(1) });

/** LogisticRegression through skl2onnx with zipmap off: output_label (int64 or string) and output_probability [N, C]. */
function skl2onnxClassifier(labels: 'int64' | 'string'): Uint8Array {
  const labelNodes =
    labels === 'int64'
      ? [node('ArgMax', ['output_probability'], ['output_label'], { axis: attr.int(1), keepdims: attr.int(0) })]
      : [
          node('ArgMax', ['output_probability'], ['label_index'], { axis: attr.int(1), keepdims: attr.int(0) }),
          node(
            'LabelEncoder',
            ['label_index'],
            ['output_label'],
            { keys_int64s: attr.ints([0, 1, 2]), values_strings: attr.strings(CLASSES) },
            { domain: ONNX_ML_DOMAIN },
          ),
        ];
  return model({
    input: tensorValueInfo('float_input', DataType.FLOAT, ['N', WIDTH]),
    outputs: [
      tensorValueInfo('output_label', labels === 'int64' ? DataType.INT64 : DataType.STRING, ['N']),
      tensorValueInfo('output_probability', DataType.FLOAT, ['N', CLASSES.length]),
    ],
    nodes: [gemm('float_input', 'scores'), node('Softmax', ['scores'], ['output_probability'], { axis: attr.int(1) }), ...labelNodes],
  });
}

describe('bring your own ONNX model', () => {
  let root: string;
  before(() => (root = mkdtempSync(join(tmpdir(), 'byo-'))));
  after(() => rmSync(root, { recursive: true, force: true }));

  let count = 0;
  /** Writes model.onnx and model.json into a fresh folder (as a user would drop them into model_bin/<name>/). */
  function dropIn(onnx: Uint8Array, metadata: Record<string, unknown>): string {
    const dir = join(root, `model-${++count}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'model.onnx'), onnx);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(metadata));
    return dir;
  }
  const features = spec('classification').features.features.map(({ name, type }) => ({ name, type }));
  const classifierJson = (extra: Record<string, unknown> = {}) => ({
    task: 'classification',
    target: 'kind',
    classes: CLASSES,
    features,
    ...extra,
  });
  const regressorJson = (extra: Record<string, unknown> = {}) => ({ task: 'regression', target: 'kind', features, ...extra });

  function assertClassified(predictions: Awaited<ReturnType<Predictor['predict']>>): void {
    encoded(ROWS).forEach((x, i) => {
      const expected = softmax(logitsOf(x));
      CLASSES.forEach((name, c) => assert.ok(Math.abs(predictions[i]!.probabilities![name]! - expected[c]!) < 1e-6, `row ${i} ${name}`));
      assert.equal(predictions[i]!.prediction, CLASSES[expected.indexOf(Math.max(...expected))]);
    });
  }

  for (const labels of ['int64', 'string'] as const) {
    it(`serves a skl2onnx classifier (zipmap off, ${labels} labels) from its output_probability tensor`, async () => {
      const predictor = await OnnxPredictor.load(dropIn(skl2onnxClassifier(labels), classifierJson()), spec('classification'));
      assertClassified(await predictor.predict(ROWS));
      // model.json left out uuid, version and created_at: the service fills them in.
      assert.match(predictor.metadata.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(predictor.metadata.version, '2.0.0');
      assert.ok(!Number.isNaN(Date.parse(predictor.metadata.created_at)));
    });
  }

  it('serves a PyTorch classifier with a fixed batch of 1 whose single output holds logits', async () => {
    const onnx = model({
      input: tensorValueInfo('input', DataType.FLOAT, [1, WIDTH]),
      outputs: [tensorValueInfo('logits', DataType.FLOAT, [1, CLASSES.length])],
      nodes: [gemm('input', 'logits')],
    });
    const predictor = await OnnxPredictor.load(dropIn(onnx, classifierJson({ onnx: { scores: 'logits' } })), spec('classification'));
    assertClassified(await predictor.predict(ROWS));
  });

  it('serves regressors with a double input: skl2onnx ("variable" [N, 1]) and PyTorch (an unnamed [N] output)', async () => {
    const weights = [WEIGHTS[0]!];
    const biases = [BIASES[0]!];
    const sklearn = model(
      {
        input: tensorValueInfo('X', DataType.DOUBLE, ['N', WIDTH]),
        outputs: [tensorValueInfo('variable', DataType.DOUBLE, ['N', 1])],
        nodes: [gemm('X', 'variable')],
        double: true,
      },
      weights,
      biases,
    );
    const torch = model(
      {
        input: tensorValueInfo('onnx::Gemm_0', DataType.FLOAT, ['batch_size', WIDTH]),
        outputs: [tensorValueInfo('7', DataType.FLOAT, ['batch_size'])],
        // [N, 1] → [N] (ReduceMean keeps its axes attribute in opset 17).
        nodes: [gemm('onnx::Gemm_0', 'column'), node('ReduceMean', ['column'], ['7'], { axes: attr.ints([1]), keepdims: attr.int(0) })],
      },
      weights,
      biases,
    );
    for (const onnx of [sklearn, torch]) {
      const predictor = await OnnxPredictor.load(dropIn(onnx, regressorJson()), spec('regression'));
      const predictions = await predictor.predict(ROWS);
      encoded(ROWS).forEach((x, i) => assert.ok(Math.abs((predictions[i]!.prediction as number) - logitsOf(x)[0]!) < 1e-5, `row ${i}`));
    }
  });

  it('refuses a row whose output overflows (a 422 InputRangeError), never answering a prediction of null', async () => {
    // float32 all through: a length of 1e10 fits the input, times a weight of 1e30 it is past float32's range.
    const onnx = model(
      {
        input: tensorValueInfo('input', DataType.FLOAT, ['N', WIDTH]),
        outputs: [tensorValueInfo('prediction', DataType.FLOAT, ['N', 1])],
        nodes: [gemm('input', 'prediction')],
      },
      [[1e30, 0, 0, 0, 0]],
      [0],
    );
    const predictor = await OnnxPredictor.load(dropIn(onnx, regressorJson()), spec('regression'));
    await assert.rejects(predictor.predict([ROWS[0]!, { ...ROWS[1]!, length: 1e10 }]), (error: Error) => {
      assert.ok(error instanceof InputRangeError, String(error));
      assert.equal(error.status, 422);
      assert.match(error.message, /^row 1 holds numbers too large for the model \(its output overflows\)/);
      return true;
    });
    const names = spec('regression').features.features.map((feature) => feature.name);
    await assert.rejects(predictor.predictOutputs(FeatureTable.fromRows(names, [{ ...ROWS[1]!, length: 1e10 }])), InputRangeError);
    const [fine] = await predictor.predict([ROWS[0]!]);
    assert.ok(Number.isFinite(fine!.prediction), 'a row the model can compute with is answered');
  });

  const refused = async (dir: string, pattern: RegExp, task: 'classification' | 'regression' = 'classification') =>
    assert.rejects(OnnxPredictor.load(dir, spec(task)), (error: Error) => {
      assert.ok(error instanceof ModelLoadError, String(error));
      assert.match(error.message, pattern);
      return true;
    });

  it('refuses logits read as probabilities, pointing at onnx.scores', async () => {
    const onnx = model({
      input: tensorValueInfo('input', DataType.FLOAT, ['N', WIDTH]),
      outputs: [tensorValueInfo('logits', DataType.FLOAT, ['N', CLASSES.length])],
      nodes: [gemm('input', 'logits')],
    });
    await refused(
      dropIn(onnx, classifierJson()),
      /is not a probability distribution; if it holds logits, set "onnx": \{ "scores": "logits" \}/,
    );
  });

  it('refuses a ZipMap output, saying to export with zipmap off', async () => {
    const zipMapOutput: ValueInfoProto = {
      name: 'output_probability',
      type: {
        sequenceType: { elemType: { mapType: { keyType: DataType.INT64, valueType: { tensorType: { elemType: DataType.FLOAT } } } } },
      },
    };
    const onnx = model({
      input: tensorValueInfo('float_input', DataType.FLOAT, ['N', WIDTH]),
      outputs: [tensorValueInfo('output_label', DataType.INT64, ['N']), zipMapOutput],
      nodes: [
        gemm('float_input', 'scores'),
        node('Softmax', ['scores'], ['probabilities'], { axis: attr.int(1) }),
        node('ArgMax', ['probabilities'], ['output_label'], { axis: attr.int(1), keepdims: attr.int(0) }),
        node('ZipMap', ['probabilities'], ['output_probability'], { classlabels_int64s: attr.ints([0, 1, 2]) }, { domain: ONNX_ML_DOMAIN }),
      ],
    });
    await refused(dropIn(onnx, classifierJson()), /output_probability is not a tensor.*"zipmap": False/);
  });

  it('refuses an input of the wrong width, an output of the wrong class count, and unreadable outputs', async () => {
    const narrow = model(
      {
        input: tensorValueInfo('float_input', DataType.FLOAT, ['N', 4]),
        outputs: [tensorValueInfo('output_probability', DataType.FLOAT, ['N', 2])],
        nodes: [gemm('float_input', 'scores'), node('Softmax', ['scores'], ['output_probability'], { axis: attr.int(1) })],
      },
      [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
      ],
      [0, 0],
    );
    await refused(
      dropIn(narrow, classifierJson()),
      /takes 4 columns, but the features encode to 5[\s\S]*has 2 columns, but model.json lists 3 classes/,
    );
    const twoOutputs = model({
      input: tensorValueInfo('x', DataType.FLOAT, ['N', WIDTH]),
      outputs: [tensorValueInfo('a', DataType.FLOAT, ['N', 3]), tensorValueInfo('b', DataType.FLOAT, ['N', 3])],
      nodes: [gemm('x', 'a'), node('Identity', ['a'], ['b'])],
    });
    await refused(
      dropIn(twoOutputs, classifierJson()),
      /cannot tell which output to read among a \(float32 \[N, 3\]\), b .*name it in model.json as onnx.output/,
    );
    const named = await OnnxPredictor.load(
      dropIn(twoOutputs, classifierJson({ onnx: { output: 'b', scores: 'logits' } })),
      spec('classification'),
    );
    assertClassified(await named.predict(ROWS));
  });

  it('refuses a model.json that is incomplete or describes other features', async () => {
    const onnx = skl2onnxClassifier('int64');
    await refused(dropIn(onnx, { target: 'kind', features }), /model.json is not a valid model description:\n {2}task: /);
    await refused(
      dropIn(onnx, classifierJson({ features: features.slice(1) })),
      /does not match features.yaml[\s\S]*feature "length" \(number\) is in features.yaml but not in the model/,
    );
    await refused(dropIn(onnx, classifierJson({ task: 'regression' })), /model task is regression, config.yaml says classification/);
  });
});
