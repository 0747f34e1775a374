// `npm run replay -- --from <log> --model <version> [--labels <file>] [--limit N] [--json]`: re-scores the inputs of
// logged predictions with another model version and reports how often it agrees with what was served, and how both
// did against the ground truth where a labels file gives it (src/scoring/replay.ts).
//   --from     a JSON-lines prediction log (the file or stdout sink), or a mongodb:// URL (the mongodb sink's
//              collection: config.yaml prediction_log.mongodb, MONGODB_DB, MONGODB_COLLECTION)
//   --model    a version folder in model_bin/, or `latest`
//   --labels   the true values by id: POST /feedback bodies as JSON lines, or a CSV with the id and target columns
//   --limit    only the newest N records
// Exit status: 0 done, 1 the model cannot be loaded or replay failed, 2 unusable input or a usage error.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectPaths } from '../contract/environment.js';
import { loadSpec, SpecError, type Spec } from '../contract/index.js';
import { listModelVersions, ModelLoadError, readLatest } from '../model/artifacts.js';
import { OnnxPredictor } from '../runtime/predictor.js';
import {
  readLabels,
  readPredictionLogFile,
  readPredictionLogMongodb,
  replay,
  ReplayInputError,
  type Agreement,
  type ReplayReport,
} from '../scoring/replay.js';
import { figure, formatTable, percent } from './table.js';

const USAGE =
  'usage: npm run replay -- --from <predictions.jsonl | mongodb://…> --model <version | latest> [--labels <file>] [--limit N] [--json]';

class UsageError extends Error {}

const agreementText = (agreement: Agreement) =>
  'same_label_share' in agreement
    ? percent(agreement.same_label_share)
    : `${agreement.mean_abs_difference.toFixed(4)} (max ${agreement.max_abs_difference.toFixed(4)})`;

function reportText(report: ReplayReport & { source: string; model: string }, spec: Spec): string {
  const classification = spec.config.task === 'classification';
  const lines = [
    `Replayed ${report.replayed} of ${report.records} logged predictions from ${report.source} with ${report.model}` +
      `${report.skipped_lines ? `; ${report.skipped_lines} lines that are not prediction records skipped` : ''}` +
      `${report.shadow_records ? `; ${report.shadow_records} shadow-model records left out (never served)` : ''}.`,
  ];
  if (report.refused.rows)
    lines.push(`${report.refused.rows} rows refused, e.g.:`, ...report.refused.examples.map((example) => `  ${example}`));
  lines.push(
    '',
    formatTable(
      ['served by', 'rows', classification ? 'same class as served' : 'mean abs difference from served'],
      [
        ...report.by_served_model.map((group) => [group.served_by, String(group.rows), agreementText(group)]),
        ['all', String(report.replayed), agreementText(report.agreement)],
      ],
      [false, true, true],
    ),
  );
  const truth = report.ground_truth;
  if (truth) {
    const names = Object.keys(truth.served);
    lines.push(
      '',
      `Against the ground truth (${truth.rows} replayed rows whose id has a label):`,
      formatTable(
        ['metric', 'served', report.model],
        names.map((name) => [name, figure(truth.served[name]), figure(truth.replayed[name])]),
        [false, true, true],
      ),
    );
  } else lines.push('', 'No ground truth: pass --labels <file> (ids and true values) to compare both with it.');
  return lines.join('\n');
}

async function main(argv: readonly string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        from: { type: 'string' },
        model: { type: 'string' },
        labels: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const { from, model, labels: labelsPath, json } = parsed.values;
  if (!from || !model) throw new UsageError(USAGE);
  const limit = parsed.values.limit === undefined ? undefined : Number(parsed.values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
    throw new UsageError(`--limit must be a whole number above 0\n${USAGE}`);

  const paths = projectPaths();
  const spec = loadSpec(paths.features, paths.config);
  const store = paths.modelDir;
  const version = model.toLowerCase() === 'latest' ? await readLatest(store) : model;
  const available = await listModelVersions(store);
  if (!version || !available.includes(version))
    throw new ModelLoadError(
      `${store}/ has no model "${version ?? model}" (${available.length ? `available: ${available.join(', ')}` : 'it holds no model; train one with `npm run train`'})`,
    );
  const predictor = await OnnxPredictor.load(join(store, version), spec);
  let report;
  try {
    const isMongodb = /^mongodb(\+srv)?:\/\//.test(from);
    const read = isMongodb ? await readPredictionLogMongodb(from, spec, limit) : await readPredictionLogFile(from, spec, limit);
    const labels = labelsPath === undefined ? undefined : await readLabels(labelsPath, spec);
    report = {
      // The URL may hold credentials: the report names the collection instead.
      source: 'collection' in read ? `MongoDB ${read.collection}` : from,
      model: version,
      ...(await replay(read, predictor, spec, labels)),
    };
  } finally {
    await predictor.close(); // its native session's memory is outside V8's heap
  }
  console.log(json ? JSON.stringify(report, null, 2) : reportText(report, spec));
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || error instanceof ReplayInputError) {
    console.error(error.message);
    process.exitCode = 2;
    return;
  }
  const known = error instanceof SpecError || error instanceof ModelLoadError;
  console.error(
    known ? (error as Error).message : `Replay failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exitCode = 1;
});
