// A damaged preprocessor.json is refused on load naming the file and the field (it was "TypeError … reading
// 'reduce'" at start-up), so the service says "Cannot start: <file> …" and exits 1 instead of a stack trace.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelLoadError } from '../../templates/service/src/model/artifacts.js';
import { OnnxPredictor } from '../../templates/service/src/runtime/predictor.js';
import { parseSpec, type Spec } from '../../templates/service/src/contract/index.js';
import { runTraining } from '../../templates/service/src/training/pipeline.js';

const IRIS = new URL('../../templates/examples/iris/', import.meta.url);

describe('a damaged preprocessor.json', function () {
  this.timeout(120_000);
  let root: string;
  let spec: Spec;
  let version: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'damaged-artifacts-'));
    const config = readFileSync(new URL('config.yaml', IRIS), 'utf8').replace(
      /^ {2}path: .*$/m,
      `  path: ${JSON.stringify(new URL('data/iris.csv', IRIS).pathname)}`,
    );
    spec = parseSpec(readFileSync(new URL('features.yaml', IRIS), 'utf8'), config);
    await runTraining({ spec, featuresText: '', modelDir: root });
    version = readdirSync(root).find((entry) => entry !== 'LATEST')!;
  });
  after(() => root && rmSync(root, { recursive: true, force: true }));

  for (const [title, content, expected] of [
    ['without its encoders', '{}', /preprocessor\.json is not a valid preprocessor state[^]*encoders: /],
    ['with an encoder missing its scale', null, /preprocessor\.json is not a valid preprocessor state[^]*encoders\.0\.scale: /],
  ] as const) {
    it(`${title}: a ModelLoadError naming the file and field`, async () => {
      const path = join(root, version, 'preprocessor.json');
      const original = readFileSync(path, 'utf8');
      const state = JSON.parse(original) as { encoders: Record<string, unknown>[] };
      delete state.encoders[0]!.scale;
      writeFileSync(path, content ?? JSON.stringify(state));
      try {
        await assert.rejects(OnnxPredictor.load(join(root, version), spec), (error: unknown) => {
          assert.ok(error instanceof ModelLoadError, String(error));
          assert.match(error.message, expected);
          return true;
        });
      } finally {
        writeFileSync(path, original);
      }
    });
  }
});
