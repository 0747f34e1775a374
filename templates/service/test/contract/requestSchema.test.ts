// The request schema built from features.yaml: what counts as missing, and what a malformed batch is told; and
// the batch's check by columns, which must accept exactly what the schema accepts, with the schema's values.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildRequestSchemas, configFileSchema, featuresFileSchema } from '../../src/contract/index.js';
import { clinicFeatures } from '../support/clinicFeatures.js';

const features = featuresFileSchema.parse({
  features: [
    { name: 'age', type: 'integer' },
    { name: 'bmi', type: 'number', required: false },
    { name: 'smoker', type: 'boolean', required: false, default: false },
  ],
});
const configFile = {
  name: 'clinic',
  version: '1.0.0',
  task: 'regression',
  target: 'cost',
  id_field: 'request_id',
  data: { path: 'data/clinic.csv' },
};
const config = configFileSchema.parse(configFile);
const { predictRequest, batchRequest } = buildRequestSchemas(features, config);

describe('request schema', () => {
  it('treats null for an optional feature as absent (imputed, or its default)', () => {
    const parsed = predictRequest.parse({ age: 40, bmi: null, smoker: null });
    assert.equal(parsed.bmi, undefined);
    assert.equal(parsed.smoker, false);
    assert.equal(JSON.stringify(parsed), JSON.stringify(predictRequest.parse({ age: 40 })));
  });

  it('refuses null for a required feature, naming it', () => {
    const result = predictRequest.safeParse({ age: null });
    assert.equal(result.success, false);
    assert.deepEqual(
      result.error!.issues.map((issue) => issue.path.join('.')),
      ['age'],
    );
  });

  it('tells a bare array posted as a batch to send {"rows": [...]}', () => {
    const result = batchRequest.safeParse([{ age: 40 }]);
    assert.equal(result.success, false);
    assert.match(result.error!.issues[0]!.message, /\{"rows": \[\.\.\.\]\}/);
  });
});

describe('batch check by columns', () => {
  const names = clinicFeatures.features.map((feature) => feature.name);
  const schemasFor = (unknownFields: 'reject' | 'strip') =>
    buildRequestSchemas(
      clinicFeatures,
      configFileSchema.parse({ ...configFile, server: { max_batch_rows: 4, unknown_fields: unknownFields } }),
    );

  /** Values near each rule's edges, of every JSON type, and some JSON cannot hold (NaN, ±Infinity: 1e999 parses so). */
  const anyValue = fc.oneof(
    fc.constantFrom(0, -1, 120, 121, 10.5, 10.4999, 60, 60.0001, 2.5, 2 ** 53, -(2 ** 53), 1e300, NaN, Infinity, -Infinity, -0),
    fc.integer({ min: -5, max: 130 }),
    fc.double({ min: 0, max: 130, noNaN: true }),
    fc.constantFrom('north', 'south', '1', 'basic', 'gold', 'east', '', 'x'.repeat(10_001), 'x'.repeat(10_000)),
    fc.string({ maxLength: 5 }),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom([], {}, [1], { a: 1 }),
  );
  const validValue: Record<string, fc.Arbitrary<unknown>> = {
    age: fc.integer({ min: 0, max: 120 }),
    bmi: fc.oneof(fc.double({ min: 10.5, max: 60, noNaN: true }), fc.constant(null)),
    smoker: fc.oneof(fc.boolean(), fc.constant(null)),
    region: fc.constantFrom('north', 'south', '1'),
    plan: fc.constantFrom('basic', 'gold', null),
    note: fc.oneof(fc.string({ maxLength: 8 }), fc.constant(null)),
    children: fc.integer({ min: 0, max: 10 }),
    request_id: fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.integer(), fc.constantFrom('', 'x'.repeat(201), 1.5, null)),
  };
  /** A row that is mostly valid: each key valid, any value, or left out; sometimes an unknown key. */
  const values = Object.fromEntries(
    Object.entries(validValue).map(([name, valid]) => [name, fc.oneof({ weight: 30, arbitrary: valid }, anyValue)]),
  );
  const row = fc
    .tuple(
      fc.oneof(
        // Mostly with the required features given: a left-out one is only one of the problems tried.
        { weight: 9, arbitrary: fc.record(values, { requiredKeys: ['age', 'region'] }) },
        fc.record(values, { requiredKeys: [] }),
      ),
      fc.oneof({ weight: 19, arbitrary: fc.constant(null) }, fc.constantFrom('unknown', 'target', 'Age')),
    )
    .map(([values, unknown]) => (unknown === null ? values : { ...values, [unknown]: 1 }));
  const body = fc.oneof(
    { weight: 8, arbitrary: fc.array(row, { minLength: 1, maxLength: 4 }).map((rows) => ({ rows })) },
    fc.array(row, { minLength: 0, maxLength: 6 }).map((rows) => ({ rows })),
    fc.array(row, { maxLength: 2 }),
    fc.array(row, { minLength: 1, maxLength: 2 }).map((rows) => ({ rows, extra: true })),
    anyValue.map((rows) => ({ rows })),
    anyValue,
  );

  for (const unknownFields of ['reject', 'strip'] as const) {
    it(`accepts what the schema accepts, and nothing else, with the schema's values (unknown_fields: ${unknownFields})`, () => {
      const { batchRequest: schema, acceptBatch } = schemasFor(unknownFields);
      const known = new Set([...names, 'request_id']);
      let accepted = 0;
      fc.assert(
        fc.property(body, (generated) => {
          const parsed = schema.safeParse(generated);
          const checked = acceptBatch(structuredClone(generated));
          if (checked) assert.ok(parsed.success, 'the column check accepts what the schema refuses');
          // A row with an unknown key is left to the schema (which refuses it, or strips it from its copy).
          const rows = parsed.success ? (generated as { rows: Record<string, unknown>[] }).rows : [];
          if (parsed.success && rows.every((row) => Object.keys(row).every((key) => known.has(key))))
            assert.ok(checked, 'the column check refuses what the schema accepts');
          if (!checked || !parsed.success) return;
          accepted++;
          assert.equal(checked.rows.length, parsed.data.rows.length);
          checked.rows.forEach((checkedRow, r) => {
            for (const name of [...names, 'request_id'])
              assert.deepEqual(checkedRow[name], parsed.data.rows[r]![name], `rows[${r}].${name}`);
          });
          // The columns it read, defaults filled in, hold the same values: what the model and monitoring take.
          for (const name of names) {
            const column: ArrayLike<unknown> = checked.columns!.get(name)!;
            assert.equal(column.length, parsed.data.rows.length);
            parsed.data.rows.forEach((row, r) => assert.deepEqual(column[r], row[name], `column ${name}[${r}]`));
            // Numbers without a missing one are held as a Float64Array (see FeatureColumn).
            const allNumbers: boolean = parsed.data.rows.every((row) => typeof row[name] === 'number');
            assert.equal(column instanceof Float64Array, allNumbers, `column ${name} is a Float64Array`);
          }
        }),
        { numRuns: 3000 },
      );
      assert.ok(accepted > 300, `only ${accepted} valid bodies were generated`);
    });
  }
});
