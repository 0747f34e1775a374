// What the training pipeline expects back from trainModel(): a model it can evaluate in-process and
// export to ONNX. Every model this project ships (src/model/algorithms/) implements one of these.
//
// ONNX contract of the exported graph (the predictor relies on it; bring-your-own models follow it too):
//   input  "features"      tensor(float) [N, F]   F = the preprocessor's output width
//   classification outputs: "label" tensor(int64) [N] (class index), "probabilities" tensor(float) [N, C]
//   regression output:      "prediction" tensor(float) [N, 1]

export interface Classifier {
  readonly task: 'classification';
  /** Class-probability rows, one per input row; columns follow the class order given at training. */
  predictProba(X: number[][]): number[][];
  /** The serialized ONNX ModelProto. */
  toOnnx(): Uint8Array;
}

export interface Regressor {
  readonly task: 'regression';
  predict(X: number[][]): number[];
  toOnnx(): Uint8Array;
}

export type TrainedModel = Classifier | Regressor;

export const ONNX_INPUT = 'features';
export const ONNX_LABEL = 'label';
export const ONNX_PROBABILITIES = 'probabilities';
export const ONNX_PREDICTION = 'prediction';
