// Projects generated from different inputs, each checked the way a user would find it: no template marker
// left, JSON and YAML that parse, TypeScript that compiles under strict settings, and the project's own test
// suite (training, ONNX parity, API contract) passing. Where another test already runs a project's suite and
// type check, only the file checks run here: the iris example's in test/e2e/example.e2e.test.ts, the churn
// project's (with every built-in algorithm) in ./matrix.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { generate, listFiles, ROOT } from '../support/generate.js';
import { ANSIBLE_YAML_TAGS } from '../support/deployProject.js';
import { run } from '../support/process.js';

const fixture = (name: string) => join(ROOT, 'test/fixtures', name);

const combinations: { label: string; args: string[]; ownSuite: boolean }[] = [
  { label: 'iris example (classification, numbers)', args: ['--example', 'iris'], ownSuite: false },
  {
    label: 'diabetes CSV (regression, inferred features)',
    args: ['--name', 'diabetes-progression', '--task', 'regression', '--target', 'progression', '--id-field', 'patient_id', '--data', fixture('diabetes.csv')],
    ownSuite: true,
  },
  {
    label: 'churn CSV (classification; integer, category, boolean, string, missing values)',
    args: ['--name', 'churn-risk', '--task', 'classification', '--target', 'churned', '--id-field', 'customer_ref', '--data', fixture('churn.csv')],
    ownSuite: false,
  },
];

const MARKERS = /<%|%>|\bundefined\b(?!\))|\[object Object\]/;

for (const { label, args, ownSuite } of combinations) {
  describe(`generated project: ${label}`, function () {
    this.timeout(300_000);
    let dir: string;
    let project: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'combo-'));
      project = join(dir, 'project');
      await generate(project, args);
      // The generator repo's node_modules hold exactly the pinned versions the project would install.
      symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'), 'dir');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('leaves no template marker in any file, and no file named .ejs or _dotfile', () => {
      const files = listFiles(project);
      assert.deepEqual(
        // Helm's partials are named _*.tpl on purpose.
        files.filter((file) => file.endsWith('.ejs') || (/(^|\/)_[a-z]/.test(file) && !/^helm\/templates\/_[\w-]+\.tpl$/.test(file))),
        [],
      );
      for (const file of files.filter((f) => !f.endsWith('.csv') && !f.endsWith('.ts'))) {
        assert.doesNotMatch(readFileSync(join(project, file), 'utf8'), /<%|%>|\[object Object\]/, file);
      }
      for (const file of ['README.md', 'package.json', 'features.yaml', 'config.yaml']) {
        assert.doesNotMatch(readFileSync(join(project, file), 'utf8'), MARKERS, file);
      }
    });

    it('writes JSON and YAML that parse', () => {
      for (const file of listFiles(project)) {
        const text = readFileSync(join(project, file), 'utf8');
        if (file.endsWith('.json')) assert.doesNotThrow(() => JSON.parse(text), file);
        // helm/templates/ are Go templates of YAML, checked by rendering them (test/deploy/helm.test.ts).
        if ((file.endsWith('.yaml') || file.endsWith('.yml')) && !file.startsWith('helm/templates/')) {
          // Ansible's !unsafe (the inventory's values) is a string to YAML; any other warning is a defect.
          const doc = parseDocument(text, { customTags: ANSIBLE_YAML_TAGS });
          assert.deepEqual([...doc.errors, ...doc.warnings].map(String), [], file);
        }
      }
    });

    if (!ownSuite) return;

    it('type-checks under strict TypeScript', async () => {
      await run('npx', ['tsc', '--noEmit', '-p', '.'], { cwd: project });
    });

    it("passes the project's own tests (train, ONNX parity, API contract)", async () => {
      const { stdout } = await run('npx', ['mocha'], { cwd: project });
      assert.match(stdout, /\d+ passing/);
    });
  });
}
