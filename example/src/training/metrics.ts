// Holdout evaluation: the numbers printed by `npm run train`, saved in model.json and used by the
// quality gate.
import type { ClassificationMetrics, Metrics, RegressionMetrics } from '../model/evaluation.js';

export function classificationMetrics(actual: readonly number[], predicted: readonly number[], classCount: number): ClassificationMetrics {
  const confusion = Array.from({ length: classCount }, () => new Array<number>(classCount).fill(0));
  actual.forEach((a, i) => confusion[a]![predicted[i]!]!++);
  const correct = confusion.reduce((sum, row, i) => sum + row[i]!, 0);
  const f1s = confusion.map((row, c) => {
    const truePositive = row[c]!;
    const predictedAsC = confusion.reduce((sum, r) => sum + r[c]!, 0);
    const actualC = row.reduce((sum, x) => sum + x, 0);
    const denominator = predictedAsC + actualC;
    return denominator === 0 ? 0 : (2 * truePositive) / denominator;
  });
  return {
    accuracy: actual.length ? correct / actual.length : 0,
    macro_f1: f1s.reduce((sum, f) => sum + f, 0) / classCount,
    confusion_matrix: confusion,
  };
}

export function regressionMetrics(actual: readonly number[], predicted: readonly number[]): RegressionMetrics {
  const n = actual.length;
  const mean = actual.reduce((sum, y) => sum + y, 0) / n;
  let squared = 0;
  let absolute = 0;
  let total = 0;
  actual.forEach((y, i) => {
    const error = y - predicted[i]!;
    squared += error * error;
    absolute += Math.abs(error);
    total += (y - mean) ** 2;
  });
  return { rmse: Math.sqrt(squared / n), mae: absolute / n, r2: total === 0 ? 0 : 1 - squared / total };
}

/** A plain-text table of the metrics (and the confusion matrix) for the console. */
export function formatMetrics(metrics: Metrics, classes: readonly string[]): string {
  if (!('confusion_matrix' in metrics)) {
    return [`  RMSE  ${metrics.rmse.toFixed(4)}`, `  MAE   ${metrics.mae.toFixed(4)}`, `  R²    ${metrics.r2.toFixed(4)}`].join('\n');
  }
  const width = Math.max(8, ...classes.map((c) => c.length)) + 2;
  const cell = (text: string | number) => String(text).padStart(width);
  const lines = [
    `  accuracy  ${metrics.accuracy.toFixed(4)}`,
    `  macro F1  ${metrics.macro_f1.toFixed(4)}`,
    '',
    `  confusion matrix (rows: actual, columns: predicted)`,
  ];
  lines.push(`  ${''.padEnd(width)}${classes.map(cell).join('')}`);
  metrics.confusion_matrix.forEach((row, i) => lines.push(`  ${classes[i]!.padEnd(width)}${row.map(cell).join('')}`));
  return lines.join('\n');
}
