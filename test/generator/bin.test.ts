// The real command, as a user (or CI, as root) runs it: node dist/bin/ml-microservice.js … in a child process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { IRIS_CONFIG, IRIS_FEATURES, read, repoRoot, tempDir, writeFiles } from './support.js';

const BIN = join(repoRoot, 'dist', 'bin', 'ml-microservice.js');
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

/** Runs the bin with stdin closed (not a terminal), like CI does. */
function bin(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, unset: string[] = []) {
  const childEnv = { ...process.env, ...env };
  for (const name of unset) delete childEnv[name];
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    input: '',
    env: childEnv,
    timeout: 60_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}`, stdout: result.stdout, stderr: result.stderr };
}

describe('the ml-microservice command', () => {
  let dir: string;
  let cleanup: () => void;
  before(() => assert.ok(existsSync(BIN), `${BIN} is missing: run \`npm run build\` first (npm test does)`));
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('generates the iris example: exit 0, the files, and what to do next', () => {
    const out = join(dir, 'out');
    const { status, output } = bin(['--example', 'iris', '--skip-install', '--output', out], dir);
    assert.equal(status, 0, output);
    assert.match(output, /create .*features\.yaml/);
    assert.match(output, /iris-classifier is ready in .*out\. Next:\n {2}cd out\n {2}npm install\n/);
    assert.match(output, /npm run train[^]*npm start[^]*http:\/\/127\.0\.0\.1:8000\/docs/);
    assert.equal(read(join(out, 'features.yaml')), IRIS_FEATURES);
    assert.ok(existsSync(join(out, 'src/model/train.ts')));
  });

  it('an invalid config.yaml: exit 1, the file:line field: problem, no stack trace, nothing written', () => {
    writeFiles(dir, { 'f.yaml': IRIS_FEATURES, 'c.yaml': IRIS_CONFIG.replace('task: classification', 'task: clustering') });
    const { status, stderr, output } = bin(['--features', 'f.yaml', '--config', 'c.yaml', '--skip-install'], dir);
    assert.equal(status, 1, output);
    assert.match(stderr, /Invalid project specification:\n {2}c\.yaml:5:7 +task: /);
    assert.doesNotMatch(output, STACK_LINE);
    assert.deepEqual(readdirSync(dir).sort(), ['c.yaml', 'f.yaml']);
  });

  it('--help prints the usage, the options and the USAGE text', () => {
    const { status, stdout } = bin(['--help'], dir);
    assert.equal(status, 0);
    assert.match(stdout, /^Usage: ml-microservice \[options\]/);
    for (const flag of [
      '--features',
      '--config',
      '--example',
      '--name',
      '--task',
      '--target',
      '--id-field',
      '--data',
      '--output',
      '--force',
      '--skip-install',
    ]) {
      assert.match(stdout, new RegExp(`${flag}\\b`), flag);
    }
    assert.match(stdout, /Examples:/);
    assert.match(bin(['service', '--help'], dir).stdout, /^Usage: ml-microservice service \[options\][^]*Renders the service/);
  });

  it('rejects what it does not know (exit 1, no stack trace)', () => {
    for (const args of [['--example', 'iris', '--featurs', 'f.yaml'], ['kafka'], ['--example', 'iris', 'extra']]) {
      const { status, output } = bin(args, dir);
      assert.equal(status, 1, output);
      assert.match(
        output,
        /unknown option --featurs|unknown generator "kafka" \(available: app, ansible, ci, docker, helm, jenkins, service\)|unexpected argument extra/,
      );
      assert.doesNotMatch(output, STACK_LINE);
    }
    assert.deepEqual(readdirSync(dir), []);
  });

  it('inside a project: `ml-microservice` and `ml-microservice service` regenerate; edits are kept and listed', () => {
    assert.equal(bin(['--example', 'iris', '--skip-install'], dir).status, 0);
    const project = join(dir, 'iris-classifier');
    appendFileSync(join(project, 'src/model/train.ts'), '\n// mine\n');
    const again = bin(['--skip-install'], join(project, 'src'));
    assert.equal(again.status, 0, again.output);
    assert.match(
      again.output,
      /Kept your version of 1 file that differs from what the generator would write:\n {2}src\/model\/train\.ts\n/,
    );
    assert.match(read(join(project, 'src/model/train.ts')), /\/\/ mine/);
    const service = bin(['service', '--skip-install'], project);
    assert.equal(service.status, 0, service.output);
    assert.match(service.output, /Service re-rendered/);
  });

  it('installs with npm, in the project, with ONNXRUNTIME_NODE_INSTALL=skip and no .npmrc key npm warns about (unless --skip-install)', () => {
    // A stand-in npm on PATH records how it was called: arguments, folder, the variable onnxruntime-node's
    // install script reads, and whether a project .npmrc exists (npm warns "Unknown project config" for its keys).
    const fakeBin = join(dir, 'fake-bin');
    writeFiles(fakeBin, {
      npm: `#!/bin/sh\necho "$* | $(pwd) | \${ONNXRUNTIME_NODE_INSTALL-unset} | $(test -e .npmrc && echo npmrc || echo no-npmrc)" >> "${join(dir, 'npm-calls.txt')}"\n`,
    });
    chmodSync(join(fakeBin, 'npm'), 0o755);
    writeFileSync(join(dir, 'npm-calls.txt'), '');
    const env: NodeJS.ProcessEnv = { PATH: `${fakeBin}${delimiter}${process.env.PATH}` };
    const { status, output } = bin(['--example', 'iris'], dir, env, ['ONNXRUNTIME_NODE_INSTALL']);
    assert.equal(status, 0, output);
    assert.equal(read(join(dir, 'npm-calls.txt')), `install | ${join(dir, 'iris-classifier')} | skip | no-npmrc\n`);
  });

  it('re-running removes the .npmrc an earlier version wrote (npm warned about its key); an edited one stays, with a hint', () => {
    const project = join(dir, 'old');
    assert.equal(bin(['--example', 'iris', '--skip-install', '--output', project], dir).status, 0);
    // What the generator used to write, recorded in .yo-rc.json as written by it.
    const oldNpmrc =
      '# onnxruntime-node downloads CUDA libraries at install unless told not to; inference here is CPU-only.\nonnxruntime-node-install=skip\n';
    writeFileSync(join(project, '.npmrc'), oldNpmrc);
    const yoRc = JSON.parse(read(join(project, '.yo-rc.json'))) as Record<string, { generatedFiles: Record<string, string> }>;
    yoRc['generator-ml-microservice']!.generatedFiles['.npmrc'] = createHash('sha256').update(oldNpmrc).digest('hex');
    writeFileSync(join(project, '.yo-rc.json'), JSON.stringify(yoRc));
    const again = bin(['--skip-install'], project);
    assert.equal(again.status, 0, again.output);
    assert.match(again.output, /Removed \.npmrc/);
    assert.ok(!existsSync(join(project, '.npmrc')));
    assert.doesNotMatch(read(join(project, '.yo-rc.json')), /\.npmrc/);

    writeFileSync(join(project, '.npmrc'), 'registry=https://npm.example.com/\nonnxruntime-node-install=skip\n');
    const edited = bin(['--skip-install'], project);
    assert.equal(edited.status, 0, edited.output);
    assert.match(edited.output, /\.npmrc: npm warns about the onnxruntime-node-install key; set ONNXRUNTIME_NODE_INSTALL=skip/);
    assert.match(read(join(project, '.npmrc')), /registry=/);
  });

  it('leaves a user-chosen ONNXRUNTIME_NODE_INSTALL (e.g. cuda12) to the install', () => {
    const fakeBin = join(dir, 'fake-bin');
    writeFiles(fakeBin, { npm: `#!/bin/sh\necho "$ONNXRUNTIME_NODE_INSTALL" >> "${join(dir, 'npm-calls.txt')}"\n` });
    chmodSync(join(fakeBin, 'npm'), 0o755);
    writeFileSync(join(dir, 'npm-calls.txt'), '');
    const { status, output } = bin(['--example', 'iris'], dir, {
      PATH: `${fakeBin}${delimiter}${process.env.PATH}`,
      ONNXRUNTIME_NODE_INSTALL: 'cuda12',
    });
    assert.equal(status, 0, output);
    assert.equal(read(join(dir, 'npm-calls.txt')), 'cuda12\n');
  });
});
