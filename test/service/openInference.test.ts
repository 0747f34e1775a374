// The generated service's Open Inference Protocol (V2) routes against the protocol itself: real requests and answers
// validated with python3-jsonschema against KServe's published schema (test/fixtures/openInference/), and the
// OpenAPI document that lists the V2 routes against the OpenAPI 3.1 schema. Three specs, each trained here: iris (all
// numeric: both input conventions), the low birth weight table (integers, a category, booleans, optional features:
// one input per feature) and diabetes (regression: an FP64 prediction); V2 answers equal /predict/batch's on every
// row of their data.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createRequestListener } from '../../templates/service/src/http/app.js';
import { tabularRequest } from '../../templates/service/src/http/openInference/tensors.js';
import { OnnxPredictor } from '../../templates/service/src/runtime/predictor.js';
import { readCsvRows } from '../../templates/service/src/data/rows.js';
import { parseSpec, type FeatureValues, type Spec } from '../../templates/service/src/contract/index.js';
import { runTraining } from '../../templates/service/src/training/pipeline.js';

const PYTHON = '/usr/bin/python3';
const fixture = (path: string) => new URL(`../fixtures/${path}`, import.meta.url).pathname;
const IRIS = new URL('../../templates/examples/iris/', import.meta.url).pathname;
const pythonJsonSchemaAvailable = () => spawnSync(PYTHON, ['-c', 'import jsonschema, yaml']).status === 0;

/** Runs a checker script with `input` as JSON on stdin; returns its JSON output. */
function check(script: string, input: unknown): unknown {
  const run = spawnSync(PYTHON, [fixture(script)], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

const config = (name: string, target: string, data: string, task = 'classification') =>
  [
    `name: ${name}`,
    'version: 1.2.3',
    `task: ${task}`,
    `target: ${target}`,
    'id_field: request_id',
    `data: {path: ${JSON.stringify(data)}}`,
    'training: {seed: 42, holdout_fraction: 0.2}',
  ].join('\n');

const specs: { label: string; spec: () => Spec }[] = [
  {
    label: 'iris (all numeric)',
    spec: () =>
      parseSpec(readFileSync(join(IRIS, 'features.yaml'), 'utf8'), config('iris-classifier', 'species', join(IRIS, 'data/iris.csv'))),
  },
  {
    label: 'low birth weight (integers, a category, booleans, optional features)',
    spec: () =>
      parseSpec(
        [
          'features:',
          '  - {name: age, type: integer, min: 10, max: 60}',
          '  - {name: lwt, type: integer, min: 50, max: 300}',
          '  - {name: race, type: category, values: [black, other, white]}',
          '  - {name: smoke, type: boolean}',
          '  - {name: ptl, type: integer, required: false}',
          '  - {name: ht, type: boolean}',
          '  - {name: ui, type: boolean, required: false, default: false}',
          '  - {name: ftv, type: integer}',
        ].join('\n'),
        config('low-birth-weight', 'low', fixture('lbw.csv')),
      ),
  },
  {
    label: 'diabetes (regression, all numeric)',
    spec: () => {
      const columns = readFileSync(fixture('diabetes.csv'), 'utf8').split('\n', 1)[0]!.split(',');
      const features = columns.filter((name) => name !== 'progression').map((name) => `  - {name: ${name}, type: number}`);
      return parseSpec(
        ['features:', ...features].join('\n'),
        config('diabetes-progression', 'progression', fixture('diabetes.csv'), 'regression'),
      );
    },
  },
];

type Tensor = { name: string; data: (string | number)[] };

for (const { label, spec: specOf } of specs) {
  describe(`Open Inference Protocol (V2) of a generated service: ${label}`, function () {
    this.timeout(300_000);
    let root: string;
    let spec: Spec;
    let app: RequestListener;
    let rows: FeatureValues[];
    let base: string;
    /** What the protocol's published schema is asked to hold: the requests sent and the answers got. */
    const published: { schema: string; body: unknown }[] = [];

    before(async () => {
      root = mkdtempSync(join(tmpdir(), 'open-inference-'));
      spec = specOf();
      const { min_metric: _min, max_metric: _max, ...training } = spec.config.training;
      const modelDir = join(root, 'model_bin');
      await runTraining({ spec: { ...spec, config: { ...spec.config, training } }, featuresText: '', modelDir });
      app = createRequestListener({ spec, model: { predictor: await OnnxPredictor.load(modelDir, spec) }, onError: () => {} });
      const names = spec.features.features.map((feature) => feature.name);
      rows = (await readCsvRows(spec.config.data.path, spec.features.features, spec.config)).map((row) =>
        Object.fromEntries(names.filter((name) => row[name] !== undefined).map((name) => [name, row[name]])),
      );
      base = `/v2/models/${spec.config.name}`;
    });
    after(() => root && rmSync(root, { recursive: true, force: true }));

    const infer = async (body: object) => {
      published.push({ schema: 'inference_request', body });
      const res = await request(app).post(`${base}/infer`).send(body);
      published.push({ schema: res.status === 200 ? 'inference_response' : 'inference_error_response', body: res.body });
      return res;
    };
    /**
     * /predict/batch's answers in the V2 answer's terms: the predictions, and (classification) the probabilities
     * row-major in the class order.
     */
    const expected = async (batch: FeatureValues[], classes: string[]) => {
      const { body } = await request(app).post('/predict/batch').send({ rows: batch }).expect(200);
      const predictions = body.predictions as { prediction: string | number; probabilities?: Record<string, number> }[];
      return {
        prediction: predictions.map((p) => p.prediction),
        probabilities: classes.length ? predictions.flatMap((p) => classes.map((name) => p.probabilities![name]!)) : undefined,
      };
    };
    const outputs = (answer: { outputs: Tensor[] }) => ({
      prediction: answer.outputs.find((output) => output.name === 'prediction')!.data,
      probabilities: answer.outputs.find((output) => output.name === 'probabilities')?.data,
    });
    /** The class order the model metadata states (none for regression). */
    const classesOf = (metadata: { outputs: { name: string; parameters?: { classes: string } }[] }): string[] => {
      const probabilities = metadata.outputs.find((output) => output.name === 'probabilities');
      return probabilities ? (JSON.parse(probabilities.parameters!.classes) as string[]) : [];
    };

    it('answers every row of the data as /predict/batch does: one input per feature (and one [N, F] tensor when all numeric)', async () => {
      const metadata = await request(app).get(base).expect(200);
      published.push({ schema: 'metadata_model_response', body: metadata.body });
      const classes = classesOf(metadata.body);
      const want = await expected(rows, classes);
      const tabular = await infer(tabularRequest(spec.features.features, rows, 'all-rows'));
      assert.equal(tabular.status, 200, tabular.text);
      assert.deepEqual(outputs(tabular.body), want);
      const features = spec.features.features;
      if (features.every((feature) => feature.type === 'number' || feature.type === 'integer')) {
        const matrix = rows.map((row) => features.map((feature) => row[feature.name]!));
        for (const data of [matrix, matrix.flat()]) {
          const res = await infer({ inputs: [{ name: 'input-0', shape: [rows.length, features.length], datatype: 'FP32', data }] });
          assert.equal(res.status, 200, res.text);
          assert.deepEqual(outputs(res.body), want);
        }
      }
    });

    it('imputes optional features left out, as /predict does, and refuses what features.yaml refuses', async () => {
      const optional = spec.features.features.filter((feature) => !feature.required).map((feature) => feature.name);
      const partial = rows.slice(0, 20).map((row) => Object.fromEntries(Object.entries(row).filter(([name]) => !optional.includes(name))));
      const classes = classesOf((await request(app).get(base).expect(200)).body);
      const res = await infer(tabularRequest(spec.features.features, partial));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(outputs(res.body), await expected(partial, classes));
      const [first] = spec.features.features;
      const bad = await infer(
        tabularRequest(spec.features.features, [{ ...rows[0], [first!.name]: first!.max === undefined ? 'not a number' : first!.max + 1 }]),
      );
      assert.equal(bad.status, 400);
      assert.equal(bad.body.issues[0].field, `${first!.name}[0]`);
    });

    it('answers the metadata, health and error routes in the shapes the protocol publishes', async () => {
      published.push({ schema: 'metadata_server_response', body: (await request(app).get('/v2').expect(200)).body });
      const unknown = await request(app).get('/v2/models/nobody').expect(404);
      published.push({ schema: 'metadata_model_error_response', body: unknown.body });
      assert.equal((await infer({ inputs: [{ name: 'nothing', shape: [1], datatype: 'FP64', data: [1] }] })).status, 400);
      // The protocol's Markdown (not its schema) gives these: {live: bool}, {ready: bool}, {name, ready}.
      assert.deepEqual((await request(app).get('/v2/health/live').expect(200)).body, { live: true });
      assert.deepEqual((await request(app).get('/v2/health/ready').expect(200)).body, { ready: true });
      assert.deepEqual((await request(app).get(`${base}/ready`).expect(200)).body, { name: spec.config.name, ready: true });
    });

    it('sends requests and answers that hold to the published Open Inference Protocol schema (python3-jsonschema)', function () {
      if (!pythonJsonSchemaAvailable()) this.skip(); // .ci/run installs Debian's python3-jsonschema
      assert.ok(published.length >= 6);
      const errors = check('openInference/check.py', published) as string[][];
      const failing = published.map(({ schema }, i) => ({ schema, errors: errors[i]! })).filter(({ errors: found }) => found.length);
      assert.deepEqual(failing, []);
    });

    it('lists the V2 routes in an OpenAPI 3.1 document that validates, with answers matching it (python3-jsonschema)', async function () {
      if (!pythonJsonSchemaAvailable()) this.skip();
      const document = (await request(app).get('/openapi.json').expect(200)).body;
      const example = document.paths['/v2/models/{model_name}/infer'].post.requestBody.content['application/json'].example;
      const answers = [
        { path: '/v2', method: 'get', res: await request(app).get('/v2') },
        { path: '/v2/models/{model_name}', method: 'get', res: await request(app).get(base) },
        { path: '/v2/models/{model_name}', method: 'get', res: await request(app).get('/v2/models/nobody') },
        { path: '/v2/models/{model_name}/ready', method: 'get', res: await request(app).get(`${base}/ready`) },
        { path: '/v2/health/ready', method: 'get', res: await request(app).get('/v2/health/ready') },
        { path: '/v2/models/{model_name}/infer', method: 'post', res: await request(app).post(`${base}/infer`).send(example) },
        { path: '/v2/models/{model_name}/infer', method: 'post', res: await request(app).post(`${base}/infer`).send({ inputs: [] }) },
      ].map(({ path, method, res }) => ({ path, method, status: res.status, body: res.body }));
      assert.deepEqual(
        answers.map(({ status }) => status),
        [200, 200, 404, 200, 200, 200, 400],
      );
      const result = check('openapi/check.py', { document, answers }) as { document: string[]; answers: string[][] };
      assert.deepEqual(result.document, []);
      assert.deepEqual(
        result.answers,
        answers.map(() => []),
      );
    });
  });
}
