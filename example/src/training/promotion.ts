// Promotion: whether a new model that passed the quality gate becomes model_bin/LATEST (the model served).
// With training.promote: if_better (the default) the current LATEST is run on this run's holdout rows, so both
// models are compared on the same rows, and the new one is promoted only when it is not worse (accuracy for
// classification, R² for regression). A model trained elsewhere, or for other features, cannot be run on these
// rows: then the new model is promoted and the reason is said.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LATEST_FILE } from '../model/artifacts.js';
import type { Spec } from '../spec/load.js';
import type { FeatureValues } from '../spec/requestSchema.js';
import { regressionMetrics, type Metrics } from './metrics.js';

export interface PromotionDecision {
  promote: boolean;
  /** One line for `npm run train` saying what happened and why. */
  reason: string;
  /** The LATEST version compared with, if any. */
  current?: string;
  /** The current LATEST's score on this run's holdout rows, when it could be computed. */
  currentScore?: number;
}

export const comparedMetric = (task: Spec['config']['task']) => (task === 'classification' ? 'accuracy' : 'r2');

export function holdoutScore(metrics: Metrics): number {
  return 'confusion_matrix' in metrics ? metrics.accuracy : metrics.r2;
}

async function currentLatest(modelDir: string): Promise<string | undefined> {
  return readFile(join(modelDir, LATEST_FILE), 'utf8').then(
    (text) => text.trim() || undefined,
    () => undefined,
  );
}

/** The current LATEST's accuracy or R² on the holdout rows (labels: class names or target values). */
async function scoreOnHoldout(dir: string, spec: Spec, rows: readonly FeatureValues[], labels: readonly unknown[]): Promise<number> {
  // Imported here: onnxruntime is needed only when there is a model to compare with.
  const { OnnxPredictor } = await import('../serving/predictor.js');
  const predictor = await OnnxPredictor.load(dir, spec);
  const predictions = await predictor.predict(rows);
  if (spec.config.task === 'classification') {
    return predictions.filter((p, i) => String(p.prediction) === String(labels[i])).length / rows.length;
  }
  return regressionMetrics(
    labels.map(Number),
    predictions.map((p) => Number(p.prediction)),
  ).r2;
}

export async function decidePromotion(options: {
  spec: Spec;
  modelDir: string;
  gatePassed: boolean;
  newScore: number;
  holdoutRows: readonly FeatureValues[];
  holdoutLabels: readonly unknown[];
}): Promise<PromotionDecision> {
  const { spec, modelDir, gatePassed, newScore } = options;
  const metric = comparedMetric(spec.config.task);
  if (!gatePassed) return { promote: false, reason: 'not promoted to LATEST: the model missed the quality gate' };
  const current = await currentLatest(modelDir);
  if (!current) return { promote: true, reason: 'promoted to LATEST (there was no LATEST model yet)' };
  if (spec.config.training.promote === 'always') {
    return { promote: true, current, reason: `promoted to LATEST, replacing ${current} without comparing them (training.promote: always)` };
  }
  let currentScore: number;
  try {
    currentScore = await scoreOnHoldout(join(modelDir, current), spec, options.holdoutRows, options.holdoutLabels);
  } catch (error) {
    const why = (error as Error).message.split('\n').join(' ');
    return {
      promote: true,
      current,
      reason: `promoted to LATEST without a comparison: the current LATEST ${current} cannot be run on this holdout (${why})`,
    };
  }
  const figures = `${metric} ${newScore.toFixed(4)} vs ${currentScore.toFixed(4)} for the current LATEST ${current} on the same ${options.holdoutRows.length} holdout rows`;
  // A hair of tolerance: the current model's score comes from its ONNX graph (float32 outputs).
  if (newScore >= currentScore - 1e-9) return { promote: true, current, currentScore, reason: `promoted to LATEST: ${figures}` };
  return {
    promote: false,
    current,
    currentScore,
    reason: `NOT promoted: it is worse than the current LATEST (${figures}); LATEST stays ${current}. Set training.promote: always in config.yaml to promote every model that passes the gate.`,
  };
}
