import { SapphireError } from '../../core/errors.ts';

/** Everything numeric a linear.v1 model needs, as stored in its binary weights file. */
export interface LinearWeightsData {
  hashBits: number;
  nClasses: number;
  /** Hash bucket of each feature column. */
  buckets: Int32Array;
  /** Inverse document frequency of each column. */
  idf: Float32Array;
  /** Feature-major weights: `weights[col * nClasses + k]`. */
  weights: Float32Array;
  bias: Float32Array;
  /** Per-label decision thresholds (multi-label models only). */
  thresholds: Float32Array | null;
}

const MAGIC = 'SAPHLIN1';
const HEADER_BYTES = 32;
const HAS_THRESHOLDS = 1;

/**
 * Encodes weights as: an 8-byte magic `SAPHLIN1`, then little-endian uint32 format version, feature count,
 * class count, hash bits, flags and a reserved word (32 bytes in all), then int32 buckets, float32 idf,
 * float32 weights (feature-major), float32 bias and, when flagged, float32 thresholds, all little-endian.
 */
export function encodeWeights(data: LinearWeightsData, formatVersion: number): Uint8Array {
  const nF = data.buckets.length;
  const K = data.nClasses;
  const floats = nF + nF * K + K + (data.thresholds ? K : 0);
  const bytes = new Uint8Array(HEADER_BYTES + 4 * (nF + floats));
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < MAGIC.length; i++) bytes[i] = MAGIC.charCodeAt(i);
  view.setUint32(8, formatVersion, true);
  view.setUint32(12, nF, true);
  view.setUint32(16, K, true);
  view.setUint32(20, data.hashBits, true);
  view.setUint32(24, data.thresholds ? HAS_THRESHOLDS : 0, true);
  view.setUint32(28, 0, true);
  let at = HEADER_BYTES;
  for (let i = 0; i < nF; i++, at += 4) view.setInt32(at, data.buckets[i]!, true);
  for (const array of [data.idf, data.weights, data.bias, data.thresholds]) {
    if (!array) continue;
    for (let i = 0; i < array.length; i++, at += 4) view.setFloat32(at, array[i]!, true);
  }
  return bytes;
}

/** Decodes a weights file written by {@link encodeWeights}; `file` names it in errors. */
export function decodeWeights(bytes: Uint8Array, formatVersion: number, file: string): LinearWeightsData {
  const corrupt = (what: string) =>
    new SapphireError('DATA_INVALID', `${file} is not a valid linear.v1 weights file: ${what}`, {
      file,
      hint: 'the file is damaged or was not written by Sapphire; retrain the model',
    });
  if (bytes.length < HEADER_BYTES) throw corrupt('it is shorter than its header');
  const magic = String.fromCharCode(...bytes.subarray(0, MAGIC.length));
  if (magic !== MAGIC) throw corrupt(`it starts with "${magic}" instead of "${MAGIC}"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== formatVersion) {
    throw new SapphireError(
      'INCOMPATIBLE_VERSION',
      `${file} has weights format version ${version}; linear.v1 reads format version ${formatVersion}`,
      { file, hint: `retrain the model, or load it with the Sapphire version that wrote format ${version}` },
    );
  }
  const nF = view.getUint32(12, true);
  const K = view.getUint32(16, true);
  const hashBits = view.getUint32(20, true);
  const hasThresholds = (view.getUint32(24, true) & HAS_THRESHOLDS) !== 0;
  const expected = HEADER_BYTES + 4 * (2 * nF + nF * K + K + (hasThresholds ? K : 0));
  if (bytes.length !== expected)
    throw corrupt(`it has ${bytes.length} bytes, its header promises ${expected}`);
  let at = HEADER_BYTES;
  const buckets = new Int32Array(nF);
  for (let i = 0; i < nF; i++, at += 4) buckets[i] = view.getInt32(at, true);
  const floats = (n: number) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++, at += 4) out[i] = view.getFloat32(at, true);
    return out;
  };
  const idf = floats(nF);
  const weights = floats(nF * K);
  const bias = floats(K);
  const thresholds = hasThresholds ? floats(K) : null;
  return { hashBits, nClasses: K, buckets, idf, weights, bias, thresholds };
}
