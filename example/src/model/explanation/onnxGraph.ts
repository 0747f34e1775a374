// Reads what a model computes from its ONNX graph, for the explainer: the graph is what the service runs, so the
// explanation is of the served model itself (its float32 weights, its thresholds), not of a copy of it. Recognised
// are the graphs this project's exporters write (src/model/algorithms/): Gemm → Softmax (logistic regression),
// Gemm (linear regression), and ai.onnx.ml TreeEnsembleClassifier / TreeEnsembleRegressor (trees and forests).
// Anything else, e.g. a model trained elsewhere, is refused with what was found.
import { onnx, type AttributeProto, type NodeProto, type TensorProto } from '../../onnx/graphBuilder.js';
import { ONNX_PREDICTION, ONNX_PROBABILITIES } from '../modelTypes.js';
import type { ShapTree, SplitRule } from './treeShap.js';

/** A linear model: one row of weights per output (a class's logit, or the regression value). */
export interface LinearGraph {
  kind: 'linear';
  /** weights[output][column]. */
  weights: Float64Array[];
  intercepts: Float64Array;
  columns: number;
}

/** A sum of trees: output k = Σ over trees of the reached leaf's value k (an average's 1/T is in the leaf values). */
export interface TreeGraph {
  kind: 'trees';
  /** The trees without covers yet (cover is all zeros): explainer.json's node_covers fill them. */
  trees: ShapTree[];
  outputs: number;
  columns: number;
}

export type ExplainableGraph = LinearGraph | TreeGraph;

/** Why the graph is not one the explainer knows. */
export class UnrecognisedGraphError extends Error {
  override name = 'UnrecognisedGraphError';
}

type Int = number | { toNumber(): number };
const toNumber = (value: Int | null | undefined): number => (typeof value === 'number' ? value : (value?.toNumber() ?? 0));
const text = new TextDecoder();

function attribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}
const intAttribute = (node: NodeProto, name: string, fallback: number) => {
  const found = attribute(node, name);
  return found ? toNumber(found.i) : fallback;
};
const intsAttribute = (node: NodeProto, name: string): number[] => (attribute(node, name)?.ints ?? []).map(toNumber);
const stringAttribute = (node: NodeProto, name: string): string | undefined => {
  const found = attribute(node, name)?.s;
  return found ? text.decode(found) : undefined;
};
const stringsAttribute = (node: NodeProto, name: string): string[] => (attribute(node, name)?.strings ?? []).map((s) => text.decode(s));

/** A float or double tensor's values. */
function tensorValues(tensor: TensorProto): Float64Array {
  const { DataType } = onnx.TensorProto;
  const raw = tensor.rawData;
  if (tensor.dataType === DataType.FLOAT) {
    if (!raw?.length) return Float64Array.from(tensor.floatData ?? []);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Float64Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
  }
  if (tensor.dataType === DataType.DOUBLE) {
    if (!raw?.length) return Float64Array.from(tensor.doubleData ?? []);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Float64Array.from({ length: raw.byteLength / 8 }, (_, i) => view.getFloat64(i * 8, true));
  }
  throw new UnrecognisedGraphError(`tensor ${tensor.name ?? ''} is neither float nor double`);
}

/** A list attribute given as a tensor (`<name>_as_tensor`, doubles) or as floats. */
function numbersAttribute(node: NodeProto, name: string): Float64Array {
  const tensor = attribute(node, `${name}_as_tensor`)?.t;
  return tensor ? tensorValues(tensor) : Float64Array.from(attribute(node, name)?.floats ?? []);
}

const RULES: Record<string, SplitRule> = { BRANCH_LT: 'lt', BRANCH_LEQ: 'leq', BRANCH_GT: 'gt', BRANCH_GTE: 'gte' };

/** Gemm(input, W, B) with transB = 1 and no scaling: the weights [outputs, columns] and intercepts. */
function readGemm(gemm: NodeProto, input: string, initializers: Map<string, TensorProto>): LinearGraph {
  const [x, w, b] = gemm.input ?? [];
  const weights = w === undefined ? undefined : initializers.get(w);
  const bias = b === undefined ? undefined : initializers.get(b);
  const plain =
    intAttribute(gemm, 'transB', 0) === 1 &&
    intAttribute(gemm, 'transA', 0) === 0 &&
    (attribute(gemm, 'alpha')?.f ?? 1) === 1 &&
    (attribute(gemm, 'beta')?.f ?? 1) === 1;
  const dims = (weights?.dims ?? []).map(toNumber);
  if (x !== input || !weights || !bias || !plain || dims.length !== 2)
    throw new UnrecognisedGraphError('its Gemm node is not features × weightsᵀ + intercepts');
  const [outputs, columns] = dims as [number, number];
  const flat = tensorValues(weights);
  const intercepts = tensorValues(bias);
  if (intercepts.length !== outputs)
    throw new UnrecognisedGraphError(`its Gemm has ${outputs} weight rows but ${intercepts.length} intercepts`);
  return {
    kind: 'linear',
    weights: Array.from({ length: outputs }, (_, k) => flat.slice(k * columns, (k + 1) * columns)),
    intercepts,
    columns,
  };
}

/** The trees of a TreeEnsembleClassifier (leaf weights per class) or TreeEnsembleRegressor (one target). */
function readTreeEnsemble(ensemble: NodeProto, columns: number): TreeGraph {
  const classifier = ensemble.opType === 'TreeEnsembleClassifier';
  const post = stringAttribute(ensemble, 'post_transform') ?? 'NONE';
  if (post !== 'NONE') throw new UnrecognisedGraphError(`its ${ensemble.opType} has post_transform ${post}`);
  if (numbersAttribute(ensemble, 'base_values').some((value) => value !== 0))
    throw new UnrecognisedGraphError(`its ${ensemble.opType} has base_values`);
  const outputs = classifier ? intsAttribute(ensemble, 'classlabels_int64s').length : intAttribute(ensemble, 'n_targets', 1);
  if (outputs < 1 || (!classifier && outputs !== 1)) throw new UnrecognisedGraphError(`its ${ensemble.opType} has ${outputs} outputs`);
  const leafPrefix = classifier ? 'class' : 'target';
  const average = !classifier && (stringAttribute(ensemble, 'aggregate_function') ?? 'SUM') === 'AVERAGE';

  const treeIds = intsAttribute(ensemble, 'nodes_treeids');
  const nodeIds = intsAttribute(ensemble, 'nodes_nodeids');
  const featureIds = intsAttribute(ensemble, 'nodes_featureids');
  const modes = stringsAttribute(ensemble, 'nodes_modes');
  const trueIds = intsAttribute(ensemble, 'nodes_truenodeids');
  const falseIds = intsAttribute(ensemble, 'nodes_falsenodeids');
  const thresholds = numbersAttribute(ensemble, 'nodes_values');
  const leafTrees = intsAttribute(ensemble, `${leafPrefix}_treeids`);
  const leafNodes = intsAttribute(ensemble, `${leafPrefix}_nodeids`);
  const leafOutputs = intsAttribute(ensemble, `${leafPrefix}_ids`);
  const leafWeights = numbersAttribute(ensemble, `${leafPrefix}_weights`);
  const count = nodeIds.length;
  if (![treeIds, featureIds, modes, trueIds, falseIds, thresholds].every((list) => list.length === count))
    throw new UnrecognisedGraphError(`its ${ensemble.opType} node attributes differ in length`);
  if (![leafNodes, leafOutputs, leafWeights].every((list) => list.length === leafTrees.length))
    throw new UnrecognisedGraphError(`its ${ensemble.opType} leaf attributes differ in length`);

  // Each tree's nodes, numbered in the order the graph lists them (explainer.json's node_covers use this order).
  const order = [...new Set(treeIds)];
  const local = new Map<string, number>();
  const sizes = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const size = sizes.get(treeIds[i]!) ?? 0;
    local.set(`${treeIds[i]}/${nodeIds[i]}`, size);
    sizes.set(treeIds[i]!, size + 1);
  }
  const trees = new Map<number, ShapTree>(
    order.map((id) => {
      const size = sizes.get(id)!;
      const tree: ShapTree = {
        whenTrue: new Int32Array(size).fill(-1),
        whenFalse: new Int32Array(size).fill(-1),
        column: new Int32Array(size),
        threshold: new Float64Array(size),
        rule: new Array<SplitRule>(size).fill('lt'),
        cover: new Float64Array(size),
        values: new Float64Array(size * outputs),
        outputs,
        root: 0,
        depth: 0,
      };
      return [id, tree];
    }),
  );
  const childOf = (treeId: number, nodeId: number) => {
    const index = local.get(`${treeId}/${nodeId}`);
    if (index === undefined) throw new UnrecognisedGraphError(`tree ${treeId} refers to a node ${nodeId} it does not have`);
    return index;
  };
  for (let i = 0; i < count; i++) {
    const tree = trees.get(treeIds[i]!)!;
    const node = local.get(`${treeIds[i]}/${nodeIds[i]}`)!;
    if (modes[i] === 'LEAF') continue;
    const rule = RULES[modes[i]!];
    if (!rule) throw new UnrecognisedGraphError(`tree ${treeIds[i]} has a ${modes[i]} node`);
    if (featureIds[i]! < 0 || featureIds[i]! >= columns)
      throw new UnrecognisedGraphError(`tree ${treeIds[i]} splits on column ${featureIds[i]} of ${columns}`);
    tree.rule[node] = rule;
    tree.column[node] = featureIds[i]!;
    tree.threshold[node] = thresholds[i]!;
    tree.whenTrue[node] = childOf(treeIds[i]!, trueIds[i]!);
    tree.whenFalse[node] = childOf(treeIds[i]!, falseIds[i]!);
  }
  const scale = average ? 1 / order.length : 1;
  for (let i = 0; i < leafTrees.length; i++) {
    const tree = trees.get(leafTrees[i]!);
    if (!tree) throw new UnrecognisedGraphError(`a leaf weight names tree ${leafTrees[i]}, which has no nodes`);
    const node = childOf(leafTrees[i]!, leafNodes[i]!);
    const output = leafOutputs[i]!;
    if (output < 0 || output >= outputs) throw new UnrecognisedGraphError(`a leaf weight is for output ${output} of ${outputs}`);
    tree.values[node * outputs + output]! += leafWeights[i]! * scale;
  }
  for (const [id, tree] of trees) {
    // The root is the one node no split leads to; every node must be reached from it exactly once.
    const reached = new Uint8Array(tree.cover.length);
    for (let node = 0; node < reached.length; node++) {
      if (tree.whenTrue[node]! >= 0) {
        reached[tree.whenTrue[node]!]!++;
        reached[tree.whenFalse[node]!]!++;
      }
    }
    const roots = [...reached.keys()].filter((node) => reached[node] === 0);
    if (roots.length !== 1 || reached.some((n) => n > 1)) throw new UnrecognisedGraphError(`tree ${id} is not a tree`);
    tree.root = roots[0]!;
    const depthOf = (node: number): number =>
      tree.whenTrue[node]! < 0 ? 0 : 1 + Math.max(depthOf(tree.whenTrue[node]!), depthOf(tree.whenFalse[node]!));
    tree.depth = depthOf(tree.root);
  }
  return { kind: 'trees', trees: order.map((id) => trees.get(id)!), outputs, columns };
}

function decode(bytes: Uint8Array) {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new UnrecognisedGraphError(`model.onnx cannot be decoded: ${(error as Error).message}`);
  }
}

/**
 * What the graph computes, for the output the service reads ("probabilities" or "prediction"); throws
 * UnrecognisedGraphError saying what it found when the graph is not one of this project's exporters'.
 */
export function readExplainableGraph(bytes: Uint8Array): ExplainableGraph {
  const graph = decode(bytes).graph;
  const inputs = graph?.input ?? [];
  const input = inputs[0];
  if (!graph || inputs.length !== 1 || !input?.name) throw new UnrecognisedGraphError('the graph does not have exactly one input');
  const columns = toNumber(input.type?.tensorType?.shape?.dim?.[1]?.dimValue);
  const initializers = new Map((graph.initializer ?? []).map((tensor) => [tensor.name ?? '', tensor]));
  const producer = new Map<string, NodeProto>();
  for (const node of graph.node ?? []) for (const output of node.output ?? []) producer.set(output, node);

  const served = (graph.output ?? []).map((output) => output.name).find((name) => name === ONNX_PROBABILITIES || name === ONNX_PREDICTION);
  const last = served === undefined ? undefined : producer.get(served);
  const ops = (graph.node ?? []).map((node) => node.opType).join(', ');
  const unknown = () =>
    new UnrecognisedGraphError(
      `the graph (${ops || 'no nodes'}) is not one this project exports (logistic or linear regression, decision tree, random forest)`,
    );
  if (!last) throw unknown();
  let found: ExplainableGraph;
  if (last.opType === 'Softmax' && served === ONNX_PROBABILITIES) {
    const gemm = producer.get(last.input?.[0] ?? '');
    if (gemm?.opType !== 'Gemm' || intAttribute(last, 'axis', -1) !== 1) throw unknown();
    found = readGemm(gemm, input.name, initializers);
  } else if (last.opType === 'Gemm' && served === ONNX_PREDICTION) {
    found = readGemm(last, input.name, initializers);
    if (found.weights.length !== 1) throw unknown();
  } else if (
    last.domain === 'ai.onnx.ml' &&
    last.input?.[0] === input.name &&
    ((last.opType === 'TreeEnsembleClassifier' && served === ONNX_PROBABILITIES && last.output?.[1] === served) ||
      (last.opType === 'TreeEnsembleRegressor' && served === ONNX_PREDICTION))
  ) {
    found = readTreeEnsemble(last, columns);
  } else throw unknown();
  if (found.columns !== columns)
    throw new UnrecognisedGraphError(`the graph takes ${columns} columns but its model reads ${found.columns}`);
  return found;
}
