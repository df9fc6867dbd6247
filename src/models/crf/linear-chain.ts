import type { TagSet } from '../features/tag-scheme.ts';
import type { CompiledSequence } from '../features/token-features.ts';

/**
 * Weights of a first-order linear-chain model over `numTags` tags. State feature `k` pairs
 * attribute `a` (for `attrStart[a] ≤ k < attrStart[a + 1]`) with tag `attrTag[k]`; `weights`
 * holds the K state weights, then the L×L transitions (from-major), then L start and L end weights.
 */
export interface ChainParams {
  numTags: number;
  attrStart: Int32Array;
  attrTag: Int32Array;
  weights: Float64Array;
}

/** Offsets of the parameter blocks inside `ChainParams.weights`. */
export function paramLayout(p: Pick<ChainParams, 'numTags' | 'attrTag'>): {
  transitions: number;
  start: number;
  end: number;
  total: number;
} {
  const k = p.attrTag.length;
  const l = p.numTags;
  return { transitions: k, start: k + l * l, end: k + l * l + l, total: k + l * l + 2 * l };
}

/** Builds state-feature tables pairing every attribute with every tag (dense layout). */
export function denseStateLayout(
  numAttributes: number,
  numTags: number,
): Pick<ChainParams, 'attrStart' | 'attrTag'> {
  const attrStart = new Int32Array(numAttributes + 1);
  for (let a = 0; a <= numAttributes; a++) attrStart[a] = a * numTags;
  const attrTag = new Int32Array(numAttributes * numTags);
  for (let k = 0; k < attrTag.length; k++) attrTag[k] = k % numTags;
  return { attrStart, attrTag };
}

/** Adds every state score of `seq` into `out` (T × L, row per token), zeroing it first. */
export function computeStateScores(
  seq: CompiledSequence,
  p: ChainParams,
  denseBase: number,
  out: Float64Array,
): void {
  const l = p.numTags;
  const { attrStart, attrTag, weights } = p;
  const { offsets, ids, dense } = seq;
  out.fill(0, 0, seq.length * l);
  for (let t = 0; t < seq.length; t++) {
    const base = t * l;
    for (let q = offsets[t]!; q < offsets[t + 1]!; q++) {
      const a = ids[q]!;
      const end = attrStart[a + 1]!;
      for (let k = attrStart[a]!; k < end; k++) out[base + attrTag[k]!] += weights[k]!;
    }
    const vec = dense?.[t];
    if (vec) {
      for (let i = 0; i < vec.length; i++) {
        const v = vec[i]!;
        if (v === 0) continue;
        const a = denseBase + i;
        const end = attrStart[a + 1]!;
        for (let k = attrStart[a]!; k < end; k++) out[base + attrTag[k]!] += weights[k]! * v;
      }
    }
  }
}

/** One path of {@link ChainInference.nBest}: tag ids, total score and probability. */
export interface ScoredPath {
  tags: Int32Array;
  score: number;
  probability: number;
}

interface SearchNode {
  t: number;
  tag: number;
  suffix: number;
  priority: number;
  order: number;
  next: SearchNode | null;
}

/** Max-heap of search nodes (ties: first inserted first). */
class NodeHeap {
  private items: SearchNode[] = [];
  get size(): number {
    return this.items.length;
  }
  private before(a: SearchNode, b: SearchNode): boolean {
    return a.priority > b.priority || (a.priority === b.priority && a.order < b.order);
  }
  push(n: SearchNode): void {
    const h = this.items;
    h.push(n);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }
  pop(): SearchNode | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < h.length && this.before(h[l]!, h[best]!)) best = l;
        if (r < h.length && this.before(h[r]!, h[best]!)) best = r;
        if (best === i) break;
        [h[i], h[best]] = [h[best]!, h[i]!];
        i = best;
      }
    }
    return top;
  }
}

/**
 * Inference over one linear chain with constrained transitions: Viterbi, scaled forward–backward
 * (with a log-space fallback), marginals, exact span probabilities and exact n-best by A*.
 * Holds reusable buffers; call {@link refresh} after the weights change.
 */
export class ChainInference {
  readonly numTags: number;
  /** Effective transition scores (−∞ where the scheme forbids the transition). */
  readonly trans: Float64Array;
  readonly start: Float64Array;
  readonly end: Float64Array;
  /** exp(transition − transOffset), 0 where forbidden. */
  readonly expTrans: Float64Array;
  /** Allowed transitions into each tag b: sources `inFrom[inStart[b] … inStart[b + 1])`. */
  private readonly inStart: Int32Array;
  private readonly inFrom: Int32Array;
  private readonly inScore: Float64Array;
  private readonly inExp: Float64Array;
  /** Allowed transitions out of each tag a: targets `outTo[outStart[a] … outStart[a + 1])`. */
  private readonly outStart: Int32Array;
  private readonly outTo: Int32Array;
  private readonly outExp: Float64Array;
  private readonly tmp: Float64Array;
  private readonly expStart: Float64Array;
  private readonly expEnd: Float64Array;
  private transOffset = 0;
  private startOffset = 0;
  private endOffset = 0;

  /** Scaled forward/backward variables and per-token data of the last {@link forwardBackward}. */
  alpha = new Float64Array(0);
  beta = new Float64Array(0);
  expState = new Float64Array(0);
  scale = new Float64Array(0);
  private stateMax = new Float64Array(0);
  private delta = new Float64Array(0);
  private back = new Int32Array(0);
  private length = 0;
  private logMode = false;
  private logZ = 0;
  private scores: Float64Array = new Float64Array(0);

  constructor(
    readonly params: ChainParams,
    readonly tagSet: TagSet,
  ) {
    const l = params.numTags;
    this.numTags = l;
    this.trans = new Float64Array(l * l);
    this.start = new Float64Array(l);
    this.end = new Float64Array(l);
    this.expTrans = new Float64Array(l * l);
    this.expStart = new Float64Array(l);
    this.expEnd = new Float64Array(l);
    this.tmp = new Float64Array(l);
    const inStart = [0];
    const inFrom: number[] = [];
    const outStart = [0];
    const outTo: number[] = [];
    for (let b = 0; b < l; b++) {
      for (let a = 0; a < l; a++) if (tagSet.allowedTransition(a, b)) inFrom.push(a);
      inStart.push(inFrom.length);
    }
    for (let a = 0; a < l; a++) {
      for (let b = 0; b < l; b++) if (tagSet.allowedTransition(a, b)) outTo.push(b);
      outStart.push(outTo.length);
    }
    this.inStart = Int32Array.from(inStart);
    this.inFrom = Int32Array.from(inFrom);
    this.inScore = new Float64Array(inFrom.length);
    this.inExp = new Float64Array(inFrom.length);
    this.outStart = Int32Array.from(outStart);
    this.outTo = Int32Array.from(outTo);
    this.outExp = new Float64Array(outTo.length);
    this.refresh();
  }

  /** Recomputes the transition tables from `params.weights` (call after the weights change). */
  refresh(): void {
    const l = this.numTags;
    const lay = paramLayout(this.params);
    const w = this.params.weights;
    const ts = this.tagSet;
    let maxT = Number.NEGATIVE_INFINITY;
    for (let a = 0; a < l; a++) {
      for (let b = 0; b < l; b++) {
        const v = ts.allowedTransition(a, b) ? w[lay.transitions + a * l + b]! : Number.NEGATIVE_INFINITY;
        this.trans[a * l + b] = v;
        if (v > maxT) maxT = v;
      }
    }
    let maxS = Number.NEGATIVE_INFINITY;
    let maxE = Number.NEGATIVE_INFINITY;
    for (let y = 0; y < l; y++) {
      this.start[y] = ts.allowedStart(y) ? w[lay.start + y]! : Number.NEGATIVE_INFINITY;
      this.end[y] = ts.allowedEnd(y) ? w[lay.end + y]! : Number.NEGATIVE_INFINITY;
      maxS = Math.max(maxS, this.start[y]!);
      maxE = Math.max(maxE, this.end[y]!);
    }
    this.transOffset = maxT;
    this.startOffset = maxS;
    this.endOffset = maxE;
    for (let a = 0; a < l; a++) {
      for (let b = 0; b < l; b++) {
        const e = Math.exp(this.trans[a * l + b]! - maxT);
        this.expTrans[a * l + b] = e;
      }
    }
    for (let y = 0; y < l; y++) {
      this.expStart[y] = Math.exp(this.start[y]! - maxS);
      this.expEnd[y] = Math.exp(this.end[y]! - maxE);
    }
    for (let b = 0; b < l; b++) {
      for (let q = this.inStart[b]!; q < this.inStart[b + 1]!; q++) {
        const a = this.inFrom[q]!;
        this.inScore[q] = this.trans[a * l + b]!;
        this.inExp[q] = this.expTrans[a * l + b]!;
      }
    }
    for (let a = 0; a < l; a++) {
      for (let q = this.outStart[a]!; q < this.outStart[a + 1]!; q++) {
        this.outExp[q] = this.expTrans[a * l + this.outTo[q]!]!;
      }
    }
  }

  private ensure(t: number): void {
    const need = t * this.numTags;
    if (this.alpha.length >= need) return;
    const size = Math.max(need, this.alpha.length * 2);
    this.alpha = new Float64Array(size);
    this.beta = new Float64Array(size);
    this.expState = new Float64Array(size);
    this.delta = new Float64Array(size);
    this.back = new Int32Array(size);
    this.scale = new Float64Array(size / this.numTags + 1);
    this.stateMax = new Float64Array(size / this.numTags + 1);
  }

  /** The best tag sequence for state scores `scores` (T × L) and its score. */
  viterbi(scores: Float64Array, t: number): { tags: Int32Array; score: number } {
    const l = this.numTags;
    const tags = new Int32Array(t);
    if (t === 0) return { tags, score: 0 };
    this.ensure(t);
    const { delta, back, inStart, inFrom, inScore } = this;
    for (let y = 0; y < l; y++) delta[y] = this.start[y]! + scores[y]!;
    for (let i = 1; i < t; i++) {
      const prev = (i - 1) * l;
      const cur = i * l;
      for (let b = 0; b < l; b++) {
        let best = Number.NEGATIVE_INFINITY;
        let arg = 0;
        const end = inStart[b + 1]!;
        for (let q = inStart[b]!; q < end; q++) {
          const a = inFrom[q]!;
          const v = delta[prev + a]! + inScore[q]!;
          if (v > best) {
            best = v;
            arg = a;
          }
        }
        delta[cur + b] = best + scores[cur + b]!;
        back[cur + b] = arg;
      }
    }
    let best = Number.NEGATIVE_INFINITY;
    let arg = 0;
    const last = (t - 1) * l;
    for (let y = 0; y < l; y++) {
      const v = delta[last + y]! + this.end[y]!;
      if (v > best) {
        best = v;
        arg = y;
      }
    }
    tags[t - 1] = arg;
    for (let i = t - 1; i > 0; i--) tags[i - 1] = back[i * l + tags[i]!]!;
    return { tags, score: best };
  }

  /** Score of a given tag sequence (−∞ when it breaks the scheme's constraints). */
  pathScore(scores: Float64Array, tags: ArrayLike<number>): number {
    const l = this.numTags;
    if (tags.length === 0) return 0;
    let s = this.start[tags[0]!]! + scores[tags[0]!]!;
    for (let i = 1; i < tags.length; i++)
      s += this.trans[tags[i - 1]! * l + tags[i]!]! + scores[i * l + tags[i]!]!;
    return s + this.end[tags[tags.length - 1]!]!;
  }

  /**
   * Runs forward–backward on state scores (T × L) and returns log Z. Afterwards
   * {@link marginal} and {@link spanProbability} answer for this sequence.
   */
  forwardBackward(scores: Float64Array, t: number): number {
    const l = this.numTags;
    this.length = t;
    this.scores = scores;
    this.logMode = false;
    if (t === 0) {
      this.logZ = 0;
      return 0;
    }
    this.ensure(t);
    const { alpha, beta, expState, scale, stateMax, inStart, inFrom, inExp, outStart, outTo, outExp, tmp } =
      this;
    let logZ = this.startOffset + this.endOffset + (t - 1) * this.transOffset;
    for (let i = 0; i < t; i++) {
      const base = i * l;
      let m = Number.NEGATIVE_INFINITY;
      for (let y = 0; y < l; y++) if (scores[base + y]! > m) m = scores[base + y]!;
      stateMax[i] = m;
      logZ += m;
      for (let y = 0; y < l; y++) expState[base + y] = Math.exp(scores[base + y]! - m);
    }
    let sum = 0;
    for (let y = 0; y < l; y++) {
      const v = this.expStart[y]! * expState[y]!;
      alpha[y] = v;
      sum += v;
    }
    let ok = sum > 0 && Number.isFinite(sum);
    if (ok) {
      scale[0] = sum;
      for (let y = 0; y < l; y++) alpha[y] = alpha[y]! / sum;
      for (let i = 1; i < t && ok; i++) {
        const prev = (i - 1) * l;
        const cur = i * l;
        sum = 0;
        for (let b = 0; b < l; b++) {
          let acc = 0;
          const end = inStart[b + 1]!;
          for (let q = inStart[b]!; q < end; q++) acc += alpha[prev + inFrom[q]!]! * inExp[q]!;
          const v = acc * expState[cur + b]!;
          alpha[cur + b] = v;
          sum += v;
        }
        if (!(sum > 0) || !Number.isFinite(sum)) ok = false;
        else {
          scale[i] = sum;
          const inv = 1 / sum;
          for (let b = 0; b < l; b++) alpha[cur + b] = alpha[cur + b]! * inv;
        }
      }
    }
    let e = 0;
    if (ok) {
      const last = (t - 1) * l;
      for (let y = 0; y < l; y++) e += alpha[last + y]! * this.expEnd[y]!;
      ok = e > 0 && Number.isFinite(e);
    }
    if (!ok) return this.logForwardBackward(scores, t);
    const last = (t - 1) * l;
    for (let y = 0; y < l; y++) beta[last + y] = this.expEnd[y]! / e;
    for (let i = t - 2; i >= 0; i--) {
      const cur = i * l;
      const nxt = (i + 1) * l;
      const inv = 1 / scale[i + 1]!;
      for (let b = 0; b < l; b++) tmp[b] = expState[nxt + b]! * beta[nxt + b]!;
      for (let a = 0; a < l; a++) {
        let acc = 0;
        const end = outStart[a + 1]!;
        for (let q = outStart[a]!; q < end; q++) acc += outExp[q]! * tmp[outTo[q]!]!;
        beta[cur + a] = acc * inv;
      }
    }
    for (let i = 0; i < t; i++) logZ += Math.log(scale[i]!);
    logZ += Math.log(e);
    this.logZ = logZ;
    return logZ;
  }

  /** Log-space forward–backward for extreme weights; stores log α and log β and marks log mode. */
  private logForwardBackward(scores: Float64Array, t: number): number {
    const l = this.numTags;
    const { alpha, beta, trans } = this;
    const lse = (xs: number[]): number => {
      let m = Number.NEGATIVE_INFINITY;
      for (const x of xs) if (x > m) m = x;
      if (m === Number.NEGATIVE_INFINITY) return m;
      let s = 0;
      for (const x of xs) s += Math.exp(x - m);
      return m + Math.log(s);
    };
    for (let y = 0; y < l; y++) alpha[y] = this.start[y]! + scores[y]!;
    for (let i = 1; i < t; i++) {
      for (let b = 0; b < l; b++) {
        const terms: number[] = [];
        for (let a = 0; a < l; a++) terms.push(alpha[(i - 1) * l + a]! + trans[a * l + b]!);
        alpha[i * l + b] = lse(terms) + scores[i * l + b]!;
      }
    }
    for (let y = 0; y < l; y++) beta[(t - 1) * l + y] = this.end[y]!;
    for (let i = t - 2; i >= 0; i--) {
      for (let a = 0; a < l; a++) {
        const terms: number[] = [];
        for (let b = 0; b < l; b++) {
          terms.push(trans[a * l + b]! + scores[(i + 1) * l + b]! + beta[(i + 1) * l + b]!);
        }
        beta[i * l + a] = lse(terms);
      }
    }
    const terms: number[] = [];
    for (let y = 0; y < l; y++) terms.push(alpha[(t - 1) * l + y]! + this.end[y]!);
    this.logZ = lse(terms);
    this.logMode = true;
    return this.logZ;
  }

  /** P(tag at token i = y) after {@link forwardBackward}. */
  marginal(i: number, y: number): number {
    const k = i * this.numTags + y;
    if (this.logMode) return Math.exp(this.alpha[k]! + this.beta[k]! - this.logZ);
    return this.alpha[k]! * this.beta[k]!;
  }

  /** Writes every token marginal P(tag at i = y) into `out` (T × L) after {@link forwardBackward}. */
  marginalsInto(out: Float64Array): void {
    const n = this.length * this.numTags;
    const { alpha, beta } = this;
    if (this.logMode) for (let k = 0; k < n; k++) out[k] = Math.exp(alpha[k]! + beta[k]! - this.logZ);
    else for (let k = 0; k < n; k++) out[k] = alpha[k]! * beta[k]!;
  }

  /** Adds Σ_t P(tag t−1 = a, tag t = b) into `target[offset + a·L + b]` after {@link forwardBackward}. */
  addTransitionMarginals(target: Float64Array, offset: number): void {
    const l = this.numTags;
    const t = this.length;
    const { alpha, beta, expState, scale, scores, trans, outStart, outTo, outExp, tmp } = this;
    for (let i = 1; i < t; i++) {
      const prev = (i - 1) * l;
      const cur = i * l;
      if (this.logMode) {
        for (let a = 0; a < l; a++) {
          for (let b = 0; b < l; b++) {
            const v = alpha[prev + a]! + trans[a * l + b]! + scores[cur + b]! + beta[cur + b]! - this.logZ;
            target[offset + a * l + b] += Math.exp(v);
          }
        }
        continue;
      }
      const inv = 1 / scale[i]!;
      for (let b = 0; b < l; b++) tmp[b] = expState[cur + b]! * beta[cur + b]! * inv;
      for (let a = 0; a < l; a++) {
        const al = alpha[prev + a]!;
        if (al === 0) continue;
        const o = offset + a * l;
        const end = outStart[a + 1]!;
        for (let q = outStart[a]!; q < end; q++) {
          const b = outTo[q]!;
          target[o + b] += al * outExp[q]! * tmp[b]!;
        }
      }
    }
  }

  /**
   * Exact probability, after {@link forwardBackward}, that tokens first…last carry exactly `tags`
   * and that token last + 1 (if any) carries none of `notNext` — i.e. that this entity is
   * predicted as is, neither shorter nor longer.
   */
  spanProbability(first: number, last: number, tags: readonly number[], notNext: readonly number[]): number {
    const l = this.numTags;
    const t = this.length;
    const blocked = (y: number) => notNext.includes(y);
    if (this.logMode) {
      const { alpha, beta, trans, scores } = this;
      let s = alpha[first * l + tags[0]!]!;
      for (let i = first + 1; i <= last; i++)
        s += trans[tags[i - first - 1]! * l + tags[i - first]!]! + scores[i * l + tags[i - first]!]!;
      const y = tags[tags.length - 1]!;
      let tail: number;
      if (last === t - 1) tail = beta[last * l + y]!;
      else {
        let m = Number.NEGATIVE_INFINITY;
        const terms: number[] = [];
        for (let b = 0; b < l; b++) {
          if (blocked(b)) continue;
          const v = trans[y * l + b]! + scores[(last + 1) * l + b]! + beta[(last + 1) * l + b]!;
          terms.push(v);
          if (v > m) m = v;
        }
        tail =
          m === Number.NEGATIVE_INFINITY
            ? m
            : m + Math.log(terms.reduce((acc, v) => acc + Math.exp(v - m), 0));
      }
      return Math.min(1, Math.exp(s + tail - this.logZ));
    }
    const { alpha, beta, expTrans, expState, scale } = this;
    let p = alpha[first * l + tags[0]!]!;
    for (let i = first + 1; i <= last; i++) {
      const a = tags[i - first - 1]!;
      const b = tags[i - first]!;
      p *= (expTrans[a * l + b]! * expState[i * l + b]!) / scale[i]!;
    }
    const y = tags[tags.length - 1]!;
    if (last === t - 1) p *= beta[last * l + y]!;
    else {
      const nxt = (last + 1) * l;
      let acc = 0;
      for (let b = 0; b < l; b++) {
        if (blocked(b)) continue;
        acc += expTrans[y * l + b]! * expState[nxt + b]! * beta[nxt + b]!;
      }
      p *= acc / scale[last + 1]!;
    }
    return Math.min(1, Math.max(0, p));
  }

  /**
   * The `n` best tag sequences, best first, with exact probabilities, by A* search backwards over
   * the Viterbi lattice (the forward Viterbi scores are an exact heuristic, so paths come out in order).
   */
  nBest(scores: Float64Array, t: number, n: number): ScoredPath[] {
    const l = this.numTags;
    if (n <= 0) return [];
    const logZ = this.forwardBackward(scores, t);
    if (t === 0) return [{ tags: new Int32Array(0), score: 0, probability: 1 }];
    this.viterbi(scores, t);
    const { delta, trans } = this;
    const heap = new NodeHeap();
    let order = 0;
    for (let y = 0; y < l; y++) {
      const suffix = this.end[y]!;
      const priority = delta[(t - 1) * l + y]! + suffix;
      if (priority > Number.NEGATIVE_INFINITY)
        heap.push({ t: t - 1, tag: y, suffix, priority, order: order++, next: null });
    }
    const out: ScoredPath[] = [];
    while (out.length < n && heap.size > 0) {
      const node = heap.pop()!;
      if (node.t === 0) {
        const tags = new Int32Array(t);
        let cur: SearchNode | null = node;
        for (let i = 0; cur; i++, cur = cur.next) tags[i] = cur.tag;
        out.push({ tags, score: node.priority, probability: Math.min(1, Math.exp(node.priority - logZ)) });
        continue;
      }
      const suffixBase = node.suffix + scores[node.t * l + node.tag]!;
      for (let a = 0; a < l; a++) {
        const tr = trans[a * l + node.tag]!;
        if (tr === Number.NEGATIVE_INFINITY) continue;
        const suffix = suffixBase + tr;
        const priority = delta[(node.t - 1) * l + a]! + suffix;
        if (priority === Number.NEGATIVE_INFINITY) continue;
        heap.push({ t: node.t - 1, tag: a, suffix, priority, order: order++, next: node });
      }
    }
    return out;
  }
}
