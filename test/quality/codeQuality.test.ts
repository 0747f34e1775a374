// The templates are real code: the generated project's TypeScript must compile under its own strict
// tsconfig, and both the generator and the templates must pass ESLint and Prettier.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { run } from '../support/process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('code quality', function () {
  this.timeout(300_000);

  it('the service template type-checks under strict TypeScript', async () => {
    await run('npx', ['tsc', '-p', 'templates/service', '--noEmit'], { cwd: ROOT });
  });

  it("the generator's build, which compiles the service's sources too, is as strict as the service's own", () => {
    const compilerOptions = (path: string) => ts.readConfigFile(path, ts.sys.readFile).config.compilerOptions as Record<string, unknown>;
    const root = compilerOptions(`${ROOT}/tsconfig.json`);
    const service = compilerOptions(`${ROOT}/templates/service/tsconfig.json`);
    const { declaration: _, ...checked } = service; // the generator writes no .d.ts files either
    for (const [option, value] of Object.entries(checked)) assert.deepEqual(root[option], value, `tsconfig.json ${option}`);
  });

  it('ESLint passes on the generator and the service template', async () => {
    await run('npx', ['eslint', '.', 'templates/service'], { cwd: ROOT });
  });

  it('Prettier finds nothing to reformat', async () => {
    await run('npx', ['prettier', '--check', '.'], { cwd: ROOT });
  });
});
