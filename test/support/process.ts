// Child processes and ports for tests: commands that must succeed (their output is shown when they do
// not), free loopback ports, and waiting for a URL to answer.
import { execFile, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command; rejects with its output when it exits non-zero. */
export async function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number },
): Promise<RunResult> {
  try {
    return await execFileAsync(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', ...options.env },
      timeout: options.timeout ?? 300_000,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout, stderr, message } = error as Error & Partial<RunResult>;
    throw new Error(
      `${command} ${args.join(' ')} failed in ${options.cwd}: ${message}\n--- stdout\n${stdout ?? ''}\n--- stderr\n${stderr ?? ''}`,
      { cause: error },
    );
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface WaitOptions {
  /** How often to ask (the benchmark measures start-up time with it). */
  intervalMs?: number;
  /** The process that should answer: give up at once when it exits. */
  child?: ChildProcess;
}

/** Polls `url` until it answers with `status`, or fails after `timeoutMs` (or when `child` exits). */
export async function waitForStatus(
  url: string,
  status: number,
  timeoutMs = 30_000,
  { intervalMs = 100, child }: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`the process exited (${child.exitCode ?? child.signalCode}) before ${url} answered ${status}`);
    }
    try {
      const res = await fetch(url);
      if (res.status === status) return;
      last = `status ${res.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})`);
}

/** Resolves with the exit code (or signal) once the child has exited. */
export function exited(child: ChildProcess): Promise<number | NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
}
