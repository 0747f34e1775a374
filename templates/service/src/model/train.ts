// USER CODE: the model. The pipeline hands trainModel() the preprocessed training matrix and expects
// back a model it can evaluate and export to ONNX (see ./modelTypes.ts for the interface, and
// ./algorithms/ for the models this project can export). To serve a model trained elsewhere (scikit-learn,
// PyTorch), see "Bring your own ONNX" in the README instead.
//
// Contract:
//   trainModel(X, y, context)  X: one number[] per training row (the preprocessor's output);
//                              y: the class index into context.classes (classification) or the target value;
//                              returns a Classifier or Regressor (./modelTypes.ts) of the task in config.yaml
//   getClasses(labels)         every distinct label of the data, in the order of the model's probability columns
import type { Task } from '../spec/schema.js';
import { LinearRegressor } from './algorithms/linearRegression.js';
import { SoftmaxRegression } from './algorithms/softmaxRegression.js';
import type { TrainedModel } from './modelTypes.js';

export interface TrainingContext {
  task: Task;
  /** Class names (classification); empty for regression. */
  classes: readonly string[];
  /** The seed from config.yaml (training.seed), for models with randomness. */
  seed: number;
}

export function trainModel(X: number[][], y: number[], context: TrainingContext): TrainedModel {
  // Example: multinomial logistic regression for classification, least squares for regression.
  // Every model in ./algorithms/ exports to ONNX. For a random forest, import RandomForestClassifier and
  // RandomForestRegressor from './algorithms/randomForest.js' and return instead
  //   new RandomForestClassifier({ nEstimators: 100, seed: context.seed }).fit(X, y, context.classes.length)
  //   new RandomForestRegressor({ nEstimators: 100, seed: context.seed }).fit(X, y)
  // (one decision tree: DecisionTreeClassifier / DecisionTreeRegressor from './algorithms/decisionTree.js').
  if (context.task === 'classification') return new SoftmaxRegression().fit(X, y, context.classes.length);
  return new LinearRegressor().fit(X, y);
  // End Example
}

export function getClasses(labels: readonly string[]): string[] {
  // Example: the distinct labels of the training data, sorted.
  return [...new Set(labels)].sort();
  // End Example
}
