// Random forests trained by ml-random-forest (bagged ml-cart trees, each on a random subset of the
// columns) and exported as ai.onnx.ml TreeEnsemble graphs (./treeEnsemble.ts).
//
// Prediction: the mean over the trees of the reached leaf's class shares (classification, as
// scikit-learn's RandomForestClassifier does; the predicted class is the most probable, the first one
// on a tie) or of the leaf values (regression, ml-random-forest's 'mean' selection). ml-random-forest's
// own predict() takes a majority vote instead, whose ties it breaks by tree order; it is not used.
import { RandomForestClassifier as MlRandomForestClassifier, RandomForestRegression as MlRandomForestRegression } from 'ml-random-forest';
import { classIndex, type Classifier, type Regressor } from '../modelTypes.js';
import { checkClassLabels, checkTargets, featureWidth } from './featureMatrix.js';
import {
  classShares,
  leafTarget,
  treeEnsembleClassifierOnnx,
  treeEnsembleRegressorOnnx,
  type CartOptions,
  type CartTree,
  type ExportedTree,
} from './treeEnsemble.js';

export interface RandomForestOptions {
  /** Number of trees. Default 50. */
  nEstimators?: number;
  /** Columns each tree sees: a share in (0, 1] of the input columns, or a count above 1. Default 1 (all, drawn as below). */
  maxFeatures?: number;
  /** Draw each tree's columns with replacement. Default: true for classifiers, false for regressors (ml-random-forest's defaults). */
  replacement?: boolean;
  /** Train each tree on a bootstrap sample of the rows. Default true. */
  useSampleBagging?: boolean;
  /** Seed for the row and column draws (a 32-bit integer); pass the context's seed from config.yaml. Default 42. */
  seed?: number;
  /** Options of every tree (ml-cart's). */
  treeOptions?: CartOptions;
}

/** A trained forest as ml-random-forest keeps it: the trees and, per tree, the input columns it was trained on. */
interface MlForest {
  estimators?: CartTree[];
  indexes?: number[][];
  train(X: number[][], y: number[]): void;
}

interface Fitted {
  trees: ExportedTree[];
  featureCount: number;
}

function trainForest(forest: MlForest, X: readonly (readonly number[])[], y: readonly number[], featureCount: number): Fitted {
  forest.train(
    X.map((row) => [...row]),
    [...y],
  );
  const { estimators, indexes } = forest;
  if (!estimators || !indexes || estimators.length !== indexes.length) throw new Error('ml-random-forest returned no trees');
  return { trees: estimators.map((tree, t) => ({ root: tree.root, columns: indexes[t]! })), featureCount };
}

/** ml-random-forest's options, leaving out what is undefined so its own defaults apply; out-of-bag scoring off. */
function forestOptions(options: RandomForestOptions) {
  const { nEstimators = 50, seed = 42, ...rest } = options;
  if (!Number.isInteger(nEstimators) || nEstimators < 1) throw new RangeError(`nEstimators must be a positive integer, got ${nEstimators}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const defined = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined));
  // noOOB: the out-of-bag estimate is not used here, and ml-random-forest fails computing it for small forests.
  return { ...defined, nEstimators, seed: seed | 0, noOOB: true };
}

/** Each tree's row of inputs: the tree's own columns picked from the input row. */
const treeRow = (row: readonly number[], columns: readonly number[] | undefined) => (columns ? columns.map((c) => row[c]!) : [...row]);

export class RandomForestClassifier implements Classifier {
  readonly task = 'classification' as const;
  readonly algorithm = 'randomForestClassifier';
  private fitted: (Fitted & { classCount: number }) | undefined;

  constructor(private readonly options: RandomForestOptions = {}) {}

  /** y holds class indices 0 … classCount−1, in the order of the probability columns. */
  fit(X: readonly (readonly number[])[], y: readonly number[], classCount: number): this {
    const featureCount = featureWidth(X);
    checkClassLabels(y, X.length, classCount);
    const forest = new MlRandomForestClassifier(forestOptions(this.options)) as unknown as MlForest;
    this.fitted = { ...trainForest(forest, X, y, featureCount), classCount };
    return this;
  }

  predictProba(X: readonly (readonly number[])[]): number[][] {
    const { trees, featureCount, classCount } = this.model();
    featureWidth(X, featureCount);
    const weight = 1 / trees.length;
    return X.map((row) => {
      // Summed tree by tree, each share already divided by the tree count: the order and the operations
      // onnxruntime uses for the exported weights, so both agree to the last bits of a double.
      const probabilities = new Array<number>(classCount).fill(0);
      for (const { root, columns } of trees) {
        classShares(root.classify(treeRow(row, columns)), classCount).forEach((share, c) => (probabilities[c]! += share * weight));
      }
      return probabilities;
    });
  }

  predict(X: readonly (readonly number[])[]): number[] {
    return this.predictProba(X).map(classIndex);
  }

  toOnnx(): Uint8Array {
    const { trees, featureCount, classCount } = this.model();
    return treeEnsembleClassifierOnnx({
      graphName: 'random_forest_classifier',
      docString: `Random forest of ${trees.length} CART trees (ml-random-forest) exported by generator-ml-microservice`,
      algorithm: this.algorithm,
      trees,
      featureCount,
      classCount,
      leafScale: 1 / trees.length,
    });
  }

  private model() {
    if (!this.fitted) throw new Error('RandomForestClassifier: call fit() first');
    return this.fitted;
  }
}

export class RandomForestRegressor implements Regressor {
  readonly task = 'regression' as const;
  readonly algorithm = 'randomForestRegressor';
  private fitted: Fitted | undefined;

  constructor(private readonly options: RandomForestOptions = {}) {}

  fit(X: readonly (readonly number[])[], y: readonly number[]): this {
    const featureCount = featureWidth(X);
    checkTargets(y, X.length);
    const forest = new MlRandomForestRegression({ ...forestOptions(this.options), selectionMethod: 'mean' }) as unknown as MlForest;
    this.fitted = trainForest(forest, X, y, featureCount);
    return this;
  }

  /** The mean of the trees' leaf values (summed in tree order, then divided, as onnxruntime's AVERAGE does). */
  predict(X: readonly (readonly number[])[]): number[] {
    const { trees, featureCount } = this.model();
    featureWidth(X, featureCount);
    return X.map(
      (row) => trees.reduce((sum, { root, columns }) => sum + leafTarget(root.classify(treeRow(row, columns))), 0) / trees.length,
    );
  }

  toOnnx(): Uint8Array {
    const { trees, featureCount } = this.model();
    return treeEnsembleRegressorOnnx({
      graphName: 'random_forest_regressor',
      docString: `Random forest of ${trees.length} regression trees (ml-random-forest) exported by generator-ml-microservice`,
      algorithm: this.algorithm,
      trees,
      featureCount,
      aggregate: 'AVERAGE',
    });
  }

  private model() {
    if (!this.fitted) throw new Error('RandomForestRegressor: call fit() first');
    return this.fitted;
  }
}
