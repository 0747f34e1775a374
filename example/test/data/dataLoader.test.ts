import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadData } from '../../src/data/dataLoader.js';
import { DataError, readCsvRows, validateRows } from '../../src/data/rows.js';
import { projectPaths } from '../../src/contract/environment.js';
import { loadSpec, type Feature } from '../../src/contract/index.js';

describe('loadData', () => {
  it('returns rows that match features.yaml', async () => {
    const paths = projectPaths();
    const spec = loadSpec(paths.features, paths.config);
    const rows = await loadData(spec);
    assert.ok(rows.length > 0);
    validateRows(rows, spec.features.features, spec.config);
    for (const feature of spec.features.features) assert.ok(feature.name in rows[0]!, `${feature.name} loaded`);
    assert.ok(rows.every((row) => row[spec.config.target] !== undefined));
  });
});

describe('readCsvRows and validateRows', () => {
  const features: Feature[] = [
    { name: 'age', type: 'integer', required: true, min: 0, max: 120 },
    { name: 'plan', type: 'category', values: ['basic', 'pro'], required: false },
    { name: 'active', type: 'boolean', required: true },
  ];
  const config = { target: 'churned', task: 'classification' as const };
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'csv-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('converts columns to their feature types and leaves empty optional cells undefined', async () => {
    writeFileSync(join(dir, 'd.csv'), 'age,plan,active,churned,ignored\n30,pro,true,yes,x\n41,,false,no,y\n');
    const rows = await readCsvRows(join(dir, 'd.csv'), features, config);
    assert.deepEqual(rows, [
      { age: 30, plan: 'pro', active: true, churned: 'yes' },
      { age: 41, plan: undefined, active: false, churned: 'no' },
    ]);
    validateRows(rows, features, config);
  });

  it('reads a boolean column spelt true/false, yes/no, y/n (any case) or 1/0 as booleans', async () => {
    const cells = ['true', 'FALSE', 'Yes', 'no', 'Y', 'n', '1', '0'];
    writeFileSync(join(dir, 'd.csv'), `age,active,churned\n${cells.map((cell) => `30,${cell},yes`).join('\n')}\n`);
    const rows = await readCsvRows(join(dir, 'd.csv'), features, config);
    assert.deepEqual(
      rows.map((row) => row.active),
      [true, false, true, false, true, false, true, false],
    );
    validateRows(rows, features, config);
  });

  it('names the row and field of every bad value', async () => {
    writeFileSync(join(dir, 'd.csv'), 'age,plan,active,churned\n30,gold,true,yes\nold,pro,maybe,\n');
    const rows = await readCsvRows(join(dir, 'd.csv'), features, config);
    assert.throws(
      () => validateRows(rows, features, config),
      (error: DataError) => {
        assert.deepEqual(
          error.problems.map((p) => p.split(':')[0]),
          ['row 1, plan', 'row 2, age', 'row 2, active', 'row 2, churned'],
        );
        return true;
      },
    );
  });

  it('reports a missing column or file clearly', async () => {
    writeFileSync(join(dir, 'd.csv'), 'age,churned\n30,yes\n');
    await assert.rejects(readCsvRows(join(dir, 'd.csv'), features, config), /missing column active/);
    await assert.rejects(readCsvRows(join(dir, 'nope.csv'), features, config), /file not found/);
  });

  it("reads each feature from its `column` (the data's own name) and the target from data.target_column", async () => {
    const renamed: Feature[] = [
      { name: 'mean_radius', column: 'mean radius', type: 'number', required: true },
      { name: 'col_2nd_visit', column: '2nd-visit', type: 'boolean', required: false },
    ];
    const settings = { target: 'diagnosis', task: 'classification' as const, data: { path: 'd.csv', target_column: 'Diagnosis Result' } };
    writeFileSync(join(dir, 'd.csv'), 'mean radius,2nd-visit,Diagnosis Result\n17.99,true,malignant\n13.5,,benign\n');
    const rows = await readCsvRows(join(dir, 'd.csv'), renamed, settings);
    assert.deepEqual(rows, [
      { mean_radius: 17.99, col_2nd_visit: true, diagnosis: 'malignant' },
      { mean_radius: 13.5, col_2nd_visit: undefined, diagnosis: 'benign' },
    ]);
    writeFileSync(join(dir, 'd.csv'), 'mean_radius,Diagnosis Result\n17.99,malignant\n');
    await assert.rejects(readCsvRows(join(dir, 'd.csv'), renamed, settings), /missing column "mean radius"/);
  });
});
