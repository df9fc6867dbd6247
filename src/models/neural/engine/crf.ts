/**
 * A linear-chain CRF output layer over per-token emission scores.
 *
 * Score of a tag path y over a sequence of length L:
 * `start[y0] + Σt emit[t, yt] + Σt trans[y(t−1), yt] + end[y(L−1)]`.
 * The loss is the negative log-likelihood (forward algorithm in log space, float64); its gradient
 * comes from forward–backward marginals. Decoding is Viterbi; token marginals and the probability
 * of any tag sub-path (span confidence) come from the same forward/backward tables.
 */
import { DataError } from '../../../core/errors.ts';
import type { Rng } from '../../../core/rng.ts';
import { initUniform } from './init.ts';
import type { SeqBatch } from './seq.ts';
import { alloc, createParam, type FloatArray, type HasParams, type Param } from './tensor.ts';

/** Forward/backward tables of one sequence (log space, [L × K]). */
interface Lattice {
  alpha: Float64Array;
  beta: Float64Array;
  logZ: number;
  length: number;
}

/**
 * Linear-chain CRF with K tags: transition matrix [K × K] (from → to), start and end scores [K].
 *
 * @example
 * const crf = new Crf('crf', 9, createRng(1));
 * const { loss, dEmissions } = crf.loss(emissions, seq, goldTags);
 * const tags = crf.decode(emissions, seq);
 */
export class Crf implements HasParams {
  readonly trans: Param;
  readonly start: Param;
  readonly end: Param;

  constructor(
    name: string,
    readonly numTags: number,
    rng: Rng,
  ) {
    const K = numTags;
    this.trans = createParam(`${name}.trans`, [K, K]);
    this.start = createParam(`${name}.start`, [K]);
    this.end = createParam(`${name}.end`, [K]);
    initUniform(this.trans, rng, 0.1);
  }

  params(): Param[] {
    return [this.trans, this.start, this.end];
  }

  /** Forward and backward tables for sequence b. */
  private lattice(em: FloatArray, seq: SeqBatch, b: number): Lattice {
    const K = this.numTags;
    const B = seq.B;
    const L = seq.lengths[b]!;
    const tr = this.trans.value;
    const st = this.start.value;
    const en = this.end.value;
    const alpha = new Float64Array(L * K);
    const beta = new Float64Array(L * K);
    const tmp = new Float64Array(K);
    if (L === 0) return { alpha, beta, logZ: 0, length: 0 };
    for (let j = 0; j < K; j++) alpha[j] = st[j]! + em[b * K + j]!;
    for (let t = 1; t < L; t++) {
      const eo = (t * B + b) * K;
      for (let j = 0; j < K; j++) {
        let max = Number.NEGATIVE_INFINITY;
        for (let i = 0; i < K; i++) {
          const v = alpha[(t - 1) * K + i]! + tr[i * K + j]!;
          tmp[i] = v;
          if (v > max) max = v;
        }
        let s = 0;
        for (let i = 0; i < K; i++) s += Math.exp(tmp[i]! - max);
        alpha[t * K + j] = max + Math.log(s) + em[eo + j]!;
      }
    }
    for (let i = 0; i < K; i++) beta[(L - 1) * K + i] = en[i]!;
    for (let t = L - 2; t >= 0; t--) {
      const eo = ((t + 1) * B + b) * K;
      for (let i = 0; i < K; i++) {
        let max = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < K; j++) {
          const v = tr[i * K + j]! + em[eo + j]! + beta[(t + 1) * K + j]!;
          tmp[j] = v;
          if (v > max) max = v;
        }
        let s = 0;
        for (let j = 0; j < K; j++) s += Math.exp(tmp[j]! - max);
        beta[t * K + i] = max + Math.log(s);
      }
    }
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < K; j++) {
      const v = alpha[(L - 1) * K + j]! + en[j]!;
      tmp[j] = v;
      if (v > max) max = v;
    }
    let s = 0;
    for (let j = 0; j < K; j++) s += Math.exp(tmp[j]! - max);
    return { alpha, beta, logZ: max + Math.log(s), length: L };
  }

  /**
   * Summed negative log-likelihood of the gold tags ([T·B], -1 at padding) over the batch;
   * accumulates the CRF parameter gradients and returns d loss / d emissions.
   */
  loss(em: FloatArray, seq: SeqBatch, tags: Int32Array): { loss: number; dEmissions: FloatArray } {
    const K = this.numTags;
    const { B } = seq;
    const tr = this.trans.value;
    const gTr = this.trans.grad;
    const gSt = this.start.grad;
    const gEn = this.end.grad;
    const dEm = alloc(seq.T * B * K);
    let total = 0;
    for (let b = 0; b < B; b++) {
      const L = seq.lengths[b]!;
      if (L === 0) continue;
      const lat = this.lattice(em, seq, b);
      const { alpha, beta, logZ } = lat;
      let gold = 0;
      let prev = -1;
      for (let t = 0; t < L; t++) {
        const r = t * B + b;
        const y = tags[r]!;
        if (!(y >= 0 && y < K)) {
          throw new DataError(`tag ${y} at step ${t} of sequence ${b} is outside 0..${K - 1}`, {
            hint: 'give every real token a tag id; use -1 only for padding',
          });
        }
        gold += em[r * K + y]!;
        dEm[r * K + y] = dEm[r * K + y]! - 1;
        if (t === 0) {
          gold += this.start.value[y]!;
          gSt[y] = gSt[y]! - 1;
        } else {
          gold += tr[prev * K + y]!;
          gTr[prev * K + y] = gTr[prev * K + y]! - 1;
        }
        prev = y;
      }
      gold += this.end.value[prev]!;
      gEn[prev] = gEn[prev]! - 1;
      total += logZ - gold;
      for (let t = 0; t < L; t++) {
        const r = t * B + b;
        for (let j = 0; j < K; j++) {
          const p = Math.exp(alpha[t * K + j]! + beta[t * K + j]! - logZ);
          dEm[r * K + j] = dEm[r * K + j]! + p;
          if (t === 0) gSt[j] = gSt[j]! + p;
          if (t === L - 1) gEn[j] = gEn[j]! + p;
        }
        if (t > 0) {
          const eo = r * K;
          for (let i = 0; i < K; i++) {
            const a = alpha[(t - 1) * K + i]! - logZ;
            for (let j = 0; j < K; j++) {
              const p = Math.exp(a + tr[i * K + j]! + em[eo + j]! + beta[t * K + j]!);
              gTr[i * K + j] = gTr[i * K + j]! + p;
            }
          }
        }
      }
    }
    return { loss: total, dEmissions: dEm };
  }

  /** Viterbi decoding: the best tag path of every sequence, [T·B] with -1 at padding. */
  decode(em: FloatArray, seq: SeqBatch): Int32Array {
    const K = this.numTags;
    const { T, B } = seq;
    const tr = this.trans.value;
    const out = new Int32Array(T * B).fill(-1);
    const score = new Float64Array(K);
    const next = new Float64Array(K);
    const back = new Int32Array(T * K);
    for (let b = 0; b < B; b++) {
      const L = seq.lengths[b]!;
      if (L === 0) continue;
      for (let j = 0; j < K; j++) score[j] = this.start.value[j]! + em[b * K + j]!;
      for (let t = 1; t < L; t++) {
        const eo = (t * B + b) * K;
        for (let j = 0; j < K; j++) {
          let best = Number.NEGATIVE_INFINITY;
          let arg = 0;
          for (let i = 0; i < K; i++) {
            const v = score[i]! + tr[i * K + j]!;
            if (v > best) {
              best = v;
              arg = i;
            }
          }
          next[j] = best + em[eo + j]!;
          back[t * K + j] = arg;
        }
        score.set(next);
      }
      let best = Number.NEGATIVE_INFINITY;
      let y = 0;
      for (let j = 0; j < K; j++) {
        const v = score[j]! + this.end.value[j]!;
        if (v > best) {
          best = v;
          y = j;
        }
      }
      for (let t = L - 1; t >= 0; t--) {
        out[t * B + b] = y;
        if (t > 0) y = back[t * K + y]!;
      }
    }
    return out;
  }

  /** Log-partition of every sequence (for tests and calibration). */
  logPartition(em: FloatArray, seq: SeqBatch): Float64Array {
    const out = new Float64Array(seq.B);
    for (let b = 0; b < seq.B; b++) out[b] = this.lattice(em, seq, b).logZ;
    return out;
  }

  /** Token marginals P(y_t = k | x), [T·B × K] (zeros at padding). */
  marginals(em: FloatArray, seq: SeqBatch): FloatArray {
    const K = this.numTags;
    const out = alloc(seq.T * seq.B * K);
    for (let b = 0; b < seq.B; b++) {
      const { alpha, beta, logZ, length } = this.lattice(em, seq, b);
      for (let t = 0; t < length; t++) {
        const r = t * seq.B + b;
        for (let j = 0; j < K; j++) out[r * K + j] = Math.exp(alpha[t * K + j]! + beta[t * K + j]! - logZ);
      }
    }
    return out;
  }

  /**
   * Probability that sequence b has exactly the tags `path` at steps `from … from + path.length − 1`
   * (whatever the other steps hold): the confidence of a predicted span.
   */
  pathProbability(em: FloatArray, seq: SeqBatch, b: number, from: number, path: readonly number[]): number {
    const K = this.numTags;
    const { alpha, beta, logZ, length } = this.lattice(em, seq, b);
    const to = from + path.length - 1;
    if (path.length === 0 || from < 0 || to >= length) return 0;
    const tr = this.trans.value;
    let s = alpha[from * K + path[0]!]!;
    for (let i = 1; i < path.length; i++) {
      const t = from + i;
      s += tr[path[i - 1]! * K + path[i]!]! + em[(t * seq.B + b) * K + path[i]!]!;
    }
    s += beta[to * K + path[path.length - 1]!]!;
    return Math.exp(s - logZ);
  }
}
