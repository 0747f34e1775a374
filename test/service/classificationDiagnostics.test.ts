// The training report's classifier diagnostics (templates/service/src/training/classificationDiagnostics.ts)
// against scikit-learn, which /usr/bin/python3 runs on the same labels and probabilities: the holdout
// probabilities of built-in models on the wine (3 classes) and breast cancer (2 classes) fixtures. The
// decision tree's probabilities are leaf shares, so many rows tie: the case where curves are easiest to get wrong.
// Skipped without python3-sklearn (Debian).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readCsvRows } from '../../templates/service/src/data/rows.js';
import { trainBuiltInModel } from '../../templates/service/src/model/builtInModels.js';
import { Preprocessor } from '../../templates/service/src/model/preprocessor.js';
import { algorithmSchema, featureSchema } from '../../templates/service/src/contract/index.js';
import {
  averagePrecision,
  calibrationCurve,
  logLoss,
  oneVsRestRocAuc,
  perClassScores,
  precisionRecallCurve,
  rocCurve,
} from '../../templates/service/src/training/classificationDiagnostics.js';
import { classificationMetrics } from '../../templates/service/src/training/metrics.js';
import { trainHoldoutSplit } from '../../templates/service/src/training/split.js';
import { classIndex } from '../../templates/service/src/model/modelTypes.js';

const PYTHON = '/usr/bin/python3';
const hasScikitLearn = spawnSync(PYTHON, ['-c', 'import sklearn'], { stdio: 'ignore' }).status === 0;
const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).pathname;

interface Output {
  labels: number[];
  probabilities: number[][];
  classCount: number;
}

const CASES = [
  { label: 'wine, logistic regression (3 classes)', file: 'wine.csv', target: 'cultivar', algorithm: 'linear', ties: false },
  {
    label: 'wine, decision tree of depth 2 (3 classes, tied scores)',
    file: 'wine.csv',
    target: 'cultivar',
    algorithm: { name: 'decision_tree', max_depth: 2 },
    ties: true,
  },
  {
    label: 'breast cancer, logistic regression (2 classes)',
    file: 'breast_cancer.csv',
    target: 'diagnosis',
    algorithm: 'linear',
    ties: false,
  },
  {
    label: 'breast cancer, decision tree of depth 3 (2 classes, tied scores)',
    file: 'breast_cancer.csv',
    target: 'diagnosis',
    algorithm: { name: 'decision_tree', max_depth: 3 },
    ties: true,
  },
];

/** Holdout labels and probabilities of a built-in model trained on a fixture (every column a number). */
async function holdoutOutput(file: string, target: string, algorithm: unknown): Promise<Output> {
  const header = readFileSync(fixture(file), 'utf8').split(/\r?\n/, 1)[0]!.split(',');
  const features = header.filter((name) => name !== target).map((name) => featureSchema.parse({ name, type: 'number' }));
  const rows = await readCsvRows(fixture(file), features, { target, task: 'classification' });
  const classes = [...new Set(rows.map((row) => String(row[target])))].sort();
  const y = rows.map((row) => classes.indexOf(String(row[target])));
  const split = trainHoldoutSplit(rows.length, 0.3, 42, y);
  const featureRows = rows.map(({ [target]: _target, ...values }) => values);
  const preprocessor = new Preprocessor(features).fit(split.train.map((i) => featureRows[i]!));
  const model = trainBuiltInModel(
    preprocessor.transform(split.train.map((i) => featureRows[i]!)),
    split.train.map((i) => y[i]!),
    { task: 'classification', classes, seed: 42, algorithm: algorithmSchema.parse(algorithm) },
  );
  assert.equal(model.task, 'classification');
  const probabilities = model.predictProba(preprocessor.transform(split.holdout.map((i) => featureRows[i]!)));
  return { labels: split.holdout.map((i) => y[i]!), probabilities, classCount: classes.length };
}

interface ScikitLearn {
  roc: { fpr: number[]; tpr: number[]; thresholds: number[]; auc: number }[];
  roc_auc: number;
  pr: { precision: number[]; recall: number[]; thresholds: number[]; ap: number }[];
  log_loss: number;
  calibration: { prob_true: number[]; prob_pred: number[] }[];
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
}

const SCIKIT_LEARN = `
import json, sys
import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import (average_precision_score, log_loss, precision_recall_curve, precision_recall_fscore_support,
                             roc_auc_score, roc_curve)
case = json.load(sys.stdin)
y = np.array(case['labels'])
p = np.array(case['probabilities'], dtype=np.float64)
classes = list(range(case['classCount']))
out = {'roc': [], 'pr': [], 'calibration': []}
for c in classes:
    positive = (y == c).astype(int)
    fpr, tpr, thresholds = roc_curve(positive, p[:, c])
    out['roc'].append({'fpr': fpr.tolist(), 'tpr': tpr.tolist(), 'thresholds': thresholds.tolist(), 'auc': roc_auc_score(positive, p[:, c])})
    precision, recall, thresholds = precision_recall_curve(positive, p[:, c])
    out['pr'].append({'precision': precision.tolist(), 'recall': recall.tolist(), 'thresholds': thresholds.tolist(),
                      'ap': average_precision_score(positive, p[:, c])})
    prob_true, prob_pred = calibration_curve(positive, p[:, c], n_bins=10, strategy='uniform')
    out['calibration'].append({'prob_true': prob_true.tolist(), 'prob_pred': prob_pred.tolist()})
out['roc_auc'] = roc_auc_score(y, p[:, 1]) if len(classes) == 2 else roc_auc_score(y, p, multi_class='ovr', average='macro', labels=classes)
out['log_loss'] = log_loss(y, p, labels=classes)
precision, recall, f1, support = precision_recall_fscore_support(y, p.argmax(axis=1), labels=classes, zero_division=0)
out.update(precision=precision.tolist(), recall=recall.tolist(), f1=f1.tolist(), support=support.tolist())
print(json.dumps(out))
`;

const near = (actual: readonly number[], expected: readonly number[], what: string) => {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} values, scikit-learn ${expected.length}`);
  actual.forEach((value, i) => assert.ok(Math.abs(value - expected[i]!) <= 1e-12, `${what}[${i}]: ${value}, scikit-learn ${expected[i]}`));
};

describe('classifier diagnostics against scikit-learn (skipped without python3-sklearn)', function () {
  this.timeout(60_000);
  before(function () {
    if (!hasScikitLearn) this.skip();
  });

  for (const { label, file, target, algorithm, ties } of CASES) {
    it(`${label}: ROC and precision-recall curves, their areas, log loss, calibration bins and per-class scores`, async function () {
      const { labels, probabilities, classCount } = await holdoutOutput(file, target, algorithm);
      const distinct = new Set(probabilities.map((row) => row[0])).size;
      assert.ok(ties ? distinct < labels.length / 4 : distinct === labels.length, `${distinct} distinct scores in ${labels.length} rows`);
      const result = spawnSync(PYTHON, ['-c', SCIKIT_LEARN], {
        input: JSON.stringify({ labels, probabilities, classCount }),
        encoding: 'utf8',
      });
      assert.equal(result.status, 0, `python failed: ${result.stderr}`);
      const sklearn = JSON.parse(result.stdout) as ScikitLearn;
      const auc = oneVsRestRocAuc(labels, probabilities, classCount);
      for (let c = 0; c < classCount; c++) {
        const positive = labels.map((l) => l === c);
        const scores = probabilities.map((row) => row[c]!);
        const roc = rocCurve(positive, scores)!;
        near(roc.fpr, sklearn.roc[c]!.fpr, `${label}, class ${c}: ROC fpr`);
        near(roc.tpr, sklearn.roc[c]!.tpr, `${label}, class ${c}: ROC tpr`);
        near(roc.thresholds, sklearn.roc[c]!.thresholds, `${label}, class ${c}: ROC thresholds`);
        near([auc.perClass[c]!], [sklearn.roc[c]!.auc], `${label}, class ${c}: ROC-AUC`);
        const pr = precisionRecallCurve(positive, scores)!;
        near(pr.precision, sklearn.pr[c]!.precision, `${label}, class ${c}: precision`);
        near(pr.recall, sklearn.pr[c]!.recall, `${label}, class ${c}: recall`);
        near(pr.thresholds, sklearn.pr[c]!.thresholds, `${label}, class ${c}: PR thresholds`);
        near([averagePrecision(positive, scores)!], [sklearn.pr[c]!.ap], `${label}, class ${c}: average precision`);
        const bins = calibrationCurve(positive, scores, 10);
        near(
          bins.map((bin) => bin.fractionPositive),
          sklearn.calibration[c]!.prob_true,
          `${label}, class ${c}: calibration fraction of positives`,
        );
        near(
          bins.map((bin) => bin.meanPredicted),
          sklearn.calibration[c]!.prob_pred,
          `${label}, class ${c}: calibration mean prediction`,
        );
      }
      near([auc.overall!], [sklearn.roc_auc], `${label}: ROC-AUC`);
      near([logLoss(labels, probabilities)], [sklearn.log_loss], `${label}: log loss`);
      const scores = perClassScores(classificationMetrics(labels, probabilities.map(classIndex), classCount).confusion_matrix);
      near(
        scores.map((s) => s.precision),
        sklearn.precision,
        `${label}: precision`,
      );
      near(
        scores.map((s) => s.recall),
        sklearn.recall,
        `${label}: recall`,
      );
      near(
        scores.map((s) => s.f1),
        sklearn.f1,
        `${label}: F1`,
      );
      near(
        scores.map((s) => s.support),
        sklearn.support,
        `${label}: support`,
      );
    });
  }
});
