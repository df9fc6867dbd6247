import type { TagSet } from '../features/tag-scheme.ts';
import type { CompiledSequence } from '../features/token-features.ts';
import {
  ChainInference,
  type ChainParams,
  computeStateScores,
  denseStateLayout,
  paramLayout,
} from './linear-chain.ts';

/**
 * State-feature tables for training: every attribute × tag when `possibleStates`, otherwise only
 * the attribute–tag pairs that occur in the gold data (CRFsuite's default), sorted by tag.
 */
export function buildStateLayout(
  seqs: readonly CompiledSequence[],
  gold: readonly Int32Array[],
  numAttributes: number,
  numTags: number,
  denseBase: number,
  possibleStates: boolean,
): Pick<ChainParams, 'attrStart' | 'attrTag'> {
  if (possibleStates) return denseStateLayout(numAttributes, numTags);
  const seen = new Uint8Array(numAttributes * numTags);
  seqs.forEach((seq, s) => {
    const tags = gold[s]!;
    for (let t = 0; t < seq.length; t++) {
      const y = tags[t]!;
      for (let q = seq.offsets[t]!; q < seq.offsets[t + 1]!; q++) seen[seq.ids[q]! * numTags + y] = 1;
      const vec = seq.dense?.[t];
      if (vec) for (let i = 0; i < vec.length; i++) if (vec[i] !== 0) seen[(denseBase + i) * numTags + y] = 1;
    }
  });
  const attrStart = new Int32Array(numAttributes + 1);
  const tagsOut: number[] = [];
  for (let a = 0; a < numAttributes; a++) {
    for (let y = 0; y < numTags; y++) if (seen[a * numTags + y]) tagsOut.push(y);
    attrStart[a + 1] = tagsOut.length;
  }
  return { attrStart, attrTag: Int32Array.from(tagsOut) };
}

/**
 * The negative conditional log-likelihood of a linear-chain CRF over the training set plus
 * `c2 · ‖w‖²`, with its gradient (expected minus empirical feature counts + 2·c2·w).
 */
export class CrfObjective {
  /** Empirical feature counts of the gold sequences. */
  readonly empirical: Float64Array;
  private readonly inference: ChainInference;
  private scores = new Float64Array(0);
  private marginals = new Float64Array(0);

  constructor(
    private readonly seqs: readonly CompiledSequence[],
    gold: readonly Int32Array[],
    readonly params: ChainParams,
    tagSet: TagSet,
    private readonly denseBase: number,
    private readonly c2: number,
  ) {
    this.inference = new ChainInference(params, tagSet);
    this.empirical = new Float64Array(params.weights.length);
    const lay = paramLayout(params);
    const l = params.numTags;
    const { attrStart, attrTag } = params;
    const e = this.empirical;
    seqs.forEach((seq, s) => {
      const tags = gold[s]!;
      for (let t = 0; t < seq.length; t++) {
        const y = tags[t]!;
        const addState = (a: number, v: number) => {
          for (let k = attrStart[a]!; k < attrStart[a + 1]!; k++) if (attrTag[k] === y) e[k] += v;
        };
        for (let q = seq.offsets[t]!; q < seq.offsets[t + 1]!; q++) addState(seq.ids[q]!, 1);
        const vec = seq.dense?.[t];
        if (vec) for (let i = 0; i < vec.length; i++) if (vec[i] !== 0) addState(denseBase + i, vec[i]!);
        if (t === 0) e[lay.start + y] += 1;
        else e[lay.transitions + tags[t - 1]! * l + y] += 1;
      }
      if (seq.length > 0) e[lay.end + tags[seq.length - 1]!] += 1;
    });
  }

  /** Evaluates the objective at `x` (which becomes the model's weights) and writes the gradient into `grad`. */
  evaluate(x: Float64Array, grad: Float64Array): number {
    const p = this.params;
    p.weights = x;
    this.inference.refresh();
    const l = p.numTags;
    const lay = paramLayout(p);
    const { attrStart, attrTag } = p;
    grad.fill(0);
    let loss = 0;
    for (const seq of this.seqs) {
      const n = seq.length;
      if (n === 0) continue;
      if (this.scores.length < n * l) {
        this.scores = new Float64Array(n * l * 2);
        this.marginals = new Float64Array(n * l * 2);
      }
      const scores = this.scores;
      const marg = this.marginals;
      computeStateScores(seq, p, this.denseBase, scores);
      loss += this.inference.forwardBackward(scores, n);
      this.inference.marginalsInto(marg);
      const { offsets, ids, dense } = seq;
      for (let t = 0; t < n; t++) {
        const base = t * l;
        for (let q = offsets[t]!; q < offsets[t + 1]!; q++) {
          const a = ids[q]!;
          const end = attrStart[a + 1]!;
          for (let k = attrStart[a]!; k < end; k++) grad[k] += marg[base + attrTag[k]!]!;
        }
        const vec = dense?.[t];
        if (vec) {
          for (let i = 0; i < vec.length; i++) {
            const v = vec[i]!;
            if (v === 0) continue;
            const a = this.denseBase + i;
            for (let k = attrStart[a]!; k < attrStart[a + 1]!; k++) grad[k] += marg[base + attrTag[k]!]! * v;
          }
        }
      }
      for (let y = 0; y < l; y++) {
        grad[lay.start + y] += marg[y]!;
        grad[lay.end + y] += marg[(n - 1) * l + y]!;
      }
      this.inference.addTransitionMarginals(grad, lay.transitions);
    }
    const e = this.empirical;
    const c2 = this.c2;
    for (let i = 0; i < x.length; i++) {
      const w = x[i]!;
      loss -= w * e[i]!;
      grad[i] += 2 * c2 * w - e[i]!;
      loss += c2 * w * w;
    }
    return loss;
  }
}
