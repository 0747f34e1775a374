// `npm run train`: trains the model and writes a new version into model_bin/, printing progress, the
// holdout metrics and the quality gate. Exits 1 with a clear message (no stack trace) when the spec, the
// data or the model is wrong, and when the model misses the quality gate (CI relies on this exit code).
import { readFileSync } from 'node:fs';
import { DataError } from '../data/rows.js';
import { projectPaths } from '../contract/environment.js';
import { UnknownCategoryError } from '../model/preprocessing.js';
import { loadSpec, SpecError } from '../contract/index.js';
import { formatMetrics } from './metrics.js';
import { runTraining } from './pipeline.js';
import { formatQualityGate } from './qualityGate.js';

async function main(): Promise<void> {
  const paths = projectPaths();
  const spec = loadSpec(paths.features, paths.config);
  const { metadata, versionDir, reportPath, promotion } = await runTraining({
    spec,
    featuresText: readFileSync(paths.features, 'utf8'),
    modelDir: paths.modelDir,
    log: (line) => console.log(line),
    // On a terminal only: a line rewritten in place would garble a CI log.
    onProgress: process.stdout.isTTY ? progressLine() : undefined,
  });
  console.log(
    `\nHoldout metrics (${metadata.algorithm}, ${metadata.rows.holdout} rows):\n${formatMetrics(metadata.metrics, metadata.classes)}`,
  );
  console.log(`\nQuality gate:\n${formatQualityGate(metadata.quality_gate)}`);
  console.log(`\nTraining report: ${reportPath}`);
  if (!metadata.quality_gate.passed) {
    console.error(
      `\nThe model missed the quality gate: it is kept in ${versionDir}/ for inspection but is not served as the newest model.`,
    );
    process.exitCode = 1;
    return;
  }
  console.log(`\nModel ${metadata.model_version}: ${promotion.reason}`);
  if (promotion.promote) console.log(`Serve it with \`npm start\`.`);
}

/** "  trees 37/100, about 4 s left", rewritten in place; a newline once done. */
function progressLine(): (done: number, total: number) => void {
  const started = Date.now();
  return (done, total) => {
    const left = ((Date.now() - started) / done) * (total - done);
    process.stdout.write(`\r  trees ${done}/${total}, about ${Math.ceil(left / 1000)} s left   `);
    if (done === total) process.stdout.write('\n');
  };
}

main().catch((error: unknown) => {
  const known = error instanceof SpecError || error instanceof DataError || error instanceof UnknownCategoryError;
  console.error(
    known ? (error as Error).message : `Training failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exitCode = 1;
});
