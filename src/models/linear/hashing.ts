import { hash32, mix32 } from '../../core/hash32.ts';

export { mix32, stepHash } from '../../core/hash32.ts';

/** A 32-bit hash of a string (FNV-1a over UTF-16 code units, MurmurHash3-finalised), seeded. */
export const hashString: (s: string, seed?: number) => number = hash32;

/** Combines two 32-bit hashes into one, order-sensitive (for word n-grams). */
export function combineHashes(a: number, b: number): number {
  return mix32((Math.imul(a, 0x9e3779b1) ^ b) >>> 0);
}
