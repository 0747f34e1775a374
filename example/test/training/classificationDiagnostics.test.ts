// The report's classifier diagnostics on the examples of scikit-learn's documentation, whose results are printed
// there (the generator's own tests also compare them with scikit-learn on real model outputs).
import assert from 'node:assert/strict';
import {
  averagePrecision,
  calibrationCurve,
  logLoss,
  oneVsRestRocAuc,
  perClassScores,
  precisionRecallCurve,
  rocAuc,
  rocCurve,
} from '../../src/training/classificationDiagnostics.js';

const close = (actual: readonly number[], expected: readonly number[], message?: string) => {
  assert.equal(actual.length, expected.length, message);
  actual.forEach((value, i) => assert.ok(Math.abs(value - expected[i]!) < 1e-9, `${message ?? ''}[${i}]: ${value} vs ${expected[i]}`));
};

describe('classifier diagnostics (as scikit-learn computes them)', () => {
  const positive = [false, false, true, true];
  const scores = [0.1, 0.4, 0.35, 0.8];

  it('ROC curve and its area (roc_curve, roc_auc_score)', () => {
    const curve = rocCurve(positive, scores)!;
    close(curve.fpr, [0, 0, 0.5, 0.5, 1], 'fpr');
    close(curve.tpr, [0, 0.5, 0.5, 1, 1], 'tpr');
    close(curve.thresholds, [1.8, 0.8, 0.4, 0.35, 0.1], 'thresholds');
    assert.equal(rocAuc(positive, scores), 0.75);
    // Tied scores form one threshold: a model that gives every row the same score is no better than chance.
    assert.equal(rocAuc(positive, [0.5, 0.5, 0.5, 0.5]), 0.5);
    assert.equal(rocCurve([true, true], [0.2, 0.9]), undefined, 'one class only: undefined, as scikit-learn refuses it');
  });

  it('precision-recall curve and average precision (precision_recall_curve, average_precision_score)', () => {
    const curve = precisionRecallCurve(positive, scores)!;
    close(curve.precision, [0.5, 2 / 3, 0.5, 1, 1], 'precision');
    close(curve.recall, [1, 1, 0.5, 0.5, 0], 'recall');
    close(curve.thresholds, [0.1, 0.35, 0.4, 0.8], 'thresholds');
    assert.ok(Math.abs(averagePrecision(positive, scores)! - 0.8333333333333333) < 1e-12);
    assert.equal(precisionRecallCurve([false, false], [0.1, 0.2]), undefined);
  });

  it('log loss, clipping certain mistakes instead of returning Infinity (log_loss)', () => {
    // log_loss(["spam", "ham", "ham", "spam"], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]) with ham = 0, spam = 1
    const loss = logLoss(
      [1, 0, 0, 1],
      [
        [0.1, 0.9],
        [0.9, 0.1],
        [0.8, 0.2],
        [0.35, 0.65],
      ],
    );
    assert.ok(Math.abs(loss - 0.21616187468057912) < 1e-12, String(loss));
    const certainAndWrong = logLoss([0], [[0, 1]]);
    assert.ok(Number.isFinite(certainAndWrong) && Math.abs(certainAndWrong + Math.log(Number.EPSILON)) < 1e-9);
  });

  it('calibration bins (calibration_curve, strategy uniform), empty bins left out', () => {
    const bins = calibrationCurve(
      [false, false, false, false, true, true, true, true, true],
      [0.1, 0.2, 0.3, 0.4, 0.65, 0.7, 0.8, 0.9, 1],
      3,
    );
    close(
      bins.map((bin) => bin.fractionPositive),
      [0, 0.5, 1],
    );
    close(
      bins.map((bin) => bin.meanPredicted),
      [0.2, 0.525, 0.85],
    );
    assert.deepEqual(
      bins.map((bin) => bin.count),
      [3, 2, 4],
    );
    // A value on an inner edge belongs to the lower bin, as numpy's searchsorted puts it.
    assert.deepEqual(
      calibrationCurve([true], [0.5], 2).map((bin) => [bin.from, bin.to]),
      [[0, 0.5]],
    );
  });

  it('per-class precision, recall and F1 from the confusion matrix, 0 where undefined', () => {
    const scores = perClassScores([
      [3, 1, 0],
      [0, 2, 0],
      [0, 0, 0],
    ]);
    close(
      scores.map((s) => s.precision),
      [1, 2 / 3, 0],
    );
    close(
      scores.map((s) => s.recall),
      [0.75, 1, 0],
    );
    close(
      scores.map((s) => s.f1),
      [6 / 7, 0.8, 0],
    );
    assert.deepEqual(
      scores.map((s) => s.support),
      [4, 2, 0],
    );
  });

  it('one-vs-rest ROC-AUC: the macro mean over classes; with two classes the second class; undefined when a class is absent', () => {
    const labels = [0, 1, 2, 2];
    const probabilities = [
      [0.8, 0.1, 0.1],
      [0.2, 0.7, 0.1],
      [0.1, 0.2, 0.7],
      [0.85, 0.05, 0.1],
    ];
    const { perClass, overall } = oneVsRestRocAuc(labels, probabilities, 3);
    // Class 2: its rows score 0.7 and 0.1, the others 0.1 and 0.1: two pairs won, two tied (half each).
    close(perClass as number[], [2 / 3, 1, 0.75]);
    assert.ok(Math.abs(overall! - 29 / 36) < 1e-12);
    const binary = oneVsRestRocAuc(
      [0, 1, 1],
      [
        [0.9, 0.1],
        [0.3, 0.7],
        [0.6, 0.4],
      ],
      2,
    );
    assert.equal(binary.overall, 1);
    assert.equal(oneVsRestRocAuc([0, 0], probabilities.slice(0, 2), 3).overall, undefined);
  });
});
