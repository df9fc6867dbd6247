/**
 * Dilated 1-D convolution over time ("same" padding) on a padded time-major batch.
 *
 * With time-major rows, tap k of the kernel reads the input shifted by `offset = (k − mid) · dilation`
 * steps, which is a shift of `offset · B` rows: each tap is one GEMM over the overlapping rows.
 * Padding positions of the input are treated as zeros and the output's padding rows are zeroed.
 */
import { ConfigError } from '../../../core/errors.ts';
import type { Rng } from '../../../core/rng.ts';
import { gemm } from './gemm.ts';
import { initConstant, initGlorot } from './init.ts';
import { addBiasRows, addColumnSums } from './linear.ts';
import { maskPadding, type SeqBatch } from './seq.ts';
import { alloc, createParam, type FloatArray, type HasParams, type Param } from './tensor.ts';

/**
 * Conv1d layer: x [T·B × inSize] → y [T·B × outSize], kernel `width` taps (odd), `dilation` ≥ 1.
 *
 * @example
 * const conv = new Conv1d('cnn.1', 100, 128, createRng(1), { width: 3, dilation: 2 });
 * const y = conv.forward(x, seq);
 */
export class Conv1d implements HasParams {
  /** Kernel [width · inSize × outSize]: tap k is the [inSize × outSize] block at row k · inSize. */
  readonly w: Param;
  readonly b: Param;
  readonly width: number;
  readonly dilation: number;
  private x: FloatArray = alloc(0);
  private seq: SeqBatch = { T: 0, B: 0, lengths: new Int32Array(0) };

  constructor(
    name: string,
    readonly inSize: number,
    readonly outSize: number,
    rng: Rng,
    opts: { width?: number; dilation?: number } = {},
  ) {
    this.width = opts.width ?? 3;
    this.dilation = opts.dilation ?? 1;
    if (this.width < 1 || this.width % 2 === 0 || !Number.isInteger(this.width)) {
      throw new ConfigError(`convolution width must be an odd integer ≥ 1, got ${this.width}`, {
        hint: 'use 3 or 5',
      });
    }
    if (this.dilation < 1 || !Number.isInteger(this.dilation)) {
      throw new ConfigError(`dilation must be an integer ≥ 1, got ${this.dilation}`, {
        hint: 'use 1, 2, 4, …',
      });
    }
    this.w = createParam(`${name}.w`, [this.width * inSize, outSize]);
    this.b = createParam(`${name}.b`, [outSize]);
    initGlorot(this.w, rng, this.width * inSize, outSize);
    initConstant(this.b, 0);
  }

  params(): Param[] {
    return [this.w, this.b];
  }

  /** Time offset (in steps) of tap k. */
  private offset(k: number): number {
    return (k - (this.width - 1) / 2) * this.dilation;
  }

  forward(x: FloatArray, seq: SeqBatch): FloatArray {
    const { T, B } = seq;
    const { inSize, outSize } = this;
    const n = T * B;
    const xm = alloc(n * inSize);
    xm.set(x.subarray(0, n * inSize));
    maskPadding(xm, seq, inSize);
    this.x = xm;
    this.seq = seq;
    const y = alloc(n * outSize);
    for (let k = 0; k < this.width; k++) {
      const o = this.offset(k);
      const steps = T - Math.abs(o);
      if (steps <= 0) continue;
      const yRow = (o >= 0 ? 0 : -o) * B;
      const xRow = Math.max(o, 0) * B;
      gemm(
        false,
        false,
        steps * B,
        outSize,
        inSize,
        1,
        xm,
        xRow * inSize,
        inSize,
        this.w.value,
        k * inSize * outSize,
        outSize,
        1,
        y,
        yRow * outSize,
        outSize,
      );
    }
    addBiasRows(y, n, this.b.value);
    maskPadding(y, seq, outSize);
    return y;
  }

  backward(dy: FloatArray, needInputGrad = true): FloatArray | undefined {
    const { T, B } = this.seq;
    const { inSize, outSize } = this;
    const n = T * B;
    const dym = alloc(n * outSize);
    dym.set(dy.subarray(0, n * outSize));
    maskPadding(dym, this.seq, outSize);
    addColumnSums(dym, n, this.b.grad);
    const dx = needInputGrad ? alloc(n * inSize) : undefined;
    for (let k = 0; k < this.width; k++) {
      const o = this.offset(k);
      const steps = T - Math.abs(o);
      if (steps <= 0) continue;
      const yRow = (o >= 0 ? 0 : -o) * B;
      const xRow = Math.max(o, 0) * B;
      gemm(
        true,
        false,
        inSize,
        outSize,
        steps * B,
        1,
        this.x,
        xRow * inSize,
        inSize,
        dym,
        yRow * outSize,
        outSize,
        1,
        this.w.grad,
        k * inSize * outSize,
        outSize,
      );
      if (dx) {
        gemm(
          false,
          true,
          steps * B,
          inSize,
          outSize,
          1,
          dym,
          yRow * outSize,
          outSize,
          this.w.value,
          k * inSize * outSize,
          outSize,
          1,
          dx,
          xRow * inSize,
          inSize,
        );
      }
    }
    if (dx) maskPadding(dx, this.seq, inSize);
    return dx;
  }
}
