// Helpers for the monitoring tests: config.yaml with its monitoring section replaced, synthetic traffic drawn
// from the training data (with one feature shifted on demand), reading Prometheus text, and the metric names a
// PromQL expression uses.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { z } from 'zod';
import type { Express } from 'express';
import request from 'supertest';
import { loadData } from '../../src/data/dataLoader.js';
import type { FeatureStatistics } from '../../src/model/referenceStatistics.js';
import { type Spec, type FeatureValue, configFileSchema, type Feature } from '../../src/contract/index.js';

type MonitoringSection = z.input<typeof configFileSchema>['monitoring'];

/** The spec with config.yaml's monitoring section replaced (validated like the real file). */
export function withMonitoring(spec: Spec, section: MonitoringSection): Spec {
  return { ...spec, config: { ...spec.config, monitoring: configFileSchema.shape.monitoring.parse(section) } };
}

// The training split's generator, so synthetic traffic is the same on every run.
export { seededRandom } from '../../src/model/random.js';

type Row = Record<string, FeatureValue>;

/** The training data's rows as request bodies: the features only, missing values left out. */
export async function featureRows(spec: Spec): Promise<Row[]> {
  const names = spec.features.features.map((feature) => feature.name);
  return (await loadData(spec)).map((row) => {
    const body: Row = {};
    for (const name of names) if (row[name] !== undefined && row[name] !== null) body[name] = row[name];
    return body;
  });
}

/** `count` rows drawn with replacement from `rows`. */
export function resample(rows: readonly Row[], count: number, random: () => number): Row[] {
  return Array.from({ length: count }, () => rows[Math.floor(random() * rows.length)]!);
}

/**
 * A value the training rows rarely have, and valid for the feature: a numeric feature's training maximum (all
 * of it lands in the top reference bin), a categorical feature's least frequent value. Undefined when the
 * feature cannot be shifted (one value only).
 */
export function shiftedValue(feature: Feature, statistics: FeatureStatistics): FeatureValue | undefined {
  if (statistics.kind === 'numeric') return statistics.bins.shares.length > 1 ? statistics.max : undefined;
  const values = Object.keys(statistics.frequencies);
  if (values.length < 2) return undefined;
  const rarest = values[values.length - 1]!;
  return feature.type === 'boolean' ? rarest === 'true' : rarest;
}

/** Sends the rows to POST /predict/batch in batches the config allows; returns the ids sent, in order. */
export async function predictRows(app: Express, spec: Spec, rows: readonly Row[], prefix: string): Promise<string[]> {
  const size = Math.min(200, spec.config.server.max_batch_rows);
  const ids = rows.map((_, i) => `${prefix}-${i}`);
  for (let start = 0; start < rows.length; start += size) {
    const batch = rows.slice(start, start + size).map((row, i) => ({ ...row, [spec.config.id_field]: ids[start + i] }));
    const res = await request(app).post('/predict/batch').send({ rows: batch });
    if (res.status !== 200) throw new Error(`POST /predict/batch answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return ids;
}

/** The metric families a Prometheus text exposition declares (# TYPE lines), with their types. */
export function metricFamilies(text: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(match[1]!, match[2]!);
  return families;
}

/** The samples of one metric, as label sets with values: [{ labels: { feature: 'x' }, value: 0.1 }]. */
export function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const found: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    found.push({ labels, value: Number(match[3]) });
  }
  return found;
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression selects (functions, keywords, labels, strings and durations left out). */
export function promqlMetricNames(expr: string): Set<string> {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const names = new Set<string>();
  for (const match of bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (match[2] || PROMQL_WORDS.has(match[1]!.toLowerCase())) continue; // a function call or a keyword
    names.add(match[1]!);
  }
  return names;
}

/** The family a sample name belongs to: histogram series end in _bucket, _sum, _count. */
export function familyOf(name: string, families: Map<string, string>): string | undefined {
  if (families.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return families.get(base) === 'histogram' ? base : undefined;
}

/** Whether a command is installed (e.g. promtool from Debian's prometheus package). */
export function installed(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
