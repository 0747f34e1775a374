// Inputs outside the range seen in training (features.yaml `observed`, written when features.yaml is inferred from
// a CSV). The range is not a limit: such rows are scored like any other, and counted here per feature and side,
// so a shift towards values the model never saw shows on /metrics, /monitoring (input_ranges) and the dashboard.
// Bounds a user writes (min/max) are enforced by the request schema instead and never reach this.
import { Counter, type Registry } from 'prom-client';
import type { Feature, FeatureColumns } from '../contract/index.js';

export const OUT_OF_RANGE_METRIC = 'ml_input_out_of_range_total';

export type RangeSide = 'below' | 'above';

/** GET /monitoring input_ranges: per feature with an observed range, the range and the rows beyond each end. */
export type InputRangeReport = Record<string, { observed: { min: number; max: number }; below: number; above: number }>;

interface WatchedFeature {
  name: string;
  min: number;
  max: number;
  below: number;
  above: number;
  belowCounter: { inc(value?: number): void };
  aboveCounter: { inc(value?: number): void };
}

export class InputRangeMonitor {
  private readonly watched: WatchedFeature[];

  constructor(features: readonly Feature[], registry: Registry) {
    const counter = new Counter({
      name: OUT_OF_RANGE_METRIC,
      help: 'Scored input values outside the range seen in training (features.yaml observed), by feature and side (below, above)',
      labelNames: ['feature', 'side'],
      registers: [registry],
    });
    this.watched = features.flatMap((feature) => {
      if (!feature.observed) return [];
      // Each series exists from the start at 0, so rate() and increase() have one before the first such value.
      const belowCounter = counter.labels({ feature: feature.name, side: 'below' });
      const aboveCounter = counter.labels({ feature: feature.name, side: 'above' });
      belowCounter.inc(0);
      aboveCounter.inc(0);
      return [{ name: feature.name, ...feature.observed, below: 0, above: 0, belowCounter, aboveCounter }];
    });
  }

  /** Counts a batch's values beyond their feature's observed range (missing values are not counted): a column at a time. */
  observe(batch: FeatureColumns): void {
    const { rowCount } = batch;
    for (const feature of this.watched) {
      const values = batch.column(feature.name);
      const { min, max } = feature;
      let below = 0;
      let above = 0;
      for (let r = 0; r < rowCount; r++) {
        const value = values[r];
        if (typeof value !== 'number') continue;
        if (value < min) below++;
        else if (value > max) above++;
      }
      // prom-client's inc() once per feature and side, not once per value.
      if (below) feature.belowCounter.inc(below);
      if (above) feature.aboveCounter.inc(above);
      feature.below += below;
      feature.above += above;
    }
  }

  report(): InputRangeReport {
    return Object.fromEntries(this.watched.map(({ name, min, max, below, above }) => [name, { observed: { min, max }, below, above }]));
  }
}
