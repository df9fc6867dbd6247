/**
 * A fast, well-mixed 32-bit string hash for the sketches: FNV-1a over the UTF-16 code units, finished with
 * MurmurHash3's avalanche step so that every output bit depends on every input bit (HyperLogLog reads the top
 * bits as a register index and the rest as a geometric sample).
 */

/**
 * The 32-bit hash of a string (unsigned).
 *
 * @example
 * hash32('card_arrival'); // 2849735105 (stable across runs and machines)
 */
export function hash32(text: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return finishHash32(h);
}

/** FNV-1a's starting state, for hashing a string while scanning it (`h = Math.imul(h ^ code, FNV_PRIME)`). */
export const FNV_OFFSET = 0x811c9dc5;
/** FNV-1a's multiplier. */
export const FNV_PRIME = 0x01000193;

/** The avalanche step that turns an FNV-1a state into the value {@link hash32} returns. */
export function finishHash32(state: number): number {
  let h = state;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
