/** Softmax and softmax cross-entropy over rows of logits. */
import { alloc, type FloatArray } from './tensor.ts';

/** Row-wise softmax of an [n × k] buffer into a new buffer. */
export function softmaxRows(logits: FloatArray, n: number, k: number): FloatArray {
  const out = alloc(n * k);
  for (let r = 0; r < n; r++) {
    const o = r * k;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < k; j++) if (logits[o + j]! > max) max = logits[o + j]!;
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp(logits[o + j]! - max);
      out[o + j] = e;
      sum += e;
    }
    for (let j = 0; j < k; j++) out[o + j] = out[o + j]! / sum;
  }
  return out;
}

/** Loss and logit gradient of {@link softmaxCrossEntropy}. */
export interface LossResult {
  /** Summed (or mean) negative log-likelihood. */
  loss: number;
  /** d loss / d logits, same shape as the logits. */
  dLogits: FloatArray;
  /** Number of rows that counted (targets ≥ 0). */
  count: number;
}

/**
 * Cross-entropy of softmax(logits) [n × k] against integer targets (−1 = ignore the row).
 *
 * @example
 * const { loss, dLogits } = softmaxCrossEntropy(logits, n, 9, tags, 'mean');
 */
export function softmaxCrossEntropy(
  logits: FloatArray,
  n: number,
  k: number,
  targets: Int32Array,
  reduction: 'sum' | 'mean' = 'sum',
): LossResult {
  const dLogits = alloc(n * k);
  let loss = 0;
  let count = 0;
  for (let r = 0; r < n; r++) {
    const y = targets[r]!;
    if (y < 0) continue;
    count++;
    const o = r * k;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < k; j++) if (logits[o + j]! > max) max = logits[o + j]!;
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits[o + j]! - max);
    const logSum = Math.log(sum) + max;
    loss += logSum - logits[o + y]!;
    for (let j = 0; j < k; j++) dLogits[o + j] = Math.exp(logits[o + j]! - logSum);
    dLogits[o + y] = dLogits[o + y]! - 1;
  }
  if (reduction === 'mean' && count > 0) {
    loss /= count;
    for (let i = 0; i < dLogits.length; i++) dLogits[i] = dLogits[i]! / count;
  }
  return { loss, dLogits, count };
}
