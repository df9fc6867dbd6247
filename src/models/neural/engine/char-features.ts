/**
 * Character-level word features: char embeddings → convolution over characters → activation →
 * max-pool over characters, giving one vector per word (Ma & Hovy style).
 *
 * The words of a batch are laid out as a time-major batch of character sequences: step = character
 * position, "batch" = word slot, so the same {@link Conv1d} and {@link MaxPoolTime} do the work.
 */
import type { Rng } from '../../../core/rng.ts';
import { type ActivationKind, activateInPlace, activationBackwardInPlace } from './activation.ts';
import { Conv1d } from './conv1d.ts';
import { Embedding } from './embedding.ts';
import { MaxPoolTime } from './pooling.ts';
import { type SeqBatch, seqBatch } from './seq.ts';
import { alloc, type FloatArray, type HasParams, type Param } from './tensor.ts';

/** Character ids of a list of word slots, char-time-major, with their lengths. */
export interface CharBatch {
  /** [maxChars · words] ids, -1 at padding. */
  ids: Int32Array;
  /** T = longest word (capped), B = number of word slots. */
  seq: SeqBatch;
}

/**
 * Lays out the characters of `words` (undefined = padding slot, zero characters), truncating each
 * word to `maxChars` code points; `charId` maps a character to its id.
 */
export function charBatch(
  words: readonly (string | undefined)[],
  charId: (ch: string) => number,
  maxChars = 20,
): CharBatch {
  const chars = words.map((w) => (w === undefined ? [] : Array.from(w).slice(0, maxChars)));
  const seq = seqBatch(chars.map((c) => c.length));
  const ids = new Int32Array(seq.T * seq.B).fill(-1);
  chars.forEach((cs, b) => {
    for (let t = 0; t < cs.length; t++) ids[t * seq.B + b] = charId(cs[t]!);
  });
  return { ids, seq };
}

/** Options of {@link CharCnn}. */
export interface CharCnnOptions {
  charDim?: number;
  filters?: number;
  width?: number;
  activation?: ActivationKind;
}

/**
 * Char-CNN word encoder: [words] → [words × filters].
 *
 * @example
 * const chars = new CharCnn('chars', 100, createRng(1), { charDim: 25, filters: 30 });
 * const f = chars.forward(charBatch(words, (c) => index.get(c) ?? 0));
 */
export class CharCnn implements HasParams {
  readonly embedding: Embedding;
  readonly conv: Conv1d;
  readonly filters: number;
  readonly activation: ActivationKind;
  private readonly pool = new MaxPoolTime();
  private activated: FloatArray = alloc(0);

  constructor(name: string, charVocab: number, rng: Rng, opts: CharCnnOptions = {}) {
    const charDim = opts.charDim ?? 25;
    this.filters = opts.filters ?? 30;
    this.activation = opts.activation ?? 'tanh';
    this.embedding = new Embedding(`${name}.emb`, charVocab, charDim, rng);
    this.conv = new Conv1d(`${name}.conv`, charDim, this.filters, rng, { width: opts.width ?? 3 });
  }

  params(): Param[] {
    return [...this.embedding.params(), ...this.conv.params()];
  }

  forward(batch: CharBatch): FloatArray {
    const e = this.embedding.forward(batch.ids);
    const c = this.conv.forward(e, batch.seq);
    activateInPlace(this.activation, c);
    this.activated = c;
    return this.pool.forward(c, batch.seq, this.filters);
  }

  backward(dy: FloatArray): void {
    const dc = this.pool.backward(dy);
    activationBackwardInPlace(this.activation, this.activated, dc);
    const de = this.conv.backward(dc, true)!;
    this.embedding.backward(de);
  }
}
