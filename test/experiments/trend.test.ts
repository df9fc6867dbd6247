import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SapphireError } from '../../src/core/errors.ts';
import { createRng } from '../../src/core/rng.ts';
import { type CurvePoint, doublingEstimate, fitLearningCurve } from '../../src/experiments/trend.ts';

const SIZES = [100, 200, 400, 800, 1600, 3200];

/** Points on `score = c − a · size^(−b)`. */
function curve(a: number, b: number, c: number, sizes = SIZES): CurvePoint[] {
  return sizes.map((size) => ({ size, score: c - a * size ** -b }));
}

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected} (±${tolerance})`);
}

function throwsBadInput(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SapphireError);
    assert.equal(e.code, 'BAD_INPUT');
    assert.match(e.message, message);
    assert.ok(e.hint);
    return true;
  });
}

describe('fitLearningCurve', () => {
  it('recovers a pure power law exactly, also from just two points', () => {
    for (const sizes of [SIZES, [100, 1000]]) {
      const fit = fitLearningCurve(curve(3, 0.3, 1, sizes));
      assert.equal(fit.kind, 'power-law');
      close(fit.a, 3, 1e-6, 'a');
      close(fit.b, 0.3, 1e-6, 'b');
      close(fit.c, 1, 1e-6, 'c');
      close(fit.r2, 1, 1e-9, 'r2');
      close(fit.predict(10_000), 1 - 3 * 10_000 ** -0.3, 1e-6, 'prediction');
    }
  });

  it('recovers the asymptote of a power law that levels off below 1', () => {
    const fit = fitLearningCurve(curve(2, 0.5, 0.95));
    close(fit.a, 2, 1e-3, 'a');
    close(fit.b, 0.5, 1e-3, 'b');
    close(fit.c, 0.95, 1e-4, 'c');
    close(fit.predict(6400), 0.95 - 2 / 80, 1e-5, 'prediction at 6400');
    close(fit.predict(1e9), 0.95, 1e-3, 'far prediction levels off');
  });

  it('recovers random power laws accurately enough to extrapolate one doubling (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.3, max: 5, noNaN: true }),
        fc.double({ min: 0.1, max: 0.8, noNaN: true }),
        fc.double({ min: 0.7, max: 1, noNaN: true }),
        (a, b, c) => {
          const points = curve(a, b, c).map((p) => ({ ...p, score: Math.max(0, p.score) }));
          fc.pre(points.every((p) => p.score > 0.05));
          const fit = fitLearningCurve(points);
          const truth = c - a * 6400 ** -b;
          close(fit.predict(6400), truth, 2e-3, 'prediction at 2× the largest size');
          assert.ok(fit.r2 > 0.999, `r2 ${fit.r2}`);
        },
      ),
    );
  });

  it('stays close under noise, with several seeds per size', () => {
    const rng = createRng(1);
    const points = SIZES.flatMap((size) =>
      [0, 1, 2].map(() => ({ size, score: 0.95 - 2 * size ** -0.5 + rng.normal(0, 0.005) })),
    );
    const fit = fitLearningCurve(points);
    close(fit.predict(6400), 0.925, 0.015, 'prediction at 6400');
    close(fit.predict(3200), 0.95 - 2 / Math.sqrt(3200), 0.01, 'prediction at 3200');
    assert.ok(fit.r2 > 0.95 && fit.r2 <= 1, `r2 ${fit.r2}`);
  });

  it('fits flat and falling curves flat, with finite parameters', () => {
    for (const points of [
      SIZES.map((size) => ({ size, score: 0.8 })),
      SIZES.map((size, i) => ({ size, score: 0.8 - 0.01 * i })),
      SIZES.map((size) => ({ size, score: 1 })),
      SIZES.map((size) => ({ size, score: 0 })),
    ]) {
      const fit = fitLearningCurve(points);
      assert.equal(fit.b, 0);
      for (const v of [fit.a, fit.c, fit.r2]) assert.ok(Number.isFinite(v));
      const mean = points.reduce((s, p) => s + p.score, 0) / points.length;
      close(fit.predict(1e6), mean, 1e-9, 'predicts the mean score');
    }
    assert.equal(fitLearningCurve(SIZES.map((size) => ({ size, score: 0.8 }))).r2, 1);
  });

  it('clamps predictions to [0, 1] even far outside the data', () => {
    const fit = fitLearningCurve([
      { size: 10, score: 0.05 },
      { size: 20, score: 0.5 },
    ]);
    assert.equal(fit.predict(1), 0);
    assert.equal(fit.predict(0), 0);
    assert.ok(fit.predict(1e12) <= 1 && fit.predict(1e12) > 0.9);
  });

  it('needs two distinct sizes and valid points', () => {
    throwsBadInput(() => fitLearningCurve([]), /2 or more different sizes, got none/);
    throwsBadInput(
      () =>
        fitLearningCurve([
          { size: 100, score: 0.5 },
          { size: 100, score: 0.6 },
        ]),
      /only size 100/,
    );
    throwsBadInput(
      () =>
        fitLearningCurve([
          { size: 100, score: 90 },
          { size: 200, score: 95 },
        ]),
      /score in \[0, 1\]/,
    );
    throwsBadInput(
      () =>
        fitLearningCurve([
          { size: 0, score: 0.5 },
          { size: 200, score: 0.6 },
        ]),
      /positive size/,
    );
    throwsBadInput(
      () =>
        fitLearningCurve([
          { size: 100, score: Number.NaN },
          { size: 200, score: 0.6 },
        ]),
      /point 0/,
    );
  });
});

describe('doublingEstimate', () => {
  it('predicts the score at twice the largest size and the gain over the fitted current score', () => {
    const est = doublingEstimate(curve(3, 0.3, 1));
    assert.equal(est.size, 6400);
    close(est.predicted, 1 - 3 * 6400 ** -0.3, 1e-6, 'predicted');
    close(est.gain, 3 * 3200 ** -0.3 - 3 * 6400 ** -0.3, 1e-6, 'gain');
    assert.equal(est.fit.kind, 'power-law');
  });

  it('gives no gain for flat or falling curves, never NaN or infinite', () => {
    for (const score of [() => 0.8, (i: number) => 0.8 - 0.02 * i, () => 1, () => 0]) {
      const est = doublingEstimate(SIZES.map((size, i) => ({ size, score: score(i) })));
      assert.ok(Number.isFinite(est.predicted) && Number.isFinite(est.gain));
      close(est.gain, 0, 1e-12, 'gain');
    }
  });

  it('two almost equal sizes with very different scores do not overflow (regression)', () => {
    const est = doublingEstimate([
      { size: 425, score: 0 },
      { size: 426, score: 0.24090348633386743 },
    ]);
    assert.ok(Number.isFinite(est.fit.r2), `r2 ${est.fit.r2}`);
    assert.ok(Number.isFinite(est.gain) && est.gain >= 0, `gain ${est.gain}`);
    assert.ok(est.fit.b <= 4, `slope ${est.fit.b} is capped`);
  });

  it('gives a finite, non-negative gain for any valid curve (property)', () => {
    const point = fc.record({
      size: fc.integer({ min: 1, max: 1_000_000 }),
      score: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(point, { minLength: 2, maxLength: 12 }), (points) => {
        fc.pre(new Set(points.map((p) => p.size)).size >= 2);
        const est = doublingEstimate(points);
        assert.ok(Number.isFinite(est.gain) && est.gain >= 0, `gain ${est.gain}`);
        assert.ok(est.predicted >= 0 && est.predicted <= 1, `predicted ${est.predicted}`);
        assert.ok(Number.isFinite(est.fit.r2), `r2 ${est.fit.r2}`);
      }),
    );
  });
});
