// `npm run predict -- input.csv [--output out.csv|-]` (or `node dist/cli/predict.js …` where the project is built,
// as in the production image): scores a CSV file offline with the served model, for batch jobs that should not
// go through HTTP. Refused rows are reported on stderr as `file:line: field: message`; the others are written
// with their predictions (default: <input>.predictions.csv next to the input; `-`: stdout).
// Exit status: 0 every row scored, 1 some rows refused (the rest are written), 2 nothing could be scored
// (no such file, not a CSV, a required column missing, no model).
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ModelLoadError } from '../model/artifacts.js';
import { projectPaths } from '../contract/environment.js';
import { formatProblem, scoreCsv, UnusableInputError } from '../scoring/scoreCsv.js';
import { OnnxPredictor } from '../runtime/predictor.js';
import { loadSpec, SpecError } from '../contract/index.js';

const USAGE = 'usage: npm run predict -- input.csv [--output out.csv | --output -]';

/** Unusable input: the message, no stack trace, exit 2. */
class UsageError extends Error {}

/** input.csv → input.predictions.csv (next to the input). */
function defaultOutput(input: string): string {
  return `${input.replace(/\.csv$/i, '')}.predictions.csv`;
}

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: { output: { type: 'string', short: 'o' } } });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const [input, ...extra] = parsed.positionals;
  if (!input || extra.length) throw new UsageError(USAGE);
  const output = parsed.values.output ?? defaultOutput(input);

  let text: string;
  try {
    text = await readFile(input, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${input}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const paths = projectPaths();
  const spec = loadSpec(paths.features, paths.config);
  const predictor = await OnnxPredictor.load(paths.modelDir, spec);
  // Released once scored, even on an error: its native session's memory is outside V8's heap.
  const { csv, scored, refused } = await scoreCsv(text, input, spec, predictor).finally(() => predictor.close());
  for (const problem of refused) console.error(formatProblem(input, problem));
  if (output === '-') process.stdout.write(csv);
  else await writeFile(output, csv);
  const rows = new Set(refused.map(({ line }) => line)).size;
  const where = output === '-' ? 'stdout' : output;
  console.error(`${input}: ${scored} row${scored === 1 ? '' : 's'} scored → ${where}${rows ? `; ${rows} refused (above)` : ''}`);
  return rows ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (status) => (process.exitCode = status),
  (error: unknown) => {
    const known =
      error instanceof UsageError || error instanceof UnusableInputError || error instanceof SpecError || error instanceof ModelLoadError;
    console.error(
      known ? (error as Error).message : `Scoring failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exitCode = 2;
  },
);
