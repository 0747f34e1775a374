// Which files of templates/service go where in the generated project.
import { readdirSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';

/** Folders that are build output or local state of the template, never part of a generated project. */
export const SKIPPED_DIRECTORIES = new Set(['dist', 'node_modules', 'model_bin']);
/** Files written by code instead of copied (package.json is merged so re-running keeps user additions). */
export const SKIPPED_FILES = new Set(['package.json', 'package-lock.json']);

export interface TemplateFile {
  /** Absolute path in the template folder. */
  source: string;
  /** Project-relative destination, with forward slashes. */
  destination: string;
  /** true for *.ejs files, rendered with the service context; the rest are copied byte for byte. */
  render: boolean;
}

/**
 * `_gitignore` → `.gitignore`, `_npmrc` → `.npmrc`: npm drops those dotfiles from published packages, so the
 * template stores them under a leading underscore. `x.ts.ejs` → `x.ts`.
 */
export function destinationName(fileName: string): { name: string; render: boolean } {
  const render = fileName.endsWith('.ejs');
  let name = render ? fileName.slice(0, -'.ejs'.length) : fileName;
  if (name.startsWith('_')) name = `.${name.slice(1)}`;
  return { name, render };
}

export function listTemplateFiles(templateRoot: string): TemplateFile[] {
  const files: TemplateFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) walk(path);
      } else if (entry.isFile()) {
        const folder = relative(templateRoot, dir).split(sep).filter(Boolean).join('/');
        if (!folder && SKIPPED_FILES.has(entry.name)) continue;
        const { name, render } = destinationName(entry.name);
        files.push({ source: path, destination: folder ? posix.join(folder, name) : name, render });
      }
    }
  };
  walk(templateRoot);
  return files;
}
