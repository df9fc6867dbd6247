import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { rareLabels, sliceMetrics } from '../../src/analysis/slice-metrics.ts';
import type { SapphireError } from '../../src/core/errors.ts';
import type { Example } from '../../src/data/types.ts';
import type { Prediction } from '../../src/models/model.ts';

/** 40 examples: 13 of 2 tokens, 13 of 5, 14 of 9; groups g1 (0–23), g2 (24–29), none after. */
function classifyFixture(): { examples: Example[]; predictions: Prediction[] } {
  const examples: Example[] = [];
  const predictions: Prediction[] = [];
  for (let i = 0; i < 40; i++) {
    const tokens = i < 13 ? 2 : i < 26 ? 5 : 9;
    const label = i >= 36 ? 'c' : i % 2 === 0 ? 'a' : 'b';
    const group = i < 24 ? 'g1' : i < 30 ? 'g2' : 'g3';
    examples.push({ id: `x${i}`, text: Array(tokens).fill('w').join(' '), labels: [label], meta: { group } });
    // Wrong on 8 of g1 (0–7) and 3 of g2 (24–26): accuracy 29/40.
    const wrong = i < 8 || (i >= 24 && i < 27);
    const predicted = wrong ? (label === 'a' ? 'b' : 'a') : label;
    predictions.push({ labels: [predicted], scores: [{ label: predicted, score: 0.8 }] });
  }
  return { examples, predictions };
}

const slices = [
  { name: 'group-1', description: 'first group', where: { meta: { field: 'group', equals: 'g1' } } },
  { name: 'group-2', where: { meta: { field: 'group', equals: 'g2' } } },
  { name: 'nobody', where: { meta: { field: 'group', equals: 'zzz' } } },
];

describe('sliceMetrics', () => {
  it('scores declared slices, flags lagging ones and never flags small ones', () => {
    const { examples, predictions } = classifyFixture();
    const { overall, rows } = sliceMetrics('classify', examples, predictions, {
      primary: 'accuracy',
      slices,
    });
    assert.equal(overall, 29 / 40);
    const [g1, g2, nobody] = rows;
    assert.deepEqual(
      [g1!.name, g1!.kind, g1!.description, g1!.examples],
      ['group-1', 'declared', 'first group', 24],
    );
    assert.equal(g1!.score, 16 / 24);
    assert.ok(Math.abs(g1!.delta! - (16 / 24 - 29 / 40)) < 1e-12, 'delta is score minus overall');
    assert.equal(g1!.lagging, true, 'more than 0.05 below overall with 24 examples');
    assert.equal(g1!.metrics.accuracy, g1!.score);
    assert.deepEqual(
      [g2!.examples, g2!.score, g2!.lagging],
      [6, 0.5, false],
      'under minExamples: never flagged',
    );
    assert.deepEqual(
      [nobody!.examples, nobody!.score, nobody!.delta, nobody!.lagging, nobody!.metrics],
      [0, null, null, false, {}],
    );
    const flagged = sliceMetrics('classify', examples, predictions, {
      primary: 'accuracy',
      slices,
      minExamples: 5,
    });
    assert.equal(flagged.rows[1]!.lagging, true, 'minExamples lowered');
    const lenient = sliceMetrics('classify', examples, predictions, {
      primary: 'accuracy',
      slices,
      lagThreshold: 0.1,
    });
    assert.equal(lenient.rows[0]!.lagging, false, 'lagThreshold raised');
  });

  it('adds token-length terciles and rare/frequent classes by training frequency', () => {
    const { examples, predictions } = classifyFixture();
    const train: Example[] = [
      ...Array.from({ length: 20 }, (_, i) => ({ id: `a${i}`, text: 'w', labels: ['a'], meta: {} })),
      ...Array.from({ length: 20 }, (_, i) => ({ id: `b${i}`, text: 'w', labels: ['b'], meta: {} })),
      { id: 'c0', text: 'w', labels: ['c'], meta: {} },
      { id: 'c1', text: 'w', labels: ['c'], meta: {} },
    ];
    const { rows } = sliceMetrics('classify', examples, predictions, { primary: 'accuracy', train });
    assert.deepEqual(
      rows.map((r) => [r.name, r.kind, r.examples, r.description]),
      [
        ['length-short', 'length', 13, '2 tokens'],
        ['length-medium', 'length', 13, '3–5 tokens'],
        ['length-long', 'length', 14, '6–9 tokens'],
        ['rare-classes', 'rarity', 4, 'examples with a gold rare class (c)'],
        ['frequent-classes', 'rarity', 36, 'examples whose gold classes are all frequent'],
      ],
    );
    assert.equal(rows[0]!.score, 5 / 13, 'examples 0–7 wrong among the 13 short ones');
  });

  it('ner: rare types and entities unseen in training', () => {
    const ner = (id: string, text: string, spans: [number, number, string][]): Example => ({
      id,
      text,
      spans: spans.map(([start, end, label]) => ({ start, end, label })),
      meta: {},
    });
    const train = [
      ...Array.from({ length: 10 }, (_, i) => ner(`t${i}`, 'Paris is nice', [[0, 5, 'LOC']])),
      ner('p', 'Bob  Smith came', [[0, 10, 'PER']]),
    ];
    const test = [
      ner('e1', 'PARIS again', [[0, 5, 'LOC']]),
      ner('e2', 'Lyon again', [[0, 4, 'LOC']]),
      ner('e3', 'bob smith again', [[0, 9, 'PER']]),
      ner('e4', 'nothing here', []),
    ];
    const predictions: Prediction[] = test.map((e) => ({
      spans: (e.spans ?? []).map((s) => ({ ...s, score: 1 })),
    }));
    predictions[1] = { spans: [] };
    const { overall, rows } = sliceMetrics('ner', test, predictions, { primary: 'span_f1_micro', train });
    assert.equal(overall, 0.8);
    const byName = new Map(rows.map((r) => [r.name, r]));
    assert.equal(byName.get('rare-types')!.examples, 1, 'PER is rare (1 vs a mean of 5.5)');
    assert.equal(byName.get('frequent-types')!.examples, 2);
    assert.equal(
      byName.get('unseen-entities')!.examples,
      1,
      'only Lyon is unseen (case and spacing ignored)',
    );
    assert.equal(byName.get('unseen-entities')!.score, 0);
    assert.equal(byName.get('seen-entities')!.examples, 2);
    assert.equal(byName.get('seen-entities')!.score, 1);
    const noTrain = sliceMetrics('ner', test, predictions, { primary: 'span_f1_micro' });
    assert.equal(
      noTrain.rows.some((r) => r.kind === 'unseen'),
      false,
      'no unseen slices without training data',
    );
  });

  it('rejects a primary metric the evaluation does not report', () => {
    const { examples, predictions } = classifyFixture();
    assert.throws(
      () => sliceMetrics('classify', examples, predictions, { primary: 'span_f1_micro' }),
      (e: SapphireError) =>
        e.code === 'CONFIG_INVALID' &&
        /"span_f1_micro" is not reported/.test(e.message) &&
        /accuracy/.test(e.hint!),
    );
  });

  it('rareLabels: labels below half the mean count per label', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 40 }), (labels) => {
        const examples = labels.map((l, i) => ({ id: `${i}`, text: 'x', labels: [l], meta: {} }));
        const rare = rareLabels('classify', examples);
        const counts = new Map<string, number>();
        for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
        const mean = labels.length / Math.max(1, counts.size);
        for (const [l, n] of counts) assert.equal(rare.has(l), n < mean / 2, `label ${l}`);
      }),
      { numRuns: 100 },
    );
  });

  it('length slices partition the examples', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 30 }), (lengths) => {
        const examples = lengths.map((n, i) => ({
          id: `${i}`,
          text: Array(n).fill('w').join(' '),
          labels: ['a'],
          meta: {},
        }));
        const predictions = examples.map(() => ({ labels: ['a'] }));
        const { rows } = sliceMetrics('classify', examples, predictions, { primary: 'accuracy' });
        const lengthRows = rows.filter((r) => r.kind === 'length');
        assert.equal(
          lengthRows.reduce((s, r) => s + r.examples, 0),
          examples.length,
        );
      }),
      { numRuns: 100 },
    );
  });
});
