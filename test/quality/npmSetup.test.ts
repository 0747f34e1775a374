// A quiet, truthful set-up (issue 14.6): the install line the README gives works, npm warns about no config key
// of ours, and every installed package admits every Node version our engines field admits (no EBADENGINE).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../support/process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const semver = createRequire(import.meta.url)('semver') as { subset(sub: string, dom: string): boolean };

interface PackageJson {
  name: string;
  version: string;
  engines?: { node?: unknown };
}
const readJson = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

describe('npm set-up', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'npm-setup-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('every installed package admits every Node version engines.node admits (npm ci warns no EBADENGINE)', () => {
    const ours = readJson<PackageJson>(join(ROOT, 'package.json')).engines?.node;
    assert.equal(typeof ours, 'string');
    const lock = readJson<{ packages: Record<string, unknown> }>(join(ROOT, 'package-lock.json'));
    const narrower: string[] = [];
    for (const path of Object.keys(lock.packages)) {
      const file = join(ROOT, path, 'package.json');
      if (!path || !existsSync(file)) continue; // the root; an optional package for another platform
      const pkg = readJson<PackageJson>(file);
      const theirs = pkg.engines?.node;
      if (typeof theirs === 'string' && !semver.subset(ours as string, theirs))
        narrower.push(`${pkg.name}@${pkg.version} wants node ${theirs}`);
    }
    assert.deepEqual(narrower, [], `engines.node is ${ours as string}`);
  });

  it('npm knows every config key in the repository and in a generated project (no "Unknown project config")', async () => {
    const project = join(dir, 'project');
    await run(
      process.execPath,
      [join(ROOT, 'dist/bin/ml-microservice.js'), '--example', 'iris', '--output', project, '--skip-install', '--no-interactive'],
      {
        cwd: dir,
      },
    );
    for (const cwd of [ROOT, project]) {
      const { stderr } = await run('npm', ['config', 'list'], { cwd });
      assert.doesNotMatch(stderr, /Unknown (project|env|user) config/, `${cwd}: ${stderr}`);
    }
  });

  it('the README install line works: npm pack, npm install -g the tarball, its ml-microservice generates a project', async () => {
    // About 40-90 s: pack and a global install of the production dependencies (from npm's cache
    // when warm). The prefix is a temp folder, so nothing global changes.
    // dist/ is built by npm test (and by npm pack's prepare script when run by hand).
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--silent'], { cwd: ROOT });
    const tarball = join(dir, stdout.trim().split('\n').at(-1)!);
    assert.ok(existsSync(tarball), stdout);
    const prefix = join(dir, 'prefix');
    const install = await run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], {
      cwd: dir,
    });
    assert.doesNotMatch(install.stderr, /EBADENGINE|Unknown (project|env) config/, install.stderr);
    const project = join(dir, 'from-tarball');
    const generated = await run(
      join(prefix, 'bin', 'ml-microservice'),
      ['--example', 'iris', '--output', project, '--skip-install', '--no-interactive'],
      {
        cwd: dir,
      },
    );
    assert.match(`${generated.stdout}${generated.stderr}`, /iris-classifier is ready in/);
    assert.ok(readdirSync(join(project, 'src')).length > 0);
    assert.equal(readJson<PackageJson>(join(project, 'package.json')).name, 'iris-classifier');
  });
});
