// The real `npm start` process (src/http/server.ts under tsx) for tests of start-up, faults and shutdown:
// spawned with its own environment, its output collected, its exit awaited.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { projectPaths } from '../../src/contract/environment.js';
import { environmentWithoutPredictionLog, until } from './predictionLoad.js';

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far, interleaved. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Waits until the output matches `pattern` (or the process exits) and returns the output. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Waits until the service listens and returns its URL. */
  listening(): Promise<string>;
  /** Kills the process if it still runs (for after() hooks). */
  kill(): void;
}

/**
 * Starts `npm start`'s code with `env` on top of the current environment. The prediction log is off
 * (PREDICTION_LOG_SINKS=none) unless `env` sets PREDICTION_LOG_SINKS; '' means config.yaml's sinks.
 */
export function spawnService(env: NodeJS.ProcessEnv): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/http/server.ts'], {
    env: { ...environmentWithoutPredictionLog(), PREDICTION_LOG_SINKS: 'none', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitForOutput = (pattern: RegExp, timeoutMs = 60_000) =>
    until(
      `output matching ${pattern}`,
      () => output,
      (text) => pattern.test(text) || child.exitCode !== null || child.signalCode !== null,
      timeoutMs,
    );
  return {
    child,
    output: () => output,
    exited,
    waitForOutput,
    async listening() {
      const text = await waitForOutput(/listening on http:\/\/\S+/);
      const url = /listening on (http:\/\/\S+)/.exec(text)?.[1];
      if (!url) throw new Error(`the service did not start listening:\n${text}`);
      return url;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Writes the project's config.yaml, changed by `change`, into `directory` and returns its path (for CONFIG_PATH). */
export function writeConfig(directory: string, change: (config: Record<string, unknown>) => void, name = 'config.yaml'): string {
  const config = parse(readFileSync(projectPaths().config, 'utf8')) as Record<string, unknown>;
  change(config);
  const path = join(directory, name);
  writeFileSync(path, stringify(config));
  return path;
}
