/** A fully connected layer `y = x · W + b` over rows. */
import type { Rng } from '../../../core/rng.ts';
import { gemm } from './gemm.ts';
import { initConstant, initGlorot } from './init.ts';
import { alloc, createParam, type FloatArray, type HasParams, type Param } from './tensor.ts';

/** Adds `bias` to every row of an [n × width] buffer. */
export function addBiasRows(y: FloatArray, n: number, bias: FloatArray): void {
  const w = bias.length;
  for (let r = 0; r < n; r++) {
    const o = r * w;
    for (let j = 0; j < w; j++) y[o + j] = y[o + j]! + bias[j]!;
  }
}

/** Adds the column sums of an [n × width] buffer to `grad` (the bias gradient). */
export function addColumnSums(dy: FloatArray, n: number, grad: FloatArray): void {
  const w = grad.length;
  for (let r = 0; r < n; r++) {
    const o = r * w;
    for (let j = 0; j < w; j++) grad[j] = grad[j]! + dy[o + j]!;
  }
}

/**
 * Linear layer over n rows: x [n × inSize] → y [n × outSize].
 *
 * @example
 * const lin = new Linear('out', 200, 9, createRng(1));
 * const logits = lin.forward(h, rows);
 * const dh = lin.backward(dLogits);
 */
export class Linear implements HasParams {
  readonly w: Param;
  readonly b: Param;
  private x: FloatArray = alloc(0);
  private n = 0;

  constructor(
    name: string,
    readonly inSize: number,
    readonly outSize: number,
    rng: Rng,
  ) {
    this.w = createParam(`${name}.w`, [inSize, outSize]);
    this.b = createParam(`${name}.b`, [outSize]);
    initGlorot(this.w, rng, inSize, outSize);
    initConstant(this.b, 0);
  }

  params(): Param[] {
    return [this.w, this.b];
  }

  /** Computes y for n rows of x (keeps a reference to x for the backward pass). */
  forward(x: FloatArray, n: number): FloatArray {
    this.x = x;
    this.n = n;
    const y = alloc(n * this.outSize);
    gemm(
      false,
      false,
      n,
      this.outSize,
      this.inSize,
      1,
      x,
      0,
      this.inSize,
      this.w.value,
      0,
      this.outSize,
      0,
      y,
      0,
      this.outSize,
    );
    addBiasRows(y, n, this.b.value);
    return y;
  }

  /** Accumulates dW and db from dy and returns dx (skipped when `needInputGrad` is false). */
  backward(dy: FloatArray, needInputGrad = true): FloatArray | undefined {
    const { n, inSize, outSize } = this;
    gemm(true, false, inSize, outSize, n, 1, this.x, 0, inSize, dy, 0, outSize, 1, this.w.grad, 0, outSize);
    addColumnSums(dy, n, this.b.grad);
    if (!needInputGrad) return undefined;
    const dx = alloc(n * inSize);
    gemm(false, true, n, inSize, outSize, 1, dy, 0, outSize, this.w.value, 0, outSize, 0, dx, 0, inSize);
    return dx;
  }
}
