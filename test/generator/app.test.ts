// yo ml-microservice without prompts: the iris example, the user's own files, a CSV given by flags.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCsvRows } from '../../templates/service/src/data/rows.js';
import { parseSpec } from '../../generators/contract.js';
import { PROJECT_DEPENDENCIES, PROJECT_DEV_DEPENDENCIES, PROJECT_SCRIPTS } from '../../generators/service/projectPackage.js';
import { listTemplateFiles } from '../../generators/service/templateFiles.js';
import type { StoredProjectConfig } from '../../generators/projectRoot.js';
import {
  IRIS_CONFIG,
  IRIS_FEATURES,
  irisExample,
  listFiles,
  read,
  readJson,
  repoRoot,
  runGenerator,
  tempDir,
  writeFiles,
} from './support.js';

const generatorPackage = readJson<{ version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> }>(
  join(repoRoot, 'package.json'),
);
const pinned = { ...generatorPackage.devDependencies, ...generatorPackage.dependencies };
const serviceFiles = listTemplateFiles(join(repoRoot, 'templates', 'service')).map((file) => file.destination);
interface PackageJson {
  name: string;
  version: string;
  private: boolean;
  type: string;
  engines: Record<string, string>;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}
const USER_STUBS = ['src/data/dataLoader.ts', 'src/model/preprocessor.ts', 'src/model/train.ts'];
/** What the deployment parts (docker, helm, jenkins, ansible) write with the iris config; ci writes nothing by default. */
const DEPLOYMENT_FILES = [
  '.dockerignore',
  'Dockerfile',
  'ansible/ansible.cfg',
  'ansible/deploy.yaml',
  'ansible/inventory.yaml',
  'ansible/setup-microk8s.yaml',
  'docker/build-image.sh',
  'docker/ensure-model.sh',
  'docker/lintDockerfiles.ts',
  'docker/runtime.Dockerfile',
  'docker/smoke-test.sh',
  'docker/start-local-service.sh',
  'helm/.helmignore',
  'helm/Chart.yaml',
  'helm/deploy.sh',
  'helm/files/config.yaml',
  'helm/files/features.yaml',
  'helm/files/grafana-dashboard.json',
  'helm/files/prometheus-rules.yml',
  'helm/templates/NOTES.txt',
  'helm/templates/_helpers.tpl',
  'helm/templates/alertmanagerconfig.yaml',
  'helm/templates/analysistemplate.yaml',
  'helm/templates/configmap.yaml',
  'helm/templates/deployment.yaml',
  'helm/templates/grafana-dashboard.yaml',
  'helm/templates/hpa.yaml',
  'helm/templates/ingress.yaml',
  'helm/templates/mongodb.yaml',
  'helm/templates/pdb.yaml',
  'helm/templates/prometheusrule.yaml',
  'helm/templates/rollout.yaml',
  'helm/templates/secret.yaml',
  'helm/templates/service.yaml',
  'helm/templates/serviceaccount.yaml',
  'helm/templates/servicemonitor.yaml',
  'helm/templates/tests/test-ready.yaml',
  'helm/values.yaml',
  'jenkins/build-image/Jenkinsfile',
  'jenkins/controller/Dockerfile',
  'jenkins/controller/casc.yaml',
  'jenkins/controller/plugins.txt',
  'jenkins/start-jenkins.sh',
  'jenkins/train-model/Jenkinsfile',
];

describe('app generator: the iris example', () => {
  let dir: string;
  let cleanup: () => void;
  let project: string;

  before(async () => {
    ({ dir, cleanup } = tempDir());
    await runGenerator(dir, { options: { example: 'iris' } });
    project = join(dir, 'iris-classifier');
  });
  after(() => cleanup());

  it('generates into ./<config.name>/ and nowhere else', () => {
    assert.deepEqual(readdirSync(dir), ['iris-classifier']);
  });

  it('writes exactly the contract, the data, package.json, .yo-rc.json, the service files and the deployment files', () => {
    const expected = [
      '.yo-rc.json',
      'config.yaml',
      'data/iris.csv',
      'features.yaml',
      'package.json',
      ...serviceFiles,
      ...DEPLOYMENT_FILES,
    ].sort();
    assert.deepEqual(listFiles(project), expected);
    for (const file of [...USER_STUBS, '.gitignore', 'tsconfig.json']) assert.ok(expected.includes(file), `${file} is generated`);
  });

  it('copies features.yaml, config.yaml and the data verbatim (comments kept)', () => {
    assert.equal(read(join(project, 'features.yaml')), IRIS_FEATURES);
    assert.equal(read(join(project, 'config.yaml')), IRIS_CONFIG);
    assert.match(read(join(project, 'features.yaml')), /^# The model's inputs/);
    assert.equal(read(join(project, 'data/iris.csv')), read(join(irisExample, 'data/iris.csv')));
  });

  it('renders templates: no EJS markers, no .ejs or _dotfile names left', () => {
    for (const file of listFiles(project)) {
      assert.ok(!file.endsWith('.ejs'), file);
      // Helm's partials are named _*.tpl on purpose; nothing else starts with an underscore.
      if (file !== 'helm/templates/_helpers.tpl') assert.ok(!file.split('/').at(-1)!.startsWith('_'), file);
      assert.doesNotMatch(read(join(project, file)), /<%|%>/, `${file} has an EJS marker left`);
    }
    // npm warns "Unknown project config" for a package's own .npmrc key: the CUDA download is skipped by
    // ONNXRUNTIME_NODE_INSTALL=skip in the environment instead (the generator's install, the Dockerfile, the pipelines).
    assert.ok(!existsSync(join(project, '.npmrc')), 'no .npmrc is generated');
  });

  it('writes package.json from code, with the versions pinned in this repository', () => {
    const pkg = readJson<PackageJson>(join(project, 'package.json'));
    assert.equal(pkg.name, 'iris-classifier');
    assert.equal(pkg.version, '1.0.0');
    assert.equal(pkg.private, true);
    assert.equal(pkg.type, 'module');
    assert.deepEqual(pkg.engines, { node: '^20.19.0 || ^22.13.0 || >=24' });
    assert.deepEqual(pkg.scripts, PROJECT_SCRIPTS);
    assert.deepEqual(Object.keys(pkg.dependencies).sort(), [...PROJECT_DEPENDENCIES].sort());
    assert.deepEqual(Object.keys(pkg.devDependencies).sort(), [...PROJECT_DEV_DEPENDENCIES].sort());
    for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      assert.equal(version, pinned[name], `${name} is pinned to this repository's version`);
      assert.match(String(version), /^\d+\.\d+\.\d+/, `${name} is an exact version`);
    }
  });

  it("decides each install script in its dependency tree as the generator does (npm's allowScripts)", () => {
    const pkg = readJson<PackageJson & { allowScripts: Record<string, boolean> }>(join(project, 'package.json'));
    // The project's dependency tree, read from this repository's lock file (the project installs the same versions).
    type LockEntry = { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; hasInstallScript?: boolean };
    const locked = readJson<{ packages: Record<string, LockEntry> }>(join(repoRoot, 'package-lock.json')).packages;
    const resolve = (name: string, from: string): string | undefined => {
      for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
        const path = `${dir ? `${dir}/` : ''}node_modules/${name}`;
        if (locked[path]) return path;
        if (!dir) return undefined;
      }
    };
    const withScripts = new Set<string>();
    const seen = new Set<string>();
    const visit = (path: string | undefined) => {
      if (!path || seen.has(path)) return;
      seen.add(path);
      const entry = locked[path]!;
      if (entry.hasInstallScript) withScripts.add(path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
      for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) visit(resolve(name, path));
    };
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) visit(resolve(name, ''));
    assert.deepEqual(Object.keys(pkg.allowScripts).sort(), [...withScripts].sort());
    const decided = readJson<{ allowScripts: Record<string, boolean> }>(join(repoRoot, 'package.json')).allowScripts;
    for (const [name, allowed] of Object.entries(pkg.allowScripts)) assert.equal(allowed, decided[name], name);
  });

  it('remembers the project in .yo-rc.json', () => {
    const stored = readJson<Record<string, StoredProjectConfig>>(join(project, '.yo-rc.json'))['generator-ml-microservice']!;
    assert.deepEqual(
      { ...stored, generatedFiles: undefined, generatedPackageJson: undefined },
      {
        features: 'features.yaml',
        config: 'config.yaml',
        name: 'iris-classifier',
        task: 'classification',
        target: 'species',
        idField: 'request_id',
        data: 'data/iris.csv',
        generatorVersion: generatorPackage.version,
        generatedFiles: undefined,
        generatedPackageJson: undefined,
      },
    );
    // What was generated, so a re-run can tell the user's package.json edits from its own.
    assert.deepEqual(stored.generatedPackageJson, readJson(join(project, 'package.json')));
    assert.match(stored.generatedFiles?.['src/model/train.ts'] ?? '', /^[0-9a-f]{64}$/);
  });
});

describe('app generator: options instead of prompts', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('--features/--config: the user’s files verbatim, the data copied from next to config.yaml', async () => {
    const features = `# my features\nfeatures:\n  - name: size   # in m²\n    type: number\n    min: 0\n  - name: city\n    type: category\n    values: [paris, lyon]\n`;
    const config = `# mine\nname: house-prices\nversion: 2.1.0\ntask: regression\ntarget: price\nid_field: house_id\ndata:\n  path: data/houses.csv\nserver:\n  port: 9123\n`;
    writeFiles(dir, {
      'spec/features.yaml': features,
      'inputs/config.yaml': config,
      'inputs/data/houses.csv': 'size,city,price\n50,paris,300\n',
    });
    await runGenerator(dir, { options: { features: 'spec/features.yaml', config: 'inputs/config.yaml', output: 'out' } });
    assert.equal(read(join(dir, 'out/features.yaml')), features);
    assert.equal(read(join(dir, 'out/config.yaml')), config);
    assert.equal(read(join(dir, 'out/data/houses.csv')), 'size,city,price\n50,paris,300\n');
    assert.equal(readJson<{ name: string }>(join(dir, 'out/package.json')).name, 'house-prices');
    assert.ok(!existsSync(join(dir, 'house-prices')), '--output replaces ./<name>/');
  });

  it('a data.path that does not exist is not an error (the user adds the data later)', async () => {
    writeFiles(dir, { 'f.yaml': IRIS_FEATURES, 'c.yaml': IRIS_CONFIG });
    await runGenerator(dir, { options: { features: 'f.yaml', config: 'c.yaml' } });
    assert.ok(existsSync(join(dir, 'iris-classifier/features.yaml')));
    assert.ok(!existsSync(join(dir, 'iris-classifier/data')));
  });

  for (const [label, idFlag] of [
    ['dashed flags (yo, the bin)', 'id-field'],
    ['camel-case options (API)', 'idField'],
  ] as const) {
    it(`--name --task --target --id-field --data infer features.yaml from the CSV (${label})`, async () => {
      writeFiles(dir, {
        'in/flowers.csv': 'petal,colour,label,ticket\n1.5,red,a,t1\n2.5,blue,b,t2\n3,red,a,t3\n1,red,b,t4\n0.5,red,a,t5\n',
      });
      await runGenerator(dir, {
        options: { name: 'flowers', task: 'classification', target: 'label', [idFlag]: 'ticket', data: 'in/flowers.csv' },
      });
      const project = join(dir, 'flowers');
      const spec = parseSpec(read(join(project, 'features.yaml')), read(join(project, 'config.yaml')));
      assert.deepEqual(
        spec.features.features.map(({ name, type }) => [name, type]),
        [
          ['petal', 'number'],
          ['colour', 'category'],
        ],
      );
      assert.equal(spec.config.id_field, 'ticket');
      assert.equal(spec.config.target, 'label');
      assert.equal(spec.config.data.path, 'data/flowers.csv');
      assert.equal(read(join(project, 'data/flowers.csv')), read(join(dir, 'in/flowers.csv')));
    });
  }

  it('columns named as the data comes (spaces, dashes, dots, leading digits) become snake_case names; the originals are kept and read back', async () => {
    writeFiles(dir, {
      'cancer.csv':
        'mean radius,worst concave points,2nd-visit,Area.SE,Diagnosis Result,Patient ID\n' +
        '17.99,0.2654,1,153.4,malignant,p1\n20.57,0.186,0,74.08,malignant,p2\n11.42,0.243,1,27.23,benign,p3\n',
    });
    await runGenerator(dir, {
      options: { name: 'cancer', task: 'classification', target: 'Diagnosis Result', idField: 'Patient ID', data: 'cancer.csv' },
    });
    const project = join(dir, 'cancer');
    const spec = parseSpec(read(join(project, 'features.yaml')), read(join(project, 'config.yaml')));
    assert.deepEqual(
      spec.features.features.map(({ name, column }) => [name, column]),
      [
        ['mean_radius', 'mean radius'],
        ['worst_concave_points', 'worst concave points'],
        ['col_2nd_visit', '2nd-visit'],
        ['area_se', 'Area.SE'],
      ],
    );
    assert.deepEqual(
      [spec.config.target, spec.config.data.target_column, spec.config.id_field, spec.config.data.id_column],
      ['diagnosis_result', 'Diagnosis Result', 'patient_id', 'Patient ID'],
    );
    const radius = spec.features.features[0]!;
    assert.equal(radius.description, 'Mean radius (from column `mean radius`), numeric, 11.4 to 20.6 in the data');
    assert.deepEqual([radius.observed, radius.min, radius.max], [{ min: 11.42, max: 20.57 }, undefined, undefined]);
    // The generated project's CSV reader finds every feature and the target under the data's own names.
    const rows = await readCsvRows(join(project, spec.config.data.path), spec.features.features, spec.config);
    assert.deepEqual(rows[0], {
      mean_radius: 17.99,
      worst_concave_points: 0.2654,
      col_2nd_visit: 1,
      area_se: 153.4,
      diagnosis_result: 'malignant',
    });
  });

  it('a data file whose name has glob characters (spaces, parentheses, brackets) is copied as named, not matched as a pattern', async () => {
    const name = 'Building Energy (2024) [v2].csv';
    writeFiles(dir, { [name]: 'Floor Area,Annual kWh\n85.1,5047.3\n108,4090.2\n60.5,3120\n' });
    await runGenerator(dir, { options: { name: 'energy', task: 'regression', target: 'Annual kWh', data: name } });
    const spec = parseSpec(read(join(dir, 'energy/features.yaml')), read(join(dir, 'energy/config.yaml')));
    assert.equal(read(join(dir, 'energy', spec.config.data.path)), read(join(dir, name)));
  });

  it('the target may be given by its feature name too (--target diagnosis_result)', async () => {
    writeFiles(dir, { 'd.csv': 'mean radius,Diagnosis Result\n1,a\n2,b\n3,a\n' });
    await runGenerator(dir, { options: { name: 'd', task: 'classification', target: 'diagnosis_result', data: 'd.csv' } });
    const spec = parseSpec(read(join(dir, 'd/features.yaml')), read(join(dir, 'd/config.yaml')));
    assert.deepEqual([spec.config.target, spec.config.data.target_column], ['diagnosis_result', 'Diagnosis Result']);
  });
});
