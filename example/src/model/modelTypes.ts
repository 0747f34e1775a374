// What the training pipeline expects back from trainModel(): a model it can evaluate in-process and
// export to ONNX. Every model this project ships (src/model/algorithms/) implements one of these.
//
// ONNX contract of the graphs this project exports (a model trained elsewhere may differ: see
// src/model/onnxSignature.ts for what the service accepts):
//   input  "features"      tensor(float) or tensor(double) [N, F], F = the preprocessor's output width
//                          (tree models take double so that no threshold comparison is rounded)
//   classification outputs: "label" tensor(int64) [N] (class index), "probabilities" tensor(float) [N, C]
//   regression output:      "prediction" tensor(float) [N, 1]

export interface Classifier {
  readonly task: 'classification';
  /** A short name saved in model.json, e.g. "randomForestClassifier". */
  readonly algorithm: string;
  /** Class-probability rows, one per input row; columns follow the class order given at training. */
  predictProba(X: number[][]): number[][];
  /** The serialized ONNX ModelProto. */
  toOnnx(): Uint8Array;
}

export interface Regressor {
  readonly task: 'regression';
  readonly algorithm: string;
  predict(X: number[][]): number[];
  toOnnx(): Uint8Array;
}

export type TrainedModel = Classifier | Regressor;

export const ONNX_INPUT = 'features';
export const ONNX_LABEL = 'label';
export const ONNX_PROBABILITIES = 'probabilities';
export const ONNX_PREDICTION = 'prediction';

/** The index of the largest value, the first one on a tie (as ONNX ArgMax does): the predicted class. */
export function classIndex(probabilities: ArrayLike<number>): number {
  return classIndexAt(probabilities, 0, probabilities.length);
}

/** classIndex of the `count` values from `start` (one row of a rows × classes output), counted from `start`. */
export function classIndexAt(scores: ArrayLike<number>, start: number, count: number): number {
  let best = 0;
  for (let c = 1; c < count; c++) if (scores[start + c]! > scores[start + best]!) best = c;
  return best;
}
