// The training pipeline: load → validate → split → fit preprocessor → train → evaluate → export ONNX →
// write model_bin/. User code (src/data, src/model) plugs in; everything else is fixed here so every
// project trains, evaluates and packages its model the same way.
import { randomUUID } from 'node:crypto';
import { loadData } from '../data/dataLoader.js';
import { validateRows, type TrainingRow } from '../data/rows.js';
import { sha256, writeArtifacts, type ModelMetadata } from '../model/artifacts.js';
import type { TrainedModel } from '../model/modelTypes.js';
import { Preprocessor } from '../model/preprocessor.js';
import { getClasses, trainModel } from '../model/train.js';
import type { Spec } from '../spec/load.js';
import { classificationMetrics, regressionMetrics, type Metrics } from './metrics.js';
import { trainHoldoutSplit } from './split.js';

export interface TrainingOptions {
  spec: Spec;
  /** The features.yaml text, hashed into model.json so the service can tell which spec trained it. */
  featuresText: string;
  modelDir: string;
  /** Progress lines, e.g. console.log; silent by default. */
  log?: (line: string) => void;
}

export interface TrainingResult {
  metadata: ModelMetadata;
  model: TrainedModel;
  preprocessor: Preprocessor;
}

const argmax = (row: readonly number[]) => row.reduce((best, value, i) => (value > row[best]! ? i : best), 0);

export async function runTraining({ spec, featuresText, modelDir, log = () => {} }: TrainingOptions): Promise<TrainingResult> {
  const { config } = spec;
  const features = spec.features.features;

  log(`Loading data (${config.data.path}) …`);
  const rows: TrainingRow[] = await loadData(spec);
  validateRows(rows, features, config);
  log(`  ${rows.length} rows, ${features.length} features`);

  const labels = rows.map((row) => row[config.target]!);
  const classes = config.task === 'classification' ? getClasses(labels.map(String)) : [];
  const y = config.task === 'classification' ? labels.map((label) => classes.indexOf(String(label))) : labels.map(Number);
  const split = trainHoldoutSplit(
    rows.length,
    config.training.holdout_fraction,
    config.training.seed,
    config.task === 'classification' ? y : undefined,
  );
  log(`Split: ${split.train.length} train / ${split.holdout.length} holdout (seed ${config.training.seed})`);

  log('Fitting preprocessor …');
  const featureRows = rows.map(({ [config.target]: _target, ...features }) => features);
  const pick = <T>(items: readonly T[], indexes: readonly number[]) => indexes.map((i) => items[i]!);
  const preprocessor = new Preprocessor(features).fit(pick(featureRows, split.train));
  const xTrain = preprocessor.transform(pick(featureRows, split.train));
  const xHoldout = preprocessor.transform(pick(featureRows, split.holdout));

  log(`Training ${config.task} model on ${preprocessor.outputSize} input columns …`);
  const model = trainModel(xTrain, pick(y, split.train), { task: config.task, classes, seed: config.training.seed });
  if (model.task !== config.task) throw new Error(`trainModel() returned a ${model.task} model, but config.yaml says task: ${config.task}`);

  log('Evaluating on the holdout rows …');
  const yHoldout = pick(y, split.holdout);
  let metrics: Metrics;
  if (model.task === 'classification') {
    metrics = classificationMetrics(yHoldout, model.predictProba(xHoldout).map(argmax), classes.length);
  } else {
    metrics = regressionMetrics(yHoldout, model.predict(xHoldout));
  }

  log('Exporting to ONNX …');
  const onnx = model.toOnnx();
  const metadata: ModelMetadata = {
    uuid: randomUUID(),
    created_at: new Date().toISOString(),
    version: config.version,
    task: config.task,
    target: config.target,
    classes,
    features: features.map(({ name, type }) => ({ name, type })),
    features_sha256: sha256(featuresText),
    input_columns: preprocessor.outputColumns,
    metrics,
    rows: { train: split.train.length, holdout: split.holdout.length },
  };
  await writeArtifacts(modelDir, { onnx, preprocessor: preprocessor.toJSON(), metadata });
  log(`Wrote ${modelDir}/ (model ${metadata.uuid})`);
  return { metadata, model, preprocessor };
}
