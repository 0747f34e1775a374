// features.yaml `observed` (the range seen in training, written when features.yaml is inferred from a CSV): shown in
// the OpenAPI document, never enforced, and every scored value beyond it counted per feature and side on /metrics
// (ml_input_out_of_range_total) and /monitoring (input_ranges). The spec is this project's, with an observed range
// put on one numeric feature, so the test holds whatever features.yaml holds.
import assert from 'node:assert/strict';
import request from 'supertest';
import { createApp } from '../../src/http/app.js';
import { OnnxPredictor, type Predictor } from '../../src/runtime/predictor.js';
import type { Spec, Feature } from '../../src/contract/index.js';
import { featureRows, samples } from '../support/monitoring.js';
import { trainedProject } from '../support/trainedModel.js';

type Row = Awaited<ReturnType<typeof featureRows>>[number];

/** The spec with `observed` set on one feature (and none elsewhere). */
function withObserved(spec: Spec, name: string, observed: { min: number; max: number }): Spec {
  const features = spec.features.features.map(({ observed: _none, ...feature }): Feature =>
    feature.name === name ? { ...feature, observed } : feature,
  );
  return { ...spec, features: { ...spec.features, features } };
}

describe('monitoring: inputs outside the observed range', () => {
  let spec: Spec;
  let predictor: Predictor;
  /** A numeric feature whose training values differ, with a training row at its lowest and one at its highest. */
  let watched: { name: string; low: Row; high: Row; lowest: number; highest: number } | undefined;

  before(async () => {
    const project = await trainedProject();
    spec = project.spec;
    predictor = await OnnxPredictor.load(project.modelDir, spec);
    const rows = await featureRows(spec);
    for (const feature of spec.features.features) {
      if (feature.type !== 'number' && feature.type !== 'integer') continue;
      const valued = rows.filter((row) => typeof row[feature.name] === 'number');
      if (!valued.length) continue;
      const byValue = [...valued].sort((a, b) => (a[feature.name] as number) - (b[feature.name] as number));
      const low = byValue[0]!;
      const high = byValue.at(-1)!;
      if (low[feature.name] === high[feature.name]) continue;
      watched = { name: feature.name, low, high, lowest: low[feature.name] as number, highest: high[feature.name] as number };
      break;
    }
  });

  const app = (observed: { min: number; max: number }) =>
    createApp({ spec: withObserved(spec, watched!.name, observed), model: { predictor }, onError: () => {} });

  it('scores values beyond the observed range (not a limit) and counts them per side on /metrics and /monitoring', async function () {
    if (!watched) this.skip();
    const { name, low, high, lowest, highest } = watched!;
    const middle = (lowest + highest) / 2;
    const service = app({ min: middle, max: middle });
    await request(service).post('/predict').send(low).expect(200);
    await request(service)
      .post('/predict/batch')
      .send({ rows: [high, high] })
      .expect(200);

    const metrics = (await request(service).get('/metrics').expect(200)).text;
    const counted = (side: string) =>
      samples(metrics, 'ml_input_out_of_range_total').find(({ labels }) => labels.feature === name && labels.side === side)?.value;
    assert.equal(counted('below'), 1);
    assert.equal(counted('above'), 2);
    const report = (await request(service).get('/monitoring').expect(200)).body;
    assert.deepEqual(report.input_ranges, { [name]: { observed: { min: middle, max: middle }, below: 1, above: 2 } });
  });

  it('counts nothing for values inside the range, and exports each series at 0 from the start', async function () {
    if (!watched) this.skip();
    const { name, low, high, lowest, highest } = watched!;
    const service = app({ min: lowest, max: highest });
    const before = (await request(service).get('/metrics').expect(200)).text;
    const series = samples(before, 'ml_input_out_of_range_total').filter(({ labels }) => labels.feature === name);
    assert.deepEqual(series.map(({ labels, value }) => `${labels.side}=${value}`).sort(), ['above=0', 'below=0']);
    await request(service)
      .post('/predict/batch')
      .send({ rows: [low, high] })
      .expect(200);
    const report = (await request(service).get('/monitoring').expect(200)).body;
    assert.deepEqual(report.input_ranges[name], { observed: { min: lowest, max: highest }, below: 0, above: 0 });
  });

  it('shows the range in the OpenAPI document (x-observed-range, "Seen in training … (not a limit)")', async function () {
    if (!watched) this.skip();
    const { name, lowest, highest } = watched!;
    const document = (
      await request(app({ min: lowest, max: highest }))
        .get('/openapi.json')
        .expect(200)
    ).body;
    const property = document.components.schemas.PredictRequest.properties[name];
    assert.deepEqual(property['x-observed-range'], { min: lowest, max: highest });
    assert.match(property.description, new RegExp(`Seen in training: ${lowest} to ${highest} \\(not a limit\\)`));
    // Not a bound: the schema's minimum is the feature's own min (or none, or an integer's safe range), never the observed one.
    const declared = spec.features.features.find((f) => f.name === name)!.min;
    if (declared !== undefined) assert.equal(property.minimum, declared);
    else assert.ok(property.minimum === undefined || property.minimum < lowest, String(property.minimum));
  });
});
