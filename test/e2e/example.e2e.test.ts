// End to end, as a user would: the committed iris example (example/) is installed in a fresh folder,
// trained, its own tests run, and its server started on a free port and exercised over HTTP and through
// Swagger UI in a real browser.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumAvailable, launchChromium } from '../support/browser.js';
import { exited, freePort, run, waitForStatus } from '../support/process.js';

// The bodies under test are checked field by field below; a loose type keeps that readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (res: Response): Promise<any> => res.json();

const EXAMPLE = new URL('../../example/', import.meta.url).pathname;
const PYTHON = '/usr/bin/python3';
/** Checks an OpenAPI 3.1 document, and answers against it, with Debian's python3-jsonschema (see the file). */
const OPENAPI_CHECK = new URL('../fixtures/openapi/check.py', import.meta.url).pathname;
const pythonJsonSchemaAvailable = () => spawnSync(PYTHON, ['-c', 'import jsonschema, yaml']).status === 0;

describe('end to end: the iris example', function () {
  this.timeout(900_000);
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iris-e2e-'));
    cpSync(EXAMPLE, dir, { recursive: true });
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, timeout: 600_000 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The model folder model_bin/LATEST names: the newest promoted version (training.promote). */
  const latestModelDir = () => join(dir, 'model_bin', readFileSync(join(dir, 'model_bin', 'LATEST'), 'utf8').trim());

  it('trains with `npm run train`, printing the holdout metrics and the quality gate, and writing a model version', async () => {
    const { stdout } = await run('npm', ['run', 'train'], { cwd: dir });
    assert.match(stdout, /accuracy\s+0\.9\d/);
    assert.match(stdout, /confusion matrix/);
    assert.match(stdout, /accuracy 0\.9\d+ ≥ 0\.9 {2}passed/);
    for (const file of ['model.onnx', 'preprocessor.json', 'model.json', 'report.html'])
      assert.ok(existsSync(join(latestModelDir(), file)), file);
    assert.ok(
      stdout.includes(
        `Training report: ${join('model_bin', readFileSync(join(dir, 'model_bin', 'LATEST'), 'utf8').trim(), 'report.html')}`,
      ),
      stdout,
    );
    const metadata = JSON.parse(readFileSync(join(latestModelDir(), 'model.json'), 'utf8'));
    assert.deepEqual(metadata.classes, ['setosa', 'versicolor', 'virginica']);
    assert.ok(metadata.metrics.accuracy >= 0.9);
    assert.equal(join(dir, 'model_bin', metadata.model_version), latestModelDir());
  });

  it('passes its own tests, lint and type check', async () => {
    const { stdout } = await run('npm', ['test'], { cwd: dir });
    assert.match(stdout, /\d+ passing/);
    // mocha's summary line (a test title may say "failing" too); run() already fails on a non-zero exit.
    assert.doesNotMatch(stdout, /^ *\d+ failing$/m);
    await run('npm', ['run', 'lint'], { cwd: dir });
    await run('npm', ['run', 'typecheck'], { cwd: dir });
  });

  describe('the running server', () => {
    let server: ChildProcess;
    let base: string;
    let output = '';

    before(async () => {
      await run('npm', ['run', 'build'], { cwd: dir });
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      server = spawn('node', ['dist/http/server.js'], { cwd: dir, env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' } });
      server.stdout!.on('data', (chunk) => (output += chunk));
      server.stderr!.on('data', (chunk) => (output += chunk));
      await waitForStatus(`${base}/ready`, 200);
    });
    after(() => {
      if (server.exitCode === null) server.kill('SIGKILL');
    });

    const post = (path: string, body: string, type = 'application/json') =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
    const row = { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 };

    it('is live and ready with the trained model', async () => {
      assert.equal((await fetch(`${base}/health`)).status, 200);
      const ready = await json(await fetch(`${base}/ready`));
      const metadata = JSON.parse(readFileSync(join(latestModelDir(), 'model.json'), 'utf8'));
      assert.equal(ready.model.uuid, metadata.uuid);
    });

    it('predicts one row and a batch', async () => {
      const res = await post('/predict', JSON.stringify({ ...row, request_id: 'e2e-1' }));
      assert.equal(res.status, 200);
      const body = await json(res);
      assert.equal(body.request_id, 'e2e-1');
      assert.equal(body.prediction, 'virginica');
      assert.ok(body.probabilities.virginica > 0.5);
      assert.equal(body.api_version, '1.0.0');
      const batch = await json(
        await post(
          '/predict/batch',
          JSON.stringify({ rows: [row, { ...row, petal_length: 1.4, petal_width: 0.2, sepal_width: 3.5, sepal_length: 5.1 }] }),
        ),
      );
      assert.deepEqual(
        batch.predictions.map((p: { prediction: string }) => p.prediction),
        ['virginica', 'setosa'],
      );
    });

    it('answers bad requests with JSON errors', async () => {
      const invalid = await post('/predict', JSON.stringify({ sepal_length: 'long', petal_width: -1 }));
      assert.equal(invalid.status, 422);
      const issues = ((await json(invalid)).issues as { field: string }[]).map((i) => i.field).sort();
      assert.deepEqual(issues, ['petal_length', 'petal_width', 'sepal_length', 'sepal_width']);
      assert.equal((await post('/predict', '{"sepal_length": 1,')).status, 400);
      assert.equal((await post('/predict', JSON.stringify({ pad: 'x'.repeat(2_000_000) }))).status, 413);
      const missing = await fetch(`${base}/nowhere`);
      assert.equal(missing.status, 404);
      assert.equal((await json(missing)).error, 'not_found');
    });

    it('serves OpenAPI 3.1 with the spec descriptions and examples', async () => {
      const doc = await json(await fetch(`${base}/openapi.json`));
      assert.equal(doc.openapi, '3.1.0');
      const petal = doc.components.schemas.PredictRequest.properties.petal_length;
      assert.equal(petal.description, 'Petal length in centimetres');
      assert.deepEqual(petal.examples, [1.4]);
      assert.equal(petal.minimum, 0);
    });

    it('publishes a valid OpenAPI 3.1 document whose answer schemas hold for real answers (python3-jsonschema)', async function () {
      if (!pythonJsonSchemaAvailable()) this.skip(); // .ci/run installs Debian's python3-jsonschema
      const doc = await json(await fetch(`${base}/openapi.json`));
      // Every answer has a real schema: /predict's names the prediction, its probabilities and the model.
      const predictSchema = doc.paths['/predict'].post.responses['200'].content['application/json'].schema;
      const predictResponse = doc.components.schemas[predictSchema.$ref.split('/').pop()];
      for (const field of ['request_id', 'prediction', 'probabilities', 'model', 'api_version']) {
        assert.ok(predictResponse.required.includes(field), field);
      }
      assert.deepEqual(Object.keys(predictResponse.properties.model.properties).sort(), ['created_at', 'uuid', 'version']);
      const answers: { path: string; method: string; status: number; body: unknown }[] = [];
      const call = async (method: string, path: string, body?: unknown, raw?: string) => {
        const res = await (method === 'post' ? post(path, raw ?? JSON.stringify(body)) : fetch(`${base}${path}`));
        answers.push({ path, method, status: res.status, body: await json(res) });
        return res.status;
      };
      assert.equal(await call('post', '/predict', { ...row, request_id: 'openapi-1' }), 200);
      assert.equal(await call('post', '/predict/batch', { rows: [{ ...row, request_id: 'openapi-2' }, row] }), 200);
      assert.equal(await call('post', '/predict', { ...row, sepal_length: 'long', extra: 1 }), 422);
      assert.equal(await call('post', '/predict', undefined, '{"sepal_length": 1,'), 400);
      assert.equal(await call('get', '/health'), 200);
      assert.equal(await call('get', '/ready'), 200);
      assert.equal(await call('post', '/feedback', { request_id: 'openapi-1', species: 'virginica' }), 200);
      assert.equal(await call('post', '/feedback', { request_id: 'openapi-1', species: 'virginica' }), 409);
      assert.equal(await call('post', '/feedback', { request_id: 'never-predicted', species: 'setosa' }), 404);
      assert.equal(await call('post', '/feedback/batch', { rows: [{ request_id: 'openapi-2', species: 'setosa' }] }), 200);
      assert.equal(await call('post', '/feedback/batch', { rows: [{ request_id: 'never-predicted', species: 'setosa' }] }), 404);
      assert.equal(await call('get', '/monitoring'), 200);
      const checked = spawnSync(PYTHON, [OPENAPI_CHECK], { input: JSON.stringify({ document: doc, answers }), encoding: 'utf8' });
      assert.equal(checked.status, 0, checked.stderr);
      const result = JSON.parse(checked.stdout) as { document: string[]; answers: string[][] };
      assert.deepEqual(result.document, [], 'the document is valid OpenAPI 3.1');
      answers.forEach(({ path, method, status }, i) => assert.deepEqual(result.answers[i], [], `${method} ${path} ${status}`));
    });

    for (const { path, operationId } of [
      { path: '/predict', operationId: 'operations-Predictions-predict' },
      // The V2 operation's model_name is filled in from its example, the body from the document's example.
      { path: '/v2/models/{model_name}/infer', operationId: 'operations-Open_Inference_Protocol_V2-v2Infer' },
    ])
      it(`runs "Try it out" on POST ${path} in Swagger UI (headless Chromium)`, async function () {
        if (!chromiumAvailable()) this.skip(); // .ci/run installs Debian's chromium
        const browser = await launchChromium();
        try {
          const page = await browser.newPage();
          await page.goto(`${base}/docs/`);
          await page.locator(`.opblock-summary-path[data-path="${path}"]`).click();
          const operation = page.locator(`[id="${operationId}"]`);
          await operation.locator('button.try-out__btn').click();
          await operation.locator('button.execute').click();
          const response = operation.locator('.live-responses-table .response .response-col_description');
          await response.first().waitFor({ timeout: 20_000 });
          const text = await response.first().innerText();
          if (path === '/predict') {
            assert.match(text, /"prediction": "setosa"/);
            assert.match(text, /"probabilities"/);
          } else {
            assert.match(text, /"model_name": "iris-classifier"/);
            assert.match(text, /"setosa"/);
          }
        } finally {
          await browser.close();
        }
      });

    it('stops cleanly on SIGTERM', async () => {
      server.kill('SIGTERM');
      assert.equal(await exited(server), 0, output);
    });
  });
});
