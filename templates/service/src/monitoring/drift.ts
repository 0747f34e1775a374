// Data drift: the distribution of recent inputs against the training rows' (model.json `reference`, written by
// src/model/referenceStatistics.ts). Each input value is put in a bucket of its feature — a reference bin for
// numbers, a reference value for categories, plus "unknown" (a value training never saw) and "missing" — and
// the last N rows' buckets sit in a ring buffer with a running count per bucket. Observing a batch keeps its columns
// until the drift is read (a metrics scrape, GET /monitoring): rows that later rows push out of the window before
// then are never counted, so traffic in batches as long as the window costs the event loop next to nothing. The
// drift scores (population stability index per feature) are computed when asked for.
import { z } from 'zod';
import { binIndex } from '../model/referenceStatistics.js';
import type { Feature, FeatureColumns } from '../contract/index.js';

/** Shares below this count as this, so an empty bucket on either side gives a large but finite PSI term. */
const PSI_FLOOR = 1e-4;

const share = z.number().min(0).max(1);
/** The parts of model.json's reference statistics drift needs (the training pipeline writes more). */
const referenceSchema = z.record(
  z.string(),
  z.discriminatedUnion('kind', [
    z.looseObject({
      kind: z.literal('numeric'),
      missing_share: share,
      bins: z.looseObject({ edges: z.array(z.number()), shares: z.array(share) }),
    }),
    z.looseObject({
      kind: z.literal('categorical'),
      missing_share: share,
      frequencies: z.record(z.string(), share),
      other_share: share,
    }),
  ]),
);

export interface DriftSettings {
  windowSize: number;
  /** No score below this many rows in the window. */
  minRows: number;
  psiThreshold: number;
}

export interface FeatureDrift {
  kind: 'numeric' | 'categorical';
  /** Population stability index of the window against the reference; null until the window holds minRows rows. */
  psi: number | null;
  drifted: boolean;
  /** Share of window rows without a value, and the same share in the training rows. */
  missing_share: number | null;
  reference_missing_share: number;
  /** Categorical: share of present values that training never saw (or saw too rarely to list), and in training. */
  unknown_share?: number | null;
  reference_unknown_share?: number;
  /** The buckets PSI compares, in order: each one's label, its share in the training rows and in the window. */
  histogram: { buckets: string[]; reference: number[]; live: number[] };
}

export interface DriftReport {
  /** ok: scores are computed; insufficient_data: fewer than min_rows rows so far; unavailable: no reference. */
  status: 'ok' | 'insufficient_data' | 'unavailable';
  reason?: string;
  window: { size: number; rows: number; min_rows: number };
  psi_threshold: number;
  drifted_features: string[];
  features: Record<string, FeatureDrift>;
}

/** How one feature's values map to buckets, and the share of each bucket in the training rows. */
interface FeatureBuckets {
  name: string;
  kind: 'numeric' | 'categorical';
  /** A label per bucket, for people: a numeric range, a category, "unknown" or "missing". */
  labels: string[];
  /** Reference share per bucket; the missing bucket is last, the unknown bucket (categorical) just before it. */
  expected: Float64Array;
  /** Writes the bucket of values[start + i] into out[i] for i < count: validated values (a number, string or boolean; undefined when missing). */
  bucketsOf(values: ArrayLike<unknown>, start: number, count: number, out: Uint16Array): void;
}

/** The bucket of one value. */
function bucketOf(buckets: FeatureBuckets, value: unknown): number {
  const out = new Uint16Array(1);
  buckets.bucketsOf([value], 0, 1, out);
  return out[0]!;
}

function numericBuckets(name: string, missingShare: number, edges: number[], shares: number[]): FeatureBuckets {
  const present = Math.max(shares.length, 1);
  const expected = new Float64Array(present + 1);
  shares.forEach((s, i) => (expected[i] = s * (1 - missingShare)));
  expected[present] = missingShare;
  const edge = (value: number) => String(Number(value.toPrecision(4)));
  const ranges = edges.length
    ? [`< ${edge(edges[0]!)}`, ...edges.slice(1).map((upper, i) => `${edge(edges[i]!)} – ${edge(upper)}`), `≥ ${edge(edges.at(-1)!)}`]
    : ['all values'];
  return {
    name,
    kind: 'numeric',
    labels: [...ranges.slice(0, present), 'missing'],
    expected,
    bucketsOf: (values, start, count, out) => {
      for (let i = 0; i < count; i++) {
        const value = values[start + i];
        out[i] = typeof value === 'number' ? Math.min(binIndex(edges, value), present - 1) : present;
      }
    },
  };
}

function categoricalBuckets(name: string, missingShare: number, frequencies: Record<string, number>, otherShare: number): FeatureBuckets {
  const values = Object.keys(frequencies);
  const index = new Map(values.map((value, i) => [value, i]));
  const unknown = values.length;
  const expected = new Float64Array(values.length + 2);
  values.forEach((value, i) => (expected[i] = frequencies[value]! * (1 - missingShare)));
  expected[unknown] = otherShare * (1 - missingShare);
  expected[unknown + 1] = missingShare;
  return {
    name,
    kind: 'categorical',
    labels: [...values, 'unknown', 'missing'],
    expected,
    // Booleans are listed as "true"/"false" (String() of a boolean allocates nothing).
    bucketsOf: (values, start, count, out) => {
      for (let i = 0; i < count; i++) {
        const value = values[start + i];
        out[i] =
          value === undefined || value === null ? unknown + 1 : (index.get(typeof value === 'string' ? value : String(value)) ?? unknown);
      }
    },
  };
}

/** Population stability index: Σ (actual − expected) · ln(actual / expected) over the buckets. */
export function populationStabilityIndex(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let psi = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = Math.max(actual[i]!, PSI_FLOOR);
    const e = Math.max(expected[i]!, PSI_FLOOR);
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

/** A batch's rows waiting to be counted: its columns in the monitor's feature order, `count` rows from `start`. */
interface PendingRows {
  columns: ArrayLike<unknown>[];
  start: number;
  count: number;
}

/** Batches kept uncounted at most: then they are counted, so a window far longer than its batches holds few bodies. */
const MAX_PENDING_BATCHES = 32;

export class DriftMonitor {
  /** Bucket per window row per feature, a feature's rows side by side: row r's feature f at codes[f * windowSize + r]. */
  private readonly codes: Uint16Array;
  /** Running count per bucket of every feature, features side by side (offsets[f] is feature f's first). */
  private readonly counts: Uint32Array;
  private readonly offsets: number[];
  private head = 0;
  private rows = 0;
  /** Observed rows not counted yet, oldest first; none of them is pushed out of the window by the later ones alone. */
  private pending: PendingRows[] = [];
  private pendingRows = 0;
  /** A batch's buckets for one feature (reused: grown to the largest batch seen). */
  private scratch = new Uint16Array(0);

  private constructor(
    private readonly buckets: FeatureBuckets[],
    private readonly settings: DriftSettings,
  ) {
    this.offsets = [];
    let total = 0;
    for (const feature of buckets) {
      this.offsets.push(total);
      total += feature.expected.length;
    }
    this.codes = new Uint16Array(settings.windowSize * buckets.length);
    this.counts = new Uint32Array(total);
  }

  /**
   * A monitor for the features of features.yaml with model.json's `reference`, or the reason there is none
   * (a model trained elsewhere comes without reference statistics).
   */
  static create(features: readonly Feature[], reference: unknown, settings: DriftSettings): DriftMonitor | { unavailable: string } {
    if (reference === undefined)
      return { unavailable: 'model.json has no reference statistics (retrain with `npm run train` to get them)' };
    const parsed = referenceSchema.safeParse(reference);
    if (!parsed.success) return { unavailable: `model.json's reference statistics are not readable: ${parsed.error.issues[0]?.message}` };
    const missing = features.filter((feature) => !parsed.data[feature.name]).map((feature) => feature.name);
    if (missing.length) return { unavailable: `model.json's reference statistics leave out ${missing.join(', ')}` };
    const buckets = features.map((feature) => {
      const statistics = parsed.data[feature.name]!;
      const buckets =
        statistics.kind === 'numeric'
          ? numericBuckets(feature.name, statistics.missing_share, statistics.bins.edges, statistics.bins.shares)
          : categoricalBuckets(feature.name, statistics.missing_share, statistics.frequencies, statistics.other_share);
      // Requests never miss a feature with a default (validation fills it in), so compare with the training rows
      // as they would have been with the default filled in: their missing share goes to the default's bucket.
      if (feature.default !== undefined) {
        const missing = buckets.expected.length - 1;
        buckets.expected[bucketOf(buckets, feature.default)]! += buckets.expected[missing]!;
        buckets.expected[missing] = 0;
      }
      return buckets;
    });
    if (buckets.some((feature) => feature.expected.length > 0xffff))
      return { unavailable: 'a feature has more reference values than drift can track' };
    return new DriftMonitor(buckets, settings);
  }

  /**
   * Adds a batch's rows to the window in order, evicting the oldest when it is full. The rows are counted when the
   * drift is read (or once MAX_PENDING_BATCHES batches wait); the batch's columns must not change after this call.
   */
  observe(batch: FeatureColumns): void {
    const { windowSize } = this.settings;
    // Of a batch longer than the window only the last windowSize rows stay: the others would be evicted by them.
    const start = Math.max(0, batch.rowCount - windowSize);
    const count = batch.rowCount - start;
    if (count === 0) return;
    const { pending } = this;
    pending.push({ columns: this.buckets.map((feature) => batch.column(feature.name)), start, count });
    this.pendingRows += count;
    // A batch whose rows the later ones push out of the window on their own will never be in it: it is dropped.
    while (this.pendingRows - pending[0]!.count >= windowSize) this.pendingRows -= pending.shift()!.count;
    if (pending.length >= MAX_PENDING_BATCHES) this.countPending();
  }

  /** Counts the pending rows into the window, oldest first. */
  private countPending(): void {
    const { windowSize } = this.settings;
    if (this.pendingRows >= windowSize) {
      // The pending rows fill the window on their own: every row counted so far is evicted, so start from nothing,
      // and skip the oldest pending rows that the others evict.
      this.counts.fill(0);
      this.head = 0;
      this.rows = 0;
      const evicted = this.pendingRows - windowSize;
      const oldest = this.pending[0]!;
      this.pending[0] = { ...oldest, start: oldest.start + evicted, count: oldest.count - evicted };
    }
    for (const rows of this.pending) this.count(rows);
    this.pending = [];
    this.pendingRows = 0;
  }

  /** Adds rows to the window a feature at a time, evicting the oldest when it is full. */
  private count({ columns, start, count }: PendingRows): void {
    const { windowSize } = this.settings;
    const { codes, counts } = this;
    if (this.scratch.length < count) this.scratch = new Uint16Array(count);
    const buckets = this.scratch;
    for (let f = 0; f < this.buckets.length; f++) {
      const offset = this.offsets[f]!;
      const base = f * windowSize;
      this.buckets[f]!.bucketsOf(columns[f]!, start, count, buckets);
      // Each feature's values walk the ring from the same head, as they would row by row.
      for (let r = 0, slot = this.head, rows = this.rows; r < count; r++) {
        const at = base + slot;
        if (rows === windowSize) counts[offset + codes[at]!]!--;
        else rows++;
        const bucket = buckets[r]!;
        codes[at] = bucket;
        counts[offset + bucket]!++;
        slot = slot + 1 === windowSize ? 0 : slot + 1;
      }
    }
    this.head = (this.head + count) % windowSize;
    this.rows = Math.min(this.rows + count, windowSize);
  }

  /** The window's share per bucket of feature f. */
  private actualShares(f: number): Float64Array {
    const { expected } = this.buckets[f]!;
    const shares = new Float64Array(expected.length);
    for (let i = 0; i < shares.length; i++) shares[i] = this.rows ? this.counts[this.offsets[f]! + i]! / this.rows : 0;
    return shares;
  }

  report(): DriftReport {
    this.countPending();
    const { windowSize, minRows, psiThreshold } = this.settings;
    const enough = this.rows >= minRows;
    const features: Record<string, FeatureDrift> = {};
    this.buckets.forEach((feature, f) => {
      const actual = this.actualShares(f);
      const { expected } = feature;
      const last = expected.length - 1;
      const psi = enough ? populationStabilityIndex(actual, expected) : null;
      const drift: FeatureDrift = {
        kind: feature.kind,
        psi,
        drifted: psi !== null && psi > psiThreshold,
        missing_share: this.rows ? actual[last]! : null,
        reference_missing_share: expected[last]!,
        histogram: { buckets: feature.labels, reference: Array.from(expected), live: Array.from(actual) },
      };
      if (feature.kind === 'categorical') {
        // Shares of the present values: unknown among values given, not among all rows.
        const present = (shares: Float64Array) => 1 - shares[last]!;
        drift.unknown_share = this.rows && present(actual) > 0 ? actual[last - 1]! / present(actual) : null;
        drift.reference_unknown_share = present(expected) > 0 ? expected[last - 1]! / present(expected) : 0;
      }
      features[feature.name] = drift;
    });
    return {
      status: enough ? 'ok' : 'insufficient_data',
      window: { size: windowSize, rows: this.rows, min_rows: minRows },
      psi_threshold: psiThreshold,
      drifted_features: Object.entries(features)
        .filter(([, drift]) => drift.drifted)
        .map(([name]) => name),
      features,
    };
  }
}

/** The report when the model has no usable reference statistics (or none is loaded yet). */
export function unavailableDrift(reason: string, settings: DriftSettings): DriftReport {
  return {
    status: 'unavailable',
    reason,
    window: { size: settings.windowSize, rows: 0, min_rows: settings.minRows },
    psi_threshold: settings.psiThreshold,
    drifted_features: [],
    features: {},
  };
}
