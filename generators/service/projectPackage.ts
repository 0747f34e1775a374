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
  'fast-check', // the request fuzz test
] as const;

/**
 * The project's dependencies that ship an install script. npm asks for a decision on each (package.json's
 * allowScripts) and will block undecided ones; the project takes the generator's decision for each.
 */
export const PROJECT_INSTALL_SCRIPT_PACKAGES = ['onnxruntime-node', 'esbuild', 'protobufjs', '@scarf/scarf'] as const;

export const PROJECT_SCRIPTS = {
  // tsc compiles the TypeScript; the dashboard's page, script and style sheet are copied next to it as they are.
  build:
    "tsc -p tsconfig.build.json && node -e \"require('node:fs').cpSync('src/http/dashboard/static', 'dist/http/dashboard/static', { recursive: true })\"",
  train: 'tsx src/training/main.ts',
  // Scores a CSV file offline with the served model; built: node dist/cli/predict.js (README: Scoring a CSV file).
  predict: 'tsx src/cli/predict.ts',
  // The model versions in model_bin/ and which is live; promote, rollback, compare (README: The model lifecycle).
  models: 'tsx src/cli/models.ts',
  // Re-scores logged predictions with another model version (README: The model lifecycle).
  replay: 'tsx src/cli/replay.ts',
  prestart: 'npm run build',
  start: 'node dist/http/server.js',
  dev: 'tsx watch src/http/server.ts',
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
    // The generator's own range: the project's packages are a subset of the generator's, at the same versions.
    engines: { node: generatorPackage.engines?.node ?? '>=20.19' },
    scripts: { ...PROJECT_SCRIPTS },
    dependencies: pinnedVersions(PROJECT_DEPENDENCIES, generatorPackage),
    devDependencies: pinnedVersions(PROJECT_DEV_DEPENDENCIES, generatorPackage),
    allowScripts: installScriptDecisions(PROJECT_INSTALL_SCRIPT_PACKAGES, generatorPackage),
  };
}

/** The generator's allowScripts decision for each name; a missing one is a bug here. */
function installScriptDecisions(names: readonly string[], generatorPackage: GeneratorPackageJson): Record<string, boolean> {
  const decided = generatorPackage.allowScripts ?? {};
  const missing = names.filter((name) => decided[name] === undefined);
  if (missing.length) throw new Error(`${generatorPackage.name}'s package.json has no allowScripts entry for ${missing.join(', ')}`);
  return Object.fromEntries(names.map((name) => [name, decided[name]!]));
}

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const valueAt = (object: unknown, path: readonly string[]): unknown =>
  path.reduce<unknown>((value, key) => (isObject(value) ? value[key] : undefined), object);
const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Every leaf of `object` (a value that is not a plain object) with its path of keys. */
function leaves(object: JsonObject, path: string[] = []): { path: string[]; value: unknown }[] {
  return Object.entries(object).flatMap(([key, value]) =>
    isObject(value) ? leaves(value, [...path, key]) : [{ path: [...path, key], value }],
  );
}

function setAt(object: JsonObject, path: readonly string[], value: unknown): void {
  let parent = object;
  for (const key of path.slice(0, -1)) {
    if (!isObject(parent[key])) parent[key] = {};
    parent = parent[key] as JsonObject;
  }
  parent[path.at(-1)!] = value;
}

/** A generator-owned field the user changed (or removed), kept as the user has it. */
export interface KeptPackageField {
  /** Dotted path, e.g. scripts.start. */
  field: string;
  yours: unknown;
  generated: unknown;
}

/**
 * Merges the generator's fields into the project's package.json as a three-way merge, field by field: a field the
 * user left as the generator last wrote it (`previous`) takes the new generated value; a field the user changed or
 * removed keeps the user's value and is reported, unless `force`. Fields the generator does not own are untouched.
 */
export function mergeProjectPackageJson(
  onDisk: JsonObject | undefined,
  generated: JsonObject,
  previous: JsonObject | undefined,
  force: boolean,
): { merged: JsonObject; kept: KeptPackageField[] } {
  if (!onDisk) return { merged: structuredClone(generated), kept: [] };
  const merged = structuredClone(onDisk);
  const kept: KeptPackageField[] = [];
  for (const { path, value } of leaves(generated)) {
    const yours = valueAt(onDisk, path);
    if (sameJson(yours, value)) continue;
    const untouched = previous !== undefined && sameJson(yours, valueAt(previous, path));
    if (force || untouched || (yours === undefined && valueAt(previous, path) === undefined)) setAt(merged, path, structuredClone(value));
    else kept.push({ field: path.join('.'), yours, generated: value });
  }
  return { merged, kept };
}

export function keptPackageFieldsMessage(kept: readonly KeptPackageField[]): string {
  const show = (value: unknown) => (value === undefined ? '(removed)' : JSON.stringify(value));
  return [
    `Kept your value of ${kept.length} generator-owned field${kept.length === 1 ? '' : 's'} in package.json:`,
    ...kept.map(({ field, yours, generated }) => `  ${field}: yours ${show(yours)}, generated ${show(generated)}`),
    'Run again with --force to take the generated values.',
  ].join('\n');
}
