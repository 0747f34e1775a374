// The runtime's data plane (src/runtime/predictions.ts): it times the model call itself, writes the answer, and
// publishes one prediction event per answered request; an observer that throws fails neither the request nor the
// other observers.
import assert from 'node:assert/strict';
import { exampleRow, FeatureTable, type FeatureValues } from '../../src/contract/index.js';
import { modelIdentity } from '../../src/model/modelIdentity.js';
import { Predictions, type ModelCall, type PredictionEvent, type PredictionRequest } from '../../src/runtime/predictions.js';
import { Preprocessor } from '../../src/model/preprocessor.js';
import { ModelLoadError, OnnxPredictor, type Predictor } from '../../src/runtime/predictor.js';
import { trainedProject, type TrainedProject } from '../support/trainedModel.js';
import { jsonText } from '../../src/runtime/wireFormat.js';

describe('runtime predictions', () => {
  let project: TrainedProject;
  let predictor: OnnxPredictor;
  before(async () => {
    project = await trainedProject();
    predictor = await OnnxPredictor.load(project.modelDir, project.spec);
  });

  /** A runtime whose first observer always throws and whose second records what it is told. */
  function observed() {
    const { config, features } = project.spec;
    const errors: [unknown, string][] = [];
    const predictions = new Predictions({
      idField: config.id_field,
      featureNames: features.features.map((feature) => feature.name),
      apiVersion: config.version,
      onError: (error, requestId) => errors.push([error, requestId]),
    });
    const calls: ModelCall[] = [];
    const events: PredictionEvent[] = [];
    const fail = () => {
      throw new Error('observer failed');
    };
    predictions.subscribe({ modelCall: fail, prediction: fail });
    predictions.subscribe({ modelCall: (call) => calls.push(call), prediction: (event) => events.push(event) });
    return { predictions, errors, calls, events };
  }

  const request = (served: Predictor, count: number, batch: boolean): PredictionRequest => ({
    predictor: served,
    rows: Array.from({ length: count }, () => exampleRow(project.spec.features.features)),
    ids: Array.from({ length: count }, (_, i) => `r-${i}`),
    batch,
    route: batch ? '/predict/batch' : '/predict',
    requestId: 'request-1',
    startedAt: performance.now(),
  });

  it('answers, times the model call, and publishes one event once told the answer is sent', async () => {
    const { predictions, errors, calls, events } = observed();
    const asked = request(predictor, 3, true);
    const answer = await predictions.predict(asked);
    const idField = project.spec.config.id_field;
    const body = JSON.parse(jsonText(answer.json)) as { predictions: Record<string, unknown>[]; model: unknown; api_version: string };
    assert.deepEqual(
      body.predictions.map((row) => row[idField]),
      ['r-0', 'r-1', 'r-2'],
    );
    assert.deepEqual(body.model, modelIdentity(predictor));
    assert.equal(calls.length, 1);
    assert.deepEqual(
      { ...calls[0], seconds: undefined },
      { predictor, route: '/predict/batch', batch: true, rows: 3, seconds: undefined, failed: false, error: undefined },
    );
    assert.ok(calls[0]!.seconds >= 0);
    assert.equal(events.length, 0, 'nothing is published before the answer is sent');

    answer.publish();
    assert.equal(events.length, 1);
    const [event] = events;
    assert.equal(event!.predictor, predictor);
    assert.deepEqual(event!.ids, asked.ids);
    assert.deepEqual(event!.rows, asked.rows);
    assert.deepEqual(event!.model, modelIdentity(predictor));
    assert.deepEqual(
      event!.answers.map((json) => JSON.parse(json) as unknown),
      body.predictions,
    );
    assert.deepEqual(
      event!.results.map((result, i) => ({ [idField]: asked.ids[i], ...result })),
      body.predictions,
    );
    assert.ok(event!.latencyMs >= 0);
    assert.deepEqual(
      errors.map(([error, requestId]) => [(error as Error).message, requestId]),
      [
        ['observer failed', 'request-1'],
        ['observer failed', 'request-1'],
      ],
    );
  });

  it('answers a batch from the model outputs byte for byte as predict() does, and publishes the same event', async () => {
    const { config, features } = project.spec;
    const idField = config.id_field;
    // Rows as the batch path gets them: the request's own, the id field among the features.
    const rows = Array.from({ length: 50 }, (_, i) => {
      const row: Record<string, unknown> = { [idField]: `r-${i}`, ...exampleRow(features.features) };
      for (const feature of features.features) if (feature.type === 'number') row[feature.name] = (feature.min ?? 0) + i / 7;
      return row as FeatureValues;
    });
    const ids = rows.map((row) => row[idField]);
    const asked = { predictor, ids, route: '/predict/batch', requestId: 'request-1', startedAt: performance.now() };
    const table = FeatureTable.fromRows(
      features.features.map((feature) => feature.name),
      rows,
    );
    const byRows = observed();
    const byColumns = observed();
    const expected = await byRows.predictions.predict({ ...asked, rows, batch: true });
    const answer = await byColumns.predictions.predictBatch({ ...asked, table });
    assert.equal(jsonText(answer.json), jsonText(expected.json));
    // A predictor that gives no outputs (a test double, a custom wrapper) is answered by predict(), alike.
    const rowsOnly: Predictor = {
      metadata: predictor.metadata,
      modelDir: predictor.modelDir,
      predict: (batch) => predictor.predict(batch),
    };
    assert.equal(
      jsonText((await observed().predictions.predictBatch({ ...asked, table, predictor: rowsOnly })).json),
      jsonText(expected.json),
    );

    expected.publish();
    answer.publish();
    const [want] = byRows.events;
    const [got] = byColumns.events;
    assert.deepEqual(
      byColumns.calls.map((call) => ({ ...call, seconds: 0 })),
      byRows.calls.map((call) => ({ ...call, seconds: 0 })),
    );
    for (const key of ['ids', 'rows', 'answers', 'results', 'model', 'batch', 'route'] as const)
      assert.deepEqual(got![key], want![key], key);
    assert.deepEqual(Array.from(got!.predictions), Array.from(want!.predictions));
    assert.deepEqual(
      Array.from(want!.predictions),
      want!.results.map((result) => result.prediction),
    );
  });

  it("refuses a model whose preprocessor's transformInto() does not write what its transform() gives", async () => {
    const original = Preprocessor.prototype.transformInto;
    // A project that changed transform() and forgot transformInto(): here, transformInto() is off by one.
    Preprocessor.prototype.transformInto = function (batch, out) {
      original.call(this, batch, out);
      out[0] = out[0]! + 1;
    };
    try {
      await assert.rejects(
        OnnxPredictor.load(project.modelDir, project.spec),
        (error: unknown) =>
          error instanceof ModelLoadError && /transformInto\(\) does not write what transform\(\) gives/.test(error.message),
      );
    } finally {
      Preprocessor.prototype.transformInto = original;
    }
  });

  it('reports a failed model call to the observers and fails the request with its error, publishing nothing', async () => {
    const { predictions, calls, events } = observed();
    const broken: Predictor = {
      metadata: predictor.metadata,
      modelDir: predictor.modelDir,
      predict: () => Promise.reject(new Error('the model failed')),
    };
    await assert.rejects(predictions.predict(request(broken, 1, false)), /the model failed/);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.failed, true);
    assert.match((calls[0]!.error as Error).message, /the model failed/);
    assert.equal(events.length, 0);
  });
});
