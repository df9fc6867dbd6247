/** Embedding lookup with sparse (row) gradients; id -1 marks padding and gives a zero vector. */
import { DataError } from '../../../core/errors.ts';
import type { Rng } from '../../../core/rng.ts';
import { initUniform } from './init.ts';
import { alloc, createParam, type FloatArray, type HasParams, type Param, touchRow } from './tensor.ts';

/**
 * An embedding table [vocab × dim]; backward adds into the rows that were looked up only.
 *
 * @example
 * const emb = new Embedding('words', 20000, 100, createRng(1));
 * const x = emb.forward(ids); // [ids.length × 100]
 */
export class Embedding implements HasParams {
  readonly table: Param;
  private ids: Int32Array = new Int32Array(0);

  constructor(
    name: string,
    readonly vocabSize: number,
    readonly dim: number,
    rng: Rng,
    initScale = 0.1,
  ) {
    this.table = createParam(`${name}.table`, [vocabSize, dim], true);
    initUniform(this.table, rng, initScale);
  }

  params(): Param[] {
    return [this.table];
  }

  /** Copies the rows of `ids` into a [n × dim] buffer (zeros for id -1). */
  forward(ids: Int32Array): FloatArray {
    const { dim, vocabSize } = this;
    const out = alloc(ids.length * dim);
    const v = this.table.value;
    for (let r = 0; r < ids.length; r++) {
      const id = ids[r]!;
      if (id < 0) continue;
      if (id >= vocabSize) {
        throw new DataError(`id ${id} is outside the embedding table of ${vocabSize} rows`, {
          hint: 'map unknown tokens to the OOV id before the lookup',
        });
      }
      out.set(v.subarray(id * dim, id * dim + dim), r * dim);
    }
    this.ids = ids;
    return out;
  }

  /** Adds dy's rows into the gradient rows of their ids (unless the table is frozen). */
  backward(dy: FloatArray): void {
    const p = this.table;
    if (p.frozen) return;
    const { dim } = this;
    const g = p.grad;
    for (let r = 0; r < this.ids.length; r++) {
      const id = this.ids[r]!;
      if (id < 0) continue;
      touchRow(p, id);
      const go = id * dim;
      const so = r * dim;
      for (let j = 0; j < dim; j++) g[go + j] = g[go + j]! + dy[so + j]!;
    }
  }
}
