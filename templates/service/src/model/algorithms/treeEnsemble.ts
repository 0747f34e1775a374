// Decision trees (trained by ml-cart, or grown by ./cart.ts as the members of a random forest) and their
// export to ONNX as one ai.onnx.ml TreeEnsembleClassifier / TreeEnsembleRegressor node.
//
// Exactness: ml-cart compares in float64 (`row[column] < threshold` goes left). A float32 input or
// threshold can move a value to the other side of a split (it did for 1 of 150 iris rows), so the graphs
// take a double input and keep the thresholds and leaf weights as double tensors (opset 3's *_as_tensor
// attributes); onnxruntime then compares and sums in double and rounds only the final scores to float.
import { createRequire } from 'node:module';
import { DataType, ONNX_ML_DOMAIN, attr, doubleTensor, encodeModel, node, tensorValueInfo } from '../../onnx/graphBuilder.js';
import { ONNX_INPUT, ONNX_LABEL, ONNX_PREDICTION, ONNX_PROBABILITIES } from '../modelTypes.js';

/** A leaf's value: class shares as a 1×k matrix (k = largest class index in the leaf + 1), or the mean target. */
export type CartLeafValue = { to1DArray(): number[] } | number;

/** A node of a trained ml-cart tree: with both children, rows with `row[splitColumn] < splitValue` go left. */
export interface CartNode {
  splitColumn?: number;
  splitValue?: number;
  left?: CartNode;
  right?: CartNode;
  distribution?: CartLeafValue;
  /** The value of the leaf the row reaches (ml-cart's own traversal). */
  classify(row: readonly number[]): CartLeafValue;
}

/** ml-cart's tree options (its names and defaults). */
export interface CartOptions {
  /** Deepest split level. Default: unlimited. */
  maxDepth?: number;
  /** A node with at most this many training rows becomes a leaf. Default 3. */
  minNumSamples?: number;
  /** Classification: the smallest Gini gain worth a split. Default 0.01. */
  gainThreshold?: number;
}

export interface CartTree {
  root: CartNode;
  train(X: number[][], y: number[]): void;
}

// ml-cart ships no type declarations: its two classes are typed here by the parts this project uses.
export const mlCart = createRequire(import.meta.url)('ml-cart') as {
  DecisionTreeClassifier: new (options?: CartOptions) => CartTree;
  DecisionTreeRegression: new (options?: CartOptions) => CartTree;
};

/** A tree to export; `columns` maps the tree's own columns to input columns (a forest's feature subset). */
export interface ExportedTree {
  root: CartNode;
  columns?: readonly number[];
}

/** The class shares of a leaf, padded with zeros to `classCount` (ml-cart stops at the largest class it saw). */
export function classShares(value: CartLeafValue, classCount: number): number[] {
  if (typeof value === 'number') throw new TypeError('expected a classification leaf, got a regression value');
  const shares = value.to1DArray();
  if (shares.length > classCount) throw new RangeError(`a leaf has ${shares.length} classes, the model ${classCount}`);
  return Array.from({ length: classCount }, (_, c) => shares[c] ?? 0);
}

export function leafTarget(value: CartLeafValue): number {
  if (typeof value !== 'number') throw new TypeError('expected a regression leaf, got class shares');
  return value;
}

const isSplit = (node: CartNode): node is CartNode & Required<Pick<CartNode, 'left' | 'right' | 'splitColumn' | 'splitValue'>> =>
  node.left !== undefined && node.right !== undefined;

interface TreeEnsembleAttributes {
  nodes: {
    treeIds: number[];
    nodeIds: number[];
    featureIds: number[];
    thresholds: number[];
    modes: string[];
    trueIds: number[];
    falseIds: number[];
  };
  /** One entry per (leaf, output column): a class for classifiers, the single target for regressors. */
  leaves: { treeIds: number[]; nodeIds: number[]; outputIds: number[]; weights: number[] };
}

/** Numbers every tree's nodes in preorder and lists splits and leaf weights as TreeEnsemble attributes. */
function flattenTrees(
  trees: readonly ExportedTree[],
  featureCount: number,
  leafWeights: (leaf: CartNode) => number[],
): TreeEnsembleAttributes {
  const flat: TreeEnsembleAttributes = {
    nodes: { treeIds: [], nodeIds: [], featureIds: [], thresholds: [], modes: [], trueIds: [], falseIds: [] },
    leaves: { treeIds: [], nodeIds: [], outputIds: [], weights: [] },
  };
  trees.forEach(({ root, columns }, treeId) => {
    let nextId = 0;
    const visit = (current: CartNode): number => {
      const id = nextId++;
      const index = flat.nodes.nodeIds.length;
      flat.nodes.treeIds.push(treeId);
      flat.nodes.nodeIds.push(id);
      if (isSplit(current)) {
        const feature = columns ? columns[current.splitColumn] : current.splitColumn;
        if (feature === undefined || feature < 0 || feature >= featureCount) {
          throw new RangeError(`tree ${treeId} splits on column ${current.splitColumn}, which maps to no input column`);
        }
        flat.nodes.featureIds.push(feature);
        flat.nodes.thresholds.push(current.splitValue);
        flat.nodes.modes.push('BRANCH_LT');
        flat.nodes.trueIds.push(0);
        flat.nodes.falseIds.push(0);
        flat.nodes.trueIds[index] = visit(current.left);
        flat.nodes.falseIds[index] = visit(current.right);
      } else {
        flat.nodes.featureIds.push(0);
        flat.nodes.thresholds.push(0);
        flat.nodes.modes.push('LEAF');
        flat.nodes.trueIds.push(0);
        flat.nodes.falseIds.push(0);
        leafWeights(current).forEach((weight, output) => {
          flat.leaves.treeIds.push(treeId);
          flat.leaves.nodeIds.push(id);
          flat.leaves.outputIds.push(output);
          flat.leaves.weights.push(weight);
        });
      }
      return id;
    };
    visit(root);
  });
  return flat;
}

function nodeAttributes({ nodes }: TreeEnsembleAttributes) {
  return {
    nodes_treeids: attr.ints(nodes.treeIds),
    nodes_nodeids: attr.ints(nodes.nodeIds),
    nodes_featureids: attr.ints(nodes.featureIds),
    nodes_values_as_tensor: attr.tensor(doubleTensor('nodes_values', [nodes.thresholds.length], nodes.thresholds)),
    nodes_modes: attr.strings(nodes.modes),
    nodes_truenodeids: attr.ints(nodes.trueIds),
    nodes_falsenodeids: attr.ints(nodes.falseIds),
  };
}

function leafOf(node: CartNode): CartLeafValue {
  if (node.distribution === undefined) throw new RangeError('a leaf of the tree has no value: was the tree trained?');
  return node.distribution;
}

export interface TreeEnsembleExport {
  graphName: string;
  docString: string;
  algorithm: string;
  trees: readonly ExportedTree[];
  featureCount: number;
}

/**
 * TreeEnsembleClassifier(features) → "probabilities" = Σ over trees of the reached leaf's class shares ×
 * `leafScale` (1 for a tree, 1/T for a forest's mean); ArgMax → "label". The op's own label output is
 * not used: for two classes onnxruntime derives it from a threshold instead of the larger score.
 */
export function treeEnsembleClassifierOnnx(spec: TreeEnsembleExport & { classCount: number; leafScale: number }): Uint8Array {
  const classes = Array.from({ length: spec.classCount }, (_, c) => c);
  // Every leaf lists a weight for every class (zeros included), so onnxruntime never takes its
  // one-weight-per-leaf binary shortcut and always writes one score per class.
  const flat = flattenTrees(spec.trees, spec.featureCount, (leaf) =>
    classShares(leafOf(leaf), spec.classCount).map((share) => share * spec.leafScale),
  );
  return encodeModel({
    graphName: spec.graphName,
    docString: spec.docString,
    inputs: [tensorValueInfo(ONNX_INPUT, DataType.DOUBLE, ['N', spec.featureCount])],
    outputs: [
      tensorValueInfo(ONNX_LABEL, DataType.INT64, ['N']),
      tensorValueInfo(ONNX_PROBABILITIES, DataType.FLOAT, ['N', spec.classCount]),
    ],
    nodes: [
      node(
        'TreeEnsembleClassifier',
        [ONNX_INPUT],
        ['tree_label', ONNX_PROBABILITIES],
        {
          ...nodeAttributes(flat),
          class_treeids: attr.ints(flat.leaves.treeIds),
          class_nodeids: attr.ints(flat.leaves.nodeIds),
          class_ids: attr.ints(flat.leaves.outputIds),
          class_weights_as_tensor: attr.tensor(doubleTensor('class_weights', [flat.leaves.weights.length], flat.leaves.weights)),
          classlabels_int64s: attr.ints(classes),
          post_transform: attr.string('NONE'),
        },
        { domain: ONNX_ML_DOMAIN },
      ),
      node('ArgMax', [ONNX_PROBABILITIES], [ONNX_LABEL], { axis: attr.int(1), keepdims: attr.int(0) }),
    ],
    metadata: { algorithm: spec.algorithm },
  });
}

/** TreeEnsembleRegressor(features) → "prediction" [N, 1]: the leaf value (SUM of one tree) or the forest's AVERAGE. */
export function treeEnsembleRegressorOnnx(spec: TreeEnsembleExport & { aggregate: 'SUM' | 'AVERAGE' }): Uint8Array {
  const flat = flattenTrees(spec.trees, spec.featureCount, (leaf) => [leafTarget(leafOf(leaf))]);
  return encodeModel({
    graphName: spec.graphName,
    docString: spec.docString,
    inputs: [tensorValueInfo(ONNX_INPUT, DataType.DOUBLE, ['N', spec.featureCount])],
    outputs: [tensorValueInfo(ONNX_PREDICTION, DataType.FLOAT, ['N', 1])],
    nodes: [
      node(
        'TreeEnsembleRegressor',
        [ONNX_INPUT],
        [ONNX_PREDICTION],
        {
          ...nodeAttributes(flat),
          n_targets: attr.int(1),
          target_treeids: attr.ints(flat.leaves.treeIds),
          target_nodeids: attr.ints(flat.leaves.nodeIds),
          target_ids: attr.ints(flat.leaves.outputIds),
          target_weights_as_tensor: attr.tensor(doubleTensor('target_weights', [flat.leaves.weights.length], flat.leaves.weights)),
          aggregate_function: attr.string(spec.aggregate),
          post_transform: attr.string('NONE'),
        },
        { domain: ONNX_ML_DOMAIN },
      ),
    ],
    metadata: { algorithm: spec.algorithm },
  });
}
