// `npm run bench`: serving performance of the generated iris service against its peers, measured the same
// way in one run: a FastAPI + scikit-learn service equivalent to the example (Debian's python3-fastapi,
// python3-uvicorn, python3-sklearn; `def` and `async def` endpoints) and a bare node:http server answering a
// fixed JSON (the ceiling). Each is loaded with wrk (Debian) on loopback with the same valid /predict body
// at 1, 16 and 64 connections. Prints requests/s, p50, p99 and peak RSS per server, the ratios the targets
// are stated in, /predict/batch rows/s, and start-up time to /ready. Figures only: nothing here asserts.
//
// BENCH_SECONDS (default 5) sets the length of each load; BENCH_CONNECTIONS (default "1,16,64") the levels.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForStatus } from '../test/support/process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '1,16,64').split(',').map(Number);
const PYTHON = '/usr/bin/python3';

const ROW = { sepal_length: 6.1, sepal_width: 2.8, petal_length: 4.7, petal_width: 1.2 };

interface Server {
  label: string;
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  batch?: boolean;
}

interface Load {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
}

function requireTools(): void {
  const missing: string[] = [];
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (error) {
    // wrk --version exits 1 after printing its version; only a missing binary is a problem.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') missing.push('wrk');
  }
  try {
    execFileSync(PYTHON, ['-c', 'import fastapi, uvicorn, sklearn'], { stdio: 'ignore' });
  } catch {
    missing.push('python3-fastapi python3-uvicorn python3-sklearn');
  }
  if (missing.length) {
    console.error(`The benchmark needs Debian packages: apt-get install ${missing.join(' ')}`);
    process.exit(1);
  }
}

/** The committed iris example, trained and built in a temporary folder (dependencies from this repo). */
function prepareExample(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-iris-'));
  cpSync(join(ROOT, 'example'), dir, { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  execFileSync('npm', ['run', 'train', '--silent'], { cwd: dir, stdio: 'ignore' });
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: dir, stdio: 'ignore' });
  return dir;
}

function wrkScript(dir: string, name: string, body: unknown): string {
  const path = join(dir, `${name}.lua`);
  writeFileSync(
    path,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(JSON.stringify(body))}\n`,
  );
  return path;
}

const toMs = (value: string, unit: string) => Number(value) * ({ us: 1e-3, ms: 1, s: 1e3, m: 6e4 } as Record<string, number>)[unit]!;

function runWrk(url: string, script: string, connections: number, seconds: number): Load {
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url], { encoding: 'utf8' });
  const percentile = (p: string) => {
    const match = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return match ? toMs(match[1]!, match[2]!) : NaN;
  };
  return {
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    p50Ms: percentile('50'),
    p99Ms: percentile('99'),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
  };
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

async function start(server: Server, port: number): Promise<{ child: ChildProcess; startupMs: number }> {
  const started = performance.now();
  const child = spawn(server.command, [...server.args], {
    cwd: server.cwd,
    env: { ...process.env, ...server.env, PORT: String(port) },
    stdio: 'ignore',
  });
  await waitForStatus(`http://127.0.0.1:${port}/ready`, 200, 60_000);
  return { child, startupMs: performance.now() - started };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';

async function main(): Promise<void> {
  requireTools();
  console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  console.log(`Load: wrk -t1, ${SECONDS} s per level after a 1 s warm-up, POST /predict with one iris row, loopback\n`);
  const example = prepareExample();
  const scripts = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  const single = wrkScript(scripts, 'single', { ...ROW, request_id: 'bench' });
  try {
    const servers: Server[] = [
      {
        label: 'generated service',
        command: 'node',
        args: ['dist/serving/server.js'],
        cwd: example,
        env: { HOST: '127.0.0.1', PREDICTION_LOG_SINKS: 'none' },
        batch: true,
      },
      {
        label: 'generated service, stdout log',
        command: 'node',
        args: ['dist/serving/server.js'],
        cwd: example,
        env: { HOST: '127.0.0.1', PREDICTION_LOG_SINKS: 'stdout' },
      },
      {
        label: 'FastAPI + sklearn (def)',
        command: PYTHON,
        args: [join(ROOT, 'bench/peers/fastapi_iris.py'), join(example, 'data/iris.csv'), '0', 'def'],
        cwd: ROOT,
      },
      {
        label: 'FastAPI + sklearn (async def)',
        command: PYTHON,
        args: [join(ROOT, 'bench/peers/fastapi_iris.py'), join(example, 'data/iris.csv'), '0', 'async'],
        cwd: ROOT,
      },
      { label: 'bare node:http (ceiling)', command: 'node', args: [join(ROOT, 'bench/peers/bareNode.mjs'), '0'], cwd: ROOT },
    ];
    const results = new Map<string, { loads: Map<number, Load>; rssMb: number; startupMs: number; batch?: Map<number, number> }>();
    for (const server of servers) {
      const port = await freePort();
      // Each peer takes its port as an argument or from PORT.
      server.args = server.args.map((arg) => (arg === '0' ? String(port) : arg));
      const { child, startupMs } = await start(server, port);
      const url = `http://127.0.0.1:${port}/predict`;
      try {
        runWrk(url, single, 16, 1); // warm-up: JIT, connection setup, allocator
        const loads = new Map<number, Load>();
        for (const connections of CONNECTIONS) loads.set(connections, runWrk(url, single, connections, SECONDS));
        let batch: Map<number, number> | undefined;
        if (server.batch) {
          batch = new Map();
          for (const rows of [100, 1000]) {
            const script = wrkScript(scripts, `batch${rows}`, { rows: Array.from({ length: rows }, () => ROW) });
            batch.set(rows, runWrk(`http://127.0.0.1:${port}/predict/batch`, script, 4, SECONDS).requestsPerSecond * rows);
          }
        }
        results.set(server.label, { loads, rssMb: peakRssMb(child.pid!), startupMs, batch });
      } finally {
        await stop(child);
      }
      const r = results.get(server.label)!;
      const failures = [...r.loads.values()].reduce((sum, load) => sum + load.non2xx, 0);
      console.log(`  measured ${server.label}${failures ? ` (${failures} non-2xx responses!)` : ''}`);
    }

    console.log('\nPOST /predict, one row');
    console.log(
      `${'server'.padEnd(32)}${'conns'.padStart(6)}${'req/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'peak RSS MB'.padStart(13)}`,
    );
    for (const [label, r] of results) {
      for (const [connections, load] of r.loads) {
        console.log(
          `${label.padEnd(32)}${String(connections).padStart(6)}${fmt(load.requestsPerSecond).padStart(10)}${fmt(load.p50Ms, 3).padStart(9)}${fmt(load.p99Ms, 3).padStart(9)}${fmt(r.rssMb, 1).padStart(13)}`,
        );
      }
    }

    const ours = results.get('generated service')!;
    const at = (label: string, connections: number) => results.get(label)?.loads.get(connections);
    console.log('\nRatios (target in brackets)');
    for (const connections of CONNECTIONS) {
      const o = ours.loads.get(connections)!;
      const peer = at('FastAPI + sklearn (def)', connections)!;
      const ceiling = at('bare node:http (ceiling)', connections)!;
      const logged = at('generated service, stdout log', connections)!;
      console.log(
        `  ${String(connections).padStart(2)} conns: throughput ×${fmt(o.requestsPerSecond / peer.requestsPerSecond, 2)} FastAPI def [≥ 4 at 16]` +
          `, ${fmt(o.requestsPerSecond / ceiling.requestsPerSecond, 2)} of the node:http ceiling [≥ 0.33]` +
          `, p50 ${fmt(o.p50Ms / peer.p50Ms, 2)} of FastAPI's [≤ 0.33]` +
          `, stdout logging costs ${fmt(100 * (1 - logged.requestsPerSecond / o.requestsPerSecond), 1)}% [≤ 10%]`,
      );
    }
    console.log(`  peak RSS ${fmt(ours.rssMb, 1)} MB [≤ 150]; start-up to /ready ${fmt(ours.startupMs)} ms [≤ 1000]`);
    console.log(
      `  FastAPI def start-up to /ready ${fmt(results.get('FastAPI + sklearn (def)')!.startupMs)} ms (includes training its model)`,
    );
    console.log('\nPOST /predict/batch (4 connections)');
    for (const [rows, perSecond] of ours.batch!) console.log(`  ${String(rows).padStart(5)} rows per request: ${fmt(perSecond)} rows/s`);
  } finally {
    rmSync(example, { recursive: true, force: true });
    rmSync(scripts, { recursive: true, force: true });
  }
}

await main();
