/**
 * Padded sequence batches in time-major layout.
 *
 * A batch of B sequences padded to T steps stores step t of sequence b at row `t * B + b`, so one
 * time step is a contiguous [B × D] block (a GEMM operand) and a shift in time is a shift in rows.
 * Positions at or past a sequence's length are padding; layers write zeros there.
 */
import { DataError } from '../../../core/errors.ts';
import type { FloatArray } from './tensor.ts';

/** The shape of a padded, time-major batch of sequences. */
export interface SeqBatch {
  /** Padded length (the longest sequence). */
  T: number;
  /** Number of sequences. */
  B: number;
  /** Real length of each sequence (≤ T; 0 allowed). */
  lengths: Int32Array;
}

/** Builds a {@link SeqBatch} from the lengths of its sequences. */
export function seqBatch(lengths: ArrayLike<number>): SeqBatch {
  let T = 0;
  const ls = new Int32Array(lengths.length);
  for (let b = 0; b < lengths.length; b++) {
    const l = lengths[b]!;
    if (!Number.isInteger(l) || l < 0) {
      throw new DataError(`sequence ${b} has an invalid length ${l}`, { hint: 'lengths are integers ≥ 0' });
    }
    ls[b] = l;
    if (l > T) T = l;
  }
  return { T, B: lengths.length, lengths: ls };
}

/** Zeroes the rows of padding positions of a [T·B × width] buffer in place. */
export function maskPadding(x: FloatArray, seq: SeqBatch, width: number): void {
  const { T, B, lengths } = seq;
  for (let b = 0; b < B; b++) {
    for (let t = lengths[b]!; t < T; t++) {
      const at = (t * B + b) * width;
      x.fill(0, at, at + width);
    }
  }
}

/**
 * Reverses every sequence within its own length (padding stays in place), from `src` into `dst`
 * ([T·B × width] each, distinct buffers); applying it twice is the identity.
 */
export function reverseSequences(src: FloatArray, dst: FloatArray, seq: SeqBatch, width: number): void {
  const { T, B, lengths } = seq;
  for (let b = 0; b < B; b++) {
    const len = lengths[b]!;
    for (let t = 0; t < T; t++) {
      const from = (t * B + b) * width;
      const to = ((t < len ? len - 1 - t : t) * B + b) * width;
      dst.set(src.subarray(from, from + width), to);
    }
  }
}

/** Lays out per-sequence integer ids (e.g. token ids) time-major, with -1 at padding positions. */
export function timeMajorIds(sequences: readonly ArrayLike<number>[]): { ids: Int32Array; seq: SeqBatch } {
  const seq = seqBatch(sequences.map((s) => s.length));
  const ids = new Int32Array(seq.T * seq.B).fill(-1);
  sequences.forEach((s, b) => {
    for (let t = 0; t < s.length; t++) ids[t * seq.B + b] = s[t]!;
  });
  return { ids, seq };
}
