// The templates are real code: the generated project's TypeScript must compile under its own strict
// tsconfig, and both the generator and the templates must pass ESLint and Prettier.
import { fileURLToPath } from 'node:url';
import { run } from '../support/process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('code quality', function () {
  this.timeout(300_000);

  it('the service template type-checks under strict TypeScript', async () => {
    await run('npx', ['tsc', '-p', 'templates/service', '--noEmit'], { cwd: ROOT });
  });

  it('ESLint passes on the generator and the service template', async () => {
    await run('npx', ['eslint', '.', 'templates/service'], { cwd: ROOT });
  });

  it('Prettier finds nothing to reformat', async () => {
    await run('npx', ['prettier', '--check', '.'], { cwd: ROOT });
  });
});
