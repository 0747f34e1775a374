// What the training report shows about a classifier beyond model.json's metrics: per-class precision, recall
// and F1, ROC and precision-recall curves with their areas, log loss and calibration. Each is computed as
// scikit-learn 1.2 computes it (the function named in its comment), so the figures can be compared with
// a notebook's; the generator's tests check them against scikit-learn on the same inputs.

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** Rows of this class. */
  support: number;
}

/** Per class, from confusion[actual][predicted]; 0 where a ratio is undefined (precision_recall_fscore_support, zero_division=0). */
export function perClassScores(confusion: readonly (readonly number[])[]): ClassScores[] {
  return confusion.map((row, c) => {
    const truePositive = row[c] ?? 0;
    const support = row.reduce((sum, n) => sum + n, 0);
    const predicted = confusion.reduce((sum, r) => sum + (r[c] ?? 0), 0);
    const precision = predicted ? truePositive / predicted : 0;
    const recall = support ? truePositive / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1, support };
  });
}

/**
 * Cumulative false and true positives at each distinct score, highest score first (sklearn's _binary_clf_curve):
 * predicting positive for scores ≥ thresholds[i] gives fps[i] false and tps[i] true positives.
 */
export function binaryCounts(
  positive: readonly boolean[],
  scores: readonly number[],
): { fps: number[]; tps: number[]; thresholds: number[] } {
  // Stable sort, highest first; tied scores end up in one threshold, so their order does not matter.
  const order = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const fps: number[] = [];
  const tps: number[] = [];
  const thresholds: number[] = [];
  let tp = 0;
  order.forEach((row, k) => {
    if (positive[row]) tp++;
    const next = order[k + 1];
    if (next === undefined || scores[next] !== scores[row]) {
      tps.push(tp);
      fps.push(k + 1 - tp);
      thresholds.push(scores[row]!);
    }
  });
  return { fps, tps, thresholds };
}

export interface RocCurve {
  /** False positive rate, from 0 to 1. */
  fpr: number[];
  /** True positive rate, from 0 to 1. */
  tpr: number[];
  /** Scores at or above which a row is called positive; the first is max + 1 (nothing called positive). */
  thresholds: number[];
}

/**
 * The ROC curve of one class against the rest (roc_curve, drop_intermediate=True: points on a straight segment
 * between two others are left out). Undefined when the rows hold only positives or only negatives.
 */
export function rocCurve(positive: readonly boolean[], scores: readonly number[]): RocCurve | undefined {
  let { fps, tps, thresholds } = binaryCounts(positive, scores);
  const positives = tps[tps.length - 1] ?? 0;
  const negatives = fps[fps.length - 1] ?? 0;
  if (positives === 0 || negatives === 0) return undefined;
  if (fps.length > 2) {
    const keep = fps.map(
      (_, i) =>
        i === 0 || i === fps.length - 1 || fps[i - 1]! - 2 * fps[i]! + fps[i + 1]! !== 0 || tps[i - 1]! - 2 * tps[i]! + tps[i + 1]! !== 0,
    );
    [fps, tps, thresholds] = [fps, tps, thresholds].map((values) => values.filter((_, i) => keep[i])) as [number[], number[], number[]];
  }
  return {
    fpr: [0, ...fps.map((n) => n / negatives)],
    tpr: [0, ...tps.map((n) => n / positives)],
    thresholds: [thresholds[0]! + 1, ...thresholds],
  };
}

/** The area under the ROC curve by the trapezoidal rule (roc_auc_score); undefined with a single class present. */
export function rocAuc(positive: readonly boolean[], scores: readonly number[]): number | undefined {
  const curve = rocCurve(positive, scores);
  if (!curve) return undefined;
  let area = 0;
  for (let i = 1; i < curve.fpr.length; i++) area += ((curve.fpr[i]! - curve.fpr[i - 1]!) * (curve.tpr[i]! + curve.tpr[i - 1]!)) / 2;
  return area;
}

/**
 * ROC-AUC of each class against the rest, and their mean: roc_auc_score(y, probabilities, multi_class='ovr',
 * average='macro'); with two classes the AUC of the second class's probability, as roc_auc_score(y, p[:, 1]).
 * Undefined where the holdout rows lack the class (or hold nothing else).
 */
export function oneVsRestRocAuc(
  labels: readonly number[],
  probabilities: readonly (readonly number[])[],
  classCount: number,
): { perClass: (number | undefined)[]; overall: number | undefined } {
  const perClass = Array.from({ length: classCount }, (_, c) =>
    rocAuc(
      labels.map((label) => label === c),
      probabilities.map((row) => row[c] ?? 0),
    ),
  );
  if (classCount === 2) return { perClass, overall: perClass[1] };
  const overall = perClass.some((auc) => auc === undefined) ? undefined : perClass.reduce((sum: number, auc) => sum + auc!, 0) / classCount;
  return { perClass, overall };
}

export interface PrecisionRecallCurve {
  /** Precision at each threshold, by increasing threshold, then 1 (the point at recall 0). */
  precision: number[];
  /** Recall at each threshold, decreasing, then 0. */
  recall: number[];
  /** The distinct scores, increasing. */
  thresholds: number[];
}

/** Precision and recall of one class against the rest at every distinct score (precision_recall_curve); undefined without positives. */
export function precisionRecallCurve(positive: readonly boolean[], scores: readonly number[]): PrecisionRecallCurve | undefined {
  const { fps, tps, thresholds } = binaryCounts(positive, scores);
  const positives = tps[tps.length - 1] ?? 0;
  if (positives === 0) return undefined;
  const precision = tps.map((tp, i) => (tp + fps[i]! ? tp / (tp + fps[i]!) : 0));
  const recall = tps.map((tp) => tp / positives);
  return { precision: [...precision.reverse(), 1], recall: [...recall.reverse(), 0], thresholds: [...thresholds].reverse() };
}

/** The precision averaged over the recall steps, Σ (Rₙ − Rₙ₋₁) Pₙ (average_precision_score); undefined without positives. */
export function averagePrecision(positive: readonly boolean[], scores: readonly number[]): number | undefined {
  const curve = precisionRecallCurve(positive, scores);
  if (!curve) return undefined;
  let sum = 0;
  for (let i = 0; i < curve.recall.length - 1; i++) sum += (curve.recall[i]! - curve.recall[i + 1]!) * curve.precision[i]!;
  return sum;
}

/**
 * The mean negative log of the probability given to each row's class (log_loss with labels = every class):
 * probabilities clipped to [ε, 1 − ε] with ε the float64 machine epsilon, then each row rescaled to sum to 1.
 */
export function logLoss(labels: readonly number[], probabilities: readonly (readonly number[])[]): number {
  if (!labels.length) return Number.NaN;
  const epsilon = Number.EPSILON;
  let total = 0;
  labels.forEach((label, i) => {
    const row = (probabilities[i] ?? []).map((p) => Math.min(1 - epsilon, Math.max(epsilon, p)));
    const sum = row.reduce((s, p) => s + p, 0);
    total -= Math.log((row[label] ?? epsilon) / sum);
  });
  return total / labels.length;
}

export interface CalibrationBin {
  /** The bin's range of predicted probabilities. */
  from: number;
  to: number;
  /** Rows whose predicted probability falls in the bin. */
  count: number;
  /** Their mean predicted probability. */
  meanPredicted: number;
  /** The share of them that are positive. */
  fractionPositive: number;
}

/**
 * Reliability of one class's probability: rows binned by it into `binCount` equal-width bins (calibration_curve,
 * strategy='uniform'; a value on an inner edge goes to the lower bin), empty bins left out. A calibrated
 * model's fraction of positives matches its mean prediction in every bin.
 */
export function calibrationCurve(positive: readonly boolean[], probabilities: readonly number[], binCount = 10): CalibrationBin[] {
  // As numpy's linspace(0, 1, binCount + 1): k * step, so 3 * 0.1 is 0.30000000000000004 as there.
  const step = 1 / binCount;
  const innerEdges = Array.from({ length: binCount - 1 }, (_, k) => (k + 1) * step);
  const sums = new Array<number>(binCount).fill(0);
  const positives = new Array<number>(binCount).fill(0);
  const counts = new Array<number>(binCount).fill(0);
  probabilities.forEach((p, i) => {
    let bin = 0;
    while (bin < innerEdges.length && innerEdges[bin]! < p) bin++;
    sums[bin] = sums[bin]! + p;
    counts[bin]!++;
    if (positive[i]) positives[bin]!++;
  });
  const bins: CalibrationBin[] = [];
  counts.forEach((count, bin) => {
    if (count === 0) return;
    bins.push({
      from: bin * step,
      to: bin === binCount - 1 ? 1 : (bin + 1) * step,
      count,
      meanPredicted: sums[bin]! / count,
      fractionPositive: positives[bin]! / count,
    });
  });
  return bins;
}
