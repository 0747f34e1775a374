// The quality gate: config.yaml's training.min_metric / training.max_metric bound the holdout metrics.
// A model that misses a bound is still written (to inspect it) but never becomes model_bin/LATEST, and
// `npm run train` exits 1, which stops a CI pipeline before the model is packaged.
import type { Config } from '../contract/index.js';
import type { Metrics, QualityGateCheck, QualityGateResult } from '../model/evaluation.js';

export function checkQualityGate(metrics: Metrics, training: Pick<Config['training'], 'min_metric' | 'max_metric'>): QualityGateResult {
  const values = metrics as unknown as Record<string, unknown>;
  const checks: QualityGateCheck[] = [];
  for (const [key, bound] of [
    ['min_metric', 'min'],
    ['max_metric', 'max'],
  ] as const) {
    for (const [metric, threshold] of Object.entries(training[key] ?? {})) {
      if (threshold === undefined) continue;
      const value = values[metric];
      // config.yaml is checked against the task at start-up, so a metric missing here is a bug.
      if (typeof value !== 'number') throw new Error(`the quality gate bounds ${metric}, which the evaluation did not compute`);
      checks.push({ metric, bound, threshold, value, passed: bound === 'min' ? value >= threshold : value <= threshold });
    }
  }
  return { passed: checks.every((check) => check.passed), checks };
}

/** One line per check, e.g. "  accuracy 0.9333 ≥ 0.9  passed". */
export function formatQualityGate(result: QualityGateResult): string {
  if (!result.checks.length) return '  no bounds set (config.yaml training.min_metric / training.max_metric)';
  return result.checks
    .map(
      ({ metric, bound, threshold, value, passed }) =>
        `  ${metric} ${value.toFixed(4)} ${bound === 'min' ? '≥' : '≤'} ${threshold}  ${passed ? 'passed' : 'FAILED'} (training.${bound}_metric.${metric})`,
    )
    .join('\n');
}
