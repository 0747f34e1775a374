// The generated project's package.json fields that the generator owns. Only dependency NAMES live here:
// their versions are looked up in this generator's own package.json, the one pinned list of versions, so
// the generator is tested against exactly the versions it hands out.
import type { GeneratorPackageJson } from '../packageRoot.js';
import type { ServiceContext } from './context.js';

export const PROJECT_DEPENDENCIES = [
  'express',
  'swagger-ui-express',
  'zod',
  'yaml',
  'onnxruntime-node',
  'onnx-proto',
  'csv-parse',
  'ml-matrix',
  'prom-client',
  'ml-cart',
  'ml-random-forest',
  'fluent-logger',
  'mongodb',
  'helmet',
  'rate-limiter-flexible',
  'piscina', // server.inference.worker_threads
] as const;

export const PROJECT_DEV_DEPENDENCIES = [
  'typescript',
  'tsx',
  'mocha',
  'supertest',
  '@types/node',
  '@types/express',
  '@types/mocha',
  '@types/supertest',
  '@types/swagger-ui-express',
  'eslint',
  '@eslint/js',
  'typescript-eslint',
  'prettier',
  'dockerfile-ast',
  '@msgpack/msgpack', // the Fluentd Forward-protocol test receiver (test/support)
  'autocannon', // npm run bench:logging
  '@types/autocannon',
  'fast-check', // the request fuzz test
] as const;

export const PROJECT_SCRIPTS = {
  build: 'tsc -p tsconfig.build.json',
  train: 'tsx src/training/main.ts',
  prestart: 'npm run build',
  start: 'node dist/serving/server.js',
  dev: 'tsx watch src/serving/server.ts',
  test: 'mocha',
  typecheck: 'tsc --noEmit',
  lint: 'eslint . && prettier --check src test',
  format: 'prettier --write src test',
  // The Alertmanager webhook receiver that starts the Jenkins train-model job (README: Monitoring).
  'retrain-receiver': 'tsx scripts/retrainOnAlert.ts',
  // The deployment parts' entry points, called by the Jenkins pipelines and the GitHub Actions workflows.
  'lint:docker': 'tsx docker/lintDockerfiles.ts',
  'docker:build': 'bash docker/build-image.sh',
  smoke: 'bash docker/smoke-test.sh',
  // What prediction logging costs: requests/s of POST /predict per sink, as ratios to logging off (README: Prediction logging).
  'bench:logging': 'tsx scripts/benchLogging.ts',
} as const;

/** Looks each name up in the generator's dependencies, then devDependencies; a missing name is a bug here. */
export function pinnedVersions(names: readonly string[], generatorPackage: GeneratorPackageJson): Record<string, string> {
  const pinned = { ...generatorPackage.devDependencies, ...generatorPackage.dependencies };
  const missing = names.filter((name) => !pinned[name]);
  if (missing.length) {
    throw new Error(
      `${generatorPackage.name}'s package.json pins no version for ${missing.join(', ')}: add ${missing.length === 1 ? 'it' : 'them'} to its dependencies or devDependencies`,
    );
  }
  return Object.fromEntries([...names].sort().map((name) => [name, pinned[name]!]));
}

/** The object merged into the project's package.json (user additions elsewhere in the file are kept). */
export function projectPackageJson(context: ServiceContext, generatorPackage: GeneratorPackageJson) {
  return {
    name: context.name,
    version: context.version,
    description: context.description,
    private: true,
    type: 'module' as const,
    engines: { node: '>=20.17' },
    scripts: { ...PROJECT_SCRIPTS },
    dependencies: pinnedVersions(PROJECT_DEPENDENCIES, generatorPackage),
    devDependencies: pinnedVersions(PROJECT_DEV_DEPENDENCIES, generatorPackage),
  };
}
