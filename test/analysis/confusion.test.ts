import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { confusionMatrix } from '../../src/analysis/confusion.ts';
import type { Example, Span } from '../../src/data/types.ts';
import type { Prediction } from '../../src/models/model.ts';

const cls = (id: string, label: string, text = id): Example => ({ id, text, labels: [label], meta: {} });
const TEXT = 'Paris Hilton visited New York City with Barack Obama yesterday';

function cell(m: { labels: string[]; matrix: number[][] }, gold: string, predicted: string): number {
  return m.matrix[m.labels.indexOf(gold)]![m.labels.indexOf(predicted)]!;
}

describe('confusionMatrix', () => {
  it('classify: gold rows, predicted columns, none only when the model abstains', () => {
    const examples = [cls('1', 'a'), cls('2', 'a'), cls('3', 'b'), cls('4', 'b')];
    const predictions: Prediction[] = [
      { labels: ['a'] },
      { scores: [{ label: 'b', score: 0.7 }] },
      { labels: [] },
      { labels: ['b'] },
    ];
    const m = confusionMatrix('classify', examples, predictions);
    assert.deepEqual(m.labels, ['a', 'b', 'none']);
    assert.deepEqual(m.matrix, [
      [1, 1, 0],
      [0, 1, 1],
      [0, 0, 0],
    ]);
    assert.equal(m.none, 'none');
    const full = confusionMatrix('classify', examples.slice(0, 2), predictions.slice(0, 2), ['c', 'b']);
    assert.deepEqual(full.labels, ['c', 'b', 'a'], 'listed labels first, then the others by name');
    assert.equal(full.none, null);
  });

  it('ner: types plus none; overlapping pairs count by type', () => {
    const gold: Example = {
      id: 'e1',
      text: TEXT,
      spans: [
        { start: 0, end: 12, label: 'PER' },
        { start: 21, end: 34, label: 'LOC' },
        { start: 40, end: 52, label: 'PER' },
        { start: 53, end: 62, label: 'DATE' },
      ],
      meta: {},
    };
    const prediction: Prediction = {
      spans: [
        { start: 0, end: 12, label: 'PER', score: 1 }, // exact
        { start: 21, end: 29, label: 'LOC', score: 0.7 }, // wrong boundary
        { start: 40, end: 52, label: 'ORG', score: 0.9 }, // wrong type
        { start: 13, end: 20, label: 'ORG', score: 0.6 }, // spurious
        { start: 13, end: 20, label: 'ORG', score: 0.6 }, // duplicate, counted once
      ],
    };
    const m = confusionMatrix('ner', [gold], [prediction], ['PER', 'LOC', 'ORG', 'DATE']);
    assert.deepEqual(m.labels, ['PER', 'LOC', 'ORG', 'DATE', 'none']);
    assert.equal(cell(m, 'PER', 'PER'), 1);
    assert.equal(cell(m, 'LOC', 'LOC'), 1, 'a wrong boundary with the right type lands on the diagonal');
    assert.equal(cell(m, 'PER', 'ORG'), 1);
    assert.equal(cell(m, 'none', 'ORG'), 1);
    assert.equal(cell(m, 'DATE', 'none'), 1);
    assert.equal(
      m.matrix.flat().reduce((s, n) => s + n, 0),
      5,
    );
  });

  it('multilabel: one-vs-rest read along the none row and column', () => {
    const examples: Example[] = [{ id: '1', text: 'x', labels: ['a', 'b'], meta: {} }];
    const m = confusionMatrix('multilabel', examples, [{ labels: ['b', 'c'] }]);
    assert.deepEqual(m.labels, ['a', 'b', 'c', 'none']);
    assert.deepEqual(m.matrix, [
      [0, 0, 0, 1],
      [0, 1, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 1, 0],
    ]);
  });

  it('renames the placeholder when a real label is called none', () => {
    const m = confusionMatrix('classify', [cls('1', 'none')], [{ labels: [] }]);
    assert.deepEqual(m.labels, ['none', '(none)']);
    assert.equal(m.none, '(none)');
    assert.deepEqual(m.matrix, [
      [0, 1],
      [0, 0],
    ]);
  });

  it('ner: each type row sums to its distinct gold entities and each column to its distinct predictions', () => {
    const span = fc
      .tuple(fc.integer({ min: 0, max: 18 }), fc.integer({ min: 1, max: 5 }), fc.constantFrom('A', 'B'))
      .map(([start, len, label]): Span => ({ start, end: Math.min(20, start + len), label }));
    fc.assert(
      fc.property(fc.array(span, { maxLength: 6 }), fc.array(span, { maxLength: 6 }), (gold, predicted) => {
        const example: Example = { id: 'x', text: 'abcdefghijklmnopqrst', spans: gold, meta: {} };
        const m = confusionMatrix(
          'ner',
          [example],
          [{ spans: predicted.map((s) => ({ ...s, score: 0.5 })) }],
        );
        const distinct = (spans: Span[], label: string) =>
          new Set(spans.filter((s) => s.label === label).map((s) => `${s.start}:${s.end}`)).size;
        for (const label of m.labels.filter((l) => l !== 'none')) {
          const i = m.labels.indexOf(label);
          const row = m.matrix[i]!.reduce((s, n) => s + n, 0);
          const column = m.matrix.reduce((s, r) => s + r[i]!, 0);
          assert.equal(row, distinct(gold, label), `row ${label}`);
          assert.equal(column, distinct(predicted, label), `column ${label}`);
        }
      }),
      { numRuns: 200 },
    );
  });
});
