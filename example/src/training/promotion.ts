// Promotion: whether a new model that passed the quality gate becomes model_bin/LATEST (the model served).
// With training.promote: if_better (the default) the new model and the current LATEST are both run by
// onnxruntime, as the service runs them, on this run's holdout rows: the same rows scored the same way, so
// an identical model scores identically and a float32 rounding cannot make one look worse than itself. The
// new model is promoted only when it is not worse (accuracy for classification, R² for regression). A
// model trained elsewhere, or for other features, cannot be run on these rows: then the new model is
// promoted and the reason is said.
import { join } from 'node:path';
import { readLatest } from '../model/artifacts.js';
import type { Spec, FeatureValues } from '../contract/index.js';
import type { Prediction } from '../runtime/predictor.js';
import { regressionMetrics } from './metrics.js';

export interface PromotionDecision {
  promote: boolean;
  /** One line for `npm run train` saying what happened and why. */
  reason: string;
  /** The LATEST version compared with, if any. */
  current?: string;
  /** The new model's score on the holdout rows, as served (ONNX), when a comparison was made. */
  newScore?: number;
  /** The current LATEST's score on the same holdout rows, as served (ONNX), when it could be computed. */
  currentScore?: number;
}

export const comparedMetric = (task: Spec['config']['task']) => (task === 'classification' ? 'accuracy' : 'r2');

/** A model folder's predictions for the rows, run as the service runs it (onnxruntime, the folder's own preprocessor). */
export async function servedPredictions(dir: string, spec: Spec, rows: readonly FeatureValues[]): Promise<Prediction[]> {
  // Imported here: onnxruntime is needed only when there is a model to compare with.
  const { OnnxPredictor } = await import('../runtime/predictor.js');
  const predictor = await OnnxPredictor.load(dir, spec);
  try {
    return await predictor.predict(rows);
  } finally {
    await predictor.close(); // the native session's memory is outside V8's heap: release it, not leave it to GC
  }
}

/** A model folder's accuracy or R² on the holdout rows (labels: class names or target values), run as the service runs it. */
export async function servedHoldoutScore(
  dir: string,
  spec: Spec,
  rows: readonly FeatureValues[],
  labels: readonly unknown[],
): Promise<number> {
  return holdoutScore(spec, await servedPredictions(dir, spec, rows), labels);
}

/** Predictions' accuracy or R² against the holdout labels (class names or target values). */
function holdoutScore(spec: Spec, predictions: readonly Prediction[], labels: readonly unknown[]): number {
  if (spec.config.task === 'classification') {
    return predictions.filter((p, i) => String(p.prediction) === String(labels[i])).length / labels.length;
  }
  return regressionMetrics(
    labels.map(Number),
    predictions.map((p) => Number(p.prediction)),
  ).r2;
}

export const oneLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n').join(' ');

/**
 * Decides whether the version just written to `versionDir` (in the store `modelDir`) becomes LATEST. The caller
 * points LATEST at it when `promote` is true.
 */
export async function decidePromotion(options: {
  spec: Spec;
  modelDir: string;
  versionDir: string;
  gatePassed: boolean;
  holdoutRows: readonly FeatureValues[];
  holdoutLabels: readonly unknown[];
  /** The current LATEST's predictions of the holdout rows, when the caller runs it anyway (the report shows them). */
  latestPredictions?: () => Promise<Prediction[]>;
}): Promise<PromotionDecision> {
  const { spec, modelDir, versionDir, holdoutRows, holdoutLabels } = options;
  const metric = comparedMetric(spec.config.task);
  if (!options.gatePassed) return { promote: false, reason: 'not promoted to LATEST: the model missed the quality gate' };
  const current = await readLatest(modelDir);
  if (!current) return { promote: true, reason: 'promoted to LATEST (there was no LATEST model yet)' };
  if (spec.config.training.promote === 'always') {
    return { promote: true, current, reason: `promoted to LATEST, replacing ${current} without comparing them (training.promote: always)` };
  }
  let currentScore: number;
  try {
    const predictions = options.latestPredictions
      ? await options.latestPredictions()
      : await servedPredictions(join(modelDir, current), spec, holdoutRows);
    currentScore = holdoutScore(spec, predictions, holdoutLabels);
  } catch (error) {
    return {
      promote: true,
      current,
      reason: `promoted to LATEST without a comparison: the current LATEST ${current} cannot be run on this holdout (${oneLine(error)})`,
    };
  }
  let newScore: number;
  try {
    newScore = await servedHoldoutScore(versionDir, spec, holdoutRows, holdoutLabels);
  } catch (error) {
    return {
      promote: false,
      current,
      reason: `NOT promoted: the service cannot run the new model on its holdout rows (${oneLine(error)})`,
    };
  }
  const figures = `${metric} ${newScore.toFixed(4)} vs ${currentScore.toFixed(4)} for the current LATEST ${current} on the same ${holdoutRows.length} holdout rows`;
  if (newScore >= currentScore) return { promote: true, current, newScore, currentScore, reason: `promoted to LATEST: ${figures}` };
  return {
    promote: false,
    current,
    newScore,
    currentScore,
    reason: `NOT promoted: it is worse than the current LATEST (${figures}); LATEST stays ${current}. Set training.promote: always in config.yaml to promote every model that passes the gate.`,
  };
}
