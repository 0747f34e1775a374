// The wire format (src/runtime/wireFormat.ts): every answer and log line is spliced from JSON already made, and
// must be exactly what JSON.stringify writes for the object it stands for.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PREDICTION_RECORD_KEYS } from '../../src/contract/index.js';
import { loggedPredictions } from '../../src/predictionLog/record.js';
import { predictionsOf } from '../../src/runtime/predictor.js';
import {
  batchAnswerJson,
  outputAnswersJson,
  outputBatchAnswerJson,
  predictAnswerJson,
  predictionLine,
  predictionRecord,
  rowAnswerJson,
  type AnsweredPredictions,
} from '../../src/runtime/wireFormat.js';

describe('wire format', () => {
  const identifier = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/).filter((name) => name !== '__proto__'); // the spec's rule
  const number = fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.double({ min: 0, max: 1, noNaN: true }).map(Math.fround),
  );
  const result = fc.oneof(
    fc.record({
      prediction: fc.string(),
      probabilities: fc.dictionary(fc.string(), fc.double({ min: 0, max: 1, noNaN: true }).map(Math.fround)),
    }),
    fc.record({ prediction: number }),
  );
  /**
   * One request's predictions: any id field, feature names, ids, feature values (each row made as the handler
   * makes it: the names in order, those without a value left out), results, model identity, latency and role.
   */
  const answered: fc.Arbitrary<AnsweredPredictions> = fc
    .record({
      idField: identifier.filter((name) => !PREDICTION_RECORD_KEYS.includes(name)),
      featureNames: fc.uniqueArray(identifier, { maxLength: 8 }),
      rows: fc.array(
        fc.record({
          id: fc.oneof(fc.string(), fc.integer(), fc.uuid()),
          values: fc.array(fc.option(fc.oneof(number, fc.string(), fc.boolean()), { nil: undefined }), { minLength: 8, maxLength: 8 }),
          result,
        }),
        { minLength: 1, maxLength: 5 },
      ),
      model: fc.record({
        uuid: fc.uuid(),
        version: fc.string(),
        created_at: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      }),
      apiVersion: fc.string(),
      latencyMs: fc.double({ min: 0, max: 1e7, noNaN: true }),
      role: fc.option(fc.constant('shadow' as const), { nil: undefined }), // a shadow model's records say so
      withAnswers: fc.boolean(),
    })
    .map(({ idField, featureNames, rows, withAnswers, ...rest }) => ({
      idField,
      featureNames,
      ids: rows.map((row) => row.id),
      rows: rows.map(({ values }) => {
        const features: Record<string, unknown> = {};
        featureNames.forEach((name, i) => {
          if (values[i] !== undefined) features[name] = values[i];
        });
        return features;
      }),
      results: rows.map((row) => row.result),
      ...(withAnswers ? { answers: rows.map((row) => rowAnswerJson(idField, row.id, row.result)) } : {}),
      ...rest,
    }));

  it('answers a row as JSON.stringify writes {id, ...result}', () => {
    fc.assert(
      fc.property(identifier, fc.oneof(fc.string(), fc.integer()), result, (idField, id, row) => {
        assert.equal(rowAnswerJson(idField, id, row), JSON.stringify({ [idField]: id, ...row }));
      }),
    );
  });

  it("writes a batch's answers from the model's outputs as rowAnswerJson writes each row's Prediction", () => {
    const score = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(NaN, Infinity, -0, 1e-7, 0.1 + 0.2));
    const outputs = fc.oneof(
      // Classification: any class names, integer-like ones too (JSON puts those first), scores as float32 or float64.
      fc.record({
        classes: fc.uniqueArray(fc.oneof(fc.string(), fc.nat({ max: 20 }).map(String)), { minLength: 1, maxLength: 5 }),
        float32: fc.boolean(),
        rows: fc.nat({ max: 6 }),
        seed: fc.array(score, { minLength: 30, maxLength: 30 }),
      }),
      fc.record({
        classes: fc.constant(undefined),
        float32: fc.boolean(),
        rows: fc.nat({ max: 6 }),
        seed: fc.array(score, { minLength: 6, maxLength: 6 }),
      }),
    );
    fc.assert(
      fc.property(
        identifier,
        outputs,
        fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(undefined)), { minLength: 6, maxLength: 6 }),
        fc.record({ uuid: fc.uuid(), version: fc.string(), created_at: fc.constant('2026-01-01T00:00:00.000Z') }),
        fc.string(),
        (idField, { classes, float32, rows, seed }, ids, model, apiVersion) => {
          const width = classes ? classes.length : 1;
          const values = seed.slice(0, rows * width);
          const scores = float32 ? Float32Array.from(values) : Float64Array.from(values);
          const metadata = classes ? { task: 'classification' as const, classes } : { task: 'regression' as const, classes: [] };
          const expected = predictionsOf(metadata, { rows, scores }).map((prediction, r) => rowAnswerJson(idField, ids[r], prediction));
          // (rowAnswerJson is JSON.stringify's text, as the test above holds.)
          assert.deepEqual(outputAnswersJson(idField, ids, { rows, scores }, classes), expected);
          assert.equal(
            outputBatchAnswerJson(idField, ids, { rows, scores }, classes, model, apiVersion).join(''),
            batchAnswerJson(expected, model, apiVersion),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('writes a long batch answer in pieces of 100 rows, none of them a large string, that join to the whole', () => {
    const classes = ['setosa', 'versicolor', 'virginica'];
    const rows = 1000;
    const scores = Float32Array.from({ length: rows * classes.length }, (_, i) => ((i * 7919) % 1000) / 1000);
    const ids = Array.from({ length: rows }, (_, r) => `row-${r}`);
    const model = {
      uuid: '1680f54b-9085-4426-b348-f5f783a78db8',
      version: '20261206T163820Z-1680f54b',
      created_at: '2026-12-06T16:38:20.100Z',
    };
    const pieces = outputBatchAnswerJson('request_id', ids, { rows, scores }, classes, model, '1.0.0');
    assert.equal(pieces.length, 11);
    // V8 keeps a string over 128 KiB in its large-object space: the pieces stay far below it.
    assert.ok(pieces.every((piece) => piece.length < 32_768));
    const expected = predictionsOf({ task: 'classification', classes }, { rows, scores }).map((prediction, r) =>
      rowAnswerJson('request_id', ids[r], prediction),
    );
    assert.equal(pieces.join(''), batchAnswerJson(expected, model, '1.0.0'));
  });

  it('answers POST /predict as JSON.stringify writes {id, ...result, model, api_version}', () => {
    fc.assert(
      fc.property(answered, ({ idField, ids, results, model, apiVersion }) => {
        const answer = predictAnswerJson(rowAnswerJson(idField, ids[0], results[0]!), model, apiVersion);
        assert.equal(answer, JSON.stringify({ [idField]: ids[0], ...results[0], model, api_version: apiVersion }));
      }),
    );
  });

  it('answers POST /predict/batch as JSON.stringify writes {predictions: [{id, ...result}, …], model, api_version}', () => {
    fc.assert(
      fc.property(answered, ({ idField, ids, results, model, apiVersion }) => {
        const rows = results.map((result, i) => rowAnswerJson(idField, ids[i], result));
        const predictions = results.map((result, i) => ({ [idField]: ids[i], ...result }));
        assert.equal(batchAnswerJson(rows, model, apiVersion), JSON.stringify({ predictions, model, api_version: apiVersion }));
      }),
    );
  });

  it('writes each JSON line exactly as JSON.stringify writes the record', () => {
    fc.assert(
      fc.property(answered, (predictions) => {
        const logged = loggedPredictions(predictions);
        const records = logged.map(predictionRecord);
        assert.deepEqual(
          logged.map(predictionLine),
          records.map((record) => `${JSON.stringify(record)}\n`),
        );
        records.forEach((record, row) => {
          assert.equal(record[predictions.idField], predictions.ids[row]);
          assert.deepEqual(
            Object.keys(record).filter((key) => key !== predictions.idField && !PREDICTION_RECORD_KEYS.includes(key)),
            [],
          );
        });
      }),
      { numRuns: 500 },
    );
  });
});
