// The training report: model_bin/<version>/report.html, written by every `npm run train`. One self-contained
// HTML file (inline CSS and SVG, no script, nothing fetched) that reads as a model card: what the model is for,
// the data it was trained and checked on, its holdout metrics beside a naive baseline and the model LATEST
// served before this run, the quality gate's verdict, the task's diagnostic charts, the global feature
// importance and each feature's distribution in the training and holdout rows. Every text that comes from
// the project (description, feature, class and category names) is escaped.
import type { Feature, FeatureValue, FeatureValues } from '../contract/index.js';
import type { ModelMetadata } from '../model/artifacts.js';
import { classIndex } from '../model/modelTypes.js';
import {
  barChart,
  escapeHtml,
  extent,
  formatNumber,
  heatMap,
  histogram,
  horizontalBarChart,
  lineChart,
  type LineSeries,
} from '../model/svgCharts.js';
import {
  averagePrecision,
  calibrationCurve,
  logLoss,
  oneVsRestRocAuc,
  perClassScores,
  precisionRecallCurve,
  rocCurve,
} from './classificationDiagnostics.js';
import { classificationMetrics, regressionMetrics } from './metrics.js';
import type { PromotionDecision } from './promotion.js';
import type { GlobalImportance } from '../model/explanation/explainer.js';

/** Global feature importance: each feature's mean absolute contribution to the model's output over the holdout rows. */
export type FeatureImportance = GlobalImportance;

/** The rows' outcome on the holdout: labels and probabilities (class indexes into metadata.classes), or values. */
export type HoldoutOutcome =
  | {
      task: 'classification';
      trainLabels: readonly number[];
      holdoutLabels: readonly number[];
      probabilities: readonly (readonly number[])[];
    }
  | { task: 'regression'; trainTargets: readonly number[]; holdoutTargets: readonly number[]; predictions: readonly number[] };

/** The model LATEST named before this run, run on the same holdout rows (probabilities in metadata.classes order). */
export type LatestOnHoldout =
  | { version: string; probabilities: readonly (readonly number[])[] }
  | { version: string; predictions: readonly number[] }
  | { version: string; unavailable: string };

export interface TrainingReportInput {
  /** config.yaml's name, version and description. */
  project: { name: string; version: string; description: string };
  /** What model.json holds for this run. */
  metadata: ModelMetadata;
  features: readonly Feature[];
  split: { seed: number; holdoutFraction: number };
  trainRows: readonly FeatureValues[];
  holdoutRows: readonly FeatureValues[];
  outcome: HoldoutOutcome;
  /** Absent when there was no LATEST before this run. */
  latest?: LatestOnHoldout;
  promotion: PromotionDecision;
  /** The global feature importance, or why the model cannot be explained (absent: not computed). */
  importance?: FeatureImportance | { unavailable: string };
}

/** Scatter plots show at most this many rows (evenly spaced through the holdout), to keep the file small. */
const MAX_POINTS = 2000;
/** Curves are drawn with at most this many points. */
const MAX_CURVE_POINTS = 400;
/** String features show their most frequent training values; the rest are summed as "(other)". */
const MAX_STRING_VALUES = 15;

const fixed = (value: number | undefined, digits = 4) => (value === undefined || Number.isNaN(value) ? 'n/a' : value.toFixed(digits));
const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
const share = (part: number, whole: number) => (whole ? part / whole : 0);

/** Every `step`-th item (first and last kept), at most `max` of them. */
function thin<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const step = (items.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => items[Math.round(i * step)]!);
}

export function renderTrainingReport(input: TrainingReportInput): string {
  const { metadata, project } = input;
  const title = `${project.name} · model ${metadata.model_version}`;
  const body = [
    header(input),
    dataSection(input),
    metricsSection(input),
    qualityGateSection(input),
    input.outcome.task === 'classification' ? classificationSections(input, input.outcome) : regressionSections(input.outcome),
    importanceSection(input),
    distributionSection(input),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Training report: ${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body.join('\n')}
<footer>Written by <code>npm run train</code> at ${escapeHtml(metadata.created_at)} beside the model it describes (<code>model.onnx</code>, <code>model.json</code>).</footer>
</body>
</html>
`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 1100px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 24px; margin: 8px 0 4px; } h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 4px; } code { font-size: 12px; background: #f3f3f3; padding: 1px 4px; border-radius: 3px; }
table { border-collapse: collapse; margin: 8px 0; } th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f6f6f6; font-weight: 600; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; }
.passed { background: #e3f4e1; color: #1d6b1d; } .failed { background: #fbe3e3; color: #a11b1b; }
.lead { font-size: 16px; margin: 4px 0 12px; } .muted { color: #666; }
.charts { display: flex; flex-wrap: wrap; gap: 16px 24px; align-items: flex-start; }
figure { margin: 0; } figcaption { font-size: 13px; color: #444; max-width: 440px; }
.feature { break-inside: avoid; } footer { margin-top: 40px; color: #777; font-size: 12px; }
`;

function header({ project, metadata, promotion }: TrainingReportInput): string {
  const gate = metadata.quality_gate.passed
    ? '<span class="verdict passed">passed the quality gate</span>'
    : '<span class="verdict failed">missed the quality gate</span>';
  const served = promotion.promote
    ? '<span class="verdict passed">promoted to LATEST</span>'
    : '<span class="verdict failed">not promoted to LATEST</span>';
  return `<header>
<h1>${escapeHtml(project.name)} <span class="muted">· model ${escapeHtml(metadata.model_version)}</span></h1>
<p class="lead">${escapeHtml(project.description)}</p>
<p>A ${escapeHtml(metadata.task)} model (<code>${escapeHtml(metadata.algorithm)}</code>) predicting <code>${escapeHtml(metadata.target)}</code>${
    metadata.task === 'classification' ? ` (${metadata.classes.map((name) => `<code>${escapeHtml(name)}</code>`).join(', ')})` : ''
  } from ${metadata.features.length} features, for ${escapeHtml(project.name)} ${escapeHtml(project.version)}. ${gate} ${served}</p>
</header>`;
}

/** A table of HTML cells; the numeric columns (default: all but the first) are aligned right. */
function table(head: readonly string[], rows: readonly (readonly string[])[], isNumeric = (column: number) => column > 0): string {
  const cells = (row: readonly string[], tag: 'td' | 'th') =>
    row.map((cell, i) => (tag === 'td' && isNumeric(i) ? `<td class="number">${cell}</td>` : `<${tag}>${cell}</${tag}>`)).join('');
  return `<table><thead><tr>${cells(head, 'th')}</tr></thead><tbody>${rows.map((row) => `<tr>${cells(row, 'td')}</tr>`).join('')}</tbody></table>`;
}

function dataSection({ metadata, split, trainRows, holdoutRows, outcome }: TrainingReportInput): string {
  const total = trainRows.length + holdoutRows.length;
  const git = metadata.git
    ? `<code>${escapeHtml(metadata.git.commit)}</code>${metadata.git.dirty ? ' (with uncommitted changes)' : metadata.git.dirty === null ? '' : ' (clean)'}`
    : 'not a git checkout';
  const { data } = metadata;
  const rows: string[][] = [
    ['source (config.yaml data.path)', `<code>${escapeHtml(data.path)}</code>`],
    [
      'data file sha256',
      data.sha256 ? `<code>${escapeHtml(data.sha256)}</code>` : 'not a file (read by <code>src/data/dataLoader.ts</code>)',
    ],
    ['git commit', git],
    ['features.yaml sha256', `<code>${escapeHtml(metadata.features_sha256)}</code>`],
    ['rows', `${total}, all valid against features.yaml`],
    [
      'split',
      `${trainRows.length} training rows, ${holdoutRows.length} holdout rows (holdout_fraction ${split.holdoutFraction}, seed ${split.seed}${
        outcome.task === 'classification' ? ', stratified by class' : ''
      })`,
    ],
    ['model', `uuid <code>${escapeHtml(metadata.uuid)}</code>, trained ${escapeHtml(metadata.created_at)}`],
  ];
  let target: string;
  if (outcome.task === 'classification') {
    const counts = (labels: readonly number[]) => metadata.classes.map((_, c) => labels.filter((label) => label === c).length);
    const train = counts(outcome.trainLabels);
    const holdout = counts(outcome.holdoutLabels);
    target = table(
      ['class', 'training rows', 'holdout rows'],
      metadata.classes.map((name, c) => [
        escapeHtml(name),
        `${train[c]} (${percent(share(train[c]!, outcome.trainLabels.length))})`,
        `${holdout[c]} (${percent(share(holdout[c]!, outcome.holdoutLabels.length))})`,
      ]),
    );
  } else {
    const describe = (values: readonly number[]) => {
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
      const [min, max] = extent(values);
      return [formatNumber(min), formatNumber(mean), formatNumber(std), formatNumber(max)];
    };
    target = table(
      ['rows', 'min', 'mean', 'std', 'max'],
      [
        ['training', ...describe(outcome.trainTargets)],
        ['holdout', ...describe(outcome.holdoutTargets)],
      ],
    );
  }
  return `<section id="data">
<h2>Data</h2>
<table><tbody>${rows.map(([name, value]) => `<tr><th>${name}</th><td>${value}</td></tr>`).join('')}</tbody></table>
<h3>The target <code>${escapeHtml(metadata.target)}</code></h3>
${target}
</section>`;
}

interface ClassifierFigures {
  accuracy: number;
  macro_f1: number;
  roc_auc: number | undefined;
  log_loss: number;
}

function classifierFigures(
  labels: readonly number[],
  probabilities: readonly (readonly number[])[],
  classCount: number,
): ClassifierFigures {
  const { accuracy, macro_f1 } = classificationMetrics(labels, probabilities.map(classIndex), classCount);
  return {
    accuracy,
    macro_f1,
    roc_auc: oneVsRestRocAuc(labels, probabilities, classCount).overall,
    log_loss: logLoss(labels, probabilities),
  };
}

/** The training rows' class shares, predicted for every row: its most frequent class and its class balance. */
function majorityBaseline(trainLabels: readonly number[], classCount: number): number[] {
  return Array.from({ length: classCount }, (_, c) => share(trainLabels.filter((label) => label === c).length, trainLabels.length));
}

function metricsSection({ metadata, outcome, latest, holdoutRows }: TrainingReportInput): string {
  const columns = ['metric', 'this model', 'naive baseline'];
  let rows: string[][];
  let baselineNote: string;
  const latestNote = !latest
    ? 'There was no LATEST model before this run.'
    : 'unavailable' in latest
      ? `The LATEST model before this run, <code>${escapeHtml(latest.version)}</code>, could not be run on these rows: ${escapeHtml(latest.unavailable)}`
      : `LATEST before this run: <code>${escapeHtml(latest.version)}</code>, run by onnxruntime (as the service runs it) on the same ${holdoutRows.length} holdout rows.`;
  const withLatest = latest && !('unavailable' in latest);
  if (withLatest) columns.push(`LATEST before this run`);
  if (outcome.task === 'classification') {
    const classCount = metadata.classes.length;
    const model = classifierFigures(outcome.holdoutLabels, outcome.probabilities, classCount);
    const prior = majorityBaseline(outcome.trainLabels, classCount);
    const baseline = classifierFigures(
      outcome.holdoutLabels,
      outcome.holdoutLabels.map(() => prior),
      classCount,
    );
    const previous =
      latest && 'probabilities' in latest ? classifierFigures(outcome.holdoutLabels, latest.probabilities, classCount) : undefined;
    const auc = classCount === 2 ? `ROC-AUC (${escapeHtml(metadata.classes[1]!)} as positive) ↑` : 'ROC-AUC (one-vs-rest, macro) ↑';
    const line = (name: string, pick: (figures: ClassifierFigures) => number | undefined) => [
      name,
      fixed(pick(model)),
      fixed(pick(baseline)),
      ...(withLatest ? [fixed(previous ? pick(previous) : undefined)] : []),
    ];
    rows = [
      line('accuracy ↑', (f) => f.accuracy),
      line('macro F1 ↑', (f) => f.macro_f1),
      line(auc, (f) => f.roc_auc),
      line('log loss ↓', (f) => f.log_loss),
    ];
    baselineNote = `The naive baseline predicts the training rows' most frequent class, <code>${escapeHtml(
      metadata.classes[classIndex(prior)] ?? '',
    )}</code>, for every row, with the training class shares as its probabilities.`;
  } else {
    const model = regressionMetrics(outcome.holdoutTargets, outcome.predictions);
    const mean = outcome.trainTargets.reduce((s, v) => s + v, 0) / outcome.trainTargets.length;
    const baseline = regressionMetrics(
      outcome.holdoutTargets,
      outcome.holdoutTargets.map(() => mean),
    );
    const previous = latest && 'predictions' in latest ? regressionMetrics(outcome.holdoutTargets, latest.predictions) : undefined;
    const line = (name: string, key: 'rmse' | 'mae' | 'r2') => [
      name,
      fixed(model[key]),
      fixed(baseline[key]),
      ...(withLatest ? [fixed(previous?.[key])] : []),
    ];
    rows = [line('RMSE ↓', 'rmse'), line('MAE ↓', 'mae'), line('R² ↑', 'r2')];
    baselineNote = `The naive baseline predicts the training rows' mean, ${formatNumber(mean)}, for every row.`;
  }
  return `<section id="metrics">
<h2>Holdout metrics</h2>
<p>On the ${holdoutRows.length} holdout rows, which training never saw (↑: higher is better, ↓: lower is better).</p>
${table(columns, rows)}
<p class="muted">${baselineNote} ${latestNote}</p>
</section>`;
}

function qualityGateSection({ metadata, promotion }: TrainingReportInput): string {
  const { checks, passed } = metadata.quality_gate;
  const verdict = passed ? '<span class="verdict passed">passed</span>' : '<span class="verdict failed">FAILED</span>';
  const bounds = checks.length
    ? table(
        ['metric', 'bound (config.yaml)', 'value', 'verdict'],
        checks.map((check) => [
          escapeHtml(check.metric),
          `${check.bound === 'min' ? '≥' : '≤'} ${check.threshold} <span class="muted">(training.${check.bound}_metric.${escapeHtml(check.metric)})</span>`,
          fixed(check.value),
          check.passed ? 'passed' : '<strong>FAILED</strong>',
        ]),
        (column) => column === 2,
      )
    : '<p>No bounds are set (<code>training.min_metric</code> / <code>training.max_metric</code> in config.yaml).</p>';
  return `<section id="quality-gate">
<h2>Quality gate: ${verdict}</h2>
${bounds}
<p>Promotion: ${escapeHtml(promotion.reason)}</p>
</section>`;
}

function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${caption}</figcaption></figure>`;
}

function classificationSections(input: TrainingReportInput, outcome: Extract<HoldoutOutcome, { task: 'classification' }>): string {
  const { classes } = input.metadata;
  const { holdoutLabels: labels, probabilities } = outcome;
  const { confusion_matrix: confusion } = classificationMetrics(labels, probabilities.map(classIndex), classes.length);
  const rowTotals = confusion.map((row) => row.reduce((s, n) => s + n, 0));
  const matrix = heatMap({
    title: 'Confusion matrix of the holdout rows',
    rowTitle: 'actual class',
    columnTitle: 'predicted class',
    rowLabels: classes,
    columnLabels: classes,
    shades: confusion.map((row, r) => row.map((n) => share(n, rowTotals[r]!))),
    cellText: confusion.map((row) => row.map(String)),
    cellTitle: (r, c) =>
      `actual ${classes[r]}, predicted ${classes[c]}: ${confusion[r]![c]} rows (${percent(share(confusion[r]![c]!, rowTotals[r]!))} of ${classes[r]})`,
  });
  const positive = (c: number) => labels.map((label) => label === c);
  const scores = (c: number) => probabilities.map((row) => row[c] ?? 0);
  const auc = oneVsRestRocAuc(labels, probabilities, classes.length);
  const perClass = perClassScores(confusion);
  const scoresTable = table(
    ['class', 'support', 'precision', 'recall', 'F1', 'ROC-AUC (vs rest)', 'average precision'],
    classes.map((name, c) => [
      escapeHtml(name),
      String(perClass[c]!.support),
      fixed(perClass[c]!.precision),
      fixed(perClass[c]!.recall),
      fixed(perClass[c]!.f1),
      fixed(auc.perClass[c]),
      fixed(averagePrecision(positive(c), scores(c))),
    ]),
  );
  // Two classes: the second class's curves (the first's mirror them); more: one per class against the rest.
  const curveClasses = classes.length === 2 ? [1] : classes.map((_, c) => c);
  const curveName = (c: number) => (classes.length === 2 ? `${classes[c]} vs ${classes[1 - c]}` : `${classes[c]} vs rest`);
  const rocSeries: LineSeries[] = [];
  const prSeries: LineSeries[] = [];
  const calibrationSeries: LineSeries[] = [];
  for (const c of curveClasses) {
    const roc = rocCurve(positive(c), scores(c));
    if (roc)
      rocSeries.push({
        name: curveName(c),
        points: thin(
          roc.fpr.map((x, i) => [x, roc.tpr[i]!] as const),
          MAX_CURVE_POINTS,
        ),
      });
    const pr = precisionRecallCurve(positive(c), scores(c));
    if (pr)
      prSeries.push({
        name: curveName(c),
        marks: 'steps',
        points: thin(
          pr.recall.map((x, i) => [x, pr.precision[i]!] as const),
          MAX_CURVE_POINTS,
        ),
      });
    const bins = calibrationCurve(positive(c), scores(c));
    calibrationSeries.push({
      name: classes[c]!,
      marks: 'line+points',
      points: bins.map((bin) => [bin.meanPredicted, bin.fractionPositive] as const),
    });
  }
  const unit: [number, number] = [0, 1];
  const charts = [
    figure(
      lineChart({
        title: 'ROC curves',
        xLabel: 'false positive rate',
        yLabel: 'true positive rate',
        xDomain: unit,
        yDomain: unit,
        series: [
          ...rocSeries,
          {
            name: 'chance',
            dashed: true,
            points: [
              [0, 0],
              [1, 1],
            ],
          },
        ],
      }),
      'ROC: the share of a class found (true positive rate) against the share of other rows wrongly taken for it, as the probability threshold falls.',
    ),
    figure(
      lineChart({
        title: 'Precision-recall curves',
        xLabel: 'recall',
        yLabel: 'precision',
        xDomain: unit,
        yDomain: unit,
        series: prSeries,
        legend: 'bottom-left',
      }),
      'Precision-recall: of the rows taken for a class, the share that are (precision), against the share of the class found (recall).',
    ),
    figure(
      lineChart({
        title: 'Calibration',
        xLabel: 'mean predicted probability',
        yLabel: 'fraction of rows in the class',
        xDomain: unit,
        yDomain: unit,
        legend: 'top-left',
        series: [
          ...calibrationSeries,
          {
            name: 'perfectly calibrated',
            dashed: true,
            points: [
              [0, 0],
              [1, 1],
            ],
          },
        ],
      }),
      'Calibration: rows binned by the probability given to a class (10 bins of width 0.1, empty bins left out); a calibrated model lies on the diagonal.',
    ),
  ];
  const missingCurves = curveClasses.filter((c) => !rocSeries.some((series) => series.name === curveName(c)));
  const missingNote = missingCurves.length
    ? `<p class="muted">No ROC curve for ${missingCurves.map((c) => `<code>${escapeHtml(classes[c]!)}</code>`).join(', ')}: the holdout rows hold only one side of it.</p>`
    : '';
  return `<section id="classification">
<h2>Classification on the holdout rows</h2>
<h3>Confusion matrix</h3>
<p>Rows: the actual class; columns: the predicted class (the most probable). Shading: the share of the actual class.</p>
${matrix}
<h3>Per class</h3>
${scoresTable}
<p>Log loss ${fixed(logLoss(labels, probabilities))} (the mean of −ln of the probability given to each row's class).</p>
<h3>Curves</h3>
<div class="charts">${charts.join('\n')}</div>
${missingNote}
</section>`;
}

function regressionSections(outcome: Extract<HoldoutOutcome, { task: 'regression' }>): string {
  const { holdoutTargets: actual, predictions } = outcome;
  const residuals = actual.map((y, i) => y - predictions[i]!);
  const shown = thin(
    actual.map((_, i) => i),
    MAX_POINTS,
  );
  const [lo, hi] = extent([...actual, ...predictions]);
  const predictedVsActual = lineChart({
    title: 'Predicted vs actual',
    xLabel: 'actual',
    yLabel: 'predicted',
    legend: 'top-left',
    series: [
      { name: 'holdout rows', marks: 'points', points: shown.map((i) => [actual[i]!, predictions[i]!] as const) },
      {
        name: 'perfect prediction',
        dashed: true,
        points: [
          [lo, lo],
          [hi, hi],
        ],
      },
    ],
  });
  const [pLo, pHi] = extent(predictions);
  const residualScatter = lineChart({
    title: 'Residuals vs predicted',
    xLabel: 'predicted',
    yLabel: 'residual (actual − predicted)',
    legend: 'none',
    series: [
      { name: 'holdout rows', marks: 'points', points: shown.map((i) => [predictions[i]!, residuals[i]!] as const) },
      {
        name: 'zero',
        dashed: true,
        points: [
          [pLo, 0],
          [pHi, 0],
        ],
      },
    ],
  });
  const bins = numericBins(residuals, false);
  const residualHistogram = histogram({
    title: 'Distribution of the residuals',
    xLabel: 'residual (actual − predicted)',
    yLabel: 'holdout rows',
    edges: bins.edges,
    series: [{ name: 'holdout rows', values: bins.count(residuals) }],
  });
  const sampled = shown.length < actual.length ? ` (${shown.length} of the ${actual.length} rows, evenly spaced)` : '';
  return `<section id="regression">
<h2>Regression on the holdout rows</h2>
<div class="charts">
${figure(predictedVsActual, `Each holdout row${sampled}: a perfect model puts every point on the diagonal.`)}
${figure(residualScatter, 'Residuals against the prediction: a pattern (a curve, a funnel) shows what the model misses.')}
${figure(residualHistogram, `Residuals of all ${actual.length} holdout rows.`)}
</div>
</section>`;
}

function importanceSection({ importance }: TrainingReportInput): string {
  if (!importance || 'unavailable' in importance) {
    const reason = importance ? `: ${escapeHtml(importance.unavailable)}` : '.';
    return `<section id="importance">
<h2>Global feature importance</h2>
<p>Not available for this model${reason}</p>
<p class="muted">The importance is each feature's mean absolute contribution to the prediction over the holdout rows.</p>
</section>`;
  }
  const ranked = [...importance.features].sort((a, b) => b.importance - a.importance);
  return `<section id="importance">
<h2>Global feature importance</h2>
<p>Each feature's mean absolute contribution to the model's output (on the ${escapeHtml(importance.scale)} scale) over ${importance.rows} holdout rows.</p>
${horizontalBarChart({
  title: 'Global feature importance',
  xLabel: `mean |contribution| (${importance.scale})`,
  labels: ranked.map((entry) => entry.feature),
  values: ranked.map((entry) => entry.importance),
})}
</section>`;
}

const isPresent = (value: FeatureValue | undefined | null): value is FeatureValue => value !== undefined && value !== null;

/** Equal-width bins over the values (integers: one bin per value when there are at most 20). */
function numericBins(values: readonly number[], integer: boolean): { edges: number[]; count: (of: readonly number[]) => number[] } {
  const [lo, hi] = values.length ? extent(values) : [0, 1];
  let edges: number[];
  if (integer && hi - lo + 1 <= 20) edges = Array.from({ length: hi - lo + 2 }, (_, i) => lo - 0.5 + i);
  else if (lo === hi) edges = [lo - 0.5, hi + 0.5];
  else {
    const binCount = Math.min(20, Math.max(5, Math.ceil(Math.sqrt(values.length))));
    edges = Array.from({ length: binCount + 1 }, (_, i) => (i === binCount ? hi : lo + ((hi - lo) * i) / binCount));
  }
  const binCount = edges.length - 1;
  const count = (of: readonly number[]) => {
    const counts = new Array<number>(binCount).fill(0);
    for (const value of of) {
      let bin = 0;
      while (bin < binCount - 1 && value >= edges[bin + 1]!) bin++;
      counts[bin]!++;
    }
    return counts;
  };
  return { edges, count };
}

function distributionSection({ features, trainRows, holdoutRows }: TrainingReportInput): string {
  const charts = features.map((feature) => {
    const trainValues = trainRows.map((row) => row[feature.name]).filter(isPresent);
    const holdoutValues = holdoutRows.map((row) => row[feature.name]).filter(isPresent);
    const missing = [
      share(trainRows.length - trainValues.length, trainRows.length),
      share(holdoutRows.length - holdoutValues.length, holdoutRows.length),
    ];
    const title = `${feature.name}: training and holdout rows`;
    let chart: string;
    if (feature.type === 'number' || feature.type === 'integer') {
      const train = trainValues.map(Number);
      const holdout = holdoutValues.map(Number);
      const bins = numericBins([...train, ...holdout], feature.type === 'integer');
      chart = histogram({
        title,
        xLabel: feature.name,
        yLabel: 'share of rows',
        edges: bins.edges,
        series: [
          { name: `training (${train.length})`, values: bins.count(train).map((n) => share(n, train.length)) },
          { name: `holdout (${holdout.length})`, values: bins.count(holdout).map((n) => share(n, holdout.length)) },
        ],
        format: percent,
        width: 360,
        height: 220,
      });
    } else {
      const counts = (values: readonly FeatureValue[]) => {
        const map = new Map<string, number>();
        for (const value of values) map.set(String(value), (map.get(String(value)) ?? 0) + 1);
        return map;
      };
      const train = counts(trainValues);
      const holdout = counts(holdoutValues);
      const seen = [...new Set([...train.keys(), ...holdout.keys()])];
      let categories: string[];
      if (feature.type === 'category')
        categories = [...(feature.values ?? []), ...seen.filter((value) => !feature.values?.includes(value))];
      else if (feature.type === 'boolean') categories = ['true', 'false'];
      else
        categories = [...train]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .map(([value]) => value)
          .slice(0, MAX_STRING_VALUES);
      const other = (map: Map<string, number>) => [...map].filter(([value]) => !categories.includes(value)).reduce((s, [, n]) => s + n, 0);
      const hasOther = other(train) + other(holdout) > 0;
      const sharesOf = (map: Map<string, number>, total: number) => [
        ...categories.map((value) => share(map.get(value) ?? 0, total)),
        ...(hasOther ? [share(other(map), total)] : []),
      ];
      chart = barChart({
        title,
        xLabel: feature.name,
        yLabel: 'share of rows',
        categories: [...categories, ...(hasOther ? ['(other)'] : [])],
        series: [
          { name: `training (${trainValues.length})`, values: sharesOf(train, trainValues.length) },
          { name: `holdout (${holdoutValues.length})`, values: sharesOf(holdout, holdoutValues.length) },
        ],
        format: percent,
        width: 360,
        height: 220,
      });
    }
    const missingNote = missing.some((m) => m > 0)
      ? ` Missing: ${percent(missing[0]!)} of training, ${percent(missing[1]!)} of holdout rows.`
      : '';
    const description = feature.description ? escapeHtml(feature.description.replace(/\.?$/, '.')) : '';
    return `<div class="feature"><h3><code>${escapeHtml(feature.name)}</code> <span class="muted">${escapeHtml(feature.type)}</span></h3>${figure(
      chart,
      `${description}${missingNote}`,
    )}</div>`;
  });
  return `<section id="features">
<h2>Feature distributions</h2>
<p>Each feature's values in the training rows and in the holdout rows, as shares of the rows with a value.</p>
<div class="charts">
${charts.join('\n')}
</div>
</section>`;
}
