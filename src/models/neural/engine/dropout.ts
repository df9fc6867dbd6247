/** Inverted dropout with a seeded mask: identity at inference, `x · mask / (1 − rate)` in training. */
import { ConfigError, SapphireError } from '../../../core/errors.ts';
import type { Rng } from '../../../core/rng.ts';
import { alloc, type FloatArray } from './tensor.ts';

/**
 * Dropout layer; masks come from the layer's own generator, so a seed fixes every mask.
 *
 * @example
 * const drop = new Dropout(0.5, createRng(7).fork('dropout'));
 * const y = drop.forward(x, true);
 */
export class Dropout {
  private mask: FloatArray = alloc(0);
  private active = false;

  constructor(
    readonly rate: number,
    private readonly rng: Rng,
  ) {
    if (!(rate >= 0 && rate < 1)) {
      throw new ConfigError(`dropout rate must be in [0, 1), got ${rate}`, {
        hint: 'use e.g. 0.5, or 0 for none',
      });
    }
  }

  /** Applies dropout when `train` is true; `resample: false` reuses the last mask (gradient checks). */
  forward(x: FloatArray, train: boolean, resample = true): FloatArray {
    this.active = train && this.rate > 0;
    if (!this.active) return x;
    if (resample || this.mask.length !== x.length) {
      const keep = 1 - this.rate;
      const scale = 1 / keep;
      this.mask = alloc(x.length);
      for (let i = 0; i < x.length; i++) this.mask[i] = this.rng.next() < keep ? scale : 0;
    }
    const y = alloc(x.length);
    for (let i = 0; i < x.length; i++) y[i] = x[i]! * this.mask[i]!;
    return y;
  }

  /** dx = dy ⊙ mask (or dy itself when dropout was inactive). */
  backward(dy: FloatArray): FloatArray {
    if (!this.active) return dy;
    if (dy.length !== this.mask.length) {
      throw new SapphireError(
        'INTERNAL',
        `dropout got a gradient of ${dy.length} values for a mask of ${this.mask.length}`,
        {
          hint: "call backward with the gradient of this layer's own output, in reverse layer order",
        },
      );
    }
    const dx = alloc(dy.length);
    for (let i = 0; i < dy.length; i++) dx[i] = dy[i]! * this.mask[i]!;
    return dx;
  }
}
