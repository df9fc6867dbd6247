/** Max and mean pooling over time: [T·B × D] (time-major, padded) → [B × D]; empty sequences give zeros. */
import type { SeqBatch } from './seq.ts';
import { alloc, type FloatArray } from './tensor.ts';

/** Max over each sequence's real steps, per feature. */
export class MaxPoolTime {
  private argmax: Int32Array = new Int32Array(0);
  private seq: SeqBatch = { T: 0, B: 0, lengths: new Int32Array(0) };
  private width = 0;

  forward(x: FloatArray, seq: SeqBatch, width: number): FloatArray {
    const { B, lengths } = seq;
    const y = alloc(B * width);
    const arg = new Int32Array(B * width).fill(-1);
    for (let b = 0; b < B; b++) {
      const len = lengths[b]!;
      for (let j = 0; j < width; j++) {
        let best = Number.NEGATIVE_INFINITY;
        let at = -1;
        for (let t = 0; t < len; t++) {
          const v = x[(t * B + b) * width + j]!;
          if (v > best) {
            best = v;
            at = t;
          }
        }
        if (at >= 0) {
          y[b * width + j] = best;
          arg[b * width + j] = at;
        }
      }
    }
    this.argmax = arg;
    this.seq = seq;
    this.width = width;
    return y;
  }

  /** Routes each output gradient to the step that won the max. */
  backward(dy: FloatArray): FloatArray {
    const { T, B } = this.seq;
    const w = this.width;
    const dx = alloc(T * B * w);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < w; j++) {
        const t = this.argmax[b * w + j]!;
        if (t >= 0) dx[(t * B + b) * w + j] = dy[b * w + j]!;
      }
    }
    return dx;
  }
}

/** Mean over each sequence's real steps, per feature. */
export class MeanPoolTime {
  private seq: SeqBatch = { T: 0, B: 0, lengths: new Int32Array(0) };
  private width = 0;

  forward(x: FloatArray, seq: SeqBatch, width: number): FloatArray {
    const { B, lengths } = seq;
    const y = alloc(B * width);
    for (let b = 0; b < B; b++) {
      const len = lengths[b]!;
      if (len === 0) continue;
      for (let t = 0; t < len; t++) {
        const o = (t * B + b) * width;
        for (let j = 0; j < width; j++) y[b * width + j] = y[b * width + j]! + x[o + j]!;
      }
      for (let j = 0; j < width; j++) y[b * width + j] = y[b * width + j]! / len;
    }
    this.seq = seq;
    this.width = width;
    return y;
  }

  backward(dy: FloatArray): FloatArray {
    const { T, B, lengths } = this.seq;
    const w = this.width;
    const dx = alloc(T * B * w);
    for (let b = 0; b < B; b++) {
      const len = lengths[b]!;
      for (let t = 0; t < len; t++) {
        const o = (t * B + b) * w;
        for (let j = 0; j < w; j++) dx[o + j] = dy[b * w + j]! / len;
      }
    }
    return dx;
  }
}
