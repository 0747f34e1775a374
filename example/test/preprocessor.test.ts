import assert from 'node:assert/strict';
import { Preprocessor } from '../src/model/preprocessor.js';
import type { FeatureValues } from '../src/spec/requestSchema.js';
import { trainedProject } from './trainedModel.js';

describe('Preprocessor', () => {
  it('produces rows of outputSize, restores identically from JSON and imputes missing optional values', async () => {
    const { preprocessor, spec } = await trainedProject();
    const features = spec.features.features;
    const rows: FeatureValues[] = [Object.fromEntries(features.map((f) => [f.name, f.example ?? f.default]))];
    const out = preprocessor.transform(rows);
    assert.equal(out[0]!.length, preprocessor.outputSize);
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
});
