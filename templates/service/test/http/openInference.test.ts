// The Open Inference Protocol (V2) routes, for whatever features.yaml says: every route's answer and errors, infer
// answering exactly what /predict/batch answers on every row of the training data (one input per feature, and for
// all-numeric specs a single [N, F] tensor, nested and flat), and a V2 request logged and monitored as /predict's.
// Run through the fast path and through Express alone. (The repository checks real requests and answers against
// the protocol's published schema; the fuzz and hardening suites run against the infer route too.)
import assert from 'node:assert/strict';
import type { RequestListener } from 'node:http';
import { PassThrough } from 'node:stream';
import request from 'supertest';
import { createRequestListener } from '../../src/http/app.js';
import { openInferenceAnswers } from '../../src/http/openInference/protocol.js';
import { tabularRequest } from '../../src/http/openInference/tensors.js';
import { PredictionLog } from '../../src/predictionLog/index.js';
import { OnnxPredictor } from '../../src/runtime/predictor.js';
import type { PredictionRecord } from '../../src/runtime/wireFormat.js';
import { exampleRow, type Feature, type FeatureValues, type Spec } from '../../src/contract/index.js';
import { featureRows } from '../support/monitoring.js';
import { logSettings } from '../support/predictionLoad.js';
import { SERVING_PATHS, withServer } from '../support/serving.js';
import { trainedProject, type TrainedProject } from '../support/trainedModel.js';

interface Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: (string | number)[];
}
type Answer = { prediction: string | number; probabilities?: Record<string, number> };

/** The rows in chunks the batch routes take. */
const chunks = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

const numeric = (feature: Feature) => feature.type === 'number' || feature.type === 'integer';

for (const { name, fast_path } of SERVING_PATHS)
  describe(`Open Inference Protocol (V2) (${name})`, () => {
    let project: TrainedProject;
    let spec: Spec;
    let app: RequestListener;
    let predictor: OnnxPredictor;
    let features: Feature[];
    let rows: FeatureValues[];
    let base: string;
    let version: string;
    const classification = () => spec.config.task === 'classification';

    before(async () => {
      project = await trainedProject();
      spec = withServer(project.spec, { fast_path });
      predictor = await OnnxPredictor.load(project.modelDir, spec);
      app = createRequestListener({ spec, model: { predictor }, onError: () => {} });
      features = spec.features.features;
      rows = await featureRows(spec);
      base = `/v2/models/${spec.config.name}`;
      version = project.metadata.model_version;
    });

    const infer = (body: unknown, path = `${base}/infer`) =>
      request(app)
        .post(path)
        .send(body as object);

    /** The V2 answer's outputs as /predict's answers, the probabilities by the class order of the model metadata. */
    const asAnswers = (outputs: Tensor[], classes: string[]): Answer[] => {
      const prediction = outputs.find((output) => output.name === 'prediction')!;
      const probabilities = outputs.find((output) => output.name === 'probabilities');
      return prediction.data.map((value, i) => ({
        prediction: value,
        ...(probabilities
          ? { probabilities: Object.fromEntries(classes.map((label, c) => [label, probabilities.data[i * classes.length + c] as number])) }
          : {}),
      }));
    };
    const classesOf = async (): Promise<string[]> => {
      const { body } = await request(app).get(base).expect(200);
      const probabilities = body.outputs.find((output: Tensor) => output.name === 'probabilities');
      return probabilities ? (JSON.parse(probabilities.parameters.classes) as string[]) : [];
    };
    const predictBatch = async (batch: readonly FeatureValues[]): Promise<Answer[]> => {
      const { body } = await request(app).post('/predict/batch').send({ rows: batch }).expect(200);
      return body.predictions.map(({ prediction, probabilities }: Answer) => ({ prediction, ...(probabilities ? { probabilities } : {}) }));
    };
    /** The answers of a V2 request, checked against what the protocol promises of every answer. */
    const inferred = async (body: unknown, classes: string[], path?: string): Promise<Answer[]> => {
      const res = await infer(body, path);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(openInferenceAnswers.InferenceResponse.parse(res.body), res.body);
      assert.equal(res.body.model_name, spec.config.name);
      assert.equal(res.body.model_version, version);
      return asAnswers(res.body.outputs, classes);
    };

    it('GET /v2 names the server; /v2/health/live and /ready say it is live and ready', async () => {
      const server = await request(app).get('/v2').expect(200);
      assert.deepEqual(server.body, { name: spec.config.name, version: spec.config.version, extensions: [] });
      assert.deepEqual((await request(app).get('/v2/health/live').expect(200)).body, { live: true });
      assert.deepEqual((await request(app).get('/v2/health/ready').expect(200)).body, { ready: true });
    });

    it('GET /v2/models/{name}[/versions/{version}] describes the inputs (a tensor per feature) and the outputs', async () => {
      for (const path of [base, `${base}/versions/${version}`]) {
        const { body } = await request(app).get(path).expect(200);
        assert.deepEqual(openInferenceAnswers.ModelMetadataResponse.parse(body), body);
        assert.equal(body.name, spec.config.name);
        assert.deepEqual(body.versions, [version]);
        assert.equal(body.platform, 'onnx_onnxv1');
        const datatype = { number: 'FP64', integer: 'INT64', boolean: 'BOOL', category: 'BYTES', string: 'BYTES' };
        assert.deepEqual(
          body.inputs,
          features.map((feature) => ({
            name: feature.name,
            datatype: datatype[feature.type],
            shape: [-1],
            ...(feature.required ? {} : { parameters: { optional: true } }),
          })),
        );
        if (classification()) {
          const { classes } = project.metadata;
          assert.deepEqual(body.outputs, [
            { name: 'prediction', datatype: 'BYTES', shape: [-1] },
            { name: 'probabilities', datatype: 'FP32', shape: [-1, classes.length], parameters: { classes: JSON.stringify(classes) } },
          ]);
        } else assert.deepEqual(body.outputs, [{ name: 'prediction', datatype: 'FP64', shape: [-1] }]);
      }
    });

    it('answers the model readiness, and 404 in the protocol form for another model or version, on every model route', async () => {
      for (const path of [base, `${base}/versions/${version}`]) {
        assert.deepEqual((await request(app).get(`${path}/ready`).expect(200)).body, { name: spec.config.name, ready: true });
      }
      const row = exampleRow(features);
      for (const [path, code] of [
        ['/v2/models/no-such-model', 'model_not_found'],
        [`${base}/versions/19990101T000000Z-00000000`, 'version_not_found'],
      ] as const) {
        for (const res of [
          await request(app).get(path).expect(404),
          await request(app).get(`${path}/ready`).expect(404),
          await infer(tabularRequest(features, [row]), `${path}/infer`).expect(404),
          // The model is checked before the body is read.
          await request(app).post(`${path}/infer`).set('content-type', 'text/plain').send('not even JSON').expect(404),
        ]) {
          assert.deepEqual(openInferenceAnswers.InferenceErrorResponse.parse(res.body), res.body);
          assert.equal(res.body.code, code);
          assert.match(res.body.error, code === 'model_not_found' ? /no-such-model/ : /19990101T000000Z-00000000/);
        }
      }
    });

    it('answers 503 while the model loads: server and model not ready, metadata and infer not yet', async () => {
      const loading = createRequestListener({ spec, model: {}, onError: () => {} });
      await request(loading).get('/v2/health/live').expect(200);
      assert.deepEqual((await request(loading).get('/v2/health/ready').expect(503)).body, { ready: false });
      assert.deepEqual((await request(loading).get(`${base}/ready`).expect(503)).body, { name: spec.config.name, ready: false });
      assert.equal((await request(loading).get(base).expect(503)).body.code, 'not_ready');
      const res = await request(loading)
        .post(`${base}/infer`)
        .send(tabularRequest(features, [exampleRow(features)]))
        .expect(503);
      assert.equal(res.body.code, 'not_ready');
      assert.match(res.body.error, /loading/);
    });

    it('answers infer exactly as /predict/batch on every row of the training data: one input per feature', async () => {
      const classes = await classesOf();
      for (const batch of chunks(rows, spec.config.server.max_batch_rows)) {
        assert.deepEqual(await inferred(tabularRequest(features, batch), classes), await predictBatch(batch));
      }
    });

    it('answers infer exactly as /predict/batch for a single [N, F] tensor, nested by row or flat (all-numeric specs)', async function () {
      if (!features.every(numeric)) this.skip(); // the convention needs numbers only
      const classes = await classesOf();
      const width = features.length;
      for (const batch of chunks(rows, spec.config.server.max_batch_rows)) {
        const matrix = batch.map((row) => features.map((feature) => row[feature.name] ?? null));
        const expected = await predictBatch(batch);
        const tensor = (data: unknown[], shape = [batch.length, width]) => ({
          inputs: [{ name: 'input-0', shape, datatype: 'FP32', data }],
        });
        assert.deepEqual(await inferred(tensor(matrix), classes), expected);
        assert.deepEqual(await inferred(tensor(matrix.flat()), classes), expected);
        assert.deepEqual(await inferred({ ...tensor(matrix), id: 'm' }, classes, `${base}/versions/${version}/infer`), expected);
      }
      // The columns are in features.yaml order: a wrong width is a 400 naming the order.
      const res = await infer({
        inputs: [{ name: 'x', shape: [1, width + 1], datatype: 'FP64', data: new Array(width + 1).fill(1) }],
      }).expect(400);
      assert.match(res.body.error, new RegExp(`\\[N, ${width}\\]`));
    });

    it('takes [N, 1] inputs, INT and FP types for numbers, and the versioned URL alike', async () => {
      const classes = await classesOf();
      const batch = rows.slice(0, 5);
      const expected = await predictBatch(batch);
      const body = tabularRequest(features, batch);
      const columns = {
        ...body,
        inputs: body.inputs.map((input) => ({ ...input, shape: [batch.length, 1], data: input.data.map((value) => [value]) })),
      };
      assert.deepEqual(await inferred(columns, classes), expected);
      assert.deepEqual(await inferred(body, classes, `${base}/versions/${version}/infer`), expected);
      const wholeNumbers = features.filter((feature) => numeric(feature) && batch.every((row) => Number.isInteger(row[feature.name] ?? 0)));
      if (wholeNumbers.length) {
        const retyped = {
          inputs: body.inputs.map((input) =>
            wholeNumbers.some((feature) => feature.name === input.name) ? { ...input, datatype: 'INT32' } : input,
          ),
        };
        assert.deepEqual(await inferred(retyped, classes), expected);
      }
    });

    it("echoes the request's id (or the X-Request-Id), and answers the outputs asked for, in their order", async () => {
      const body = tabularRequest(features, [exampleRow(features)], 'v2-id-1');
      assert.equal((await infer(body).expect(200)).body.id, 'v2-id-1');
      const untitled = await request(app)
        .post(`${base}/infer`)
        .set('x-request-id', 'trace-v2')
        .send({ ...body, id: undefined })
        .expect(200);
      assert.equal(untitled.body.id, 'trace-v2');
      const idField = spec.config.id_field;
      const names = (res: request.Response) => res.body.outputs.map((output: Tensor) => output.name);
      const all = classification() ? ['prediction', 'probabilities'] : ['prediction'];
      assert.deepEqual(names(await infer(body).expect(200)), all);
      assert.deepEqual(names(await infer({ ...body, outputs: [] }).expect(200)), all, 'an empty list asks for all');
      const asked = await infer({ ...body, outputs: [{ name: idField }, { name: 'prediction' }], parameters: { anything: 1 } }).expect(200);
      assert.deepEqual(names(asked), [idField, 'prediction']);
      assert.match(String(asked.body.outputs[0].data[0]), /^[0-9a-f-]{36}$/, 'a generated id for a row without one');
      // Rows' ids from a BYTES input named after the id field: echoed, and what /feedback joins on.
      const withIds = { ...tabularRequest(features, [exampleRow(features), exampleRow(features)]), outputs: [{ name: idField }] };
      withIds.inputs.push({ name: idField, shape: [2], datatype: 'BYTES', data: ['row-a', 'row-b'] });
      assert.deepEqual((await infer(withIds).expect(200)).body.outputs[0], {
        name: idField,
        shape: [2],
        datatype: 'BYTES',
        data: ['row-a', 'row-b'],
      });
      const unknown = await infer({ ...body, outputs: [{ name: 'logits' }] }).expect(400);
      assert.match(unknown.body.error, /unknown output "logits"/);
    });

    it('imputes an optional feature that is left out, as /predict does', async function () {
      const optional = features.find((feature) => !feature.required);
      if (!optional) this.skip();
      const row = exampleRow(features);
      delete row[optional!.name];
      const [expected] = await predictBatch([row]);
      const body = tabularRequest(features, [row]);
      assert.equal(
        body.inputs.some((input) => input.name === optional!.name),
        false,
      );
      assert.deepEqual(await inferred(body, await classesOf()), [expected]);
    });

    it('answers every kind of bad request with 400 in the protocol form, naming what is wrong', async () => {
      const row = exampleRow(features);
      const good = tabularRequest(features, [row, row]);
      const [first] = good.inputs;
      const firstFeature = features.find((feature) => feature.name === first!.name)!;
      const replaced = (change: Record<string, unknown>) => ({ ...good, inputs: [{ ...first, ...change }, ...good.inputs.slice(1)] });
      const wrongType = numeric(firstFeature) ? 'BYTES' : 'FP64';
      const wrongValue = numeric(firstFeature) || firstFeature.type === 'boolean' ? 'twelve' : 12;
      const bounded = features.find((feature) => feature.max !== undefined);
      const cases: [string, unknown, RegExp][] = [
        ['no inputs', { id: 'x' }, /inputs/],
        ['inputs not a list', { inputs: {} }, /inputs/],
        ['an unknown datatype', replaced({ datatype: 'FLOAT' }), /datatype/],
        ['a datatype the feature cannot take', replaced({ datatype: wrongType }), new RegExp(`datatype ${wrongType} cannot carry`)],
        ['a shape that does not hold the data', replaced({ shape: [3] }), /holds 3 values, data has 2/],
        ['a second dimension other than 1', replaced({ shape: [1, 2] }), /expected \[N\] or \[N, 1\]/],
        ['an element of the wrong type', replaced({ data: [wrongValue, row[first!.name]] }), new RegExp(`${first!.name}\\[0\\]`)],
        ['inputs that disagree on the rows', replaced({ shape: [1], data: [row[first!.name]] }), /disagree on the number of rows/],
        ['the same input twice', { inputs: [...good.inputs, first] }, /a second input named/],
        [
          'an unknown input',
          { inputs: [...good.inputs, { name: 'surprise', shape: [2], datatype: 'FP64', data: [1, 2] }] },
          /unknown input "surprise"/,
        ],
        ['a required input left out', { inputs: good.inputs.slice(1) }, new RegExp(`${first!.name}: required input is missing`)],
        ['no rows', { inputs: good.inputs.map((input) => ({ ...input, shape: [0], data: [] })) }, /no rows/],
        [
          'more rows than server.max_batch_rows',
          tabularRequest(
            features,
            Array.from({ length: spec.config.server.max_batch_rows + 1 }, () => row),
          ),
          /more than \d+ \(config.yaml server.max_batch_rows\)/,
        ],
        ['an id that is not a string', { ...good, id: 7 }, /: id: /],
        ['outputs not a list of names', { ...good, outputs: ['prediction'] }, /outputs/],
      ];
      if (bounded) {
        const input = good.inputs.find((candidate) => candidate.name === bounded.name)!;
        cases.push([
          'a value beyond features.yaml max',
          { inputs: good.inputs.map((other) => (other === input ? { ...input, data: [row[bounded.name], bounded.max! + 1] } : other)) },
          new RegExp(`${bounded.name}\\[1\\]`),
        ]);
      }
      for (const [what, body, says] of cases) {
        const res = await infer(body);
        assert.equal(res.status, 400, `${what}: ${res.text}`);
        assert.deepEqual(openInferenceAnswers.InferenceErrorResponse.parse(res.body), res.body, what);
        assert.match(res.body.error, says, `${what}: ${res.body.error}`);
      }
      const malformed = await request(app).post(`${base}/infer`).set('content-type', 'application/json').send('{"inputs": [').expect(400);
      assert.equal(malformed.body.code, 'malformed_json');
      assert.match(malformed.body.error, /not valid JSON/);
    });

    it('ignores unknown inputs with server.unknown_fields: strip', async () => {
      const stripping = createRequestListener({
        spec: withServer(spec, { unknown_fields: 'strip' }),
        model: { predictor },
        onError: () => {},
      });
      const body = tabularRequest(features, [exampleRow(features)]);
      body.inputs.push({ name: 'surprise', shape: [1], datatype: 'FP64', data: [1] });
      await request(stripping).post(`${base}/infer`).send(body).expect(200);
    });

    it('answers other methods with 405 and unknown paths under /v2 with 404, in the protocol form', async () => {
      const wrongMethod = await request(app).get(`${base}/infer`).expect(405);
      assert.equal(wrongMethod.headers.allow, 'POST');
      assert.equal(wrongMethod.body.code, 'method_not_allowed');
      const unknown = await request(app).get(`${base}/explain`).expect(404);
      assert.deepEqual(openInferenceAnswers.InferenceErrorResponse.parse(unknown.body), unknown.body);
      assert.equal(unknown.body.code, 'not_found');
    });

    it('logs each row of a V2 request as /predict/batch logs it (inputs, outputs, model), and counts it in metrics and drift', async () => {
      const stdout = new PassThrough();
      let text = '';
      stdout.on('data', (chunk) => (text += chunk));
      const log = PredictionLog.create(logSettings(spec, { sinks: ['stdout'], flush_interval_ms: 10 }), { stdout });
      const logged = createRequestListener({ spec, model: { predictor }, predictionLog: log, onError: () => {} });
      const batch = rows.slice(0, 3);
      const idField = spec.config.id_field;
      const body = tabularRequest(features, batch);
      body.inputs.push({ name: idField, shape: [3], datatype: 'BYTES', data: ['a', 'b', 'c'] });
      const driftRows = async () => (await request(logged).get('/monitoring').expect(200)).body.drift.window.rows as number;
      const before = await driftRows();
      await request(logged).post(`${base}/infer`).send(body).expect(200);
      assert.equal(await driftRows(), before + 3);
      await request(logged)
        .post('/predict/batch')
        .send({ rows: batch.map((row, i) => ({ ...row, [idField]: ['a', 'b', 'c'][i] })) })
        .expect(200);
      assert.equal(await driftRows(), before + 6);
      await log.close();
      const records = text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as PredictionRecord);
      assert.equal(records.length, 6);
      const comparable = ({ record_id: _, timestamp: _t, latency_ms: _l, ...rest }: PredictionRecord) => rest;
      assert.deepEqual(records.slice(0, 3).map(comparable), records.slice(3).map(comparable));
      assert.deepEqual(
        records.slice(0, 3).map((record) => record[idField]),
        ['a', 'b', 'c'],
      );
      const metrics = (await request(logged).get('/metrics').expect(200)).text;
      // The model call is counted under the V2 route and the model that answered.
      const version = JSON.parse(text.trim().split('\n')[0]!).model.version as string;
      assert.ok(metrics.includes(`ml_inference_duration_seconds_count{route="/v2/models/:model_name/infer",model_version="${version}"} 1`));
      assert.match(metrics, /route="\/v2\/models\/:model_name\/infer",status="200"/);
    });

    it('documents the V2 routes in /openapi.json, and its infer example is answered as it stands ("Try it out")', async () => {
      const { body: doc } = await request(app).get('/openapi.json').expect(200);
      for (const path of [
        '/v2',
        '/v2/health/live',
        '/v2/health/ready',
        '/v2/models/{model_name}',
        '/v2/models/{model_name}/versions/{model_version}',
      ])
        assert.ok(doc.paths[path]?.get, path);
      const operation = doc.paths['/v2/models/{model_name}/infer'].post;
      assert.deepEqual(
        operation.parameters.map((parameter: { name: string; in: string }) => [parameter.name, parameter.in]),
        [['model_name', 'path']],
      );
      assert.equal(operation.requestBody.content['application/json'].schema.$ref, '#/components/schemas/InferenceRequest');
      assert.ok(operation.responses['400'] && operation.responses['404'] && !operation.responses['422']);
      const modelName = operation.parameters[0].example as string;
      const res = await infer(operation.requestBody.content['application/json'].example, `/v2/models/${modelName}/infer`).expect(200);
      assert.deepEqual(openInferenceAnswers.InferenceResponse.parse(res.body), res.body);
      assert.equal(res.body.id, 'req-0001');
    });
  });
