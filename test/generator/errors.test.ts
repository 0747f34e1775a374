// Every bad input stops the run before anything is written, and says which file, line, field and problem.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { runGenerator, snapshot, tempDir, writeFiles } from './support.js';

const FEATURES = `features:
  - name: a
    type: number
    min: 0
    max: 10
`;
const CONFIG = `name: demo
version: 1.0.0
task: regression
target: y
id_field: request_id
data:
  path: data.csv
`;

interface SpecCase {
  title: string;
  features?: string;
  config?: string;
  /** Expected in the message: the file:line, then the field and the problem. */
  expected: RegExp;
}

const SPEC_CASES: SpecCase[] = [
  {
    title: 'YAML syntax error',
    features: 'features:\n  - name: a\n    type: [number\n',
    expected: /f\.yaml:\d+:\d+ +\(top level\): YAML syntax error/,
  },
  {
    title: 'unknown key',
    features: `${FEATURES}    colour: red\n`,
    expected: /f\.yaml:6:\d+ +features\[0\]\.colour: unknown key "colour"/,
  },
  {
    title: 'unknown type',
    features: FEATURES.replace('type: number', 'type: float'),
    expected: /f\.yaml:3:\d+ +features\[0\]\.type: .*"number"/,
  },
  {
    title: 'duplicate feature names',
    features: `${FEATURES}  - name: a\n    type: integer\n`,
    expected: /f\.yaml:6:\d+ +features\[1\]\.name: duplicate feature name "a"/,
  },
  {
    title: 'a name that is not an ordinary key in JavaScript',
    features: FEATURES.replace('name: a', 'name: __proto__'),
    expected: /f\.yaml:2:\d+ +features\[0\]\.name: "__proto__" cannot be a name/,
  },
  {
    title: 'min greater than max',
    features: FEATURES.replace('min: 0', 'min: 20'),
    expected: /f\.yaml:4:\d+ +features\[0\]\.min: min \(20\) must not be greater than max \(10\)/,
  },
  {
    title: 'category without values',
    features: 'features:\n  - name: a\n    type: category\n',
    expected: /f\.yaml:2:\d+ +features\[0\]\.values: a category feature needs its list of values/,
  },
  {
    title: 'example outside the range',
    features: `${FEATURES}    example: 11\n`,
    expected: /f\.yaml:6:\d+ +features\[0\]\.example: example 11 is above max 10/,
  },
  {
    title: 'id_field colliding with a feature',
    config: CONFIG.replace('id_field: request_id', 'id_field: a'),
    expected: /c\.yaml:5:\d+ +id_field: id_field "a" is also the name of a feature/,
  },
  {
    title: 'target colliding with a feature',
    config: CONFIG.replace('target: y', 'target: a'),
    expected: /c\.yaml:4:\d+ +target: target "a" is also the name of a feature/,
  },
  {
    title: 'unknown key in config.yaml',
    config: `${CONFIG}colour: red\n`,
    expected: /c\.yaml:8:\d+ +colour: unknown key "colour"/,
  },
  {
    title: 'server.max_connections below 2',
    config: `${CONFIG}server:\n  max_connections: 1\n`,
    expected: /c\.yaml:9:\d+ +server\.max_connections: expected at least 2/,
  },
];

/** Hostile values for every config.yaml string that reaches YAML, Jinja2, a shell or a Jenkinsfile (issue 13). */
const HOSTILE_VALUES = [
  'x\ndefaultBackend: {}',
  "10.0.0.5{{ lookup('pipe','touch /tmp/x') }}",
  'a{% if 1 %}b',
  '$(touch /tmp/x)',
  'a"b',
  "a'b",
];
const RENDERED_FIELDS: [field: string, yaml: (value: string) => string, line: number][] = [
  ['ansible.hosts[0].address', (v) => `ansible:\n  hosts:\n    - name: n1\n      address: ${JSON.stringify(v)}\n`, 11],
  ['helm.ingress.class_name', (v) => `helm:\n  ingress:\n    class_name: ${JSON.stringify(v)}\n`, 10],
  ['server.host', (v) => `server:\n  host: ${JSON.stringify(v)}\n`, 9],
  ['ci.argocd.revision', (v) => `ci:\n  argocd:\n    revision: ${JSON.stringify(v)}\n`, 10],
  ['ci.argocd.repo_url', (v) => `ci:\n  argocd:\n    repo_url: ${JSON.stringify(`https://git.example.com/${v}`)}\n`, 10],
  ['helm.retrain_webhook_url', (v) => `helm:\n  retrain_webhook_url: ${JSON.stringify(`http://r.example.com/${v}`)}\n`, 9],
  ['helm.namespace', (v) => `helm:\n  namespace: ${JSON.stringify(v)}\n`, 9],
  ['docker.registry', (v) => `docker:\n  registry: ${JSON.stringify(v)}\n`, 9],
  ['name', () => '', 1],
];
for (const [field, yaml, line] of RENDERED_FIELDS)
  for (const value of HOSTILE_VALUES) {
    const config = field === 'name' ? CONFIG.replace('name: demo', `name: ${JSON.stringify(value)}`) : CONFIG + yaml(value);
    SPEC_CASES.push({
      title: `a hostile ${field} is refused: ${JSON.stringify(value)}`,
      config,
      expected: new RegExp(`c\\.yaml:${line}:\\d+ +${field.replace(/[.[\]]/g, '\\$&')}: `),
    });
  }
SPEC_CASES.push(
  {
    title: 'a YAML alias bomb names the file and line',
    config: `${CONFIG}a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n`,
    expected: /c\.yaml:9:\d+ +\(top level\): cannot be read: Excessive alias count/,
  },
  {
    title: 'a name longer than a Helm release name (53)',
    config: CONFIG.replace('name: demo', `name: ${'a'.repeat(54)}`),
    expected: /c\.yaml:1:\d+ +name: at most 53 characters/,
  },
  {
    title: 'a name ending with a dash',
    config: CONFIG.replace('name: demo', 'name: demo-'),
    expected: /c\.yaml:1:\d+ +name: expected .*not ending with a dash/,
  },
);

describe('app generator: bad input writes nothing', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  /** Runs with `options`, expects the error, and checks the folder is exactly as before. */
  async function expectFailure(options: Record<string, unknown>, expected: RegExp) {
    const before = snapshot(dir);
    await assert.rejects(runGenerator(dir, { options }), (error: Error) => {
      assert.match(error.message, expected);
      return true;
    });
    assert.deepEqual(snapshot(dir), before, 'the folder is unchanged');
  }

  for (const { title, features = FEATURES, config = CONFIG, expected } of SPEC_CASES) {
    it(title, async () => {
      writeFiles(dir, { 'f.yaml': features, 'c.yaml': config });
      await expectFailure({ features: 'f.yaml', config: 'c.yaml' }, expected);
    });
  }

  it('--output pointing at a file', async () => {
    writeFiles(dir, { 'f.yaml': FEATURES, 'c.yaml': CONFIG, 'taken.txt': 'x' });
    await expectFailure(
      { features: 'f.yaml', config: 'c.yaml', output: 'taken.txt/demo' },
      /--output "taken\.txt\/demo": not a folder: .*taken\.txt is a file/,
    );
  });

  it('a 300-character folder name in --output', async () => {
    writeFiles(dir, { 'f.yaml': FEATURES, 'c.yaml': CONFIG });
    await expectFailure(
      { features: 'f.yaml', config: 'c.yaml', output: 'a'.repeat(300) },
      /--output "a+": a folder name is longer than 255 bytes/,
    );
  });

  it('missing file', async () => {
    writeFiles(dir, { 'c.yaml': CONFIG });
    await expectFailure({ features: 'nope.yaml', config: 'c.yaml' }, /nope\.yaml +\(top level\): cannot read .*nope\.yaml: file not found/);
  });

  it('every problem of both files is reported at once', async () => {
    writeFiles(dir, {
      'f.yaml': FEATURES.replace('type: number', 'type: float'),
      'c.yaml': CONFIG.replace('task: regression', 'task: ranking'),
    });
    await expectFailure({ features: 'f.yaml', config: 'c.yaml' }, /f\.yaml:3:\d+ +features\[0\]\.type[^]*c\.yaml:3:\d+ +task/);
  });

  it('--features without --config', async () => {
    writeFiles(dir, { 'f.yaml': FEATURES });
    await expectFailure({ features: 'f.yaml' }, /--features and --config go together/);
  });

  it('an unknown example', async () => {
    await expectFailure({ example: 'titanic' }, /unknown example "titanic" \(available: iris/);
  });

  it('no input and no terminal: says what to give', async () => {
    await expectFailure({}, /Nothing to generate from[^]*--features FILE --config FILE[^]*--example iris/);
  });

  it('flags for a CSV, some missing', async () => {
    writeFiles(dir, { 'd.csv': 'x,y\n1,2\n' });
    await expectFailure({ name: 'demo', data: 'd.csv' }, /Missing: --task, --target/);
  });

  it('a bad flag value', async () => {
    writeFiles(dir, { 'd.csv': 'x,y\n1,2\n' });
    await expectFailure(
      { name: 'demo', task: 'ranking', target: 'y', data: 'd.csv' },
      /--task "ranking": expected classification or regression/,
    );
  });

  it('a CSV whose columns would share a feature name: both columns named', async () => {
    writeFiles(dir, { 'd.csv': 'petal length,petal-length,y,y,Petal.Width,petal_width\n1,2,3,4,5,6\n' });
    await expectFailure(
      { name: 'demo', task: 'regression', target: 'y', data: 'd.csv' },
      new RegExp(
        'd\\.csv: rename the columns first \\(each needs its own name\\):\\n' +
          ' {2}column 1 "petal length" and column 2 "petal-length" both become the feature name "petal_length"\\n' +
          ' {2}column 4 "y" repeats column 3\\n' +
          ' {2}column 5 "Petal.Width" and column 6 "petal_width" both become the feature name "petal_width"',
      ),
    );
  });

  it('a string target with --task regression fails at generation, saying what to do', async () => {
    writeFiles(dir, { 'd.csv': 'x,kind\n1,cat\n2,dog\n3,cat\n' });
    await expectFailure(
      { name: 'demo', task: 'regression', target: 'kind', data: 'd.csv' },
      /d\.csv: --task regression needs a numeric target, but target column "kind" holds text such as "cat" \(2 distinct values: it looks like classes\); use --task classification/,
    );
  });

  it('--features/--config: config.yaml task regression with a text target in the data fails naming config.yaml', async () => {
    writeFiles(dir, { 'f.yaml': FEATURES, 'c.yaml': CONFIG, 'data.csv': 'a,y\n1,high\n2,low\n' });
    await expectFailure(
      { features: 'f.yaml', config: 'c.yaml' },
      /c\.yaml: task: regression needs a numeric target, but target column "y" holds text such as "high" [^]*use task: classification, or choose a numeric target \(data: .*data\.csv\)/,
    );
  });

  it('classification of a continuous target of many values fails; of a single class too', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i},${(i * 1.37).toFixed(2)}`).join('\n');
    writeFiles(dir, { 'd.csv': `x,price\n${rows}\n`, 'one.csv': 'x,label\n1,a\n2,a\n' });
    await expectFailure(
      { name: 'demo', task: 'classification', target: 'price', data: 'd.csv' },
      /--task classification: target column "price" holds 40 different numbers: a continuous value, not classes; use --task regression/,
    );
    await expectFailure(
      { name: 'demo', task: 'classification', target: 'label', data: 'one.csv' },
      /--task classification needs at least two classes, but target column "label" holds only "a"/,
    );
  });

  it('a data path that does not exist', async () => {
    await expectFailure({ name: 'demo', task: 'regression', target: 'y', data: 'nope.csv' }, /--data "nope.csv": no such file/);
  });

  it('nothing is created, not even the project folder', async () => {
    writeFiles(dir, { 'f.yaml': FEATURES, 'c.yaml': CONFIG.replace('target: y', 'target: a') });
    await assert.rejects(runGenerator(dir, { options: { features: 'f.yaml', config: 'c.yaml' } }));
    assert.deepEqual(readdirSync(dir).sort(), ['c.yaml', 'f.yaml']);
  });
});
