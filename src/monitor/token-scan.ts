/**
 * The live sketches' token scan without allocation: a text's monitoring tokens (the same tokens and hashes as
 * `scanMonitorTokens` in the reference profile) are written into shared scratch arrays, and an ASCII text is hashed
 * whole in the same pass. Out-of-vocabulary tokens become strings through a small cache, so a token that keeps
 * coming back is not sliced and lowercased on every request.
 */
import { FNV_OFFSET, mix32, stepHash } from '../core/hash32.ts';
import { scanMonitorTokens } from '../train/reference-profile.ts';

/** What the last {@link scanAscii} or {@link scanLowered} found: token hashes and ranges, and the text's hash. */
export const scratch = {
  /** Token hashes (the 32 bits of `hash32(token)`, read as signed). */
  hashes: new Int32Array(256),
  starts: new Int32Array(256),
  ends: new Int32Array(256),
  /** `hash32(text)` of the last ASCII text scanned. */
  textHash: 0,
};

/** 1 for the ASCII code units that belong to a word (letters and digits). */
const WORD = new Uint8Array(128);
for (let c = 0; c < 128; c++)
  WORD[c] = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) ? 1 : 0;

function push(at: number, start: number, end: number, hash: number): void {
  if (at === scratch.hashes.length) {
    const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    scratch.hashes = grow(scratch.hashes);
    scratch.starts = grow(scratch.starts);
    scratch.ends = grow(scratch.ends);
  }
  scratch.hashes[at] = hash;
  scratch.starts[at] = start;
  scratch.ends[at] = end;
}

/**
 * Scans an ASCII text into {@link scratch} (capitals lowercased on the fly) and hashes it whole; returns the
 * token count, or -1 as soon as a non-ASCII code unit shows the text needs {@link scanLowered}.
 */
export function scanAscii(text: string): number {
  let count = 0;
  let start = -1;
  let h = FNV_OFFSET;
  let whole = FNV_OFFSET;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const raw = text.charCodeAt(i);
    if (raw >= 128) return -1;
    whole = stepHash(whole, raw);
    if (WORD[raw] === 1) {
      if (start < 0) {
        start = i;
        h = FNV_OFFSET;
      }
      h = stepHash(h, raw >= 65 && raw <= 90 ? raw + 32 : raw);
    } else if (start >= 0) {
      push(count++, start, i, mix32(h));
      start = -1;
    }
  }
  if (start >= 0) push(count++, start, n, mix32(h));
  scratch.textHash = mix32(whole);
  return count;
}

let found = 0;
const collect = (start: number, end: number, hash: number): void => push(found++, start, end, hash);

/** Scans an already lowercased text of any script into {@link scratch}; returns the token count. */
export function scanLowered(lower: string): number {
  found = 0;
  scanMonitorTokens(lower, collect);
  return found;
}

const CACHE_SIZE = 4096;
const cacheKeys = new Int32Array(CACHE_SIZE);
const cacheValues: (string | undefined)[] = new Array(CACHE_SIZE).fill(undefined);

/**
 * The lowercased token `source[start, end)` as a string, from a direct-mapped cache keyed by its hash (checked
 * character by character, so a hash collision only costs a fresh slice, never a wrong token).
 */
export function tokenString(source: string, start: number, end: number, hash: number): string {
  const slot = hash & (CACHE_SIZE - 1);
  const cached = cacheValues[slot];
  if (cached !== undefined && cacheKeys[slot] === hash && cached.length === end - start) {
    let same = true;
    for (let k = 0; k < cached.length; k++) {
      const raw = source.charCodeAt(start + k);
      if ((raw >= 65 && raw <= 90 ? raw + 32 : raw) !== cached.charCodeAt(k)) {
        same = false;
        break;
      }
    }
    if (same) return cached;
  }
  const token = source.slice(start, end).toLowerCase();
  cacheKeys[slot] = hash;
  cacheValues[slot] = token;
  return token;
}
