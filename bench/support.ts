// What the benchmarks share: the iris project trained and built in a temporary folder, a server started on a
// free port and stopped, wrk's load with the server's CPU time per request (from /proc), and the figures'
// arithmetic. bench/run.ts (serving against its peers) and bench/logging.ts (the prediction log's sinks) use it.
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { exited, freePort, waitForStatus } from '../test/support/process.js';

const execFileAsync = promisify(execFile);

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Whether wrk (Debian's package) is on the PATH. */
export function wrkInstalled(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (error) {
    // wrk --version exits 1 after printing its version; only a missing binary is a problem.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
  }
  return true;
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: the unit of utime and stime in /proc/<pid>/stat on Linux

export const ROW = { sepal_length: 6.1, sepal_width: 2.8, petal_length: 4.7, petal_width: 1.2 };

export interface Server {
  label: string;
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Also measure /predict/batch. */
  batch?: boolean;
  /**
   * Where its standard output goes: nowhere (the default); a pipe, read by grep as a container runtime reads
   * it; or a file. Either way its lines are counted, so a logging run cannot silently log nothing.
   */
  stdout?: { pipe: true } | { file: string };
}

export interface Load {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** The server's CPU time (all its processes) per request answered. */
  cpuUsPerRequest: number;
  non2xx: number;
}

/** The iris project (committed example, or BENCH_PROJECT), trained and built in a temporary folder. */
export function prepareProject(): string {
  const source = process.env.BENCH_PROJECT || join(ROOT, 'example');
  const dir = mkdtempSync(join(tmpdir(), 'bench-iris-'));
  cpSync(source, dir, { recursive: true, filter: (path) => !/[\\/](node_modules|dist|model_bin)$/.test(path) });
  return trainAndBuild(dir);
}

/**
 * A project generated from a CSV by this repository's generator (`--data FILE --target COLUMN`, as a user would),
 * in a temporary folder, trained and built. Builds the generator first (dist/bin).
 */
export function generatedProject(name: string, data: string, target: string): string {
  const dir = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'ignore' });
  const args = ['--name', name, '--task', 'classification', '--data', data, '--target', target];
  execFileSync(
    'node',
    [join(ROOT, 'dist/bin/ml-microservice.js'), ...args, '--output', dir, '--skip-install', '--force', '--no-interactive'],
    {
      cwd: ROOT,
      stdio: 'ignore',
    },
  );
  return trainAndBuild(dir);
}

function trainAndBuild(dir: string): string {
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  execFileSync('npm', ['run', 'train', '--silent'], { cwd: dir, stdio: 'ignore' });
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: dir, stdio: 'ignore' });
  return dir;
}

export function wrkScript(dir: string, name: string, body: unknown): string {
  const path = join(dir, `${name}.lua`);
  writeFileSync(
    path,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(JSON.stringify(body))}\n`,
  );
  return path;
}

export const toMs = (value: string, unit: string) => Number(value) * ({ us: 1e-3, ms: 1, s: 1e3, m: 6e4 } as Record<string, number>)[unit]!;

/** The process and its children (cluster workers, uvicorn's), while they live. */
export function processTree(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return [pid, ...children.flatMap(processTree)];
  } catch {
    return [];
  }
}

export function cpuTicks(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // After the command (which may hold spaces) in parentheses: state is field 3, utime 14, stime 15.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
        .replace(/^.*\) /s, '')
        .split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks;
}

/**
 * wrk's load on `url` and the server's (`pid` and its children) CPU time per request. Asynchronous, so servers
 * in this process (bench/logging.ts's test sinks) keep answering while wrk runs.
 */
export async function runWrk(url: string, script: string, connections: number, seconds: number, pid: number): Promise<Load> {
  const pids = processTree(pid);
  const before = cpuTicks(pids);
  const { stdout: out } = await execFileAsync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url], {
    encoding: 'utf8',
  });
  const ticks = cpuTicks(pids) - before;
  const percentile = (p: string) => {
    const match = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return match ? toMs(match[1]!, match[2]!) : NaN;
  };
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  return {
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    p50Ms: percentile('50'),
    p99Ms: percentile('99'),
    cpuUsPerRequest: ((ticks / CLOCK_TICKS_PER_SECOND) * 1e6) / requests,
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
  };
}

export interface Started {
  child: ChildProcess;
  /** http://127.0.0.1:<its port> */
  baseUrl: string;
  startupMs: number;
  /** After the server has stopped: the lines it wrote to standard output (undefined when it went nowhere). */
  stdoutLines: () => Promise<number | undefined>;
}

/** Starts the server on a free port and waits until it is ready. */
export async function start(server: Server): Promise<Started> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  // Each peer takes its port as an argument (the placeholder PORT) or from the PORT variable.
  const args = server.args.map((arg) => (arg === 'PORT' ? String(port) : arg));
  const file = server.stdout && 'file' in server.stdout ? server.stdout.file : undefined;
  const stdout = file ? openSync(file, 'w') : server.stdout ? 'pipe' : 'ignore';
  const started = performance.now();
  const child = spawn(server.command, args, {
    cwd: server.cwd,
    env: { ...process.env, ...server.env, PORT: String(port) },
    stdio: ['ignore', stdout, 'ignore'],
  });
  // JSON lines are counted by grep (the file may be larger than a string can be). The pipe's reader is a
  // process of its own, so reading it costs this process nothing while wrk runs.
  const jsonLines = ['-c', '^{'];
  const counter = child.stdout ? spawn('grep', jsonLines, { stdio: [child.stdout, 'pipe', 'ignore'] }) : undefined;
  child.stdout?.destroy(); // grep holds the pipe now; this process must not read from it
  const counted = counter && new Promise<string>((resolve) => counter.stdout!.on('data', (data) => resolve(String(data))));
  const stdoutLines = async () => {
    if (typeof stdout === 'number') {
      closeSync(stdout);
      // grep exits 1 when it counts none; its output is the count either way.
      return Number(spawnSync('grep', [...jsonLines, file!], { encoding: 'utf8' }).stdout);
    }
    return counted && Number(await counted);
  };
  try {
    // Polled every 10 ms: start-up is measured from spawn to the first 200.
    await waitForStatus(`${baseUrl}/ready`, 200, 60_000, { intervalMs: 10, child });
  } catch (error) {
    await stop(child);
    await stdoutLines();
    throw error;
  }
  return { child, baseUrl, startupMs: performance.now() - started, stdoutLines };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await exited(child);
}

/** The q-quantile, interpolating between the two nearest values (q = 0.5: the median). */
export const quantile = (values: number[], q: number) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  return sorted[below]! + (sorted[Math.min(below + 1, sorted.length - 1)]! - sorted[below]!) * (position - below);
};

export const median = (values: number[]) => quantile(values, 0.5);

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';
