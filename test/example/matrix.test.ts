// The generated-project matrix: projects generated from CSVs of different shapes, each trained with every
// built-in model (config.yaml training.algorithm), must pass their own tests and lint as a user would run
// them. Each spec runs its whole `npm test` and `npm run lint` with one algorithm (a different one per spec);
// with the other algorithms it runs `npm run train` and the test files whose outcome depends on the model,
// which keeps the matrix within CI's time.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { generate, ROOT } from '../support/generate.js';
import { run } from '../support/process.js';

const fixture = (name: string) => join(ROOT, 'test/fixtures', name);

const ALGORITHMS = ['linear', 'decision_tree', 'random_forest'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

/** What model.json's `algorithm` says for each choice (classification and regression). */
const TRAINED_AS: Record<Algorithm, RegExp> = {
  linear: /^(softmaxRegression|linearRegression)/i,
  decision_tree: /^decisionTree/i,
  random_forest: /^randomForest/i,
};

/**
 * The project's test files whose outcome depends on the trained model: training, ONNX parity and promotion;
 * the API contract; its range and body limits with huge numbers; a row too large for a float32 model and the
 * batching paths. Left to the full runs: the request fuzzer (a minute, bounded by time, not by model) and the
 * cluster tests (processes, not models).
 */
const MODEL_DEPENDENT_TESTS = ['training/pipeline', 'http/api', 'http/hardening', 'http/scaleOut'].map((name) => `test/${name}.test.ts`);
const NOT_MODEL_DEPENDENT = 'cluster mode';

const specs: { label: string; args: string[]; fullSuite: Algorithm }[] = [
  {
    label: 'breast cancer CSV (classification, 30 numeric features)',
    args: ['--name', 'breast-cancer', '--task', 'classification', '--target', 'diagnosis', '--data', fixture('breast_cancer.csv')],
    fullSuite: 'random_forest',
  },
  {
    label: 'diabetes CSV with a category, a boolean and 5% blanks (regression)',
    args: ['--name', 'diabetes-mixed', '--task', 'regression', '--target', 'progression', '--id-field', 'patient_id', '--data', fixture('diabetes_mixed.csv')],
    fullSuite: 'decision_tree',
  },
  {
    label: 'churn CSV (classification; integer, category, boolean, string, optional features)',
    args: ['--name', 'churn-risk', '--task', 'classification', '--target', 'churned', '--id-field', 'customer_ref', '--data', fixture('churn.csv')],
    fullSuite: 'linear',
  },
];

/** Sets config.yaml's training.algorithm, keeping the file's comments. */
function chooseAlgorithm(project: string, algorithm: Algorithm): void {
  const path = join(project, 'config.yaml');
  const config = parseDocument(readFileSync(path, 'utf8'));
  config.setIn(['training', 'algorithm'], config.createNode({ name: algorithm }));
  writeFileSync(path, config.toString());
}

/** The project's own mocha settings, for running some of its test files (its config would add all of them). */
function mochaArgs(project: string, files: string[]): string[] {
  const mocharc = JSON.parse(readFileSync(join(project, '.mocharc.json'), 'utf8')) as { 'node-option'?: string[]; timeout?: number };
  return [
    'mocha',
    '--no-config',
    ...(mocharc['node-option'] ?? []).flatMap((option) => ['--node-option', option]),
    ...(mocharc.timeout ? ['--timeout', String(mocharc.timeout)] : []),
    ...['--grep', NOT_MODEL_DEPENDENT, '--invert'],
    ...files,
  ];
}

for (const { label, args, fullSuite } of specs) {
  describe(`generated project matrix: ${label}`, function () {
    this.timeout(600_000);
    let dir: string;
    let project: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'matrix-'));
      project = join(dir, 'project');
      await generate(project, args);
      // The generator repo's node_modules hold exactly the pinned versions the project would install.
      symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'), 'dir');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('type-checks under strict TypeScript', async () => {
      await run('npx', ['tsc', '--noEmit', '-p', '.'], { cwd: project });
    });

    for (const algorithm of [fullSuite, ...ALGORITHMS.filter((a) => a !== fullSuite)]) {
      const full = algorithm === fullSuite;
      it(`training.algorithm: ${algorithm}: \`npm run train\`, then ${full ? '`npm test` and `npm run lint`' : 'the model-dependent test files'} pass`, async () => {
        chooseAlgorithm(project, algorithm);
        rmSync(join(project, 'model_bin'), { recursive: true, force: true });
        const train = await run('npm', ['run', 'train'], { cwd: project });
        assert.match(train.stdout, /promoted to LATEST \(there was no LATEST model yet\)/);
        const latest = readFileSync(join(project, 'model_bin/LATEST'), 'utf8').trim();
        const metadata = JSON.parse(readFileSync(join(project, 'model_bin', latest, 'model.json'), 'utf8')) as { algorithm: string };
        assert.match(metadata.algorithm, TRAINED_AS[algorithm]);

        if (full) {
          const { stdout } = await run('npm', ['test'], { cwd: project, timeout: 600_000 });
          assert.match(stdout, /\d+ passing/);
          assert.doesNotMatch(stdout, /^ *\d+ failing$/m);
          await run('npm', ['run', 'lint'], { cwd: project });
        } else {
          for (const file of MODEL_DEPENDENT_TESTS) assert.ok(existsSync(join(project, file)), `${file} is in the project`);
          const { stdout } = await run('npx', mochaArgs(project, MODEL_DEPENDENT_TESTS), { cwd: project, timeout: 600_000 });
          assert.match(stdout, /\d+ passing/);
        }
      });
    }
  });
}
