// Runs the package's own bin (as a user would, and as root works) and walks the files it wrote.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './process.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'dist/bin/ml-microservice.js');

/** Generates a project with the given CLI arguments into `output` (never installs). */
export async function generate(output: string, args: string[]): Promise<void> {
  await run('node', [BIN, ...args, '--output', output, '--skip-install', '--force', '--no-interactive'], { cwd: ROOT });
}

/** Every file below `dir`, as sorted relative paths, leaving out node_modules. */
export function listFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      if (entry.name === 'node_modules') continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.push(relative(dir, path));
    }
  };
  walk(dir);
  return files.sort();
}
