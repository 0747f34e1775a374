// USER CODE: turns validated feature rows into the numeric matrix the model is trained on and predicts
// from. The same class, with the state learned in fit() and saved to model_bin/preprocessor.json, runs
// in serving, so training and serving can never disagree about the encoding.
//
// Contract (the pipeline and the service rely on it; keep the method names and signatures):
//   new Preprocessor(features)   the features of features.yaml, in order
//   fit(rows)                    learn the state from the training rows only (never from holdout rows)
//   transform(rows)              one number[] per row, each of length outputSize, every value finite
//   transformInto(batch, out)    optional, for serving: the same numbers as transform(), written straight into
//                                the model's input (row r at out[r * outputSize …]) without an array per row;
//                                the batch is read by column: batch.column(name) holds a feature's values in
//                                row order (read it by index: a Float64Array when they are all numbers),
//                                batch.rowCount how many rows there are.
//                                If you change transform(), change it alike or delete it (the service then
//                                uses transform()); the service refuses a model whose two disagree.
//   outputSize, outputColumns    the width of a transformed row and its column names (saved in model.json)
//   columnFeatures               the features.yaml feature each output column comes from (explanations add the
//                                columns' contributions up per feature; without it the service cannot explain)
//   toJSON()                     the learned state as plain JSON (model_bin/<version>/preprocessor.json);
//                                Preprocessor.fromJSON(features, state) restores it in the service
// Rows contain every feature of features.yaml (a missing optional one is undefined) and never the target.
import type { FeatureColumns, FeatureValues, Feature } from '../contract/index.js';
import {
  encodeRows,
  encodeColumnsInto,
  encoderColumns,
  encoderWidth,
  fitDefaultEncoder,
  type ColumnEncoder,
  type DefaultEncoderOptions,
} from './preprocessing.js';

export interface PreprocessorState {
  encoders: ColumnEncoder[];
}

export class Preprocessor {
  private encoders: ColumnEncoder[] = [];

  constructor(private readonly features: readonly Feature[]) {}

  fit(rows: readonly FeatureValues[]): this {
    // Example: standardize numbers, one-hot encode categories, booleans as 0/1; string features are left
    // out. A missing optional value becomes the feature's default from features.yaml, else the training
    // mean (numbers), most frequent value (categories) or share of true (booleans). Adjust with options
    // (src/model/preprocessing.ts), e.g. { numeric: { scaling: 'none' } } for tree models,
    // { numeric: { impute: 'median' } }, { category: { unknown: 'error' } }, or
    // { string: { maxCategories: 20 } } to one-hot the 20 most frequent values of string features.
    const options: DefaultEncoderOptions = {};
    this.encoders = this.features.flatMap(
      (feature) =>
        fitDefaultEncoder(
          feature,
          rows.map((row) => row[feature.name]),
          options,
        ) ?? [],
    );
    // End Example
    return this;
  }

  /** Width of each transformed row: the model's input size. */
  get outputSize(): number {
    return this.encoders.reduce((width, encoder) => width + encoderWidth(encoder), 0);
  }

  /** Names of the output columns, in order (saved in model.json for explainability). */
  get outputColumns(): string[] {
    return this.encoders.flatMap(encoderColumns);
  }

  /** The feature each output column comes from, in order (a one-hot feature's columns all name it). */
  get columnFeatures(): string[] {
    return this.encoders.flatMap((encoder) => encoderColumns(encoder).map(() => encoder.feature));
  }

  transform(rows: readonly FeatureValues[]): number[][] {
    return encodeRows(this.encoders, rows);
  }

  transformInto(batch: FeatureColumns, out: Float32Array | Float64Array): void {
    encodeColumnsInto(this.encoders, batch, out);
  }

  toJSON(): PreprocessorState {
    return { encoders: this.encoders };
  }

  static fromJSON(features: readonly Feature[], state: PreprocessorState): Preprocessor {
    const preprocessor = new Preprocessor(features);
    preprocessor.encoders = state.encoders;
    return preprocessor;
  }
}
