import { ConfigError } from './errors.ts';

/**
 * A seeded pseudo-random number generator (xoshiro128**, seeded through splitmix32).
 *
 * All arithmetic is 32-bit integer maths (`Math.imul`, `>>>`), so a seed gives the same
 * sequence on every platform and Node version.
 */
export interface Rng {
  /** The 32-bit key this generator was seeded from (derived from the seed and fork labels). */
  readonly key: number;
  /** Next float in [0, 1) with 32 bits of randomness. */
  next(): number;
  /** Next unsigned 32-bit integer. */
  uint32(): number;
  /** Uniform integer in [0, maxExclusive), without modulo bias; `maxExclusive` is an integer in [1, 2^32]. */
  int(maxExclusive: number): number;
  /** Normally distributed float (Box–Muller) with the given mean and standard deviation. */
  normal(mean?: number, std?: number): number;
  /** Shuffles `arr` in place (Fisher–Yates) and returns it. */
  shuffle<T>(arr: T[]): T[];
  /**
   * An independent generator derived from this one's key and `label`; it does not depend on
   * (nor consume) draws already taken, so `rng.fork('init')` is stable when other code draws more.
   */
  fork(label: string): Rng;
}

const TWO_POW_32 = 4294967296;

/** splitmix32 step: returns the next state and a well-mixed output. */
function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [next, z >>> 0];
}

/** Mixes two 32-bit words into one (murmur3 finaliser over a combination). */
function mix2(a: number, b: number): number {
  let h = Math.imul(a ^ 0x5bd1e995, 0xcc9e2d51) ^ b;
  h = Math.imul(h ^ (h >>> 15), 0x1b873593);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** FNV-1a over the UTF-16 code units of a string. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Turns any finite number into a 32-bit key; safe integers use both their low and high words. */
function seedKey(seed: number): number {
  if (!Number.isFinite(seed)) {
    throw new ConfigError(`seed must be a finite number, got ${seed}`, {
      path: 'seed',
      hint: 'use an integer seed such as 42',
    });
  }
  if (Number.isSafeInteger(seed)) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    return mix2(lo, hi);
  }
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, seed);
  return mix2(view.getUint32(0), view.getUint32(4) ^ 0x9e3779b9);
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function fromKey(key: number): Rng {
  let sm = key | 0;
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [next, out] = splitmix32(sm);
    sm = next;
    words.push(out | 0);
  }
  let [s0, s1, s2, s3] = words as [number, number, number, number];
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  let spareNormal: number | undefined;

  const uint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  const next = (): number => uint32() / TWO_POW_32;

  const int = (maxExclusive: number): number => {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > TWO_POW_32) {
      throw new ConfigError(`rng.int() needs an integer bound in [1, 2^32], got ${maxExclusive}`, {
        hint: 'pass the number of choices, e.g. rng.int(array.length) for a non-empty array',
      });
    }
    // Rejection sampling: accept only draws below the largest multiple of maxExclusive.
    const limit = TWO_POW_32 - (TWO_POW_32 % maxExclusive);
    let x = uint32();
    while (x >= limit) x = uint32();
    return x % maxExclusive;
  };

  const normal = (mean = 0, std = 1): number => {
    if (spareNormal !== undefined) {
      const z = spareNormal;
      spareNormal = undefined;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  };

  const shuffle = <T>(arr: T[]): T[] => {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = int(i + 1);
      const tmp = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = tmp;
    }
    return arr;
  };

  const fork = (label: string): Rng => fromKey(mix2(key ^ 0x2545f491, fnv1a(label)));

  return { key: key >>> 0, next, uint32, int, normal, shuffle, fork };
}

/**
 * Creates a deterministic generator from a seed (any finite number; integers are typical).
 *
 * @example
 * const rng = createRng(42);
 * const order = rng.shuffle([1, 2, 3, 4]);
 * const initRng = rng.fork('init');
 */
export function createRng(seed: number): Rng {
  return fromKey(seedKey(seed));
}
