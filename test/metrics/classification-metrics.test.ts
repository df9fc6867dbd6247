import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SapphireError } from '../../src/core/errors.ts';
import {
  addClassification,
  addMultiLabel,
  type ClassificationCounts,
  classificationScores,
  createClassificationCounts,
  createMultiLabelCounts,
  type MultiLabelCounts,
  mergeClassificationCounts,
  mergeMultiLabelCounts,
  multiLabelScores,
} from '../../src/metrics/classification-metrics.ts';

const close = (actual: number, expected: number, what = '') =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} ≠ ${expected}`);

function classify(pairs: [string, string | null][]): ClassificationCounts {
  const counts = createClassificationCounts();
  for (const [gold, predicted] of pairs) addClassification(counts, gold, predicted);
  return counts;
}

describe('single-label classification metrics (hand-computed, equal to scikit-learn)', () => {
  // gold a a a b b c / predicted a a b b c c
  const scores = classificationScores(
    classify([
      ['a', 'a'],
      ['a', 'a'],
      ['a', 'b'],
      ['b', 'b'],
      ['b', 'c'],
      ['c', 'c'],
    ]),
  );
  const row = (label: string) => scores.perLabel.find((r) => r.label === label)!;

  it('computes accuracy and per-label scores', () => {
    close(scores.accuracy, 4 / 6, 'accuracy');
    assert.deepEqual(
      scores.perLabel.map((r) => [r.label, r.tp, r.fp, r.fn, r.support]),
      [
        ['a', 2, 0, 1, 3],
        ['b', 1, 1, 1, 2],
        ['c', 1, 1, 0, 1],
      ],
    );
    close(row('a').precision, 1);
    close(row('a').recall, 2 / 3);
    close(row('a').f1, 0.8);
    close(row('b').f1, 0.5);
    close(row('c').precision, 0.5);
    close(row('c').recall, 1);
    close(row('c').f1, 2 / 3);
  });

  it('computes micro, macro and weighted averages', () => {
    close(scores.micro.f1, 4 / 6, 'micro f1 = accuracy without abstentions');
    close(scores.macro.precision, (1 + 0.5 + 0.5) / 3, 'macro p');
    close(scores.macro.recall, (2 / 3 + 0.5 + 1) / 3, 'macro r');
    close(scores.macro.f1, (0.8 + 0.5 + 2 / 3) / 3, 'macro f1');
    close(scores.weighted.f1, (0.8 * 3 + 0.5 * 2 + (2 / 3) * 1) / 6, 'weighted f1');
    close(scores.weighted.recall, 4 / 6, 'weighted recall = accuracy');
  });

  it('builds the confusion matrix gold → predicted with non-zero cells only', () => {
    assert.deepEqual(scores.confusion, { a: { a: 2, b: 1 }, b: { b: 1, c: 1 }, c: { c: 1 } });
    assert.equal(scores.abstained, 0);
    assert.deepEqual(JSON.parse(JSON.stringify(scores)), scores);
  });

  it('counts an abstention as a miss for the gold label and a false positive for none', () => {
    const s = classificationScores(
      classify([
        ['a', 'a'],
        ['a', null],
        ['b', 'a'],
      ]),
    );
    close(s.accuracy, 1 / 3);
    assert.equal(s.abstained, 1);
    assert.deepEqual(
      s.perLabel.map((r) => [r.label, r.tp, r.fp, r.fn]),
      [
        ['a', 1, 1, 1],
        ['b', 0, 0, 1],
      ],
    );
    // micro: tp 1, fp 1, fn 2 → precision 1/2, recall 1/3.
    close(s.micro.precision, 1 / 2);
    close(s.micro.recall, 1 / 3);
  });

  it('lists the project labels first and keeps unseen ones out of the macro average', () => {
    const s = classificationScores(
      classify([
        ['b', 'b'],
        ['a', 'a'],
      ]),
      { labels: ['b', 'z', 'a'] },
    );
    assert.deepEqual(
      s.perLabel.map((r) => r.label),
      ['b', 'z', 'a'],
    );
    assert.equal(s.macro.f1, 1);
    assert.equal(s.weighted.f1, 1);
  });

  it('rejects labels that are not non-empty strings, with a hint', () => {
    assert.throws(
      () => addClassification(createClassificationCounts(), '', 'a'),
      (e: unknown) => e instanceof SapphireError && e.code === 'BAD_INPUT' && !!e.hint,
    );
    assert.throws(
      () => addClassification(createClassificationCounts(), 'a', 3 as unknown as string),
      SapphireError,
    );
  });

  it('keeps counting after a JSON round trip, even for labels named like Object.prototype members', () => {
    const revived = JSON.parse(JSON.stringify(classify([['a', 'b']]))) as ClassificationCounts;
    addClassification(revived, '__proto__', '__proto__');
    addClassification(revived, 'constructor', 'a');
    const s = classificationScores(revived);
    assert.deepEqual(
      s.confusion,
      JSON.parse('{"__proto__":{"__proto__":1},"a":{"b":1},"constructor":{"a":1}}'),
    );
    assert.equal(Object.getPrototypeOf(revived), Object.prototype);
    assert.deepEqual(
      s.perLabel.map((r) => [r.label, r.tp, r.fp, r.fn]),
      [
        ['__proto__', 1, 0, 0],
        ['a', 0, 1, 1],
        ['b', 0, 1, 0],
        ['constructor', 0, 0, 1],
      ],
    );
  });

  it('gives zeros for no examples', () => {
    const s = classificationScores(createClassificationCounts());
    assert.deepEqual([s.accuracy, s.micro.f1, s.macro.f1, s.weighted.f1, s.perLabel.length], [0, 0, 0, 0, 0]);
  });
});

describe('multi-label classification metrics (hand-computed)', () => {
  const counts = createMultiLabelCounts();
  addMultiLabel(counts, ['a', 'b'], ['a']); // example F1 2/3
  addMultiLabel(counts, ['c'], ['c']); // 1, exact
  addMultiLabel(counts, [], ['b']); // 0
  addMultiLabel(counts, [], []); // 1 by convention, exact
  addMultiLabel(counts, ['a'], ['a', 'c', 'c']); // 2/3 (duplicate c counted once)
  const s = multiLabelScores(counts);

  it('computes per-label and averaged scores', () => {
    assert.deepEqual(
      s.perLabel.map((r) => [r.label, r.tp, r.fp, r.fn, r.support]),
      [
        ['a', 2, 0, 0, 2],
        ['b', 0, 1, 1, 1],
        ['c', 1, 1, 0, 1],
      ],
    );
    close(s.micro.precision, 3 / 5);
    close(s.micro.recall, 3 / 4);
    close(s.micro.f1, 2 / 3);
    close(s.macro.f1, (1 + 0 + 2 / 3) / 3);
    close(s.weighted.f1, (1 * 2 + 0 + (2 / 3) * 1) / 4);
  });

  it('computes samples F1, subset accuracy and Hamming loss', () => {
    // scikit-learn's default would score the empty/empty example 0 (samples F1 8/15); we score it 1.
    close(s.samplesF1, (2 / 3 + 1 + 0 + 1 + 2 / 3) / 5, 'samples f1');
    close(s.subsetAccuracy, 2 / 5, 'subset accuracy');
    close(s.hammingLoss, 3 / (5 * 3), 'hamming loss');
    assert.equal(s.examples, 5);
  });

  it('counts listed labels in the Hamming loss denominator', () => {
    close(multiLabelScores(counts, { labels: ['a', 'b', 'c', 'd'] }).hammingLoss, 3 / (5 * 4));
  });

  it('keeps per-example F1 as exact fractions', () => {
    assert.deepEqual({ ...counts.exampleF1 }, { '2/3': 2, '1/1': 2, '0/1': 1 });
  });
});

const LABELS = ['a', 'b', 'c', 'd'];
const labelArb = fc.constantFrom(...LABELS);
const singleArb = fc.array(fc.tuple(labelArb, fc.option(labelArb, { freq: 8 })), { maxLength: 30 });
const multiArb = fc.array(fc.tuple(fc.subarray(LABELS), fc.array(labelArb, { maxLength: 4 })), {
  maxLength: 30,
});

/** Splits `items` into consecutive batches at the given (arbitrary) cut points. */
function batches<T>(items: T[], cuts: number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % (items.length + 1)))].sort((a, b) => a - b);
  const bounds = [0, ...points, items.length];
  return bounds.slice(1).map((end, i) => items.slice(bounds[i], end));
}

function multi(items: [string[], string[]][]): MultiLabelCounts {
  const counts = createMultiLabelCounts();
  for (const [gold, predicted] of items) addMultiLabel(counts, gold, predicted);
  return counts;
}

function inUnitRange(...values: number[]): void {
  for (const v of values) assert.ok(v >= 0 && v <= 1, `${v} outside [0, 1]`);
}

describe('classification metric properties', () => {
  it('single-label: merged batches equal one pass; scores stay in [0, 1]', () => {
    fc.assert(
      fc.property(singleArb, fc.array(fc.nat(), { maxLength: 4 }), (items, cuts) => {
        const whole = classify(items);
        const merged = batches(items, cuts)
          .map(classify)
          .reduce(mergeClassificationCounts, createClassificationCounts());
        assert.deepEqual(merged, whole);
        const s = classificationScores(merged);
        assert.deepEqual(s, classificationScores(whole));
        inUnitRange(
          s.accuracy,
          s.micro.f1,
          s.macro.f1,
          s.weighted.f1,
          ...s.perLabel.flatMap((r) => [r.precision, r.recall, r.f1]),
        );
      }),
    );
  });

  it('single-label: perfect predictions score 1; no predictions give recall 0', () => {
    fc.assert(
      fc.property(fc.array(labelArb, { minLength: 1, maxLength: 20 }), (golds) => {
        const perfect = classificationScores(classify(golds.map((g) => [g, g])));
        assert.deepEqual(
          [perfect.accuracy, perfect.micro.f1, perfect.macro.f1, perfect.weighted.f1],
          [1, 1, 1, 1],
        );
        const none = classificationScores(classify(golds.map((g) => [g, null])));
        assert.deepEqual([none.accuracy, none.micro.recall, none.macro.recall], [0, 0, 0]);
      }),
    );
  });

  it('multi-label: merged batches equal one pass; scores stay in [0, 1]', () => {
    fc.assert(
      fc.property(multiArb, fc.array(fc.nat(), { maxLength: 4 }), (items, cuts) => {
        const whole = multi(items);
        const merged = batches(items, cuts)
          .map(multi)
          .reduce(mergeMultiLabelCounts, createMultiLabelCounts());
        assert.deepEqual(merged, whole);
        const s = multiLabelScores(merged);
        assert.deepEqual(s, multiLabelScores(whole));
        inUnitRange(s.micro.f1, s.macro.f1, s.weighted.f1, s.samplesF1, s.subsetAccuracy, s.hammingLoss);
      }),
    );
  });

  it('multi-label: perfect predictions score 1; no predictions give recall 0', () => {
    fc.assert(
      fc.property(
        fc.array(fc.subarray(LABELS, { minLength: 1 }), { minLength: 1, maxLength: 20 }),
        (golds) => {
          const perfect = multiLabelScores(multi(golds.map((g) => [g, [...g].reverse()])));
          assert.deepEqual(
            [
              perfect.micro.f1,
              perfect.macro.f1,
              perfect.samplesF1,
              perfect.subsetAccuracy,
              perfect.hammingLoss,
            ],
            [1, 1, 1, 1, 0],
          );
          const none = multiLabelScores(multi(golds.map((g) => [g, []])));
          assert.deepEqual(
            [none.micro.recall, none.macro.recall, none.samplesF1, none.subsetAccuracy],
            [0, 0, 0, 0],
          );
        },
      ),
    );
  });
});
