// Input checks shared by the models: a bad matrix (ragged rows, NaN from a missing value) or label would
// otherwise train silently into NaN weights or predict garbage.

/** Checks that X is a non-empty matrix of finite numbers and returns its width. */
export function featureWidth(X: readonly (readonly number[])[], expectedWidth?: number): number {
  const width = expectedWidth ?? X[0]?.length ?? 0;
  if (X.length === 0 || width === 0) throw new RangeError('the feature matrix has no rows or no columns');
  X.forEach((row, r) => {
    if (row.length !== width) throw new RangeError(`feature row ${r} has ${row.length} values, expected ${width}`);
    row.forEach((value, c) => {
      if (!Number.isFinite(value)) throw new RangeError(`feature row ${r}, column ${c} is not a finite number: ${value}`);
    });
  });
  return width;
}

/** Checks a label vector of class indexes 0 … classCount−1 against X. */
export function checkClassLabels(y: readonly number[], rowCount: number, classCount: number): void {
  if (!Number.isInteger(classCount) || classCount < 2) throw new RangeError(`classCount must be an integer ≥ 2, got ${classCount}`);
  if (y.length !== rowCount) throw new RangeError(`X has ${rowCount} rows but y has ${y.length} labels`);
  y.forEach((label, r) => {
    if (!Number.isInteger(label) || label < 0 || label >= classCount) {
      throw new RangeError(`label ${r} is ${label}; expected a class index 0…${classCount - 1}`);
    }
  });
}

/** Checks a regression target vector against X. */
export function checkTargets(y: readonly number[], rowCount: number): void {
  if (y.length !== rowCount) throw new RangeError(`X has ${rowCount} rows but y has ${y.length} targets`);
  if (!y.every(Number.isFinite)) throw new RangeError('every target must be a finite number');
}

/** Row-major copy of X, the layout the training loops and ONNX initializers use. */
export function flatten(X: readonly (readonly number[])[], width: number): Float64Array {
  const flat = new Float64Array(X.length * width);
  X.forEach((row, r) => flat.set(row, r * width));
  return flat;
}
