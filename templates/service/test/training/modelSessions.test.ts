// Training and the model store load models outside the service (the previous LATEST to compare with, a version
// to check before promoting it, two versions to compare): each one loaded is closed again, even when running it
// fails, as an onnxruntime session's memory is outside V8's heap and would outlive the object for a long while.
// (npm run predict and npm run replay do the same; they run their main() on import, so they are not observed here.)
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { OnnxPredictor as OnnxPredictorClass } from '../../src/runtime/predictor.js';
import { loadData } from '../../src/data/dataLoader.js';
import { compareModels } from '../../src/training/compareModels.js';
import { promoteVersion, rollbackLatest } from '../../src/training/modelStore.js';
import { servedPredictions } from '../../src/training/promotion.js';
import { storeCopy, twoModelStore } from '../support/modelStore.js';

describe('training and the model store release every model they load', function () {
  this.timeout(300_000);
  // The class these modules load lazily, with import(): mocha may have loaded this file and its static imports as
  // CommonJS (tsx), a module instance of their own, so a static import here would patch another class.
  let OnnxPredictor: typeof OnnxPredictorClass;
  let load: typeof OnnxPredictorClass.load;
  before(async () => {
    ({ OnnxPredictor } = await import('../../src/runtime/predictor.js'));
    load = OnnxPredictor.load.bind(OnnxPredictor);
    await twoModelStore(); // trained before counting
  });
  /** Per model loaded while a test runs: whether it has been closed. */
  let loaded: { closed: boolean }[];
  let failRuns: boolean;

  beforeEach(() => {
    loaded = [];
    failRuns = false;
    OnnxPredictor.load = async (...args: Parameters<typeof OnnxPredictor.load>) => {
      const predictor = await load(...args);
      const entry = { closed: false };
      loaded.push(entry);
      const close = predictor.close.bind(predictor);
      predictor.close = async () => {
        entry.closed = true;
        await close();
      };
      if (failRuns) predictor.predict = () => Promise.reject(new Error('the run failed'));
      return predictor;
    };
  });
  afterEach(() => (OnnxPredictor.load = load));

  const allClosed = (count: number) => {
    assert.equal(loaded.length, count, 'models loaded');
    assert.deepEqual(
      loaded.map((entry) => entry.closed),
      Array<boolean>(count).fill(true),
      'each closed',
    );
  };

  it('the previous LATEST run on the holdout rows (promotion), also when the run fails', async () => {
    const { store, dir } = await storeCopy();
    const rows = (await loadData(store.spec)).slice(0, 5);
    const predictions = await servedPredictions(join(dir, store.own.metadata.model_version), store.spec, rows);
    assert.equal(predictions.length, 5);
    allClosed(1);
    failRuns = true;
    await assert.rejects(servedPredictions(join(dir, store.own.metadata.model_version), store.spec, rows), /the run failed/);
    allClosed(2);
  });

  it('npm run models: promote and rollback (loaded to check they load) and compare', async () => {
    const { store, dir } = await storeCopy();
    await promoteVersion(dir, store.spec, store.own.metadata.model_version);
    await rollbackLatest(dir, store.spec);
    allClosed(2);
    await compareModels(dir, store.spec, store.own.metadata.model_version, store.stump.metadata.model_version);
    allClosed(4);
    failRuns = true;
    await assert.rejects(
      compareModels(dir, store.spec, store.own.metadata.model_version, store.stump.metadata.model_version),
      /the run failed/,
    );
    allClosed(5); // the first version's run failed: the second is not loaded
  });
});
