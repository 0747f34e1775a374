// The API contract, for whatever features.yaml says: valid rows predict, every invalid field is reported,
// and errors are JSON with the right status. It runs twice: through the fast path (config.yaml server.fast_path,
// the default) and through Express alone, which must answer alike.
import assert from 'node:assert/strict';
import type { RequestListener } from 'node:http';
import request from 'supertest';
import type { z } from 'zod';
import { answerSchemas } from '../../src/http/answerSchemas.js';
import { createRequestListener, type ModelState } from '../../src/http/app.js';
import { OnnxPredictor } from '../../src/runtime/predictor.js';
import { exampleRow, type Feature, type Spec } from '../../src/contract/index.js';
import { SERVING_PATHS, withServer } from '../support/serving.js';
import { trainedProject, type TrainedProject } from '../support/trainedModel.js';

/** A value of the wrong JSON type for the feature. */
const wrongType = (feature: Feature): unknown => (feature.type === 'string' || feature.type === 'category' ? 12345 : 'not-a-value');

for (const { name, fast_path } of SERVING_PATHS)
  describe(`API (${name})`, () => {
    let project: TrainedProject;
    let spec: Spec;
    let app: RequestListener;
    let model: ModelState;
    let row: Record<string, unknown>;

    before(async () => {
      project = await trainedProject();
      spec = withServer(project.spec, { fast_path });
      model = { predictor: await OnnxPredictor.load(project.modelDir, spec) };
      app = createRequestListener({ spec, model, onError: () => {} });
      row = exampleRow(spec.features.features);
    });

    const idField = () => project.spec.config.id_field;

    it('predicts one row, echoing the id and naming the model', async () => {
      const res = await request(app)
        .post('/predict')
        .send({ ...row, [idField()]: 'abc-1' })
        .expect(200);
      assert.equal(res.body[idField()], 'abc-1');
      assert.equal(res.body.model.uuid, project.metadata.uuid);
      // The model's own version (its model_bin/ folder), not the API's.
      assert.equal(res.body.model.version, project.metadata.model_version);
      assert.notEqual(res.body.model.version, res.body.api_version);
      assert.equal(res.body.model.created_at, project.metadata.created_at);
      assert.equal(res.body.api_version, project.spec.config.version);
      if (project.spec.config.task === 'classification') {
        assert.ok(project.metadata.classes.includes(res.body.prediction));
        assert.deepEqual(Object.keys(res.body.probabilities).sort(), [...project.metadata.classes].sort());
        const total = Object.values(res.body.probabilities as Record<string, number>).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(total - 1) < 1e-4, `probabilities sum to ${total}`);
      } else {
        assert.equal(typeof res.body.prediction, 'number');
      }
    });

    it('generates an id when the request has none', async () => {
      const res = await request(app).post('/predict').send(row).expect(200);
      assert.match(String(res.body[idField()]), /^[0-9a-f-]{36}$/);
    });

    it('answers the same prediction as the in-process model', async () => {
      const res = await request(app).post('/predict').send(row).expect(200);
      const [matrix] = [project.preprocessor.transform([row as never])];
      if (project.model.task === 'classification') {
        const probabilities = project.model.predictProba(matrix)[0]!;
        project.metadata.classes.forEach((name, i) => assert.ok(Math.abs(res.body.probabilities[name] - probabilities[i]!) <= 1e-5));
      } else {
        assert.ok(Math.abs(res.body.prediction - project.model.predict(matrix)[0]!) <= 1e-4 * Math.max(1, Math.abs(res.body.prediction)));
      }
    });

    it('reports every invalid field with 422', async () => {
      const features = project.spec.features.features;
      const body = Object.fromEntries(features.map((feature) => [feature.name, wrongType(feature)]));
      const res = await request(app)
        .post('/predict')
        .send({ ...body, surprise: 1 })
        .expect(422);
      assert.equal(res.body.error, 'validation_failed');
      const fields = (res.body.issues as { field: string; message: string }[]).map((issue) => issue.field).sort();
      assert.deepEqual(fields, [...features.map((f) => f.name), 'surprise'].sort());
      for (const issue of res.body.issues) assert.ok(issue.message.length > 0);
    });

    it('names missing required fields', async () => {
      const required = project.spec.features.features.filter((f) => f.required);
      const res = await request(app).post('/predict').send({}).expect(422);
      for (const feature of required) {
        const issue = res.body.issues.find((i: { field: string }) => i.field === feature.name);
        assert.match(issue?.message ?? '', /required/);
      }
    });

    it('rejects values outside the bounds of features.yaml', async function () {
      const bounded = project.spec.features.features.find((f) => f.max !== undefined);
      if (!bounded) this.skip();
      const res = await request(app)
        .post('/predict')
        .send({ ...row, [bounded!.name]: bounded!.max! + 1 })
        .expect(422);
      assert.equal(res.body.issues[0].field, bounded!.name);
    });

    it('predicts a batch in order and enforces the row limit', async () => {
      const rows = [row, { ...row, [idField()]: 'second' }];
      const res = await request(app).post('/predict/batch').send({ rows }).expect(200);
      assert.equal(res.body.predictions.length, 2);
      assert.equal(res.body.predictions[1][idField()], 'second');
      const limit = project.spec.config.server.max_batch_rows;
      const tooMany = await request(app)
        .post('/predict/batch')
        .send({ rows: Array.from({ length: limit + 1 }, () => row) })
        .expect(422);
      assert.equal(tooMany.body.issues[0].field, 'rows');
      const bad = await request(app)
        .post('/predict/batch')
        .send({ rows: [row, { ...row, [project.spec.features.features[0]!.name]: 'not-a-value' }] })
        .expect(422);
      assert.ok(bad.body.issues[0].field.startsWith('rows[1].'));
    });

    it('answers each row of a batch as /predict answers it alone, optional features left out or null too', async () => {
      const rows = Array.from({ length: 20 }, (_, i) => {
        const varied: Record<string, unknown> = { ...row, [idField()]: `row-${i}` };
        for (const feature of project.spec.features.features) {
          if (feature.type !== 'number') continue;
          const low = feature.min ?? Number(feature.example ?? 0) - 1;
          const high = feature.max ?? Number(feature.example ?? 0) + 1;
          varied[feature.name] = low + ((high - low) * i) / 19;
        }
        // Optional features left out, or sent as null, in some rows: filled in (default or imputed) as for one row.
        for (const feature of project.spec.features.features) {
          if (feature.required) continue;
          if (i % 3 === 1) delete varied[feature.name];
          if (i % 3 === 2) varied[feature.name] = null;
        }
        return varied;
      });
      const batch = await request(app).post('/predict/batch').send({ rows }).expect(200);
      assert.equal(batch.body.predictions.length, rows.length);
      for (const [i, single] of rows.entries()) {
        const { model: _model, api_version: _version, ...alone } = (await request(app).post('/predict').send(single).expect(200)).body;
        assert.deepEqual(batch.body.predictions[i], alone);
      }
    });

    it('names a required feature sent as null', async () => {
      const required = project.spec.features.features.find((f) => f.required)!;
      const res = await request(app)
        .post('/predict')
        .send({ ...row, [required.name]: null })
        .expect(422);
      assert.deepEqual(res.body.issues, [{ field: required.name, message: res.body.issues[0].message }]);
      assert.match(res.body.issues[0].message, /required field is null/);
    });

    it('scores an optional feature sent as null as if it were absent', async function () {
      const optional = project.spec.features.features.find((f) => !f.required);
      if (!optional) this.skip(); // the request schema's own test covers it (requestSchema.test.ts)
      const absent = { ...row };
      delete absent[optional!.name];
      const withNull = await request(app)
        .post('/predict')
        .send({ ...row, [optional!.name]: null })
        .expect(200);
      const without = await request(app).post('/predict').send(absent).expect(200);
      assert.deepEqual(withNull.body.prediction, without.body.prediction);
    });

    it('tells a bare array posted to /predict/batch to send {"rows": [...]}', async () => {
      const res = await request(app).post('/predict/batch').send([row]).expect(422);
      assert.match(res.body.issues[0].message, /\{"rows": \[\.\.\.\]\}/);
    });

    for (const path of ['/predict', '/predict/batch', '/feedback', '/feedback/batch'])
      it(`answers GET ${path} with 405 and Allow: POST`, async () => {
        const res = await request(app).get(path).expect(405);
        assert.equal(res.headers.allow, 'POST');
        assert.equal(res.body.error, 'method_not_allowed');
      });

    it('answers malformed JSON with 400, a wrong content type with 415 and an oversized body with 413', async () => {
      const malformed = await request(app).post('/predict').set('content-type', 'application/json').send('{"a": ').expect(400);
      assert.equal(malformed.body.error, 'malformed_json');
      await request(app).post('/predict').set('content-type', 'text/plain').send('hello').expect(415);
      const huge = JSON.stringify({ padding: 'x'.repeat(project.spec.config.server.body_limit_bytes) });
      const tooLarge = await request(app).post('/predict').set('content-type', 'application/json').send(huge).expect(413);
      assert.equal(tooLarge.body.error, 'payload_too_large');
    });

    it('answers unknown routes with JSON 404', async () => {
      const res = await request(app).get('/nope').expect(404);
      assert.equal(res.body.error, 'not_found');
    });

    it('is live at once and ready only with a model', async () => {
      const loading = createRequestListener({ spec, model: {} });
      await request(loading).get('/health').expect(200);
      await request(loading).get('/ready').expect(503);
      await request(loading).post('/predict').send(row).expect(503);
      await request(app).get('/ready').expect(200);
    });

    it('documents every JSON answer with its schema, and real answers match those schemas', async () => {
      const { body: doc } = await request(app).get('/openapi.json').expect(200);
      type Schema = { $ref?: string; properties?: Record<string, unknown>; required?: string[] };
      const resolve = (schema: Schema): Schema => (schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()!] : schema);
      for (const [path, operations] of Object.entries<Record<string, { responses: Record<string, { content: object }> }>>(doc.paths)) {
        for (const [method, { responses }] of Object.entries(operations)) {
          for (const [status, { content }] of Object.entries(responses)) {
            const json = (content as Record<string, { schema: Schema } | undefined>)['application/json'];
            if (path === '/metrics') continue; // Prometheus' text format
            assert.ok(Object.keys(resolve(json!.schema).properties ?? {}).length > 0, `${method} ${path} ${status} has a real schema`);
          }
        }
      }
      const predict = resolve(doc.paths['/predict'].post.responses['200'].content['application/json'].schema);
      for (const field of [idField(), 'prediction', 'model', 'api_version']) assert.ok(predict.required!.includes(field), field);
      // The answers as the service writes them parse unchanged against the schemas the document is made from.
      const answers = answerSchemas(spec);
      const matches = (schema: z.ZodType, body: unknown) => assert.deepEqual(schema.parse(body), body);
      matches(answers.PredictResponse, (await request(app).post('/predict').send(row).expect(200)).body);
      matches(
        answers.BatchPredictResponse,
        (
          await request(app)
            .post('/predict/batch')
            .send({ rows: [row, row] })
            .expect(200)
        ).body,
      );
      matches(answers.Error, (await request(app).post('/predict').send([]).expect(422)).body); // not an object: 422 whatever features.yaml says
      matches(answers.Health, (await request(app).get('/health').expect(200)).body);
      matches(answers.Ready, (await request(app).get('/ready').expect(200)).body);
      matches(answers.MonitoringReport, (await request(app).get('/monitoring').expect(200)).body);
    });

    it('publishes an OpenAPI 3.1 document built from features.yaml, and Swagger UI', async () => {
      const res = await request(app).get('/openapi.json').expect(200);
      assert.equal(res.body.openapi, '3.1.0');
      const schema = res.body.components.schemas.PredictRequest;
      for (const feature of project.spec.features.features) {
        assert.ok(schema.properties[feature.name], `${feature.name} in the request schema`);
        const { description } = schema.properties[feature.name];
        // An observed range (features.yaml `observed`) is added to the description; it is not a limit.
        if (feature.description) assert.ok(description.startsWith(feature.description.replace(/\.$/, '')), description);
        if (feature.observed) assert.match(description, /Seen in training: .* \(not a limit\)$/);
      }
      assert.deepEqual(
        schema.required.sort(),
        project.spec.features.features
          .filter((f) => f.required && f.default === undefined)
          .map((f) => f.name)
          .sort(),
      );
      const docs = await request(app).get('/docs/').expect(200);
      assert.match(docs.text, /swagger-ui/i);
    });
  });
