// FeatureTable: a batch read by column, made from rows (a /predict/batch body) or from columns (V2 tensors).
import assert from 'node:assert/strict';
import { FeatureTable, type FeatureValues } from '../../src/contract/index.js';

describe('feature table', () => {
  const names = ['size', 'color', 'flag'];
  const rows: FeatureValues[] = [
    { request_id: 'a', size: 1.5, color: 'red', flag: true },
    { size: 2, flag: false },
  ];

  it('reads a column down the rows, by feature name only', () => {
    const table = FeatureTable.fromRows(names, rows);
    assert.equal(table.rowCount, 2);
    assert.deepEqual(Array.from(table.column('size')), [1.5, 2]);
    assert.deepEqual(Array.from(table.column('color')), ['red', undefined]);
    assert.equal(table.column('size'), table.column('size'), 'a column is read once');
    assert.equal(table.rows, rows, 'the rows are the request’s own');
    assert.throws(() => table.column('request_id'), /request_id is not a feature/);
  });

  it('holds a column of numbers as a Float64Array, and one with a missing or other value as an array', () => {
    const table = FeatureTable.fromRows(
      ['size', 'color', 'count'],
      [
        { size: 1.5, color: 'red', count: 1 },
        { size: 2, color: 'blue' },
      ],
    );
    assert.ok(table.column('size') instanceof Float64Array);
    assert.deepEqual(Array.from(table.column('size')), [1.5, 2]);
    assert.ok(Array.isArray(table.column('color')));
    assert.ok(Array.isArray(table.column('count')), 'a missing value stays undefined');
    assert.deepEqual(Array.from(table.column('count')), [1, undefined]);
  });

  it('takes the columns a check already read from the rows', () => {
    const size = [10, 20];
    const table = FeatureTable.fromRows(names, rows, new Map([['size', size]]));
    assert.equal(table.column('size'), size);
    assert.deepEqual(Array.from(table.column('flag')), [true, false]);
  });

  it('builds rows from columns once, each feature an own key, a missing column missing from every row', () => {
    const table = FeatureTable.fromColumns(
      names,
      2,
      new Map<string, ArrayLike<number | string | undefined>>([
        ['size', Float64Array.from([1, 2])],
        ['color', ['red', undefined]],
      ]),
    );
    assert.deepEqual(table.rows, [
      { size: 1, color: 'red', flag: undefined },
      { size: 2, color: undefined, flag: undefined },
    ]);
    assert.equal(table.rows, table.rows);
    assert.ok(table.rows.every((row) => Object.hasOwn(row, 'flag')));
    assert.throws(() => FeatureTable.fromColumns(names, 3, new Map([['size', [1, 2]]])), /column size holds 2 values for 3 rows/);
  });

  it('keeps names inherited from Object.prototype as plain keys of the rows it builds', () => {
    const inherited = ['constructor', '__proto__', 'toString'];
    const table = FeatureTable.fromColumns(inherited, 1, new Map(inherited.map((name, i) => [name, [i]])));
    const [row] = table.rows;
    assert.equal(Object.getPrototypeOf(row), null);
    assert.deepEqual(
      inherited.map((name) => Object.hasOwn(row!, name) && row![name]),
      [0, 1, 2],
    );
  });
});
