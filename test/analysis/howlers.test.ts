import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { findHowlers } from '../../src/analysis/howlers.ts';
import type { Example } from '../../src/data/types.ts';
import type { Prediction } from '../../src/models/model.ts';

const TEXT = 'Paris Hilton visited New York City with Barack Obama yesterday';

describe('findHowlers', () => {
  it('ner: wrong predicted entities by score, most confident first; missed ones are left out', () => {
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
        { start: 0, end: 5, label: 'LOC', score: 0.8 },
        { start: 21, end: 29, label: 'LOC', score: 0.7 },
        { start: 40, end: 52, label: 'ORG', score: 0.95 },
        { start: 13, end: 20, label: 'EVENT', score: 0.6 },
      ],
    };
    const howlers = findHowlers('ner', [gold], [prediction]);
    assert.deepEqual(
      howlers.map((h) => [h.kind, h.gold, h.predicted, h.confidence, h.spanText]),
      [
        ['wrong-type', 'PER "Barack Obama"', 'ORG "Barack Obama"', 0.95, 'Barack Obama'],
        ['wrong-type-and-boundary', 'PER "Paris Hilton"', 'LOC "Paris"', 0.8, 'Paris'],
        ['wrong-boundary', 'LOC "New York City"', 'LOC "New York"', 0.7, 'New York'],
        ['spurious', 'none', 'EVENT "visited"', 0.6, 'visited'],
      ],
    );
    assert.equal(howlers[0]!.exampleId, 'e1');
    assert.equal(howlers[0]!.text, TEXT);
    assert.equal(findHowlers('ner', [gold], [prediction], { limit: 2 }).length, 2);
  });

  it('classify: wrong classes by the predicted class score', () => {
    const examples: Example[] = ['a', 'a', 'b', 'b'].map((label, i) => ({
      id: `x${i}`,
      text: `text ${i}`,
      labels: [label],
      meta: {},
    }));
    const predictions: Prediction[] = [
      { labels: ['a'], scores: [{ label: 'a', score: 0.99 }] }, // right
      { labels: ['b'], scores: [{ label: 'b', score: 0.6 }] },
      { scores: [{ label: 'a', score: 0.97 }] }, // wrong, top-scored class
      { labels: ['a'] }, // wrong but no score: left out
    ];
    const howlers = findHowlers('classify', examples, predictions);
    assert.deepEqual(
      howlers.map((h) => [h.exampleId, h.kind, h.gold, h.predicted, h.confidence]),
      [
        ['x2', 'wrong-class', 'b', 'a', 0.97],
        ['x1', 'wrong-class', 'a', 'b', 0.6],
      ],
    );
    assert.equal(howlers[0]!.spanText, undefined);
  });

  it('multilabel: spurious labels by score, missed labels by one minus score', () => {
    const examples: Example[] = [{ id: 'm', text: 't', labels: ['a', 'b'], meta: {} }];
    const prediction: Prediction = {
      labels: ['a', 'c'],
      scores: [
        { label: 'a', score: 0.9 },
        { label: 'c', score: 0.8 },
        { label: 'b', score: 0.05 },
      ],
    };
    const howlers = findHowlers('multilabel', examples, [prediction]);
    assert.deepEqual(
      howlers.map((h) => [h.kind, h.gold, h.predicted, h.confidence]),
      [
        ['missed-label', 'b', 'a, c', 0.95],
        ['spurious-label', 'a, b', 'c', 0.8],
      ],
    );
  });

  it('returns at most limit howlers sorted by confidence, never a correct prediction', () => {
    const labels = ['a', 'b', 'c'];
    const row = fc.tuple(
      fc.constantFrom(...labels),
      fc.constantFrom(...labels),
      fc.double({ min: 0, max: 1, noNaN: true }),
    );
    fc.assert(
      fc.property(fc.array(row, { maxLength: 30 }), fc.integer({ min: 0, max: 10 }), (rows, limit) => {
        const examples = rows.map(([gold], i) => ({ id: `${i}`, text: `${i}`, labels: [gold], meta: {} }));
        const predictions = rows.map(([, p, score]) => ({ labels: [p], scores: [{ label: p, score }] }));
        const howlers = findHowlers('classify', examples, predictions, { limit });
        const wrong = rows.filter(([g, p]) => g !== p).length;
        assert.equal(howlers.length, Math.min(limit, wrong), 'count');
        for (let i = 1; i < howlers.length; i++) {
          assert.ok(howlers[i - 1]!.confidence >= howlers[i]!.confidence, 'sorted by confidence');
        }
        for (const h of howlers) assert.notEqual(h.gold, h.predicted);
      }),
      { numRuns: 200 },
    );
  });
});
