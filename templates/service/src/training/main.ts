// `npm run train`: trains the model and writes model_bin/, printing progress and the holdout metrics.
// Exits non-zero with a clear message (no stack trace) when the spec, the data or the model is wrong.
import { readFileSync } from 'node:fs';
import { DataError } from '../data/rows.js';
import { projectPaths } from '../environment.js';
import { loadSpec, SpecError } from '../spec/load.js';
import { formatMetrics } from './metrics.js';
import { runTraining } from './pipeline.js';

async function main(): Promise<void> {
  const paths = projectPaths();
  const spec = loadSpec(paths.features, paths.config);
  const started = Date.now();
  const { metadata } = await runTraining({
    spec,
    featuresText: readFileSync(paths.features, 'utf8'),
    modelDir: paths.modelDir,
    log: (line) => console.log(line),
  });
  console.log(`\nHoldout metrics (${metadata.rows.holdout} rows):\n${formatMetrics(metadata.metrics, metadata.classes)}`);
  console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. Serve it with \`npm start\`.`);
}

main().catch((error: unknown) => {
  const known = error instanceof SpecError || error instanceof DataError;
  console.error(
    known ? (error as Error).message : `Training failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exitCode = 1;
});
