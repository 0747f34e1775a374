// Where a model came from: the commit of the project (code, features.yaml, config.yaml and, when it is
// versioned, the data) that trained it, so any model can be traced back and rebuilt.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return undefined; // not a git checkout, or no git installed
  }
}

/**
 * $GIT_COMMIT when set (Jenkins sets it, and a build without .git can pass it on), else `git rev-parse HEAD`;
 * `dirty` tells whether the checkout had uncommitted changes (null when unknown). Null outside git.
 */
export function gitProvenance(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): { commit: string; dirty: boolean | null } | null {
  const fromEnvironment = env.GIT_COMMIT?.trim();
  const commit = fromEnvironment && /^[0-9a-f]{7,64}$/i.test(fromEnvironment) ? fromEnvironment : git(['rev-parse', 'HEAD'], cwd);
  if (!commit) return null;
  const status = git(['status', '--porcelain'], cwd);
  return { commit, dirty: status === undefined ? null : status.length > 0 };
}

/**
 * The sha256 of the data file (config.yaml data.path), read as a stream so a large file is never held in
 * memory; null when the path is not a file (a loader that reads a database or a folder).
 */
export async function dataFileSha256(path: string): Promise<string | null> {
  const isFile = await stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
  if (!isFile) return null;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
