/**
 * Per-label decision thresholds that maximise F1 on a tuning set: `scores` and `member` are row-major
 * `n × K` (probability of label k for example i, and whether i has it). A label without positives in the
 * tuning set keeps `fallback`. Each threshold sits halfway between the last score kept and the next one.
 */
export function tuneThresholds(
  scores: Float64Array,
  member: Uint8Array,
  n: number,
  K: number,
  fallback = 0.5,
): Float32Array {
  const thresholds = new Float32Array(K).fill(fallback);
  const order = new Int32Array(n);
  for (let k = 0; k < K; k++) {
    let positives = 0;
    for (let i = 0; i < n; i++) positives += member[i * K + k]!;
    if (positives === 0 || n === 0) continue;
    for (let i = 0; i < n; i++) order[i] = i;
    const sorted = Array.from(order).sort((a, b) => scores[b * K + k]! - scores[a * K + k]! || a - b);
    // Predicting the top m as positive: F1 = 2·TP / (m + positives). Only cut between distinct scores.
    let bestF1 = 0;
    let bestM = 0;
    let tp = 0;
    for (let m = 1; m <= n; m++) {
      tp += member[sorted[m - 1]! * K + k]!;
      const here = scores[sorted[m - 1]! * K + k]!;
      if (m < n && scores[sorted[m]! * K + k]! === here) continue;
      const f1 = (2 * tp) / (m + positives);
      if (f1 > bestF1) {
        bestF1 = f1;
        bestM = m;
      }
    }
    if (bestM === 0) continue;
    const last = scores[sorted[bestM - 1]! * K + k]!;
    const next = bestM < n ? scores[sorted[bestM]! * K + k]! : 0;
    thresholds[k] = (last + next) / 2;
  }
  return thresholds;
}

/**
 * The scale `s` minimising the log loss of `softmax(s · margins)` (or of `sigmoid(s · margins)` per label when
 * `member` is given), by golden-section search over `log s` in [1e-2, 1e2]. `margins` is row-major `n × K`.
 */
export function fitMarginScale(
  margins: Float64Array,
  n: number,
  K: number,
  target: { classOf: Int32Array } | { member: Uint8Array },
): number {
  const loss = (s: number): number => {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const row = i * K;
      if ('classOf' in target) {
        const y = target.classOf[i]!;
        if (y < 0) continue;
        let max = Number.NEGATIVE_INFINITY;
        for (let k = 0; k < K; k++) max = Math.max(max, s * margins[row + k]!);
        let sum = 0;
        for (let k = 0; k < K; k++) sum += Math.exp(s * margins[row + k]! - max);
        total += Math.log(sum) + max - s * margins[row + y]!;
      } else {
        for (let k = 0; k < K; k++) {
          const z = s * margins[row + k]!;
          total += target.member[row + k] ? Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
        }
      }
    }
    return total;
  };
  let lo = Math.log(1e-2);
  let hi = Math.log(1e2);
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = hi - ratio * (hi - lo);
  let b = lo + ratio * (hi - lo);
  let fa = loss(Math.exp(a));
  let fb = loss(Math.exp(b));
  for (let iter = 0; iter < 40; iter++) {
    if (fa <= fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - ratio * (hi - lo);
      fa = loss(Math.exp(a));
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + ratio * (hi - lo);
      fb = loss(Math.exp(b));
    }
  }
  return Math.exp((lo + hi) / 2);
}
