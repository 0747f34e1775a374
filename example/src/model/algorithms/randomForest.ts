// Random forests as scikit-learn's RandomForestClassifier / RandomForestRegressor grow them (./cart.ts:
// bootstrap samples, a random subset of the columns tried at every split, trees grown until pure by
// default), exported as ai.onnx.ml TreeEnsemble graphs (./treeEnsemble.ts).
//
// Prediction: the mean over the trees of the reached leaf's class shares (classification, as
// scikit-learn does; the predicted class is the most probable, the first one on a tie) or of the leaf
// values (regression).
import { seededRandom } from '../random.js';
import { classIndex, type Classifier, type Regressor } from '../modelTypes.js';
import { cartData, growTree, type CartData } from './cart.js';
import { checkClassLabels, checkTargets, featureWidth } from './featureMatrix.js';
import { classShares, leafTarget, treeEnsembleClassifierOnnx, treeEnsembleRegressorOnnx, type ExportedTree } from './treeEnsemble.js';

export interface RandomForestOptions {
  /** Number of trees. Default 100 (scikit-learn's). */
  nEstimators?: number;
  /**
   * Columns tried at every split: 'sqrt' (√ of the input columns), a share in (0, 1], or a count above 1.
   * Default: 'sqrt' for classifiers, all (1) for regressors, as scikit-learn.
   */
  maxFeatures?: 'sqrt' | number;
  /** Deepest split level of a tree. Default: unlimited. */
  maxDepth?: number;
  /** Rows a leaf must keep at least. Default 1. */
  minSamplesLeaf?: number;
  /** Rows a node needs to be split. Default 2. */
  minSamplesSplit?: number;
  /** Train each tree on a bootstrap sample of the rows. Default true. */
  bootstrap?: boolean;
  /** Seed for the row and column draws; pass the context's seed from config.yaml. Default 42. */
  seed?: number;
  /** Called after each tree, e.g. to show progress. */
  onTree?: (done: number, total: number) => void;
}

interface Fitted {
  trees: ExportedTree[];
  featureCount: number;
}

function columnCount(maxFeatures: 'sqrt' | number, width: number): number {
  if (maxFeatures === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(width)));
  if (!(maxFeatures > 0)) throw new RangeError(`maxFeatures must be 'sqrt' or a positive number, got ${maxFeatures}`);
  return maxFeatures <= 1 ? Math.max(1, Math.floor(maxFeatures * width)) : Math.min(width, Math.floor(maxFeatures));
}

function trainForest(data: CartData, options: RandomForestOptions, defaultMaxFeatures: 'sqrt' | number): Fitted {
  const { nEstimators = 100, seed = 42, bootstrap = true, maxFeatures = defaultMaxFeatures, onTree } = options;
  if (!Number.isInteger(nEstimators) || nEstimators < 1) throw new RangeError(`nEstimators must be a positive integer, got ${nEstimators}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const width = data.columns.length;
  const n = data.y.length;
  const random = seededRandom(seed);
  const growOptions = {
    maxDepth: options.maxDepth,
    minSamplesLeaf: options.minSamplesLeaf,
    minSamplesSplit: options.minSamplesSplit,
    maxFeatures: columnCount(maxFeatures, width),
  };
  const trees: ExportedTree[] = [];
  for (let t = 0; t < nEstimators; t++) {
    const rows = bootstrap ? Int32Array.from({ length: n }, () => Math.floor(random() * n)) : Int32Array.from({ length: n }, (_, i) => i);
    trees.push({ root: growTree(data, rows, growOptions, random) });
    onTree?.(t + 1, nEstimators);
  }
  return { trees, featureCount: width };
}

export class RandomForestClassifier implements Classifier {
  readonly task = 'classification' as const;
  readonly algorithm = 'randomForestClassifier';
  private fitted: (Fitted & { classCount: number }) | undefined;

  constructor(private readonly options: RandomForestOptions = {}) {}

  /** y holds class indices 0 … classCount−1, in the order of the probability columns. */
  fit(X: readonly (readonly number[])[], y: readonly number[], classCount: number): this {
    featureWidth(X);
    checkClassLabels(y, X.length, classCount);
    this.fitted = { ...trainForest(cartData(X, y, classCount), this.options, 'sqrt'), classCount };
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
      for (const { root } of trees) {
        classShares(root.classify(row), classCount).forEach((share, c) => (probabilities[c]! += share * weight));
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
      docString: `Random forest of ${trees.length} CART trees exported by generator-ml-microservice`,
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
    featureWidth(X);
    checkTargets(y, X.length);
    this.fitted = trainForest(cartData(X, y, 0), this.options, 1);
    return this;
  }

  /** The mean of the trees' leaf values (summed in tree order, then divided, as onnxruntime's AVERAGE does). */
  predict(X: readonly (readonly number[])[]): number[] {
    const { trees, featureCount } = this.model();
    featureWidth(X, featureCount);
    return X.map((row) => trees.reduce((sum, { root }) => sum + leafTarget(root.classify(row)), 0) / trees.length);
  }

  toOnnx(): Uint8Array {
    const { trees, featureCount } = this.model();
    return treeEnsembleRegressorOnnx({
      graphName: 'random_forest_regressor',
      docString: `Random forest of ${trees.length} regression trees exported by generator-ml-microservice`,
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
