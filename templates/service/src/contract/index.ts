// The contract every part depends on: features.yaml (the model's inputs, features.ts) and config.yaml (the project's
// settings; the ones the service reads, serviceSettings.ts), their zod schemas, the loader that reports file:line
// errors, and the request schema built from the features.
export * from './features.js';
export * from './serviceSettings.js';
export * from './load.js';
export * from './requestSchema.js';
export * from './featureTable.js';
export * from './fieldIssues.js';
