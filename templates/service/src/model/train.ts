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
import type { AlgorithmConfig, Task } from '../contract/index.js';
import { trainBuiltInModel } from './builtInModels.js';
import type { TrainedModel } from './modelTypes.js';

export interface TrainingContext {
  task: Task;
  /** Class names (classification); empty for regression. */
  classes: readonly string[];
  /** The seed from config.yaml (training.seed), for models with randomness. */
  seed: number;
  /** The built-in model config.yaml chooses (training.algorithm) and its hyper-parameters. */
  algorithm: AlgorithmConfig;
  /** Reports progress (done, total), e.g. trees of a forest; `npm run train` shows it on a terminal. */
  onProgress?: (done: number, total: number) => void;
}

export function trainModel(X: number[][], y: number[], context: TrainingContext): TrainedModel {
  // Example: the built-in model config.yaml names in training.algorithm (linear, decision_tree or
  // random_forest, with their hyper-parameters). For a custom model, return your own Classifier or
  // Regressor here instead; every model in ./algorithms/ exports to ONNX.
  return trainBuiltInModel(X, y, context);
  // End Example
}

export function getClasses(labels: readonly string[]): string[] {
  // Example: the distinct labels of the training data, sorted.
  return [...new Set(labels)].sort();
  // End Example
}
