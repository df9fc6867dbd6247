import type { SeededRandom } from './seeded-random.ts';
import type { SparseRows } from './sparse.ts';

/** Settings of the dual coordinate descent solver for the L2-regularised squared-hinge SVM. */
export interface DualCdOptions {
  /** Inverse regularisation strength (LIBLINEAR's C). */
  C: number;
  /** Stop when the projected-gradient spread falls below this (LIBLINEAR's eps; 0.1 is its default). */
  tolerance: number;
  /** Upper bound on passes over the active examples, per binary problem. */
  maxIterations: number;
  /** Value of the constant feature that carries the intercept (0 for none); it is regularised, as in LIBLINEAR. */
  bias: number;
}

/** Weights of `K` one-vs-rest binary problems: feature-major `weights[col * K + k]`, plus intercepts. */
export interface LinearWeights {
  weights: Float32Array;
  bias: Float32Array;
}

/**
 * Solves one L2-regularised squared-hinge SVM with dual coordinate descent and shrinking (Hsieh et al. 2008,
 * LIBLINEAR solver 1). `y[i]` is +1 or -1; `w` (length nCols + 1, the last entry the intercept) is overwritten.
 * Returns the number of passes.
 */
export function solveBinarySvm(
  x: SparseRows,
  y: Int8Array,
  squaredNorms: Float64Array,
  options: DualCdOptions,
  rng: SeededRandom,
  w: Float64Array,
  alpha: Float64Array,
  order: Int32Array,
): number {
  const { indptr, indices, values, nRows: l, nCols } = x;
  const diag = 0.5 / options.C;
  const biasValue = options.bias;
  w.fill(0);
  alpha.fill(0);
  for (let i = 0; i < l; i++) order[i] = i;
  let activeSize = l;
  let pgMaxOld = Number.POSITIVE_INFINITY;
  let iter = 0;
  while (iter < options.maxIterations) {
    let pgMaxNew = Number.NEGATIVE_INFINITY;
    let pgMinNew = Number.POSITIVE_INFINITY;
    rng.shuffle(order, activeSize);
    for (let s = 0; s < activeSize; s++) {
      const i = order[s]!;
      const yi = y[i]!;
      const start = indptr[i]!;
      const end = indptr[i + 1]!;
      let dot = w[nCols]! * biasValue;
      for (let p = start; p < end; p++) dot += w[indices[p]!]! * values[p]!;
      const a = alpha[i]!;
      const g = yi * dot - 1 + a * diag;
      let pg = 0;
      if (a === 0) {
        if (g > pgMaxOld) {
          activeSize--;
          order[s] = order[activeSize]!;
          order[activeSize] = i;
          s--;
          continue;
        }
        if (g < 0) pg = g;
      } else {
        pg = g;
      }
      if (pg > pgMaxNew) pgMaxNew = pg;
      if (pg < pgMinNew) pgMinNew = pg;
      if (Math.abs(pg) > 1e-12) {
        const next = Math.max(a - g / (squaredNorms[i]! + diag), 0);
        alpha[i] = next;
        const d = (next - a) * yi;
        for (let p = start; p < end; p++) w[indices[p]!]! += d * values[p]!;
        w[nCols]! += d * biasValue;
      }
    }
    iter++;
    if (pgMaxNew - pgMinNew <= options.tolerance) {
      if (activeSize === l) break;
      activeSize = l;
      pgMaxOld = Number.POSITIVE_INFINITY;
      continue;
    }
    pgMaxOld = pgMaxNew <= 0 ? Number.POSITIVE_INFINITY : pgMaxNew;
  }
  return iter;
}

/** Squared L2 norm of every row, plus the squared intercept feature. */
export function rowSquaredNorms(x: SparseRows, bias: number): Float64Array {
  const out = new Float64Array(x.nRows);
  for (let i = 0; i < x.nRows; i++) {
    let s = bias * bias;
    for (let p = x.indptr[i]!; p < x.indptr[i + 1]!; p++) s += x.values[p]! * x.values[p]!;
    out[i] = s;
  }
  return out;
}

/**
 * Trains `K` one-vs-rest squared-hinge SVMs; `isPositive(i, k)` says whether example `i` belongs to class `k`.
 * Calls `onClass` after each class (await it to let progress and cancellation through).
 */
export async function trainOneVsRestSvm(
  x: SparseRows,
  nClasses: number,
  isPositive: (i: number, k: number) => boolean,
  options: DualCdOptions,
  rng: SeededRandom,
  onClass?: (k: number, iterations: number) => Promise<void> | void,
): Promise<LinearWeights & { iterations: number[] }> {
  const { nRows, nCols } = x;
  const weights = new Float32Array(nCols * nClasses);
  const bias = new Float32Array(nClasses);
  const w = new Float64Array(nCols + 1);
  const alpha = new Float64Array(nRows);
  const order = new Int32Array(nRows);
  const y = new Int8Array(nRows);
  const norms = rowSquaredNorms(x, options.bias);
  const iterations: number[] = [];
  for (let k = 0; k < nClasses; k++) {
    for (let i = 0; i < nRows; i++) y[i] = isPositive(i, k) ? 1 : -1;
    iterations.push(solveBinarySvm(x, y, norms, options, rng, w, alpha, order));
    for (let c = 0; c < nCols; c++) weights[c * nClasses + k] = w[c]!;
    bias[k] = w[nCols]! * options.bias;
    await onClass?.(k, iterations[k]!);
  }
  return { weights, bias, iterations };
}
