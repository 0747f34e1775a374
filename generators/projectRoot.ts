// Finds the generated project a command runs in. yeoman-generator 8 no longer moves destinationRoot to the
// folder holding .yo-rc.json (older versions did), so the generators look for it themselves.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StoredSettingName } from './app/options.js';
import { GENERATOR_PACKAGE_NAME } from './packageRoot.js';

/**
 * What the generators store under "generator-ml-microservice" in the project's .yo-rc.json: the settings of the
 * storage scope (declared in app/options.ts), and the records of what was generated.
 */
export type StoredProjectConfig = { [Name in StoredSettingName]?: string } & {
  /** Project-relative path → sha256 of what the generator last wrote there (see ../conflicts.ts). */
  generatedFiles?: Record<string, string>;
  /** The generator-owned package.json fields as last generated (see service/projectPackage.ts). */
  generatedPackageJson?: Record<string, unknown>;
};

export interface FoundProject {
  root: string;
  stored: StoredProjectConfig;
}

/** The nearest folder at or above `from` whose .yo-rc.json has a generator-ml-microservice entry. */
export function findProject(from: string): FoundProject | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const yoRc = join(dir, '.yo-rc.json');
    if (existsSync(yoRc)) {
      try {
        const content = JSON.parse(readFileSync(yoRc, 'utf8')) as Record<string, unknown>;
        const stored = content[GENERATOR_PACKAGE_NAME];
        if (stored && typeof stored === 'object') return { root: dir, stored: stored as StoredProjectConfig };
      } catch {
        // A broken .yo-rc.json of another tool is not ours to judge; keep looking upward.
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}
