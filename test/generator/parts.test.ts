// The small pieces the generators are built from.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseSpec } from '../../generators/contract.js';
import { buildServiceContext } from '../../generators/service/context.js';
import { pinnedVersions } from '../../generators/service/projectPackage.js';
import { listTemplateFiles } from '../../generators/service/templateFiles.js';
import { inferFeatureType, inferFeatures } from '../../generators/app/featureInference.js';
import { IRIS_CONFIG, IRIS_FEATURES, read, runGenerator, tempDir, writeFiles } from './support.js';

describe('template file mapping', () => {
  let dir: string;
  let cleanup: () => void;
  before(() => {
    ({ dir, cleanup } = tempDir());
    writeFiles(dir, {
      _gitignore: 'dist/\n',
      _npmrc: 'x=y\n',
      '.mocharc.json': '{}',
      'README.md.ejs': '# <%= name %>',
      'package.json': '{}',
      'src/a.ts': 'export {};',
      'src/b.ts.ejs': '<%- featureNames %>',
      'src/_c.ts': '',
      'dist/x.js': '',
      'node_modules/m/index.js': '',
      'model_bin/model.onnx': '',
      'sub/dist/y.js': '',
    });
  });
  after(() => cleanup());

  it('renders *.ejs (suffix dropped), copies the rest, turns _name into .name, skips build output', () => {
    const files = listTemplateFiles(dir).map(({ source, destination, render }) => [source.slice(dir.length + 1), destination, render]);
    assert.deepEqual(files, [
      ['.mocharc.json', '.mocharc.json', false],
      ['README.md.ejs', 'README.md', true],
      ['_gitignore', '.gitignore', false],
      ['_npmrc', '.npmrc', false],
      [join('src', '_c.ts'), 'src/.c.ts', false],
      [join('src', 'a.ts'), 'src/a.ts', false],
      [join('src', 'b.ts.ejs'), 'src/b.ts', true],
    ]);
  });
});

describe('service context', () => {
  const spec = parseSpec(IRIS_FEATURES, IRIS_CONFIG);
  const context = buildServiceContext(spec, '9.9.9');

  it('carries the validated spec, ready to print', () => {
    assert.equal(context.name, 'iris-classifier');
    assert.equal(context.task, 'classification');
    assert.equal(context.idField, 'request_id');
    assert.equal(context.port, 8000);
    assert.equal(context.generatorVersion, '9.9.9');
    assert.deepEqual(context.featureNames, ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    assert.equal(context.features[0]?.required, true, 'defaults are filled in');
    assert.deepEqual(JSON.parse(context.exampleRequestJson), {
      request_id: 'req-0001',
      sepal_length: 5.1,
      sepal_width: 3.5,
      petal_length: 1.4,
      petal_width: 0.2,
    });
    // The same row as Open Inference Protocol (V2) requests: an input per feature, and (all numeric) one [1, 4] tensor.
    assert.deepEqual(JSON.parse(context.exampleInferenceJson), {
      id: 'req-0001',
      inputs: [
        { name: 'sepal_length', shape: [1], datatype: 'FP64', data: [5.1] },
        { name: 'sepal_width', shape: [1], datatype: 'FP64', data: [3.5] },
        { name: 'petal_length', shape: [1], datatype: 'FP64', data: [1.4] },
        { name: 'petal_width', shape: [1], datatype: 'FP64', data: [0.2] },
      ],
    });
    assert.deepEqual(JSON.parse(context.exampleMatrixInferenceJson!), {
      id: 'req-0002',
      inputs: [{ name: 'input-0', shape: [1, 4], datatype: 'FP64', data: [[5.1, 3.5, 1.4, 0.2]] }],
    });
    assert.deepEqual(context.featureTable[0], {
      name: 'sepal_length',
      type: 'number',
      required: 'yes',
      constraints: 'min 0, max 15',
      description: 'Sepal length in centimetres',
    });
  });

  it('keeps Markdown tables and shell quotes intact', () => {
    const tricky = parseSpec(
      "features:\n  - name: note\n    type: string\n    description: 'a | b'\n    example: \"it's\"\n",
      IRIS_CONFIG.replace('target: species', 'target: label'),
    );
    const { featureTable, exampleRequestJson, exampleInferenceJson, exampleMatrixInferenceJson } = buildServiceContext(tricky, '1.0.0');
    assert.equal(featureTable[0]?.description, 'a \\| b');
    assert.ok(!exampleRequestJson.includes("'"));
    assert.ok(!exampleInferenceJson.includes("'"));
    assert.equal(exampleMatrixInferenceJson, undefined, 'a string feature: no [N, F] tensor');
    assert.equal((JSON.parse(exampleRequestJson) as { note: string }).note, "it's");
  });
});

describe('a part composed by the app', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  // The app loads and validates the spec once and hands it over; a part run alone reads the project's files.
  it('renders from the spec it is handed, not from a second reading of features.yaml and config.yaml', async () => {
    writeFiles(dir, { 'features.yaml': IRIS_FEATURES, 'config.yaml': IRIS_CONFIG.replace('name: iris-classifier', 'name: read-again') });
    const spec = parseSpec(IRIS_FEATURES, IRIS_CONFIG.replace('name: iris-classifier', 'name: handed-over'));
    for (const generator of ['service', 'docker', 'helm', 'jenkins', 'ansible', 'ci'] as const)
      await runGenerator(dir, { generator, options: { spec } });
    assert.match(read(join(dir, 'helm', 'Chart.yaml')), /^name: handed-over$/m);
    assert.match(read(join(dir, 'README.md')), /^# handed-over$/m);
    assert.match(read(join(dir, 'ansible', 'inventory.yaml')), /service_release: !unsafe handed-over$/m);
    assert.match(read(join(dir, 'jenkins', 'build-image', 'Jenkinsfile')), /handed-over/);
    assert.match(read(join(dir, 'docker', 'build-image.sh')), /handed-over/);
  });
});

describe('pinned versions', () => {
  it('come from the generator’s package.json; an unpinned name is an error', () => {
    const pkg = { name: 'g', version: '1.0.0', dependencies: { a: '1.0.0' }, devDependencies: { b: '2.0.0' } };
    assert.deepEqual(pinnedVersions(['b', 'a'], pkg), { a: '1.0.0', b: '2.0.0' });
    assert.throws(() => pinnedVersions(['a', 'c'], pkg), /pins no version for c/);
  });
});

describe('feature type inference', () => {
  const cases: [string[], number, string][] = [
    [['1', '2', '-3'], 3, 'integer'],
    [['1', '2.5', '1e3'], 3, 'number'],
    [['true', 'False', 'TRUE'], 3, 'boolean'],
    [['yes', 'No', 'YES', 'no'], 4, 'boolean'],
    [['Y', 'n', 'y', 'N'], 4, 'boolean'],
    [['yes', 'n', 'True'], 3, 'boolean'],
    [['0', '1', '1', '0'], 4, 'integer'], // a count or a code as often as a flag: left an integer
    [['yes', 'no', 'maybe', 'yes', 'no', 'no', 'yes'], 7, 'category'],
    [['a', 'b', 'a', 'a', 'b'], 5, 'category'],
    [['a', 'b', 'c', 'd'], 4, 'string'],
    [Array.from({ length: 100 }, (_, i) => `v${i % 21}`), 100, 'string'],
    [Array.from({ length: 100 }, (_, i) => `v${i % 20}`), 100, 'category'],
    [[], 3, 'string'],
  ];
  for (const [values, rows, type] of cases) {
    it(`${JSON.stringify(values.slice(0, 5))}${values.length > 5 ? '…' : ''} → ${type}`, () => {
      assert.equal(inferFeatureType(values, rows), type);
    });
  }

  it('drafts a yes/no column as a boolean whose example is true or false', () => {
    const header = ['Owns Home?', 'Smoker', 'label'];
    const rows = [
      ['Yes', 'N', 'a'],
      ['no', 'y', 'b'],
      ['YES', '', 'a'],
    ];
    const features = inferFeatures({ label: 'd.csv', header, names: ['owns_home', 'smoker', 'label'], rows }, ['label']);
    assert.deepEqual(
      features.map(({ name, column, type, example, required }) => ({ name, column, type, example, required })),
      [
        { name: 'owns_home', column: 'Owns Home?', type: 'boolean', example: true, required: undefined },
        { name: 'smoker', column: 'Smoker', type: 'boolean', example: false, required: false },
      ],
    );
    assert.match(features[0]!.description!, /true or false/);
  });
});
