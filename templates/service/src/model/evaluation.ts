// What a model's evaluation records in model.json: its holdout metrics and the quality gate's verdict.
// Training computes them (src/training/metrics.ts, src/training/qualityGate.ts); the model store keeps them.

export interface ClassificationMetrics {
  accuracy: number;
  macro_f1: number;
  /** confusion_matrix[actual][predicted], in class order. */
  confusion_matrix: number[][];
}

export interface RegressionMetrics {
  rmse: number;
  mae: number;
  r2: number;
}

export type Metrics = ClassificationMetrics | RegressionMetrics;

export interface QualityGateCheck {
  metric: string;
  bound: 'min' | 'max';
  threshold: number;
  value: number;
  passed: boolean;
}

export interface QualityGateResult {
  /** True when every check passed (also when config.yaml sets no bound). */
  passed: boolean;
  checks: QualityGateCheck[];
}
