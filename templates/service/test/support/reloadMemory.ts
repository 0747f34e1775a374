// Run by test/runtime/modelLifecycle.test.ts in a child process with --expose-gc (argv: store, version a, version b,
// warm-up swaps, measured swaps). Prints one JSON line: what one onnxruntime session costs in resident memory when it
// is kept, and how much the resident memory grew over each of three windows of measured swaps of the live model between the
// two versions (after the warm-up swaps, which let the allocators reach their working size), so that the test can tell
// released sessions from leaked ones (onnxruntime #25325).
import { join } from 'node:path';
import { projectPaths } from '../../src/contract/environment.js';
import { exampleRow, loadSpec } from '../../src/contract/index.js';
import { ModelLifecycle, type LiveModelSlot } from '../../src/runtime/modelLifecycle.js';
import { OnnxPredictor } from '../../src/runtime/predictor.js';

const [store, a, b, warmUp, measured] = process.argv.slice(2) as [string, string, string, string, string];
const WINDOWS = 3;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The resident memory once garbage is collected (finalizers of native objects included). */
async function settledRss(): Promise<number> {
  for (let i = 0; i < 5; i++) {
    gc!();
    await sleep(20);
  }
  return process.memoryUsage().rss;
}

const paths = projectPaths();
const loaded = loadSpec(paths.features, paths.config);
const server = { ...loaded.config.server, hot_reload: { ...loaded.config.server.hot_reload, watch: false } };
const spec = { ...loaded, config: { ...loaded.config, server } };
const row = exampleRow(spec.features.features);

// What a session costs when it is kept: a few loaded (and run) side by side, once onnxruntime's one-time set-up is paid.
for (const version of [a, b]) await (await OnnxPredictor.load(join(store, version), spec)).close();
const beforeKept = await settledRss();
const kept: OnnxPredictor[] = [];
for (let i = 0; i < 20; i++) {
  const predictor = await OnnxPredictor.load(join(store, i % 2 ? a : b), spec);
  await predictor.predict([row]);
  kept.push(predictor);
}
const perSession = ((await settledRss()) - beforeKept) / kept.length;
for (const predictor of kept) await predictor.close();

const live: LiveModelSlot = {};
const lifecycle = new ModelLifecycle({ spec, modelDir: store, live, log: () => {} });
let released = 0;
lifecycle.subscribe((event) => {
  if (event.outcome === 'released') released++;
});
await lifecycle.start(); // a: LATEST

let swaps = 0;
async function swap(times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    swaps++;
    const result = await lifecycle.reload({ version: swaps % 2 ? b : a });
    if (result.live.outcome !== 'swapped') throw new Error(`swap ${swaps}: ${JSON.stringify(result.live)}`);
    await live.predictor!.predict([row]);
  }
  while (released < swaps) await sleep(5);
}

await swap(Number(warmUp));
// The growth over each of WINDOWS windows of `measured` swaps: a leak grows every window by about as much, while
// the allocators' one-time growth to their working size (which may come late on a busy machine) shows in one.
const growths: number[] = [];
let before = await settledRss();
for (let window = 0; window < WINDOWS; window++) {
  await swap(Number(measured));
  const after = await settledRss();
  growths.push(after - before);
  before = after;
}
console.log(JSON.stringify({ perSession, growths }));
await lifecycle.close();
