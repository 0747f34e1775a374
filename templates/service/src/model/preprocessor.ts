// USER CODE: turns validated feature rows into the numeric matrix the model is trained on and predicts
// from. The same class, with the state learned in fit() and saved to model_bin/preprocessor.json, runs
// in serving, so training and serving can never disagree about the encoding.
//
// Contract (the pipeline and the service rely on it; keep the method names and signatures):
//   fit(rows)        learn the state from the training rows only (never from holdout rows)
//   transform(rows)  one number[] per row, always of length outputSize
//   toJSON()         the learned state as plain JSON; Preprocessor.fromJSON(features, state) restores it
// Rows contain every feature of features.yaml (optional ones may be undefined) and never the target.
import type { FeatureValues } from '../spec/requestSchema.js';
import type { Feature } from '../spec/schema.js';
import { encode, encoderColumns, encoderWidth, fitDefaultEncoder, type ColumnEncoder } from './preprocessing.js';

export interface PreprocessorState {
  encoders: ColumnEncoder[];
}

export class Preprocessor {
  private encoders: ColumnEncoder[] = [];

  constructor(private readonly features: readonly Feature[]) {}

  fit(rows: readonly FeatureValues[]): this {
    // Example: standardize numbers, one-hot encode categories, booleans as 0/1; string features are
    // left out (encode them yourself, e.g. with a hashing trick, if they matter). Missing optional values
    // are imputed with the feature's default from features.yaml, else a statistic of the training rows.
    this.encoders = this.features.flatMap(
      (feature) =>
        fitDefaultEncoder(
          feature,
          rows.map((row) => row[feature.name]),
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

  transform(rows: readonly FeatureValues[]): number[][] {
    return rows.map((row) => {
      const out = new Array<number>(this.outputSize);
      let offset = 0;
      for (const encoder of this.encoders) {
        encode(encoder, row[encoder.feature], out, offset);
        offset += encoderWidth(encoder);
      }
      return out;
    });
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
