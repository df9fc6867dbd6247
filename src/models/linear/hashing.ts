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

/** A 32-bit hash of a string (FNV-1a over UTF-16 code units, MurmurHash3-finalised), seeded. */
export function hashString(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = stepHash(h, s.charCodeAt(i));
  return mix32(h);
}

/** Combines two 32-bit hashes into one, order-sensitive (for word n-grams). */
export function combineHashes(a: number, b: number): number {
  return mix32((Math.imul(a, 0x9e3779b1) ^ b) >>> 0);
}
