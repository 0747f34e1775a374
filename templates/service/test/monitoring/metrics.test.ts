// GET /metrics: Prometheus text from prom-client, a registry per app, with the request, inference, prediction,
// model and prediction log metrics; and a real Prometheus (Debian's prometheus package, when installed)
// scraping a running service and loading the alert rules.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Express } from 'express';
import request from 'supertest';
import { PredictionLog } from '../../src/predictionLog/index.js';
import { createApp } from '../../src/http/app.js';
import { OnnxPredictor, type Predictor } from '../../src/runtime/predictor.js';
import { startServer, type RunningServer } from '../../src/http/startServer.js';
import { exampleRow } from '../../src/contract/index.js';
import { freePort, installed, metricFamilies, samples } from '../support/monitoring.js';
import { logSettings, sleep, until } from '../support/predictionLoad.js';
import { trainedProject, type TrainedProject } from '../support/trainedModel.js';

const RULES = fileURLToPath(new URL('../../monitoring/prometheus-rules.yml', import.meta.url));

describe('monitoring: Prometheus metrics', () => {
  let project: TrainedProject;
  let predictor: Predictor;
  let app: Express;
  let predictionLog: PredictionLog;

  before(async () => {
    project = await trainedProject();
    predictor = await OnnxPredictor.load(project.modelDir, project.spec);
  });
  beforeEach(() => {
    const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
    predictionLog = PredictionLog.create(logSettings(project.spec, { sinks: ['stdout'], flush_interval_ms: 10 }), { stdout: discard });
    app = createApp({ spec: project.spec, model: { predictor }, predictionLog, onError: () => {} });
  });
  afterEach(async () => {
    await predictionLog.close();
  });

  const row = () => exampleRow(project.spec.features.features);
  const scrape = async (target = app) => {
    const res = await request(target).get('/metrics').expect(200);
    assert.match(res.headers['content-type']!, /^text\/plain; version=0\.0\.4/);
    return res.text;
  };
  const value = (text: string, name: string, labels: Record<string, string> = {}) =>
    samples(text, name).find((sample) => Object.entries(labels).every(([key, v]) => sample.labels[key] === v))?.value;

  it('counts and times requests by method, route pattern and status', async () => {
    await request(app).post('/predict').send(row()).expect(200);
    await request(app).post('/predict').send(row()).expect(200);
    await request(app).post('/predict').send({}).expect(422);
    await request(app).get('/no/such/path/123').expect(404);
    const text = await scrape();
    assert.equal(value(text, 'http_requests_total', { method: 'POST', route: '/predict', status: '200' }), 2);
    assert.equal(value(text, 'http_requests_total', { method: 'POST', route: '/predict', status: '422' }), 1);
    assert.equal(value(text, 'http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }), 1, 'no label per unknown path');
    assert.equal(value(text, 'http_request_duration_seconds_count', { route: '/predict', status: '200' }), 2);
    assert.equal(value(text, 'http_request_duration_seconds_bucket', { route: '/predict', status: '200', le: '+Inf' }), 2);
  });

  it('times inference, counts batch sizes and predictions, and names the served model', async () => {
    await request(app).post('/predict').send(row()).expect(200);
    await request(app)
      .post('/predict/batch')
      .send({ rows: [row(), row(), row()] })
      .expect(200);
    const text = await scrape();
    // Named by the model that answered (its model_bin/ folder): a hot reload may bring another.
    const model_version = basename(project.versionDir);
    assert.equal(value(text, 'ml_inference_duration_seconds_count', { route: '/predict', model_version }), 1);
    assert.equal(value(text, 'ml_inference_duration_seconds_count', { route: '/predict/batch', model_version }), 1);
    assert.equal(value(text, 'ml_batch_size_rows_count'), 1);
    assert.equal(value(text, 'ml_batch_size_rows_sum'), 3);
    if (project.spec.config.task === 'classification') {
      const byClass = samples(text, 'ml_predictions_total');
      assert.deepEqual(byClass.map(({ labels }) => labels.class).sort(), [...project.metadata.classes].sort(), 'every class, from 0');
      assert.ok(byClass.every(({ labels }) => labels.model_version === model_version));
      assert.equal(
        byClass.reduce((sum, { value }) => sum + value, 0),
        4,
      );
    } else {
      assert.equal(value(text, 'ml_prediction_value_count', { model_version }), 4);
    }
    assert.deepEqual(samples(text, 'ml_model_info'), [
      {
        labels: { uuid: project.metadata.uuid, version: project.metadata.version, model_version: basename(project.versionDir) },
        value: 1,
      },
    ]);
  });

  it('exports the prediction log sinks’ counts, process metrics and the thresholds of config.yaml', async () => {
    await request(app)
      .post('/predict/batch')
      .send({ rows: [row(), row()] })
      .expect(200);
    await until(
      'sent',
      () => predictionLog.stats().sinks.stdout!.sent,
      (sent) => sent === 2,
    );
    const text = await scrape();
    assert.equal(value(text, 'ml_prediction_log_records_total', { sink: 'stdout', outcome: 'sent' }), 2);
    assert.equal(value(text, 'ml_prediction_log_records_total', { sink: 'stdout', outcome: 'dropped' }), 0);
    assert.equal(value(text, 'ml_prediction_log_pending_records', { sink: 'stdout' }), 0);
    assert.equal(value(text, 'ml_prediction_log_failed_sends_total', { sink: 'stdout' }), 0);
    const families = metricFamilies(text);
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      assert.ok(families.has(name), `${name} (prom-client default metrics)`);
    }
    const { monitoring } = project.spec.config;
    assert.equal(value(text, 'ml_drift_psi_threshold'), monitoring.drift_psi_threshold);
    assert.equal(value(text, 'ml_http_error_ratio_threshold'), monitoring.max_error_ratio);
    assert.equal(value(text, 'ml_http_latency_p99_threshold_seconds'), monitoring.max_p99_latency_ms / 1000);
  });

  it('keeps a registry per app', async () => {
    const other = createApp({ spec: project.spec, model: { predictor }, onError: () => {} });
    await request(app).post('/predict').send(row()).expect(200);
    const untouched = await scrape(other);
    assert.equal(value(untouched, 'http_requests_total', { route: '/predict' }), undefined);
    if (project.spec.config.task === 'classification') {
      const zeros = samples(untouched, 'ml_predictions_total');
      assert.deepEqual(
        zeros.map(({ labels }) => labels.class).sort(),
        [...project.metadata.classes].sort(),
        'every class before any prediction',
      );
      assert.ok(zeros.every(({ value }) => value === 0));
    }
    assert.equal(value(await scrape(app), 'http_requests_total', { route: '/predict' }), 1);
  });

  describe('scraped by a real Prometheus', function () {
    this.timeout(60_000);
    let service: RunningServer | undefined;
    let prometheus: ChildProcess | undefined;
    let workDir: string | undefined;
    let prometheusUrl: string;
    let stderr = '';
    /** Both tests together wait at most this long for Prometheus. */
    let deadline: number;

    before(async function () {
      if (!installed('prometheus')) {
        console.log('      skipped: prometheus is not installed (Debian: apt-get install prometheus)');
        this.skip();
      }
      service = await startServer(project.spec, project.modelDir, { host: '127.0.0.1', port: 0 });
      await service.ready;
      workDir = mkdtempSync(join(tmpdir(), 'prometheus-'));
      const config = {
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [RULES],
        scrape_configs: [{ job_name: 'ml-service', static_configs: [{ targets: [new URL(service.url).host] }] }],
      };
      writeFileSync(join(workDir, 'prometheus.yml'), JSON.stringify(config)); // JSON is YAML
      const port = await freePort();
      prometheusUrl = `http://127.0.0.1:${port}`;
      prometheus = spawn(
        'prometheus',
        [
          `--config.file=${join(workDir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(workDir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      deadline = Date.now() + 30_000;
      prometheus.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    });
    after(async () => {
      if (prometheus && prometheus.exitCode === null) {
        prometheus.kill('SIGTERM');
        await once(prometheus, 'exit');
      }
      await service?.close();
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    /** Polls the Prometheus HTTP API until `found` holds (bounded by `deadline`). */
    const poll = async <T>(path: string, found: (data: T) => boolean): Promise<T> => {
      let last: unknown;
      while (Date.now() < deadline) {
        if (prometheus?.exitCode !== null) throw new Error(`prometheus exited (${prometheus?.exitCode}):\n${stderr}`);
        try {
          const body = (await (await fetch(`${prometheusUrl}${path}`)).json()) as { status: string; data: T };
          last = body;
          if (body.status === 'success' && found(body.data)) return body.data;
        } catch (error) {
          last = error; // not listening yet
        }
        await sleep(250);
      }
      throw new Error(`Prometheus never answered ${path} as expected; last: ${JSON.stringify(last)}\n${stderr}`);
    };

    it('scrapes /metrics: the model info and the request counts are queryable', async () => {
      await fetch(`${service!.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(row()),
      });
      type Vector = { result: { metric: Record<string, string>; value: [number, string] }[] };
      const info = await poll<Vector>(
        `/api/v1/query?query=${encodeURIComponent('ml_model_info{job="ml-service"}')}`,
        (data) => data.result.length > 0,
      );
      assert.equal(info.result[0]!.metric.uuid, project.metadata.uuid);
      const predictions = await poll<Vector>(
        `/api/v1/query?query=${encodeURIComponent('http_requests_total{job="ml-service", route="/predict", status="200"}')}`,
        (data) => data.result.length > 0,
      );
      assert.equal(predictions.result[0]!.value[1], '1');
    });

    it('loads the alert rules and evaluates each without error', async () => {
      type Rules = { groups: { rules: { name: string; health: string; lastError?: string; lastEvaluation: string }[] }[] };
      const evaluated = (data: Rules) =>
        data.groups.flatMap((group) => group.rules).every((rule) => !rule.lastEvaluation.startsWith('0001'));
      const rules = (await poll<Rules>('/api/v1/rules', (data) => data.groups.length > 0 && evaluated(data))).groups.flatMap(
        (group) => group.rules,
      );
      assert.ok(rules.length >= 5, `${rules.length} rules`);
      for (const rule of rules) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError}`);
    });
  });
});
