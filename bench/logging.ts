// `npm run bench:logging`: what each prediction log sink costs. Serves the iris project (trained and built as
// `npm run bench` does) once per mode: logging off, stdout (to a pipe, read as a container runtime reads it),
// fluentd and mongodb. The fluentd and mongodb sinks send to the generated project's wire-level test servers
// (templates/service/test/support), run in this process. Loads POST /predict with wrk over loopback and prints
// requests/s as a ratio to logging off (the target: each sink costs at most 10%), with the server's CPU time per
// request, which depends less on what else runs on the machine. Figures only: nothing here asserts. Each round
// measures every mode; a ratio is taken within its round and the median over the rounds is printed (a shared
// machine is noisy).
//
//   BENCH_SECONDS (default 5) per mode and round; BENCH_ROUNDS (default 3); BENCH_CONNECTIONS (default "16");
//   BENCH_PROJECT: a generated iris project to measure instead of the committed example/.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PredictionLogStats } from '../templates/service/src/predictionLog/index.js';
import { FluentdReceiver } from '../templates/service/test/support/fluentdReceiver.js';
import { MongoTestServer } from '../templates/service/test/support/mongoServer.js';
import { fmt, median, prepareProject, ROW, runWrk, start, stop, wrkInstalled, wrkScript, type Load } from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '16').split(',').map(Number);
const MODES = ['off', 'stdout', 'fluentd', 'mongodb'] as const;
type Mode = (typeof MODES)[number];
const DB = 'bench';
const COLLECTION = 'predictions';

interface Figures {
  loads: Map<number, Load>;
  /** The sinks' counts after the last load, from /ready. */
  log: PredictionLogStats;
  /** JSON lines the server wrote to standard output (the stdout sink's records). */
  stdoutLines: number | undefined;
}

/** Serves the model in its own process (`node dist/http/server.js`, as `npm start` does), loads it, stops it. */
async function measure(project: string, mode: Mode, env: NodeJS.ProcessEnv, script: string): Promise<Figures> {
  const { child, baseUrl, stdoutLines } = await start({
    label: mode,
    command: 'node',
    args: ['dist/http/server.js'],
    cwd: project,
    env: { HOST: '127.0.0.1', ...env, PREDICTION_LOG_SINKS: mode === 'off' ? 'none' : mode },
    stdout: { pipe: true },
  });
  const url = `${baseUrl}/predict`;
  const loads = new Map<number, Load>();
  let log: PredictionLogStats;
  try {
    await runWrk(url, script, 16, 1, child.pid!); // warm-up: JIT, connection setup, the sinks' connections
    for (const connections of CONNECTIONS) loads.set(connections, await runWrk(url, script, connections, SECONDS, child.pid!));
    log = ((await (await fetch(`${baseUrl}/ready`)).json()) as { prediction_log: PredictionLogStats }).prediction_log;
  } finally {
    await stop(child);
  }
  return { loads, log, stdoutLines: await stdoutLines() };
}

async function main(): Promise<void> {
  if (!wrkInstalled()) {
    console.error('The benchmark needs wrk: apt-get install wrk (Debian)');
    process.exit(1);
  }
  console.log('Training and building the iris project in a temporary folder …');
  const project = prepareProject();
  const scripts = mkdtempSync(join(tmpdir(), 'bench-logging-'));
  const fluentd = await FluentdReceiver.start();
  const mongo = await MongoTestServer.start();
  try {
    const script = wrkScript(scripts, 'single', { ...ROW, request_id: 'bench' });
    const env = {
      FLUENTD_HOST: '127.0.0.1',
      FLUENTD_PORT: String(fluentd.port),
      FLUENTD_TAG: 'bench.prediction',
      MONGODB_URL: mongo.url,
      MONGODB_DB: DB,
      MONGODB_COLLECTION: COLLECTION,
    };
    console.log(
      `POST /predict with one iris row, wrk -t1, ${CONNECTIONS.join(', ')} connection(s), ${SECONDS} s per mode after a 1 s warm-up, ` +
        `${ROUNDS} round(s), loopback\n`,
    );
    // Each round measures every mode in turn and compares each with that round's "off", so a machine that
    // gets busier or quieter between rounds moves both sides of a ratio; the median over rounds is reported.
    const runs = new Map<Mode, Figures[]>(MODES.map((mode) => [mode, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const mode of MODES) {
        const figures = await measure(project, mode, env, script);
        runs.get(mode)!.push(figures);
        for (const [connections, load] of figures.loads) {
          console.log(
            `  round ${round}  ${mode.padEnd(8)} ${String(connections).padStart(3)} conns ${fmt(load.requestsPerSecond).padStart(8)} req/s` +
              `  ${fmt(load.cpuUsPerRequest)} µs CPU/request${load.non2xx ? `  (${load.non2xx} non-2xx!)` : ''}`,
          );
        }
      }
    }

    const percent = (value: number) => `${fmt(value * 100, 1)}%`;
    console.log(
      `\nmedian of ${ROUNDS} round(s)        req/s  ratio to off    cost  CPU µs/req  CPU cost   p99 ms   last round's log: sent / dropped / queued`,
    );
    for (const connections of CONNECTIONS) {
      const load = (figures: Figures) => figures.loads.get(connections)!;
      const off = runs.get('off')!;
      for (const mode of MODES) {
        const figures = runs.get(mode)!;
        const ratio = median(figures.map((run, i) => load(run).requestsPerSecond / load(off[i]!).requestsPerSecond));
        const cpuRatio = median(figures.map((run, i) => load(run).cpuUsPerRequest / load(off[i]!).cpuUsPerRequest));
        const counts = figures.at(-1)!.log.sinks[mode as keyof PredictionLogStats['sinks']];
        const non2xx = figures.reduce((total, run) => total + load(run).non2xx, 0);
        console.log(
          [
            `${mode.padEnd(8)} ${String(connections).padStart(3)} conns`.padEnd(24),
            fmt(median(figures.map((run) => load(run).requestsPerSecond))).padStart(8),
            fmt(ratio, 3).padStart(13),
            (mode === 'off' ? '' : percent(1 - ratio)).padStart(7),
            fmt(median(figures.map((run) => load(run).cpuUsPerRequest))).padStart(11),
            (mode === 'off' ? '' : percent(cpuRatio - 1)).padStart(9),
            fmt(median(figures.map((run) => load(run).p99Ms)), 3).padStart(8),
            `   ${counts ? `${counts.sent} / ${counts.dropped} / ${counts.queued + counts.in_flight}` : '—'}`,
            non2xx ? `   ${non2xx} non-2xx responses` : '',
          ].join(' '),
        );
      }
    }
    console.log("\ncost = 1 - ratio to off (the target: at most 10% for each sink); CPU cost: the server's CPU time per request over off.");
    const stdoutLines = runs.get('stdout')!.at(-1)!.stdoutLines;
    console.log(`the stdout sink wrote ${fmt(stdoutLines ?? NaN)} JSON lines in the last round (to a pipe, counted by grep)`);
    console.log(`received by the test servers: fluentd ${fluentd.events.length}, mongodb ${mongo.documents(DB, COLLECTION).length}`);
  } finally {
    await fluentd.stop();
    await mongo.stop();
    rmSync(project, { recursive: true, force: true });
    rmSync(scripts, { recursive: true, force: true });
  }
}

await main();
