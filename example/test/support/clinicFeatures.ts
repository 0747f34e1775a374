// A features.yaml with every feature type, optional features with and without defaults, and bounds to test values
// at: the fixture of the checks by columns (contract/requestSchema.test.ts: /predict/batch's rows;
// http/openInferenceTensors.test.ts: V2 tensors), which must take exactly what the request schema takes.
import { featuresFileSchema } from '../../src/contract/index.js';

export const clinicFeatures = featuresFileSchema.parse({
  features: [
    { name: 'age', type: 'integer', min: 0, max: 120 },
    { name: 'bmi', type: 'number', required: false, min: 10.5, max: 60 },
    { name: 'smoker', type: 'boolean', required: false, default: false },
    { name: 'region', type: 'category', values: ['north', 'south', '1'] },
    { name: 'plan', type: 'category', values: ['basic', 'gold'], required: false, default: 'basic' },
    { name: 'note', type: 'string', required: false },
    { name: 'children', type: 'integer', required: false, default: 0 },
  ],
});
