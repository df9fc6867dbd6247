import { SapphireError } from '../core/errors.ts';

/** One learning-curve measurement: a training-set size and the score reached with it. */
export interface CurvePoint {
  /** Number of training examples (positive). */
  size: number;
  /** Score in [0, 1], higher is better (e.g. F1 or accuracy). */
  score: number;
}

/**
 * A fitted learning curve `score ≈ c − a · size^(−b)`: `c` is the score it levels off at (1 minus the error
 * floor), `a ≥ 0` the scale and `b ≥ 0` how fast the error falls.
 */
export interface TrendFit {
  kind: 'power-law';
  a: number;
  b: number;
  c: number;
  /** Coefficient of determination on the scores: 1 for an exact fit (also a flat curve fitted flat), 0 for no better than the mean, negative when worse. */
  r2: number;
  /** The fitted score at `size`, clamped to [0, 1]. */
  predict(size: number): number;
}

/** Smallest error used inside logarithms, so perfect scores do not give log(0). */
const MIN_ERROR = 1e-9;

/** Slopes below this are treated as flat (b = 0), so a level curve does not get a meaningless tiny exponent. */
const FLAT_SLOPE = 1e-9;

/** The asymptote is searched only with at least this many distinct sizes (more points than parameters). */
export const MIN_SIZES_FOR_ASYMPTOTE = 4;

function badInput(message: string, hint: string): SapphireError {
  return new SapphireError('BAD_INPUT', message, { hint });
}

function checkPoints(points: readonly CurvePoint[]): void {
  const bad = points.findIndex(
    (p) =>
      !p ||
      !Number.isFinite(p.size) ||
      p.size <= 0 ||
      !Number.isFinite(p.score) ||
      p.score < 0 ||
      p.score > 1,
  );
  if (bad >= 0) {
    const p = points[bad];
    throw badInput(
      `learning-curve point ${bad} (size ${p?.size}, score ${p?.score}) needs a positive size and a score in [0, 1]`,
      'pass scores as fractions (0.9, not 90) measured at positive training-set sizes',
    );
  }
  const sizes = new Set(points.map((p) => p.size));
  if (sizes.size < 2) {
    throw badInput(
      `a learning curve needs scores at 2 or more different sizes, got ${sizes.size === 0 ? 'none' : `only size ${[...sizes][0]}`}`,
      'train on at least two subsample fractions, e.g. 0.5 and 1',
    );
  }
}

/** The steepest decay a fit may have: error ∝ size^-MAX_SLOPE (real curves have slopes well below 1). */
const MAX_SLOPE = 4;

/** `a · size^(−b)` computed in log space, so large sizes and slopes neither overflow nor give 0 · ∞. */
function powerTerm(a: number, b: number, size: number): number {
  if (a === 0) return 0;
  return Math.exp(Math.log(a) - b * Math.log(size));
}

interface Candidate {
  a: number;
  b: number;
  floor: number;
  sse: number;
}

/**
 * For a fixed error floor, fits `error − floor = a · size^(−b)` by least squares on log(error − floor) against
 * log(size); a flat or rising error (b ≤ 0) is fitted as a constant (b = 0, a = mean error above the floor). Returns the squared error of the fit on the scores.
 */
function fitWithFloor(points: readonly CurvePoint[], floor: number): Candidate {
  const xs = points.map((p) => Math.log(p.size));
  const ys = points.map((p) => Math.log(Math.max(1 - p.score - floor, MIN_ERROR)));
  const n = points.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  // Two sizes very close together can give an absurd exponent (and exp overflow): learning curves decay far
  // slower than size^-MAX_SLOPE, so the slope is capped and the intercept refitted for it.
  let b = Math.min(-sxy / sxx, MAX_SLOPE);
  let a = Math.exp(my + b * mx);
  if (!(b > FLAT_SLOPE)) {
    // Flat or falling: the best constant is the mean error above the floor.
    b = 0;
    a = points.reduce((s, p) => s + Math.max(1 - p.score - floor, 0), 0) / n;
  }
  let sse = 0;
  for (const p of points) sse += (p.score - (1 - floor - powerTerm(a, b, p.size))) ** 2;
  return { a, b, floor, sse };
}

/**
 * The error floor minimising the squared error on the scores: a grid over [0, smallest error) that is dense
 * near the smallest error, then a golden-section refinement around the best grid point.
 */
function searchFloor(points: readonly CurvePoint[]): Candidate {
  const minError = Math.min(...points.map((p) => 1 - p.score));
  let best = fitWithFloor(points, 0);
  if (minError <= MIN_ERROR) return best;
  const ts: number[] = [];
  for (let i = 1; i < 40; i++) ts.push(i / 40);
  for (let j = 6; j <= 30; j++) ts.push(1 - 2 ** -j);
  ts.sort((x, y) => x - y);
  let bestT = 0;
  for (const t of ts) {
    const c = fitWithFloor(points, t * minError);
    if (c.sse < best.sse) {
      best = c;
      bestT = t;
    }
  }
  // Golden-section search between the grid neighbours of the best point.
  const i = ts.indexOf(bestT);
  let lo = i <= 0 ? 0 : ts[i - 1]!;
  let hi = i < 0 ? ts[0]! : i + 1 < ts.length ? ts[i + 1]! : 1 - 2 ** -40;
  const ratio = (Math.sqrt(5) - 1) / 2;
  for (let step = 0; step < 60 && hi - lo > 1e-12; step++) {
    const t1 = hi - ratio * (hi - lo);
    const t2 = lo + ratio * (hi - lo);
    const c1 = fitWithFloor(points, t1 * minError);
    const c2 = fitWithFloor(points, t2 * minError);
    if (c1.sse < best.sse) best = c1;
    if (c2.sse < best.sse) best = c2;
    if (c1.sse <= c2.sse) hi = t2;
    else lo = t1;
  }
  return best;
}

/**
 * Fits `score ≈ c − a · size^(−b)` to learning-curve points by least squares on the error `1 − score` in
 * log–log space. With at least {@link MIN_SIZES_FOR_ASYMPTOTE} distinct sizes the error floor `1 − c` is
 * searched too (grid plus golden section, minimising squared error on the scores); with fewer it is 0, a pure
 * power law. A falling curve is fitted flat (b = 0), so predictions never decrease with size. Repeated sizes
 * (several seeds) are fine.
 *
 * @example
 * const fit = fitLearningCurve([{ size: 100, score: 0.7 }, { size: 200, score: 0.78 }, { size: 400, score: 0.83 }]);
 * fit.predict(800); // ≈ 0.87
 */
export function fitLearningCurve(points: readonly CurvePoint[]): TrendFit {
  checkPoints(points);
  const distinct = new Set(points.map((p) => p.size)).size;
  const best = distinct >= MIN_SIZES_FOR_ASYMPTOTE ? searchFloor(points) : fitWithFloor(points, 0);
  const { a, b, floor } = best;
  const c = 1 - floor;
  const mean = points.reduce((s, p) => s + p.score, 0) / points.length;
  const sst = points.reduce((s, p) => s + (p.score - mean) ** 2, 0);
  const tiny = 1e-12 * Math.max(1, points.length);
  const r2 = sst <= tiny ? (best.sse <= tiny ? 1 : 0) : 1 - best.sse / sst;
  const predict = (size: number): number => {
    const value = c - powerTerm(a, b, size);
    return Number.isNaN(value) ? 0 : Math.min(1, Math.max(0, value));
  };
  return { kind: 'power-law', a, b, c, r2, predict };
}

/**
 * Estimates what doubling the largest training set would bring: the fitted score at twice the largest size and
 * the gain over the fitted score at the largest size (never negative, since fitted curves never fall).
 *
 * @example
 * const { size, predicted, gain } = doublingEstimate(points);
 * console.log(`doubling to ${size} examples: ≈ ${predicted.toFixed(3)} (+${gain.toFixed(3)})`);
 */
export function doublingEstimate(points: readonly CurvePoint[]): {
  size: number;
  predicted: number;
  gain: number;
  fit: TrendFit;
} {
  const fit = fitLearningCurve(points);
  const largest = Math.max(...points.map((p) => p.size));
  const size = 2 * largest;
  const predicted = fit.predict(size);
  const gain = Math.max(0, predicted - fit.predict(largest));
  return { size, predicted, gain, fit };
}
