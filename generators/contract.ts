// The one door from the generators to the contract (features.yaml + config.yaml), whose home is the service's
// src/contract: the generated service validates the same files with the same schemas at start-up.
export * from '../templates/service/src/contract/index.js';
