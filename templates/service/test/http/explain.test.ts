// POST /predict?explain=true and /predict/batch?explain=true as a client sees them: each row's answer adds its
// explanation (every feature's contribution, adding up to the explained output), the query parameter and the
// explanation are in the OpenAPI document, a bad value is a 422, and a model the service cannot explain (trained
// elsewhere, trained before explanations existed, or a graph the explainer does not know) is a clear 400.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { answerSchemas } from '../../src/http/answerSchemas.js';
import { createRequestListener } from '../../src/http/app.js';
import { tabularRequest } from '../../src/http/openInference/tensors.js';
import { EXPLAINER_FILE } from '../../src/model/explanation/explainer.js';
import { encoderWidth, rawFeatureEncoders } from '../../src/model/preprocessing.js';
import { DataType, attr, encodeModel, floatTensor, node, tensorValueInfo } from '../../src/onnx/graphBuilder.js';
import { OnnxPredictor } from '../../src/runtime/predictor.js';
import { exampleRow, type FeatureValues, type Spec } from '../../src/contract/index.js';
import { SERVING_PATHS, withServer } from '../support/serving.js';
import { trainedProject, type TrainedProject } from '../support/trainedModel.js';

type Body = Record<string, unknown> & { explanation?: ExplanationBody };
interface ExplanationBody {
  scale: string;
  class?: string;
  base: number;
  output: number;
  contributions: Record<string, number>;
}

/** Made-up weights [rows × columns], small and deterministic. */
const weights = (rows: number, columns: number) => Array.from({ length: rows * columns }, (_, i) => (((i * 7) % 11) - 5) / 10);

/** A graph of `width` columns: Gemm (+ Softmax), as this project exports, or MatMul + Add (+ Softmax), as the explainer does not know. */
function linearGraph(width: number, classes: number, shape: 'gemm' | 'matmul'): Uint8Array {
  const outputs = Math.max(1, classes);
  const scores = classes ? 'logits' : 'prediction';
  const linear =
    shape === 'gemm'
      ? [node('Gemm', ['features', 'W', 'B'], [scores], { transB: attr.int(1) })]
      : [node('MatMul', ['features', 'W'], ['product']), node('Add', ['product', 'B'], [scores])];
  return encodeModel({
    graphName: shape,
    inputs: [tensorValueInfo('features', DataType.FLOAT, ['N', width])],
    outputs: [tensorValueInfo(classes ? 'probabilities' : 'prediction', DataType.FLOAT, ['N', outputs])],
    initializers: [
      floatTensor('W', shape === 'gemm' ? [outputs, width] : [width, outputs], weights(outputs, width)),
      floatTensor('B', [outputs], weights(1, outputs)),
    ],
    nodes: classes ? [...linear, node('Softmax', ['logits'], ['probabilities'], { axis: attr.int(1) })] : linear,
  });
}

function assertExplains(body: Body, spec: Spec): void {
  const explanation = body.explanation!;
  assert.ok(explanation, 'no explanation in the answer');
  assert.deepEqual(
    Object.keys(explanation.contributions),
    spec.features.features.map((feature) => feature.name),
  );
  const sum = Object.values(explanation.contributions).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(explanation.base + sum - explanation.output) <= 1e-6, `${explanation.base} + ${sum} ≠ ${explanation.output}`);
  if (spec.config.task === 'classification') assert.equal(explanation.class, body.prediction);
  else assert.equal(explanation.scale, 'value');
}

for (const { name, fast_path } of SERVING_PATHS)
  describe(`explanations over HTTP (${name})`, () => {
    let project: TrainedProject;
    let spec: Spec;
    let app: RequestListener;
    let row: Record<string, unknown>;
    let root: string;

    before(async () => {
      project = await trainedProject();
      spec = withServer(project.spec, { fast_path });
      app = createRequestListener({ spec, model: { predictor: await OnnxPredictor.load(project.modelDir, spec) }, onError: () => {} });
      row = exampleRow(spec.features.features);
      root = mkdtempSync(join(tmpdir(), 'explain-http-'));
    });
    after(() => rmSync(root, { recursive: true, force: true }));

    /** The service for another model folder. */
    const serving = async (dir: string) =>
      createRequestListener({ spec, model: { predictor: await OnnxPredictor.load(dir, spec) }, onError: () => {} });
    /** A copy of the trained model's version folder, to change. */
    let copies = 0;
    const copyOfTrained = () => {
      const dir = join(root, `copy-${++copies}`);
      cpSync(project.versionDir, dir, { recursive: true });
      return dir;
    };

    it('POST /predict?explain=true adds the explanation, which the published schema describes', async () => {
      const res = await request(app).post('/predict?explain=true').send(row).expect(200);
      assertExplains(res.body, spec);
      assert.deepEqual(answerSchemas(spec).PredictResponse.parse(res.body), res.body);
    });

    it('POST /predict/batch?explain=true explains every row', async () => {
      const rows = [row, { ...row, [spec.config.id_field]: 'second' }];
      const res = await request(app).post('/predict/batch?explain=true').send({ rows }).expect(200);
      assert.equal(res.body.predictions.length, 2);
      for (const answer of res.body.predictions) assertExplains(answer, spec);
      assert.deepEqual(answerSchemas(spec).BatchPredictResponse.parse(res.body), res.body);
    });

    it('V2 infer with parameters.explain answers the same explanations as tensors, after the outputs asked for', async () => {
      const rows = [row, { ...row, [spec.config.id_field]: 'second' }];
      const features = spec.features.features;
      const names = features.map((feature) => feature.name);
      const infer = `/v2/models/${spec.config.name}/infer`;
      const v2 = await request(app)
        .post(infer)
        .send({ ...tabularRequest(features, rows as FeatureValues[], 'explained'), parameters: { explain: true } })
        .expect(200);
      const batch = await request(app).post('/predict/batch?explain=true').send({ rows }).expect(200);
      const expected: ExplanationBody[] = batch.body.predictions.map((answer: Body) => answer.explanation!);
      type Output = { name: string; shape: number[]; datatype: string; parameters?: Record<string, string>; data: number[] };
      const outputs = new Map<string, Output>(v2.body.outputs.map((output: Output) => [output.name, output]));
      const contributions = outputs.get('explanation_contributions')!;
      assert.deepEqual(contributions.shape, [2, names.length]);
      assert.equal(contributions.datatype, 'FP64');
      assert.deepEqual(JSON.parse(contributions.parameters!.features!), names);
      assert.equal(contributions.parameters!.scale, expected[0]!.scale);
      expected.forEach((explanation, r) => {
        assert.deepEqual(
          contributions.data.slice(r * names.length, (r + 1) * names.length),
          names.map((name) => explanation.contributions[name]),
        );
        assert.equal(outputs.get('explanation_base')!.data[r], explanation.base);
        assert.equal(outputs.get('explanation_output')!.data[r], explanation.output);
      });
      // The outputs asked for come first, unchanged; without parameters.explain there are no explanation outputs.
      const plain = await request(app)
        .post(infer)
        .send(tabularRequest(features, rows as FeatureValues[], 'explained'))
        .expect(200);
      assert.deepEqual(v2.body.outputs.slice(0, plain.body.outputs.length), plain.body.outputs);
      assert.equal(plain.body.outputs.length, v2.body.outputs.length - 3);

      const bad = await request(app)
        .post(infer)
        .send({ ...tabularRequest(features, rows as FeatureValues[]), parameters: { explain: 'yes' } })
        .expect(400);
      assert.equal(bad.body.code, 'validation_failed');
      assert.match(bad.body.error, /parameters\.explain must be true or false/);
    });

    it('answers without an explanation unless asked, alike with explain=false', async () => {
      const body = { ...row, [spec.config.id_field]: 'same-id' };
      const plain = await request(app).post('/predict').send(body).expect(200);
      const off = await request(app).post('/predict?explain=false').send(body).expect(200);
      assert.equal(plain.body.explanation, undefined);
      assert.equal(off.text, plain.text);
    });

    it('answers a bad explain value with 422 naming the parameter', async () => {
      for (const value of ['yes', '', 'TRUE']) {
        const res = await request(app)
          .post(`/predict/batch?explain=${value}`)
          .send({ rows: [row] })
          .expect(422);
        assert.equal(res.body.error, 'validation_failed');
        assert.match(res.body.message, /query string/);
        assert.deepEqual(
          res.body.issues.map((issue: { field: string }) => issue.field),
          ['explain'],
        );
        assert.match(res.body.issues[0].message, /true or false/);
      }
    });

    it('documents the explain parameter, the explanation and the 400', async () => {
      const { body: doc } = await request(app).get('/openapi.json').expect(200);
      for (const path of ['/predict', '/predict/batch']) {
        const operation = doc.paths[path].post;
        const explain = operation.parameters.find((parameter: { name: string }) => parameter.name === 'explain');
        assert.equal(explain.in, 'query');
        assert.equal(explain.required, false);
        assert.deepEqual(explain.schema.enum, ['true', 'false']);
        assert.match(explain.description, /contribution/);
        assert.match(operation.responses['400'].description, /explanation_unavailable/);
      }
      const explanation = doc.components.schemas.Explanation;
      assert.deepEqual(
        Object.keys(explanation.properties.contributions.properties),
        spec.features.features.map((feature) => feature.name),
      );
    });

    it('answers 400 explanation_unavailable for a model trained elsewhere (no preprocessor.json), and still predicts', async function () {
      const { encoders, problems } = rawFeatureEncoders(spec.features.features);
      if (problems.length) this.skip(); // features such a model cannot take (strings, optional ones without a default)
      const dir = join(root, 'elsewhere');
      mkdirSync(dir);
      const classes = project.metadata.classes;
      // A graph the explainer knows (Gemm + Softmax): the missing preprocessor.json alone is why it refuses.
      writeFileSync(
        join(dir, 'model.onnx'),
        linearGraph(
          encoders.reduce((n, e) => n + encoderWidth(e), 0),
          classes.length,
          'gemm',
        ),
      );
      writeFileSync(
        join(dir, 'model.json'),
        JSON.stringify({
          task: spec.config.task,
          target: spec.config.target,
          classes,
          features: spec.features.features.map(({ name: feature, type }) => ({ name: feature, type })),
        }),
      );
      const byo = await serving(dir);
      const res = await request(byo).post('/predict?explain=true').send(row).expect(400);
      assert.equal(res.body.error, 'explanation_unavailable');
      assert.match(res.body.message, /preprocessor\.json/);
      await request(byo).post('/predict').send(row).expect(200);
      // V2 infer says it in the protocol's error form.
      const v2 = await request(byo)
        .post(`/v2/models/${spec.config.name}/infer`)
        .send({ ...tabularRequest(spec.features.features, [row as FeatureValues]), parameters: { explain: true } })
        .expect(400);
      assert.equal(v2.body.code, 'explanation_unavailable');
      assert.match(v2.body.error, /preprocessor\.json/);
    });

    it('answers 400 for a model trained before explanations (no explainer.json), and for a graph it does not know', async () => {
      const old = copyOfTrained();
      rmSync(join(old, EXPLAINER_FILE));
      const before = await request(await serving(old))
        .post('/predict?explain=true')
        .send(row)
        .expect(400);
      assert.equal(before.body.error, 'explanation_unavailable');
      assert.match(before.body.message, /explainer\.json.*npm run train/);

      const foreign = copyOfTrained();
      writeFileSync(join(foreign, 'model.onnx'), linearGraph(project.preprocessor.outputSize, project.metadata.classes.length, 'matmul'));
      const unknown = await request(await serving(foreign))
        .post('/predict/batch?explain=true')
        .send({ rows: [row] })
        .expect(400);
      assert.equal(unknown.body.error, 'explanation_unavailable');
      assert.match(unknown.body.message, /MatMul, Add/);
    });
  });
