/**
 * A fast, well-mixed 32-bit string hash: FNV-1a over the UTF-16 code units, finished with MurmurHash3's avalanche
 * step so that every output bit depends on every input bit. Used by the linear model's feature hashing and by the
 * monitoring sketches (HyperLogLog reads the top bits as a register index and the rest as a geometric sample).
 */

/** FNV-1a's starting state, for hashing a string while scanning it (chain {@link stepHash}, then {@link mix32}). */
export const FNV_OFFSET = 0x811c9dc5;

/** Final avalanche of MurmurHash3: spreads every input bit over every output bit. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One FNV-1a step over a UTF-16 code unit; chain it and finish with {@link mix32}. */
export function stepHash(h: number, codeUnit: number): number {
  return Math.imul(h ^ codeUnit, 0x01000193);
}

/**
 * The 32-bit hash of a string (unsigned), optionally seeded.
 *
 * @example
 * hash32('card_arrival'); // the same value on every run and machine
 */
export function hash32(text: string, seed = 0): number {
  let h = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = stepHash(h, text.charCodeAt(i));
  return mix32(h);
}
