// Ground truth: POST /feedback and /feedback/batch join labels with the predictions made under the same id and
// keep the live accuracy (classification) or RMSE and MAE (regression) over a window — from memory, and from the
// MongoDB prediction log for predictions this process never saw (another replica, or before a restart).
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import { PredictionStore } from '../../src/monitoring/feedback.js';
import { IdSequence } from '../../src/runtime/uniqueIds.js';
import { createApp } from '../../src/http/app.js';
import { OnnxPredictor, type Predictor } from '../../src/runtime/predictor.js';
import type { RunningServer } from '../../src/http/startServer.js';
import { type Spec, exampleRow } from '../../src/contract/index.js';
import { MongoTestServer } from '../support/mongoServer.js';
import { featureRows, resample, samples, seededRandom, withMonitoring } from '../support/monitoring.js';
import { logSettings, startLoggingServer, until } from '../support/predictionLoad.js';
import { trainedProject, type TrainedProject } from '../support/trainedModel.js';

/** The JSON fields of the answers read here. */
interface Answer {
  prediction: string | number;
  status?: string;
  source?: string;
  correct?: boolean;
  error?: string;
  message?: string;
}
const answerOf = async (res: Response) => (await res.json()) as Answer;

describe('monitoring: ground truth and live accuracy', () => {
  let project: TrainedProject;
  let spec: Spec;
  let predictor: Predictor;
  let app: Express;
  let rows: Awaited<ReturnType<typeof featureRows>>;

  before(async () => {
    project = await trainedProject();
    spec = withMonitoring(project.spec, {
      feedback_window_size: 40,
      feedback_min_labels: 10,
      prediction_store_size: 100,
      ...(project.spec.config.task === 'classification' ? { min_live_accuracy: 0.8 } : { max_live_rmse: 0.5, max_live_mae: 2 }),
    });
    predictor = await OnnxPredictor.load(project.modelDir, spec);
    rows = await featureRows(spec);
  });
  beforeEach(() => {
    app = createApp({ spec, model: { predictor }, onError: () => {} });
  });

  const idField = () => spec.config.id_field;
  const target = () => spec.config.target;
  const classification = () => spec.config.task === 'classification';
  const classes = () => project.metadata.classes;

  /** Predicts the rows, returning each id with its prediction. */
  const predictions = async (count: number, prefix: string) => {
    const body = { rows: resample(rows, count, seededRandom(count)).map((row, i) => ({ ...row, [idField()]: `${prefix}-${i}` })) };
    const res = await request(app).post('/predict/batch').send(body).expect(200);
    return (res.body.predictions as Record<string, string | number>[]).map((p) => ({
      id: p[idField()] as string,
      prediction: p.prediction!,
    }));
  };
  /** A label that is right (the prediction) or wrong (another class; the prediction + offset for regression). */
  const label = (prediction: string | number, right: boolean, offset = 1) =>
    classification()
      ? right
        ? prediction
        : classes().find((name) => name !== prediction)!
      : (prediction as number) + (right ? 0 : offset);

  it('joins a label with its prediction, then refuses a second label for it (409) and answers 404 for an unknown id', async () => {
    const [first] = await predictions(1, 'single');
    const joined = await request(app)
      .post('/feedback')
      .send({ [idField()]: first!.id, [target()]: label(first!.prediction, true) })
      .expect(200);
    assert.equal(joined.body.status, 'joined');
    assert.equal(joined.body[idField()], first!.id);
    assert.equal(joined.body.prediction, first!.prediction);
    assert.equal(joined.body.source, 'memory');
    if (classification()) assert.equal(joined.body.correct, true);
    else assert.equal(joined.body.error, 0);

    const again = await request(app)
      .post('/feedback')
      .send({ [idField()]: first!.id, [target()]: label(first!.prediction, true) })
      .expect(409);
    assert.equal(again.body.error, 'already_labelled');

    const unknown = await request(app)
      .post('/feedback')
      .send({ [idField()]: 'never-predicted', [target()]: label(first!.prediction, true) })
      .expect(404);
    assert.equal(unknown.body.error, 'unknown_id');
    assert.equal(unknown.body[idField()], 'never-predicted');
    assert.match(unknown.body.message, /keeps the last 100 predictions in memory/);
  });

  it('validates the body like /predict: 422 naming each field, the class checked against the model', async () => {
    const bad = await request(app)
      .post('/feedback')
      .send({ [target()]: classification() ? 'no-such-class' : 'not-a-number', surprise: 1 })
      .expect(422);
    assert.equal(bad.body.error, 'validation_failed');
    const fields = (bad.body.issues as { field: string; message: string }[]).map((issue) => issue.field).sort();
    assert.deepEqual(fields, [idField(), target(), 'surprise'].sort());
    const targetIssue = bad.body.issues.find((issue: { field: string }) => issue.field === target());
    if (classification()) assert.match(targetIssue.message, new RegExp(`one of the model's classes.*${JSON.stringify(classes()[0])}`));
    const missingId = bad.body.issues.find((issue: { field: string }) => issue.field === idField());
    assert.match(missingId.message, /required/);
    if (!classification()) {
      // JSON has no Infinity; the largest finite number is fine, a string is not.
      await request(app)
        .post('/feedback')
        .send({ [idField()]: 'x', [target()]: '1.5' })
        .expect(422);
    }
    const batch = await request(app)
      .post('/feedback/batch')
      .send({ rows: [{ [idField()]: 'a' }] })
      .expect(422);
    assert.equal(batch.body.issues[0].field, `rows[0].${target()}`);
  });

  it('answers a batch with a result per label, in order: 200 when any joined, 404 when none did', async () => {
    const made = await predictions(3, 'batch');
    const res = await request(app)
      .post('/feedback/batch')
      .send({
        rows: [
          { [idField()]: made[0]!.id, [target()]: label(made[0]!.prediction, true) },
          { [idField()]: 'unknown-1', [target()]: label(made[0]!.prediction, true) },
          { [idField()]: made[1]!.id, [target()]: label(made[1]!.prediction, false) },
          { [idField()]: made[1]!.id, [target()]: label(made[1]!.prediction, true) },
        ],
      })
      .expect(200);
    assert.deepEqual(
      res.body.results.map((result: Record<string, unknown>) => [result[idField()], result.status]),
      [
        [made[0]!.id, 'joined'],
        ['unknown-1', 'unknown_id'],
        [made[1]!.id, 'joined'],
        [made[1]!.id, 'already_labelled'],
      ],
    );
    assert.deepEqual([res.body.joined, res.body.unknown_id, res.body.already_labelled], [2, 1, 1]);
    const none = await request(app)
      .post('/feedback/batch')
      .send({ rows: [{ [idField()]: 'unknown-2', [target()]: label(made[2]!.prediction, true) }] })
      .expect(404);
    assert.equal(none.body.error, 'no_match');
    assert.equal(none.body.results[0].status, 'unknown_id');
  });

  it('keeps the live metric over the last feedback_window_size labels, absent below feedback_min_labels, with its threshold', async () => {
    const made = await predictions(60, 'live');
    const send = (from: number, to: number, right: (i: number) => boolean) =>
      request(app)
        .post('/feedback/batch')
        .send({ rows: made.slice(from, to).map((p, i) => ({ [idField()]: p.id, [target()]: label(p.prediction, right(from + i), 2) })) })
        .expect(200);

    await send(0, 9, () => true);
    let live = (await request(app).get('/monitoring').expect(200)).body.live;
    assert.equal(live.window.labels, 9);
    assert.deepEqual(Object.values(live.metrics), classification() ? [null] : [null, null], 'no metric below min labels');
    assert.deepEqual(samples((await request(app).get('/metrics')).text, 'ml_live_metric'), []);

    // 60 labels into a window of 40: the first 20 (all right) leave it; of the last 40, every other one is wrong.
    await send(9, 20, () => true);
    await send(20, 60, (i) => i % 2 === 0);
    live = (await request(app).get('/monitoring').expect(200)).body.live;
    assert.equal(live.window.labels, 40);
    const metrics = samples((await request(app).get('/metrics')).text, 'ml_live_metric');
    const value = (metric: string) => metrics.find(({ labels }) => labels.metric === metric)?.value;
    if (classification()) {
      assert.equal(live.metrics.accuracy, 0.5);
      assert.equal(value('accuracy'), 0.5);
      assert.deepEqual(live.thresholds, { accuracy: { min: 0.8 } });
      assert.deepEqual(live.breached, ['accuracy']);
    } else {
      // Errors of 0 and 2, half each: RMSE √2, MAE 1.
      assert.ok(Math.abs(live.metrics.rmse - Math.SQRT2) < 1e-9, `rmse ${live.metrics.rmse}`);
      assert.ok(Math.abs(live.metrics.mae - 1) < 1e-9, `mae ${live.metrics.mae}`);
      assert.ok(Math.abs(value('rmse')! - Math.SQRT2) < 1e-9);
      assert.deepEqual(live.thresholds, { rmse: { max: 0.5 }, mae: { max: 2 } });
      assert.deepEqual(live.breached, ['rmse']);
    }
    const text = (await request(app).get('/metrics')).text;
    assert.deepEqual(samples(text, 'ml_feedback_window_labels'), [{ labels: {}, value: 40 }]);
    assert.deepEqual(samples(text, 'ml_feedback_total'), [{ labels: { outcome: 'joined' }, value: 60 }]);
    const bound = classification() ? 'ml_live_metric_min' : 'ml_live_metric_max';
    assert.ok(samples(text, bound).length > 0, `${bound} is exported for the alert rules`);
  });

  it('forgets the oldest predictions beyond prediction_store_size', async () => {
    const made = await predictions(120, 'store');
    const answer = await request(app)
      .post('/feedback/batch')
      .send({
        rows: [made[0]!, made[19]!, made[20]!, made[119]!].map((p) => ({ [idField()]: p.id, [target()]: label(p.prediction, true) })),
      })
      .expect(200);
    assert.deepEqual(
      answer.body.results.map((result: { status: string }) => result.status),
      ['unknown_id', 'unknown_id', 'joined', 'joined'],
    );
    assert.equal((await request(app).get('/monitoring')).body.live.prediction_store.size, 100);
  });

  it('the prediction store keeps the newest predictions; a reused id counts as new', () => {
    const store = new PredictionStore(3);
    for (const id of ['a', 'b', 'c']) store.add(id, id);
    store.add('a', 'a again');
    store.add('d', 'd');
    assert.deepEqual(
      ['a', 'b', 'c', 'd'].map((id) => store.get(id)),
      ['a again', undefined, 'c', 'd'],
    );
    for (let i = 0; i < 10; i++) store.add(i, i);
    assert.equal(store.size, 3);
    assert.deepEqual(
      [7, 8, 9, 'a'].map((id) => store.get(id)),
      [7, 8, 9, undefined],
    );
  });

  it('the prediction store keeps the newest predictions under ids it made up, without a map entry each', () => {
    const made = new IdSequence();
    const store = new PredictionStore(3, made);
    // Each row's id made as it is answered, then stored.
    const ids = Array.from({ length: 5 }, (_, i) => {
      const id = made.next();
      store.add(id, `p${i}`);
      return id;
    });
    assert.ok(
      ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)),
      ids.join(),
    );
    assert.deepEqual(
      ids.map((id) => store.get(id)),
      [undefined, undefined, 'p2', 'p3', 'p4'],
    );
    assert.equal(store.size, 3);
    // An id sent back later is kept by key once it is older than the ring: it evicts nothing newer.
    store.add(ids[0], 'again');
    assert.deepEqual(
      ids.map((id) => store.get(id)),
      ['again', undefined, 'p2', 'p3', 'p4'],
    );
    // Ids that only look made up (another sequence's, upper case, not made yet) are callers' ids like any other.
    const lookalikes = [new IdSequence().next(), ids[4]!.toUpperCase(), ids[4]!.replace(/.{12}$/, '0000000000ff')];
    lookalikes.forEach((id, i) => store.add(id, `l${i}`));
    assert.deepEqual(
      lookalikes.map((id) => store.get(id)),
      ['l0', 'l1', 'l2'],
    );
    assert.deepEqual(
      ids.map((id) => store.get(id)),
      [undefined, undefined, 'p2', 'p3', 'p4'],
    );
    assert.equal(store.size, 6);
  });

  it('keeps a batch whose ids were all made up (a block) as it keeps the same ids added one by one', () => {
    const sequence = new IdSequence();
    const byBlock = new PredictionStore(4, sequence);
    const oneByOne = new PredictionStore(4, sequence);
    sequence.next(); // the block does not start at 0
    const block = sequence.block(6);
    const predictions = ['a', 'b', 'c', 'd', 'e', 'f'];
    byBlock.addMade(block, predictions);
    block.ids.forEach((id, r) => oneByOne.add(id, predictions[r]!));
    assert.equal(block.ids.length, 6);
    assert.equal(new Set(block.ids).size, 6);
    assert.equal(sequence.numberOf(block.ids[0]), 1);
    // The block is larger than the ring: its first two ids are kept by key, the last four by number.
    assert.deepEqual(
      block.ids.map((id) => byBlock.get(id)),
      predictions,
    );
    assert.deepEqual(
      block.ids.map((id) => byBlock.get(id)),
      block.ids.map((id) => oneByOne.get(id)),
    );
    assert.equal(byBlock.size, oneByOne.size);
    // Another sequence's block (ids only this store's sequence did not make) is kept by key.
    const other = new IdSequence().block(2);
    byBlock.addMade(other, ['x', 'y']);
    assert.deepEqual(
      other.ids.map((id) => byBlock.get(id)),
      ['x', 'y'],
    );
  });

  it('is documented in the OpenAPI document (and so in /docs) with the body schema built from config.yaml', async () => {
    const { body: openApi } = await request(app).get('/openapi.json').expect(200);
    for (const path of ['/feedback', '/feedback/batch', '/monitoring', '/metrics']) assert.ok(openApi.paths[path], path);
    const feedback = openApi.components.schemas.FeedbackRequest;
    assert.deepEqual([...feedback.required].sort(), [idField(), target()].sort());
    assert.equal(feedback.properties[target()].type, classification() ? 'string' : 'number');
    assert.equal(feedback.additionalProperties, false);
    assert.deepEqual(openApi.paths['/feedback'].post.requestBody.content['application/json'].schema, {
      $ref: '#/components/schemas/FeedbackRequest',
    });
  });

  it('answers 503 while the model is loading', async () => {
    const loading = createApp({ spec, model: {}, onError: () => {} });
    const res = await request(loading)
      .post('/feedback')
      .send({ [idField()]: 'a', [target()]: classification() ? classes()[0] : 1 })
      .expect(503);
    assert.equal(res.body.error, 'not_ready');
  });

  describe('with the MongoDB prediction log', () => {
    let mongo: MongoTestServer;
    const servers: RunningServer[] = [];

    before(async () => {
      mongo = await MongoTestServer.start();
    });
    after(async () => {
      for (const server of servers) await server.close();
      await mongo.stop();
    });

    const start = async () => {
      const settings = logSettings(
        spec,
        { sinks: ['mongodb'], flush_interval_ms: 20, mongodb: { timeout_ms: 500 } },
        { MONGODB_URL: mongo.url, MONGODB_DB: 'logs' },
      );
      const running = await startLoggingServer(spec, project.modelDir, settings);
      servers.push(running);
      return running;
    };

    it('joins a label for a prediction another replica made, found in the prediction log', async () => {
      const [replicaA, replicaB] = [await start(), await start()];
      const row = { ...exampleRow(spec.features.features), [idField()]: 'from-replica-a' };
      const predicted = await answerOf(
        await fetch(`${replicaA.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(row),
        }),
      );
      await until(
        'logged',
        () => replicaA.predictionLog.stats().sinks.mongodb!.sent,
        (sent) => sent === 1,
      );

      const post = (body: unknown) =>
        fetch(`${replicaB.url}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const joined = await post({ [idField()]: 'from-replica-a', [target()]: label(predicted.prediction, false) });
      const answer = await answerOf(joined);
      assert.equal(joined.status, 200, JSON.stringify(answer));
      assert.equal(answer.source, 'prediction_log');
      assert.equal(answer.prediction, predicted.prediction);
      if (classification()) assert.equal(answer.correct, false);
      assert.ok(mongo.commands.includes('find'), 'looked up with find');

      const unknown = await post({ [idField()]: 'nowhere', [target()]: label(predicted.prediction, true) });
      assert.equal(unknown.status, 404);
      assert.match((await answerOf(unknown)).message!, /looked in the prediction log \(MongoDB logs\.predictions\)/);
    });

    it('answers 503 lookup_failed, not 404, when the prediction log cannot be read', async () => {
      const replica = await start();
      await mongo.stop();
      try {
        const res = await fetch(`${replica.url}/feedback`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ [idField()]: 'while-down', [target()]: classification() ? classes()[0] : 1 }),
        });
        assert.equal(res.status, 503);
        assert.equal((await answerOf(res)).error, 'lookup_failed');
      } finally {
        await mongo.restart();
      }
    });
  });
});
