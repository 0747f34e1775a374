// A model trained by scikit-learn and written by the onnx Python package itself (onnx.helper), in the
// exact graph skl2onnx produces for LogisticRegression (zipmap off) and LinearRegression: ai.onnx.ml
// LinearClassifier with output_label + output_probability, LinearRegressor with "variable" [N, 1]. The
// generated service must serve it from a hand-written model.json and answer what scikit-learn answers, on
// every iris row. skl2onnx itself is not installable here; the graph is the one it emits. Skipped when
// /usr/bin/python3 lacks scikit-learn or onnx (Debian: python3-sklearn, python3-onnx).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCsvRows } from '../../templates/service/src/data/rows.js';
import { OnnxPredictor } from '../../templates/service/src/runtime/predictor.js';
import { parseSpec } from '../../templates/service/src/contract/index.js';

const PYTHON = '/usr/bin/python3';
const IRIS = new URL('../../templates/examples/iris/', import.meta.url);
const available = spawnSync(PYTHON, ['-c', 'import sklearn, onnx'], { stdio: 'ignore' }).status === 0;

const SCRIPT = `
import json, sys
import numpy as np
import onnx
from onnx import helper, TensorProto
from sklearn.linear_model import LinearRegression, LogisticRegression

d = json.load(sys.stdin)
X, classes = np.array(d['X']), d['species']
F = X.shape[1]
clf = LogisticRegression(max_iter=10000).fit(X, classes)
classifier = helper.make_graph(
    [helper.make_node('LinearClassifier', ['float_input'], ['output_label', 'output_probability'], domain='ai.onnx.ml',
                      coefficients=clf.coef_.ravel().tolist(), intercepts=clf.intercept_.tolist(),
                      classlabels_ints=list(range(len(clf.classes_))), multi_class=1, post_transform='SOFTMAX')],
    'LogisticRegression',
    [helper.make_tensor_value_info('float_input', TensorProto.FLOAT, [None, F])],
    [helper.make_tensor_value_info('output_label', TensorProto.INT64, [None]),
     helper.make_tensor_value_info('output_probability', TensorProto.FLOAT, [None, len(clf.classes_)])])
reg = LinearRegression().fit(X[:, :3], X[:, 3])
regressor = helper.make_graph(
    [helper.make_node('LinearRegressor', ['float_input'], ['variable'], domain='ai.onnx.ml',
                      coefficients=reg.coef_.tolist(), intercepts=[float(reg.intercept_)])],
    'LinearRegression',
    [helper.make_tensor_value_info('float_input', TensorProto.FLOAT, [None, 3])],
    [helper.make_tensor_value_info('variable', TensorProto.FLOAT, [None, 1])])
def save(graph, path):
    model = helper.make_model(graph, producer_name='skl2onnx-shaped', opset_imports=[helper.make_opsetid('', 15), helper.make_opsetid('ai.onnx.ml', 1)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
save(classifier, d['classifier'])
save(regressor, d['regressor'])
print(json.dumps({'classes': clf.classes_.tolist(), 'probabilities': clf.predict_proba(X).tolist(), 'values': reg.predict(X[:, :3]).tolist()}))
`;

describe('bring your own ONNX: a scikit-learn model written by the onnx Python package', function () {
  this.timeout(60_000);
  let root: string;
  before(function () {
    if (!available) this.skip();
    root = mkdtempSync(join(tmpdir(), 'byo-python-'));
  });
  after(() => root && rmSync(root, { recursive: true, force: true }));

  it('is served with the probabilities and values scikit-learn computes, on every iris row', async () => {
    const featuresText = readFileSync(new URL('features.yaml', IRIS), 'utf8');
    const spec = parseSpec(featuresText, readFileSync(new URL('config.yaml', IRIS), 'utf8'));
    const features = spec.features.features;
    const rows = await readCsvRows(new URL('data/iris.csv', IRIS).pathname, features, spec.config);
    const X = rows.map((row) => features.map((f) => row[f.name] as number));
    for (const name of ['classifier', 'regressor']) mkdirSync(join(root, name));
    const run = spawnSync(PYTHON, ['-c', SCRIPT], {
      input: JSON.stringify({
        X,
        species: rows.map((row) => row.species),
        classifier: join(root, 'classifier', 'model.onnx'),
        regressor: join(root, 'regressor', 'model.onnx'),
      }),
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const sklearn = JSON.parse(run.stdout) as { classes: string[]; probabilities: number[][]; values: number[] };
    const inputs = rows.map(({ species: _species, ...values }) => values);

    // The smallest model.json: no uuid, no preprocessor.json (the model takes the raw features).
    const described = features.map(({ name, type }) => ({ name, type }));
    writeFileSync(
      join(root, 'classifier', 'model.json'),
      JSON.stringify({ task: 'classification', target: 'species', classes: sklearn.classes, features: described }),
    );
    const classifier = await OnnxPredictor.load(join(root, 'classifier'), spec);
    let maxDifference = 0;
    (await classifier.predict(inputs)).forEach((prediction, r) => {
      sklearn.classes.forEach((name, c) => {
        maxDifference = Math.max(maxDifference, Math.abs(prediction.probabilities![name]! - sklearn.probabilities[r]![c]!));
      });
    });
    assert.ok(maxDifference <= 1e-5, `max |served − scikit-learn| = ${maxDifference}`);

    // A regressor of petal_width from the other three measurements, for a project of that shape.
    const regressionSpec = parseSpec(
      `features:\n${features
        .slice(0, 3)
        .map((f) => `  - { name: ${f.name}, type: number }`)
        .join('\n')}\n`,
      'name: petal\nversion: 1.0.0\ntask: regression\ntarget: petal_width\nid_field: request_id\ndata: { path: iris.csv }\n',
    );
    writeFileSync(
      join(root, 'regressor', 'model.json'),
      JSON.stringify({ task: 'regression', target: 'petal_width', features: described.slice(0, 3) }),
    );
    const regressor = await OnnxPredictor.load(join(root, 'regressor'), regressionSpec);
    const values = await regressor.predict(inputs.map(({ petal_width: _width, ...values }) => values));
    values.forEach((value, r) => assert.ok(Math.abs((value.prediction as number) - sklearn.values[r]!) <= 1e-5, `row ${r}`));
  });
});
