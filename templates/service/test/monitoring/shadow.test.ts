// The shadow model (server.shadow_model_version): it runs on the rows the live model answered, after the answers are
// sent; its predictions are logged beside the live ones with role: shadow; GET /monitoring and /metrics compare the
// two models with figures computed here independently; it follows reloads; and under load it sheds (counted) and a
// failing shadow never touches an answer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import type { Spec } from '../../src/contract/index.js';
import { answerSchemas } from '../../src/http/answerSchemas.js';
import { startServer, type RunningServer } from '../../src/http/startServer.js';
import { ShadowRunner, type ShadowReport } from '../../src/monitoring/shadow.js';
import { PredictionLog } from '../../src/predictionLog/index.js';
import { Predictions, type PredictionAnswer } from '../../src/runtime/predictions.js';
import { OnnxPredictor, type Prediction, type Predictor } from '../../src/runtime/predictor.js';
import { eventually, logSettings, until } from '../support/predictionLoad.js';
import { withServer } from '../support/serving.js';
import { modelVersions, sameAnswer, temporaryFolder, type ModelVersions } from '../support/modelVersions.js';
import { jsonText } from '../../src/runtime/wireFormat.js';

/** The comparison figures, computed from each model's own predictions of the rows. */
function expectedFigures(live: readonly Prediction[], shadow: readonly Prediction[]) {
  const n = live.length;
  if (typeof live[0]!.prediction === 'number')
    return {
      mean_absolute_difference: live.reduce((sum, p, i) => sum + Math.abs(Number(p.prediction) - Number(shadow[i]!.prediction)), 0) / n,
    };
  let agreeing = 0;
  let difference = 0;
  live.forEach((p, i) => {
    const q = shadow[i]!;
    if (p.prediction === q.prediction) agreeing++;
    difference +=
      Object.keys(p.probabilities!).reduce((sum, name) => sum + Math.abs(p.probabilities![name]! - q.probabilities![name]!), 0) / 2;
  });
  return { agreement: agreeing / n, mean_probability_difference: difference / n };
}

describe('shadow model', () => {
  let versions: ModelVersions;
  let spec: Spec;
  const servers: RunningServer[] = [];

  before(async () => {
    versions = await modelVersions();
    spec = versions.project.spec;
  });
  after(async () => {
    for (const running of servers) await running.close();
  });

  const monitoring = async (url: string) => ((await (await fetch(`${url}/monitoring`)).json()) as { shadow: ShadowReport | null }).shadow;
  const predict = (url: string, row: number, id: string) =>
    fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...versions.rows[row], [spec.config.id_field]: id }),
    });

  it('runs on the answered rows, logs its predictions with role: shadow, and compares the two models', async () => {
    const [a, b] = versions.versions;
    const logFile = join(temporaryFolder('shadow-log-'), 'predictions.jsonl');
    const shadowSpec = withServer(spec, { shadow_model_version: b });
    const running = await startServer(
      shadowSpec,
      await versions.freshStore(a),
      { host: '127.0.0.1', port: 0 },
      {
        predictionLog: logSettings(shadowSpec, { sinks: ['file'], file: { path: logFile }, flush_interval_ms: 10 }),
        log: () => {},
        warn: () => {},
      },
    );
    servers.push(running);
    await running.ready;
    await until('the shadow loaded', () => running.models.shadow, Boolean);

    const count = versions.rows.length;
    for (let row = 0; row < count; row++) {
      const res = await predict(running.url, row, `shadowed-${row}`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { model: { version: string } }).model.version, a, 'the live model answers');
    }
    const report = await eventually(
      'every row compared',
      () => monitoring(running.url),
      (shadow) => shadow?.rows === count,
    );
    assert.equal(report!.model.version, b);
    assert.equal(report!.live_model.version, a);
    assert.equal(report!.status, 'comparing');
    assert.equal(report!.requests, count);
    assert.equal(report!.shed_requests, 0);
    assert.equal(report!.failed_requests, 0);
    const expected = expectedFigures(versions.expected.get(a)!, versions.expected.get(b)!);
    for (const [figure, value] of Object.entries(expected)) {
      const reported = report![figure as keyof typeof expected]!;
      assert.ok(Math.abs(reported - value) <= 1e-6 * Math.max(1, Math.abs(value)), `${figure}: ${reported}, expected ${value}`);
    }
    assert.ok(report!.latency_ms.live! > 0 && report!.latency_ms.shadow! > 0, JSON.stringify(report!.latency_ms));
    const whole: unknown = await (await fetch(`${running.url}/monitoring`)).json();
    assert.deepEqual(answerSchemas(shadowSpec).MonitoringReport.parse(whole), whole, 'the answer is what the OpenAPI document says');

    const metrics = await (await fetch(`${running.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`^ml_shadow_requests_total\\{outcome="compared"\\} ${count}$`, 'm'));
    assert.match(metrics, new RegExp(`^ml_shadow_compared_rows\\{live_version="${a}",shadow_version="${b}"\\} ${count}$`, 'm'));
    const headline = 'agreement' in expected ? 'ml_shadow_agreement' : 'ml_shadow_absolute_difference';
    const value = Object.values(expected)[0]!;
    const series = new RegExp(`^${headline}\\{live_version="${a}",shadow_version="${b}"\\} (\\S+)$`, 'm').exec(metrics);
    assert.ok(series && Math.abs(Number(series[1]) - value) <= 1e-6 * Math.max(1, value), `${headline}: ${series?.[1]}, expected ${value}`);
    for (const [role, version] of [
      ['live', a],
      ['shadow', b],
    ])
      assert.match(
        metrics,
        new RegExp(`^ml_shadow_model_duration_seconds_count\\{role="${role}",model_version="${version}"\\} \\d+$`, 'm'),
      );

    // The log: each row twice, the answer the client got and the shadow's prediction of the same row.
    const records = await until(
      'both records of every row in the log',
      () => readFileSync(logFile, 'utf8').split('\n').filter(Boolean),
      (lines) => lines.length >= 2 * count,
    );
    const idField = spec.config.id_field;
    for (let row = 0; row < count; row++) {
      const mine = records
        .map((line) => JSON.parse(line) as Record<string, unknown> & { model: { version: string }; role?: string })
        .filter((record) => record[idField] === `shadowed-${row}`);
      const live = mine.filter((record) => record.role === undefined);
      const shadow = mine.filter((record) => record.role === 'shadow');
      assert.equal(live.length, 1);
      assert.equal(shadow.length, 1);
      assert.equal(live[0]!.model.version, a);
      assert.equal(shadow[0]!.model.version, b);
      assert.deepEqual(shadow[0]!.features, live[0]!.features);
      assert.ok(sameAnswer(shadow[0] as never, versions.expected.get(b)![row]!), `row ${row}: the shadow record holds ${b}'s prediction`);
    }
  });

  it('follows reloads: stopped, started, compared afresh after the live model changes, idle when it is the live model', async () => {
    const [a, b] = versions.versions;
    const running = await startServer(
      withServer(spec, { shadow_model_version: b }),
      await versions.freshStore(a),
      { host: '127.0.0.1', port: 0 },
      {
        log: () => {},
        warn: () => {},
      },
    );
    servers.push(running);
    await running.ready;
    await until('the shadow loaded', () => running.models.shadow, Boolean);
    const reload = async (body: unknown) => {
      const res = await fetch(`${running.url}/admin/reload`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200);
      return (await res.json()) as { live: { outcome: string }; shadow: { outcome: string; model: { version: string } | null } };
    };

    let result = await reload({ shadow_version: null });
    assert.equal(result.shadow.outcome, 'stopped');
    assert.equal(await monitoring(running.url), null);

    result = await reload({ shadow_version: b });
    assert.deepEqual([result.shadow.outcome, result.shadow.model?.version], ['swapped', b]);
    await predict(running.url, 0, 'one');
    await eventually(
      'one row compared',
      () => monitoring(running.url),
      (shadow) => shadow?.rows === 1,
    );

    // The live model swapped: the comparison of the new pair starts from nothing; here the shadow is the live model.
    result = await reload({ version: b });
    assert.equal(result.live.outcome, 'swapped');
    assert.equal(result.shadow.outcome, 'unchanged');
    const idle = await monitoring(running.url);
    assert.deepEqual([idle!.status, idle!.rows, idle!.live_model.version], ['same_as_live', 0, b]);
    await predict(running.url, 1, 'two');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await monitoring(running.url))!.requests, 0, 'a shadow that is the live model is not run');

    result = await reload({ version: b, shadow_version: a });
    assert.deepEqual([result.shadow.outcome, result.shadow.model?.version], ['swapped', a]);
    await predict(running.url, 2, 'three');
    const compared = await eventually(
      'the new pair compared',
      () => monitoring(running.url),
      (shadow) => shadow?.rows === 1,
    );
    assert.deepEqual([compared!.live_model.version, compared!.model.version], [b, a]);
  });

  describe('off the request path', () => {
    let live: Predictor;
    let shadow: Predictor;

    before(async () => {
      const store = await versions.freshStore();
      live = await OnnxPredictor.load(join(store, versions.versions[0]), spec);
      shadow = await OnnxPredictor.load(join(store, versions.versions[1]), spec);
    });

    /** `n` answered requests of the live model, each with its publish() not yet called. */
    async function answered(predictions: Predictions, n: number): Promise<PredictionAnswer[]> {
      const answers: PredictionAnswer[] = [];
      for (let i = 0; i < n; i++) {
        const request = { rows: [versions.rows[i % versions.rows.length]!], ids: [`r-${i}`], batch: false, route: '/predict' };
        answers.push(await predictions.predict({ predictor: live, ...request, requestId: `q-${i}`, startedAt: performance.now() }));
      }
      return answers;
    }

    function runner(shadowModel: Predictor, queueSize: number) {
      const registry = new Registry();
      const errors: unknown[] = [];
      const predictions = new Predictions({
        idField: spec.config.id_field,
        featureNames: spec.features.features.map((feature) => feature.name),
        apiVersion: spec.config.version,
        onError: (error) => errors.push(error),
      });
      const shadowRunner = new ShadowRunner({
        task: spec.config.task,
        live: () => live,
        shadow: () => shadowModel,
        queueSize,
        predictionLog: PredictionLog.disabled(),
        registry,
        onError: (error) => errors.push(error),
      });
      predictions.subscribe(shadowRunner);
      return { predictions, shadowRunner, registry, errors };
    }

    it('sheds the requests beyond server.shadow_queue_size, and counts them', async () => {
      const { predictions, shadowRunner, registry, errors } = runner(shadow, 3);
      const answers = await answered(predictions, 10);
      for (const answer of answers) answer.publish(); // ten answers sent at once: one runs, three wait, six are shed
      const report = await eventually(
        'the queue drained',
        async () => shadowRunner.report(live),
        (r) => r?.requests === 4,
      );
      assert.equal(report!.shed_requests, 6);
      assert.deepEqual(report!.queue, { size: 0, capacity: 3 });
      assert.match(await registry.metrics(), /^ml_shadow_requests_total\{outcome="shed"\} 6$/m);
      assert.deepEqual(errors, []);
    });

    it('a shadow that fails is counted, and the answers and the publishing are untouched', async () => {
      const failing: Predictor = {
        metadata: shadow.metadata,
        modelDir: shadow.modelDir,
        predict: () => Promise.reject(new Error('shadow broke')),
      };
      const { predictions, shadowRunner, registry, errors } = runner(failing, 10);
      const answers = await answered(predictions, 5);
      for (const answer of answers) {
        assert.doesNotThrow(() => answer.publish());
        assert.equal((JSON.parse(jsonText(answer.json)) as { model: { version: string } }).model.version, versions.versions[0]);
      }
      const report = await eventually(
        'every run failed',
        async () => shadowRunner.report(live),
        (r) => r?.failed_requests === 5,
      );
      assert.equal(report!.requests, 0);
      assert.match(await registry.metrics(), /^ml_shadow_requests_total\{outcome="failed"\} 5$/m);
      assert.deepEqual(errors, []);
    });
  });
});
