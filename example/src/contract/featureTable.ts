// A batch of validated feature rows as the batch path moves it: by column. A V2 request arrives as columns (a
// tensor per feature) and a /predict/batch body as rows; either way the preprocessor, drift and the input ranges
// read one feature's values down the rows, and only the readers that want rows (the prediction log, a shadow
// model, a preprocessor without transformInto) have them built, once.
import type { FeatureColumn, FeatureValue, FeatureValues } from './requestSchema.js';

/** Validated rows read by column: what a preprocessor's transformInto() and monitoring take. */
export interface FeatureColumns {
  readonly rowCount: number;
  /** The values of a feature of features.yaml, in row order. */
  column(name: string): FeatureColumn;
}

export class FeatureTable implements FeatureColumns {
  private readonly columns = new Map<string, FeatureColumn>();

  private constructor(
    /** The features' names in features.yaml order: what a row built from the columns holds. */
    readonly featureNames: readonly string[],
    readonly rowCount: number,
    private rowList: readonly FeatureValues[] | undefined,
  ) {}

  /**
   * Rows as validation left them (read by feature name only: they may hold the id field), with the columns
   * already read from them, if any (the batch check reads each feature's values down the rows).
   */
  static fromRows(
    featureNames: readonly string[],
    rows: readonly FeatureValues[],
    columns?: ReadonlyMap<string, FeatureColumn>,
  ): FeatureTable {
    const table = new FeatureTable(featureNames, rows.length, rows);
    for (const [name, column] of columns ?? []) table.columns.set(name, column);
    return table;
  }

  /** A column per feature, each `rowCount` long (a feature without one is missing from every row). */
  static fromColumns(featureNames: readonly string[], rowCount: number, columns: ReadonlyMap<string, FeatureColumn>): FeatureTable {
    const table = new FeatureTable(featureNames, rowCount, undefined);
    for (const name of featureNames) {
      const column = columns.get(name);
      if (column && column.length !== rowCount) throw new Error(`column ${name} holds ${column.length} values for ${rowCount} rows`);
      table.columns.set(name, column ?? new Array<undefined>(rowCount));
    }
    return table;
  }

  column(name: string): FeatureColumn {
    let column = this.columns.get(name);
    if (!column) {
      const rows = this.rowList;
      if (!rows || !this.featureNames.includes(name)) throw new Error(`${name} is not a feature of this table`);
      const values = new Array<FeatureValue | undefined>(rows.length);
      let numbers = true;
      for (let r = 0; r < rows.length; r++) {
        const value = rows[r]![name];
        values[r] = value;
        if (typeof value !== 'number') numbers = false;
      }
      // Numbers are held as a Float64Array, as the batch check holds them (see FeatureColumn).
      this.columns.set(name, (column = numbers ? new Float64Array(values as number[]) : values));
    }
    return column;
  }

  /** The rows, built from the columns when first read: every feature an own key (undefined when missing). */
  get rows(): readonly FeatureValues[] {
    if (this.rowList) return this.rowList;
    const names = this.featureNames;
    const columns = names.map((name) => this.column(name));
    // A name such as constructor must be an own key, and __proto__ must not set the prototype.
    const bare = names.some((name) => name in Object.prototype);
    const rows = new Array<FeatureValues>(this.rowCount);
    for (let r = 0; r < this.rowCount; r++) {
      const row: FeatureValues = bare ? (Object.create(null) as FeatureValues) : {};
      for (let c = 0; c < names.length; c++) row[names[c]!] = columns[c]![r];
      rows[r] = row;
    }
    return (this.rowList = rows);
  }
}
