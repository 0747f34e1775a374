// example/ is the committed generator output for the iris example. Regenerating it must reproduce it
// byte for byte; after a template change, run scripts/regenerate-example.sh and commit the result.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, listFiles, ROOT } from '../support/generate.js';

describe('example/ (golden output of the iris example)', function () {
  this.timeout(120_000);
  const committed = join(ROOT, 'example');
  let fresh: string;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'golden-'));
    fresh = join(dir, 'example');
    await generate(fresh, ['--example', 'iris']);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('has the same files as a fresh generation', () => {
    assert.deepEqual(listFiles(committed), listFiles(fresh), 'run scripts/regenerate-example.sh');
  });

  it('has the same content in every file', () => {
    const different = listFiles(fresh).filter((file) => !readFileSync(join(committed, file)).equals(readFileSync(join(fresh, file))));
    assert.deepEqual(different, [], `these files differ from a fresh generation; run scripts/regenerate-example.sh`);
  });
});
