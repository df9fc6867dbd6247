import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../../../src/core/rng.ts';
import { buildStateLayout, CrfObjective } from '../../../src/models/crf/crf-objective.ts';
import { type ChainParams, paramLayout } from '../../../src/models/crf/linear-chain.ts';
import { FeatureConfigSchema } from '../../../src/models/features/feature-config.ts';
import { type TagScheme, TagSet } from '../../../src/models/features/tag-scheme.ts';
import { TokenFeatureExtractor } from '../../../src/models/features/token-features.ts';

const SENTENCES = [
  { words: ['Anna', 'lives', 'in', 'Berlin'], tags: ['B-PER', 'O', 'O', 'B-LOC'] },
  { words: ['New', 'York', 'is', 'big'], tags: ['B-LOC', 'I-LOC', 'O', 'O'] },
  { words: ['Bob', 'Smith', 'visited', 'New', 'York'], tags: ['B-PER', 'I-PER', 'O', 'B-LOC', 'I-LOC'] },
];

function toBilou(tags: string[]): string[] {
  return tags.map((tag, i) => {
    if (tag === 'O') return tag;
    const next = tags[i + 1];
    const ends = next === undefined || !next.startsWith('I-');
    if (tag.startsWith('B-')) return ends ? `U-${tag.slice(2)}` : tag;
    return ends ? `L-${tag.slice(2)}` : tag;
  });
}

function problem(scheme: TagScheme, possibleStates: boolean, c2: number, vectors: boolean) {
  const config = FeatureConfigSchema.parse({
    window: 1,
    vectors: vectors ? { map: { anna: [0.5, -1], berlin: [1, 0.25], york: [-0.5, 2] } } : null,
  });
  const resources = vectors
    ? {
        vectors: new Map([
          ['anna', Float32Array.from([0.5, -1])],
          ['berlin', Float32Array.from([1, 0.25])],
          ['york', Float32Array.from([-0.5, 2])],
        ]),
      }
    : {};
  const fx = new TokenFeatureExtractor(config, resources);
  fx.fitIndex(SENTENCES.map((s) => s.words));
  const tagSet = new TagSet(['LOC', 'PER'], scheme);
  const seqs = SENTENCES.map((s) => fx.compile(s.words));
  const gold = SENTENCES.map((s) =>
    Int32Array.from(scheme === 'BIO' ? s.tags : toBilou(s.tags), (t) => tagSet.tagId(t)),
  );
  for (const g of gold) assert.ok(!g.includes(-1));
  const layout = buildStateLayout(seqs, gold, fx.size, tagSet.size, fx.denseBase, possibleStates);
  const params: ChainParams = { numTags: tagSet.size, ...layout, weights: new Float64Array(0) };
  const n = paramLayout(params).total;
  params.weights = new Float64Array(n);
  return { objective: new CrfObjective(seqs, gold, params, tagSet, fx.denseBase, c2), n };
}

for (const [scheme, possibleStates, vectors] of [
  ['BIO', false, false],
  ['BIO', true, true],
  ['BILOU', false, true],
] as const) {
  test(`CRF gradient matches finite differences (${scheme}, possibleStates=${possibleStates}, vectors=${vectors})`, () => {
    const { objective, n } = problem(scheme, possibleStates, 0.3, vectors);
    const rng = createRng(7);
    const x = Float64Array.from({ length: n }, () => rng.normal(0, 0.5));
    const g = new Float64Array(n);
    objective.evaluate(x, g);
    const analytic = Float64Array.from(g);
    const h = 1e-5;
    const scratch = new Float64Array(n);
    // Check a deterministic sample of coordinates from every parameter block.
    const lay = paramLayout(objective.params);
    const picks = new Set<number>();
    for (let i = 0; i < 40; i++) picks.add(rng.int(lay.transitions));
    for (let i = 0; i < 15; i++) picks.add(lay.transitions + rng.int(n - lay.transitions));
    for (const i of picks) {
      const xp = Float64Array.from(x);
      const xm = Float64Array.from(x);
      xp[i] = xp[i]! + h;
      xm[i] = xm[i]! - h;
      const numeric = (objective.evaluate(xp, scratch) - objective.evaluate(xm, scratch)) / (2 * h);
      assert.ok(
        Math.abs(numeric - analytic[i]!) < 1e-5 * Math.max(1, Math.abs(numeric)),
        `param ${i}: analytic ${analytic[i]}, numeric ${numeric}`,
      );
    }
  });
}

test('at zero weights the loss is Σ log(#valid paths) (uniform model)', () => {
  const { objective, n } = problem('BIO', false, 1, false);
  const loss = objective.evaluate(new Float64Array(n), new Float64Array(n));
  assert.ok(loss > 0);
  // Every state feature's gradient is expected − empirical count, so some are negative.
  const g = new Float64Array(n);
  objective.evaluate(new Float64Array(n), g);
  assert.ok(g.some((v) => v < 0) && g.some((v) => v > 0));
});

test('without possibleStates only attribute–tag pairs seen in training get weights', () => {
  const sparse = problem('BIO', false, 1, false).n;
  const dense = problem('BIO', true, 1, false).n;
  assert.ok(sparse < dense);
});
