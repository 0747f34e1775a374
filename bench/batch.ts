// The batch section of `npm run bench` (alone: BENCH_ONLY=batch npm run bench): POST /predict/batch with 100 and
// 1000 rows on the iris example and on a 13-feature numeric spec (wine, generated from test/fixtures/wine.csv with
// --data), against the FastAPI + scikit-learn peer's batch endpoint and against the floor: JSON.parse of the body
// plus JSON.stringify of the answer, measured in this process (and beside it, not in it, the decoding of the body's
// bytes into that text, which a server pays and the floor does not). V2 infer (the Open Inference Protocol's
// POST /v2/models/{name}/infer, the same rows as tensors) is measured the same way when the service answers it,
// and skipped with a note when it does not. Beside them, the bare node:http server (bench/peers/bareNode.mjs)
// reading the same bodies and answering a fixed JSON: what carrying a body costs on this machine before any work,
// which the floor leaves out. Then single-row /predict with the stdout log on against the bare node:http ceiling. Prints rows/s, ms per batch and the ratios the targets are stated in; asserts nothing.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  fmt,
  generatedProject,
  median,
  prepareProject,
  ROOT,
  ROW,
  runWrk,
  start,
  stop,
  wrkScript,
  type Load,
  type Server,
} from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Connections for the batch loads: 1 by default, so that ms per batch is one batch's time end to end. */
const CONNECTIONS = Number(process.env.BENCH_BATCH_CONNECTIONS ?? 1);
const ROW_COUNTS = [100, 1000];
const PYTHON = '/usr/bin/python3';

interface Spec {
  label: string;
  project: string;
  /** config.yaml name: the V2 model name. */
  name: string;
  /** config.yaml id_field (the peer's is request_id). */
  idField: string;
  csv: string;
  target: string;
  features: { name: string; type: string }[];
  /** The peer's extra arguments (none for iris, whose peer is the seed's own shape). */
  peerArgs: string[];
}

/** A batch's timing: rows/s and the mean time of one batch (1000 / batches per second × connections). */
interface BatchLoad {
  rowsPerSecond: number;
  msPerBatch: number;
  p50Ms: number;
  non2xx: number;
}

function specOf(label: string, project: string, csv: string, peerArgs: string[]): Spec {
  const config = parse(readFileSync(join(project, 'config.yaml'), 'utf8')) as { name: string; target: string; id_field: string };
  const { features } = parse(readFileSync(join(project, 'features.yaml'), 'utf8')) as Pick<Spec, 'features'>;
  return { label, project, name: config.name, idField: config.id_field, csv, target: config.target, features, peerArgs };
}

/** The CSV's rows as feature values (numbers where they parse), cycled to `count`, each with an id. */
function bodyRows(spec: Spec, count: number): Record<string, unknown>[] {
  const [header, ...lines] = readFileSync(spec.csv, 'utf8').trim().split(/\r?\n/);
  const columns = header!.split(',');
  const rows = lines.map((line) => {
    const cells = line.split(',');
    const row: Record<string, unknown> = {};
    for (const feature of spec.features) {
      const cell = cells[columns.indexOf(feature.name)]!;
      row[feature.name] = feature.type === 'number' || feature.type === 'integer' ? Number(cell) : cell;
    }
    return row;
  });
  return Array.from({ length: count }, (_, i) => ({ [spec.idField]: `r-${i}`, ...rows[i % rows.length] }));
}

/** The same rows as a V2 infer body: one tensor per feature, shape [N], in the datatype its type takes. */
function v2Body(spec: Spec, rows: Record<string, unknown>[]): unknown {
  const datatype = (type: string) => ({ number: 'FP64', integer: 'INT64', boolean: 'BOOL' })[type] ?? 'BYTES';
  return {
    inputs: spec.features.map((feature) => ({
      name: feature.name,
      shape: [rows.length],
      datatype: datatype(feature.type),
      data: rows.map((row) => row[feature.name]),
    })),
  };
}

function batchLoad(load: Load, rows: number): BatchLoad {
  return {
    rowsPerSecond: load.requestsPerSecond * rows,
    msPerBatch: (1000 / load.requestsPerSecond) * CONNECTIONS,
    p50Ms: load.p50Ms,
    non2xx: load.non2xx,
  };
}

/** ms per run of `once` in this process, over about `bytes` of JSON: the median of 15 timed runs after a warm-up. */
function medianMs(once: () => void, bytes: number): number {
  const perRun = Math.max(1, Math.round(2_000_000 / bytes)); // about 2 MB of JSON a run
  for (let i = 0; i < perRun * 3; i++) once();
  const times: number[] = [];
  for (let run = 0; run < 15; run++) {
    const started = performance.now();
    for (let i = 0; i < perRun; i++) once();
    times.push((performance.now() - started) / perRun);
  }
  return median(times);
}

/** ms per JSON.parse(body) + JSON.stringify(answer) in this process: the floor. */
function floorMs(bodyText: string, answerText: string): number {
  const answer: unknown = JSON.parse(answerText);
  return medianMs(() => {
    JSON.parse(bodyText);
    JSON.stringify(answer);
  }, bodyText.length);
}

/**
 * ms to decode the body's bytes into the text JSON.parse takes, which the floor leaves out (it parses a string) and
 * a server cannot: a string of more than 128 KiB goes to V8's large-object space, which costs far more per byte.
 */
function decodeMs(bodyText: string): number {
  const bytes = Buffer.from(bodyText);
  return medianMs(() => bytes.toString('utf8'), bodyText.length);
}

async function post(url: string, body: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, text: await response.text() };
}

interface Measured {
  /** By label ("generated /predict/batch", …), then rows per request: one load per round. */
  loads: Map<string, Map<number, BatchLoad[]>>;
  floors: Map<string, Map<number, number>>;
  /** By label, then rows: decoding the body (decodeMs), beside its floor. */
  decodes: Map<string, Map<number, number>>;
  notes: string[];
}

function record(map: Map<string, Map<number, BatchLoad[]>>, label: string, rows: number, load: BatchLoad): void {
  if (!map.has(label)) map.set(label, new Map());
  const byRows = map.get(label)!;
  if (!byRows.has(rows)) byRows.set(rows, []);
  byRows.get(rows)!.push(load);
}

const OURS = 'generated /predict/batch';
const V2 = 'generated V2 infer';
const PEER = 'FastAPI + sklearn /predict/batch (def)';
/** The same bodies to node:http reading them and answering a fixed JSON: what carrying a body costs here, before any work. */
const BARE = 'bare node:http, /predict/batch body, fixed answer';
const BARE_V2 = 'bare node:http, V2 body, fixed answer';

async function measureSpec(spec: Spec, scripts: string, measured: Measured): Promise<void> {
  const bodies = new Map(ROW_COUNTS.map((rows) => [rows, bodyRows(spec, rows)]));
  const ours: Server = {
    label: OURS,
    command: 'node',
    args: ['dist/http/server.js'],
    cwd: spec.project,
    env: { HOST: '127.0.0.1', PREDICTION_LOG_SINKS: 'none' },
  };
  const peer: Server = {
    label: PEER,
    command: PYTHON,
    args: [join(ROOT, 'bench/peers/fastapi_iris.py'), spec.csv, 'PORT', 'def', ...spec.peerArgs],
    cwd: ROOT,
  };
  const floors = new Map<number, number>();
  measured.floors.set(`${spec.label} ${OURS}`, floors);
  const decodes = new Map<number, number>();
  measured.decodes.set(`${spec.label} ${OURS}`, decodes);
  const v2Floors = new Map<number, number>();
  const v2Decodes = new Map<number, number>();
  // The floor and the decoding are timed in every round, as the loads are, and their medians shown: one timing
  // taken in a noisy moment moved a floor by half between runs.
  const timings = new Map<Map<number, number>, Map<number, number[]>>();
  const time = (into: Map<number, number>, rows: number, ms: number) => {
    const byRows = timings.get(into) ?? new Map<number, number[]>();
    timings.set(into, byRows);
    byRows.set(rows, [...(byRows.get(rows) ?? []), ms]);
    into.set(rows, median(byRows.get(rows)!));
  };
  for (let round = 1; round <= ROUNDS; round++) {
    const { child, baseUrl } = await start(ours);
    try {
      const v2Url = `${baseUrl}/v2/models/${spec.name}/infer`;
      const probe = await post(v2Url, JSON.stringify(v2Body(spec, bodies.get(ROW_COUNTS[0]!)!.slice(0, 1))));
      let v2 = probe.status === 200;
      // 404: the build serves no V2 routes; anything else: it refuses this body (the note says why).
      if (!v2 && round === 1)
        measured.notes.push(
          `${spec.label}: POST /v2/models/${spec.name}/infer answered ${probe.status}` +
            `${probe.status === 404 ? '' : ` ${probe.text.slice(0, 200)}`}: V2 infer not measured`,
        );
      for (const [rows, body] of bodies) {
        const bodyText = JSON.stringify({ rows: body });
        const answer = await post(`${baseUrl}/predict/batch`, bodyText);
        if (answer.status !== 200) throw new Error(`${spec.label}: /predict/batch answered ${answer.status}: ${answer.text.slice(0, 300)}`);
        time(floors, rows, floorMs(bodyText, answer.text));
        time(decodes, rows, decodeMs(bodyText));
        const script = wrkScript(scripts, `${spec.name}-batch-${rows}`, { rows: body });
        await runWrk(`${baseUrl}/predict/batch`, script, CONNECTIONS, 1, child.pid!); // warm-up
        record(
          measured.loads,
          `${spec.label} ${OURS}`,
          rows,
          batchLoad(await runWrk(`${baseUrl}/predict/batch`, script, CONNECTIONS, SECONDS, child.pid!), rows),
        );
        if (!v2) continue;
        const tensors = v2Body(spec, body);
        const v2Answer = await post(v2Url, JSON.stringify(tensors));
        if (v2Answer.status !== 200) {
          measured.notes.push(
            `${spec.label}: V2 infer of ${rows} rows answered ${v2Answer.status} ${v2Answer.text.slice(0, 200)}: not measured`,
          );
          v2 = false;
          continue;
        }
        time(v2Floors, rows, floorMs(JSON.stringify(tensors), v2Answer.text));
        time(v2Decodes, rows, decodeMs(JSON.stringify(tensors)));
        const v2Script = wrkScript(scripts, `${spec.name}-v2-${rows}`, tensors);
        await runWrk(v2Url, v2Script, CONNECTIONS, 1, child.pid!);
        record(
          measured.loads,
          `${spec.label} ${V2}`,
          rows,
          batchLoad(await runWrk(v2Url, v2Script, CONNECTIONS, SECONDS, child.pid!), rows),
        );
      }
      if (v2) measured.floors.set(`${spec.label} ${V2}`, v2Floors);
      if (v2) measured.decodes.set(`${spec.label} ${V2}`, v2Decodes);
    } finally {
      await stop(child);
    }
    const bare = await start({ label: 'bare', command: 'node', args: [join(ROOT, 'bench/peers/bareNode.mjs'), 'PORT'], cwd: ROOT });
    try {
      for (const [rows, body] of bodies) {
        const loads: [string, string][] = [[BARE, wrkScript(scripts, `${spec.name}-bare-${rows}`, { rows: body })]];
        if (measured.loads.get(`${spec.label} ${V2}`)?.has(rows))
          loads.push([BARE_V2, wrkScript(scripts, `${spec.name}-bare-v2-${rows}`, v2Body(spec, body))]);
        for (const [label, script] of loads) {
          await runWrk(`${bare.baseUrl}/`, script, CONNECTIONS, 1, bare.child.pid!);
          record(
            measured.loads,
            `${spec.label} ${label}`,
            rows,
            batchLoad(await runWrk(`${bare.baseUrl}/`, script, CONNECTIONS, SECONDS, bare.child.pid!), rows),
          );
        }
      }
    } finally {
      await stop(bare.child);
    }
    const python = await start(peer);
    try {
      for (const [rows, body] of bodies) {
        const script = wrkScript(scripts, `${spec.name}-peer-${rows}`, { rows: body });
        await runWrk(`${python.baseUrl}/predict/batch`, script, CONNECTIONS, 1, python.child.pid!);
        record(
          measured.loads,
          `${spec.label} ${PEER}`,
          rows,
          batchLoad(await runWrk(`${python.baseUrl}/predict/batch`, script, CONNECTIONS, SECONDS, python.child.pid!), rows),
        );
      }
    } finally {
      await stop(python.child);
    }
    console.log(`  batch round ${round}: measured ${spec.label}`);
  }
}

/** Single-row /predict with the stdout prediction log on (to a pipe), against the bare node:http ceiling, 16 connections. */
async function measureSingleRowLogged(project: string, scripts: string): Promise<{ logged: number; ceiling: number }> {
  const single = wrkScript(scripts, 'single-logged', { ...ROW, request_id: 'bench' });
  const servers: Server[] = [
    {
      label: 'generated, stdout log',
      command: 'node',
      args: ['dist/http/server.js'],
      cwd: project,
      env: { HOST: '127.0.0.1', PREDICTION_LOG_SINKS: 'stdout' },
      stdout: { pipe: true },
    },
    { label: 'ceiling', command: 'node', args: [join(ROOT, 'bench/peers/bareNode.mjs'), 'PORT'], cwd: ROOT },
  ];
  const rates: number[][] = [[], []];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, server] of servers.entries()) {
      const { child, baseUrl, stdoutLines } = await start(server);
      try {
        await runWrk(`${baseUrl}/predict`, single, 16, 1, child.pid!);
        rates[i]!.push((await runWrk(`${baseUrl}/predict`, single, 16, SECONDS, child.pid!)).requestsPerSecond);
      } finally {
        await stop(child);
        await stdoutLines();
      }
    }
  }
  return { logged: median(rates[0]!), ceiling: median(rates[1]!) };
}

export async function batchSection(scripts: string, iris?: string): Promise<void> {
  console.log(
    `\nBatch section: POST /predict/batch with ${ROW_COUNTS.join(' and ')} rows (CSV rows, each with a request_id), wrk -t1 -c${CONNECTIONS},` +
      ` ${SECONDS} s per load after a 1 s warm-up, median of ${ROUNDS} round(s); prediction log off`,
  );
  const irisProject = iris ?? prepareProject();
  const wineProject = generatedProject('wine', join(ROOT, 'test/fixtures/wine.csv'), 'cultivar');
  const specs = [
    specOf('iris (4 features)', irisProject, join(irisProject, 'data/iris.csv'), []),
    specOf('wine (13 features)', wineProject, join(ROOT, 'test/fixtures/wine.csv'), ['cultivar']),
  ];
  const measured: Measured = { loads: new Map(), floors: new Map(), decodes: new Map(), notes: [] };
  let single: { logged: number; ceiling: number };
  try {
    for (const spec of specs) await measureSpec(spec, scripts, measured);
    single = await measureSingleRowLogged(irisProject, scripts);
  } finally {
    rmSync(wineProject, { recursive: true, force: true });
    if (!iris) rmSync(irisProject, { recursive: true, force: true });
  }

  const of = (label: string, rows: number) => {
    const loads = measured.loads.get(label)?.get(rows);
    if (!loads) return undefined;
    return {
      rowsPerSecond: median(loads.map((load) => load.rowsPerSecond)),
      msPerBatch: median(loads.map((load) => load.msPerBatch)),
      p50Ms: median(loads.map((load) => load.p50Ms)),
      non2xx: loads.reduce((sum, load) => sum + load.non2xx, 0),
    };
  };
  console.log(
    `\n${'spec / server'.padEnd(60)}${'rows'.padStart(6)}${'rows/s'.padStart(12)}${'ms/batch'.padStart(10)}${'p50 ms'.padStart(9)}`,
  );
  for (const spec of specs) {
    for (const server of [OURS, V2, BARE, BARE_V2, PEER]) {
      const label = `${spec.label} ${server}`;
      for (const rows of ROW_COUNTS) {
        const load = of(label, rows);
        if (!load) continue;
        const failures = load.non2xx ? `  (${load.non2xx} non-2xx!)` : '';
        console.log(
          `${label.padEnd(60)}${String(rows).padStart(6)}${fmt(load.rowsPerSecond).padStart(12)}${fmt(load.msPerBatch, 2).padStart(10)}` +
            `${fmt(load.p50Ms, 2).padStart(9)}${failures}`,
        );
      }
      const floors = measured.floors.get(label);
      for (const rows of floors ? ROW_COUNTS : []) {
        const ms = floors!.get(rows)!;
        console.log(
          `${`${label}: floor (JSON.parse + JSON.stringify)`.padEnd(60)}${String(rows).padStart(6)}${fmt((rows / ms) * 1000).padStart(12)}${fmt(ms, 2).padStart(10)}`,
        );
      }
      const decodes = measured.decodes.get(label);
      for (const rows of decodes ? ROW_COUNTS : []) {
        const ms = decodes!.get(rows)!;
        console.log(
          `${`${label}: decoding the body (not in the floor)`.padEnd(60)}${String(rows).padStart(6)}${fmt((rows / ms) * 1000).padStart(12)}${fmt(ms, 3).padStart(10)}`,
        );
      }
    }
  }
  for (const note of measured.notes) console.log(`  note: ${note}`);

  console.log('\nBatch targets (measured [target])');
  for (const spec of specs) {
    for (const rows of ROW_COUNTS) {
      const ours = of(`${spec.label} ${OURS}`, rows)!;
      const peer = of(`${spec.label} ${PEER}`, rows)!;
      const floor = measured.floors.get(`${spec.label} ${OURS}`)!.get(rows)!;
      const target = rows === 1000;
      console.log(
        `  ${spec.label}, ${rows} rows: /predict/batch ×${fmt(ours.rowsPerSecond / peer.rowsPerSecond, 1)} the peer's rows/s${target ? ' [≥ 20]' : ''}` +
          `, ${fmt(ours.msPerBatch / floor, 2)}× the floor${target ? ' [≤ 3]' : ''}`,
      );
      const v2 = of(`${spec.label} ${V2}`, rows);
      const v2Floor = measured.floors.get(`${spec.label} ${V2}`)?.get(rows);
      const bare = of(`${spec.label} ${BARE}`, rows);
      const bareV2 = of(`${spec.label} ${BARE_V2}`, rows);
      if (bare)
        console.log(
          `  ${spec.label}, ${rows} rows: bare node:http with the /predict/batch body ${fmt(bare.msPerBatch, 2)} ms, ${fmt(bare.msPerBatch / floor, 2)}× the floor`,
        );
      if (v2 && v2Floor !== undefined)
        console.log(
          `  ${spec.label}, ${rows} rows: V2 infer ${fmt(v2.msPerBatch / v2Floor, 2)}× its floor${target ? ' [≤ 2]' : ''}` +
            `, ×${fmt(v2.rowsPerSecond / peer.rowsPerSecond, 1)} the peer's /predict/batch rows/s` +
            (bareV2
              ? `; bare node:http with the V2 body ${fmt(bareV2.msPerBatch, 2)} ms, ${fmt(bareV2.msPerBatch / v2Floor, 2)}× the floor`
              : ''),
        );
    }
  }
  console.log(
    `  single-row /predict with the stdout log on (to a pipe), 16 connections: ${fmt(single.logged)} req/s, ` +
      `${fmt(single.logged / single.ceiling, 2)} of the bare node:http ceiling's ${fmt(single.ceiling)} [≥ 0.33]`,
  );
}
