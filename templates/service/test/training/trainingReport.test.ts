// The training report's content for both tasks, with project strings that would break the page if they
// were not escaped. (The report a real `npm run train` writes is checked in pipeline.test.ts.)
import assert from 'node:assert/strict';
import { featureSchema, type FeatureValues, type Task } from '../../src/contract/index.js';
import type { ModelMetadata } from '../../src/model/artifacts.js';
import { seededRandom } from '../../src/model/random.js';
import { renderTrainingReport, type HoldoutOutcome, type TrainingReportInput } from '../../src/training/trainingReport.js';

const HOSTILE_CLASS = '<script>alert("class")</script>';
const HOSTILE_DESCRIPTION = 'Flags <b>odd</b> rows & "strange" ones';

const features = [
  featureSchema.parse({ name: 'size', type: 'number', description: 'Size in <em>cm</em>' }),
  featureSchema.parse({ name: 'count', type: 'integer' }),
  featureSchema.parse({ name: 'colour', type: 'category', values: ['<red>', 'green', 'blue & grey'], required: false }),
  featureSchema.parse({ name: 'member', type: 'boolean' }),
  featureSchema.parse({ name: 'city', type: 'string' }),
];

function rows(count: number, random: () => number): FeatureValues[] {
  return Array.from({ length: count }, (_, i) => ({
    size: Math.round(random() * 1000) / 10,
    count: Math.floor(random() * 6),
    colour: i % 7 === 0 ? undefined : ['<red>', 'green', 'blue & grey'][i % 3],
    member: random() < 0.4,
    city: ['Oslo', 'Lima', '<Quito>', 'Pune'][i % 4],
  }));
}

function input(task: Task, extra: Partial<TrainingReportInput> = {}): TrainingReportInput {
  const random = seededRandom(3);
  const trainRows = rows(80, random);
  const holdoutRows = rows(20, random);
  const classes = task === 'classification' ? ['alpha', HOSTILE_CLASS, 'gamma'] : [];
  let outcome: HoldoutOutcome;
  if (task === 'classification') {
    const holdoutLabels = holdoutRows.map((_, i) => i % 3);
    // Right on most rows, with varied confidence; wrong on every fifth.
    const probabilities = holdoutLabels.map((label, i) => {
      const p = 0.5 + random() * 0.45;
      const chosen = i % 5 === 0 ? (label + 1) % 3 : label;
      return [0, 1, 2].map((c) => (c === chosen ? p : (1 - p) / 2));
    });
    outcome = { task, trainLabels: trainRows.map((_, i) => i % 3), holdoutLabels, probabilities };
  } else {
    const holdoutTargets = holdoutRows.map((row) => Number(row.size) * 2 + random() * 10);
    outcome = {
      task,
      trainTargets: trainRows.map((row) => Number(row.size) * 2),
      holdoutTargets,
      predictions: holdoutTargets.map((y) => y + (random() - 0.5) * 8),
    };
  }
  const metadata: ModelMetadata = {
    uuid: '1a2b3c4d-0000-4000-8000-000000000000',
    model_version: '20250101T000000Z-1a2b3c4d',
    created_at: '2025-01-01T00:00:00.000Z',
    version: '1.0.0',
    task,
    target: 'label',
    algorithm: task === 'classification' ? 'softmaxRegression' : 'linearRegression',
    classes,
    features: features.map(({ name, type }) => ({ name, type })),
    features_sha256: 'f'.repeat(64),
    input_columns: [],
    metrics: task === 'classification' ? { accuracy: 0.8, macro_f1: 0.8, confusion_matrix: [] } : { rmse: 2, mae: 1.5, r2: 0.9 },
    quality_gate: { passed: true, checks: [] },
    rows: { train: trainRows.length, holdout: holdoutRows.length },
    data: {
      path: 'data/table.csv',
      sha256: 'a'.repeat(64),
      rows: trainRows.length + holdoutRows.length,
      seed: 42,
      holdout_fraction: 0.2,
      holdout_sha256: 'b'.repeat(64),
    },
    reference: {},
    git: { commit: 'c'.repeat(40), dirty: false },
  };
  return {
    project: { name: 'odd-rows', version: '1.2.3', description: HOSTILE_DESCRIPTION },
    metadata,
    features,
    split: { seed: 42, holdoutFraction: 0.2 },
    trainRows,
    holdoutRows,
    outcome,
    promotion: { promote: true, reason: 'promoted to LATEST (there was no LATEST model yet)' },
    ...extra,
  };
}

/** The cells of the metrics table's row that starts with `name`. */
function metricRow(html: string, name: string): string[] {
  const row = html.split('<tr>').find((tr) => tr.startsWith(`<td>${name}`));
  assert.ok(row, `no row ${name}`);
  return [...row.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((match) => match[1]!);
}

/** The <svg> charts of the page, by their title. */
const chartTitles = (html: string) => [...html.matchAll(/<svg [^>]*aria-label="([^"]*)"/g)].map((match) => match[1]);

describe('training report (report.html)', () => {
  it('classification: model card, data, metrics beside the baseline, gate, confusion heat map, per-class scores and curves', () => {
    const html = renderTrainingReport(input('classification'));
    for (const id of ['data', 'metrics', 'quality-gate', 'classification', 'importance', 'features'])
      assert.match(html, new RegExp(`<section id="${id}">`), id);
    assert.match(html, /data\/table\.csv/);
    assert.match(html, new RegExp('a'.repeat(64)), 'the data file hash');
    assert.match(html, new RegExp('c'.repeat(40)), 'the git commit');
    assert.match(html, /80 training rows, 20 holdout rows \(holdout_fraction 0\.2, seed 42, stratified by class\)/);
    for (const metric of ['accuracy ↑', 'macro F1 ↑', 'ROC-AUC (one-vs-rest, macro) ↑', 'log loss ↓']) {
      const cells = metricRow(html, metric);
      assert.equal(cells.length, 3, `${metric}: model and baseline, no LATEST column without a LATEST`);
      assert.ok(
        cells.slice(1).every((cell) => /^\d+\.\d{4}$/.test(cell)),
        `${metric}: ${cells.join(' | ')}`,
      );
    }
    // The baseline gives every row the training class shares: as good as chance at ranking.
    assert.equal(metricRow(html, 'ROC-AUC (one-vs-rest, macro) ↑')[2], '0.5000');
    assert.match(html, /There was no LATEST model before this run/);
    assert.deepEqual(chartTitles(html).slice(0, 4), [
      'Confusion matrix of the holdout rows',
      'ROC curves',
      'Precision-recall curves',
      'Calibration',
    ]);
    assert.match(html, /<th>precision<\/th><th>recall<\/th><th>F1<\/th>/);
    assert.match(html, /Not available for this model/);
    // One chart per feature: numbers and integers as histograms, the rest as bars, with missing values counted.
    for (const feature of features) assert.ok(chartTitles(html).includes(`${feature.name}: training and holdout rows`), feature.name);
    assert.match(html, /Missing: \d+\.\d% of training, \d+\.\d% of holdout rows/);
  });

  it('escapes every project string: description, class, category and feature text', () => {
    const html = renderTrainingReport(input('classification'));
    assert.doesNotMatch(html, /<script|<b>odd|<em>cm|<red>|<Quito>|blue & grey/);
    assert.ok(html.includes('&#60;script&#62;alert(&#34;class&#34;)&#60;/script&#62;'), 'the class name, escaped');
    assert.ok(html.includes('Flags &#60;b&#62;odd&#60;/b&#62; rows &#38; &#34;strange&#34; ones'), 'the description, escaped');
    assert.ok(html.includes('&#60;red&#62;') && html.includes('blue &#38; grey') && html.includes('&#60;Quito&#62;'));
    // Self-contained: nothing to fetch, nothing to run.
    assert.doesNotMatch(html, /\s(src|href)=|url\(|@import/);
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/);
  });

  it('shows the LATEST model beside this one, or why it could not be run, and the gate that failed', () => {
    const base = input('classification');
    const outcome = base.outcome as Extract<HoldoutOutcome, { task: 'classification' }>;
    const html = renderTrainingReport({ ...base, latest: { version: '20241224T000000Z-9f8e7d6c', probabilities: outcome.probabilities } });
    const accuracy = metricRow(html, 'accuracy ↑');
    assert.equal(accuracy.length, 4);
    assert.equal(accuracy[3], accuracy[1], 'the same probabilities score the same');
    assert.match(html, /LATEST before this run: <code>20241224T000000Z-9f8e7d6c<\/code>, run by onnxruntime/);

    const failed = renderTrainingReport({
      ...base,
      latest: { version: 'byo-model', unavailable: 'model.json lists <no> classes' },
      metadata: {
        ...base.metadata,
        quality_gate: { passed: false, checks: [{ metric: 'accuracy', bound: 'min', threshold: 0.99, value: 0.8, passed: false }] },
      },
      promotion: { promote: false, reason: 'not promoted to LATEST: the model missed the quality gate' },
    });
    assert.match(failed, /could not be run on these rows: model\.json lists &#60;no&#62; classes/);
    assert.equal(metricRow(failed, 'accuracy ↑').length, 3);
    assert.match(failed, /Quality gate: <span class="verdict failed">FAILED<\/span>/);
    assert.match(failed, /<td>accuracy<\/td><td>≥ 0\.99 .*?<\/td><td class="number">0\.8000<\/td><td><strong>FAILED<\/strong><\/td>/);
    assert.match(failed, /not promoted to LATEST: the model missed the quality gate/);
  });

  it('draws the global feature importance, most important first, or says why the model cannot be explained', () => {
    const html = renderTrainingReport(
      input('classification', {
        importance: {
          scale: 'logit',
          rows: 20,
          features: [
            { feature: 'size', importance: 0.2 },
            { feature: 'colour', importance: 0.9 },
            { feature: 'count', importance: 0.05 },
          ],
        },
      }),
    );
    const section = html.slice(html.indexOf('<section id="importance">'), html.indexOf('<section id="features">'));
    assert.doesNotMatch(section, /Not available/);
    assert.match(section, /on the logit scale\) over 20 holdout rows/);
    const bars = [...section.matchAll(/<rect [^>]*><title>(\w+): ([\d.]+)<\/title>/g)].map((match) => [match[1], Number(match[2])]);
    assert.deepEqual(bars, [
      ['colour', 0.9],
      ['size', 0.2],
      ['count', 0.05],
    ]);
    const unexplained = renderTrainingReport(input('classification', { importance: { unavailable: 'a model trained <elsewhere>' } }));
    assert.match(unexplained, /Not available for this model: a model trained &#60;elsewhere&#62;/);
  });

  it('regression: RMSE, MAE and R² beside the mean baseline and LATEST, predicted vs actual and the residuals', () => {
    const base = input('regression');
    const outcome = base.outcome as Extract<HoldoutOutcome, { task: 'regression' }>;
    const html = renderTrainingReport({ ...base, latest: { version: 'older', predictions: outcome.holdoutTargets } });
    for (const id of ['data', 'metrics', 'quality-gate', 'regression', 'importance', 'features'])
      assert.match(html, new RegExp(`<section id="${id}">`), id);
    assert.doesNotMatch(html, /<section id="classification">/);
    assert.match(html, /80 training rows, 20 holdout rows \(holdout_fraction 0\.2, seed 42\)/);
    const r2 = metricRow(html, 'R² ↑');
    assert.equal(r2[3], '1.0000', 'LATEST here predicted every row exactly');
    assert.ok(Number(r2[2]) <= 0, `the mean of the training targets explains nothing of the holdout: ${r2[2]}`);
    assert.match(html, /The naive baseline predicts the training rows' mean/);
    assert.deepEqual(chartTitles(html).slice(0, 3), ['Predicted vs actual', 'Residuals vs predicted', 'Distribution of the residuals']);
    // Every holdout row is a point in each of the two scatter plots.
    assert.equal((html.match(/<circle /g) ?? []).length, 2 * outcome.holdoutTargets.length);
  });
});
