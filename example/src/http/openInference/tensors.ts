// From the protocol's tensors to validated feature rows, and from predictions back to tensors. Two input
// conventions, as V2 clients send them:
// - tabular: one input per feature, named as in features.yaml, shape [N] or [N, 1], datatype by the feature's type
//   (numbers any FP/INT type, booleans BOOL, categories and strings BYTES); an optional feature may be left out;
// - for specs whose features are all numeric: a single [N, F] tensor of any name, columns in features.yaml order,
//   data nested by row or flat row-major (KServe's scikit-learn examples).
// The tensors are checked here (shapes, datatypes, element types); the values are then checked a column at a time
// with /predict/batch's own rules (contract/requestSchema.ts columnsCheck) and go on as columns (FeatureTable); a
// request that fails them goes through /predict's schema row by row, which words the 400: both routes take the
// same values.
import type { z } from 'zod';
import {
  FeatureTable,
  fieldIssues,
  isRequestId,
  MAX_LISTED_ISSUES,
  ownValue,
  type Feature,
  type FeatureValues,
  type FieldIssue,
  type RequestSchemas,
  type Spec,
} from '../../contract/index.js';
import type { Explanation } from '../../model/explanation/explainer.js';
import type { ModelIdentity } from '../../model/modelIdentity.js';
import { classIndexAt } from '../../model/modelTypes.js';
import type { ModelOutputs, Prediction } from '../../runtime/predictor.js';
import { idList, rowIds, type RowIds } from '../../runtime/uniqueIds.js';
import { numberJson } from '../../runtime/wireFormat.js';
import type { Datatype, InferenceRequest, openInferenceAnswers, RequestInput } from './protocol.js';

type ModelMetadata = z.output<typeof openInferenceAnswers.ModelMetadataResponse>;
type Tensor = z.output<typeof openInferenceAnswers.InferenceResponse>['outputs'][number];

/** The whole numbers each integer datatype holds (INT64/UINT64 as far as a JSON number is exact about it). */
const INTEGER_RANGES: Partial<Record<Datatype, readonly [number, number]>> = {
  INT8: [-(2 ** 7), 2 ** 7 - 1],
  INT16: [-(2 ** 15), 2 ** 15 - 1],
  INT32: [-(2 ** 31), 2 ** 31 - 1],
  INT64: [-(2 ** 63), 2 ** 63],
  UINT8: [0, 2 ** 8 - 1],
  UINT16: [0, 2 ** 16 - 1],
  UINT32: [0, 2 ** 32 - 1],
  UINT64: [0, 2 ** 64],
};
const FLOATS: readonly Datatype[] = ['FP16', 'FP32', 'FP64'];
const NUMBERS: readonly Datatype[] = [...FLOATS, ...(Object.keys(INTEGER_RANGES) as Datatype[])];

/** The datatypes an input for the feature may have; the first is the one the model metadata states. */
function datatypesOf(feature: Pick<Feature, 'type'>): readonly Datatype[] {
  switch (feature.type) {
    case 'number':
      return ['FP64', ...NUMBERS.filter((type) => type !== 'FP64')];
    case 'integer':
      // A whole number sent as FP64 is accepted: features.yaml's rule (an integer) is checked on the value.
      return ['INT64', ...NUMBERS.filter((type) => type !== 'INT64')];
    case 'boolean':
      return ['BOOL'];
    case 'category':
    case 'string':
      return ['BYTES'];
  }
}

/** Whether `value` is an element of a `datatype` tensor. null is: it means missing, as in /predict. */
function elementCheck(datatype: Datatype): (value: unknown) => boolean {
  if (datatype === 'BOOL') return (value) => value === null || typeof value === 'boolean';
  if (datatype === 'BYTES') return (value) => value === null || typeof value === 'string';
  const range = INTEGER_RANGES[datatype];
  if (!range) return (value) => value === null || typeof value === 'number';
  const [min, max] = range;
  return (value) => value === null || (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max);
}

/** Why `value` is not an element of a `datatype` tensor (elementCheck refused it). */
function elementProblem(datatype: Datatype, value: unknown): string {
  const got = `got ${(JSON.stringify(value) ?? String(value)).slice(0, 60)}`;
  if (datatype === 'BOOL') return `expected true or false (BOOL), ${got}`;
  if (datatype === 'BYTES') return `expected a string (BYTES), ${got}`;
  const range = INTEGER_RANGES[datatype];
  if (typeof value !== 'number' || !range) return `expected a number (${datatype}), ${got}`;
  return `expected a whole number from ${range[0]} to ${range[1]} (${datatype}), ${got}`;
}

/** The outputs of a classification model; a regression model has `prediction` only. Both answer the id field on request. */
const PREDICTION = 'prediction';
const PROBABILITIES = 'probabilities';

/** What a valid request asks for: the rows by column (defaults filled in), their ids, and the outputs. */
export interface DecodedRequest {
  table: FeatureTable;
  ids: RowIds;
  outputs: readonly string[];
}

/** Why a request cannot be answered: the failing tensors, elements or fields (the first 100) and how many fail. */
export interface InvalidRequest {
  message: string;
  issues: FieldIssue[];
  count: number;
}

/** Issues as a 400 lists them: every one counted, the first MAX_LISTED_ISSUES kept. */
class IssueList {
  readonly issues: FieldIssue[] = [];
  count = 0;
  add(field: string, message: string): void {
    this.count++;
    if (this.issues.length < MAX_LISTED_ISSUES) this.issues.push({ field, message });
  }
  invalid(what: string): InvalidRequest {
    const listed = this.count > this.issues.length ? ` (the first ${this.issues.length} are listed)` : '';
    return {
      message: `${what}: ${this.count} problem${this.count === 1 ? '' : 's'}${listed}`,
      issues: this.issues,
      count: this.count,
    };
  }
}

/** An input's elements in row-major order: flat already, or nested by row (one level, for [N, F]). */
function elements(input: RequestInput): unknown[] {
  return input.shape.length > 1 ? input.data.flat(input.shape.length - 1) : input.data;
}

export class TensorCodec {
  private readonly features: readonly Feature[];
  private readonly featureNames: readonly string[];
  private readonly byName: ReadonlyMap<string, Feature>;
  private readonly idField: string;
  private readonly classification: boolean;
  /** Every feature is a number or an integer: a single [N, F] tensor is accepted too. */
  private readonly allNumeric: boolean;
  private readonly rejectUnknown: boolean;
  private readonly maxRows: number;

  constructor(
    private readonly spec: Spec,
    private readonly schemas: RequestSchemas,
  ) {
    const { config } = spec;
    this.features = spec.features.features;
    this.featureNames = this.features.map((feature) => feature.name);
    this.byName = new Map(this.features.map((feature) => [feature.name, feature]));
    this.idField = config.id_field;
    this.classification = config.task === 'classification';
    this.allNumeric = this.features.every((feature) => feature.type === 'number' || feature.type === 'integer');
    this.rejectUnknown = config.server.unknown_fields === 'reject';
    this.maxRows = config.server.max_batch_rows;
  }

  /** The outputs an answer can hold, the default ones first: all of those are sent when the request names none. */
  get outputNames(): { defaults: string[]; all: string[] } {
    const defaults = this.classification ? [PREDICTION, PROBABILITIES] : [PREDICTION];
    return { defaults, all: [...defaults, this.idField] };
  }

  /** The request's rows, validated against features.yaml as /predict validates a row, or why it is invalid. */
  decode(request: InferenceRequest): { request: DecodedRequest } | { invalid: InvalidRequest } {
    const issues = new IssueList();
    const { defaults, all } = this.outputNames;
    // No outputs named (or an empty list): all of the model's.
    const outputs = request.outputs?.length ? request.outputs.map((output) => output.name) : defaults;
    outputs.forEach((name, i) => {
      if (!all.includes(name)) issues.add(`outputs[${i}].name`, `unknown output ${JSON.stringify(name)}; this model has ${all.join(', ')}`);
      else if (outputs.indexOf(name) !== i) issues.add(`outputs[${i}].name`, `${name} is asked for twice`);
    });

    const inputs = new Map<string, RequestInput>();
    const unknown: RequestInput[] = [];
    request.inputs.forEach((input, i) => {
      if (inputs.has(input.name)) issues.add(`inputs[${i}].name`, `a second input named ${JSON.stringify(input.name)}`);
      else if (this.byName.has(input.name) || input.name === this.idField) inputs.set(input.name, input);
      else unknown.push(input);
    });
    // A single tensor whose name is no feature's, of two dimensions: the [N, F] convention.
    const matrix =
      this.allNumeric && unknown.length === 1 && [...inputs.keys()].every((name) => name === this.idField) ? unknown[0] : undefined;
    if (matrix && matrix.shape.length !== 2) {
      issues.add(matrix.name, this.unknownInput(matrix.name, `shape [${matrix.shape.join(', ')}]`));
    } else if (!matrix) {
      if (this.rejectUnknown) for (const input of unknown) issues.add(input.name, this.unknownInput(input.name));
      // One issue per missing input, rather than one per row.
      for (const feature of this.features) {
        if (feature.required && !inputs.has(feature.name))
          issues.add(feature.name, `required input is missing (a ${feature.type} feature: shape [N], datatype ${datatypesOf(feature)[0]})`);
      }
    }
    if (issues.count) return { invalid: issues.invalid('The request does not fit the model') };

    const checked = matrix ? [matrix, ...inputs.values()] : [...inputs.values()];
    const rowCount = this.checkTensors(checked, matrix, issues);
    if (issues.count) return { invalid: issues.invalid('The tensors do not fit the model') };

    // A column per feature: an input's elements as they are, or the [N, F] tensor's split by feature.
    const columns = new Map<string, unknown[]>();
    const width = this.features.length;
    if (matrix) {
      const data = elements(matrix);
      this.features.forEach((feature, c) => {
        const column = new Array<unknown>(rowCount);
        for (let r = 0; r < rowCount; r++) column[r] = data[r * width + c];
        columns.set(feature.name, column);
      });
    } else for (const [name, input] of inputs) if (name !== this.idField) columns.set(name, elements(input));
    const idInput = inputs.get(this.idField);
    const idColumn = idInput && elements(idInput);
    // /predict/batch's rules, a column at a time (filling in defaults); the ids are checked beside them.
    const accepted = (!idColumn || idColumn.every(isRequestId)) && this.schemas.acceptColumns(columns, rowCount);
    if (accepted) {
      const table = FeatureTable.fromColumns(this.featureNames, rowCount, accepted);
      // Without ids, a block of made-up ones, written out only if read.
      if (!idColumn) return { request: { table, ids: rowIds.block(rowCount), outputs } };
      const ids = new Array<unknown>(rowCount);
      for (let r = 0; r < rowCount; r++) ids[r] = idColumn[r] ?? rowIds.next();
      return { request: { table, ids, outputs } };
    }

    // A value fails its feature's rule: the rows, with their ids, go through /predict's schema, which words the 400.
    // Every feature an own key of its row (undefined when left out), so a name such as constructor never reads
    // Object.prototype's.
    const rows: FeatureValues[] = [];
    for (let r = 0; r < rowCount; r++) {
      const row: Record<string, unknown> = {};
      for (const { name } of this.features) row[name] = columns.get(name)?.[r];
      if (idColumn) row[this.idField] = idColumn[r];
      rows.push(row as FeatureValues);
    }
    const parsed = this.schemas.batchRequest.safeParse({ rows });
    if (!parsed.success) {
      // rows[r].name → the element it came from: name[r] (an input per feature) or matrix[r].name (one tensor).
      const located = parsed.error.issues.map((issue) => {
        const [top, r, name, ...rest] = issue.path;
        if (top !== 'rows' || typeof r !== 'number' || typeof name !== 'string') return issue;
        return { ...issue, path: matrix && name !== this.idField ? [matrix.name, r, name, ...rest] : [name, r, ...rest] };
      });
      const body = matrix
        ? { [matrix.name]: rows, [this.idField]: idColumn }
        : Object.fromEntries([...inputs].map(([name, input]) => [name, elements(input)]));
      const found = fieldIssues({ issues: located }, body);
      for (const issue of found.issues) issues.add(issue.field, issue.message);
      issues.count += found.count - found.issues.length;
      return { invalid: issues.invalid('The request is invalid') };
    }
    // Not reached while acceptColumns accepts what the schema accepts; kept so that a disagreement costs speed, not answers.
    const parsedRows = parsed.data.rows;
    return {
      request: {
        table: FeatureTable.fromRows(
          this.featureNames,
          parsedRows.map((row) => this.featuresOf(row)),
        ),
        ids: parsedRows.map((row) => ownValue(row, this.idField) ?? rowIds.next()),
        outputs,
      },
    };
  }

  /** Checks every tensor's shape, datatype and elements; returns the number of rows they agree on. */
  private checkTensors(inputs: readonly RequestInput[], matrix: RequestInput | undefined, issues: IssueList): number {
    const rowCounts = new Set<number>();
    for (const input of inputs) {
      const { name, shape, datatype } = input;
      const expected = input === matrix ? this.features.length : 1;
      const described = `shape [${shape.join(', ')}]`;
      if (shape.length === 0 || shape.length > 2 || (shape.length === 2 && shape[1] !== expected)) {
        const wanted = input === matrix ? `[N, ${expected}] (N rows, a column per feature in features.yaml order)` : '[N] or [N, 1]';
        issues.add(name, `${described}: expected ${wanted}`);
        continue;
      }
      const allowed: readonly Datatype[] =
        input === matrix ? NUMBERS : name === this.idField ? ['BYTES'] : datatypesOf(this.byName.get(name)!);
      if (!allowed.includes(datatype)) {
        const what = input === matrix ? 'numbers' : name === this.idField ? 'ids' : `a ${this.byName.get(name)!.type} feature`;
        issues.add(
          name,
          `datatype ${datatype} cannot carry ${what}: send ${allowed[0]}${allowed.length > 1 ? ` (or ${allowed.slice(1).join(', ')})` : ''}`,
        );
        continue;
      }
      const data = elements(input);
      const size = shape.reduce((product, n) => product * n, 1);
      if (data.length !== size) {
        issues.add(name, `${described} holds ${size} values, data has ${data.length}`);
        continue;
      }
      const isElement = elementCheck(datatype);
      for (let i = 0; i < data.length; i++) {
        if (isElement(data[i])) continue;
        const field = input === matrix ? `${name}[${Math.floor(i / expected)}][${i % expected}]` : `${name}[${i}]`;
        issues.add(field, elementProblem(datatype, data[i]));
      }
      rowCounts.add(shape[0]!);
    }
    if (issues.count) return 0;
    if (rowCounts.size > 1) issues.add('inputs', `the inputs disagree on the number of rows: ${[...rowCounts].join(', ')}`);
    const [rowCount = 0] = rowCounts;
    if (rowCount === 0) issues.add('inputs', 'no rows: the first dimension of the shapes is 0');
    if (rowCount > this.maxRows) issues.add('inputs', `${rowCount} rows, more than ${this.maxRows} (config.yaml server.max_batch_rows)`);
    return rowCount;
  }

  private unknownInput(name: string, why = 'not a feature of features.yaml'): string {
    const names = this.features.map((feature) => feature.name);
    const alternative = this.allNumeric ? `, or a single [N, ${names.length}] tensor of them in this order` : '';
    return `unknown input ${JSON.stringify(name)} (${why}); send one input per feature (${names.join(', ')})${alternative}`;
  }

  /** The row's features only, each an own key (undefined when left out): what /predict passes to the runtime. */
  private featuresOf(row: FeatureValues): FeatureValues {
    const features: FeatureValues = {};
    for (const { name } of this.features) features[name] = ownValue(row, name);
    return features;
  }

  /** The answer's JSON: the outputs asked for, as tensors, for the model that answered. */
  answerJson(
    {
      results,
      ids,
      model,
      explanations,
    }: { results: readonly Prediction[]; ids: readonly unknown[]; model: ModelIdentity; explanations?: readonly Explanation[] },
    { id, outputs, classes }: { id: string; outputs: readonly string[]; classes: readonly string[] },
  ): string {
    const tensors = outputs.map((name): Tensor => {
      const n = results.length;
      if (name === PROBABILITIES) {
        const data: number[] = [];
        for (const { probabilities } of results) for (const label of classes) data.push(probabilities![label]!);
        return { name, shape: [n, classes.length], datatype: 'FP32', data };
      }
      if (name === PREDICTION) {
        return { name, shape: [n], datatype: this.classification ? 'BYTES' : 'FP64', data: results.map((result) => result.prediction) };
      }
      return { name, shape: [n], datatype: 'BYTES', data: ids.map(String) };
    });
    if (explanations) tensors.push(...this.explanationTensors(explanations));
    return JSON.stringify({ model_name: this.spec.config.name, model_version: model.version, id, outputs: tensors });
  }

  /**
   * answerJson's text written from the model's outputs (the batch path: Predictions.predictBatch), without a
   * Prediction per row: the tensors' data straight from the typed arrays (a test holds the two to the same bytes).
   */
  outputsJson(
    { outputs: { rows, scores }, ids, model }: { outputs: ModelOutputs; ids: RowIds; model: ModelIdentity },
    { id, outputs, classes }: { id: string; outputs: readonly string[]; classes: readonly string[] },
  ): string {
    const tensor = (name: string, shape: readonly number[], datatype: Datatype, data: string) =>
      `{"name":${JSON.stringify(name)},"shape":[${shape.join(',')}],"datatype":"${datatype}","data":[${data}]}`;
    const numbers = (count: number) => {
      let data = '';
      for (let i = 0; i < count; i++) data += (i ? ',' : '') + numberJson(scores[i]!);
      return data;
    };
    const tensors = outputs.map((name) => {
      if (name === PROBABILITIES) return tensor(name, [rows, classes.length], 'FP32', numbers(rows * classes.length));
      if (name !== PREDICTION) return tensor(name, [rows], 'BYTES', JSON.stringify(idList(ids).map(String)).slice(1, -1));
      if (!this.classification) return tensor(name, [rows], 'FP64', numbers(rows));
      const names = classes.map((label) => JSON.stringify(label));
      let data = '';
      for (let r = 0; r < rows; r++) data += (r ? ',' : '') + names[classIndexAt(scores, r * classes.length, classes.length)]!;
      return tensor(name, [rows], 'BYTES', data);
    });
    const head = `{"model_name":${JSON.stringify(this.spec.config.name)},"model_version":${JSON.stringify(model.version)}`;
    return `${head},"id":${JSON.stringify(id)},"outputs":[${tensors.join(',')}]}`;
  }

  /**
   * parameters.explain: the rows' explanations as three tensors, after the outputs asked for: every feature's
   * contribution ([N, F], the features in the order parameters.features names), the base and the explained output
   * ([N]); the scale they add up on (logit, probability or value) and, for classification, the class explained
   * (the predicted one) are parameters.
   */
  private explanationTensors(explanations: readonly Explanation[]): Tensor[] {
    const names = this.features.map((feature) => feature.name);
    const n = explanations.length;
    const contributions: number[] = [];
    for (const explanation of explanations) for (const name of names) contributions.push(explanation.contributions[name]!);
    const scale = explanations[0]?.scale ?? (this.classification ? 'logit' : 'value');
    return [
      {
        name: 'explanation_contributions',
        shape: [n, names.length],
        datatype: 'FP64',
        parameters: { features: JSON.stringify(names), scale },
        data: contributions,
      },
      { name: 'explanation_base', shape: [n], datatype: 'FP64', parameters: { scale }, data: explanations.map((e) => e.base) },
      { name: 'explanation_output', shape: [n], datatype: 'FP64', parameters: { scale }, data: explanations.map((e) => e.output) },
    ];
  }

  /** GET /v2/models/{name}: the inputs (a tensor per feature) and the outputs, with the class order of the probabilities. */
  modelMetadata(model: ModelIdentity, classes: readonly string[]): ModelMetadata {
    const row = (name: string, datatype: Datatype, parameters?: Record<string, string | boolean>) => ({
      name,
      datatype,
      shape: [-1],
      ...(parameters ? { parameters } : {}),
    });
    return {
      name: this.spec.config.name,
      versions: [model.version],
      platform: 'onnx_onnxv1',
      inputs: this.features.map((feature) =>
        row(feature.name, datatypesOf(feature)[0]!, feature.required ? undefined : { optional: true }),
      ),
      outputs: this.classification
        ? [
            row(PREDICTION, 'BYTES'),
            // The protocol's parameters hold strings, numbers and booleans: the class list is one JSON string.
            { name: PROBABILITIES, datatype: 'FP32', shape: [-1, classes.length], parameters: { classes: JSON.stringify(classes) } },
          ]
        : [row(PREDICTION, 'FP64')],
    };
  }
}

/** An inference request in the tabular convention: an input per feature with a value in any row (null where a row has none). */
export function tabularRequest(features: readonly Feature[], rows: readonly FeatureValues[], id?: string): InferenceRequest {
  const inputs = features
    .filter((feature) => rows.some((row) => ownValue(row, feature.name) !== undefined))
    .map((feature) => ({
      name: feature.name,
      shape: [rows.length],
      datatype: datatypesOf(feature)[0]!,
      data: rows.map((row) => ownValue(row, feature.name) ?? null),
    }));
  return { ...(id === undefined ? {} : { id }), inputs };
}
