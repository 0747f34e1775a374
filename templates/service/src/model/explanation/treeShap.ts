// Exact SHAP values of decision trees: path-dependent TreeSHAP (Lundberg, Erion and Lee 2018, "Consistent
// Individualized Feature Attribution for Tree Ensembles", Algorithm 2), written after the reference
// implementation in shap's tree_shap.h. A feature left out of a coalition is integrated out along the tree as
// the training rows split at each node (the nodes' covers), so the contributions add up exactly:
//     expectedValue(tree) + Σ contributions = the tree's value at x.
// It costs O(leaves · depth²) per tree and row, where enumerating coalitions costs O(2^columns).

/** How a split compares the row's value with its threshold to take the `whenTrue` branch (ONNX's BRANCH_* modes). */
export type SplitRule = 'lt' | 'leq' | 'gt' | 'gte';

/** A decision tree as flat arrays indexed by node. */
export interface ShapTree {
  /** The child taken when the rule holds, and the other one; -1 at a leaf. */
  whenTrue: Int32Array;
  whenFalse: Int32Array;
  /** The column a split reads. */
  column: Int32Array;
  threshold: Float64Array;
  rule: SplitRule[];
  /** How many training rows reach each node (a split's cover is the sum of its children's, every cover > 0). */
  cover: Float64Array;
  /** Leaf values, `outputs` per node: values[node * outputs + k]. */
  values: Float64Array;
  outputs: number;
  root: number;
  /** The most splits on a path from the root to a leaf. */
  depth: number;
}

export const isLeaf = (tree: ShapTree, node: number): boolean => tree.whenTrue[node]! < 0;

function holds(rule: SplitRule, value: number, threshold: number): boolean {
  switch (rule) {
    case 'lt':
      return value < threshold;
    case 'leq':
      return value <= threshold;
    case 'gt':
      return value > threshold;
    case 'gte':
      return value >= threshold;
  }
}

/** The child of split `node` that row `x` goes to. */
export function childFor(tree: ShapTree, node: number, x: ArrayLike<number>): number {
  return holds(tree.rule[node]!, x[tree.column[node]!]!, tree.threshold[node]!) ? tree.whenTrue[node]! : tree.whenFalse[node]!;
}

/** The leaf row `x` reaches. */
export function leafFor(tree: ShapTree, x: ArrayLike<number>): number {
  let node = tree.root;
  while (!isLeaf(tree, node)) node = childFor(tree, node, x);
  return node;
}

/** The tree's mean value of output k over the training rows: its leaves weighted by their covers. */
export function expectedValue(tree: ShapTree, output: number): number {
  let sum = 0;
  for (let node = 0; node < tree.cover.length; node++) {
    if (isLeaf(tree, node)) sum += tree.cover[node]! * tree.values[node * tree.outputs + output]!;
  }
  return sum / tree.cover[tree.root]!;
}

/**
 * The path of unique features from the root to the current node, one region per recursion level in shared typed
 * arrays (shap's PathElement array): the feature, the share of coalitions without it (zero) and with it (one)
 * that flow down this way, and the permutation weights.
 */
interface Path {
  feature: Int32Array;
  zero: Float64Array;
  one: Float64Array;
  weight: Float64Array;
}

function extendPath(p: Path, at: number, depth: number, zero: number, one: number, feature: number): void {
  p.feature[at + depth] = feature;
  p.zero[at + depth] = zero;
  p.one[at + depth] = one;
  p.weight[at + depth] = depth === 0 ? 1 : 0;
  for (let i = depth - 1; i >= 0; i--) {
    p.weight[at + i + 1]! += (one * p.weight[at + i]! * (i + 1)) / (depth + 1);
    p.weight[at + i] = (zero * p.weight[at + i]! * (depth - i)) / (depth + 1);
  }
}

function unwindPath(p: Path, at: number, depth: number, index: number): void {
  const one = p.one[at + index]!;
  const zero = p.zero[at + index]!;
  let next = p.weight[at + depth]!;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const saved = p.weight[at + i]!;
      p.weight[at + i] = (next * (depth + 1)) / ((i + 1) * one);
      next = saved - (p.weight[at + i]! * zero * (depth - i)) / (depth + 1);
    } else {
      p.weight[at + i] = (p.weight[at + i]! * (depth + 1)) / (zero * (depth - i));
    }
  }
  for (let i = index; i < depth; i++) {
    p.feature[at + i] = p.feature[at + i + 1]!;
    p.zero[at + i] = p.zero[at + i + 1]!;
    p.one[at + i] = p.one[at + i + 1]!;
  }
}

/** The total permutation weight of the path if the element at `index` were unwound. */
function unwoundPathSum(p: Path, at: number, depth: number, index: number): number {
  const one = p.one[at + index]!;
  const zero = p.zero[at + index]!;
  let next = p.weight[at + depth]!;
  let total = 0;
  if (one !== 0) {
    for (let i = depth - 1; i >= 0; i--) {
      const share = next / ((i + 1) * one);
      total += share;
      next = p.weight[at + i]! - share * zero * (depth - i);
    }
  } else {
    for (let i = depth - 1; i >= 0; i--) total += p.weight[at + i]! / (zero * (depth - i));
  }
  return total * (depth + 1);
}

/** Adds the SHAP values of the tree's output k at row x to contributions[column]. */
export function addTreeShap(tree: ShapTree, x: ArrayLike<number>, output: number, contributions: Float64Array): void {
  const levels = tree.depth + 2;
  const size = (levels * (levels + 1)) / 2;
  const p: Path = {
    feature: new Int32Array(size),
    zero: new Float64Array(size),
    one: new Float64Array(size),
    weight: new Float64Array(size),
  };
  const { cover, values, outputs } = tree;

  const recurse = (node: number, parentAt: number, depth: number, zero: number, one: number, feature: number): void => {
    // This level's copy of the path, just past the parent's.
    const at = parentAt + depth + 1;
    p.feature.copyWithin(at, parentAt, parentAt + depth + 1);
    p.zero.copyWithin(at, parentAt, parentAt + depth + 1);
    p.one.copyWithin(at, parentAt, parentAt + depth + 1);
    p.weight.copyWithin(at, parentAt, parentAt + depth + 1);
    extendPath(p, at, depth, zero, one, feature);

    if (isLeaf(tree, node)) {
      const value = values[node * outputs + output]!;
      for (let i = 1; i <= depth; i++) {
        const weight = unwoundPathSum(p, at, depth, i);
        contributions[p.feature[at + i]!]! += weight * (p.one[at + i]! - p.zero[at + i]!) * value;
      }
      return;
    }
    const hot = childFor(tree, node, x);
    const cold = hot === tree.whenTrue[node] ? tree.whenFalse[node]! : tree.whenTrue[node]!;
    const column = tree.column[node]!;
    let incomingZero = 1;
    let incomingOne = 1;
    // A feature already split on higher up: undo that split so this node redoes it.
    let index = 0;
    while (index <= depth && p.feature[at + index] !== column) index++;
    let nextDepth = depth;
    if (index <= depth) {
      incomingZero = p.zero[at + index]!;
      incomingOne = p.one[at + index]!;
      unwindPath(p, at, depth, index);
      nextDepth -= 1;
    }
    recurse(hot, at, nextDepth + 1, (cover[hot]! / cover[node]!) * incomingZero, incomingOne, column);
    recurse(cold, at, nextDepth + 1, (cover[cold]! / cover[node]!) * incomingZero, 0, column);
  };
  // The root's path is one placeholder element (feature −1); its region starts just past slot 0, as in shap.
  recurse(tree.root, 0, 0, 1, 1, -1);
}
