/** Element-wise activations (tanh, sigmoid, relu) with their derivatives from the cached output. */
import { alloc, type FloatArray } from './tensor.ts';

/** The activations the engine offers. */
export type ActivationKind = 'tanh' | 'sigmoid' | 'relu' | 'identity';

/** The logistic function. */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Applies `kind` to `x` in place. */
export function activateInPlace(kind: ActivationKind, x: FloatArray): void {
  const n = x.length;
  if (kind === 'tanh') for (let i = 0; i < n; i++) x[i] = Math.tanh(x[i]!);
  else if (kind === 'sigmoid') for (let i = 0; i < n; i++) x[i] = 1 / (1 + Math.exp(-x[i]!));
  else if (kind === 'relu') for (let i = 0; i < n; i++) x[i] = Math.max(x[i]!, 0);
}

/** Multiplies `dy` in place by the activation's derivative, given the activation's output `y`. */
export function activationBackwardInPlace(kind: ActivationKind, y: FloatArray, dy: FloatArray): void {
  const n = dy.length;
  if (kind === 'tanh') {
    for (let i = 0; i < n; i++) dy[i] = dy[i]! * (1 - y[i]! * y[i]!);
  } else if (kind === 'sigmoid') {
    for (let i = 0; i < n; i++) dy[i] = dy[i]! * y[i]! * (1 - y[i]!);
  } else if (kind === 'relu') {
    for (let i = 0; i < n; i++) if (y[i]! <= 0) dy[i] = 0;
  }
}

/** An activation layer: forward copies and activates, backward returns dx. */
export class Activation {
  private y: FloatArray = alloc(0);

  constructor(readonly kind: ActivationKind) {}

  /** y = f(x) (x is left untouched). */
  forward(x: FloatArray): FloatArray {
    const y = alloc(x.length);
    y.set(x);
    activateInPlace(this.kind, y);
    this.y = y;
    return y;
  }

  /** dx = dy ⊙ f'(x) (a new buffer). */
  backward(dy: FloatArray): FloatArray {
    const dx = alloc(dy.length);
    dx.set(dy);
    activationBackwardInPlace(this.kind, this.y, dx);
    return dx;
  }
}
