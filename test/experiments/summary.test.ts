import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SapphireError } from '../../src/core/errors.ts';
import { formatMeanStd, summarize, tCritical95 } from '../../src/experiments/summary.ts';

function close(actual: number, expected: number, tolerance: number, what = 'value'): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);
}

describe('tCritical95', () => {
  it('matches published t(0.975, df) values in and beyond the table', () => {
    // Reference values from scipy.stats.t.ppf(0.975, df).
    const reference: [number, number][] = [
      [1, 12.706204736],
      [2, 4.30265273],
      [4, 2.776445105],
      [9, 2.262157163],
      [30, 2.042272456],
      [31, 2.039513446],
      [40, 2.02107539],
      [60, 2.000297822],
      [120, 1.979930405],
      [1000, 1.962339081],
    ];
    for (const [df, t] of reference) close(tCritical95(df), t, 1e-7, `df ${df}`);
  });

  it('decreases towards the normal quantile 1.96', () => {
    let previous = Number.POSITIVE_INFINITY;
    for (let df = 1; df <= 200; df++) {
      const t = tCritical95(df);
      assert.ok(t < previous && t > 1.959963984, `df ${df}: ${t}`);
      previous = t;
    }
  });

  it('rejects non-positive or fractional degrees of freedom', () => {
    for (const df of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => tCritical95(df),
        (e: unknown) => e instanceof SapphireError && e.code === 'BAD_INPUT',
      );
    }
  });
});

describe('summarize', () => {
  it('computes mean, sample std, range and the t-based 95% interval', () => {
    const s = summarize([0.9, 0.92, 0.91]);
    assert.equal(s.n, 3);
    close(s.mean, 0.91, 1e-12, 'mean');
    close(s.std, 0.01, 1e-12, 'std');
    assert.equal(s.min, 0.9);
    assert.equal(s.max, 0.92);
    const half = (4.30265273 * 0.01) / Math.sqrt(3);
    close(s.ci95[0], 0.91 - half, 1e-9, 'ci low');
    close(s.ci95[1], 0.91 + half, 1e-9, 'ci high');
  });

  it('matches a textbook example: 2, 4, 4, 4, 5, 5, 7, 9', () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    assert.equal(s.mean, 5);
    close(s.std, Math.sqrt(32 / 7), 1e-12, 'std');
    close(s.ci95[1] - s.mean, (2.364624252 * Math.sqrt(32 / 7)) / Math.sqrt(8), 1e-9, 'half width');
  });

  it('gives std 0 and a zero-width interval for one value', () => {
    assert.deepEqual(summarize([0.75]), {
      n: 1,
      mean: 0.75,
      std: 0,
      min: 0.75,
      max: 0.75,
      ci95: [0.75, 0.75],
    });
  });

  it('keeps the mean inside the interval and the range (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 50 }),
        (xs) => {
          const s = summarize(xs);
          assert.ok(s.min <= s.mean + 1e-12 && s.mean <= s.max + 1e-12);
          assert.ok(s.ci95[0] <= s.mean && s.mean <= s.ci95[1]);
          assert.ok(s.std >= 0);
          close(s.ci95[1] - s.mean, s.mean - s.ci95[0], 1e-12, 'symmetric');
        },
      ),
    );
  });

  it('rejects empty lists and non-finite values', () => {
    const bad = (fn: () => unknown, message: RegExp) =>
      assert.throws(
        fn,
        (e: unknown) => e instanceof SapphireError && e.code === 'BAD_INPUT' && message.test(e.message),
      );
    bad(() => summarize([]), /empty/);
    bad(() => summarize([0.5, Number.NaN]), /NaN at position 1/);
    bad(() => summarize([Number.POSITIVE_INFINITY]), /Infinity at position 0/);
  });
});

describe('formatMeanStd', () => {
  it('writes "mean ± std" with the given decimals, or just the mean for one value', () => {
    assert.equal(formatMeanStd(summarize([0.908, 0.912, 0.916])), '0.912 ± 0.004');
    assert.equal(formatMeanStd(summarize([0.908, 0.912, 0.916]), 2), '0.91 ± 0.00');
    assert.equal(formatMeanStd(summarize([0.912])), '0.912');
    assert.equal(formatMeanStd(summarize([81.25, 83.75]), 1), '82.5 ± 1.8');
  });

  it('does not print a minus sign on values that round to zero', () => {
    assert.equal(formatMeanStd(summarize([-0.0001, -0.0002])), '0.000 ± 0.000');
    assert.equal(formatMeanStd(summarize([-0.2, -0.4])), '-0.300 ± 0.141');
  });

  it('rejects a bad number of digits', () => {
    assert.throws(
      () => formatMeanStd(summarize([1]), -1),
      (e: unknown) => e instanceof SapphireError,
    );
  });
});
