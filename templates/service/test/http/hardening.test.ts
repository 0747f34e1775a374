// Request hardening, on the fast path and through Express alike: security headers, API keys, the rate limit,
// the body limit, the request timeout, hostile JSON (prototype-pollution keys, NaN/Infinity, huge numbers, wrong
// types, extra fields) and an unexpected error, which is answered 500 with its request id while serving goes on.
// The guards run on POST /predict and on the Open Inference Protocol's infer route alike (predictionRoutes below).
import assert from 'node:assert/strict';
import { type RequestListener, request as httpRequest } from 'node:http';
import request from 'supertest';
import { apiKeys, EnvironmentError } from '../../src/contract/environment.js';
import { createRequestListener, type AppOptions } from '../../src/http/app.js';
import { OnnxPredictor, type Predictor, type Prediction } from '../../src/runtime/predictor.js';
import { startServer } from '../../src/http/startServer.js';
import { type Spec, exampleRow, type FeatureValues } from '../../src/contract/index.js';
import { tabularRequest } from '../../src/http/openInference/tensors.js';
import { SERVING_PATHS, withServer } from '../support/serving.js';
import { trainedProject, type TrainedProject } from '../support/trainedModel.js';

const KEYS = ['first-key-0123456789abcdef', 'second-key-0123456789abcdef'];
const POLLUTING_KEYS = ['__proto__', 'constructor', 'prototype'];

/** The real model, recording the rows it is given; `failOnce` makes the next predict throw. */
class RecordingPredictor {
  readonly rows: FeatureValues[] = [];
  failOnce = false;
  constructor(private readonly inner: Predictor) {}
  get metadata() {
    return this.inner.metadata;
  }
  get modelDir() {
    return this.inner.modelDir;
  }
  async predict(rows: readonly FeatureValues[]): Promise<Prediction[]> {
    this.rows.push(...rows);
    if (this.failOnce) {
      this.failOnce = false;
      throw new Error('simulated failure inside the model');
    }
    return this.inner.predict(rows);
  }
}

/**
 * The routes that take rows, each with how it takes one row, how it answers a body that does not fit (422 with
 * `message`, or the protocol's 400 with `error`) and how it names a failing value of a feature.
 */
function predictionRoutes(spec: Spec) {
  return [
    {
      route: '/predict',
      body: (row: Record<string, unknown>): object => row,
      invalid: 422,
      said: 'message',
      field: (feature: string) => feature,
    },
    {
      route: `/v2/models/${spec.config.name}/infer`,
      body: (row: Record<string, unknown>): object => tabularRequest(spec.features.features, [row as FeatureValues]),
      invalid: 400,
      said: 'error',
      field: (feature: string) => `${feature}[0]`,
    },
  ] as const;
}

/** A POST with a raw body, written in chunks without Content-Length (chunked transfer encoding): one chunk each. */
function postChunked(url: string, chunks: (string | Buffer)[]): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('request hardening', () => {
  let project: TrainedProject;
  let inner: Predictor;
  let row: Record<string, unknown>;

  before(async () => {
    project = await trainedProject();
    inner = await OnnxPredictor.load(project.modelDir, project.spec);
    row = exampleRow(project.spec.features.features);
  });

  const listen = (spec: Spec, options: Partial<AppOptions> = {}) =>
    createRequestListener({ spec, model: { predictor: inner }, onError: () => {}, ...options });

  it('answers with the same status, headers and body on the fast path and through Express', async () => {
    const idField = project.spec.config.id_field;
    const requests: [string, string | object][] = [
      ['/predict', { ...row, [idField]: 'same-1' }],
      ['/predict', { ...row, surprise: 1 }],
      ['/predict', '{"broken": '],
      [
        '/predict/batch',
        {
          rows: [
            { ...row, [idField]: 'a' },
            { ...row, [idField]: 'b' },
          ],
        },
      ],
      ['/predict/batch', { rows: [] }],
      ...predictionRoutes(project.spec)
        .filter(({ route }) => route !== '/predict')
        .flatMap(({ route, body }): [string, string | object][] => [
          [route, body(row)],
          [route, { ...body(row), id: 'same-2' }],
          [route, { inputs: [] }],
          [route, '{"inputs": '],
          [route.replace(project.spec.config.name, 'other-model'), body(row)],
        ]),
    ];
    const [fast, express] = SERVING_PATHS.map(({ fast_path }) => listen(withServer(project.spec, { fast_path })));
    for (const [path, body] of requests) {
      const [a, b] = await Promise.all(
        [fast!, express!].map((app) =>
          request(app).post(path).set('content-type', 'application/json').set('x-request-id', 'fixed-id').send(body),
        ),
      );
      assert.equal(a!.status, b!.status, `${path} ${JSON.stringify(body)}`);
      assert.equal(a!.text, b!.text, `${path} ${JSON.stringify(body)}`);
      const headers = (res: request.Response) =>
        Object.entries(res.headers).filter(([name]) => !['date', 'connection', 'keep-alive'].includes(name));
      assert.deepEqual(headers(a!).sort(), headers(b!).sort(), `${path} ${JSON.stringify(body)}`);
    }
  });

  for (const { name, fast_path } of SERVING_PATHS) {
    describe(name, () => {
      const spec = () => withServer(project.spec, { fast_path });

      it("sends helmet's security headers and the request id on predictions, errors and the other routes", async () => {
        const app = listen(spec());
        const routes = predictionRoutes(project.spec);
        for (const res of [
          ...(await Promise.all(routes.map(({ route, body }) => request(app).post(route).send(body(row)).expect(200)))),
          ...(await Promise.all(routes.map(({ route, invalid }) => request(app).post(route).send({}).expect(invalid)))),
          await request(app).get('/health').expect(200),
          await request(app).get('/v2/health/ready').expect(200),
          await request(app).get('/nope').expect(404),
        ]) {
          assert.match(res.headers['content-security-policy'] ?? '', /default-src 'self'/);
          assert.equal(res.headers['x-content-type-options'], 'nosniff');
          assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
          assert.match(res.headers['strict-transport-security'] ?? '', /max-age=\d+/);
          assert.equal(res.headers['x-powered-by'], undefined);
          assert.match(res.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
          assert.match(res.headers['content-type'] ?? '', /^application\/json/);
        }
        const echoed = await request(app).post('/predict').set('x-request-id', 'trace-42').send(row).expect(200);
        assert.equal(echoed.headers['x-request-id'], 'trace-42');
        const replaced = await request(app).post('/predict').set('x-request-id', 'has spaces').send(row).expect(200);
        assert.match(replaced.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
      });

      describe('API keys (server.auth)', () => {
        let app: RequestListener;
        before(() => {
          const public_paths = ['/health', '/ready', '/metrics', '/docs', '/openapi.json'];
          app = listen(withServer(project.spec, { fast_path, auth: { enabled: true, public_paths } }), { apiKeys: KEYS });
        });

        it('answers 401 without a key or with a wrong one, saying which header to send', async () => {
          for (const key of [undefined, 'wrong-key', KEYS[0]!.slice(0, -1)]) {
            const call = request(app).post('/predict');
            if (key) call.set('x-api-key', key);
            const res = await call.send(row).expect(401);
            assert.equal(res.body.error, 'unauthorized');
            assert.match(res.body.message, /x-api-key/);
            assert.equal(res.headers['www-authenticate'], 'ApiKey header="x-api-key"');
          }
          await request(app)
            .post('/predict/batch')
            .send({ rows: [row] })
            .expect(401);
          await request(app).get('/monitoring').expect(401);
          const [, v2] = predictionRoutes(project.spec);
          const refused = await request(app).post(v2!.route).send(v2!.body(row)).expect(401);
          // The protocol's error form: `error` says what is wrong, for V2 clients that show only it.
          assert.equal(refused.body.code, 'unauthorized');
          assert.match(refused.body.error, /x-api-key/);
          await request(app).get(`/v2/models/${project.spec.config.name}`).expect(401);
        });

        it('serves the V2 health probes without a key by default (server.auth.public_paths)', async () => {
          const defaults = listen(withServer(project.spec, { fast_path, auth: { enabled: true } }), { apiKeys: KEYS });
          await request(defaults).get('/v2/health/live').expect(200);
          await request(defaults).get('/v2/health/ready').expect(200);
          await request(defaults).get(`/v2/models/${project.spec.config.name}/ready`).expect(401);
        });

        it('serves any of the configured keys', async () => {
          for (const { route, body } of predictionRoutes(project.spec))
            for (const key of KEYS) await request(app).post(route).set('x-api-key', key).send(body(row)).expect(200);
        });

        it('serves the public paths without a key', async () => {
          await request(app).get('/health').expect(200);
          await request(app).get('/ready').expect(200);
          await request(app).get('/metrics').expect(200);
          await request(app).get('/openapi.json').expect(200);
          await request(app).get('/docs/').expect(200);
        });

        it('documents the key in OpenAPI: a security scheme, 401 on guarded operations, none on public ones', async () => {
          const { body } = await request(app).get('/openapi.json').expect(200);
          assert.deepEqual(body.components.securitySchemes.ApiKey, { type: 'apiKey', in: 'header', name: 'x-api-key' });
          assert.deepEqual(body.security, [{ ApiKey: [] }]);
          assert.ok(body.paths['/predict'].post.responses['401']);
          assert.deepEqual(body.paths['/health'].get.security, []);
        });
      });

      it('limits requests per client (server.rate_limit): 429 with Retry-After beyond the limit, per API key when auth is on', async () => {
        for (const { route, body, said } of predictionRoutes(project.spec)) {
          const limited = listen(withServer(project.spec, { fast_path, rate_limit: { enabled: true, requests: 3, window_seconds: 60 } }));
          for (let i = 0; i < 3; i++) await request(limited).post(route).send(body(row)).expect(200);
          const res = await request(limited).post(route).send(body(row)).expect(429);
          assert.equal(res.body[said === 'message' ? 'error' : 'code'], 'rate_limited');
          assert.match(res.body[said], /3 requests in 60 s/);
          assert.ok(Number(res.headers['retry-after']) >= 1);
          await request(limited).get('/health').expect(200); // probes are never limited
        }

        const perKey = listen(
          withServer(project.spec, { fast_path, auth: { enabled: true }, rate_limit: { enabled: true, requests: 2 } }),
          {
            apiKeys: KEYS,
          },
        );
        for (let i = 0; i < 2; i++) await request(perKey).post('/predict').set('x-api-key', KEYS[0]!).send(row).expect(200);
        await request(perKey).post('/predict').set('x-api-key', KEYS[0]!).send(row).expect(429);
        await request(perKey).post('/predict').set('x-api-key', KEYS[1]!).send(row).expect(200);
      });

      it('answers 413 for a body over server.body_limit_bytes, declared or streamed without a length', async () => {
        for (const { route, body, said } of predictionRoutes(project.spec)) {
          // Sized from the spec: room for the example row (752 bytes with 30 features; more as V2 tensors) and little more.
          const limit = Buffer.byteLength(JSON.stringify(body(row))) + 64;
          const app = listen(withServer(project.spec, { fast_path, body_limit_bytes: limit }));
          const padding = 'x'.repeat(limit + 100);
          const code = (answer: Record<string, unknown>) => answer[said === 'message' ? 'error' : 'code'];
          const declared = await request(app)
            .post(route)
            .set('content-type', 'application/json')
            .send(JSON.stringify({ padding }))
            .expect(413);
          assert.equal(code(declared.body), 'payload_too_large');
          assert.match(declared.body[said], new RegExp(`${limit} bytes`));
          const server = (await import('node:http')).createServer(app);
          await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
          try {
            const { port } = server.address() as { port: number };
            const streamed = await postChunked(`http://127.0.0.1:${port}${route}`, ['{"padding": "', padding, padding, '"}']);
            assert.equal(streamed.status, 413);
            assert.equal(code(streamed.body), 'payload_too_large');
            const small = await postChunked(`http://127.0.0.1:${port}${route}`, [JSON.stringify(body(row))]);
            assert.equal(small.status, 200, 'a body within the limit is served the same way');
          } finally {
            server.closeAllConnections();
            await new Promise((resolve) => server.close(resolve));
          }
        }
      });

      it('decodes a body that comes in chunks as one, a UTF-8 character split between two of them included', async () => {
        const server = (await import('node:http')).createServer(listen(withServer(project.spec, { fast_path })));
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        try {
          const { port } = server.address() as { port: number };
          const idField = project.spec.config.id_field;
          for (const { route, body } of predictionRoutes(project.spec)) {
            const id = 'réq-🙂-é';
            const sent = route === '/predict' ? { ...row, [idField]: id } : { ...body(row), id };
            const bytes = Buffer.from(JSON.stringify(sent));
            // Cut inside the emoji (4 bytes in UTF-8) and inside the é (2 bytes): three chunks, two split characters.
            const emoji = bytes.indexOf(Buffer.from('🙂'));
            const accent = bytes.lastIndexOf(Buffer.from('é'));
            const chunks = [bytes.subarray(0, emoji + 2), bytes.subarray(emoji + 2, accent + 1), bytes.subarray(accent + 1)];
            const whole = await postChunked(`http://127.0.0.1:${port}${route}`, [bytes]);
            const split = await postChunked(`http://127.0.0.1:${port}${route}`, chunks);
            assert.equal(whole.status, 200, JSON.stringify(whole.body));
            assert.equal(split.status, 200, JSON.stringify(split.body));
            assert.equal(route === '/predict' ? split.body[idField] : split.body.id, id);
            assert.deepEqual(split.body, whole.body);
          }
        } finally {
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
        }
      });

      it('answers 503 when a request is not answered within server.request_timeout_ms', async () => {
        const stalled = { metadata: inner.metadata, modelDir: inner.modelDir, predict: () => new Promise<Prediction[]>(() => {}) };
        const app = createRequestListener({
          spec: withServer(project.spec, { fast_path, request_timeout_ms: 50 }),
          model: { predictor: stalled },
          onError: () => {},
        });
        for (const { route, body, said } of predictionRoutes(project.spec)) {
          const res = await request(app).post(route).send(body(row)).expect(503);
          assert.equal(res.body[said === 'message' ? 'error' : 'code'], 'timeout');
          assert.match(res.body[said], /50 ms/);
        }
        await request(app).get('/health').expect(200);
      });

      it('answers an unexpected error with 500 and its request id, and keeps serving', async () => {
        const predictor = new RecordingPredictor(inner);
        const logged: string[] = [];
        const app = createRequestListener({ spec: spec(), model: { predictor }, onError: (_error, requestId) => logged.push(requestId) });
        for (const { route, body, said } of predictionRoutes(project.spec)) {
          predictor.failOnce = true;
          const failed = await request(app).post(route).send(body(row)).expect(500);
          assert.equal(failed.body[said === 'message' ? 'error' : 'code'], 'internal_error');
          assert.equal(failed.body.request_id, failed.headers['x-request-id']);
          assert.deepEqual(logged.splice(0), [failed.body.request_id]);
          assert.doesNotMatch(failed.text, /simulated failure|at .*\.ts/, 'no error text or stack trace leaks');
          await request(app).post(route).send(body(row)).expect(200);
        }
      });

      describe('hostile JSON', () => {
        afterEach(() => {
          for (const key of ['polluted', 'isAdmin']) assert.equal(key in Object.prototype, false, `Object.prototype.${key} was set`);
        });

        const pollutedBody = (base: Record<string, unknown>) =>
          `{${Object.entries(base)
            .map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`)
            .join(',')},"__proto__":{"polluted":true},"constructor":{"prototype":{"isAdmin":true}},"prototype":{"polluted":1}}`;

        it('rejects prototype-pollution keys as unknown fields (unknown_fields: reject), polluting nothing', async () => {
          const predictor = new RecordingPredictor(inner);
          const app = createRequestListener({ spec: spec(), model: { predictor }, onError: () => {} });
          const res = await request(app).post('/predict').set('content-type', 'application/json').send(pollutedBody(row)).expect(422);
          assert.deepEqual(res.body.issues.map((issue: { field: string }) => issue.field).sort(), [...POLLUTING_KEYS].sort());
          const batch = await request(app)
            .post('/predict/batch')
            .set('content-type', 'application/json')
            .send(`{"rows":[${pollutedBody(row)}]}`)
            .expect(422);
          assert.ok(batch.body.issues.every((issue: { field: string }) => issue.field.startsWith('rows[0].')));
          assert.equal(predictor.rows.length, 0, 'nothing reached the model');
        });

        it('ignores prototype-pollution keys in a V2 request, and refuses inputs named after them, polluting nothing', async () => {
          const predictor = new RecordingPredictor(inner);
          const app = createRequestListener({ spec: spec(), model: { predictor }, onError: () => {} });
          const [, v2] = predictionRoutes(project.spec);
          const body = JSON.stringify(v2!.body(row));
          await request(app)
            .post(v2!.route)
            .set('content-type', 'application/json')
            .send(pollutedBody(JSON.parse(body)))
            .expect(200);
          const inputs = POLLUTING_KEYS.map(
            (name) => `{"name":"${name}","shape":[1],"datatype":"FP64","data":[1],"__proto__":{"polluted":true}}`,
          );
          const refused = await request(app)
            .post(v2!.route)
            .set('content-type', 'application/json')
            .send(body.replace('"inputs":[', `"inputs":[${inputs.join(',')},`))
            .expect(400);
          assert.deepEqual(refused.body.issues.map((issue: { field: string }) => issue.field).sort(), [...POLLUTING_KEYS].sort());
          assert.equal(predictor.rows.length, 1, 'only the valid request reached the model');
          assert.equal(Object.getPrototypeOf(predictor.rows[0]), Object.prototype);
        });

        it('drops unknown and prototype-pollution keys before the model (unknown_fields: strip)', async () => {
          const predictor = new RecordingPredictor(inner);
          const app = createRequestListener({
            spec: withServer(project.spec, { fast_path, unknown_fields: 'strip' }),
            model: { predictor },
            onError: () => {},
          });
          const body = pollutedBody({ ...row, surprise: 'extra' });
          await request(app).post('/predict').set('content-type', 'application/json').send(body).expect(200);
          await request(app).post('/predict/batch').set('content-type', 'application/json').send(`{"rows":[${body}]}`).expect(200);
          const names = new Set(project.spec.features.features.map((feature) => feature.name));
          assert.equal(predictor.rows.length, 2);
          for (const seen of predictor.rows) {
            assert.deepEqual(
              Object.keys(seen).filter((key) => !names.has(key)),
              [],
            );
            assert.equal(Object.getPrototypeOf(seen), Object.prototype);
          }
        });

        it('answers NaN and Infinity, which JSON cannot carry, with 400, and numbers beyond float64 as invalid', async () => {
          const app = listen(spec());
          const numeric = project.spec.features.features.find((feature) => feature.type === 'number' || feature.type === 'integer');
          if (!numeric) return;
          // A value no other part of the body holds, replaced by the literal under test.
          const marker = 123456.789;
          for (const { route, body, invalid, said, field } of predictionRoutes(project.spec)) {
            const text = (value: string): string => JSON.stringify(body({ ...row, [numeric.name]: marker })).replace(String(marker), value);
            for (const literal of ['NaN', 'Infinity', '-Infinity']) {
              const res: request.Response = await request(app)
                .post(route)
                .set('content-type', 'application/json')
                .send(text(literal))
                .expect(400);
              assert.equal(res.body[said === 'message' ? 'error' : 'code'], 'malformed_json');
            }
            const overflow: request.Response = await request(app)
              .post(route)
              .set('content-type', 'application/json')
              .send(text('1e400'))
              .expect(invalid);
            assert.equal(overflow.body.issues[0].field, field(numeric.name));
          }
        });

        it('range-checks huge numbers against features.yaml, and survives them on a feature without bounds', async () => {
          const bounded = project.spec.features.features.find((feature) => feature.max !== undefined);
          if (bounded) {
            for (const { route, body, invalid, field } of predictionRoutes(project.spec)) {
              const res: request.Response = await request(listen(spec()))
                .post(route)
                .send(body({ ...row, [bounded.name]: 1e308 }))
                .expect(invalid);
              assert.equal(res.body.issues[0].field, field(bounded.name));
              assert.match(res.body.issues[0].message, /<=|too big|at most/i);
            }
          }
          const unboundedSpec = withServer(project.spec, { fast_path });
          const features = unboundedSpec.features.features.map(({ min: _min, max: _max, ...feature }) => feature);
          const app = listen({ ...unboundedSpec, features: { ...unboundedSpec.features, features } });
          for (const feature of features.filter((f) => f.type === 'number')) {
            for (const value of [1e308, -1e308, Number.MAX_SAFE_INTEGER * 1e10]) {
              const res = await request(app)
                .post('/predict')
                .send({ ...row, [feature.name]: value });
              // Either a real prediction or a 422 saying why: never a 5xx, never NaN passed off as an answer.
              assert.ok(res.status === 200 || res.status === 422, `${feature.name}=${value} answered ${res.status}: ${res.text}`);
              if (res.status === 422) assert.match(res.body.message, /too large/);
              else
                for (const score of Object.values(res.body.probabilities ?? { prediction: res.body.prediction }))
                  assert.ok(Number.isFinite(score));
              // The V2 route answers alike, its refusal a 400 as the protocol wants.
              const [, v2] = predictionRoutes(unboundedSpec);
              const tensors: request.Response = await request(app)
                .post(v2!.route)
                .send(v2!.body({ ...row, [feature.name]: value }));
              assert.equal(tensors.status, res.status === 422 ? 400 : 200, tensors.text);
              if (tensors.status === 400) assert.match(tensors.body.error, /too large/);
            }
          }
          await request(app).post('/predict').send(row).expect(200);
        });

        it('lists the first 100 failing fields and counts the rest, so a 422 stays about the size of the request', async () => {
          const app = listen(spec());
          const required = project.spec.features.features.filter((feature) => feature.required).length;
          // 1000 rows of a few bytes each: empty when a feature is required, else each with one unknown field.
          const rowText = required > 0 ? '{}' : '{"u":0}';
          const rows = `{"rows":[${Array.from({ length: 1000 }, () => rowText).join(',')}]}`;
          const batch = await request(app).post('/predict/batch').set('content-type', 'application/json').send(rows).expect(422);
          const perRow = required > 0 ? required : 1;
          assert.equal(batch.body.issue_count, 1000 * perRow);
          assert.equal(batch.body.issues.length, 100);
          assert.equal(batch.body.issues[0].field.startsWith('rows[0]'), true);
          assert.match(batch.body.message, new RegExp(`${1000 * perRow} problems \\(the first 100 are listed\\)`));
          assert.ok(batch.text.length < 16_000, `a ${rows.length}-byte batch got a ${batch.text.length}-byte 422`);

          // Close to the body limit in unknown keys: listed in full, the answer was ten times the request.
          const keys = Array.from({ length: 36_000 }, (_, i) => `"unknown_field_${i}":0`);
          const body = `{${keys.join(',')}}`;
          assert.ok(body.length < project.spec.config.server.body_limit_bytes);
          const wide = await request(app).post('/predict').set('content-type', 'application/json').send(body).expect(422);
          assert.equal(wide.body.issue_count, 36_000 + required);
          assert.equal(wide.body.issues.length, 100);
          assert.ok(wide.text.length < 16_000, `a ${body.length}-byte body got a ${wide.text.length}-byte 422`);

          // The same for V2 tensors: 1000 rows, each value of every required feature null.
          if (required > 0) {
            const [, v2] = predictionRoutes(project.spec);
            const features = project.spec.features.features.filter((feature) => feature.required);
            const nulls = tabularRequest(
              features,
              Array.from({ length: 1000 }, () => row as FeatureValues),
            );
            for (const input of nulls.inputs) input.data = input.data.map(() => null);
            const tensors = await request(app).post(v2!.route).send(nulls).expect(400);
            assert.equal(tensors.body.issue_count, 1000 * required);
            assert.equal(tensors.body.issues.length, 100);
            assert.ok(tensors.text.length < 16_000, `a 1000-row V2 request got a ${tensors.text.length}-byte 400`);
          }

          const one = await request(app)
            .post('/predict')
            .send({ ...row, extra_field: true })
            .expect(422);
          assert.deepEqual(
            [one.body.issue_count, one.body.issues.length, one.body.message],
            [1, 1, 'The request body is invalid: 1 problem'],
          );
        });

        it('names wrong types, a body that is not an object, and extra fields', async () => {
          const app = listen(spec());
          for (const { route, invalid } of predictionRoutes(project.spec)) {
            for (const body of ['[]', '"text"', '42', 'null', '[{"a": 1}]']) {
              const res = await request(app).post(route).set('content-type', 'application/json').send(body).expect(invalid);
              assert.equal(res.body.issues[0].field, '(body)');
              assert.match(res.body.issues[0].message, /expected object/);
            }
          }
          const empty = await request(app).post('/predict').set('content-type', 'application/json').send('').expect(400);
          assert.match(empty.body.message, /empty/);
          const first = project.spec.features.features[0]!;
          const wrong = first.type === 'string' || first.type === 'category' ? { nested: [1] } : 'twelve';
          const res = await request(app)
            .post('/predict')
            .send({ ...row, [first.name]: wrong, extra_field: true })
            .expect(422);
          const fields = res.body.issues.map((issue: { field: string }) => issue.field).sort();
          assert.deepEqual(fields, [first.name, 'extra_field'].sort());
          for (const { route, body } of predictionRoutes(project.spec)) {
            const text = JSON.stringify(body(row));
            await request(app).post(route).set('content-type', 'application/json; charset=latin1').send(text).expect(415);
            await request(app).post(route).set('content-type', 'application/json').set('content-encoding', 'gzip').send(text).expect(415);
          }
        });
      });
    });
  }

  describe('start-up', () => {
    it('refuses auth without keys with an EnvironmentError naming API_KEYS', () => {
      const spec = withServer(project.spec, { auth: { enabled: true } });
      assert.throws(
        () => apiKeys(spec.config, {}),
        (error: unknown) => error instanceof EnvironmentError && /API_KEYS/.test(error.message),
      );
      assert.throws(() => apiKeys(spec.config, { API_KEYS: ' , ' }), EnvironmentError);
      assert.throws(() => createRequestListener({ spec, model: {} }), EnvironmentError);
      assert.deepEqual(apiKeys(spec.config, { API_KEYS: ' one, two ,one,' }), ['one', 'two']);
      assert.deepEqual(apiKeys(project.spec.config, {}), [], 'auth off: no key needed');
    });

    it('bounds slow clients with server.request_timeout_ms on the node:http server', async () => {
      const spec = withServer(project.spec, { request_timeout_ms: 4000 });
      const running = await startServer(spec, project.modelDir, { host: '127.0.0.1', port: 0 }, { apiKeys: [] });
      try {
        assert.equal(running.server.requestTimeout, 4000);
        assert.equal(running.server.headersTimeout, 4000);
        await running.ready;
        const res = await fetch(`${running.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(row),
        });
        assert.equal(res.status, 200);
      } finally {
        await running.close();
      }
    });
  });
});
