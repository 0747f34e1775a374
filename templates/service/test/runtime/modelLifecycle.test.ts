// The model lifecycle's memory: swapping the live model many times must not grow the process. Each replaced model
// must be let go of and its onnxruntime session released (onnxruntime #25325 reports a leak on reload); a model kept
// by mistake costs what a kept session costs, which the child process measures too, so such a leak shows. Measured
// in a child process with --expose-gc, after warm-up swaps that let the allocators reach their working size.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OnnxPredictor } from '../../src/runtime/predictor.js';
import { exampleRow } from '../../src/contract/index.js';
import { modelVersions } from '../support/modelVersions.js';

// The warm-up must outlast the allocators' growth to their working size: with a 30-feature random forest, RSS still
// grew 15 MB over 200 swaps after 100 warm-up swaps, and as much over 600 (so no leak: it stops), but under 1 MB
// after 300.
const WARM_UP = 300;
const RELOADS = 200;

describe('model lifecycle', () => {
  it(`keeps the memory flat over ${RELOADS} reloads: replaced sessions are released`, async () => {
    const versions = await modelVersions();
    const store = await versions.freshStore();
    const [a, b] = versions.versions;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', 'test/support/reloadMemory.ts', store, a, b, String(WARM_UP), String(RELOADS)],
      { maxBuffer: 1 << 20 },
    );
    const { growth, perSession } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { growth: number; perSession: number };
    const leaked = RELOADS * perSession; // what the reloads would cost if every replaced model were kept
    const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
    assert.ok(perSession > 0, `a kept session costs memory (${mb(perSession)}), or this test could not see a leak`);
    assert.ok(
      growth < leaked / 4,
      `the resident memory grew ${mb(growth)} over ${RELOADS} reloads; keeping every replaced session would cost about ${mb(leaked)}`,
    );
  });

  it('a closed predictor has released its session: it cannot run again', async () => {
    const versions = await modelVersions();
    const predictor = await OnnxPredictor.load(join(await versions.freshStore(), versions.versions[0]), versions.project.spec);
    const row = exampleRow(versions.project.spec.features.features);
    await predictor.predict([row]);
    await predictor.close();
    await assert.rejects(predictor.predict([row]));
  });
});
