import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { suspectLabelNoise } from '../../src/analysis/label-noise.ts';
import type { Example } from '../../src/data/types.ts';
import type { Prediction } from '../../src/models/model.ts';

const cls = (id: string, label: string): Example => ({ id, text: `text ${id}`, labels: [label], meta: {} });
const says = (label: string, score: number): Prediction => ({ labels: [label], scores: [{ label, score }] });

describe('suspectLabelNoise', () => {
  const examples = [cls('x1', 'a'), cls('x2', 'a'), cls('x3', 'a'), cls('x4', 'b')];
  const sets: Prediction[][] = [
    [says('b', 0.95), says('b', 0.99), says('c', 0.5), says('a', 0.97)],
    [says('b', 0.92), says('a', 0.9), says('c', 0.5), says('a', 0.91)],
    [says('a', 0.9), says('a', 0.9), says('c', 0.5), says('b', 0.9)],
  ];

  it('classify: needs a confident disagreement from a majority of the prediction sets', () => {
    const suspects = suspectLabelNoise('classify', examples, sets);
    assert.equal(suspects.length, 2);
    assert.deepEqual(
      suspects.map((s) => [s.exampleId, s.gold, s.predicted, s.agreeing]),
      [
        ['x4', 'b', 'a', 2],
        ['x1', 'a', 'b', 2],
      ],
    );
    assert.ok(Math.abs(suspects[0]!.confidence - 0.94) < 1e-12, 'mean confidence of the agreeing sets');
    assert.equal(suspects[1]!.text, 'text x1');
  });

  it('classify: minAgreeing, threshold and limit', () => {
    const loose = suspectLabelNoise('classify', examples, sets, { minAgreeing: 1 });
    assert.deepEqual(
      loose.map((s) => [s.exampleId, s.agreeing]),
      [
        ['x4', 2],
        ['x1', 2],
        ['x2', 1],
      ],
    );
    assert.deepEqual(
      suspectLabelNoise('classify', examples, sets, { threshold: 0.96 }).map((s) => s.exampleId),
      [],
      'x1 and x4 have only one set above 0.96',
    );
    assert.equal(suspectLabelNoise('classify', examples, sets, { limit: 1 }).length, 1);
    assert.deepEqual(
      suspectLabelNoise('classify', examples, [sets[0]!]).map((s) => s.exampleId),
      ['x2', 'x4', 'x1'],
      'one set: every confident disagreement, most confident first',
    );
  });

  it('ner: the same confident non-gold entity, described against the gold it overlaps', () => {
    const text = 'Paris Hilton visited Paris';
    const example: Example = { id: 'n', text, spans: [{ start: 0, end: 12, label: 'PER' }], meta: {} };
    const p: Prediction = {
      spans: [
        { start: 0, end: 5, label: 'LOC', score: 0.93 },
        { start: 21, end: 26, label: 'LOC', score: 0.97 },
      ],
    };
    const suspects = suspectLabelNoise('ner', [example], [[p], [p]]);
    assert.deepEqual(
      suspects.map((s) => [s.gold, s.predicted, s.agreeing, s.confidence]),
      [
        ['none', 'LOC "Paris"', 2, 0.97],
        ['PER "Paris Hilton"', 'LOC "Paris"', 2, 0.93],
      ],
    );
    const correct: Prediction = { spans: [{ start: 0, end: 12, label: 'PER', score: 0.99 }] };
    assert.deepEqual(
      suspectLabelNoise('ner', [example], [[correct]]),
      [],
      'exact matches are never suspects',
    );
  });

  it('multilabel: labels confidently added or removed', () => {
    const example: Example = { id: 'm', text: 't', labels: ['a', 'b'], meta: {} };
    const p: Prediction = {
      scores: [
        { label: 'a', score: 0.5 },
        { label: 'b', score: 0.02 },
        { label: 'c', score: 0.95 },
      ],
    };
    const suspects = suspectLabelNoise('multilabel', [example], [[p]]);
    assert.deepEqual(
      suspects.map((s) => [s.gold, s.predicted, s.confidence]),
      [
        ['a, b', '-b', 0.98],
        ['a, b', '+c', 0.95],
      ],
    );
  });

  it('rejects misaligned prediction sets and thresholds outside (0, 1]', () => {
    assert.throws(() => suspectLabelNoise('classify', examples, [sets[0]!.slice(1)]), /predictionSets\[0\]/);
    assert.throws(() => suspectLabelNoise('classify', examples, sets, { threshold: 1.5 }), /threshold/);
  });

  it('never suspects an example whose gold label every set predicts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 4 }),
        (golds, n) => {
          const exs = golds.map((g, i) => cls(`${i}`, g));
          const agreeing = Array.from({ length: n }, () => golds.map((g) => says(g, 1)));
          assert.deepEqual(suspectLabelNoise('classify', exs, agreeing, { minAgreeing: 1 }), []);
        },
      ),
      { numRuns: 100 },
    );
  });
});
