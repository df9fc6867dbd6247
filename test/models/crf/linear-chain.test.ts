import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createRng } from '../../../src/core/rng.ts';
import {
  ChainInference,
  type ChainParams,
  denseStateLayout,
  paramLayout,
} from '../../../src/models/crf/linear-chain.ts';
import { type TagScheme, TagSet } from '../../../src/models/features/tag-scheme.ts';

/** A chain over `types` with random weights of scale `scale` and random state scores for `t` tokens. */
function randomChain(seed: number, types: string[], scheme: TagScheme, t: number, scale = 2) {
  const rng = createRng(seed);
  const tagSet = new TagSet(types, scheme);
  const l = tagSet.size;
  const layout = denseStateLayout(1, l);
  const params: ChainParams = { numTags: l, ...layout, weights: new Float64Array(0) };
  params.weights = Float64Array.from({ length: paramLayout(params).total }, () => rng.normal(0, scale));
  const scores = Float64Array.from({ length: t * l }, () => rng.normal(0, scale));
  return { tagSet, params, scores, inf: new ChainInference(params, tagSet), l };
}

/** Every tag sequence of length t with its score (−∞ for invalid ones). */
function enumerate(inf: ChainInference, scores: Float64Array, t: number, l: number) {
  const out: { tags: number[]; score: number }[] = [];
  const tags = new Array(t).fill(0);
  const rec = (i: number) => {
    if (i === t) {
      out.push({ tags: [...tags], score: inf.pathScore(scores, tags) });
      return;
    }
    for (let y = 0; y < l; y++) {
      tags[i] = y;
      rec(i + 1);
    }
  };
  rec(0);
  return out;
}

function logSumExp(xs: number[]): number {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}

test('forward–backward log Z and marginals match brute-force enumeration', () => {
  for (const scheme of ['BIO', 'BILOU'] as const) {
    const t = 4;
    const { inf, scores, l } = randomChain(11, ['A', 'B'], scheme, t);
    const paths = enumerate(inf, scores, t, l).filter((p) => p.score > Number.NEGATIVE_INFINITY);
    const logZ = logSumExp(paths.map((p) => p.score));
    assert.ok(Math.abs(inf.forwardBackward(scores, t) - logZ) < 1e-9, scheme);
    for (let i = 0; i < t; i++) {
      for (let y = 0; y < l; y++) {
        const want = paths.filter((p) => p.tags[i] === y).reduce((s, p) => s + Math.exp(p.score - logZ), 0);
        assert.ok(Math.abs(inf.marginal(i, y) - want) < 1e-9, `${scheme} marginal(${i}, ${y})`);
      }
    }
  }
});

test('token marginals sum to 1 and are 0 for tags the scheme forbids', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 12 }), (seed, t) => {
      const { inf, scores, l, tagSet } = randomChain(seed, ['LOC', 'ORG', 'PER'], 'BIO', t, 3);
      inf.forwardBackward(scores, t);
      for (let i = 0; i < t; i++) {
        let sum = 0;
        for (let y = 0; y < l; y++) sum += inf.marginal(i, y);
        assert.ok(Math.abs(sum - 1) < 1e-9);
      }
      for (let y = 0; y < l; y++) if (!tagSet.allowedStart(y)) assert.equal(inf.marginal(0, y), 0);
    }),
    { numRuns: 60 },
  );
});

test('the log-space fallback agrees with the scaled recursion and handles extreme weights', () => {
  const t = 5;
  const { inf, scores, l, params } = randomChain(5, ['A', 'B'], 'BIO', t);
  const logZ = inf.forwardBackward(scores, t);
  const margs = Array.from({ length: t * l }, (_, k) => inf.marginal(Math.floor(k / l), k % l));
  // Force the fallback: the private method is the oracle for the scaled one.
  const fallback = (
    inf as unknown as { logForwardBackward(s: Float64Array, t: number): number }
  ).logForwardBackward(scores, t);
  assert.ok(Math.abs(fallback - logZ) < 1e-9);
  margs.forEach((m, k) => {
    assert.ok(Math.abs(inf.marginal(Math.floor(k / l), k % l) - m) < 1e-9);
  });

  // Huge weights overflow exp(); the result must still be a proper distribution.
  params.weights = params.weights.map((w) => w * 2000);
  inf.refresh();
  const big = scores.map((s) => s * 2000);
  assert.ok(Number.isFinite(inf.forwardBackward(big, t)));
  for (let i = 0; i < t; i++) {
    let sum = 0;
    for (let y = 0; y < l; y++) sum += inf.marginal(i, y);
    assert.ok(Math.abs(sum - 1) < 1e-6);
  }
});

test('Viterbi returns the highest-scoring valid sequence', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 10_000 }),
      fc.constantFrom<TagScheme>('BIO', 'BILOU'),
      (seed, scheme) => {
        const t = 4;
        const { inf, scores, l } = randomChain(seed, ['A', 'B'], scheme, t);
        const best = enumerate(inf, scores, t, l).reduce((a, b) => (b.score > a.score ? b : a));
        const v = inf.viterbi(scores, t);
        assert.ok(Math.abs(v.score - best.score) < 1e-9);
        assert.ok(Math.abs(inf.pathScore(scores, v.tags) - v.score) < 1e-9);
      },
    ),
    { numRuns: 40 },
  );
});

test('n-best: first equals Viterbi, probabilities non-increasing, exact against enumeration', () => {
  for (const scheme of ['BIO', 'BILOU'] as const) {
    const t = 4;
    const { inf, scores, l } = randomChain(23, ['A', 'B'], scheme, t);
    const valid = enumerate(inf, scores, t, l)
      .filter((p) => p.score > Number.NEGATIVE_INFINITY)
      .sort((a, b) => b.score - a.score);
    const logZ = logSumExp(valid.map((p) => p.score));
    const best = inf.nBest(scores, t, valid.length + 5);
    assert.equal(best.length, valid.length, 'every valid path, and only those');
    assert.deepEqual(Array.from(best[0]!.tags), Array.from(inf.viterbi(scores, t).tags));
    for (let i = 1; i < best.length; i++) assert.ok(best[i]!.probability <= best[i - 1]!.probability + 1e-12);
    best.forEach((p, i) => {
      assert.ok(Math.abs(p.score - valid[i]!.score) < 1e-9);
      assert.ok(Math.abs(p.probability - Math.exp(valid[i]!.score - logZ)) < 1e-9);
    });
    const total = best.reduce((s, p) => s + p.probability, 0);
    assert.ok(Math.abs(total - 1) < 1e-9, `${scheme}: probabilities of all paths sum to 1`);
  }
});

test('span probability equals the brute-force probability of that exact entity', () => {
  const t = 5;
  const { inf, scores, l, tagSet } = randomChain(31, ['A', 'B'], 'BIO', t);
  const paths = enumerate(inf, scores, t, l).filter((p) => p.score > Number.NEGATIVE_INFINITY);
  const logZ = logSumExp(paths.map((p) => p.score));
  inf.forwardBackward(scores, t);
  for (const [first, last, type] of [
    [0, 0, 0],
    [1, 3, 1],
    [3, 4, 0],
    [4, 4, 1],
  ] as const) {
    const tags = tagSet.entityTags(type, last - first + 1);
    const want = paths
      .filter((p) =>
        tagSet.decode(p.tags).some((e) => e.first === first && e.last === last && e.type === type),
      )
      .reduce((s, p) => s + Math.exp(p.score - logZ), 0);
    const got = inf.spanProbability(first, last, tags, tagSet.continuationTags(type));
    assert.ok(Math.abs(got - want) < 1e-9, `span ${first}-${last}: ${got} vs ${want}`);
  }
});

test('constrained decoding never emits an invalid BIO or BILOU sequence', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 100_000 }),
      fc.integer({ min: 1, max: 15 }),
      fc.constantFrom<TagScheme>('BIO', 'BILOU'),
      (seed, t, scheme) => {
        const { inf, scores, tagSet } = randomChain(seed, ['A', 'B', 'C'], scheme, t, 5);
        for (const path of [inf.viterbi(scores, t).tags, ...inf.nBest(scores, t, 3).map((p) => p.tags)]) {
          assert.ok(tagSet.allowedStart(path[0]!));
          for (let i = 1; i < t; i++) assert.ok(tagSet.allowedTransition(path[i - 1]!, path[i]!));
          assert.ok(tagSet.allowedEnd(path[t - 1]!));
        }
      },
    ),
    { numRuns: 100 },
  );
});
