// `npm run bench`: serving performance of the generated iris service against its peers, measured the same
// way in one run: a FastAPI + scikit-learn service equivalent to the example (Debian's python3-fastapi,
// python3-uvicorn, python3-sklearn; `def` and `async def` endpoints) and a bare node:http server answering a
// fixed JSON (the ceiling). Each is loaded with wrk (Debian) on loopback with the same valid /predict body
// at 1, 16 and 64 connections. The generated service also runs in the variants its config.yaml offers:
// micro-batching off and two worker processes. Prints requests/s, p50, p99, the server's CPU time per request
// and peak RSS per server, the ratios the targets are stated in, /predict/batch rows/s, and start-up time to
// /ready. Figures only: nothing here asserts.
//
// A shared machine is noisy: every server is measured once per round, rounds alternate between servers, and
// the median over rounds is printed. CPU µs per request (from /proc) depends less on what else runs.
//
// What the stdout prediction log costs is measured on its own: the effect (a few µs of a 35–50 µs request) is
// smaller than what two loads of one and the same server differ by here, so it takes paired rounds with a
// second server without logging as the control (measureLoggingCost), and CPU profiles (profileLoggingCost).
//
//   BENCH_SECONDS (default 5) per load; BENCH_CONNECTIONS (default "1,16,64"); BENCH_ROUNDS (default 3);
//   BENCH_LOG_ROUNDS (default 12) and BENCH_LOG_SECONDS (default 2): the logging cost's paired rounds;
//   BENCH_PROJECT: a generated iris project to measure instead of the committed example/ (it is trained and built).
//   BENCH_ONLY=batch: only the batch section (bench/batch.ts: /predict/batch and V2 infer against the FastAPI
//   peer's batch endpoint and the JSON floor, and single-row /predict with the stdout log against the ceiling);
//   BENCH_BATCH_CONNECTIONS (default 1): its connections.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { batchSection } from './batch.js';
import {
  fmt,
  median,
  prepareProject,
  processTree,
  quantile,
  ROOT,
  ROW,
  runWrk,
  start,
  stop,
  wrkInstalled,
  wrkScript,
  type Load,
  type Server,
  type Started,
} from './support.js';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '1,16,64').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LOG_ROUNDS = Number(process.env.BENCH_LOG_ROUNDS ?? 12);
const LOG_SECONDS = Number(process.env.BENCH_LOG_SECONDS ?? 2);
const PYTHON = '/usr/bin/python3';

const OURS = 'generated service';
const LOG_OFF = 'generated, log off';
const LOG_OFF_CONTROL = 'generated, log off (control)';
const LOG_STDOUT_PIPE = 'generated, stdout log to a pipe';
const LOG_STDOUT_FILE = 'generated, stdout log to a file';
const MICRO_BATCH_OFF = 'generated, micro-batch off';
const TWO_WORKERS = 'generated, 2 workers';
const FASTAPI_DEF = 'FastAPI + sklearn (def)';
const FASTAPI_ASYNC = 'FastAPI + sklearn (async def)';
const CEILING = 'bare node:http (ceiling)';

/** The generated service with a label, environment and settings of its own (made in main, for its project). */
type GeneratedServer = (label: string, env: NodeJS.ProcessEnv, extra?: Partial<Server>) => Server;

interface Measured {
  loads: Map<number, Load>;
  /** Peak RSS after the single-row loads … */
  rssMb: number;
  startupMs: number;
  batch?: Map<number, number>;
  /** … and after the /predict/batch loads too (bodies of 1000 rows), where measured. */
  batchRssMb?: number;
}

function requireTools(): void {
  const missing = wrkInstalled() ? [] : ['wrk'];
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

/** A copy of the project's config.yaml with `server` settings merged in; returns its path. */
function configVariant(project: string, name: string, server: Record<string, unknown>): string {
  const config = parse(readFileSync(join(project, 'config.yaml'), 'utf8'));
  config.server = { ...config.server, ...server };
  const path = join(project, `config.${name}.yaml`);
  writeFileSync(path, stringify(config));
  return path;
}

/** Peak resident memory of the server: the sum over its processes (the primary and its workers in cluster mode). */
function peakRssMb(pid: number): number {
  return (
    processTree(pid).reduce((sum, p) => sum + Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? NaN), 0) /
    1024
  );
}

async function measure(server: Server, single: string, scripts: string): Promise<Measured> {
  const { child, baseUrl, startupMs } = await start(server);
  const url = `${baseUrl}/predict`;
  try {
    await runWrk(url, single, 16, 1, child.pid!); // warm-up: JIT, connection setup, allocator
    const loads = new Map<number, Load>();
    for (const connections of CONNECTIONS) loads.set(connections, await runWrk(url, single, connections, SECONDS, child.pid!));
    const rssMb = peakRssMb(child.pid!);
    let batch: Map<number, number> | undefined;
    if (server.batch) {
      batch = new Map();
      for (const rows of [100, 1000]) {
        const script = wrkScript(scripts, `batch${rows}`, { rows: Array.from({ length: rows }, () => ROW) });
        batch.set(rows, (await runWrk(`${baseUrl}/predict/batch`, script, 4, SECONDS, child.pid!)).requestsPerSecond * rows);
      }
    }
    const batchRssMb = server.batch ? peakRssMb(child.pid!) : undefined;
    return { loads, rssMb, startupMs, batch, batchRssMb };
  } finally {
    await stop(child);
  }
}

/** Where a server's busy time went, from a V8 CPU profile (--cpu-prof) of it under load. */
interface BusyTime {
  /** Sampled time not idle, in ms. */
  busyMs: number;
  /** Shares of the busy time: in the prediction log's code (any frame in src/predictionLog/ on the stack) … */
  logShare: number;
  /** … and in garbage collection. */
  gcShare: number;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

function busyTime(profileDir: string): BusyTime {
  const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no CPU profile was written to ${profileDir}`);
  const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const logging = new Map<number, boolean>();
  const inLog = (id: number): boolean => {
    let known = logging.get(id);
    if (known === undefined) {
      const parent = parents.get(id);
      known = /[\\/]predictionLog[\\/]/.test(nodes.get(id)!.callFrame.url) || (parent !== undefined && inLog(parent));
      logging.set(id, known);
    }
    return known;
  };
  let busy = 0;
  let log = 0;
  let gc = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const name = nodes.get(id)!.callFrame.functionName;
    if (name === '(idle)') return;
    busy += ms;
    if (name === '(garbage collector)') gc += ms;
    else if (inLog(id)) log += ms;
  });
  return { busyMs: busy, logShare: log / busy, gcShare: gc / busy };
}

/** The service's busy time under one load: without logging, and with the stdout log to a pipe and to a file. */
interface ProfiledLogging {
  off: BusyTime;
  pipe: BusyTime;
  file: BusyTime;
}

/**
 * The logging cost from inside the server, where the machine's noise cancels out: the service with and without
 * the stdout log (to a pipe, and to a file), each under load with V8's sampling profiler on, and the share of
 * its busy time spent in the prediction log's code, plus the garbage collection it adds. When the server is what
 * limits throughput, a share s of its time costs s of its throughput. Not counted: the reader of the pipe (a
 * container runtime's work, not the service's), and any slowdown of other code the log causes indirectly (caches).
 */
async function profileLoggingCost(generated: GeneratedServer, single: string, scripts: string): Promise<Map<number, ProfiledLogging>> {
  const results = new Map<number, ProfiledLogging>();
  for (const connections of CONNECTIONS) {
    const measured: BusyTime[] = [];
    for (const [name, env, stdout] of [
      ['off', {}, undefined],
      ['pipe', { PREDICTION_LOG_SINKS: 'stdout' }, { pipe: true }],
      ['file', { PREDICTION_LOG_SINKS: 'stdout' }, { file: join(scripts, 'profiled.jsonl') }],
    ] as const) {
      const profileDir = join(scripts, `profile-${name}-${connections}`);
      const server = generated(`${name} (profiled)`, env, { stdout });
      const { child, baseUrl, stdoutLines } = await start({
        ...server,
        args: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...server.args],
      });
      try {
        const url = `${baseUrl}/predict`;
        await runWrk(url, single, connections, 1, child.pid!); // warm-up
        await runWrk(url, single, connections, SECONDS, child.pid!);
      } finally {
        await stop(child); // the profile is written as the process exits
        await stdoutLines(); // releases the file or the pipe's reader
      }
      measured.push(busyTime(profileDir));
    }
    results.set(connections, { off: measured[0]!, pipe: measured[1]!, file: measured[2]! });
  }
  return results;
}

/** One logging variant's cost against the service without logging, per connection count, over paired rounds. */
interface LoggingCost {
  label: string;
  /** Per connection count: each round's 1 − req/s ÷ req/s without logging, and CPU µs/request ÷ that without − 1. */
  throughputCost: Map<number, number[]>;
  cpuCost: Map<number, number[]>;
  /** Prediction lines it wrote (undefined for the control, which logs nothing). */
  lines?: number;
}

/**
 * The stdout prediction log's cost. Two loads of one and the same server differ here by up to ±15%, more than
 * the 10% bound, so: the servers run side by side for the whole measurement; each round loads every one of them
 * for a short while, in an order that rotates from round to round; each round's ratios are taken within it
 * (against the round's load of the service without logging) and the median and quartiles over the rounds are
 * reported. A second server without logging, measured the same way, is the control: its "cost" is what
 * identical servers differ by. Standard output goes to a pipe read by another process, as a container runtime
 * reads it, and, separately, to a file on this machine's disk.
 */
async function measureLoggingCost(generated: GeneratedServer, single: string, scripts: string): Promise<LoggingCost[]> {
  const servers = [
    generated(LOG_OFF, {}),
    generated(LOG_OFF_CONTROL, {}),
    generated(LOG_STDOUT_PIPE, { PREDICTION_LOG_SINKS: 'stdout' }, { stdout: { pipe: true } }),
    generated(LOG_STDOUT_FILE, { PREDICTION_LOG_SINKS: 'stdout' }, { stdout: { file: join(scripts, 'stdout.jsonl') } }),
  ];
  const running: Started[] = [];
  try {
    for (const server of servers) {
      running.push(await start(server));
    }
    for (const { child, baseUrl } of running) await runWrk(`${baseUrl}/predict`, single, 16, 1, child.pid!); // warm-up
    const costs: LoggingCost[] = servers.slice(1).map(({ label }) => ({ label, throughputCost: new Map(), cpuCost: new Map() }));
    for (const connections of CONNECTIONS) {
      for (const cost of costs) {
        cost.throughputCost.set(connections, []);
        cost.cpuCost.set(connections, []);
      }
      for (let round = 0; round < LOG_ROUNDS; round++) {
        const loads: Load[] = [];
        for (let i = 0; i < running.length; i++) {
          const index = (i + round) % running.length;
          const { baseUrl, child } = running[index]!;
          loads[index] = await runWrk(`${baseUrl}/predict`, single, connections, LOG_SECONDS, child.pid!);
        }
        const [off, ...others] = loads;
        others.forEach((load, i) => {
          costs[i]!.throughputCost.get(connections)!.push(1 - load.requestsPerSecond / off!.requestsPerSecond);
          costs[i]!.cpuCost.get(connections)!.push(load.cpuUsPerRequest / off!.cpuUsPerRequest - 1);
        });
      }
      console.log(`  measured the logging cost at ${connections} connections (${LOG_ROUNDS} rounds)`);
    }
    for (const [i, { child, stdoutLines }] of running.entries()) {
      await stop(child);
      if (i >= 2) costs[i - 1]!.lines = await stdoutLines();
    }
    return costs;
  } finally {
    for (const { child } of running) await stop(child);
  }
}

/** The median of every figure over the rounds; peak RSS is the highest seen. */
function combine(rounds: Measured[]): Measured {
  const loads = new Map<number, Load>();
  for (const connections of CONNECTIONS) {
    const of = (key: keyof Load) => median(rounds.map((round) => round.loads.get(connections)![key]));
    loads.set(connections, {
      requestsPerSecond: of('requestsPerSecond'),
      p50Ms: of('p50Ms'),
      p99Ms: of('p99Ms'),
      cpuUsPerRequest: of('cpuUsPerRequest'),
      non2xx: rounds.reduce((sum, round) => sum + round.loads.get(connections)!.non2xx, 0),
    });
  }
  const batch =
    rounds[0]!.batch && new Map([...rounds[0]!.batch.keys()].map((rows) => [rows, median(rounds.map((r) => r.batch!.get(rows)!))]));
  return {
    loads,
    rssMb: Math.max(...rounds.map((round) => round.rssMb)),
    startupMs: median(rounds.map((round) => round.startupMs)),
    batch,
    batchRssMb: rounds[0]!.batchRssMb === undefined ? undefined : Math.max(...rounds.map((round) => round.batchRssMb!)),
  };
}

async function main(): Promise<void> {
  requireTools();
  console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  if (process.env.BENCH_ONLY === 'batch') {
    const scripts = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
    try {
      await batchSection(scripts);
    } finally {
      rmSync(scripts, { recursive: true, force: true });
    }
    return;
  }
  if (process.env.BENCH_ONLY) throw new Error(`BENCH_ONLY=${process.env.BENCH_ONLY}: the only section that runs alone is batch`);
  console.log(
    `Load: wrk -t1, ${SECONDS} s per level after a 1 s warm-up, POST /predict with one iris row, loopback; ` +
      `median of ${ROUNDS} round(s)\n`,
  );
  const project = prepareProject();
  const scripts = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  const single = wrkScript(scripts, 'single', { ...ROW, request_id: 'bench' });
  const generated: GeneratedServer = (label, env, extra = {}) => ({
    label,
    command: 'node',
    args: ['dist/http/server.js'],
    cwd: project,
    env: { HOST: '127.0.0.1', PREDICTION_LOG_SINKS: 'none', ...env },
    ...extra,
  });
  try {
    const servers: Server[] = [
      generated(OURS, {}, { batch: true }),
      generated(MICRO_BATCH_OFF, {
        CONFIG_PATH: configVariant(project, 'microbatch', { inference: { micro_batch: { enabled: false } } }),
      }),
      generated(TWO_WORKERS, { CONFIG_PATH: configVariant(project, 'workers', { workers: 2 }) }),
      {
        label: FASTAPI_DEF,
        command: PYTHON,
        args: [join(ROOT, 'bench/peers/fastapi_iris.py'), join(project, 'data/iris.csv'), 'PORT', 'def'],
        cwd: ROOT,
      },
      {
        label: FASTAPI_ASYNC,
        command: PYTHON,
        args: [join(ROOT, 'bench/peers/fastapi_iris.py'), join(project, 'data/iris.csv'), 'PORT', 'async'],
        cwd: ROOT,
      },
      { label: CEILING, command: 'node', args: [join(ROOT, 'bench/peers/bareNode.mjs'), 'PORT'], cwd: ROOT },
    ];
    const rounds = new Map<string, Measured[]>(servers.map((server) => [server.label, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const server of servers) {
        const measured = await measure(server, single, scripts);
        rounds.get(server.label)!.push(measured);
        const failures = [...measured.loads.values()].reduce((sum, load) => sum + load.non2xx, 0);
        console.log(`  round ${round}: measured ${server.label}${failures ? ` (${failures} non-2xx responses!)` : ''}`);
      }
    }
    const results = new Map([...rounds].map(([label, measured]) => [label, combine(measured)]));
    const loggingCosts = await measureLoggingCost(generated, single, scripts);
    const loggingProfiles = await profileLoggingCost(generated, single, scripts);

    console.log('\nPOST /predict, one row (median over rounds; peak RSS: the highest, summed over a server’s processes)');
    console.log(
      `${'server'.padEnd(34)}${'conns'.padStart(6)}${'req/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}` +
        `${'CPU µs/req'.padStart(12)}${'peak RSS MB'.padStart(13)}`,
    );
    for (const [label, r] of results) {
      for (const [connections, load] of r.loads) {
        console.log(
          `${label.padEnd(34)}${String(connections).padStart(6)}${fmt(load.requestsPerSecond).padStart(10)}${fmt(load.p50Ms, 3).padStart(9)}` +
            `${fmt(load.p99Ms, 3).padStart(9)}${fmt(load.cpuUsPerRequest).padStart(12)}${fmt(r.rssMb, 1).padStart(13)}`,
        );
      }
    }

    const ours = results.get(OURS)!;
    const at = (label: string, connections: number) => results.get(label)!.loads.get(connections)!;
    const percent = (part: number) => `${fmt(100 * part, 1)}%`;
    console.log('\nRatios (target in brackets)');
    for (const connections of CONNECTIONS) {
      const o = at(OURS, connections);
      const peer = at(FASTAPI_DEF, connections);
      const ceiling = at(CEILING, connections);
      console.log(
        `  ${String(connections).padStart(2)} conns: throughput ×${fmt(o.requestsPerSecond / peer.requestsPerSecond, 2)} FastAPI def [≥ 4 at 16]` +
          `, ${fmt(o.requestsPerSecond / ceiling.requestsPerSecond, 2)} of the node:http ceiling [≥ 0.33]` +
          `, p50 ${fmt(o.p50Ms / peer.p50Ms, 2)} of FastAPI's [≤ 0.33]`,
      );
    }
    console.log(`  peak RSS ${fmt(ours.rssMb, 1)} MB under single-row load [≤ 150]; start-up to /ready ${fmt(ours.startupMs)} ms [≤ 1000]`);
    console.log(`  FastAPI def start-up to /ready ${fmt(results.get(FASTAPI_DEF)!.startupMs)} ms (includes training its model)`);

    console.log(
      `\nWhat the stdout prediction log costs [≤ 10% throughput]: against the service without logging, ${LOG_ROUNDS} paired rounds of` +
        ` ${LOG_SECONDS} s each; the median over the rounds [quartiles]. The control logs nothing: it shows what identical servers differ by.`,
    );
    for (const connections of CONNECTIONS) {
      for (const cost of loggingCosts) {
        const spread = (values: number[]) =>
          `${percent(median(values))} [${percent(quantile(values, 0.25))} to ${percent(quantile(values, 0.75))}]`;
        console.log(
          `  ${String(connections).padStart(2)} conns, ${cost.label.padEnd(32)} throughput ${spread(cost.throughputCost.get(connections)!)}` +
            `, CPU per request ${spread(cost.cpuCost.get(connections)!)}`,
        );
      }
    }
    console.log(
      '  From CPU profiles of the service under load, with and without the stdout log: the share of its busy time spent in' +
        ' the prediction log’s code, plus the garbage collection it adds (GC with logging − without):',
    );
    for (const [connections, { off, pipe, file }] of loggingProfiles) {
      const share = (logged: BusyTime) =>
        `${percent(logged.logShare + logged.gcShare - off.gcShare)} of the server's time` +
        ` (log code ${percent(logged.logShare)}, GC ${percent(logged.gcShare)} vs ${percent(off.gcShare)})`;
      console.log(`  ${String(connections).padStart(2)} conns: to a pipe ${share(pipe)}; to a file ${share(file)} [≤ 10%]`);
    }
    for (const cost of loggingCosts.filter((cost) => cost.lines !== undefined))
      console.log(`  ${cost.label} wrote ${fmt(cost.lines!)} prediction lines (0 would mean it logged nothing)`);

    console.log('\nScaling out (the same service, one setting changed)');
    for (const connections of CONNECTIONS) {
      const o = at(OURS, connections);
      const unbatched = at(MICRO_BATCH_OFF, connections);
      const workers = at(TWO_WORKERS, connections);
      console.log(
        `  ${String(connections).padStart(2)} conns: micro-batch off ×${fmt(unbatched.requestsPerSecond / o.requestsPerSecond, 2)} req/s, ` +
          `p99 ${fmt(unbatched.p99Ms, 3)} ms vs ${fmt(o.p99Ms, 3)} ms on; ` +
          `2 workers ×${fmt(workers.requestsPerSecond / o.requestsPerSecond, 2)} req/s, p99 ${fmt(workers.p99Ms, 3)} ms`,
      );
    }
    console.log(
      `  peak RSS: micro-batch off ${fmt(results.get(MICRO_BATCH_OFF)!.rssMb, 1)} MB, 2 workers ${fmt(results.get(TWO_WORKERS)!.rssMb, 1)} MB (all processes)`,
    );

    console.log('\nPOST /predict/batch (4 connections)');
    for (const [rows, perSecond] of ours.batch!) console.log(`  ${String(rows).padStart(5)} rows per request: ${fmt(perSecond)} rows/s`);
    console.log(`  peak RSS after the batch loads too: ${fmt(ours.batchRssMb!, 1)} MB`);

    await batchSection(scripts, project);
  } finally {
    rmSync(project, { recursive: true, force: true });
    rmSync(scripts, { recursive: true, force: true });
  }
}

await main();
