// Ordinary least squares with an intercept, solved as scikit-learn's LinearRegression does: centre X and
// y, take the minimum-norm least-squares solution of the centred system through the SVD pseudo-inverse,
// and recover the intercept from the means.
// Why not the normal equations (XᵀX)⁻¹Xᵀy, which ml-regression-multivariate-linear uses: collinear
// columns are routine here (a one-hot encoding of every category of a feature sums to the intercept
// column, a duplicated or derived feature), and XᵀX then is singular, or so ill-conditioned (its
// condition number is the square of X's) that the weights blow up. The pseudo-inverse drops the
// directions X does not determine and splits the weight evenly among collinear columns instead.
import { Matrix, pseudoInverse } from 'ml-matrix';
import { ONNX_INPUT, ONNX_PREDICTION, type Regressor } from '../modelTypes.js';
import { DataType, attr, encodeModel, floatTensor, node, tensorValueInfo } from '../../onnx/graphBuilder.js';
import { checkTargets, featureWidth } from './featureMatrix.js';

/** The fitted parameters, as saved by toJSON(). */
export interface LinearRegressorJson {
  algorithm: 'linearRegression';
  weights: number[];
  intercept: number;
}

interface Parameters {
  weights: number[];
  intercept: number;
}

export class LinearRegressor implements Regressor {
  readonly task = 'regression' as const;
  readonly algorithm = 'linearRegression';
  private parameters: Parameters | undefined;

  fit(X: readonly (readonly number[])[], y: readonly number[]): this {
    const featureCount = featureWidth(X);
    checkTargets(y, X.length);

    const features = new Matrix(X.map((row) => [...row]));
    const featureMeans = features.mean('column');
    const targetMean = y.reduce((sum, value) => sum + value, 0) / y.length;
    const centredFeatures = features.subRowVector(featureMeans);
    const centredTargets = Matrix.columnVector(y.map((value) => value - targetMean));
    const weights = pseudoInverse(centredFeatures).mmul(centredTargets).getColumn(0);

    let intercept = targetMean;
    for (let j = 0; j < featureCount; j++) intercept -= weights[j]! * featureMeans[j]!;
    this.parameters = { weights, intercept };
    return this;
  }

  predict(X: readonly (readonly number[])[]): number[] {
    const { weights, intercept } = this.fitted();
    featureWidth(X, weights.length);
    return X.map((row) => row.reduce((sum, value, j) => sum + weights[j]! * value, intercept));
  }

  /** Gemm(features, W[1,F], b[1], transB=1) → "prediction" [N, 1]. */
  toOnnx(): Uint8Array {
    const { weights, intercept } = this.fitted();
    return encodeModel({
      graphName: 'linear_regression',
      docString: 'Least-squares linear regression exported by generator-ml-microservice',
      inputs: [tensorValueInfo(ONNX_INPUT, DataType.FLOAT, ['N', weights.length])],
      outputs: [tensorValueInfo(ONNX_PREDICTION, DataType.FLOAT, ['N', 1])],
      initializers: [floatTensor('weights', [1, weights.length], weights), floatTensor('intercept', [1], [intercept])],
      nodes: [node('Gemm', [ONNX_INPUT, 'weights', 'intercept'], [ONNX_PREDICTION], { transB: attr.int(1) })],
      metadata: { algorithm: 'linearRegression' },
    });
  }

  toJSON(): LinearRegressorJson {
    const { weights, intercept } = this.fitted();
    return { algorithm: 'linearRegression', weights: [...weights], intercept };
  }

  static fromJSON(json: LinearRegressorJson): LinearRegressor {
    if (json.algorithm !== 'linearRegression' || !Number.isFinite(json.intercept)) {
      throw new RangeError('not a linearRegression model');
    }
    featureWidth([json.weights]);
    const model = new LinearRegressor();
    model.parameters = { weights: [...json.weights], intercept: json.intercept };
    return model;
  }

  private fitted(): Parameters {
    if (!this.parameters) throw new Error('LinearRegressor: call fit() (or fromJSON()) first');
    return this.parameters;
  }
}
