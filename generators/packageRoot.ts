// Locates this package's own folder, whether the generators run from source (generators/*.ts under tsx)
// or compiled (dist/generators/*.js), so templates/ and package.json are found the same way in both.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GENERATOR_PACKAGE_NAME = 'generator-ml-microservice';

export interface GeneratorPackageJson {
  name: string;
  version: string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  /** npm's install-script policy: which dependencies may run their install scripts (npm 11.16+). */
  allowScripts?: Record<string, boolean>;
}

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const { name } = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
      if (name === GENERATOR_PACKAGE_NAME) return dir;
    }
    if (dirname(dir) === dir) throw new Error(`cannot find the ${GENERATOR_PACKAGE_NAME} package folder above ${from}`);
  }
}

/** The folder holding this package's package.json (the repository root, or the installed package). */
export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

export function readGeneratorPackageJson(): GeneratorPackageJson {
  return JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as GeneratorPackageJson;
}

export const templatesRoot = join(packageRoot, 'templates');

/** The USAGE text shipped next to a generator's source (tsc does not copy it into dist/). */
export function readUsage(generatorName: string): string {
  const path = join(packageRoot, 'generators', generatorName, 'USAGE');
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}
