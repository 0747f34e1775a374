// The one door from the generators to the contract (features.yaml + config.yaml). The features and the service
// settings live in the service's src/contract, which the generated service validates again at start-up; the
// deployment settings (contract/deploymentSettings.ts) are the generator's own. Here config.yaml is the whole file:
// the service settings plus the deployment sections, each validated with its schema. (A file beside the folder, not
// contract/index.ts: yo and bin/ml-microservice take every generators/<name>/index.js for a generator.)
import type { z } from 'zod';
import { configFileSchema as serviceConfigFileSchema, specReader, type Spec as SpecOf } from '../templates/service/src/contract/index.js';
import { deploymentSettings } from './contract/deploymentSettings.js';

export * from '../templates/service/src/contract/index.js';
export { deploymentSettings } from './contract/deploymentSettings.js';

// These names shadow the service's ones re-exported above (a module's own exports take precedence over `export *`):
// in the generators, config.yaml is the whole file.

/** config.yaml as the generator validates it: the service settings and the deployment sections. */
export const configFileSchema = serviceConfigFileSchema.extend(deploymentSettings);
export type Config = z.output<typeof configFileSchema>;
export type Spec = SpecOf<Config>;
export const { parseSpec, loadSpec } = specReader(configFileSchema);
