/** Deterministic parameter initialisers: each draws from `rng.fork(param.name)`, so a seed fixes every weight. */
import type { Rng } from '../../../core/rng.ts';
import type { Param } from './tensor.ts';

/** Fills `p` uniformly in [-limit, limit]. */
export function initUniform(p: Param, rng: Rng, limit: number): void {
  const r = rng.fork(p.name);
  for (let i = 0; i < p.value.length; i++) p.value[i] = (2 * r.next() - 1) * limit;
}

/** Glorot/Xavier uniform: limit = √(6 / (fanIn + fanOut)). */
export function initGlorot(p: Param, rng: Rng, fanIn: number, fanOut: number): void {
  initUniform(p, rng, Math.sqrt(6 / (fanIn + fanOut)));
}

/** Fills `p` from a normal distribution with mean 0 and standard deviation `std`. */
export function initNormal(p: Param, rng: Rng, std: number): void {
  const r = rng.fork(p.name);
  for (let i = 0; i < p.value.length; i++) p.value[i] = r.normal(0, std);
}

/** Fills `p` with a constant. */
export function initConstant(p: Param, value: number): void {
  p.value.fill(value);
}
