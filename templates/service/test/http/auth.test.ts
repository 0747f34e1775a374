// Authentication, on the fast path and through Express alike. With API_KEYS set (the Helm chart and the Ansible
// deploy always set one) every route but the public ones needs a key, /feedback and /monitoring whatever
// public_paths says; wrong keys are limited per client address; GET /ready shows internal details (sink errors,
// the model's load error) only to callers with a key. Without API_KEYS the API is open, and `npm start` says so.
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type RequestListener, type Server } from 'node:http';
import request from 'supertest';
import { PredictionLog } from '../../src/predictionLog/index.js';
import { createRequestListener, type AppOptions } from '../../src/http/app.js';
import { OnnxPredictor, type Predictor } from '../../src/runtime/predictor.js';
import { type Spec, exampleRow } from '../../src/contract/index.js';
import { logSettings, until } from '../support/predictionLoad.js';
import { SERVING_PATHS, withServer } from '../support/serving.js';
import { spawnService, type ServiceProcess } from '../support/serviceProcess.js';
import { trainedProject, type TrainedProject } from '../support/trainedModel.js';

const KEYS = ['first-key-0123456789abcdef', 'second-key-0123456789abcdef'];
const HOST_PORT = /\b\d{1,3}(\.\d{1,3}){3}:\d+\b/;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** One request to a server on 127.0.0.1 sent from `from` (another loopback address is another client). */
function call(
  server: Server,
  from: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Answer> {
  const { port } = server.address() as { port: number };
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, localAddress: from, method, path, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('authentication', () => {
  let project: TrainedProject;
  let inner: Predictor;
  let row: Record<string, unknown>;
  const servers: Server[] = [];

  before(async () => {
    project = await trainedProject();
    inner = await OnnxPredictor.load(project.modelDir, project.spec);
    row = exampleRow(project.spec.features.features);
  });
  after(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  const listen = (spec: Spec, options: Partial<AppOptions> = {}) =>
    createRequestListener({ spec, model: { predictor: inner }, onError: () => {}, ...options });

  async function serve(app: RequestListener): Promise<Server> {
    const server = createServer(app);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  for (const { name, fast_path } of SERVING_PATHS) {
    describe(name, () => {
      it('with API_KEYS set, /feedback, /monitoring and the predictions need a key although server.auth.enabled is false', async () => {
        const spec = withServer(project.spec, { fast_path });
        assert.equal(spec.config.server.auth.enabled, false);
        const app = listen(spec, { apiKeys: KEYS });
        const feedback = { [spec.config.id_field]: 'never-predicted', [spec.config.target]: 'x' };
        await request(app).post('/feedback').send(feedback).expect(401);
        await request(app)
          .post('/feedback/batch')
          .send({ rows: [feedback] })
          .expect(401);
        await request(app).get('/monitoring').expect(401);
        await request(app).post('/predict').send(row).expect(401);
        await request(app)
          .post('/predict/batch')
          .send({ rows: [row] })
          .expect(401);
        // With a key they are served (the feedback's id is unknown: 404 from the route itself, not the guard).
        await request(app).get('/monitoring').set('x-api-key', KEYS[1]!).expect(200);
        await request(app).post('/predict').set('x-api-key', KEYS[0]!).send(row).expect(200);
        const labelled = await request(app).post('/feedback').set('x-api-key', KEYS[0]!).send(feedback);
        assert.notEqual(labelled.status, 401);
        // The public routes, deliberately: the probes, the Prometheus scrape (the ServiceMonitor sends no key) and
        // the API's description.
        for (const path of ['/health', '/ready', '/metrics', '/openapi.json', '/docs/']) await request(app).get(path).expect(200);
        // Swagger UI gets its Authorize button: the document says which header carries the key.
        const { body } = await request(app).get('/openapi.json').expect(200);
        assert.deepEqual(body.components.securitySchemes.ApiKey, { type: 'apiKey', in: 'header', name: 'x-api-key' });
        assert.ok(body.paths['/feedback'].post.responses['401']);
      });

      it('keeps /feedback and /monitoring keyed even when server.auth.public_paths covers them', async () => {
        const app = listen(withServer(project.spec, { fast_path, auth: { public_paths: ['/feedback', '/monitoring', '/predict'] } }), {
          apiKeys: KEYS,
        });
        await request(app).post('/feedback').send({}).expect(401);
        await request(app).post('/Feedback/').send({}).expect(401);
        await request(app).get('/monitoring').expect(401);
        await request(app).get('/MONITORING').expect(401);
        await request(app).post('/predict').send(row).expect(200); // what public_paths opens stays open
      });

      it('without API_KEYS the API stays open (a workstation’s npm start)', async () => {
        const app = listen(withServer(project.spec, { fast_path }));
        await request(app).get('/monitoring').expect(200);
        await request(app).post('/predict').send(row).expect(200);
      });

      it('limits wrong keys per client address: 429 with Retry-After after the limit, other addresses unaffected', async () => {
        const limit = 3;
        const spec = withServer(project.spec, { fast_path, auth: { failed_keys: { limit, window_seconds: 60 } } });
        const server = await serve(listen(spec, { apiKeys: KEYS }));
        const guesser = '127.0.0.2';
        for (let i = 0; i < limit; i++) {
          const wrong = await call(server, guesser, 'POST', '/predict', { 'x-api-key': `guess-${i}` }, row);
          assert.equal(wrong.status, 401, `wrong key ${i + 1}`);
        }
        const limited = await call(server, guesser, 'POST', '/predict', { 'x-api-key': 'guess-more' }, row);
        assert.equal(limited.status, 429);
        assert.equal(limited.body.error, 'too_many_failed_keys');
        assert.match(String(limited.body.message), /More than 3 wrong API keys in 60 s/);
        const retryAfter = Number(limited.headers['retry-after']);
        assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${limited.headers['retry-after']}`);
        // Blocked means blocked: a right guess from that address is not confirmed either, on a public path neither.
        assert.equal((await call(server, guesser, 'POST', '/predict', { 'x-api-key': KEYS[0]! }, row)).status, 429);
        assert.equal((await call(server, guesser, 'GET', '/ready', { 'x-api-key': KEYS[0]! })).status, 429);
        // Its requests without a key to the public paths (as the kubelet's probes) go on.
        assert.equal((await call(server, guesser, 'GET', '/health')).status, 200);
        // Another client, with a valid key, is served.
        assert.equal((await call(server, '127.0.0.3', 'POST', '/predict', { 'x-api-key': KEYS[0]! }, row)).status, 200);
        assert.equal((await call(server, '127.0.0.3', 'POST', '/predict', { 'x-api-key': 'one-typo' }, row)).status, 401);
      });

      it('GET /ready shows sink errors and the model’s load error only to callers with a key', async () => {
        // A Fluentd sink at an address where nothing listens: its last error names the host and port.
        const log = PredictionLog.create(
          logSettings(
            project.spec,
            { sinks: ['fluentd'], flush_interval_ms: 5, retry_initial_ms: 5, retry_max_ms: 10 },
            { FLUENTD_HOST: '127.0.0.1', FLUENTD_PORT: '9' },
          ),
          { warn: () => {} },
        );
        try {
          const spec = withServer(project.spec, { fast_path });
          const app = listen(spec, { apiKeys: KEYS, predictionLog: log });
          await request(app).post('/predict').set('x-api-key', KEYS[0]!).send(row).expect(200);
          await until(
            'a failed send',
            () => log.stats().sinks.fluentd!,
            (fluentd) => fluentd.last_error !== undefined,
          );
          const anonymous = await request(app).get('/ready').expect(200);
          assert.doesNotMatch(anonymous.text, HOST_PORT);
          assert.equal(anonymous.body.prediction_log.sinks.fluentd.last_error, undefined);
          assert.ok(anonymous.body.prediction_log.sinks.fluentd.failed_sends > 0, 'the counts stay public');
          const keyed = await request(app).get('/ready').set('x-api-key', KEYS[1]!).expect(200);
          assert.match(keyed.body.prediction_log.sinks.fluentd.last_error, HOST_PORT);
          await request(app).get('/ready').set('x-api-key', 'wrong').expect(401);

          const loadError = 'cannot read the model from s3 at 10.1.2.3:9000';
          const broken = listen(spec, { apiKeys: KEYS, model: { loadError } });
          const hidden = await request(broken).get('/ready').expect(503);
          assert.equal(hidden.body.status, 'model_error');
          assert.doesNotMatch(hidden.text, HOST_PORT);
          const shown = await request(broken).get('/ready').set('x-api-key', KEYS[0]!).expect(503);
          assert.equal(shown.body.message, loadError);
        } finally {
          await log.close(50);
        }
      });
    });
  }

  describe('npm start', () => {
    let service: ServiceProcess | undefined;
    afterEach(() => service?.kill());

    it('says at start-up whether the API is open or needs keys', async () => {
      service = spawnService({ API_KEYS: '' });
      await service.listening();
      assert.match(
        await service.waitForOutput(/API keys:/),
        /API keys: none set \(API_KEYS\): the API is open; set API_KEYS before deploying/,
      );
      service.kill();
      service = spawnService({ API_KEYS: KEYS.join(',') });
      const text = await service.waitForOutput(/API keys:/);
      assert.match(text, /API keys: 2 set \(API_KEYS\); requests need one in the x-api-key header/);
      assert.doesNotMatch(text, new RegExp(KEYS[0]!), 'the keys themselves are never printed');
    });
  });
});
