// The request schema built from features.yaml: what counts as missing, and what a malformed batch is told.
import assert from 'node:assert/strict';
import { buildRequestSchemas, configFileSchema, featuresFileSchema } from '../../src/contract/index.js';

const features = featuresFileSchema.parse({
  features: [
    { name: 'age', type: 'integer' },
    { name: 'bmi', type: 'number', required: false },
    { name: 'smoker', type: 'boolean', required: false, default: false },
  ],
});
const config = configFileSchema.parse({
  name: 'clinic',
  version: '1.0.0',
  task: 'regression',
  target: 'cost',
  id_field: 'request_id',
  data: { path: 'data/clinic.csv' },
});
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
