// Feature and id field names that every JavaScript object inherits (constructor, toString): the spec accepts them,
// and the generated service reads only a request's own keys, so leaving such an optional feature or the id field
// out is answered like leaving out any other (it was 422 "received function"). __proto__ stays refused.
import assert from 'node:assert/strict';
import type { RequestListener } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createRequestListener } from '../../templates/service/src/http/app.js';
import { OnnxPredictor } from '../../templates/service/src/runtime/predictor.js';
import { parseSpec, SpecError, type Spec } from '../../templates/service/src/contract/index.js';
import { runTraining } from '../../templates/service/src/training/pipeline.js';
import { SERVING_PATHS, withServer } from '../../templates/service/test/support/serving.js';

const IRIS = new URL('../../templates/examples/iris/', import.meta.url);
const irisText = (file: string) => readFileSync(new URL(file, IRIS), 'utf8');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The iris spec with petal_width renamed `feature` (and optional), and the id field renamed `idField`. */
function irisSpecNamed(feature: string, idField: string, dataPath = 'data/iris.csv'): Spec {
  const features = irisText('features.yaml').replace('name: petal_width', `name: ${feature}\n    required: false`);
  const config = irisText('config.yaml')
    .replace(/^id_field: .*$/m, `id_field: ${idField}`)
    .replace(/^ {2}path: .*$/m, `  path: ${JSON.stringify(dataPath)}`);
  return parseSpec(features, config);
}

describe('names inherited from Object.prototype (constructor, toString)', function () {
  this.timeout(120_000);

  it('the spec accepts them as feature and id field names, and still refuses __proto__ with a clear error', () => {
    const spec = irisSpecNamed('toString', 'constructor');
    assert.equal(spec.config.id_field, 'constructor');
    assert.ok(spec.features.features.some((feature) => feature.name === 'toString' && !feature.required));
    assert.throws(
      () => irisSpecNamed('petal_width', '__proto__'),
      (error: unknown) => error instanceof SpecError && /config\.yaml:\d+:\d+ +id_field: "__proto__" cannot be a name/.test(error.message),
    );
  });

  describe('a service whose optional feature is toString and whose id field is constructor', () => {
    let root: string;
    let spec: Spec;
    let modelDir: string;
    before(async () => {
      root = mkdtempSync(join(tmpdir(), 'inherited-names-'));
      const csv = join(root, 'iris.csv');
      writeFileSync(csv, irisText('data/iris.csv').replace('petal_width', 'toString'));
      spec = irisSpecNamed('toString', 'constructor', csv);
      const { min_metric: _min, max_metric: _max, ...training } = spec.config.training;
      modelDir = join(root, 'model_bin');
      await runTraining({ spec: { ...spec, config: { ...spec.config, training } }, featuresText: '', modelDir });
    });
    after(() => root && rmSync(root, { recursive: true, force: true }));

    for (const { name, fast_path } of SERVING_PATHS) {
      describe(name, () => {
        let app: RequestListener;
        before(async () => {
          const served = withServer(spec, { fast_path });
          app = createRequestListener({
            spec: served,
            model: { predictor: await OnnxPredictor.load(modelDir, served) },
            onError: () => {},
          });
        });
        const row = { sepal_length: 6.3, sepal_width: 2.9, petal_length: 5.6 };

        it('answers a row that leaves out toString and constructor, with a generated id', async () => {
          const res = await request(app).post('/predict').send(row);
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.match(res.body.constructor, UUID);
          assert.ok(['setosa', 'versicolor', 'virginica'].includes(res.body.prediction));
        });

        it('echoes a given constructor id and uses a given toString value', async () => {
          const res = await request(app)
            .post('/predict')
            .send({ ...row, toString: 1.8, constructor: 'req-7' });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.equal(res.body.constructor, 'req-7');
        });

        it('answers a batch whose rows leave them out', async () => {
          const res = await request(app)
            .post('/predict/batch')
            .send({ rows: [row, { ...row, toString: 0.2, constructor: 9 }] });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.match(res.body.predictions[0].constructor, UUID);
          assert.equal(res.body.predictions[1].constructor, 9);
        });

        it('still refuses a wrong type for them (422 naming the field)', async () => {
          const res = await request(app)
            .post('/predict')
            .send({ ...row, toString: 'wide' });
          assert.equal(res.status, 422);
          assert.match(JSON.stringify(res.body), /toString/);
        });
      });
    }
  });
});
