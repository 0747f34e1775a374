// Shared by the generator tests: temp folders, running the generators with yeoman-test, reading results.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import helpers from 'yeoman-test';
import AppGenerator from '../../generators/app/index.js';
import AnsibleGenerator from '../../generators/ansible/index.js';
import CiGenerator from '../../generators/ci/index.js';
import DockerGenerator from '../../generators/docker/index.js';
import HelmGenerator from '../../generators/helm/index.js';
import JenkinsGenerator from '../../generators/jenkins/index.js';
import ServiceGenerator from '../../generators/service/index.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The generators run from source (mocha loads tsx); the bin test runs the compiled dist/. They are handed to
// yeoman-test as classes: given a path, yeoman-environment require()s it first, and tsx's require hook would
// then load yeoman-generator as CommonJS, which its dependencies do not support.
const GENERATORS = {
  app: { Generator: AppGenerator, resolved: join(repoRoot, 'generators', 'app', 'index.ts'), namespace: 'ml-microservice:app' },
  service: {
    Generator: ServiceGenerator,
    resolved: join(repoRoot, 'generators', 'service', 'index.ts'),
    namespace: 'ml-microservice:service',
  },
  ...partGenerator('docker', DockerGenerator),
  ...partGenerator('helm', HelmGenerator),
  ...partGenerator('jenkins', JenkinsGenerator),
  ...partGenerator('ansible', AnsibleGenerator),
  ...partGenerator('ci', CiGenerator),
} as const;

function partGenerator<Name extends string, G>(name: Name, Generator: G) {
  return {
    [name]: { Generator, resolved: join(repoRoot, 'generators', name, 'index.ts'), namespace: `ml-microservice:${name}` },
  } as Record<Name, { Generator: G; resolved: string; namespace: string }>;
}
export const irisExample = join(repoRoot, 'templates', 'examples', 'iris');

/** A fresh folder under the OS temp dir; the returned function restores the cwd and removes it. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const cwd = process.cwd();
  const dir = mkdtempSync(join(tmpdir(), 'ml-microservice-test-'));
  return {
    dir,
    cleanup: () => {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every file under `dir`, relative, with forward slashes, sorted. */
export function listFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.push(relative(dir, path).split(sep).join('/'));
    }
  };
  walk(dir);
  return files.sort();
}

/** path → mtime and content, to prove a run wrote nothing. */
export function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    listFiles(dir).map((file) => [file, `${statSync(join(dir, file)).mtimeMs} ${readFileSync(join(dir, file), 'utf8')}`]),
  );
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
}

export const read = (path: string) => readFileSync(path, 'utf8');
export const readJson = <T = Record<string, unknown>>(path: string) => JSON.parse(read(path)) as T;

export interface RunOptions {
  /** Generator options (flags). Runs are non-interactive unless `interactive: true` is given. */
  options?: Record<string, unknown>;
  answers?: Record<string, unknown>;
  /** Keep yeoman-test's default --force (true) or test the conflicter (false). */
  force?: boolean;
  generator?: keyof typeof GENERATORS;
}

/**
 * Runs a generator in `cwd` (which is not emptied first). yeoman-test forces overwrites by default, in the
 * environment as well as in the generator options; `force: false` turns both off.
 */
export function runGenerator(cwd: string, { options = {}, answers, force = true, generator = 'app' }: RunOptions = {}) {
  const { Generator, resolved, namespace } = GENERATORS[generator];
  const context = helpers
    .run(Generator, { resolved, namespace }, { force })
    .cd(cwd)
    .withOptions({ interactive: false, force, ...options } as object)
    .withAdapterOptions({ throwOnMissingAnswer: true });
  return answers ? context.withAnswers(answers) : context;
}

export const IRIS_FEATURES = read(join(irisExample, 'features.yaml'));
export const IRIS_CONFIG = read(join(irisExample, 'config.yaml'));

/** The iris example generated into a fresh temp folder as a user would (without --force): `dir` holds `project`. */
export interface GeneratedIris {
  dir: string;
  project: string;
  cleanup: () => void;
}

export async function generatedIris(): Promise<GeneratedIris> {
  const { dir, cleanup } = tempDir();
  await runGenerator(dir, { options: { example: 'iris' }, force: false });
  return { dir, project: join(dir, 'iris-classifier'), cleanup };
}
