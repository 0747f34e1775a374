// `npm run models`: the model versions in model_bin/ and which one is live, and changing it by hand:
//   npm run models                          every version: metrics, quality gate, data and git provenance, live or not
//   npm run models -- promote <version>     LATEST names it, once it loads against features.yaml and config.yaml
//   npm run models -- rollback              LATEST goes back to the version it named before (model_bin/HISTORY)
//   npm run models -- compare <a> <b>       both re-scored on the same holdout rows, side by side
// `latest` stands for the version LATEST names. --json prints the result as JSON for scripts. Exit status: 0 done,
// 1 refused or failed (the message says why), 2 a usage error. A running service with hot reload follows LATEST.
import { parseArgs } from 'node:util';
import { projectPaths } from '../contract/environment.js';
import { loadSpec, SpecError, type Spec } from '../contract/index.js';
import { DataError } from '../data/rows.js';
import { ModelLoadError, readLatest } from '../model/artifacts.js';
import { UnknownCategoryError } from '../model/preprocessing.js';
import { compareModels, type Comparison } from '../training/compareModels.js';
import {
  describeStore,
  ModelStoreError,
  promoteVersion,
  rollbackLatest,
  type LatestChange,
  type StoreDescription,
} from '../training/modelStore.js';
import { HistoryError } from '../training/promotionHistory.js';
import { figure, formatTable, percent } from './table.js';

const USAGE = `usage: npm run models [-- --json]
       npm run models -- promote <version> [--force] [--json]
       npm run models -- rollback [--json]
       npm run models -- compare <a> <b> [--json]      (latest: the version LATEST names)`;

class UsageError extends Error {}

const metricNames = (spec: Spec) => (spec.config.task === 'classification' ? ['accuracy', 'macro_f1'] : ['rmse', 'mae', 'r2']);

/** "2025-01-01 12:00:00" from an ISO time. */
const shortTime = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '—');

function listing(description: StoreDescription, spec: Spec): string {
  if (!description.versions.length) return `${description.store}/ holds no model yet: train one with \`npm run train\`.`;
  const metrics = metricNames(spec);
  const rows = description.versions.map((v) => {
    const status = [v.live ? 'live' : '', v.latest ? 'LATEST' : '', v.pinned ? 'pinned' : ''].filter(Boolean).join(', ');
    const data = v.data ? `${v.data.path}${v.data.sha256 ? ` @${v.data.sha256.slice(0, 8)}` : ''}` : '—';
    const git = v.git ? `${v.git.commit.slice(0, 8)}${v.git.dirty ? ' (dirty)' : ''}` : '—';
    return [
      status,
      v.version,
      shortTime(v.created_at),
      v.algorithm ?? '—',
      ...metrics.map((name) => figure(v.metrics?.[name])),
      v.gate ?? '—',
      v.rows ? `${v.rows.train}/${v.rows.holdout}` : '—',
      data,
      v.problem ?? git,
    ];
  });
  const header = ['', 'version', 'created (UTC)', 'algorithm', ...metrics, 'gate', 'train/holdout', 'data', 'git'];
  const numeric = header.map((_, column) => column >= 4 && column < 4 + metrics.length);
  const { live, latest, pinned } = description;
  const summary = pinned
    ? `live: ${pinned}, pinned by config.yaml server.model_version${latest ? ` (LATEST names ${latest})` : ''}`
    : live
      ? `live: ${live} (LATEST)`
      : `no version is live: ${description.store}/LATEST does not exist; promote one with \`npm run models -- promote <version>\``;
  return `${formatTable(header, rows, numeric)}\n\n${summary}\nMetrics are those on each model's holdout at training; \`npm run models -- compare <a> <b>\` scores two on the same rows.`;
}

function changeReport(change: LatestChange, store: string): string {
  const { event } = change;
  const lines = event
    ? [
        `${store}/LATEST: ${event.previous ?? '(none)'} → ${event.version} (${event.action}, recorded in ${store}/HISTORY).`,
        'A running service with hot reload swaps to it; otherwise restart it.',
      ]
    : [];
  return [...lines, ...change.notes].join('\n');
}

function comparisonReport(comparison: Comparison, spec: Spec): string {
  const { holdout, models, agreement } = comparison;
  const [a, b] = models;
  const rows = metricNames(spec).map((name) => {
    const difference = b.metrics[name]! - a.metrics[name]!;
    return [name, figure(a.metrics[name]), figure(b.metrics[name]), `${difference >= 0 ? '+' : ''}${difference.toFixed(4)}`];
  });
  const data = `${holdout.data_path}${holdout.data_sha256 ? ` (sha256 ${holdout.data_sha256.slice(0, 12)}…)` : ''}`;
  const seen = (model: (typeof models)[number]) =>
    model.evaluated_on_this_holdout === null
      ? `${model.version}: model.json does not record its holdout, so some of these rows may have been its training rows`
      : model.evaluated_on_this_holdout
        ? `${model.version}: evaluated on this same holdout at training (it never trained on these rows)`
        : `${model.version}: trained on other data or another split (its holdout hash differs): some of these rows may have been its training rows`;
  return [
    `Both models re-scored by onnxruntime, as the service runs them, on the same ${holdout.rows} holdout rows: ${data}`,
    `split as \`npm run train\` splits it now (training.seed ${holdout.seed}, training.holdout_fraction ${holdout.holdout_fraction}; holdout sha256 ${holdout.holdout_sha256.slice(0, 12)}…).`,
    '',
    formatTable(['metric', a.version, b.version, 'b − a'], rows, [false, true, true, true]),
    '',
    'same_label_share' in agreement
      ? `agreement: the two give the same class on ${percent(agreement.same_label_share)} of the rows`
      : `agreement: mean absolute difference between the two ${agreement.mean_abs_difference.toFixed(4)}`,
    seen(a),
    seen(b),
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { json: { type: 'boolean' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return;
  }
  const [command = 'list', ...args] = parsed.positionals;
  const expect = (count: number) => {
    if (args.length !== count) throw new UsageError(USAGE);
  };
  const json = parsed.values.json === true;
  const print = (value: unknown, text: string) => console.log(json ? JSON.stringify(value, null, 2) : text);
  const paths = projectPaths();
  const spec = loadSpec(paths.features, paths.config);
  const store = paths.modelDir;
  // `latest` names the version LATEST names.
  const version = async (name: string) => {
    if (name.toLowerCase() !== 'latest') return name;
    const latest = await readLatest(store);
    if (!latest) throw new ModelStoreError(`${store}/LATEST does not exist, so "latest" names no version`);
    return latest;
  };
  switch (command) {
    case 'list': {
      expect(0);
      const description = await describeStore(store, spec);
      print(description, listing(description, spec));
      return;
    }
    case 'promote': {
      expect(1);
      const change = await promoteVersion(store, spec, await version(args[0]!), { force: parsed.values.force });
      print(change, changeReport(change, store));
      return;
    }
    case 'rollback': {
      expect(0);
      const change = await rollbackLatest(store, spec);
      print(change, changeReport(change, store));
      return;
    }
    case 'compare': {
      expect(2);
      const comparison = await compareModels(store, spec, await version(args[0]!), await version(args[1]!));
      print(comparison, comparisonReport(comparison, spec));
      return;
    }
    default:
      throw new UsageError(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const known = [ModelStoreError, HistoryError, SpecError, DataError, ModelLoadError, UnknownCategoryError].some(
    (type) => error instanceof type,
  );
  if (error instanceof UsageError) {
    console.error(error.message);
    process.exitCode = 2;
    return;
  }
  console.error(
    known ? (error as Error).message : `npm run models failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exitCode = 1;
});
