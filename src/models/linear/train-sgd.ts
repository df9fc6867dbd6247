import type { SeededRandom } from './seeded-random.ts';
import type { SparseRows } from './sparse.ts';
import type { LinearWeights } from './train-svm.ts';

/** Settings of the SGD trainer for logistic regression. */
export interface SgdOptions {
  /** Inverse regularisation strength: the L2 penalty is `1 / (2 C n) ‖W‖²` per example. */
  C: number;
  /** Passes over the training set (the learning rate decays linearly to 0 over all of them). */
  epochs: number;
  /** Initial learning rate. */
  learningRate: number;
  /** `softmax`: one multinomial model over exclusive classes; `sigmoid`: independent binary models (multi-label). */
  output: 'softmax' | 'sigmoid';
  /** Stop after this many epochs without a better dev score (only when a dev scorer is given). */
  patience: number;
}

/** Training targets: one class per row (softmax), or a row-major `nRows × K` 0/1 matrix (sigmoid). */
export type SgdTargets = { kind: 'single'; classOf: Int32Array } | { kind: 'multi'; member: Uint8Array };

/** Hooks through which the trainer reports epochs and asks for dev scores. */
export interface SgdHooks {
  /** Scores weights on dev (higher is better); enables early stopping and best-epoch selection. */
  devScore?: (weights: LinearWeights) => number;
  /** Called after every epoch; await it to let progress and cancellation through. */
  onEpoch?: (epoch: number, loss: number, devScore: number | undefined) => Promise<void> | void;
}

/** What the SGD trainer returns: the chosen weights and how training went. */
export interface SgdResult extends LinearWeights {
  epochs: number;
  bestEpoch: number;
  bestDevScore?: number;
  finalLoss: number;
}

const GRADIENT_FLOOR = 1e-6;

/**
 * Trains L2-regularised logistic regression (multinomial softmax or one-vs-rest sigmoid) with plain SGD over
 * shuffled examples, a linearly decaying learning rate and lazy L2 shrinkage (`W = s·V`), so each step only
 * touches the example's non-zero features.
 */
export async function trainLogisticSgd(
  x: SparseRows,
  targets: SgdTargets,
  nClasses: number,
  options: SgdOptions,
  rng: SeededRandom,
  hooks: SgdHooks = {},
): Promise<SgdResult> {
  const { nRows: n, nCols, indptr, indices, values } = x;
  const K = nClasses;
  const v = new Float32Array(nCols * K);
  const b = new Float64Array(K);
  const z = new Float64Array(K);
  const g = new Float64Array(K);
  const active = new Int32Array(K);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const lambda = 1 / (options.C * Math.max(1, n));
  const total = options.epochs * n;
  let scale = 1;
  let t = 0;
  let best: LinearWeights | null = null;
  let bestScore = Number.NEGATIVE_INFINITY;
  let bestEpoch = 0;
  let sinceBest = 0;
  let epoch = 0;
  let loss = 0;

  const materialize = (): LinearWeights => {
    const weights = new Float32Array(nCols * K);
    for (let j = 0; j < weights.length; j++) weights[j] = v[j]! * scale;
    return { weights, bias: Float32Array.from(b) };
  };

  while (epoch < options.epochs) {
    rng.shuffle(order);
    loss = 0;
    for (let s = 0; s < n; s++) {
      const i = order[s]!;
      const eta = options.learningRate * (1 - t / total);
      t++;
      const start = indptr[i]!;
      const end = indptr[i + 1]!;
      z.set(b);
      for (let p = start; p < end; p++) {
        const xj = values[p]! * scale;
        const base = indices[p]! * K;
        for (let k = 0; k < K; k++) z[k]! += xj * v[base + k]!;
      }
      if (targets.kind === 'single') {
        const yi = targets.classOf[i]!;
        let max = z[0]!;
        for (let k = 1; k < K; k++) if (z[k]! > max) max = z[k]!;
        let sum = 0;
        for (let k = 0; k < K; k++) {
          const e = Math.exp(z[k]! - max);
          g[k] = e;
          sum += e;
        }
        for (let k = 0; k < K; k++) g[k] = g[k]! / sum;
        loss -= Math.log(Math.max(g[yi]!, 1e-300));
        g[yi]! -= 1;
      } else {
        const row = i * K;
        for (let k = 0; k < K; k++) {
          const zk = z[k]!;
          const yk = targets.member[row + k]!;
          const p = 1 / (1 + Math.exp(-zk));
          loss += yk ? Math.log1p(Math.exp(-zk)) : Math.log1p(Math.exp(zk));
          g[k] = p - yk;
        }
      }
      scale *= 1 - eta * lambda;
      let nActive = 0;
      for (let k = 0; k < K; k++) if (Math.abs(g[k]!) > GRADIENT_FLOOR) active[nActive++] = k;
      const coef = eta / scale;
      for (let p = start; p < end; p++) {
        const xj = values[p]! * coef;
        const base = indices[p]! * K;
        for (let a = 0; a < nActive; a++) {
          const k = active[a]!;
          v[base + k]! -= g[k]! * xj;
        }
      }
      for (let a = 0; a < nActive; a++) b[active[a]!]! -= eta * g[active[a]!]!;
      if (scale < 1e-9) {
        for (let j = 0; j < v.length; j++) v[j]! *= scale;
        scale = 1;
      }
    }
    epoch++;
    loss /= Math.max(1, n);
    let devScore: number | undefined;
    if (hooks.devScore) {
      const current = materialize();
      devScore = hooks.devScore(current);
      if (devScore > bestScore) {
        bestScore = devScore;
        best = current;
        bestEpoch = epoch;
        sinceBest = 0;
      } else {
        sinceBest++;
      }
    }
    await hooks.onEpoch?.(epoch, loss, devScore);
    if (hooks.devScore && sinceBest >= options.patience) break;
  }
  const chosen = best ?? materialize();
  return {
    ...chosen,
    epochs: epoch,
    bestEpoch: best ? bestEpoch : epoch,
    bestDevScore: best ? bestScore : undefined,
    finalLoss: loss,
  };
}
