// The built-in models config.yaml's training.algorithm chooses from; src/model/train.ts trains the chosen one
// unless its user code is replaced by a custom model.
import type { AlgorithmConfig, Task } from '../contract/index.js';
import { DecisionTreeClassifier, DecisionTreeRegressor } from './algorithms/decisionTree.js';
import { LinearRegressor } from './algorithms/linearRegression.js';
import { RandomForestClassifier, RandomForestRegressor, type RandomForestOptions } from './algorithms/randomForest.js';
import { SoftmaxRegression } from './algorithms/softmaxRegression.js';
import type { TrainedModel } from './modelTypes.js';

export interface BuiltInTraining {
  task: Task;
  /** Class names (classification); empty for regression. */
  classes: readonly string[];
  seed: number;
  algorithm: AlgorithmConfig;
  /** Called after each tree of a forest (done, total), e.g. for a progress line. */
  onProgress?: (done: number, total: number) => void;
}

export function trainBuiltInModel(
  X: number[][],
  y: number[],
  { task, classes, seed, algorithm, onProgress }: BuiltInTraining,
): TrainedModel {
  const classification = task === 'classification';
  switch (algorithm.name) {
    case 'linear':
      return classification ? new SoftmaxRegression().fit(X, y, classes.length) : new LinearRegressor().fit(X, y);
    case 'decision_tree': {
      // ml-cart's minNumSamples: a node with at most this many rows becomes a leaf.
      const options = { maxDepth: algorithm.max_depth, minNumSamples: algorithm.min_samples_split - 1 };
      return classification ? new DecisionTreeClassifier(options).fit(X, y, classes.length) : new DecisionTreeRegressor(options).fit(X, y);
    }
    case 'random_forest': {
      const options: RandomForestOptions = {
        nEstimators: algorithm.trees,
        maxDepth: algorithm.max_depth,
        maxFeatures: algorithm.max_features,
        minSamplesLeaf: algorithm.min_samples_leaf,
        bootstrap: algorithm.bootstrap,
        seed,
        onTree: onProgress,
      };
      return classification ? new RandomForestClassifier(options).fit(X, y, classes.length) : new RandomForestRegressor(options).fit(X, y);
    }
  }
}
