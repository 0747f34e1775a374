// The contract every part depends on: features.yaml (the model's inputs) and config.yaml (the project's settings),
// their zod schemas, the loader that reports file:line errors, and the request schema built from the features.
export * from './schema.js';
export * from './load.js';
export * from './requestSchema.js';
export * from './fieldIssues.js';
