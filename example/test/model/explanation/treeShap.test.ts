// TreeSHAP against the definition: on small random trees (repeated split columns, every split rule, rows on the
// thresholds), the Shapley values computed by enumerating every coalition of columns, where a coalition's value is
// the tree's path-dependent conditional expectation (a column outside it is integrated out over both branches,
// weighted by the training rows that went each way), equal what TreeSHAP computes in polynomial time.
import assert from 'node:assert/strict';
import { addTreeShap, expectedValue, leafFor, type ShapTree, type SplitRule } from '../../../src/model/explanation/treeShap.js';
import { seededRandom } from '../../../src/model/random.js';

const RULES: SplitRule[] = ['lt', 'leq', 'gt', 'gte'];

/** A random tree over `columns` columns, at most `maxDepth` splits deep, with `outputs` values per leaf. */
function randomTree(random: () => number, columns: number, maxDepth: number, outputs: number): ShapTree {
  const whenTrue: number[] = [];
  const whenFalse: number[] = [];
  const column: number[] = [];
  const threshold: number[] = [];
  const rule: SplitRule[] = [];
  const cover: number[] = [];
  const values: number[] = [];
  let depth = 0;
  const grow = (level: number): number => {
    const node = whenTrue.length;
    whenTrue.push(-1);
    whenFalse.push(-1);
    column.push(0);
    threshold.push(0);
    rule.push('lt');
    cover.push(0);
    values.push(...Array.from({ length: outputs }, () => 0));
    if (level < maxDepth && (level === 0 || random() < 0.75)) {
      // Few columns, so paths often split on the same column twice (TreeSHAP's unwind case).
      column[node] = Math.floor(random() * columns);
      threshold[node] = Math.round(random() * 10) / 10;
      rule[node] = RULES[Math.floor(random() * RULES.length)]!;
      whenTrue[node] = grow(level + 1);
      whenFalse[node] = grow(level + 1);
      cover[node] = cover[whenTrue[node]]! + cover[whenFalse[node]]!;
    } else {
      depth = Math.max(depth, level);
      cover[node] = 1 + Math.floor(random() * 20);
      for (let k = 0; k < outputs; k++) values[node * outputs + k] = random() * 4 - 2;
    }
    return node;
  };
  grow(0);
  return {
    whenTrue: Int32Array.from(whenTrue),
    whenFalse: Int32Array.from(whenFalse),
    column: Int32Array.from(column),
    threshold: Float64Array.from(threshold),
    rule,
    cover: Float64Array.from(cover),
    values: Float64Array.from(values),
    outputs,
    root: 0,
    depth,
  };
}

function goesTrue(rule: SplitRule, value: number, threshold: number): boolean {
  return rule === 'lt' ? value < threshold : rule === 'leq' ? value <= threshold : rule === 'gt' ? value > threshold : value >= threshold;
}

/** E[f(x) | x_S]: the columns in S follow x, the others take both branches in proportion to the training rows. */
function conditionalExpectation(
  tree: ShapTree,
  x: readonly number[],
  known: ReadonlySet<number>,
  output: number,
  node = tree.root,
): number {
  if (tree.whenTrue[node]! < 0) return tree.values[node * tree.outputs + output]!;
  const [t, f] = [tree.whenTrue[node]!, tree.whenFalse[node]!];
  const c = tree.column[node]!;
  if (known.has(c)) {
    return conditionalExpectation(tree, x, known, output, goesTrue(tree.rule[node]!, x[c]!, tree.threshold[node]!) ? t : f);
  }
  return (
    (tree.cover[t]! * conditionalExpectation(tree, x, known, output, t) +
      tree.cover[f]! * conditionalExpectation(tree, x, known, output, f)) /
    tree.cover[node]!
  );
}

const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));

/** φ_i = Σ over coalitions S without i of |S|!(M−|S|−1)!/M! · (v(S ∪ {i}) − v(S)). */
function bruteForceShapley(tree: ShapTree, x: readonly number[], columns: number, output: number): number[] {
  const phi = new Array<number>(columns).fill(0);
  for (let mask = 0; mask < 1 << columns; mask++) {
    const coalition = new Set(Array.from({ length: columns }, (_, j) => j).filter((j) => mask & (1 << j)));
    const without = conditionalExpectation(tree, x, coalition, output);
    for (let i = 0; i < columns; i++) {
      if (coalition.has(i)) continue;
      const weight = (factorial(coalition.size) * factorial(columns - coalition.size - 1)) / factorial(columns);
      phi[i]! += weight * (conditionalExpectation(tree, x, new Set([...coalition, i]), output) - without);
    }
  }
  return phi;
}

describe('TreeSHAP (path-dependent, Lundberg et al. 2018 Algorithm 2)', () => {
  it('equals the brute-force Shapley values on 200 small random trees, for every output', () => {
    const random = seededRandom(7);
    let compared = 0;
    for (let trial = 0; trial < 200; trial++) {
      const columns = 2 + Math.floor(random() * 5);
      const tree = randomTree(random, columns, 1 + Math.floor(random() * 6), 2);
      // Values on the thresholds' grid, so rows often sit exactly on a threshold (where lt and leq differ).
      const x = Array.from({ length: columns }, () => Math.round(random() * 10) / 10);
      for (let output = 0; output < tree.outputs; output++) {
        const expected = bruteForceShapley(tree, x, columns, output);
        const phi = new Float64Array(columns);
        addTreeShap(tree, x, output, phi);
        expected.forEach((value, j) =>
          assert.ok(Math.abs(phi[j]! - value) <= 1e-9, `trial ${trial}, output ${output}, column ${j}: ${phi[j]} vs brute force ${value}`),
        );
        // Efficiency: the values add up to the prediction minus the expectation over the training rows.
        const sum = phi.reduce((a, b) => a + b, 0);
        const prediction = tree.values[leafFor(tree, x) * tree.outputs + output]!;
        assert.ok(Math.abs(expectedValue(tree, output) + sum - prediction) <= 1e-9, `trial ${trial}: not additive`);
        compared++;
      }
    }
    assert.equal(compared, 400);
  });

  it('gives nothing to a column the tree never splits on', () => {
    const random = seededRandom(11);
    const tree = randomTree(random, 2, 4, 1); // splits on columns 0 and 1 only
    const phi = new Float64Array(4);
    addTreeShap(tree, [0.3, 0.6, 0.9, 0.5], 0, phi);
    assert.deepEqual([phi[2], phi[3]], [0, 0]);
    assert.ok(phi[0] !== 0 || phi[1] !== 0);
  });
});
