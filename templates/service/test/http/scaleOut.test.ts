// Scaling out (config.yaml server.workers and server.inference): the micro-batcher gives every caller the
// answer a run of its own row would give, the worker-thread pool predicts what the model in this thread
// predicts, and in cluster mode every worker serves and SIGTERM stops them all cleanly.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadData } from '../../src/data/dataLoader.js';
import { ModelLoadError } from '../../src/model/artifacts.js';
import { InferencePool } from '../../src/runtime/inferencePool.js';
import { loggedPredictions } from '../../src/predictionLog/record.js';
import { predictionLine } from '../../src/runtime/wireFormat.js';
import { ATOMIC_WRITE_BYTES, jsonLineChunks, StdoutSink } from '../../src/predictionLog/sinks/stdout.js';
import { MicroBatcher } from '../../src/runtime/microBatcher.js';
import { InputRangeError, OnnxPredictor, type Predictor, type Prediction } from '../../src/runtime/predictor.js';
import { FeatureTable, type FeatureValues } from '../../src/contract/index.js';
import { until } from '../support/predictionLoad.js';
import { spawnService, writeConfig, type ServiceProcess } from '../support/serviceProcess.js';
import { trainedProject, type TrainedProject } from '../support/trainedModel.js';

/** Same class (or value within float32 rounding) and probabilities within 1e-6: a batched run may round differently. */
function assertSamePredictions(actual: Prediction[], expected: Prediction[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((got, i) => {
    const want = expected[i]!;
    if (typeof want.prediction === 'number')
      assert.ok(Math.abs(Number(got.prediction) - want.prediction) <= 1e-5 * Math.max(1, Math.abs(want.prediction)));
    else assert.equal(got.prediction, want.prediction, `row ${i}`);
    for (const [name, p] of Object.entries(want.probabilities ?? {}))
      assert.ok(Math.abs(got.probabilities![name]! - p) <= 1e-6, `row ${i} ${name}`);
  });
}

/** A predictor that records the size of every run and fails runs holding a poisoned row. */
class RecordingPredictor implements Predictor {
  readonly runs: number[] = [];
  readonly metadata = {} as Predictor['metadata'];
  readonly modelDir = 'model_bin/test';

  async predict(rows: readonly FeatureValues[]): Promise<Prediction[]> {
    this.runs.push(rows.length);
    if (rows.some((row) => row.poisoned)) throw new Error('this batch cannot be run');
    return rows.map((row) => ({ prediction: Number(row.n) * 2 }));
  }
}

describe('scaling out', () => {
  let project: TrainedProject;
  let predictor: Predictor;
  let rows: FeatureValues[];

  before(async () => {
    project = await trainedProject();
    predictor = await OnnxPredictor.load(project.modelDir, project.spec);
    const names = project.spec.features.features.map((feature) => feature.name);
    rows = (await loadData(project.spec))
      .slice(0, 40)
      .map((row) => Object.fromEntries(names.map((name) => [name, row[name]])) as FeatureValues);
  });

  describe('micro-batching', () => {
    it('gives each concurrent caller exactly the prediction of its own row, in one run', async () => {
      const alone: Prediction[] = [];
      for (const row of rows) alone.push(...(await predictor.predict([row])));
      let runs = 0;
      const counted: Predictor = {
        metadata: predictor.metadata,
        modelDir: predictor.modelDir,
        predict: (r) => (runs++, predictor.predict(r)),
      };
      const batcher = new MicroBatcher(counted, { maxWaitMs: 5, maxRows: 64 });
      const batched = await Promise.all(rows.map((row) => batcher.predict([row])));
      assert.ok(batched.every((answer) => answer.length === 1));
      assertSamePredictions(
        batched.map((answer) => answer[0]!),
        alone,
      );
      assert.equal(runs, 1, 'the rows queued in one turn share one run');
      assert.equal(batcher.metadata, predictor.metadata);
    });

    it('runs at most max_rows rows at once', async () => {
      const inner = new RecordingPredictor();
      const batcher = new MicroBatcher(inner, { maxWaitMs: 20, maxRows: 4 });
      const answers = await Promise.all(Array.from({ length: 10 }, (_, n) => batcher.predict([{ n }])));
      assert.deepEqual(inner.runs, [4, 4, 2]);
      assert.deepEqual(
        answers.map((answer) => answer[0]!.prediction),
        Array.from({ length: 10 }, (_, n) => n * 2),
      );
    });

    it('rejects only the caller whose row fails: a failed run is retried row by row', async () => {
      const inner = new RecordingPredictor();
      const batcher = new MicroBatcher(inner, { maxWaitMs: 5, maxRows: 3 });
      const settled = await Promise.allSettled(Array.from({ length: 6 }, (_, n) => batcher.predict([{ n, poisoned: n === 4 }])));
      assert.deepEqual(
        settled.map((result) => result.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
      );
      assert.match(String((settled[4] as PromiseRejectedResult).reason), /this batch cannot be run/);
      assert.deepEqual((settled[5] as PromiseFulfilledResult<Prediction[]>).value, [{ prediction: 10 }]);
      assert.deepEqual(inner.runs, [3, 3, 1, 1, 1]);
    });

    it('with max_wait_ms 0, a row that finds the model idle runs at once; rows that come while it runs share the next run', async () => {
      const inner = new RecordingPredictor();
      const batcher = new MicroBatcher(inner, { maxWaitMs: 0, maxRows: 64 });
      const first = batcher.predict([{ n: 0 }]);
      assert.deepEqual(inner.runs, [1], 'no waiting: the first row is running already');
      const rest = Array.from({ length: 5 }, (_, i) => batcher.predict([{ n: i + 1 }]));
      assert.deepEqual(inner.runs, [1], 'the model is busy: they queue');
      const answers = await Promise.all([first, ...rest]);
      assert.deepEqual(inner.runs, [1, 5], 'and run together as soon as the first run ends');
      assert.deepEqual(
        answers.map((answer) => answer[0]!.prediction),
        [0, 2, 4, 6, 8, 10],
      );
      await batcher.predict([{ n: 9 }]);
      assert.deepEqual(inner.runs, [1, 5, 1], 'idle again: at once, alone');
    });

    it('rejects every caller of a batch when the model fails for all rows', async () => {
      const inner = new RecordingPredictor();
      let broken = true;
      const failing: Predictor = {
        metadata: inner.metadata,
        modelDir: inner.modelDir,
        predict: (rows) => (broken ? Promise.reject(new Error('the session is gone')) : inner.predict(rows)),
      };
      const batcher = new MicroBatcher(failing, { maxWaitMs: 0, maxRows: 8 });
      const settled = await Promise.allSettled(Array.from({ length: 4 }, (_, n) => batcher.predict([{ n }])));
      assert.ok(settled.every((result) => result.status === 'rejected' && /the session is gone/.test(String(result.reason))));
      broken = false; // the batcher keeps working after failed runs
      assert.deepEqual(await batcher.predict([{ n: 7 }]), [{ prediction: 14 }]);
    });

    it('passes batch requests straight through, unbatched', async () => {
      const inner = new RecordingPredictor();
      const batcher = new MicroBatcher(inner, { maxWaitMs: 1000, maxRows: 4 });
      const answers = await batcher.predict(Array.from({ length: 6 }, (_, n) => ({ n })));
      assert.equal(answers.length, 6);
      assert.deepEqual(inner.runs, [6]);
    });
  });

  describe('worker-thread inference pool', () => {
    let pool: InferencePool | undefined;
    after(() => pool?.close());

    it('predicts what the model in this thread predicts, row by row and as a batch', async () => {
      pool = await InferencePool.start(project.modelDir, project.spec, 2);
      assert.deepEqual(pool.metadata, predictor.metadata);
      assert.equal(pool.modelDir, predictor.modelDir);
      assertSamePredictions(await pool.predict(rows), await predictor.predict(rows));
      const single = await Promise.all(rows.slice(0, 8).map((row) => pool!.predict([row])));
      const expected = await Promise.all(rows.slice(0, 8).map((row) => predictor.predict([row])));
      single.forEach((answer, i) => assertSamePredictions(answer, expected[i]!));
      // The batch path's typed outputs cross the thread boundary as they are.
      const batch = FeatureTable.fromRows(
        project.spec.features.features.map((feature) => feature.name),
        rows,
      );
      const outputs = await pool.predictOutputs(batch);
      const local = await predictor.predictOutputs!(batch);
      assert.equal(outputs.rows, local.rows);
      assert.deepEqual(Array.from(outputs.scores), Array.from(local.scores));
    });

    it('answers a row too large for the model as this thread does: an InputRangeError (a 422) or the same prediction', async function () {
      const numeric = project.spec.features.features.find((feature) => feature.type === 'number');
      if (!numeric || !pool) this.skip();
      const huge = { ...rows[0]!, [numeric.name]: 1e300 };
      // A float32 model overflows on it (InputRangeError); tree models take doubles and predict it.
      const inThread = await predictor.predict([huge]).then(
        (answer) => ({ answer }),
        (error: unknown) => ({ error }),
      );
      if ('error' in inThread) {
        assert.ok(inThread.error instanceof InputRangeError, String(inThread.error));
        await assert.rejects(pool.predict([huge]), InputRangeError);
      } else {
        assertSamePredictions(await pool.predict([huge]), inThread.answer);
      }
    });

    it('refuses a model folder it cannot load with a ModelLoadError', async () => {
      const empty = mkdtempSync(join(tmpdir(), 'no-model-'));
      try {
        await assert.rejects(InferencePool.start(empty, project.spec, 1), (error: unknown) => error instanceof ModelLoadError);
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
    });
  });

  it('writes the stdout prediction log in whole lines of at most PIPE_BUF bytes when workers share the pipe', async () => {
    const predictions = {
      idField: 'request_id',
      featureNames: project.spec.features.features.map((feature) => feature.name),
      // Non-ASCII: chunks are measured in UTF-8 bytes (each id is 3 bytes a character), not in characters.
      ids: rows.map((_, i) => `id-${i}-${'測'.repeat(100)}`),
      rows,
      results: rows.map(() => ({ prediction: 'a' })),
      model: { uuid: 'u', version: '1', created_at: 't' },
      apiVersion: '1',
      latencyMs: 1,
    };
    const logged = loggedPredictions(predictions);
    const lines = logged.map(predictionLine);
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    });
    await new StdoutSink(stream, true).send(logged);
    assert.ok(chunks.length > 1);
    assert.deepEqual(chunks, jsonLineChunks(lines));
    assert.equal(chunks.join(''), lines.join(''));
    for (const chunk of chunks) {
      assert.ok(Buffer.byteLength(chunk) <= ATOMIC_WRITE_BYTES);
      assert.ok(chunk.endsWith('\n'));
    }
  });

  describe('cluster mode (server.workers: 2)', () => {
    let directory: string;
    let service: ServiceProcess | undefined;
    before(() => {
      directory = mkdtempSync(join(tmpdir(), 'cluster-'));
    });
    after(() => {
      service?.kill();
      rmSync(directory, { recursive: true, force: true });
    });

    /** The ids of the workers that answered `count` requests, each on a new connection. */
    async function answeringWorkers(url: string, count: number): Promise<Set<string>> {
      const ids = new Set<string>();
      for (let i = 0; i < count; i++) {
        const res = await fetch(`${url}/ready`, { headers: { connection: 'close' } });
        assert.equal(res.status, 200);
        ids.add(res.headers.get('x-worker-id') ?? 'none');
      }
      return ids;
    }

    it('serves from every worker, replaces a worker that dies, and stops all on SIGTERM with exit 0', async () => {
      const configPath = writeConfig(directory, (config) => {
        config.server = { ...(config.server as object), workers: 2 };
      });
      // PORT 0: the workers share the one port the primary picks.
      service = spawnService({ CONFIG_PATH: configPath, MODEL_DIR: project.modelDir });
      const { child, output: read, exited } = service;
      const readyCount = () => read().match(/warmed up: ready/g)?.length ?? 0;
      let output = await service.waitForOutput(/warmed up: ready[\s\S]*warmed up: ready/);
      const urls = new Set([...output.matchAll(/listening on (http:\/\/\S+)/g)].map((match) => match[1]));
      assert.equal(urls.size, 1, output);
      const url = [...urls][0]!;

      // Connections are handed out round-robin: a few requests reach both workers.
      assert.deepEqual([...(await answeringWorkers(url, 6))].sort(), ['1', '2'], output);

      // A worker killed from outside is replaced by worker 3.
      const workerPids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
      assert.equal(workerPids.length, 2);
      process.kill(workerPids[0]!, 'SIGKILL');
      await until('a replacement worker to be ready', read, () => readyCount() >= 3 || child.exitCode !== null, 60_000);
      output = read();
      assert.match(output, /exited unexpectedly \(signal SIGKILL\); starting a new one/);
      const after = await answeringWorkers(url, 6);
      assert.ok(after.has('3') && after.size === 2, `workers answering after the restart: ${[...after].join(', ')}\n${output}`);

      child.kill('SIGTERM');
      assert.equal(await exited, 0, read());
      assert.equal(read().match(/Stopped\./g)?.length, 2, read());
    });
  });
});
