/**
 * Optimizers (SGD with momentum, Adam), gradient clipping by global norm and learning-rate schedules.
 *
 * Sparse parameters (embedding tables) are updated only on the rows touched since the last
 * `zeroGrad` ("lazy" updates, as TensorFlow's LazyAdam), which keeps a 20k-word table cheap.
 * Frozen parameters are skipped.
 */
import { ConfigError } from '../../../core/errors.ts';
import { alloc, type FloatArray, type Param } from './tensor.ts';

/** Calls `fn(start, end)` for each contiguous range of `p` that may have a non-zero gradient. */
function forEachLiveRange(p: Param, fn: (start: number, end: number) => void): void {
  if (p.rowSize !== undefined && p.touchedRows) {
    const w = p.rowSize;
    for (const r of p.touchedRows) fn(r * w, r * w + w);
  } else {
    fn(0, p.value.length);
  }
}

/**
 * Scales all gradients so their global L2 norm is at most `maxNorm`; returns the norm before clipping.
 *
 * @example
 * const norm = clipGradNorm(model.params(), 5);
 */
export function clipGradNorm(params: readonly Param[], maxNorm: number): number {
  let sq = 0;
  for (const p of params) {
    if (p.frozen) continue;
    const g = p.grad;
    forEachLiveRange(p, (s, e) => {
      for (let i = s; i < e; i++) sq += g[i]! * g[i]!;
    });
  }
  const norm = Math.sqrt(sq);
  if (norm > maxNorm && norm > 0) {
    const scale = maxNorm / norm;
    for (const p of params) {
      if (p.frozen) continue;
      const g = p.grad;
      forEachLiveRange(p, (s, e) => {
        for (let i = s; i < e; i++) g[i] = g[i]! * scale;
      });
    }
  }
  return norm;
}

/** An optimizer updates parameter values from their gradients. */
export interface Optimizer {
  /** Applies one update with learning rate `lr` (gradients are left as they are). */
  step(lr: number): void;
  /** Number of steps taken. */
  readonly steps: number;
}

/** Options of {@link Sgd}. */
export interface SgdOptions {
  momentum?: number;
  /** L2 weight decay added to the gradient (dense parameters only). */
  weightDecay?: number;
}

/** Stochastic gradient descent with (heavy-ball) momentum. */
export class Sgd implements Optimizer {
  steps = 0;
  private readonly velocity = new Map<Param, FloatArray>();

  constructor(
    private readonly params: readonly Param[],
    private readonly opts: SgdOptions = {},
  ) {}

  step(lr: number): void {
    const mu = this.opts.momentum ?? 0;
    const wd = this.opts.weightDecay ?? 0;
    for (const p of this.params) {
      if (p.frozen) continue;
      let v = this.velocity.get(p);
      if (mu > 0 && !v) {
        v = alloc(p.value.length);
        this.velocity.set(p, v);
      }
      const w = p.value;
      const g = p.grad;
      const decay = p.rowSize === undefined ? wd : 0;
      forEachLiveRange(p, (s, e) => {
        for (let i = s; i < e; i++) {
          const gi = g[i]! + decay * w[i]!;
          if (v) {
            const vi = mu * v[i]! + gi;
            v[i] = vi;
            w[i] = w[i]! - lr * vi;
          } else {
            w[i] = w[i]! - lr * gi;
          }
        }
      });
    }
    this.steps++;
  }
}

/** Options of {@link Adam}. */
export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/**
 * Adam with bias correction; sparse parameters get lazy row updates (moments of untouched rows
 * are not decayed).
 *
 * @example
 * const adam = new Adam(model.params());
 * adam.step(1e-3);
 */
export class Adam implements Optimizer {
  steps = 0;
  private readonly m = new Map<Param, FloatArray>();
  private readonly v = new Map<Param, FloatArray>();
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;

  constructor(
    private readonly params: readonly Param[],
    opts: AdamOptions = {},
  ) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    for (const p of params) {
      this.m.set(p, alloc(p.value.length));
      this.v.set(p, alloc(p.value.length));
    }
  }

  step(lr: number): void {
    this.steps++;
    const { beta1, beta2, eps } = this;
    const c1 = 1 - beta1 ** this.steps;
    const c2 = 1 - beta2 ** this.steps;
    const stepSize = (lr * Math.sqrt(c2)) / c1;
    const epsHat = eps * Math.sqrt(c2);
    for (const p of this.params) {
      if (p.frozen) continue;
      const m = this.m.get(p)!;
      const v = this.v.get(p)!;
      const w = p.value;
      const g = p.grad;
      forEachLiveRange(p, (s, e) => {
        for (let i = s; i < e; i++) {
          const gi = g[i]!;
          const mi = beta1 * m[i]! + (1 - beta1) * gi;
          const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
          m[i] = mi;
          v[i] = vi;
          w[i] = w[i]! - (stepSize * mi) / (Math.sqrt(vi) + epsHat);
        }
      });
    }
  }
}

/** A learning-rate schedule: the rate for a 0-based step. */
export type Schedule = (step: number) => number;

/** The same rate at every step. */
export function constantSchedule(lr: number): Schedule {
  return () => lr;
}

/** Options of {@link linearWarmupDecay}. */
export interface WarmupDecayOptions {
  /** Peak learning rate. */
  lr: number;
  /** Steps of linear warm-up from 0 to `lr`. */
  warmupSteps: number;
  /** Total steps; the rate decays linearly from `lr` to `finalLr` between warm-up end and here. */
  totalSteps: number;
  finalLr?: number;
}

/**
 * Linear warm-up to `lr`, then linear decay to `finalLr` (default 0) at `totalSteps`, flat after.
 *
 * @example
 * const schedule = linearWarmupDecay({ lr: 1e-3, warmupSteps: 100, totalSteps: 5000 });
 * adam.step(schedule(adam.steps));
 */
export function linearWarmupDecay(opts: WarmupDecayOptions): Schedule {
  const { lr, warmupSteps, totalSteps } = opts;
  const finalLr = opts.finalLr ?? 0;
  if (warmupSteps < 0 || totalSteps < warmupSteps) {
    throw new ConfigError(`need 0 ≤ warmupSteps ≤ totalSteps, got ${warmupSteps} and ${totalSteps}`, {
      hint: 'set totalSteps to epochs × batches per epoch',
    });
  }
  return (step: number) => {
    if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
    if (step >= totalSteps) return finalLr;
    const span = totalSteps - warmupSteps;
    const frac = span === 0 ? 1 : (step - warmupSteps) / span;
    return lr + (finalLr - lr) * frac;
  };
}
