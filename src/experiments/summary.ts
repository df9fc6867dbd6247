import { SapphireError } from '../core/errors.ts';

/** Mean, spread and a t-based 95% confidence interval of a metric over seeds or folds. */
export interface Summary {
  /** Number of values. */
  n: number;
  mean: number;
  /** Sample standard deviation (divides by n − 1); 0 when n = 1. */
  std: number;
  min: number;
  max: number;
  /** 95% confidence interval of the mean, `mean ± t(0.975, n − 1) · std / √n`; `[mean, mean]` when n = 1. */
  ci95: [number, number];
}

/** Two-sided 95% critical values t(0.975, df) for df = 1…30 (index 0 is df = 1). */
const T975 = [
  12.706204736, 4.30265273, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252, 2.306004135,
  2.262157163, 2.228138852, 2.20098516, 2.17881283, 2.160368656, 2.144786688, 2.131449546, 2.119905299,
  2.109815578, 2.10092204, 2.093024054, 2.085963447, 2.079613845, 2.073873068, 2.06865761, 2.063898562,
  2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456,
];

/** The standard normal 97.5% quantile. */
const Z975 = 1.959963984540054;

/**
 * The 97.5% quantile of Student's t with `df` degrees of freedom (the multiplier of a two-sided 95%
 * interval): exact table values up to df = 30, then the Cornish–Fisher expansion in 1/df (error below 1e-7).
 *
 * @example
 * tCritical95(4); // 2.776…
 */
export function tCritical95(df: number): number {
  if (!Number.isInteger(df) || df < 1) {
    throw new SapphireError(
      'BAD_INPUT',
      `t quantile needs a positive integer of degrees of freedom, got ${df}`,
      {
        hint: 'degrees of freedom are the number of values minus one, so pass at least two values',
      },
    );
  }
  if (df <= T975.length) return T975[df - 1]!;
  const z = Z975;
  const z2 = z * z;
  const g1 = (z * (z2 + 1)) / 4;
  const g2 = (z * ((5 * z2 + 16) * z2 + 3)) / 96;
  const g3 = (z * (((3 * z2 + 19) * z2 + 17) * z2 - 15)) / 384;
  const g4 = (z * ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945)) / 92160;
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4;
}

/**
 * Summarises values (e.g. one score per seed or fold): mean, sample std, range and a t-based 95% interval.
 *
 * @example
 * summarize([0.91, 0.92, 0.9]); // { n: 3, mean: 0.91, std: 0.01, min: 0.9, max: 0.92, ci95: [0.885…, 0.935…] }
 */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) {
    throw new SapphireError('BAD_INPUT', 'cannot summarize an empty list of values', {
      hint: 'run at least one seed or fold before summarizing its scores',
    });
  }
  const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) {
    throw new SapphireError(
      'BAD_INPUT',
      `value ${String(values[bad])} at position ${bad} is not a finite number`,
      {
        hint: 'drop failed runs (NaN or missing scores) before summarizing',
      },
    );
  }
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const squares = values.reduce((acc, v) => acc + (v - mean) ** 2, 0);
  const std = n > 1 ? Math.sqrt(squares / (n - 1)) : 0;
  const half = n > 1 ? (tCritical95(n - 1) * std) / Math.sqrt(n) : 0;
  let min = values[0]!;
  let max = values[0]!;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { n, mean, std, min, max, ci95: [mean - half, mean + half] };
}

/** Fixed-point text without a minus sign on values that round to zero (`-0.000` → `0.000`). */
function fixed(value: number, digits: number): string {
  const text = value.toFixed(digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
}

/**
 * Formats a summary as `mean ± std` with `digits` decimals (default 3), or just the mean when n = 1.
 *
 * @example
 * formatMeanStd(summarize([0.91, 0.914])); // "0.912 ± 0.003"
 */
export function formatMeanStd(s: Summary, digits = 3): string {
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) {
    throw new SapphireError('BAD_INPUT', `digits must be an integer from 0 to 20, got ${digits}`, {
      hint: 'pass the number of decimals to show, e.g. 3',
    });
  }
  const mean = fixed(s.mean, digits);
  return s.n > 1 ? `${mean} ± ${fixed(s.std, digits)}` : mean;
}
