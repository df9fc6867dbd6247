/** Options of {@link bisectingVectorClusters}. */
export interface VectorClusterOptions {
  /** Number of binary splits (at most 2^depth clusters). */
  depth?: number;
  /** Lloyd iterations per split. */
  iterations?: number;
  /** Clusters smaller than this are not split further. */
  minSize?: number;
}

/**
 * Clusters word vectors into Brown-style bit strings by recursive 2-means on unit-normalised
 * vectors (bisecting k-means, deterministic: farthest-point initialisation, no randomness).
 * Prefixes of the bit strings give coarser clusters, so they work with `clusters.prefixes`.
 *
 * @example
 * const clusters = bisectingVectorClusters(vectors, { depth: 8 }); // word → "01101001"
 */
export function bisectingVectorClusters(
  vectors: ReadonlyMap<string, Float32Array>,
  options: VectorClusterOptions = {},
): Map<string, string> {
  const depth = options.depth ?? 10;
  const iterations = options.iterations ?? 8;
  const minSize = options.minSize ?? 2;
  const words = [...vectors.keys()];
  const dims = words.length > 0 ? vectors.get(words[0]!)!.length : 0;
  const data = new Float64Array(words.length * dims);
  words.forEach((w, i) => {
    const v = vectors.get(w)!;
    let norm = 0;
    for (let d = 0; d < dims; d++) norm += v[d]! * v[d]!;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < dims; d++) data[i * dims + d] = v[d]! * inv;
  });
  const dist = (i: number, c: Float64Array): number => {
    let s = 0;
    for (let d = 0; d < dims; d++) {
      const x = data[i * dims + d]! - c[d]!;
      s += x * x;
    }
    return s;
  };
  const centroid = (members: number[]): Float64Array => {
    const c = new Float64Array(dims);
    for (const i of members) for (let d = 0; d < dims; d++) c[d] = c[d]! + data[i * dims + d]!;
    for (let d = 0; d < dims; d++) c[d] = c[d]! / Math.max(1, members.length);
    return c;
  };
  const farthest = (members: number[], from: Float64Array): number => {
    let best = members[0]!;
    let bestDist = -1;
    for (const i of members) {
      const x = dist(i, from);
      if (x > bestDist) {
        bestDist = x;
        best = i;
      }
    }
    return best;
  };
  const out = new Map<string, string>();
  const split = (members: number[], prefix: string): void => {
    if (prefix.length >= depth || members.length < minSize) {
      for (const i of members) out.set(words[i]!, prefix || '0');
      return;
    }
    const a0 = farthest(members, centroid(members));
    const b0 = farthest(members, data.subarray(a0 * dims, (a0 + 1) * dims));
    let ca: Float64Array = Float64Array.from(data.subarray(a0 * dims, (a0 + 1) * dims));
    let cb: Float64Array = Float64Array.from(data.subarray(b0 * dims, (b0 + 1) * dims));
    let left: number[] = [];
    let right: number[] = [];
    for (let it = 0; it < iterations; it++) {
      left = [];
      right = [];
      for (const i of members) (dist(i, ca) <= dist(i, cb) ? left : right).push(i);
      if (left.length === 0 || right.length === 0) break;
      ca = centroid(left);
      cb = centroid(right);
    }
    if (left.length === 0 || right.length === 0) {
      for (const i of members) out.set(words[i]!, prefix || '0');
      return;
    }
    split(left, `${prefix}0`);
    split(right, `${prefix}1`);
  };
  split(
    words.map((_, i) => i),
    '',
  );
  return out;
}
