// `npm run bench:logging`: what prediction logging costs. Serves the project's model once per mode (logging
// off, stdout, fluentd, mongodb), loads POST /predict with autocannon over loopback, and prints requests/s
// as a ratio to logging off (the target: each sink costs at most 10%), with the server's CPU time per
// request, which depends less on what else runs on the machine. The fluentd and mongodb sinks log to the
// wire-level test servers of test/support, in this process. A benchmark, not a test: it prints figures and
// asserts nothing. Each round measures every mode; a ratio is taken within its round and the median over
// BENCH_ROUNDS rounds is printed (a shared machine is noisy).
//
//   BENCH_SECONDS=5 (per mode and round)  BENCH_ROUNDS=3  BENCH_CONNECTIONS=10
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import autocannon from 'autocannon';
import type { PredictionLogStats } from '../src/predictionLog/index.js';
import { FluentdReceiver } from '../test/support/fluentdReceiver.js';
import { MongoTestServer } from '../test/support/mongoServer.js';
import { environmentWithoutPredictionLog, predictBody } from '../test/support/predictionLoad.js';
import { trainedProject } from '../test/support/trainedModel.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const MODES = ['off', 'stdout', 'fluentd', 'mongodb'] as const;
type Mode = (typeof MODES)[number];

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

async function waitUntilReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}):\n${output()}`);
    const status = await fetch(`${url}/ready`).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server did not get ready:\n${output()}`);
}

/** CPU seconds (user + system) the process has used so far, from /proc (Linux); undefined elsewhere. */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

interface Figures {
  mode: Mode;
  requestsPerSecond: number;
  /** The server's CPU time per request: the cost that does not depend on what else shares the machine. */
  cpuMicrosecondsPerRequest: number | undefined;
  p99Ms: number;
  failed: number;
  log: PredictionLogStats;
}

/** Serves the model in its own process (as `npm start` would), loads it, and stops it with SIGTERM. */
async function measure(mode: Mode, env: NodeJS.ProcessEnv, body: string): Promise<Figures> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/http/server.ts'], {
    env: {
      ...environmentWithoutPredictionLog(),
      ...env,
      HOST: '127.0.0.1',
      PORT: String(port),
      PREDICTION_LOG_SINKS: mode === 'off' ? 'none' : mode,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stdout!.resume(); // read and thrown away, as a container runtime would read it: a pipe, not a terminal
  child.stderr!.on('data', (chunk) => (errors += chunk));
  try {
    await waitUntilReady(url, child, () => errors);
    const headers = { 'content-type': 'application/json' };
    await autocannon({ url: `${url}/predict`, method: 'POST', headers, body, connections, duration: Math.min(2, seconds) }); // warm-up
    const cpuBefore = cpuSeconds(child.pid);
    const result = await autocannon({ url: `${url}/predict`, method: 'POST', headers, body, connections, duration: seconds });
    const cpuAfter = cpuSeconds(child.pid);
    const ready = (await (await fetch(`${url}/ready`)).json()) as { prediction_log: PredictionLogStats };
    return {
      mode,
      requestsPerSecond: result.requests.average,
      cpuMicrosecondsPerRequest:
        cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * 1e6) / result.requests.total,
      p99Ms: result.latency.p99,
      failed: result.non2xx + result.errors + result.timeouts,
      log: ready.prediction_log,
    };
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function main(): Promise<void> {
  console.log('Training the model into a temporary folder (as the tests do) …');
  const { spec, modelDir } = await trainedProject();
  const fluentd = await FluentdReceiver.start();
  const mongo = await MongoTestServer.start();
  try {
    const env = {
      MODEL_DIR: modelDir,
      FLUENTD_HOST: '127.0.0.1',
      FLUENTD_PORT: String(fluentd.port),
      MONGODB_URL: mongo.url,
      MONGODB_DB: 'bench',
    };
    const body = predictBody(spec, 'bench');
    console.log(`POST /predict, ${connections} connections, ${seconds} s per mode, ${rounds} round(s), loopback\n`);
    // Each round measures every mode in turn and compares each with that round's "off", so a machine that
    // gets busier or quieter between rounds moves both sides of a ratio; the median over rounds is reported.
    const runs = new Map<Mode, Figures[]>(MODES.map((mode) => [mode, []]));
    const ratios = new Map<Mode, { throughput: number[]; cpu: number[] }>(MODES.map((mode) => [mode, { throughput: [], cpu: [] }]));
    for (let round = 1; round <= rounds; round++) {
      let off: Figures | undefined;
      for (const mode of MODES) {
        const figures = await measure(mode, env, body);
        off ??= figures;
        runs.get(mode)!.push(figures);
        ratios.get(mode)!.throughput.push(figures.requestsPerSecond / off.requestsPerSecond);
        if (figures.cpuMicrosecondsPerRequest !== undefined && off.cpuMicrosecondsPerRequest) {
          ratios.get(mode)!.cpu.push(figures.cpuMicrosecondsPerRequest / off.cpuMicrosecondsPerRequest);
        }
        const cpu = figures.cpuMicrosecondsPerRequest?.toFixed(0) ?? '?';
        console.log(`  round ${round}  ${mode.padEnd(8)} ${figures.requestsPerSecond.toFixed(0).padStart(7)} req/s  ${cpu} µs CPU/request`);
      }
    }

    const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
    console.log(
      `\nmedian of ${rounds} round(s)   req/s   ratio to off    cost   CPU µs/req   CPU cost   p99 ms   logged in the last round: sent / dropped / queued`,
    );
    for (const mode of MODES) {
      const figures = runs.get(mode)!;
      const ratio = median(ratios.get(mode)!.throughput);
      const cpuRatios = ratios.get(mode)!.cpu;
      const cpu = figures.flatMap((run) => (run.cpuMicrosecondsPerRequest === undefined ? [] : [run.cpuMicrosecondsPerRequest]));
      const counts = figures.at(-1)!.log.sinks[mode as keyof PredictionLogStats['sinks']];
      const failed = figures.reduce((total, run) => total + run.failed, 0);
      console.log(
        [
          mode.padEnd(20),
          median(figures.map((run) => run.requestsPerSecond))
            .toFixed(0)
            .padStart(7),
          ratio.toFixed(3).padStart(14),
          (mode === 'off' ? '' : percent(1 - ratio)).padStart(7),
          (cpu.length ? median(cpu).toFixed(0) : '?').padStart(12),
          (mode === 'off' || !cpuRatios.length ? '' : percent(median(cpuRatios) - 1)).padStart(10),
          String(median(figures.map((run) => run.p99Ms))).padStart(8),
          `   ${counts ? `${counts.sent} / ${counts.dropped} / ${counts.queued + counts.in_flight}` : '—'}`,
          failed ? `   ${failed} requests failed` : '',
        ].join(' '),
      );
    }
    console.log("\ncost = 1 - ratio to off (the target: at most 10% for each sink); CPU cost: the server's CPU time per request over off.");
    console.log(
      `received by the test servers: fluentd ${fluentd.events.length}, mongodb ${mongo.documents('bench', 'predictions').length}`,
    );
  } finally {
    await fluentd.stop();
    await mongo.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
