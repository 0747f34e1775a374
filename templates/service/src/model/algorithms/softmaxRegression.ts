// Multinomial logistic regression (softmax) with intercepts and an L2 penalty on the weights: the model
// scikit-learn fits with LogisticRegression(C=1.0, solver='lbfgs') on three or more classes, minimizing
//     Σ_rows −log p(y_row | x_row)  +  (l2 / 2) · ‖W‖²        (l2 = 1/C; intercepts are not penalized)
// with L-BFGS. ml-logistic-regression was not used: it trains one-vs-all sigmoids without intercepts by
// plain gradient descent, which fits worse and whose scores are not a probability distribution.
// With two classes this keeps two weight rows, which equals a logistic regression with C doubled.
import { ONNX_INPUT, ONNX_LABEL, ONNX_PROBABILITIES, classIndex, type Classifier } from '../modelTypes.js';
import { DataType, attr, encodeModel, floatTensor, node, tensorValueInfo } from '../../onnx/graphBuilder.js';
import { checkClassLabels, featureWidth, flatten } from './featureMatrix.js';
import { minimizeLbfgs, type LbfgsResult } from './lbfgs.js';

export interface SoftmaxRegressionOptions {
  /** L2 penalty on the weights, added to the summed log-loss; 1/C in scikit-learn's terms. Default 1. */
  l2?: number;
  /** Cap on L-BFGS iterations. Default 1000. */
  maxIterations?: number;
  /** Converged when every component of the per-row mean loss gradient is below this. Default 1e-6. */
  tolerance?: number;
}

/** The fitted parameters, as saved by toJSON(). */
export interface SoftmaxRegressionJson {
  algorithm: 'softmaxRegression';
  /** One row of feature weights per class. */
  weights: number[][];
  intercepts: number[];
}

export interface SoftmaxRegressionTraining {
  iterations: number;
  /** The penalized summed log-loss at the solution. */
  loss: number;
  stop: LbfgsResult['stop'];
}

interface Parameters {
  classCount: number;
  featureCount: number;
  /** Row-major [classCount, featureCount]. */
  weights: Float64Array;
  intercepts: Float64Array;
}

export class SoftmaxRegression implements Classifier {
  readonly task = 'classification' as const;
  readonly algorithm = 'softmaxRegression';
  private readonly l2: number;
  private readonly maxIterations: number;
  private readonly tolerance: number;
  private parameters: Parameters | undefined;
  /** How the last fit() ended: check `stop` when the data may be hard to fit. Undefined until fit(). */
  training: SoftmaxRegressionTraining | undefined;

  constructor(options: SoftmaxRegressionOptions = {}) {
    this.l2 = options.l2 ?? 1;
    this.maxIterations = options.maxIterations ?? 1000;
    this.tolerance = options.tolerance ?? 1e-6;
    if (!(this.l2 >= 0)) throw new RangeError(`l2 must be ≥ 0, got ${this.l2}`);
    if (!Number.isInteger(this.maxIterations) || this.maxIterations < 1) {
      throw new RangeError(`maxIterations must be a positive integer, got ${this.maxIterations}`);
    }
    if (!(this.tolerance > 0)) throw new RangeError(`tolerance must be > 0, got ${this.tolerance}`);
  }

  /** y holds class indices 0 … classCount−1, in the order of the probability columns. */
  fit(X: readonly (readonly number[])[], y: readonly number[], classCount: number): this {
    const featureCount = featureWidth(X);
    const rowCount = X.length;
    checkClassLabels(y, rowCount, classCount);

    const features = flatten(X, featureCount);
    const weightCount = classCount * featureCount;
    const logits = new Float64Array(classCount);
    const { l2 } = this;

    // θ = [W row-major | intercepts]. Returns the penalized loss, writes its gradient.
    const objective = (theta: Float64Array, gradient: Float64Array): number => {
      gradient.fill(0);
      let loss = 0;
      for (let r = 0; r < rowCount; r++) {
        const rowStart = r * featureCount;
        const logSumExp = computeLogits(theta, weightCount, features, rowStart, featureCount, logits);
        const label = y[r]!;
        loss += logSumExp - logits[label]!;
        for (let c = 0; c < classCount; c++) {
          // ∂loss/∂logit_c = p_c − [c = label]
          const residual = Math.exp(logits[c]! - logSumExp) - (c === label ? 1 : 0);
          gradient[weightCount + c] = gradient[weightCount + c]! + residual;
          const weightStart = c * featureCount;
          for (let j = 0; j < featureCount; j++) {
            gradient[weightStart + j] = gradient[weightStart + j]! + residual * features[rowStart + j]!;
          }
        }
      }
      for (let k = 0; k < weightCount; k++) {
        const w = theta[k]!;
        loss += 0.5 * l2 * w * w;
        gradient[k] = gradient[k]! + l2 * w;
      }
      return loss;
    };

    // The loss is a sum over rows, so the gradient grows with the row count; the tolerance is per row.
    const result = minimizeLbfgs(objective, new Float64Array(weightCount + classCount), {
      maxIterations: this.maxIterations,
      gradientTolerance: this.tolerance * rowCount,
    });
    this.parameters = {
      classCount,
      featureCount,
      weights: result.x.slice(0, weightCount),
      intercepts: result.x.slice(weightCount),
    };
    this.training = { iterations: result.iterations, loss: result.value, stop: result.stop };
    return this;
  }

  predictProba(X: readonly (readonly number[])[]): number[][] {
    const { classCount, featureCount, weights, intercepts } = this.fitted();
    featureWidth(X, featureCount);
    const theta = new Float64Array(weights.length + classCount);
    theta.set(weights);
    theta.set(intercepts, weights.length);
    const logits = new Float64Array(classCount);
    return X.map((row) => {
      const logSumExp = computeLogits(theta, weights.length, row, 0, featureCount, logits);
      return Array.from(logits, (logit) => Math.exp(logit - logSumExp));
    });
  }

  /** The most probable class index per row (the first one on a tie, as ONNX ArgMax does). */
  predict(X: readonly (readonly number[])[]): number[] {
    return this.predictProba(X).map(classIndex);
  }

  /** Gemm(features, W, b, transB=1) → Softmax(axis=1) → "probabilities"; ArgMax(axis=1) → "label". */
  toOnnx(): Uint8Array {
    const { classCount, featureCount, weights, intercepts } = this.fitted();
    return encodeModel({
      graphName: 'softmax_regression',
      docString: 'Multinomial logistic regression exported by generator-ml-microservice',
      inputs: [tensorValueInfo(ONNX_INPUT, DataType.FLOAT, ['N', featureCount])],
      outputs: [tensorValueInfo(ONNX_LABEL, DataType.INT64, ['N']), tensorValueInfo(ONNX_PROBABILITIES, DataType.FLOAT, ['N', classCount])],
      initializers: [floatTensor('weights', [classCount, featureCount], weights), floatTensor('intercepts', [classCount], intercepts)],
      nodes: [
        node('Gemm', [ONNX_INPUT, 'weights', 'intercepts'], ['logits'], { transB: attr.int(1) }),
        node('Softmax', ['logits'], [ONNX_PROBABILITIES], { axis: attr.int(1) }),
        // ArgMax over the probabilities (not the logits) so the label always agrees with them, even
        // where float32 rounding makes two probabilities equal.
        node('ArgMax', [ONNX_PROBABILITIES], [ONNX_LABEL], { axis: attr.int(1), keepdims: attr.int(0) }),
      ],
      metadata: { algorithm: 'softmaxRegression' },
    });
  }

  toJSON(): SoftmaxRegressionJson {
    const { classCount, featureCount, weights, intercepts } = this.fitted();
    return {
      algorithm: 'softmaxRegression',
      weights: Array.from({ length: classCount }, (_, c) => Array.from(weights.subarray(c * featureCount, (c + 1) * featureCount))),
      intercepts: Array.from(intercepts),
    };
  }

  static fromJSON(json: SoftmaxRegressionJson): SoftmaxRegression {
    const classCount = json.weights.length;
    if (json.algorithm !== 'softmaxRegression' || classCount < 2 || json.intercepts.length !== classCount) {
      throw new RangeError('not a softmaxRegression model: expected ≥ 2 weight rows and one intercept per row');
    }
    const featureCount = featureWidth(json.weights);
    const model = new SoftmaxRegression();
    model.parameters = {
      classCount,
      featureCount,
      weights: flatten(json.weights, featureCount),
      intercepts: Float64Array.from(json.intercepts),
    };
    return model;
  }

  private fitted(): Parameters {
    if (!this.parameters) throw new Error('SoftmaxRegression: call fit() (or fromJSON()) first');
    return this.parameters;
  }
}

/**
 * Fills `logits` with W·x + b for the row of `features` starting at `rowStart`, where θ holds W
 * row-major in its first `weightCount` entries followed by b, and returns log Σ exp(logits),
 * computed from the largest logit so that exp() cannot overflow.
 */
function computeLogits(
  theta: ArrayLike<number>,
  weightCount: number,
  features: ArrayLike<number>,
  rowStart: number,
  featureCount: number,
  logits: Float64Array,
): number {
  let max = -Infinity;
  for (let c = 0; c < logits.length; c++) {
    let z = theta[weightCount + c]!;
    const weightStart = c * featureCount;
    for (let j = 0; j < featureCount; j++) z += theta[weightStart + j]! * features[rowStart + j]!;
    logits[c] = z;
    if (z > max) max = z;
  }
  let sumExp = 0;
  for (let c = 0; c < logits.length; c++) sumExp += Math.exp(logits[c]! - max);
  return max + Math.log(sumExp);
}
