// The V2 infer route's quick paths, held to the slow ones they stand in for: the envelope check without zod
// (acceptInferenceRequest) against inferenceRequestSchema, the tensors checked a column at a time against
// /predict's batch schema, and the answer written from the model's outputs against the one written from
// Prediction objects. On a spec with every feature type, optional ones and defaults (test/support/clinicFeatures.ts).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildRequestSchemas, configFileSchema } from '../../src/contract/index.js';
import { clinicFeatures } from '../support/clinicFeatures.js';
import { acceptInferenceRequest, DATATYPES, inferenceRequestSchema, type InferenceRequest } from '../../src/http/openInference/protocol.js';
import { TensorCodec } from '../../src/http/openInference/tensors.js';
import { idList } from '../../src/runtime/uniqueIds.js';
import { predictionsOf } from '../../src/runtime/predictor.js';

const features = clinicFeatures;
const config = configFileSchema.parse({
  name: 'clinic',
  version: '1.0.0',
  task: 'classification',
  target: 'outcome',
  id_field: 'request_id',
  data: { path: 'data/clinic.csv' },
  server: { max_batch_rows: 10 },
});
const spec = { features, config };
const schemas = buildRequestSchemas(features, config);
const codec = new TensorCodec(spec, schemas);

describe('Open Inference Protocol (V2) tensors', () => {
  it('checks the envelope without zod exactly as inferenceRequestSchema does', () => {
    const odd = fc.constantFrom(null, 1, 'x', [], {}, true);
    /** Mostly `valid`, sometimes a value of another JSON type. */
    const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 30, arbitrary: valid }, odd);
    const parameters = fc.option(fc.oneof({ weight: 20, arbitrary: fc.constantFrom({ explain: true }, {}) }, odd), { nil: undefined });
    const shape = fc.oneof(
      { weight: 30, arbitrary: fc.array(fc.nat({ max: 4 }), { minLength: 1, maxLength: 2 }) },
      fc.array(fc.constantFrom(0, 3, -1, 1.5, 2 ** 53, NaN, '2'), { maxLength: 10 }),
      odd,
    );
    const input = mostly(
      fc.record(
        {
          name: mostly(fc.constantFrom('age', 'x')),
          shape,
          datatype: fc.oneof({ weight: 30, arbitrary: fc.constantFrom(...DATATYPES) }, fc.constantFrom('FP99', 'fp32', 1)),
          parameters,
          data: mostly(fc.array(fc.oneof(fc.integer(), fc.string(), fc.constant(null)))),
        },
        { requiredKeys: ['name', 'datatype'] },
      ),
    );
    const output = mostly(fc.record({ name: mostly(fc.string()), parameters }, { requiredKeys: [] }));
    const body = mostly(
      fc.record(
        {
          id: fc.oneof({ weight: 20, arbitrary: fc.string({ maxLength: 8 }) }, fc.constantFrom('x'.repeat(200), 'x'.repeat(201), 7, null)),
          parameters,
          inputs: mostly(fc.array(input, { maxLength: 3 })),
          outputs: mostly(fc.array(output, { maxLength: 2 })),
          extra: fc.anything(),
        },
        { requiredKeys: ['inputs'] },
      ),
    );
    let accepted = 0;
    fc.assert(
      fc.property(body, (generated) => {
        const parsed = inferenceRequestSchema.safeParse(generated);
        const checked = acceptInferenceRequest(generated);
        assert.equal(
          checked !== undefined,
          parsed.success,
          parsed.success ? 'the quick check refuses a valid body' : 'the quick check accepts an invalid body',
        );
        if (checked) accepted++;
      }),
      { numRuns: 4000 },
    );
    assert.ok(accepted > 400, `only ${accepted} valid bodies were generated`);
  });

  it('takes exactly the tensors whose values /predict/batch takes, with its values (one input per feature)', () => {
    // Values of each tensor type, around each feature's rules; null is a missing value.
    const numbers = fc.oneof(
      fc.constantFrom(0, -1, 120, 121, 10.5, 10.4999, 60, 60.0001, 2 ** 53, 1e300, null),
      fc.integer({ min: -5, max: 130 }),
      fc.double({ min: 0, max: 130, noNaN: true }),
    );
    const strings = fc.oneof(
      fc.constantFrom('north', 'south', '1', 'basic', 'gold', 'east', '', 'x'.repeat(10_001), null),
      fc.string({ maxLength: 4 }),
    );
    // Mostly values the feature takes, so that many requests are valid; the rest around its rules.
    const column = (datatype: string, valid: fc.Arbitrary<unknown>, other: fc.Arbitrary<unknown>) => ({
      datatype,
      values: fc.oneof({ weight: 40, arbitrary: valid }, other),
    });
    const columns = {
      age: fc.constantFrom(
        column('INT64', fc.integer({ min: 0, max: 120 }), numbers),
        column('FP64', fc.integer({ min: 0, max: 120 }), numbers),
        column('INT32', fc.integer({ min: 0, max: 120 }), fc.integer({ min: -1, max: 121 })),
      ),
      bmi: fc.constant(column('FP32', fc.oneof(fc.double({ min: 10.5, max: 60, noNaN: true }), fc.constant(null)), numbers)),
      smoker: fc.constant(column('BOOL', fc.oneof(fc.boolean(), fc.constant(null)), fc.constant(null))),
      region: fc.constant(column('BYTES', fc.constantFrom('north', 'south', '1'), strings)),
      plan: fc.constant(column('BYTES', fc.constantFrom('basic', 'gold', null), strings)),
      note: fc.constant(column('BYTES', fc.oneof(fc.string({ maxLength: 6 }), fc.constant(null)), strings)),
      children: fc.constant(column('INT64', fc.oneof(fc.integer({ min: 0, max: 10 }), fc.constant(null)), numbers)),
      request_id: fc.constant(column('BYTES', fc.string({ minLength: 1, maxLength: 6 }), fc.constantFrom('', 'x'.repeat(201), null))),
    };
    // The required inputs always, each optional one (and the ids) or not: a left-out input is a missing value.
    const request = fc
      .tuple(fc.integer({ min: 1, max: 4 }), fc.record(columns, { requiredKeys: ['age', 'region'] }))
      .chain(([rows, chosen]) =>
        fc.tuple(
          fc.constant(rows),
          fc.tuple(
            ...Object.entries(chosen).map(([name, { datatype, values }]) =>
              fc.array(values, { minLength: rows, maxLength: rows }).map((data) => ({ name, shape: [rows], datatype, data })),
            ),
          ),
        ),
      );
    let accepted = 0;
    fc.assert(
      fc.property(request, ([rowCount, inputs]) => {
        const decoded = codec.decode({ inputs } as InferenceRequest);
        const rows = Array.from({ length: rowCount }, (_, r) => {
          const row: Record<string, unknown> = {};
          for (const input of inputs) row[input.name] = input.data[r];
          return row;
        });
        const parsed = schemas.batchRequest.safeParse({ rows });
        assert.equal('request' in decoded, parsed.success, JSON.stringify(inputs));
        if (!('request' in decoded) || !parsed.success) return;
        accepted++;
        parsed.data.rows.forEach((row, r) => {
          for (const { name } of features.features)
            assert.deepEqual(decoded.request.table.column(name)[r], row[name], `rows[${r}].${name}`);
          if (row.request_id !== undefined) assert.equal(idList(decoded.request.ids)[r], row.request_id);
        });
      }),
      { numRuns: 3000 },
    );
    assert.ok(accepted > 200, `only ${accepted} valid requests were generated`);
  });

  it('writes the answer from the model outputs byte for byte as from Prediction objects', () => {
    const model = { version: '20260101T000000Z-0a1b2c3d', uuid: 'u', created_at: '2026-01-01T00:00:00Z' };
    const outputNames = fc
      .subarray(['prediction', 'probabilities', 'request_id'])
      .chain((names) => fc.shuffledSubarray(names, { minLength: names.length }));
    const answered = fc.integer({ min: 0, max: 5 }).chain((rows) =>
      fc
        .tuple(
          fc.constantFrom(['no', 'yes'], ['b', 'a', 'c'], ['1', '0'], ['say "hi"', 'ünï']),
          fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { minLength: rows, maxLength: rows }),
          fc.boolean(),
          outputNames,
        )
        .chain(([classes, ids, float32, outputs]) =>
          fc
            .array(fc.oneof(fc.double({ min: 0, max: 1 }), fc.constantFrom(0.5, NaN, 1 / 3)), {
              minLength: rows * classes.length,
              maxLength: rows * classes.length,
            })
            .map((scores) => ({ rows, classes, ids, outputs, scores: float32 ? Float32Array.from(scores) : Float64Array.from(scores) })),
        ),
    );
    fc.assert(
      fc.property(answered, ({ rows, classes, ids, outputs, scores }) => {
        const results = predictionsOf({ task: 'classification', classes: [...classes] }, { rows, scores });
        const asked = { id: 'req-1', outputs, classes };
        assert.equal(codec.outputsJson({ outputs: { rows, scores }, ids, model }, asked), codec.answerJson({ results, ids, model }, asked));
      }),
      { numRuns: 1000 },
    );
    // Regression: the value, FP64.
    const regression = new TensorCodec({ features, config: { ...config, task: 'regression' } }, schemas);
    const scores = Float64Array.from([1.5, -2, NaN, 1e21]);
    const results = predictionsOf({ task: 'regression', classes: [] }, { rows: 4, scores });
    const ids = ['a', 'b', 3, 'd'];
    const asked = { id: 'r', outputs: ['prediction', 'request_id'], classes: [] };
    const json = regression.outputsJson({ outputs: { rows: 4, scores }, ids, model }, asked);
    assert.equal(json, regression.answerJson({ results, ids, model }, asked));
    assert.deepEqual((JSON.parse(json) as { outputs: { data: unknown[] }[] }).outputs[0]!.data, [1.5, -2, null, 1e21]);
  });
});
