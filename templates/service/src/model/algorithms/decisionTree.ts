// CART decision trees, trained by ml-cart (Gini gain for classes, squared error for values) and exported
// as one-tree ai.onnx.ml TreeEnsemble graphs (./treeEnsemble.ts). Trees need no feature scaling.
import { classIndex, type Classifier, type Regressor } from '../modelTypes.js';
import { checkClassLabels, checkTargets, featureWidth } from './featureMatrix.js';
import {
  classShares,
  leafTarget,
  mlCart,
  treeEnsembleClassifierOnnx,
  treeEnsembleRegressorOnnx,
  type CartOptions,
  type CartTree,
} from './treeEnsemble.js';

export type DecisionTreeOptions = CartOptions;

/**
 * The options without their undefined entries: ml-cart merges them over its defaults with Object.assign, where
 * maxDepth: undefined (config.yaml without max_depth) replaced Infinity and stopped every split (a one-leaf tree).
 */
function cartOptions(options: DecisionTreeOptions): DecisionTreeOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

interface Fitted {
  tree: CartTree;
  featureCount: number;
}

export class DecisionTreeClassifier implements Classifier {
  readonly task = 'classification' as const;
  readonly algorithm = 'decisionTreeClassifier';
  private fitted: (Fitted & { classCount: number }) | undefined;

  constructor(private readonly options: DecisionTreeOptions = {}) {}

  /** y holds class indices 0 … classCount−1, in the order of the probability columns. */
  fit(X: readonly (readonly number[])[], y: readonly number[], classCount: number): this {
    const featureCount = featureWidth(X);
    checkClassLabels(y, X.length, classCount);
    const tree = new mlCart.DecisionTreeClassifier(cartOptions(this.options));
    tree.train(
      X.map((row) => [...row]),
      [...y],
    );
    this.fitted = { tree, featureCount, classCount };
    return this;
  }

  /** The class shares of the leaf each row reaches. */
  predictProba(X: readonly (readonly number[])[]): number[][] {
    const { tree, featureCount, classCount } = this.model();
    featureWidth(X, featureCount);
    return X.map((row) => classShares(tree.root.classify(row), classCount));
  }

  predict(X: readonly (readonly number[])[]): number[] {
    return this.predictProba(X).map(classIndex);
  }

  toOnnx(): Uint8Array {
    const { tree, featureCount, classCount } = this.model();
    return treeEnsembleClassifierOnnx({
      graphName: 'decision_tree_classifier',
      docString: 'CART decision tree (ml-cart) exported by generator-ml-microservice',
      algorithm: this.algorithm,
      trees: [{ root: tree.root }],
      featureCount,
      classCount,
      leafScale: 1,
    });
  }

  private model() {
    if (!this.fitted) throw new Error('DecisionTreeClassifier: call fit() first');
    return this.fitted;
  }
}

export class DecisionTreeRegressor implements Regressor {
  readonly task = 'regression' as const;
  readonly algorithm = 'decisionTreeRegressor';
  private fitted: Fitted | undefined;

  constructor(private readonly options: DecisionTreeOptions = {}) {}

  fit(X: readonly (readonly number[])[], y: readonly number[]): this {
    const featureCount = featureWidth(X);
    checkTargets(y, X.length);
    const tree = new mlCart.DecisionTreeRegression(cartOptions(this.options));
    tree.train(
      X.map((row) => [...row]),
      [...y],
    );
    this.fitted = { tree, featureCount };
    return this;
  }

  /** The mean training target of the leaf each row reaches. */
  predict(X: readonly (readonly number[])[]): number[] {
    const { tree, featureCount } = this.model();
    featureWidth(X, featureCount);
    return X.map((row) => leafTarget(tree.root.classify(row)));
  }

  toOnnx(): Uint8Array {
    const { tree, featureCount } = this.model();
    return treeEnsembleRegressorOnnx({
      graphName: 'decision_tree_regressor',
      docString: 'CART regression tree (ml-cart) exported by generator-ml-microservice',
      algorithm: this.algorithm,
      trees: [{ root: tree.root }],
      featureCount,
      aggregate: 'SUM',
    });
  }

  private model() {
    if (!this.fitted) throw new Error('DecisionTreeRegressor: call fit() first');
    return this.fitted;
  }
}
