// Data drift against the training data's reference statistics, with synthetic traffic drawn from the training
// rows: unshifted traffic keeps every feature under the threshold; shifting one feature puts that feature, and
// only it, over; the window slides, so drift clears once a window of normal traffic has passed.
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import { DriftMonitor, populationStabilityIndex } from '../../src/monitoring/drift.js';
import type { FeatureStatistics } from '../../src/model/referenceStatistics.js';
import { createApp } from '../../src/http/app.js';
import { OnnxPredictor, type Predictor } from '../../src/runtime/predictor.js';
import { FeatureTable, type Spec } from '../../src/contract/index.js';
import { featureRows, predictRows, resample, samples, seededRandom, shiftedValue, withMonitoring } from '../support/monitoring.js';
import { trainedProject, type TrainedProject } from '../support/trainedModel.js';

const WINDOW = 600;
const MIN_ROWS = 300;

describe('monitoring: data drift', () => {
  let project: TrainedProject;
  let spec: Spec;
  let predictor: Predictor;
  let rows: Awaited<ReturnType<typeof featureRows>>;
  let app: Express;

  before(async () => {
    project = await trainedProject();
    spec = withMonitoring(project.spec, { drift_window_size: WINDOW, drift_min_rows: MIN_ROWS, drift_psi_threshold: 0.2 });
    predictor = await OnnxPredictor.load(project.modelDir, spec);
    rows = await featureRows(spec);
  });
  beforeEach(() => {
    app = createApp({ spec, model: { predictor }, onError: () => {} });
  });

  const report = async () => (await request(app).get('/monitoring').expect(200)).body.drift;
  const reference = () => project.metadata.reference as Record<string, FeatureStatistics>;

  /** The first feature a shift can move (a numeric one with several bins, or a categorical one with several values). */
  const shiftable = () => {
    for (const feature of spec.features.features) {
      const value = shiftedValue(feature, reference()[feature.name]!);
      if (value !== undefined) return { feature, value };
    }
    throw new Error('no feature of features.yaml can be shifted');
  };

  it('has no score until the window holds drift_min_rows rows, then scores every feature under the threshold for unshifted traffic', async () => {
    const random = seededRandom(1);
    await predictRows(app, spec, resample(rows, MIN_ROWS - 1, random), 'warm');
    const early = await report();
    assert.equal(early.status, 'insufficient_data');
    assert.equal(early.window.rows, MIN_ROWS - 1);
    for (const drift of Object.values(early.features) as { psi: number | null }[]) assert.equal(drift.psi, null);
    assert.deepEqual(samples((await request(app).get('/metrics')).text, 'ml_drift_psi'), [], 'no PSI series before min rows');

    await predictRows(app, spec, resample(rows, WINDOW, random), 'normal');
    const drift = await report();
    assert.equal(drift.status, 'ok');
    assert.deepEqual(drift.window, { size: WINDOW, rows: WINDOW, min_rows: MIN_ROWS });
    assert.equal(drift.psi_threshold, 0.2);
    assert.deepEqual(
      Object.keys(drift.features),
      spec.features.features.map((feature) => feature.name),
    );
    for (const [name, feature] of Object.entries(drift.features) as [string, { psi: number; drifted: boolean }][]) {
      assert.ok(feature.psi >= 0 && feature.psi < 0.2, `${name}: PSI ${feature.psi} on unshifted traffic`);
      assert.equal(feature.drifted, false);
    }
    assert.deepEqual(drift.drifted_features, []);
    type Histogram = { buckets: string[]; reference: number[]; live: number[] };
    const sum = (shares: number[]) => shares.reduce((total, share) => total + share, 0);
    for (const [name, { histogram }] of Object.entries(drift.features) as [string, { histogram: Histogram }][]) {
      assert.equal(histogram.reference.length, histogram.buckets.length, name);
      assert.equal(histogram.live.length, histogram.buckets.length, name);
      assert.ok(Math.abs(sum(histogram.reference) - 1) < 1e-9 && Math.abs(sum(histogram.live) - 1) < 1e-9, `${name}: shares sum to 1`);
    }
  });

  it('puts a shifted feature, and only it, over the threshold, in the report and in ml_drift_psi; a window of normal traffic clears it', async () => {
    const random = seededRandom(2);
    const { feature, value } = shiftable();
    await predictRows(app, spec, resample(rows, WINDOW, random), 'before');
    const shifted = resample(rows, WINDOW, random).map((row) => ({ ...row, [feature.name]: value }));
    await predictRows(app, spec, shifted, 'shifted');

    const drift = await report();
    assert.deepEqual(drift.drifted_features, [feature.name]);
    for (const [name, scores] of Object.entries(drift.features) as [string, { psi: number; drifted: boolean }][]) {
      if (name === feature.name) assert.ok(scores.psi > 0.2 && scores.drifted, `${name}: PSI ${scores.psi} after the shift`);
      else assert.ok(scores.psi < 0.2 && !scores.drifted, `${name}: PSI ${scores.psi}, not shifted`);
    }
    const metrics = (await request(app).get('/metrics')).text;
    const psi = new Map(samples(metrics, 'ml_drift_psi').map(({ labels, value }) => [labels.feature, value]));
    assert.equal(psi.get(feature.name), drift.features[feature.name].psi);
    assert.deepEqual(samples(metrics, 'ml_drift_psi_threshold'), [{ labels: {}, value: 0.2 }]);
    assert.deepEqual(samples(metrics, 'ml_drift_window_rows'), [{ labels: {}, value: WINDOW }]);

    await predictRows(app, spec, resample(rows, WINDOW, random), 'after');
    assert.deepEqual((await report()).drifted_features, [], 'the shifted rows have left the window');
  });

  it('reports the share of missing values, and of category values training never saw', () => {
    const features = [
      { name: 'size', type: 'number', required: false },
      { name: 'colour', type: 'category', values: ['red', 'green', 'blue'], required: false },
    ] as Spec['features']['features'];
    const statistics = {
      size: { kind: 'numeric', count: 10, missing_share: 0, bins: { edges: [1], shares: [0.5, 0.5] } },
      colour: { kind: 'categorical', count: 10, missing_share: 0.1, frequencies: { red: 0.5, green: 0.5 }, other_share: 0 },
    };
    const monitor = DriftMonitor.create(features, statistics, { windowSize: 10, minRows: 10, psiThreshold: 0.2 });
    assert.ok(monitor instanceof DriftMonitor);
    const rows = Array.from({ length: 10 }, (_, i) => (i < 4 ? { colour: 'blue' } : { size: i, colour: i % 2 ? 'red' : 'green' }));
    monitor.observe(FeatureTable.fromRows(['size', 'colour'], rows));
    const { features: drift } = monitor.report();
    assert.equal(drift.size!.missing_share, 0.4);
    assert.equal(drift.colour!.missing_share, 0);
    assert.equal(drift.colour!.reference_missing_share, 0.1);
    assert.equal(drift.colour!.unknown_share, 0.4, '"blue" never appeared in training');
    assert.equal(drift.colour!.reference_unknown_share, 0);
  });

  /** A number with three bins and a category with two values (and unknown), as in the two tests below. */
  const features = [
    { name: 'size', type: 'number', required: false },
    { name: 'colour', type: 'category', values: ['red', 'green', 'blue'], required: false },
  ] as Spec['features']['features'];
  const statistics = {
    size: { kind: 'numeric', count: 10, missing_share: 0.2, bins: { edges: [1, 2.5], shares: [0.25, 0.25, 0.5] } },
    colour: { kind: 'categorical', count: 10, missing_share: 0, frequencies: { red: 0.75, green: 0.25 }, other_share: 0 },
  };

  it('reports the histograms PSI compares: a label per bucket, the training shares and the window shares', () => {
    const monitor = DriftMonitor.create(features, statistics, { windowSize: 8, minRows: 8, psiThreshold: 0.2 });
    assert.ok(monitor instanceof DriftMonitor);
    const sizes = [0, 1, 1.5, 3, 4, 5, undefined, undefined];
    const rows = sizes.map((size, i) => ({ size, colour: ['red', 'green', 'blue', 'red'][i % 4] }));
    for (const row of rows) monitor.observe(FeatureTable.fromRows(['size', 'colour'], [row]));
    const { features: drift } = monitor.report();
    assert.deepEqual(drift.size!.histogram, {
      buckets: ['< 1', '1 – 2.5', '≥ 2.5', 'missing'],
      reference: [0.25 * 0.8, 0.25 * 0.8, 0.5 * 0.8, 0.2],
      live: [1 / 8, 2 / 8, 3 / 8, 2 / 8],
    });
    assert.deepEqual(drift.colour!.histogram, {
      buckets: ['red', 'green', 'unknown', 'missing'],
      reference: [0.75, 0.25, 0, 0],
      live: [0.5, 0.25, 0.25, 0],
    });
    // The histograms are what the score is computed from.
    for (const feature of Object.values(drift)) {
      assert.equal(feature.psi, populationStabilityIndex(feature.histogram.live, feature.histogram.reference));
    }
    // Batches, the second longer than the window, leave the window as the rows one by one would.
    const batched = DriftMonitor.create(features, statistics, { windowSize: 8, minRows: 8, psiThreshold: 0.2 });
    assert.ok(batched instanceof DriftMonitor);
    const earlier = Array.from({ length: 5 }, () => ({ size: 100, colour: 'green' }));
    batched.observe(FeatureTable.fromRows(['size', 'colour'], earlier.slice(0, 3)));
    batched.observe(FeatureTable.fromRows(['size', 'colour'], [...earlier.slice(3), ...rows]));
    assert.deepEqual(batched.report(), monitor.report());
  });

  it('counts batches when the drift is read: any batches, read at any point, give the report rows one by one give', () => {
    const settings = { windowSize: 8, minRows: 4, psiThreshold: 0.2 };
    const random = seededRandom(16);
    const row = () => ({
      size: random() < 0.2 ? undefined : Math.floor(random() * 8) / 2,
      colour: random() < 0.1 ? undefined : ['red', 'green', 'blue'][Math.floor(random() * 3)],
    });
    for (let run = 0; run < 40; run++) {
      // Counted as it comes: each row observed alone and the report read after it.
      const byRow = DriftMonitor.create(features, statistics, settings);
      const batched = DriftMonitor.create(features, statistics, settings);
      assert.ok(byRow instanceof DriftMonitor && batched instanceof DriftMonitor);
      let reads = 0;
      for (let b = 0; b < 80; b++) {
        // Batches of no row up to twice the window, often exactly the window, in runs of small ones (past
        // MAX_PENDING_BATCHES unread) and of large ones (each pushing the earlier ones out before they are counted).
        const pick = random();
        const size = pick < 0.15 ? settings.windowSize : pick < 0.6 ? Math.floor(random() * 3) : Math.floor(random() * 17);
        const rows = Array.from({ length: size }, row);
        batched.observe(FeatureTable.fromRows(['size', 'colour'], rows));
        for (const one of rows) {
          byRow.observe(FeatureTable.fromRows(['size', 'colour'], [one]));
          byRow.report();
        }
        if (random() < 0.2) {
          reads++;
          assert.deepEqual(batched.report(), byRow.report(), `run ${run}, batch ${b}`);
        }
      }
      assert.ok(reads > 0);
      assert.deepEqual(batched.report(), byRow.report(), `run ${run}, at the end`);
    }
  });

  it('says why drift is unavailable for a model without reference statistics', () => {
    const settings = { windowSize: 10, minRows: 5, psiThreshold: 0.2 };
    const none = DriftMonitor.create(spec.features.features, undefined, settings);
    assert.match((none as { unavailable: string }).unavailable, /no reference statistics/);
    const partial = DriftMonitor.create(spec.features.features, {}, settings);
    assert.match((partial as { unavailable: string }).unavailable, /leave out/);
  });

  it('computes the population stability index', () => {
    assert.equal(populationStabilityIndex([0.5, 0.5], [0.5, 0.5]), 0);
    const psi = populationStabilityIndex([0.9, 0.1], [0.5, 0.5]);
    assert.ok(Math.abs(psi - (0.4 * Math.log(0.9 / 0.5) - 0.4 * Math.log(0.1 / 0.5))) < 1e-12);
  });
});
