import { ConfigError } from '../../core/errors.ts';

/**
 * Computes the smooth part of an objective at `x`, writes its gradient into `grad` and returns its value.
 * The L1 term of OWL-QN is added by the optimiser and must not be included here.
 */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

/** Options of {@link lbfgsIterations} and {@link minimize}. */
export interface LbfgsOptions {
  /** Number of correction pairs kept (the "m" of L-BFGS). */
  memory?: number;
  /** Maximum number of iterations. */
  maxIterations?: number;
  /** Stop when ‖g‖ / max(1, ‖x‖) falls below this (g is the pseudo-gradient under L1). */
  epsilon?: number;
  /** Window, in iterations, of the relative-improvement test (0 disables it). */
  period?: number;
  /** Stop when (f[k − period] − f[k]) / |f[k]| falls below this. */
  delta?: number;
  /** L1 coefficient: a positive value switches to OWL-QN and minimises f(x) + l1 · ‖x‖₁. */
  l1?: number;
  /** Indices [l1Start, l1End) the L1 term applies to (default: every coordinate). */
  l1Start?: number;
  l1End?: number;
  /** Maximum number of function evaluations per line search. */
  maxLineSearch?: number;
}

/** Why the optimiser stopped. */
export type LbfgsStatus =
  | 'running'
  | 'converged'
  | 'stalled'
  | 'max-iterations'
  | 'line-search-failed'
  | 'stopped';

/** The optimiser's state after one iteration. */
export interface LbfgsIteration {
  iteration: number;
  /** Objective value, L1 term included. */
  value: number;
  /** Norm of the (pseudo-)gradient. */
  gradientNorm: number;
  /** The current point (shared buffer: copy it to keep it). */
  x: Float64Array;
  /** Function evaluations so far. */
  evaluations: number;
  status: LbfgsStatus;
}

/** The outcome of {@link minimize}. */
export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  evaluations: number;
  status: LbfgsStatus;
}

interface FilledOptions {
  memory: number;
  maxIterations: number;
  epsilon: number;
  period: number;
  delta: number;
  l1: number;
  l1Start: number;
  l1End: number;
  maxLineSearch: number;
}

function fillOptions(n: number, o: LbfgsOptions): FilledOptions {
  const filled: FilledOptions = {
    memory: o.memory ?? 6,
    maxIterations: o.maxIterations ?? 1000,
    epsilon: o.epsilon ?? 1e-5,
    period: o.period ?? 10,
    delta: o.delta ?? 1e-5,
    l1: o.l1 ?? 0,
    l1Start: o.l1Start ?? 0,
    l1End: o.l1End ?? n,
    maxLineSearch: o.maxLineSearch ?? 40,
  };
  const bad = (path: string, what: string) =>
    new ConfigError(`L-BFGS option ${path} ${what}`, { path, hint: 'fix the optimiser option' });
  if (!Number.isInteger(filled.memory) || filled.memory < 1) throw bad('memory', 'must be an integer ≥ 1');
  if (!Number.isInteger(filled.maxIterations) || filled.maxIterations < 0)
    throw bad('maxIterations', 'must be an integer ≥ 0');
  if (!(filled.l1 >= 0)) throw bad('l1', 'must be ≥ 0');
  if (!(filled.l1Start >= 0 && filled.l1End <= n && filled.l1Start <= filled.l1End))
    throw bad('l1Start', `and l1End must delimit a range inside [0, ${n}]`);
  return filled;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function l1Norm(x: Float64Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i++) s += Math.abs(x[i]!);
  return s;
}

/** OWL-QN pseudo-gradient of f + l1·‖x‖₁ over [start, end): the minimum-norm subgradient. */
function pseudoGradient(
  pg: Float64Array,
  x: Float64Array,
  g: Float64Array,
  l1: number,
  start: number,
  end: number,
): void {
  pg.set(g);
  for (let i = start; i < end; i++) {
    const xi = x[i]!;
    const gi = g[i]!;
    if (xi < 0) pg[i] = gi - l1;
    else if (xi > 0) pg[i] = gi + l1;
    else if (gi + l1 < 0) pg[i] = gi + l1;
    else if (gi - l1 > 0) pg[i] = gi - l1;
    else pg[i] = 0;
  }
}

/**
 * Runs L-BFGS (or OWL-QN when `l1 > 0`) and yields after every iteration, so a caller can
 * report progress, evaluate on held-out data, yield to the event loop or stop early by
 * breaking out of the loop. `x0` is not modified.
 *
 * @example
 * for (const it of lbfgsIterations(f, new Float64Array(n), { maxIterations: 100 })) {
 *   if (it.iteration % 10 === 0) console.log(it.iteration, it.value);
 * }
 */
export function* lbfgsIterations(
  f: Objective,
  x0: Float64Array,
  options: LbfgsOptions = {},
): Generator<LbfgsIteration, LbfgsResult, undefined> {
  const n = x0.length;
  const o = fillOptions(n, options);
  const owlqn = o.l1 > 0;
  const m = o.memory;
  const x = Float64Array.from(x0);
  const xp = new Float64Array(n);
  const g = new Float64Array(n);
  const gp = new Float64Array(n);
  const pg = owlqn ? new Float64Array(n) : g;
  const d = new Float64Array(n);
  const s = Array.from({ length: m }, () => new Float64Array(n));
  const y = Array.from({ length: m }, () => new Float64Array(n));
  const rho = new Float64Array(m);
  const alpha = new Float64Array(m);
  const history: number[] = [];
  let evaluations = 0;

  const evaluate = (point: Float64Array, grad: Float64Array): number => {
    evaluations++;
    let v = f(point, grad);
    if (owlqn) v += o.l1 * l1Norm(point, o.l1Start, o.l1End);
    if (!Number.isFinite(v)) v = Number.POSITIVE_INFINITY;
    return v;
  };

  let fx = evaluate(x, g);
  if (owlqn) pseudoGradient(pg, x, g, o.l1, o.l1Start, o.l1End);
  const result = (status: LbfgsStatus, iterations: number): LbfgsResult => ({
    x,
    value: fx,
    iterations,
    evaluations,
    status,
  });
  let gnorm = Math.sqrt(dot(pg, pg));
  if (gnorm / Math.max(1, Math.sqrt(dot(x, x))) <= o.epsilon) return result('converged', 0);

  for (let i = 0; i < n; i++) d[i] = -pg[i]!;
  let step = 1 / Math.max(gnorm, 1e-300);
  let stored = 0;
  let newest = -1;

  for (let k = 1; k <= o.maxIterations; k++) {
    xp.set(x);
    gp.set(g);
    const fPrev = fx;

    // Line search along d (projected onto the orthant for OWL-QN).
    let ok = false;
    if (owlqn) {
      for (let i = o.l1Start; i < o.l1End; i++) if (d[i]! * pg[i]! >= 0) d[i] = 0;
      let dg = dot(d, pg);
      if (dg >= 0) {
        // Not a descent direction: restart from steepest descent.
        for (let i = 0; i < n; i++) d[i] = -pg[i]!;
        dg = -dot(pg, pg);
        stored = 0;
      }
      for (let trial = 0; trial < o.maxLineSearch; trial++) {
        for (let i = 0; i < n; i++) x[i] = xp[i]! + step * d[i]!;
        for (let i = o.l1Start; i < o.l1End; i++) {
          const orthant = xp[i] !== 0 ? Math.sign(xp[i]!) : -Math.sign(pg[i]!);
          if (x[i]! * orthant <= 0) x[i] = 0;
        }
        fx = evaluate(x, g);
        let decrease = 0;
        for (let i = 0; i < n; i++) decrease += (x[i]! - xp[i]!) * pg[i]!;
        if (fx <= fPrev + 1e-4 * decrease) {
          ok = true;
          break;
        }
        step *= 0.5;
      }
    } else {
      let dginit = dot(d, g);
      if (dginit >= 0) {
        for (let i = 0; i < n; i++) d[i] = -g[i]!;
        dginit = -dot(g, g);
        stored = 0;
      }
      // Backtracking line search with the (weak) Wolfe conditions.
      for (let trial = 0; trial < o.maxLineSearch; trial++) {
        for (let i = 0; i < n; i++) x[i] = xp[i]! + step * d[i]!;
        fx = evaluate(x, g);
        if (fx > fPrev + 1e-4 * step * dginit) {
          step *= 0.5;
          continue;
        }
        if (dot(d, g) < 0.9 * dginit && trial < o.maxLineSearch - 1) {
          step *= 2.1;
          continue;
        }
        ok = true;
        break;
      }
    }
    if (!ok) {
      x.set(xp);
      g.set(gp);
      fx = fPrev;
      return result('line-search-failed', k - 1);
    }
    if (owlqn) pseudoGradient(pg, x, g, o.l1, o.l1Start, o.l1End);

    gnorm = Math.sqrt(dot(pg, pg));
    const xnorm = Math.sqrt(dot(x, x));
    history.push(fx);
    let status: LbfgsStatus = 'running';
    if (gnorm / Math.max(1, xnorm) <= o.epsilon) status = 'converged';
    else if (o.period > 0 && history.length > o.period) {
      const past = history[history.length - 1 - o.period]!;
      if ((past - fx) / Math.max(Math.abs(fx), 1e-300) < o.delta) status = 'stalled';
    }
    if (status === 'running' && k === o.maxIterations) status = 'max-iterations';
    yield { iteration: k, value: fx, gradientNorm: gnorm, x, evaluations, status };
    if (status !== 'running') return result(status, k);

    // Update the correction pairs (skip when the curvature condition fails).
    const slot = (newest + 1) % m;
    const sk = s[slot]!;
    const yk = y[slot]!;
    let ys = 0;
    let yy = 0;
    for (let i = 0; i < n; i++) {
      const si = x[i]! - xp[i]!;
      const yi = g[i]! - gp[i]!;
      sk[i] = si;
      yk[i] = yi;
      ys += si * yi;
      yy += yi * yi;
    }
    if (ys > 1e-10 * yy && yy > 0) {
      rho[slot] = 1 / ys;
      newest = slot;
      stored = Math.min(stored + 1, m);
    }

    // Two-loop recursion: d = −H · pg.
    for (let i = 0; i < n; i++) d[i] = -pg[i]!;
    if (stored > 0) {
      let j = newest;
      for (let c = 0; c < stored; c++) {
        const a = rho[j]! * dot(s[j]!, d);
        alpha[j] = a;
        const yj = y[j]!;
        for (let i = 0; i < n; i++) d[i] = d[i]! - a * yj[i]!;
        j = (j - 1 + m) % m;
      }
      const yn = y[newest]!;
      const gamma = 1 / (rho[newest]! * dot(yn, yn));
      for (let i = 0; i < n; i++) d[i] = d[i]! * gamma;
      j = (newest - stored + 1 + m) % m;
      for (let c = 0; c < stored; c++) {
        const b = rho[j]! * dot(y[j]!, d);
        const sj = s[j]!;
        const coef = alpha[j]! - b;
        for (let i = 0; i < n; i++) d[i] = d[i]! + coef * sj[i]!;
        j = (j + 1) % m;
      }
    }
    step = stored > 0 ? 1 : 1 / Math.max(gnorm, 1e-300);
  }
  return result('max-iterations', o.maxIterations);
}

/**
 * Minimises `f` (plus `l1 · ‖x‖₁` when `options.l1 > 0`, by OWL-QN) from `x0` and returns the result.
 *
 * @example
 * const { x } = minimize((x, g) => { g[0] = 2 * (x[0] - 3); return (x[0] - 3) ** 2; }, new Float64Array(1));
 */
export function minimize(f: Objective, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const it = lbfgsIterations(f, x0, options);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}
