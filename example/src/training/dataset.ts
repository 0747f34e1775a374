// The training data as every model of the project sees it: loaded by the project's loadData(), checked against
// features.yaml, labelled, and split into training and holdout rows by config.yaml's seed and holdout fraction.
// `npm run train` trains and evaluates on it; `npm run models -- compare` re-scores models on its holdout, which
// is the holdout the models were evaluated on as long as the data, the seed and the fraction are the same
// (model.json's `data` records them, with a hash of the holdout rows, so a comparison can tell).
import { loadData } from '../data/dataLoader.js';
import { validateRows, type TrainingRow } from '../data/rows.js';
import { sha256, type DataProvenance } from '../model/artifacts.js';
import { getClasses } from '../model/train.js';
import type { FeatureValues, Spec } from '../contract/index.js';
import { dataFileSha256 } from './provenance.js';
import { trainHoldoutSplit, type Split } from './split.js';

export interface Dataset {
  rows: TrainingRow[];
  /** Each row's features (the target left out). */
  featureRows: FeatureValues[];
  /** Each row's label as the data has it: a class name or a number. */
  labels: unknown[];
  /** Classification: the class names in the model's column order (getClasses); empty for regression. */
  classes: string[];
  /** Each row's label as the model learns it: the class's index, or the number. */
  y: number[];
  split: Split;
  provenance: DataProvenance;
}

const pick = <T>(items: readonly T[], indexes: readonly number[]) => indexes.map((i) => items[i]!);

export async function loadDataset(spec: Spec): Promise<Dataset> {
  const { config } = spec;
  const rows: TrainingRow[] = await loadData(spec);
  validateRows(rows, spec.features.features, config);
  const labels = rows.map((row) => row[config.target]!);
  const classes = config.task === 'classification' ? getClasses(labels.map(String)) : [];
  const y = config.task === 'classification' ? labels.map((label) => classes.indexOf(String(label))) : labels.map(Number);
  const unlisted = config.task === 'classification' ? labels.filter((_, i) => y[i] === -1) : [];
  if (unlisted.length)
    throw new Error(`getClasses() left out the label ${JSON.stringify(unlisted[0])}: it must return every label of the data`);
  const { seed, holdout_fraction: holdoutFraction } = config.training;
  const split = trainHoldoutSplit(rows.length, holdoutFraction, seed, config.task === 'classification' ? y : undefined);
  const featureRows = rows.map(({ [config.target]: _target, ...values }) => values as FeatureValues);
  const fileHash = await dataFileSha256(config.data.path);
  return {
    rows,
    featureRows,
    labels,
    classes,
    y,
    split,
    provenance: {
      path: config.data.path,
      sha256: fileHash,
      rows: rows.length,
      seed,
      holdout_fraction: holdoutFraction,
      holdout_sha256: sha256(JSON.stringify(pick(rows, split.holdout))),
    },
  };
}

/** The holdout rows' features and labels. */
export function holdoutOf(dataset: Dataset): { rows: FeatureValues[]; labels: unknown[] } {
  return { rows: pick(dataset.featureRows, dataset.split.holdout), labels: pick(dataset.labels, dataset.split.holdout) };
}

/** The training rows' features and labels (as the model learns them). */
export function trainingPartOf(dataset: Dataset): { rows: FeatureValues[]; y: number[] } {
  return { rows: pick(dataset.featureRows, dataset.split.train), y: pick(dataset.y, dataset.split.train) };
}
