// Limited-memory BFGS for smooth unconstrained minimization (Nocedal & Wright, Numerical Optimization,
// algorithm 7.4 with a backtracking Armijo line search). The mljs packages have no general-purpose
// quasi-Newton optimizer, and this is the solver scikit-learn's LogisticRegression uses by default, so
// models trained with it reach the same optimum. It is deterministic: same input, same iterates.

/** Writes the gradient at x into `gradient` and returns the objective value at x. */
export type Objective = (x: Float64Array, gradient: Float64Array) => number;

export interface LbfgsOptions {
  maxIterations: number;
  /** Stop when every gradient component is at most this in absolute value. */
  gradientTolerance: number;
  /** Number of (step, gradient change) pairs kept for the Hessian approximation. */
  memory?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  /**
   * 'gradient': the gradient tolerance was met; 'no-progress': the objective stopped decreasing at
   * machine precision (the optimum, for practical purposes); 'max-iterations': stopped early.
   */
  stop: 'gradient' | 'no-progress' | 'max-iterations';
}

const ARMIJO_SUFFICIENT_DECREASE = 1e-4;
const MIN_STEP = 1e-20;
// Relative decrease below which the objective counts as flat (scipy's L-BFGS-B uses 64·eps too).
const RELATIVE_VALUE_TOLERANCE = 64 * Number.EPSILON;

export function minimizeLbfgs(objective: Objective, x0: ArrayLike<number>, options: LbfgsOptions): LbfgsResult {
  const n = x0.length;
  const memory = options.memory ?? 10;
  let x = Float64Array.from(x0);
  let gradient = new Float64Array(n);
  let value = objective(x, gradient);
  const steps: Float64Array[] = [];
  const gradientChanges: Float64Array[] = [];
  const rhos: number[] = [];

  for (let iteration = 0; iteration < options.maxIterations; iteration++) {
    if (maxAbs(gradient) <= options.gradientTolerance) return { x, value, iterations: iteration, stop: 'gradient' };

    let direction = twoLoopDirection(gradient, steps, gradientChanges, rhos);
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      // The curvature history no longer gives a descent direction: restart from steepest descent.
      steps.length = gradientChanges.length = rhos.length = 0;
      direction = gradient.map((g) => -g);
      slope = -dot(gradient, gradient);
    }

    // Without curvature history the direction is the raw gradient, whose scale is arbitrary: cap the
    // first trial step at unit length. With history, the quasi-Newton step of 1 is the natural trial.
    let step = steps.length === 0 ? Math.min(1, 1 / Math.sqrt(dot(direction, direction))) : 1;
    const candidate = new Float64Array(n);
    const candidateGradient = new Float64Array(n);
    let candidateValue: number;
    for (;;) {
      for (let i = 0; i < n; i++) candidate[i] = x[i]! + step * direction[i]!;
      candidateValue = objective(candidate, candidateGradient);
      if (candidateValue <= value + ARMIJO_SUFFICIENT_DECREASE * step * slope) break;
      step /= 2;
      if (step < MIN_STEP) return { x, value, iterations: iteration, stop: 'no-progress' };
    }

    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = candidate[i]! - x[i]!;
      y[i] = candidateGradient[i]! - gradient[i]!;
    }
    const sy = dot(s, y);
    // Only pairs with positive curvature keep the inverse-Hessian approximation positive definite.
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (steps.length === memory) {
        steps.shift();
        gradientChanges.shift();
        rhos.shift();
      }
      steps.push(s);
      gradientChanges.push(y);
      rhos.push(1 / sy);
    }

    const decrease = value - candidateValue;
    x = candidate;
    gradient = candidateGradient;
    value = candidateValue;
    if (decrease <= RELATIVE_VALUE_TOLERANCE * Math.max(Math.abs(value), 1)) {
      const stop = maxAbs(gradient) <= options.gradientTolerance ? 'gradient' : 'no-progress';
      return { x, value, iterations: iteration + 1, stop };
    }
  }
  const stop = maxAbs(gradient) <= options.gradientTolerance ? 'gradient' : 'max-iterations';
  return { x, value, iterations: options.maxIterations, stop };
}

/** −H·g, with H the L-BFGS inverse-Hessian approximation built from the stored pairs. */
function twoLoopDirection(
  gradient: Float64Array,
  steps: readonly Float64Array[],
  gradientChanges: readonly Float64Array[],
  rhos: readonly number[],
): Float64Array {
  const q = Float64Array.from(gradient);
  const alphas = new Array<number>(steps.length);
  for (let k = steps.length - 1; k >= 0; k--) {
    const alpha = rhos[k]! * dot(steps[k]!, q);
    alphas[k] = alpha;
    axpy(-alpha, gradientChanges[k]!, q);
  }
  const newest = steps.length - 1;
  if (newest >= 0) {
    // Scale the initial Hessian guess by sᵀy / yᵀy so the trial step of 1 is usually accepted.
    const y = gradientChanges[newest]!;
    const gamma = 1 / (rhos[newest]! * dot(y, y));
    for (let i = 0; i < q.length; i++) q[i] = q[i]! * gamma;
  }
  for (let k = 0; k < steps.length; k++) {
    const beta = rhos[k]! * dot(gradientChanges[k]!, q);
    axpy(alphas[k]! - beta, steps[k]!, q);
  }
  for (let i = 0; i < q.length; i++) q[i] = -q[i]!;
  return q;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** y += a·x */
function axpy(a: number, x: ArrayLike<number>, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] = y[i]! + a * x[i]!;
}

function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
  return max;
}
