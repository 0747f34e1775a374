// Re-running inside a project: from its own features.yaml/config.yaml, without clobbering what the user changed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  IRIS_CONFIG,
  IRIS_FEATURES,
  read,
  readJson,
  repoRoot,
  runGenerator,
  snapshot,
  writeFiles,
  generatedIris,
  type GeneratedIris,
} from './support.js';

const TRAIN = 'src/model/train.ts';
const MINE = '\n// my model, not the template\n';

describe('regenerating a project', () => {
  let iris: GeneratedIris;
  beforeEach(async () => (iris = await generatedIris()));
  afterEach(() => iris.cleanup());

  /** A re-run with no arguments inside the project (from a subfolder, like git). */
  const rerun = (options: Record<string, unknown> = {}, answers?: Record<string, unknown>) =>
    runGenerator(join(iris.project, 'src'), { options, answers, force: Boolean(options.force) });

  it('identical input: no conflict, no file rewritten (only .yo-rc.json, which Yeoman always writes)', async () => {
    const before = snapshot(iris.project);
    // Interactive, and any question without an answer throws: a conflict would fail the run.
    await rerun({ interactive: true });
    const after = snapshot(iris.project);
    delete before['.yo-rc.json'];
    delete after['.yo-rc.json'];
    assert.deepEqual(after, before);
  });

  it('after features.yaml is edited, files the user never touched are regenerated without asking', async () => {
    const readme = read(join(iris.project, 'README.md'));
    writeFileSync(join(iris.project, 'features.yaml'), IRIS_FEATURES.replace('max: 15', 'max: 16'));
    await rerun({ interactive: true });
    assert.notEqual(read(join(iris.project, 'README.md')), readme);
    assert.match(read(join(iris.project, 'README.md')), /min 0, max 16/);
  });

  it('an edited stub is kept and reported when nothing can ask (no terminal)', async () => {
    appendFileSync(join(iris.project, TRAIN), MINE);
    const edited = read(join(iris.project, TRAIN));
    writeFileSync(join(iris.project, 'features.yaml'), IRIS_FEATURES.replace('max: 15', 'max: 16'));
    await rerun({ interactive: false });
    assert.equal(read(join(iris.project, TRAIN)), edited);
    assert.match(read(join(iris.project, 'README.md')), /max 16/, 'the rest is regenerated');
  });

  it('any other edited file is kept too', async () => {
    appendFileSync(join(iris.project, 'src/http/app.ts'), MINE);
    const edited = read(join(iris.project, 'src/http/app.ts'));
    await rerun({ interactive: false });
    assert.equal(read(join(iris.project, 'src/http/app.ts')), edited);
  });

  it('edited alert rules are kept, and the chart ships the edited rules, not the template’s', async () => {
    const rules = join(iris.project, 'monitoring/prometheus-rules.yml');
    const edited = read(rules).replace('for: 15m', 'for: 30m');
    assert.notEqual(edited, read(rules));
    writeFileSync(rules, edited);
    await rerun({ interactive: false });
    assert.equal(read(rules), edited);
    assert.equal(read(join(iris.project, 'helm/files/prometheus-rules.yml')), edited);
    assert.equal(
      read(join(iris.project, 'helm/files/grafana-dashboard.json')),
      read(join(iris.project, 'monitoring/grafana-dashboard.json')),
    );
  });

  it('in a terminal, the conflicter asks; "do not overwrite" keeps the stub', async () => {
    appendFileSync(join(iris.project, TRAIN), MINE);
    const edited = read(join(iris.project, TRAIN));
    await rerun({ interactive: true }, { action: 'skip' });
    assert.equal(read(join(iris.project, TRAIN)), edited);
  });

  it('an untouched stub is still not replaced without asking', async () => {
    // A stub is the user's even before they edit it: simulate a template change by altering the record.
    const yoRc = join(iris.project, '.yo-rc.json');
    const content = readJson<Record<string, { generatedFiles: Record<string, string> }>>(yoRc);
    writeFileSync(join(iris.project, TRAIN), `${read(join(iris.project, TRAIN))}// older template\n`);
    content['generator-ml-microservice']!.generatedFiles[TRAIN] = '0'.repeat(64);
    writeFileSync(yoRc, JSON.stringify(content));
    const onDisk = read(join(iris.project, TRAIN));
    await rerun({ interactive: false });
    assert.equal(read(join(iris.project, TRAIN)), onDisk);
  });

  it('--force overwrites the edited stub', async () => {
    const template = read(join(iris.project, TRAIN));
    appendFileSync(join(iris.project, TRAIN), MINE);
    await rerun({ force: true });
    assert.equal(read(join(iris.project, TRAIN)), template);
  });

  it('a kept file stays "yours" in the record, so the next run keeps it again', async () => {
    appendFileSync(join(iris.project, 'src/http/app.ts'), MINE);
    await rerun({ interactive: false });
    await rerun({ interactive: false });
    assert.match(read(join(iris.project, 'src/http/app.ts')), /my model, not the template/);
  });

  it('package.json is merged: the user’s scripts and dependencies stay, the generator’s fields follow config.yaml', async () => {
    const path = join(iris.project, 'package.json');
    const pkg = readJson<Record<string, Record<string, string>>>(path);
    pkg.scripts!['deploy:staging'] = 'helm upgrade --install my-release helm';
    pkg.dependencies!.pino = '9.0.0';
    writeFileSync(path, JSON.stringify(pkg, null, 2));
    writeFileSync(join(iris.project, 'config.yaml'), IRIS_CONFIG.replace('version: 1.0.0', 'version: 1.1.0'));
    await rerun({ interactive: false });
    const merged = readJson<Record<string, Record<string, string> | string>>(path);
    assert.equal(merged.version, '1.1.0');
    assert.equal((merged.scripts as Record<string, string>)['deploy:staging'], 'helm upgrade --install my-release helm');
    assert.equal((merged.dependencies as Record<string, string>).pino, '9.0.0');
    assert.equal((merged.scripts as Record<string, string>).train, 'tsx src/training/main.ts');
  });

  it('package.json: generator-owned fields the user edited (name, version, scripts.start) are kept and reported; --force takes the generated ones', async () => {
    const path = join(iris.project, 'package.json');
    const pkg = readJson<Record<string, Record<string, string> | string>>(path);
    pkg.name = 'my-service';
    pkg.version = '7.0.0';
    (pkg.scripts as Record<string, string>).start = 'node --enable-source-maps dist/http/server.js';
    writeFileSync(path, JSON.stringify(pkg, null, 2));
    // An input change the generator owns: the untouched description follows it, the user's edits do not.
    writeFileSync(join(iris.project, 'config.yaml'), IRIS_CONFIG.replace('version: 1.0.0', 'version: 1.1.0'));
    await rerun({ interactive: false });
    const merged = readJson<Record<string, Record<string, string> | string>>(path);
    assert.equal(merged.name, 'my-service');
    assert.equal(merged.version, '7.0.0');
    assert.equal((merged.scripts as Record<string, string>).start, 'node --enable-source-maps dist/http/server.js');
    assert.equal((merged.scripts as Record<string, string>).train, 'tsx src/training/main.ts');
    await rerun({ interactive: false });
    assert.equal(readJson<Record<string, string>>(path).name, 'my-service', 'kept again on the next run');
    await rerun({ force: true });
    const forced = readJson<Record<string, Record<string, string> | string>>(path);
    assert.equal(forced.name, 'iris-classifier');
    assert.equal(forced.version, '1.1.0');
    assert.equal((forced.scripts as Record<string, string>).start, 'node dist/http/server.js');
  });

  it('the command’s re-run output: counts the unchanged files, lists only what changed or was kept, flags a stale kept README', () => {
    const bin = join(repoRoot, 'dist', 'bin', 'ml-microservice.js');
    appendFileSync(join(iris.project, 'README.md'), MINE);
    const pkgPath = join(iris.project, 'package.json');
    const pkg = readJson<Record<string, unknown>>(pkgPath);
    pkg.name = 'my-service';
    writeFileSync(pkgPath, JSON.stringify(pkg, null, 2));
    writeFileSync(join(iris.project, 'features.yaml'), IRIS_FEATURES.replace('max: 15', 'max: 16'));
    const result = spawnSync(process.execPath, [bin, '--skip-install'], {
      cwd: iris.project,
      encoding: 'utf8',
      input: '',
      timeout: 60_000,
    });
    const output = `${result.stdout}${result.stderr}`;
    assert.equal(result.status, 0, output);
    assert.doesNotMatch(output, /identical/);
    assert.match(output, /^\d{3} files unchanged, \d+ written, 1 kept \(yours\)$/m);
    assert.match(output, /Kept your version of 1 file .*\n {2}README\.md\n/);
    assert.match(output, /README\.md \(kept\): its Features table no longer matches features\.yaml/);
    assert.match(
      output,
      /Kept your value of 1 generator-owned field in package\.json:\n {2}name: yours "my-service", generated "iris-classifier"/,
    );
    assert.ok(output.split('\n').length < 40, output);
  });

  it('new input over a project whose features.yaml the user edited: stops, writes nothing', async () => {
    writeFileSync(join(iris.project, 'features.yaml'), `${IRIS_FEATURES}# my note\n`);
    writeFiles(iris.dir, { 'other/features.yaml': IRIS_FEATURES.replace('max: 5', 'max: 6'), 'other/config.yaml': IRIS_CONFIG });
    const before = snapshot(iris.project);
    await assert.rejects(
      runGenerator(iris.dir, {
        options: { features: 'other/features.yaml', config: 'other/config.yaml', output: 'iris-classifier' },
        force: false,
      }),
      /The project's features\.yaml changed since it was generated/,
    );
    assert.deepEqual(snapshot(iris.project), before);
  });

  it('the service generator alone re-renders the service from the project around the current folder', async () => {
    rmSync(join(iris.project, 'README.md'));
    writeFileSync(join(iris.project, 'config.yaml'), IRIS_CONFIG.replace('port: 8000', 'port: 8111'));
    await runGenerator(join(iris.project, 'src', 'model'), { generator: 'service', force: false });
    assert.match(read(join(iris.project, 'README.md')), /127\.0\.0\.1:8111/);
    assert.equal(readFileSync(join(iris.project, 'config.yaml'), 'utf8'), IRIS_CONFIG.replace('port: 8000', 'port: 8111'));
  });

  it('the service generator outside a project says what to do', async () => {
    await assert.rejects(
      runGenerator(iris.dir, { generator: 'service' }),
      /features\.yaml and config\.yaml not found: run this inside a project/,
    );
  });
});
