import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { cohensKappa, spanAgreementF1, uncertaintyOf } from '../../src/data/annotation.ts';
import { quantile } from '../../src/monitor/time-series.ts';

describe('annotator agreement', () => {
  test("Cohen's kappa: the textbook example and the edge cases", () => {
    // 50 items: both yes 20, both no 15, a-yes/b-no 5, a-no/b-yes 10 → po 0.7, pe 0.5 → κ 0.4.
    const a = [...Array(20).fill('y'), ...Array(15).fill('n'), ...Array(5).fill('y'), ...Array(10).fill('n')];
    const b = [...Array(20).fill('y'), ...Array(15).fill('n'), ...Array(5).fill('n'), ...Array(10).fill('y')];
    assert.ok(Math.abs(cohensKappa(a, b) - 0.4) < 1e-12, `κ ${cohensKappa(a, b)}`);
    assert.equal(cohensKappa(['x', 'x'], ['x', 'x']), 1, 'one category used throughout by both');
    assert.ok(Number.isNaN(cohensKappa([], [])), 'no items: undefined');
  });

  test('kappa is 1 for identical answers and at most 1', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 30 }),
        fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 30, maxLength: 30 }),
        (xs, ys) => {
          assert.equal(cohensKappa(xs, xs), 1);
          const k = cohensKappa(xs, ys.slice(0, xs.length));
          assert.ok(k <= 1 + 1e-12, `κ ${k}`);
        },
      ),
    );
  });

  test('span F1 between annotators counts exact matches', () => {
    const a = [[{ start: 0, end: 4, label: 'BRAND' }], [{ start: 2, end: 5, label: 'LOC' }]];
    const b = [[{ start: 0, end: 4, label: 'BRAND' }], [{ start: 2, end: 6, label: 'LOC' }]];
    assert.equal(spanAgreementF1(a, b), 0.5);
    assert.equal(spanAgreementF1([[]], [[]]), 1, 'both marked nothing');
  });

  test('uncertainty: 1 − best probability for classes, the least sure entity for ner', () => {
    assert.ok(
      Math.abs(uncertaintyOf('classify', { scores: [{ label: 'a', score: 0.7 }] }) - 0.3) < 1e-12,
      'classes',
    );
    assert.ok(
      Math.abs(
        uncertaintyOf('ner', {
          spans: [
            { start: 0, end: 1, label: 'X', score: 0.9 },
            { start: 2, end: 3, label: 'X', score: 0.6 },
          ],
        }) - 0.4,
      ) < 1e-12,
      'entities',
    );
    assert.equal(uncertaintyOf('ner', { spans: [] }), 0);
  });

  test('quantile: nearest rank', () => {
    assert.equal(quantile([], 0.5), null);
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
    assert.equal(quantile([1, 2, 3, 4], 0.99), 4);
    assert.equal(quantile([5], 0.01), 5);
  });
});
