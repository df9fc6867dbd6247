/**
 * Numerical gradient checking by central differences, for tests of layers and whole models.
 *
 * Run it with {@link setPrecision}('float64') set before the model is built, so the finite
 * differences are accurate to ~1e-9 and analytic gradients can be held to a tight tolerance.
 */
import type { FloatArray } from './tensor.ts';

/** A value buffer and the analytic gradient of the loss with respect to it. */
export interface GradTarget {
  name: string;
  value: FloatArray;
  grad: FloatArray;
}

/** Result of {@link checkGradients}: the worst relative error and where it was found. */
export interface GradCheckResult {
  maxRelError: number;
  worst: { name: string; index: number; analytic: number; numeric: number } | undefined;
  checked: number;
}

/**
 * Compares analytic gradients (already computed in each target's `grad`) to central differences
 * of `loss()` for up to `samples` indices per target (evenly spread); the relative error of a pair
 * is |a − n| / max(floor, |a| + |n|) (floor 1e-4 by default), so round-off on near-zero pairs does not count.
 *
 * @example
 * const r = checkGradients(targets, () => forwardLoss(), { eps: 1e-5 });
 * assert.ok(r.maxRelError < 1e-6, JSON.stringify(r.worst));
 */
export function checkGradients(
  targets: readonly GradTarget[],
  loss: () => number,
  opts: { eps?: number; samples?: number; floor?: number } = {},
): GradCheckResult {
  const eps = opts.eps ?? 1e-5;
  const samples = opts.samples ?? 40;
  const floor = opts.floor ?? 1e-4;
  let maxRelError = 0;
  let worst: GradCheckResult['worst'];
  let checked = 0;
  for (const t of targets) {
    const n = t.value.length;
    const stride = Math.max(1, Math.floor(n / samples));
    const analyticAll = Float64Array.from(t.grad);
    for (let i = 0; i < n; i += stride) {
      const orig = t.value[i]!;
      t.value[i] = orig + eps;
      const up = loss();
      t.value[i] = orig - eps;
      const down = loss();
      t.value[i] = orig;
      const numeric = (up - down) / (2 * eps);
      const analytic = analyticAll[i]!;
      const rel = Math.abs(analytic - numeric) / Math.max(floor, Math.abs(analytic) + Math.abs(numeric));
      checked++;
      if (rel > maxRelError) {
        maxRelError = rel;
        worst = { name: t.name, index: i, analytic, numeric };
      }
    }
  }
  return { maxRelError, worst, checked };
}
