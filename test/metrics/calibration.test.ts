import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SapphireError } from '../../src/core/errors.ts';
import {
  addCalibration,
  addCalibrationPairs,
  binIndex,
  type CalibrationCounts,
  type ConfidencePair,
  calibrationReport,
  classificationConfidencePair,
  createCalibrationCounts,
  mergeCalibrationCounts,
  multiLabelConfidencePairs,
  spanConfidencePairs,
} from '../../src/metrics/calibration.ts';

const close = (actual: number, expected: number, what = '') =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);

function count(pairs: ConfidencePair[], bins?: number): CalibrationCounts {
  return addCalibrationPairs(createCalibrationCounts(bins), pairs);
}

describe('expected and maximum calibration error (hand-computed)', () => {
  const pairs: ConfidencePair[] = [
    { confidence: 0.95, correct: true },
    { confidence: 0.95, correct: true },
    { confidence: 1, correct: true }, // 1 falls in the last bin
    { confidence: 0.85, correct: false },
    { confidence: 0.35, correct: true },
    { confidence: 0.35, correct: false },
    { confidence: 0, correct: false },
  ];
  const report = calibrationReport(count(pairs));

  it('fills equal-width reliability bins', () => {
    assert.equal(report.bins.length, 10);
    assert.equal(report.count, 7);
    const nonEmpty = report.bins.filter((b) => b.count > 0).map((b) => [b.lower, b.count, b.accuracy]);
    assert.deepEqual(nonEmpty, [
      [0, 1, 0],
      [0.3, 2, 0.5],
      [0.8, 1, 0],
      [0.9, 3, 1],
    ]);
    close(report.bins[9]!.confidence, (0.95 + 0.95 + 1) / 3, 'bin 9 confidence');
    close(report.bins[9]!.gap, (0.95 + 0.95 + 1) / 3 - 1, 'bin 9 gap (under-confident)');
    close(report.bins[8]!.gap, 0.85, 'bin 8 gap (over-confident)');
    assert.deepEqual(
      [report.bins[5]!.count, report.bins[5]!.accuracy, report.bins[5]!.confidence],
      [0, 0, 0],
    );
    assert.equal(report.bins[9]!.upper, 1);
  });

  it('weights each bin gap by its share of predictions', () => {
    // (3·|0.9667−1| + 1·0.85 + 2·0.15 + 1·0) / 7 = 1.25 / 7
    close(report.ece, 1.25 / 7, 'ece');
    close(report.mce, 0.85, 'mce');
  });

  it('is 0 for a perfectly calibrated model and for no data', () => {
    const calibrated = calibrationReport(
      count([
        { confidence: 0.75, correct: true },
        { confidence: 0.75, correct: true },
        { confidence: 0.75, correct: true },
        { confidence: 0.75, correct: false },
      ]),
    );
    assert.equal(calibrated.ece, 0);
    assert.equal(calibrated.mce, 0);
    const empty = calibrationReport(createCalibrationCounts());
    assert.deepEqual([empty.ece, empty.mce, empty.count], [0, 0, 0]);
  });

  it('puts confidences on bin edges into the upper bin (k/10 → bin k, 1 → last)', () => {
    for (let k = 0; k <= 10; k++) assert.equal(binIndex(k / 10, 10), Math.min(k, 9));
    assert.equal(binIndex(0.1 + 0.2, 10), 3);
    assert.equal(binIndex(0.9999, 10), 9);
  });

  it('supports other bin counts', () => {
    const r = calibrationReport(count([{ confidence: 0.6, correct: false }], 2));
    assert.deepEqual(
      r.bins.map((b) => [b.lower, b.upper, b.count]),
      [
        [0, 0.5, 0],
        [0.5, 1, 1],
      ],
    );
    close(r.ece, 0.6);
  });
});

describe('calibration input checks', () => {
  it('rejects confidences outside [0, 1] with the place and a hint; clamps float noise', () => {
    for (const bad of [1.5, -0.2, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => addCalibration(createCalibrationCounts(), bad, true, { exampleId: 'e1' }),
        (e: unknown) =>
          e instanceof SapphireError && e.code === 'DATA_INVALID' && /e1/.test(e.message) && !!e.hint,
      );
    }
    const c = addCalibration(createCalibrationCounts(), 1 + 1e-9, true);
    assert.equal(c.bins[9]!.count, 1);
    assert.equal(calibrationReport(c).bins[9]!.confidence, 1);
  });

  it('rejects bad bin counts and merging different bin counts', () => {
    assert.throws(() => createCalibrationCounts(0), SapphireError);
    assert.throws(() => createCalibrationCounts(2.5), SapphireError);
    assert.throws(
      () => mergeCalibrationCounts(createCalibrationCounts(10), createCalibrationCounts(15)),
      SapphireError,
    );
  });
});

describe('confidence pairs from predictions', () => {
  it('NER: each predicted span with its score, correct when it matches exactly', () => {
    const pairs = spanConfidencePairs(
      [{ start: 0, end: 4, label: 'PER' }],
      [
        { start: 0, end: 4, label: 'PER', score: 0.9 },
        { start: 5, end: 8, label: 'LOC', score: 0.4 },
      ],
    );
    assert.deepEqual(pairs, [
      { confidence: 0.9, correct: true },
      { confidence: 0.4, correct: false },
    ]);
  });

  it('classification: the score of the predicted label (the top score)', () => {
    const scores = [
      { label: 'pos', score: 0.7 },
      { label: 'neg', score: 0.3 },
    ];
    assert.deepEqual(classificationConfidencePair('pos', { labels: ['pos'], scores }), {
      confidence: 0.7,
      correct: true,
    });
    assert.deepEqual(classificationConfidencePair('neg', { scores }), { confidence: 0.7, correct: false });
    assert.equal(classificationConfidencePair('pos', { labels: ['pos'] }), undefined);
    assert.equal(classificationConfidencePair('pos', { labels: ['other'], scores }), undefined);
  });

  it('multi-label: one binary decision per scored label', () => {
    const pairs = multiLabelConfidencePairs(['a'], {
      labels: ['a', 'b'],
      scores: [
        { label: 'a', score: 0.9 },
        { label: 'b', score: 0.6 },
        { label: 'c', score: 0.2 },
      ],
    });
    assert.equal(pairs.length, 3);
    assert.deepEqual(pairs[0], { confidence: 0.9, correct: true });
    assert.deepEqual(pairs[1], { confidence: 0.6, correct: false });
    close(pairs[2]!.confidence, 0.8);
    assert.equal(pairs[2]!.correct, true);
  });
});

describe('calibration properties', () => {
  const pairArb = fc.record({
    confidence: fc.double({ min: 0, max: 1, noNaN: true }),
    correct: fc.boolean(),
  });

  it('merged batches equal one pass exactly; ECE ≤ MCE ≤ 1', () => {
    fc.assert(
      fc.property(fc.array(pairArb, { maxLength: 40 }), fc.nat(40), (pairs, cut) => {
        const at = cut % (pairs.length + 1);
        const merged = mergeCalibrationCounts(count(pairs.slice(0, at)), count(pairs.slice(at)));
        const whole = count(pairs);
        assert.deepEqual(merged, whole);
        const r = calibrationReport(merged);
        assert.deepEqual(r, calibrationReport(whole));
        assert.ok(r.ece >= 0 && r.ece <= r.mce + 1e-12 && r.mce <= 1, `ece ${r.ece}, mce ${r.mce}`);
        assert.equal(
          r.bins.reduce((s, b) => s + b.count, 0),
          pairs.length,
        );
      }),
    );
  });
});
