import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { computeStats, LENGTH_BUCKETS, NO_SPLIT, normalizeText } from '../../src/data/stats.ts';
import type { Example, Span } from '../../src/data/types.ts';

function span(text: string, surface: string, label: string, from = 0): Span {
  const start = text.indexOf(surface, from);
  assert.ok(start >= 0, `${surface} not in ${text}`);
  return { start, end: start + surface.length, label };
}

function ner(id: string, text: string, split: string | undefined, spans: [string, string][]): Example {
  return { id, text, split, spans: spans.map(([s, l]) => span(text, s, l)), meta: {} };
}

/** Hand-made NER set; numbers in the tests below are worked out by hand from it. */
const NER_SET: Example[] = [
  ner('n1', 'Nike and Adidas shoes', 'train', [
    ['Nike', 'BRAND'],
    ['Adidas', 'BRAND'],
  ]),
  ner('n2', 'I live in Paris', 'train', [['Paris', 'LOC']]),
  ner('n3', '  ', 'train', []),
  ner('n4', 'i live  in PARIS', 'test', [['PARIS', 'LOC']]),
  ner('n5', 'Gucci is new', 'test', [['Gucci', 'BRAND']]),
  ner('n6', 'Nike and Adidas shoes', 'dev', [['Nike', 'BRAND']]),
  ner('n7', 'Hello world!', undefined, []),
];

const CLS_SET: Example[] = [
  { id: 'c1', text: 'good movie', labels: ['pos'], split: 'train', meta: {} },
  { id: 'c2', text: 'bad movie', labels: ['neg'], split: 'train', meta: {} },
  { id: 'c3', text: 'great film', labels: ['pos'], split: 'train', meta: {} },
  { id: 'c4', text: 'Good  Movie', labels: ['neg'], split: 'test', meta: {} },
  { id: 'c5', text: 'awful', labels: ['neg'], split: 'test', meta: {} },
];

describe('computeStats on a hand-made NER set', () => {
  const stats = computeStats(NER_SET, {
    slices: new Map([['brands', ['n1', 'n5', 'n6', 'missing', 'n1']]]),
  });

  it('counts examples, tokens, characters and empty texts', () => {
    assert.equal(stats.task, 'ner');
    assert.equal(stats.examples, 7);
    assert.equal(stats.tokens, 4 + 4 + 0 + 4 + 3 + 4 + 3);
    assert.equal(stats.characters, 21 + 15 + 2 + 16 + 12 + 21 + 12);
    assert.equal(stats.emptyTexts, 1);
    assert.deepEqual(stats.emptyTextIds, ['n3']);
  });

  it('counts entities per label with the examples containing them', () => {
    assert.equal(stats.entities.total, 6);
    assert.deepEqual(stats.entities.labels, [
      { label: 'BRAND', count: 4, fraction: 4 / 6, examples: 3 },
      { label: 'LOC', count: 2, fraction: 2 / 6, examples: 2 },
    ]);
    assert.deepEqual(stats.classLabels, []);
  });

  it('gives the label distribution per split, in train/dev/test/(none) order', () => {
    assert.deepEqual(stats.splits, [
      {
        split: 'train',
        examples: 3,
        tokens: 8,
        entities: 3,
        labels: [
          { label: 'BRAND', count: 2, fraction: 2 / 3 },
          { label: 'LOC', count: 1, fraction: 1 / 3 },
        ],
      },
      {
        split: 'dev',
        examples: 1,
        tokens: 4,
        entities: 1,
        labels: [
          { label: 'BRAND', count: 1, fraction: 1 },
          { label: 'LOC', count: 0, fraction: 0 },
        ],
      },
      {
        split: 'test',
        examples: 2,
        tokens: 7,
        entities: 2,
        labels: [
          { label: 'BRAND', count: 1, fraction: 0.5 },
          { label: 'LOC', count: 1, fraction: 0.5 },
        ],
      },
      {
        split: NO_SPLIT,
        examples: 1,
        tokens: 3,
        entities: 0,
        labels: [
          { label: 'BRAND', count: 0, fraction: 0 },
          { label: 'LOC', count: 0, fraction: 0 },
        ],
      },
    ]);
  });

  it('summarises lengths in tokens', () => {
    const { histogram, ...summary } = stats.length;
    assert.deepEqual(summary, { min: 0, mean: 22 / 7, median: 4, p95: 4, max: 4 });
    assert.equal(histogram.length, LENGTH_BUCKETS.length);
    assert.deepEqual(histogram.slice(0, 3), [
      { label: '0', min: 0, max: 0, count: 1 },
      { label: '1–5', min: 1, max: 5, count: 6 },
      { label: '6–10', min: 6, max: 10, count: 0 },
    ]);
    assert.deepEqual(histogram.at(-1), { label: '321+', min: 321, max: null, count: 0 });
  });

  it('finds duplicates after normalisation and flags conflicting annotations', () => {
    assert.deepEqual(stats.duplicates, {
      groups: 2,
      examples: 4,
      redundant: 2,
      conflictingGroups: 1,
      conflictingExamples: 2,
      samples: [
        { text: 'nike and adidas shoes', count: 2, ids: ['n1', 'n6'], conflicting: true },
        // Same entity at the same place despite different case and spacing: not a conflict.
        { text: 'i live in paris', count: 2, ids: ['n2', 'n4'], conflicting: false },
      ],
    });
  });

  it('reports train texts leaking into other splits', () => {
    assert.equal(stats.trainSplit, 'train');
    assert.deepEqual(stats.leakage, [
      { split: 'dev', examples: 1, fraction: 1, sampleIds: ['n6'] },
      { split: 'test', examples: 1, fraction: 0.5, sampleIds: ['n4'] },
      { split: NO_SPLIT, examples: 0, fraction: 0, sampleIds: [] },
    ]);
  });

  it('reports tokens and types unseen in train, lowercased', () => {
    assert.deepEqual(stats.unseenTokens, [
      {
        split: 'dev',
        tokens: 4,
        unseenTokens: 0,
        tokenFraction: 0,
        types: 4,
        unseenTypes: 0,
        typeFraction: 0,
      },
      {
        split: 'test',
        tokens: 7,
        unseenTokens: 3,
        tokenFraction: 3 / 7,
        types: 7,
        unseenTypes: 3,
        typeFraction: 3 / 7,
      },
      {
        split: NO_SPLIT,
        tokens: 3,
        unseenTokens: 3,
        tokenFraction: 1,
        types: 3,
        unseenTypes: 3,
        typeFraction: 1,
      },
    ]);
  });

  it('reports slices: examples, unknown ids, splits and label distribution', () => {
    assert.deepEqual(stats.slices, [
      {
        name: 'brands',
        examples: 3,
        missingIds: 1,
        splits: [
          { split: 'train', count: 1 },
          { split: 'dev', count: 1 },
          { split: 'test', count: 1 },
        ],
        labels: [{ label: 'BRAND', count: 4, fraction: 1 }],
      },
    ]);
  });

  it('is plain JSON', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(stats)), stats);
  });
});

describe('computeStats on classification sets', () => {
  it('counts examples per label and per split, and conflicting duplicates by label', () => {
    const stats = computeStats(CLS_SET);
    assert.equal(stats.task, 'classify');
    assert.deepEqual(stats.classLabels, [
      { label: 'neg', count: 3, fraction: 0.6 },
      { label: 'pos', count: 2, fraction: 0.4 },
    ]);
    assert.deepEqual(
      stats.splits.map((s) => [s.split, s.examples, s.labels.map((l) => [l.label, l.count, l.fraction])]),
      [
        [
          'train',
          3,
          [
            ['neg', 1, 1 / 3],
            ['pos', 2, 2 / 3],
          ],
        ],
        [
          'test',
          2,
          [
            ['neg', 2, 1],
            ['pos', 0, 0],
          ],
        ],
      ],
    );
    assert.equal(stats.duplicates.conflictingGroups, 1);
    assert.deepEqual(stats.duplicates.samples[0]!.ids, ['c1', 'c4']);
    assert.deepEqual(stats.leakage, [{ split: 'test', examples: 1, fraction: 0.5, sampleIds: ['c4'] }]);
    assert.deepEqual(
      stats.unseenTokens.map((u) => [u.split, u.tokens, u.unseenTokens, u.types, u.unseenTypes]),
      [['test', 3, 1, 3, 1]],
    );
  });

  it('uses multilabel fractions of examples (they may sum above 1)', () => {
    const stats = computeStats([
      { id: 'm1', text: 'a', labels: ['x', 'y'], meta: {} },
      { id: 'm2', text: 'b', labels: ['x', 'x'], meta: {} },
    ]);
    assert.equal(stats.task, 'multilabel');
    assert.deepEqual(stats.classLabels, [
      { label: 'x', count: 2, fraction: 1 },
      { label: 'y', count: 1, fraction: 0.5 },
    ]);
    assert.deepEqual(
      stats.splits[0]!.labels.map((l) => l.fraction),
      [1, 0.5],
    );
  });

  it('prefers given tokens over the tokenizer, and skips leakage without a train split', () => {
    const stats = computeStats(
      [
        {
          id: 't1',
          text: 'New York rocks',
          tokens: [
            { text: 'New York', start: 0, end: 8 },
            { text: 'rocks', start: 9, end: 14 },
          ],
          split: 'a',
          meta: {},
        },
        { id: 't2', text: 'New York rocks', split: 'b', meta: {} },
      ],
      { task: 'ner' },
    );
    assert.equal(stats.tokens, 2 + 3);
    assert.equal(stats.trainSplit, null);
    assert.deepEqual(stats.leakage, []);
    assert.deepEqual(stats.unseenTokens, []);
    const withTrainA = computeStats([{ ...CLS_SET[0]!, split: 'a' }, CLS_SET[1]!], { trainSplit: 'a' });
    assert.equal(withTrainA.trainSplit, 'a');
    assert.deepEqual(
      withTrainA.leakage.map((l) => l.split),
      ['train'],
    );
  });

  it('handles an empty dataset', () => {
    const stats = computeStats([]);
    assert.equal(stats.examples, 0);
    assert.deepEqual(stats.splits, []);
    assert.deepEqual(
      [stats.length.min, stats.length.mean, stats.length.median, stats.length.p95, stats.length.max],
      [0, 0, 0, 0, 0],
    );
    assert.equal(stats.duplicates.groups, 0);
  });

  it('normalises case and whitespace only', () => {
    assert.equal(normalizeText('  Hello \n\tWORLD  '), 'hello world');
    assert.notEqual(normalizeText('hello, world'), normalizeText('hello world'));
  });
});

describe('computeStats properties', () => {
  const exampleArb = fc
    .record({
      words: fc.array(fc.constantFrom('a', 'B', 'c', 'dd', 'Ee'), { maxLength: 12 }),
      split: fc.option(fc.constantFrom('train', 'dev', 'test'), { nil: undefined }),
      labels: fc.array(fc.constantFrom('x', 'y', 'z'), { maxLength: 2 }),
      entity: fc.option(fc.constantFrom('PER', 'ORG'), { nil: undefined }),
    })
    .map(({ words, split, labels, entity }): Omit<Example, 'id'> => {
      const text = words.join(' ');
      const spans = entity && words.length > 0 ? [{ start: 0, end: words[0]!.length, label: entity }] : [];
      return { text, split, labels, spans, meta: {} };
    });
  const datasetArb = fc
    .array(exampleArb, { maxLength: 60 })
    .map((xs) => xs.map((x, i) => ({ ...x, id: `p${i}` })));

  it('per-split counts sum to the totals', () => {
    fc.assert(
      fc.property(datasetArb, fc.constantFrom('ner', 'classify', 'multilabel' as const), (examples, task) => {
        const stats = computeStats(examples, { task });
        const sum = (f: (s: (typeof stats.splits)[number]) => number) =>
          stats.splits.reduce((a, s) => a + f(s), 0);
        assert.equal(
          sum((s) => s.examples),
          stats.examples,
        );
        assert.equal(
          sum((s) => s.tokens),
          stats.tokens,
        );
        assert.equal(
          sum((s) => s.entities),
          stats.entities.total,
        );
        assert.equal(
          stats.length.histogram.reduce((a, b) => a + b.count, 0),
          stats.examples,
        );
        const overall = task === 'ner' ? stats.entities.labels : stats.classLabels;
        for (const { label, count } of overall) {
          assert.equal(
            sum((s) => s.labels.find((l) => l.label === label)!.count),
            count,
          );
        }
        for (const leak of stats.leakage) {
          const split = stats.splits.find((s) => s.split === leak.split)!;
          assert.ok(leak.examples <= split.examples);
        }
        assert.ok(stats.duplicates.redundant + stats.duplicates.groups === stats.duplicates.examples);
      }),
      { numRuns: 100 },
    );
  });
});
