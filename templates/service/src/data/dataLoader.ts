// USER CODE: how training data is loaded. Replace the example with your own source (a database query,
// Parquet files, an API …). The pipeline calls loadData() once per training run and then checks every
// row against features.yaml, so a wrong column or type fails with the row number and field.
//
// Contract: return one object per example, keyed by feature name (as in features.yaml) plus the target
// column named in config.yaml (`target`): a class name for classification, a number for regression.
// Leave a missing optional feature undefined; the preprocessor imputes it.
import type { Spec } from '../contract/index.js';
import { readCsvRows, type TrainingRow } from './rows.js';

export async function loadData(spec: Spec): Promise<TrainingRow[]> {
  // Example: read the CSV file named by config.yaml (data.path), converting columns to the types in
  // features.yaml. Keep it if your data is a CSV with a header row.
  return readCsvRows(spec.config.data.path, spec.features.features, spec.config);
  // End Example
}
