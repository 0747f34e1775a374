// The training pipeline: load → validate → split → fit preprocessor → train → evaluate → quality gate →
// export ONNX → write a new version folder in model_bin/ with its report (report.html). User code (src/data, src/model) plugs in;
// everything else is fixed here so every project trains, evaluates and packages its model the same way.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { modelVersionName, readLatest, sha256, writeModelVersion, writeReport, type ModelMetadata } from '../model/artifacts.js';
import {
  EXPLAINER_FILE,
  explainTrainedModel,
  globalImportance,
  type Explainer,
  type GlobalImportance,
} from '../model/explanation/explainer.js';
import { classIndex, type TrainedModel } from '../model/modelTypes.js';
import { Preprocessor } from '../model/preprocessor.js';
import { referenceStatistics } from '../model/referenceStatistics.js';
import { trainModel } from '../model/train.js';
import type { Spec } from '../contract/index.js';
import type { Prediction } from '../runtime/predictor.js';
import type { Metrics } from '../model/evaluation.js';
import { holdoutOf, loadDataset, trainingPartOf } from './dataset.js';
import { classificationMetrics, regressionMetrics } from './metrics.js';
import { gitProvenance } from './provenance.js';
import { decidePromotion, oneLine, servedPredictions, type PromotionDecision } from './promotion.js';
import { recordPromotion } from './promotionHistory.js';
import { checkQualityGate } from './qualityGate.js';
import { renderTrainingReport, type HoldoutOutcome, type LatestOnHoldout } from './trainingReport.js';

export interface TrainingOptions {
  spec: Spec;
  /** The features.yaml text, hashed into model.json so the service can tell which spec trained it. */
  featuresText: string;
  /** The model store (model_bin/): the run writes a new folder in it. */
  modelDir: string;
  /** Progress lines, e.g. console.log; silent by default. */
  log?: (line: string) => void;
  /** The run's time (tests pin it); default: now. */
  now?: Date;
  /** Training progress (done, total), e.g. the trees of a forest; none by default. */
  onProgress?: (done: number, total: number) => void;
}

export interface TrainingResult {
  metadata: ModelMetadata;
  model: TrainedModel;
  preprocessor: Preprocessor;
  /** The version folder written, e.g. model_bin/20250101T120000Z-1a2b3c4d. */
  versionDir: string;
  /** The training report in it: versionDir/report.html. */
  reportPath: string;
  /** Whether the model became model_bin/LATEST, and why (training.promote). */
  promotion: PromotionDecision;
  /** Explains the model's predictions (undefined when it cannot: the run's log says why). */
  explainer: Explainer | undefined;
  /** Each feature's mean absolute contribution over the holdout rows (undefined when the model cannot be explained). */
  importance: GlobalImportance | undefined;
}

export async function runTraining({
  spec,
  featuresText,
  modelDir,
  log = () => {},
  now = new Date(),
  onProgress,
}: TrainingOptions): Promise<TrainingResult> {
  const { config } = spec;
  const features = spec.features.features;
  const started = Date.now();
  const step = (text: string) => log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}`);

  step(`Loading data (${config.data.path}) …`);
  const dataset = await loadDataset(spec);
  const { classes, split } = dataset;
  step(`  ${dataset.rows.length} rows, ${features.length} features, all valid against features.yaml`);
  step(
    `Split: ${split.train.length} train / ${split.holdout.length} holdout rows (seed ${config.training.seed}${config.task === 'classification' ? ', stratified by class' : ''})`,
  );

  step('Fitting the preprocessor on the training rows …');
  const training = trainingPartOf(dataset);
  const holdout = holdoutOf(dataset);
  const preprocessor = new Preprocessor(features).fit(training.rows);
  const xTrain = preprocessor.transform(training.rows);
  const xHoldout = preprocessor.transform(holdout.rows);

  step(
    `Training the ${config.task} model (training.algorithm: ${config.training.algorithm.name}) on ${preprocessor.outputSize} input columns …`,
  );
  const model = trainModel(xTrain, training.y, {
    task: config.task,
    classes,
    seed: config.training.seed,
    algorithm: config.training.algorithm,
    onProgress,
  });
  if (model.task !== config.task) throw new Error(`trainModel() returned a ${model.task} model, but config.yaml says task: ${config.task}`);
  step(`  trained ${model.algorithm}`);

  step('Evaluating on the holdout rows …');
  const yHoldout = split.holdout.map((i) => dataset.y[i]!);
  let metrics: Metrics;
  let outcome: HoldoutOutcome;
  if (model.task === 'classification') {
    const probabilities = model.predictProba(xHoldout);
    metrics = classificationMetrics(yHoldout, probabilities.map(classIndex), classes.length);
    outcome = { task: 'classification', trainLabels: training.y, holdoutLabels: yHoldout, probabilities };
  } else {
    const predictions = model.predict(xHoldout);
    metrics = regressionMetrics(yHoldout, predictions);
    outcome = { task: 'regression', trainTargets: training.y, holdoutTargets: yHoldout, predictions };
  }
  const qualityGate = checkQualityGate(metrics, config.training);

  step('Exporting to ONNX …');
  const onnx = model.toOnnx();
  // What POST /predict?explain=true needs beside the graph (explainer.json), and the global feature importance.
  const explained = explainTrainedModel({ onnx, xTrain, columns: preprocessor, features, classes });
  if (explained.unavailable) step(`  this model's predictions cannot be explained: ${explained.unavailable}`);
  const importance = explained.explainer && globalImportance(explained.explainer, xHoldout);
  const uuid = randomUUID();
  const metadata: ModelMetadata = {
    uuid,
    model_version: modelVersionName(now, uuid),
    created_at: now.toISOString(),
    version: config.version,
    task: config.task,
    target: config.target,
    algorithm: model.algorithm,
    classes,
    features: features.map(({ name, type }) => ({ name, type })),
    features_sha256: sha256(featuresText),
    input_columns: preprocessor.outputColumns,
    metrics,
    quality_gate: qualityGate,
    rows: { train: split.train.length, holdout: split.holdout.length },
    reference: referenceStatistics(features, training.rows),
    data: dataset.provenance,
    git: gitProvenance(),
  };
  // Written first, then compared: the new model is scored from its own folder, as the service would run it.
  const files: Record<string, string> = explained.state ? { [EXPLAINER_FILE]: `${JSON.stringify(explained.state)}\n` } : {};
  const versionDir = await writeModelVersion(
    modelDir,
    { onnx, preprocessor: preprocessor.toJSON(), metadata, files },
    { makeLatest: false },
  );
  const previousLatest = await readLatest(modelDir);
  // The LATEST before this run, run once on the holdout rows (when needed): the promotion compares with it, the
  // report shows it beside the new model.
  let latestRun: Promise<Prediction[]> | undefined;
  const latestPredictions = () => (latestRun ??= servedPredictions(join(modelDir, previousLatest!), spec, holdout.rows));
  const promotion = await decidePromotion({
    spec,
    modelDir,
    versionDir,
    gatePassed: qualityGate.passed,
    holdoutRows: holdout.rows,
    holdoutLabels: holdout.labels,
    ...(previousLatest === undefined ? {} : { latestPredictions }),
  });

  step('Writing the training report …');
  const reportPath = await writeReport(
    versionDir,
    renderTrainingReport({
      project: { name: config.name, version: config.version, description: config.description },
      metadata,
      features,
      split: { seed: config.training.seed, holdoutFraction: config.training.holdout_fraction },
      trainRows: training.rows,
      holdoutRows: holdout.rows,
      outcome,
      latest: previousLatest === undefined ? undefined : await latestOnHoldout(spec, previousLatest, latestPredictions, classes),
      promotion,
      // The mean absolute contribution per feature over the holdout rows, or why this model cannot be explained.
      importance: importance ?? { unavailable: explained.unavailable ?? 'this model cannot be explained' },
    }),
  );
  // After the report: a model is served only once its folder is complete.
  if (promotion.promote) await recordPromotion(modelDir, { action: 'train', version: metadata.model_version });
  step(`Wrote ${versionDir}/ (model ${uuid})${promotion.promote ? `, now ${modelDir}/LATEST` : ''}`);
  return { metadata, model, preprocessor, versionDir, reportPath, promotion, explainer: explained.explainer, importance };
}

/** The model LATEST named before this run, run by onnxruntime (as the service runs it) on this run's holdout rows. */
async function latestOnHoldout(
  spec: Spec,
  version: string,
  latestPredictions: () => Promise<Prediction[]>,
  classes: readonly string[],
): Promise<LatestOnHoldout> {
  try {
    const predictions = await latestPredictions();
    if (spec.config.task === 'classification')
      return { version, probabilities: predictions.map((p) => classes.map((name) => p.probabilities?.[name] ?? 0)) };
    return { version, predictions: predictions.map((p) => Number(p.prediction)) };
  } catch (error) {
    return { version, unavailable: oneLine(error) };
  }
}
