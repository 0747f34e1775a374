import assert from 'node:assert/strict';
import {
  encodeColumnsInto,
  encodeRows,
  fitBoolean,
  fitNumeric,
  fitOneHot,
  rawFeatureEncoders,
  UnknownCategoryError,
} from '../../src/model/preprocessing.js';
import { Preprocessor } from '../../src/model/preprocessor.js';
import { FeatureTable, type FeatureValues, type Feature } from '../../src/contract/index.js';
import { trainedProject } from '../support/trainedModel.js';

describe('Preprocessor', () => {
  it('produces rows of outputSize, restores identically from JSON and imputes missing optional values', async () => {
    const { preprocessor, spec } = await trainedProject();
    const features = spec.features.features;
    const rows: FeatureValues[] = [Object.fromEntries(features.map((f) => [f.name, f.example ?? f.default]))];
    const out = preprocessor.transform(rows);
    assert.equal(out[0]!.length, preprocessor.outputSize);
    assert.equal(preprocessor.outputColumns.length, preprocessor.outputSize);
    assert.ok(out[0]!.every(Number.isFinite));
    const restored = Preprocessor.fromJSON(features, JSON.parse(JSON.stringify(preprocessor.toJSON())));
    assert.deepEqual(restored.transform(rows), out);
    const empty = preprocessor.transform([{}]);
    assert.ok(empty[0]!.every(Number.isFinite), 'missing values are imputed, never NaN');
  });

  it('standardizes numbers, one-hot encodes categories and maps booleans', () => {
    const preprocessor = new Preprocessor([
      { name: 'size', type: 'number', required: true },
      { name: 'color', type: 'category', values: ['red', 'blue'], required: false },
      { name: 'flag', type: 'boolean', required: false, default: true },
    ]);
    preprocessor.fit([
      { size: 1, color: 'red', flag: false },
      { size: 3, color: 'red', flag: true },
    ]);
    assert.deepEqual(preprocessor.outputColumns, ['size', 'color=red', 'color=blue', 'flag']);
    assert.deepEqual(preprocessor.transform([{ size: 3, color: 'blue', flag: false }]), [[1, 0, 1, 0]]);
    // Missing category → most frequent in training; missing boolean → its default.
    assert.deepEqual(preprocessor.transform([{ size: 2 }]), [[0, 1, 0, 1]]);
  });

  it('writes straight into the model input (transformInto) exactly the numbers transform() gives', () => {
    const preprocessor = new Preprocessor([
      { name: 'size', type: 'number', required: false },
      { name: 'color', type: 'category', values: ['red', 'blue', 'green'], required: false },
      { name: 'flag', type: 'boolean', required: false, default: true },
    ]);
    preprocessor.fit([
      { size: 1.1, color: 'red', flag: false },
      { size: 3.7, color: 'blue', flag: true },
      { size: undefined, color: undefined, flag: true },
    ]);
    // Rows as a batch brings them: the id field among the features, some values missing, one unknown category.
    const rows: FeatureValues[] = [
      { request_id: 'a', size: 2.3, color: 'green', flag: false },
      { request_id: 'b', color: 'purple' },
      { size: 1e-9, flag: true },
      { size: 123456.789, color: 'blue' },
    ];
    const expected = preprocessor.transform(rows).flat();
    const names = ['size', 'color', 'flag'];
    // The batch read by column, from the rows or from columns as a V2 request brings them.
    const columns = new Map(names.map((name) => [name, rows.map((row) => row[name])]));
    for (const batch of [FeatureTable.fromRows(names, rows), FeatureTable.fromColumns(names, rows.length, columns)]) {
      for (const out of [new Float64Array(expected.length), new Float32Array(expected.length)]) {
        preprocessor.transformInto(batch, out);
        assert.deepEqual(Array.from(out), Array.from(out instanceof Float32Array ? Float32Array.from(expected) : expected));
      }
    }
    // Encoders that refuse an unknown category report the first bad value in row order, as encodeRows does.
    const { encoders } = rawFeatureEncoders([
      { name: 'size', type: 'number', required: true },
      { name: 'color', type: 'category', values: ['red', 'blue'], required: true },
      { name: 'shape', type: 'category', values: ['round', 'square'], required: true },
    ]);
    const categoryNames = ['size', 'color', 'shape'];
    const known = [
      { size: 2, color: 'blue', shape: 'round' },
      { size: 5, color: 'red', shape: 'square' },
    ];
    const written = new Float64Array(10);
    encodeColumnsInto(encoders, FeatureTable.fromRows(categoryNames, known), written);
    assert.deepEqual(Array.from(written), encodeRows(encoders, known).flat());
    const unknown = [
      { size: 1, color: 'red', shape: 'oval' },
      { size: 2, color: 'green', shape: 'star' },
    ];
    assert.throws(() => encodeRows(encoders, unknown), /unknown value "oval"/);
    assert.throws(
      () => encodeColumnsInto(encoders, FeatureTable.fromRows(categoryNames, unknown), new Float64Array(10)),
      /unknown value "oval"/,
    );
    const sameRow = [{ size: 1, color: 'green', shape: 'oval' }];
    assert.throws(
      () => encodeColumnsInto(encoders, FeatureTable.fromRows(categoryNames, sameRow), new Float64Array(5)),
      /unknown value "green"/,
    );
  });
});

describe('preprocessing blocks', () => {
  const number: Feature = { name: 'x', type: 'number', required: false };
  const values = [1, 2, 3, 10, undefined];

  it('imputes a missing number with the features.yaml default, else the mean, the median or a constant', () => {
    const encodeMissing = (encoder: ReturnType<typeof fitNumeric>) => encodeRows([encoder], [{}])[0]![0];
    assert.equal(encodeMissing(fitNumeric(number, values, { scaling: 'none' })), 4);
    assert.equal(encodeMissing(fitNumeric(number, values, { scaling: 'none', impute: 'median' })), 2.5);
    assert.equal(encodeMissing(fitNumeric(number, values, { scaling: 'none', impute: { constant: -1 } })), -1);
    assert.equal(encodeMissing(fitNumeric({ ...number, default: 7 }, values, { scaling: 'none', impute: 'median' })), 7);
    // Standardized: the mean (imputed) encodes to 0, the scale is the training standard deviation.
    const standard = fitNumeric(number, values);
    assert.equal(encodeMissing(standard), 0);
    assert.ok(standard.kind === 'numeric' && Math.abs(standard.scale - Math.sqrt(12.5)) < 1e-12);
    // A constant column keeps scale 1 instead of dividing by zero.
    assert.deepEqual(encodeRows([fitNumeric(number, [5, 5])], [{ x: 6 }]), [[1]]);
  });

  it('imputes booleans with the share of true, the most frequent value or a constant', () => {
    const flag: Feature = { name: 'f', type: 'boolean', required: false };
    const seen = [true, true, false, undefined];
    const encodeMissing = (options: Parameters<typeof fitBoolean>[2]) => encodeRows([fitBoolean(flag, seen, options)], [{}])[0]![0];
    assert.equal(encodeMissing({}), 2 / 3);
    assert.equal(encodeMissing({ impute: 'most_frequent' }), 1);
    assert.equal(encodeMissing({ impute: { constant: false } }), 0);
  });

  it('handles unknown categories as configured: all zeros, or a 422 error naming the value', () => {
    const note: Feature = { name: 'note', type: 'string', required: false };
    const seen = ['a', 'b', 'b', 'c', 'c', 'c', undefined];
    const zeros = fitOneHot(note, seen, { maxCategories: 2 });
    assert.ok(zeros.kind === 'one-hot');
    assert.deepEqual(zeros.categories, ['c', 'b'], 'the most frequent values, most frequent first');
    assert.deepEqual(encodeRows([zeros], [{ note: 'b' }, { note: 'a' }, {}]), [
      [0, 1],
      [0, 0],
      [1, 0],
    ]);
    const strict = fitOneHot(note, seen, { maxCategories: 2, unknown: 'error', impute: { constant: 'b' } });
    assert.deepEqual(encodeRows([strict], [{}]), [[0, 1]]);
    assert.throws(
      () => encodeRows([strict], [{ note: 'zzz' }]),
      (error: UnknownCategoryError) =>
        error instanceof UnknownCategoryError && error.status === 422 && /note: unknown value "zzz"/.test(error.message),
    );
  });

  it('encodes the raw features of a model without a preprocessor, and says which features it cannot take', () => {
    const features: Feature[] = [
      { name: 'size', type: 'number', required: true },
      { name: 'color', type: 'category', values: ['red', 'blue'], required: false, default: 'blue' },
      { name: 'flag', type: 'boolean', required: true },
    ];
    const { encoders, problems } = rawFeatureEncoders(features);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      encodeRows(encoders, [
        { size: 2.5, color: 'red', flag: true },
        { size: 1, flag: false },
      ]),
      [
        [2.5, 1, 0, 1],
        [1, 0, 1, 0],
      ],
    );
    const unusable = rawFeatureEncoders([
      { name: 'note', type: 'string', required: true },
      { name: 'age', type: 'integer', required: false },
    ]);
    assert.deepEqual(
      unusable.problems.map((p) => p.split(' ').slice(0, 2).join(' ')),
      ['feature note', 'feature age'],
    );
  });
});
