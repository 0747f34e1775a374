// Why a model answers what it answers: each feature's contribution to one prediction, exact for the built-in
// models, so that base + Σ contributions = the explained output.
//   linear and logistic regression   contribution of column j = w_j · (x_j − mean_j): the base is the model at the
//                                    training mean of its input columns (for a class: that class's logit)
//   decision trees and forests       path-dependent TreeSHAP (./treeShap.ts): the base is the mean prediction
//                                    over the training rows
// The model's parameters come from its ONNX graph (./onnxGraph.ts), what the service runs; what the graph does not
// hold (the training columns' means, how many training rows reach each tree node) training writes beside it into
// explainer.json. Contributions are per input column of the model, then added up per feature of features.yaml
// through the Preprocessor's `columnFeatures` (a one-hot feature's columns, a scaled number's column).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Feature } from '../../contract/index.js';
import { sha256 } from '../artifacts.js';
import { classIndex } from '../modelTypes.js';
import { readExplainableGraph, UnrecognisedGraphError, type ExplainableGraph, type LinearGraph, type TreeGraph } from './onnxGraph.js';
import { addTreeShap, childFor, expectedValue, isLeaf, leafFor } from './treeShap.js';

/** In a model's version folder, beside model.onnx. */
export const EXPLAINER_FILE = 'explainer.json';

/**
 * The units the contributions add up in: a classifier's logit (log-score before the softmax) for the class
 * explained, a tree classifier's probability of it, or the regression value.
 */
export type ExplanationScale = 'logit' | 'probability' | 'value';

export interface Explanation {
  scale: ExplanationScale;
  /** Classification: the class whose score is explained (the predicted one). */
  class?: string;
  /** The model's output at the training rows' mean (linear) or on average over them (trees). */
  base: number;
  /** The explained output for this row: base + Σ contributions. */
  output: number;
  /** Every feature of features.yaml, in its order (0 for a feature the model does not take). */
  contributions: Record<string, number>;
}

/** explain=true for a model the service cannot explain: the API answers 400 explanation_unavailable. */
export class ExplanationUnavailableError extends Error {
  override name = 'ExplanationUnavailableError';
  readonly status = 400;
  readonly code = 'explanation_unavailable';
}

const finite = z.number().refine(Number.isFinite, 'expected a finite number');
/** explainer.json: what explanations need beyond model.onnx, learned from the training rows. */
export const explainerStateSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('linear'),
    /** sha256 of the model.onnx it belongs to. */
    model_sha256: z.string(),
    /** The mean of each input column over the training rows. */
    column_means: z.array(finite),
  }),
  z.strictObject({
    kind: z.literal('trees'),
    model_sha256: z.string(),
    /** Per tree, per node in the order the graph lists them: how many training rows reach it. */
    node_covers: z.array(z.array(z.number().positive())),
  }),
]);
export type ExplainerState = z.output<typeof explainerStateSchema>;

/** The Preprocessor, as far as explanations need it: which feature each output column comes from. */
export interface ColumnSource {
  readonly outputSize: number;
  /** The feature each output column comes from, in column order; absent in a Preprocessor that does not say. */
  readonly columnFeatures?: readonly string[];
}

/**
 * explainer.json's state for a freshly exported model, from its training matrix; throws
 * ExplanationUnavailableError when the graph is not one the explainer knows.
 */
export function fitExplainerState(onnx: Uint8Array, xTrain: readonly (readonly number[])[]): ExplainerState {
  const graph = readGraph(onnx);
  const modelSha256 = sha256(onnx);
  if (graph.kind === 'linear') {
    const means = new Array<number>(graph.columns).fill(0);
    for (const row of xTrain) row.forEach((value, j) => (means[j]! += value / xTrain.length));
    return { kind: 'linear', model_sha256: modelSha256, column_means: means };
  }
  const node_covers = graph.trees.map((tree, t) => {
    const cover = new Array<number>(tree.cover.length).fill(0);
    for (const row of xTrain) {
      for (let node = tree.root; ; node = childFor(tree, node, row)) {
        cover[node]!++;
        if (isLeaf(tree, node)) break;
      }
    }
    const empty = cover.indexOf(0);
    // Never for trees grown on these rows; a node no row reaches would leave TreeSHAP nothing to weigh it by.
    if (empty >= 0) throw new ExplanationUnavailableError(`node ${empty} of tree ${t} is reached by no training row`);
    return cover;
  });
  return { kind: 'trees', model_sha256: modelSha256, node_covers };
}

function readGraph(onnx: Uint8Array): ExplainableGraph {
  try {
    return readExplainableGraph(onnx);
  } catch (error) {
    if (error instanceof UnrecognisedGraphError) throw new ExplanationUnavailableError(`the model cannot be explained: ${error.message}`);
    throw error;
  }
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** A version folder's explainer.json; ExplanationUnavailableError when it is missing or not valid. */
export async function readExplainerState(dir: string): Promise<ExplainerState> {
  let text: string;
  try {
    text = await readFile(join(dir, EXPLAINER_FILE), 'utf8');
  } catch {
    throw new ExplanationUnavailableError(
      `the model has no ${EXPLAINER_FILE}: it was trained before explanations existed, or by a model whose ONNX graph the explainer does not know; retrain it with \`npm run train\``,
    );
  }
  const parsed = explainerStateSchema.safeParse(parseJson(text));
  if (!parsed.success)
    throw new ExplanationUnavailableError(`the model's ${EXPLAINER_FILE} is not valid; retrain it with \`npm run train\``);
  return parsed.data;
}

export interface ExplainerInputs {
  onnx: Uint8Array;
  state: ExplainerState;
  /** The Preprocessor the model's rows are encoded with. */
  columns: ColumnSource;
  features: readonly Feature[];
  /** Class names in the order of the model's outputs (classification); empty for regression. */
  classes: readonly string[];
}

export class Explainer {
  private constructor(
    private readonly graph: ExplainableGraph,
    /** The feature index of each input column. */
    private readonly columnFeature: Int32Array,
    private readonly featureNames: readonly string[],
    private readonly classes: readonly string[],
    /** Linear models: the training means of the input columns. */
    private readonly means: Float64Array,
    readonly scale: ExplanationScale,
  ) {}

  /** The explainer of a model; ExplanationUnavailableError saying why when it cannot be built. */
  static create({ onnx, state, columns, features, classes }: ExplainerInputs): Explainer {
    const graph = readGraph(onnx);
    if (state.model_sha256 !== sha256(onnx))
      throw new ExplanationUnavailableError(
        `the model's ${EXPLAINER_FILE} belongs to another model.onnx; retrain it with \`npm run train\``,
      );
    const mapping = columns.columnFeatures;
    const names = features.map((feature) => feature.name);
    if (!Array.isArray(mapping) || mapping.length !== columns.outputSize || mapping.some((name) => !names.includes(name))) {
      throw new ExplanationUnavailableError(
        'src/model/preprocessor.ts does not say which feature each of its columns comes from: give the Preprocessor a `columnFeatures` getter (one features.yaml name per output column) to explain predictions',
      );
    }
    if (graph.columns !== mapping.length)
      throw new ExplanationUnavailableError(`the model takes ${graph.columns} columns, the Preprocessor makes ${mapping.length}`);
    const outputs = graph.kind === 'linear' ? graph.weights.length : graph.outputs;
    if (outputs !== Math.max(1, classes.length))
      throw new ExplanationUnavailableError(`the model has ${outputs} outputs for ${classes.length} classes`);
    let means = new Float64Array(0);
    if (graph.kind === 'linear') {
      if (state.kind !== 'linear' || state.column_means.length !== graph.columns)
        throw new ExplanationUnavailableError(`the model's ${EXPLAINER_FILE} does not fit its model.onnx`);
      means = Float64Array.from(state.column_means);
    } else {
      if (state.kind !== 'trees' || state.node_covers.length !== graph.trees.length)
        throw new ExplanationUnavailableError(`the model's ${EXPLAINER_FILE} does not fit its model.onnx`);
      graph.trees.forEach((tree, t) => {
        const covers = state.node_covers[t]!;
        if (covers.length !== tree.cover.length)
          throw new ExplanationUnavailableError(`the model's ${EXPLAINER_FILE} does not fit its model.onnx`);
        tree.cover.set(covers);
      });
    }
    const classification = classes.length > 0;
    const scale: ExplanationScale = !classification ? 'value' : graph.kind === 'linear' ? 'logit' : 'probability';
    return new Explainer(
      graph,
      Int32Array.from(mapping, (name) => names.indexOf(name)),
      names,
      classes,
      means,
      scale,
    );
  }

  /**
   * Explains each row of the model's input matrix (the Preprocessor's output). `classIndexes`: the class to
   * explain per row (classification), e.g. the one the service answered; by default the model's most probable.
   */
  explain(matrix: readonly (readonly number[])[], classIndexes?: readonly number[]): Explanation[] {
    return matrix.map((x, r) => {
      const output = this.classes.length ? (classIndexes?.[r] ?? classIndex(this.outputs(x))) : 0;
      const columns = new Float64Array(x.length);
      const { base, value } =
        this.graph.kind === 'linear' ? this.linear(this.graph, x, output, columns) : this.trees(this.graph, x, output, columns);
      const byFeature = new Float64Array(this.featureNames.length);
      columns.forEach((contribution, j) => (byFeature[this.columnFeature[j]!]! += contribution));
      // fromEntries defines own keys, so a feature named like an Object.prototype member stays a plain key.
      const contributions = Object.fromEntries(this.featureNames.map((name, f) => [name, byFeature[f]!]));
      const { scale } = this;
      return this.classes.length
        ? { scale, class: this.classes[output]!, base, output: value, contributions }
        : { scale, base, output: value, contributions };
    });
  }

  /** The model's outputs for a row, on the explanation's scale: logits, probabilities or the value. */
  private outputs(x: readonly number[]): number[] {
    const { graph } = this;
    if (graph.kind === 'linear') return graph.weights.map((w, k) => w.reduce((sum, wj, j) => sum + wj * x[j]!, graph.intercepts[k]!));
    const sums = new Array<number>(graph.outputs).fill(0);
    for (const tree of graph.trees) {
      const leaf = leafFor(tree, x);
      for (let k = 0; k < graph.outputs; k++) sums[k]! += tree.values[leaf * graph.outputs + k]!;
    }
    return sums;
  }

  private linear(graph: LinearGraph, x: readonly number[], output: number, columns: Float64Array) {
    const weights = graph.weights[output]!;
    let base = graph.intercepts[output]!;
    let value = graph.intercepts[output]!;
    for (let j = 0; j < x.length; j++) {
      base += weights[j]! * this.means[j]!;
      value += weights[j]! * x[j]!;
      columns[j] = weights[j]! * (x[j]! - this.means[j]!);
    }
    return { base, value };
  }

  private trees(graph: TreeGraph, x: readonly number[], output: number, columns: Float64Array) {
    let base = 0;
    let value = 0;
    for (const tree of graph.trees) {
      base += expectedValue(tree, output);
      value += tree.values[leafFor(tree, x) * tree.outputs + output]!;
      addTreeShap(tree, x, output, columns);
    }
    return { base, value };
  }
}

export interface TrainedModelExplanation {
  /** explainer.json's content; undefined when the model's graph is not one the explainer knows. */
  state: ExplainerState | undefined;
  /** undefined when the model cannot be explained; `unavailable` says why. */
  explainer: Explainer | undefined;
  unavailable?: string;
}

/** The explainer of a model training has just exported, and the explainer.json to write beside it. */
export function explainTrainedModel(
  inputs: Omit<ExplainerInputs, 'state'> & { xTrain: readonly (readonly number[])[] },
): TrainedModelExplanation {
  let state: ExplainerState | undefined;
  try {
    state = fitExplainerState(inputs.onnx, inputs.xTrain);
    return { state, explainer: Explainer.create({ ...inputs, state }) };
  } catch (error) {
    if (error instanceof ExplanationUnavailableError) return { state, explainer: undefined, unavailable: error.message };
    throw error;
  }
}

export interface GlobalImportance {
  scale: ExplanationScale;
  /** The rows it was computed over. */
  rows: number;
  /** Every feature of features.yaml with its mean absolute contribution, most important first. */
  features: { feature: string; importance: number }[];
}

/**
 * Global feature importance: each feature's mean absolute contribution over the rows (the model's input matrix,
 * e.g. the holdout rows through the Preprocessor), each row explained for its most probable class. At most
 * `maxRows` rows are explained, evenly spaced, to bound the time on large holdout sets.
 */
export function globalImportance(explainer: Explainer, matrix: readonly (readonly number[])[], maxRows = 1000): GlobalImportance {
  const step = Math.max(1, matrix.length / maxRows);
  const sample = Array.from({ length: Math.min(matrix.length, maxRows) }, (_, i) => matrix[Math.floor(i * step)]!);
  const totals = new Map<string, number>();
  for (const { contributions } of explainer.explain(sample)) {
    for (const [feature, contribution] of Object.entries(contributions))
      totals.set(feature, (totals.get(feature) ?? 0) + Math.abs(contribution));
  }
  const features = [...totals].map(([feature, total]) => ({ feature, importance: sample.length ? total / sample.length : 0 }));
  return { scale: explainer.scale, rows: sample.length, features: features.sort((a, b) => b.importance - a.importance) };
}
