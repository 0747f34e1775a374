// CART trees grown as scikit-learn grows them (best split by Gini impurity or squared error, midpoint
// thresholds, a fresh random draw of candidate columns at every split), for the random forest. The nodes
// have the shape ./treeEnsemble.ts exports to ONNX: rows with `row[splitColumn] < splitValue` go left.
//
// Speed: the columns are copied once into typed arrays and every node sorts only its own rows, so a
// 100-tree forest fits within a test's time (ml-random-forest was far too slow for that).
import type { CartLeafValue, CartNode } from './treeEnsemble.js';

export interface CartGrowOptions {
  /** Deepest split level (the root is level 0). Default: unlimited. */
  maxDepth?: number;
  /** A split must leave at least this many rows on each side. Default 1. */
  minSamplesLeaf?: number;
  /** A node needs at least this many rows to be split. Default 2. */
  minSamplesSplit?: number;
  /** Candidate columns drawn (without replacement) at every split. Default: all. */
  maxFeatures?: number;
}

/** A trained node; a leaf holds `distribution` (class shares, or the mean target). */
export class TreeNode implements CartNode {
  splitColumn?: number;
  splitValue?: number;
  left?: TreeNode;
  right?: TreeNode;
  distribution?: CartLeafValue;

  classify(row: readonly number[]): CartLeafValue {
    if (this.left && this.right) return (row[this.splitColumn!]! < this.splitValue! ? this.left : this.right).classify(row);
    return this.distribution!;
  }
}

/** The training data shared by the trees of a forest: one typed array per column. */
export interface CartData {
  columns: Float64Array[];
  y: Float64Array;
  /** Classification: the number of classes (y holds class indexes); 0 for regression. */
  classCount: number;
}

export function cartData(X: readonly (readonly number[])[], y: readonly number[], classCount: number): CartData {
  const width = X[0]?.length ?? 0;
  const columns = Array.from({ length: width }, (_, c) => Float64Array.from(X, (row) => row[c]!));
  return { columns, y: Float64Array.from(y), classCount };
}

function leaf(data: CartData, rows: Int32Array): TreeNode {
  const node = new TreeNode();
  if (data.classCount > 0) {
    const counts = new Array<number>(data.classCount).fill(0);
    for (const r of rows) counts[data.y[r]!]!++;
    const shares = counts.map((count) => count / rows.length);
    node.distribution = { to1DArray: () => shares };
  } else {
    let sum = 0;
    for (const r of rows) sum += data.y[r]!;
    node.distribution = sum / rows.length;
  }
  return node;
}

interface Split {
  column: number;
  threshold: number;
  /** The rows going left / right. */
  left: Int32Array;
  right: Int32Array;
}

/**
 * The best split of `rows` over the candidate columns: the one that most lowers the weighted Gini impurity
 * (classification) or the squared error (regression); undefined when no column separates the rows. Columns are
 * tried in `order` until `wanted` of them vary over the rows (scikit-learn's max_features: constant columns
 * do not count).
 */
function bestSplit(data: CartData, rows: Int32Array, order: readonly number[], wanted: number, minLeaf: number): Split | undefined {
  const n = rows.length;
  const { y, classCount } = data;
  let bestScore = -Infinity;
  let best: { column: number; threshold: number; sorted: Int32Array; at: number } | undefined;
  // Score to maximize: Σ_side (Σ_class count²)/n_side for Gini, (Σ y)²/n_side for squared error.
  const leftCounts = new Float64Array(classCount);
  const rightCounts = new Float64Array(classCount);
  let parentScore = 0;
  if (classCount > 0) {
    const counts = new Float64Array(classCount);
    for (const r of rows) counts[y[r]!]!++;
    for (const c of counts) parentScore += c * c;
    parentScore /= n;
  } else {
    let sum = 0;
    for (const r of rows) sum += y[r]!;
    parentScore = (sum * sum) / n;
  }
  let tried = 0;
  for (const column of order) {
    if (tried >= wanted) break;
    const x = data.columns[column]!;
    const sorted = Int32Array.from(rows).sort((a, b) => x[a]! - x[b]!);
    if (x[sorted[0]!] === x[sorted[n - 1]!]) continue; // constant here
    tried++;
    if (classCount > 0) {
      leftCounts.fill(0);
      rightCounts.fill(0);
      for (const r of sorted) rightCounts[y[r]!]!++;
      let leftSquares = 0;
      let rightSquares = 0;
      for (const c of rightCounts) rightSquares += c * c;
      for (let i = 0; i < n - 1; i++) {
        const label = y[sorted[i]!]!;
        leftSquares += 2 * leftCounts[label]! + 1;
        leftCounts[label]!++;
        rightSquares -= 2 * rightCounts[label]! - 1;
        rightCounts[label]!--;
        const nLeft = i + 1;
        if (nLeft < minLeaf || n - nLeft < minLeaf || x[sorted[i]!] === x[sorted[i + 1]!]) continue;
        const score = leftSquares / nLeft + rightSquares / (n - nLeft);
        if (score > bestScore) {
          bestScore = score;
          best = { column, threshold: 0, sorted, at: nLeft };
        }
      }
    } else {
      let total = 0;
      for (const r of sorted) total += y[r]!;
      let leftSum = 0;
      for (let i = 0; i < n - 1; i++) {
        leftSum += y[sorted[i]!]!;
        const nLeft = i + 1;
        if (nLeft < minLeaf || n - nLeft < minLeaf || x[sorted[i]!] === x[sorted[i + 1]!]) continue;
        const rightSum = total - leftSum;
        const score = (leftSum * leftSum) / nLeft + (rightSum * rightSum) / (n - nLeft);
        if (score > bestScore) {
          bestScore = score;
          best = { column, threshold: 0, sorted, at: nLeft };
        }
      }
    }
  }
  // No gain (a pure node, or equal targets): a leaf, as scikit-learn stops when the impurity cannot fall.
  if (!best || bestScore <= parentScore + 1e-12 * Math.abs(parentScore)) return undefined;
  const x = data.columns[best.column]!;
  const below = x[best.sorted[best.at - 1]!]!;
  const above = x[best.sorted[best.at]!]!;
  // The midpoint, unless rounding makes it equal the lower value (then `<` would send that value right).
  const middle = below / 2 + above / 2;
  const threshold = middle > below ? middle : above;
  return { column: best.column, threshold, left: best.sorted.subarray(0, best.at), right: best.sorted.subarray(best.at) };
}

/** Grows one tree on `rows` (indexes into data; repeated for a bootstrap sample). */
export function growTree(data: CartData, rows: Int32Array, options: CartGrowOptions, random: () => number): TreeNode {
  const width = data.columns.length;
  const maxDepth = options.maxDepth ?? Infinity;
  const minLeaf = Math.max(1, options.minSamplesLeaf ?? 1);
  const minSplit = Math.max(2, options.minSamplesSplit ?? 2, 2 * minLeaf);
  const maxFeatures = Math.min(width, Math.max(1, options.maxFeatures ?? width));
  const all = Array.from({ length: width }, (_, c) => c);
  const draw = (): number[] => {
    if (maxFeatures >= width) return all;
    // A Fisher–Yates shuffle: the columns in a random order, tried until maxFeatures of them vary.
    const order = [...all];
    for (let i = width - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order;
  };
  const grow = (nodeRows: Int32Array, depth: number): TreeNode => {
    if (nodeRows.length < minSplit || depth >= maxDepth) return leaf(data, nodeRows);
    const split = bestSplit(data, nodeRows, draw(), maxFeatures, minLeaf);
    if (!split) return leaf(data, nodeRows);
    const node = new TreeNode();
    node.splitColumn = split.column;
    node.splitValue = split.threshold;
    node.left = grow(split.left, depth + 1);
    node.right = grow(split.right, depth + 1);
    return node;
  };
  return grow(rows, 0);
}
