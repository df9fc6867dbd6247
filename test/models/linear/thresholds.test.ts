import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fitMarginScale, tuneThresholds } from '../../../src/models/linear/thresholds.ts';

describe('tuneThresholds', () => {
  test('puts each label threshold between its positives and negatives when they separate', () => {
    // Two labels, four examples; label 0 positives score 0.3 and 0.4, negatives 0.1 and 0.2.
    const scores = Float64Array.from([0.3, 0.9, 0.4, 0.8, 0.1, 0.7, 0.2, 0.2]);
    const member = Uint8Array.from([1, 1, 1, 1, 0, 1, 0, 0]);
    const t = tuneThresholds(scores, member, 4, 2);
    assert.ok(Math.abs(t[0]! - 0.25) < 1e-6);
    assert.ok(Math.abs(t[1]! - 0.45) < 1e-6);
  });

  test('maximises F1 when labels do not separate, and keeps the fallback for labels with no positives', () => {
    // One label: scores descending 0.9(+) 0.8(-) 0.7(+) 0.6(+) 0.5(-). Best F1 keeps the top four (F1 = 6/7).
    const scores = Float64Array.from([0.9, 0.8, 0.7, 0.6, 0.5]);
    const member = Uint8Array.from([1, 0, 1, 1, 0]);
    assert.ok(Math.abs(tuneThresholds(scores, member, 5, 1)[0]! - 0.55) < 1e-6);
    assert.equal(tuneThresholds(scores, new Uint8Array(5), 5, 1, 0.5)[0], 0.5);
  });

  test('never cuts between equal scores', () => {
    const scores = Float64Array.from([0.6, 0.6, 0.1]);
    const member = Uint8Array.from([1, 0, 0]);
    const t = tuneThresholds(scores, member, 3, 1)[0]!;
    assert.ok(t <= 0.6 && t > 0.1, `threshold ${t}`);
  });
});

describe('fitMarginScale', () => {
  test('sharpens confident, correct margins and finds the log-loss optimum when some are wrong', () => {
    const right = Float64Array.from([1, -1, -1, 1]);
    const classOf = Int32Array.from([0, 1]);
    const sharp = fitMarginScale(right, 2, 2, { classOf });
    assert.ok(sharp > 10, `scale ${sharp}`);
    // Three of four right with margin gap 2: the log loss is smallest where softmax gives the right class 3/4,
    // i.e. e^(2s) = 3.
    const mixed = Float64Array.from([1, -1, 1, -1, -1, 1, 1, -1]);
    const soft = fitMarginScale(mixed, 4, 2, { classOf: Int32Array.from([0, 0, 1, 1]) });
    assert.ok(Math.abs(soft - Math.log(3) / 2) < 1e-4, `scale ${soft}`);
  });
});
