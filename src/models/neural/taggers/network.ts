/**
 * The network of the neural NER taggers: word embeddings (+ char-CNN word features) → dropout →
 * encoder (BiLSTM or iterated dilated CNN) → dropout → linear emissions → linear-chain CRF.
 *
 * It is a data-parallel {@link Trainable}: `createTaggerNetwork(options)` builds the same shapes in
 * every training thread, and `lossAndGrad` takes already-encoded sentences (structured-cloneable).
 */
import { createRng, type Rng } from '../../../core/rng.ts';
import { type TagScheme, TagSet } from '../../features/tag-scheme.ts';
import { Activation } from '../engine/activation.ts';
import { type CharBatch, CharCnn } from '../engine/char-features.ts';
import { Conv1d } from '../engine/conv1d.ts';
import { Crf } from '../engine/crf.ts';
import type { Trainable } from '../engine/data-parallel.ts';
import { Dropout } from '../engine/dropout.ts';
import { Embedding } from '../engine/embedding.ts';
import { Linear } from '../engine/linear.ts';
import { BiLstm } from '../engine/lstm.ts';
import { type SeqBatch, seqBatch, timeMajorIds } from '../engine/seq.ts';
import { alloc, type FloatArray, type HasParams, type Param } from '../engine/tensor.ts';

/** A sentence as ids: word ids, char ids of each word (truncated), and gold tag ids when training. */
export interface EncodedSentence {
  w: number[];
  c: number[][];
  y?: number[];
}

/** Sizes and hyper-parameters a network is built from (structured-cloneable, for worker threads). */
export interface NetworkOptions {
  encoder: 'bilstm' | 'idcnn';
  seed: number;
  words: number;
  chars: number;
  /** Entity types (sorted) and scheme: the CRF's tag set, used to forbid invalid transitions. */
  types: string[];
  scheme: TagScheme;
  wordDim: number;
  charDim: number;
  charFilters: number;
  charWidth: number;
  dropout: number;
  frozenWords: boolean;
  hidden?: number;
  filters?: number;
  width?: number;
  dilations?: number[];
  iterations?: number;
}

/** Score given to transitions the tag scheme forbids: exp(−1e4) is 0, so they get no gradient either. */
export const FORBIDDEN = -1e4;

/** A sequence encoder: [T·B × inSize] → [T·B × outSize]. */
export interface Encoder extends HasParams {
  readonly outSize: number;
  forward(x: FloatArray, seq: SeqBatch): FloatArray;
  backward(dy: FloatArray): FloatArray;
}

/** The BiLSTM encoder (hidden units per direction, outputs side by side). */
export class BiLstmEncoder implements Encoder {
  readonly bi: BiLstm;
  constructor(inSize: number, hidden: number, rng: Rng) {
    this.bi = new BiLstm('bilstm', inSize, hidden, rng);
  }
  get outSize(): number {
    return this.bi.outSize;
  }
  params(): Param[] {
    return this.bi.params();
  }
  forward(x: FloatArray, seq: SeqBatch): FloatArray {
    return this.bi.forward(x, seq);
  }
  backward(dy: FloatArray): FloatArray {
    return this.bi.backward(dy, true)!;
  }
}

/**
 * Iterated dilated CNN (Strubell et al. 2017): a width-w projection to `filters`, then a block of
 * dilated convolutions applied `iterations` times with the same weights, ReLU after every layer.
 */
export class IdCnnEncoder implements Encoder {
  readonly outSize: number;
  /** The width-w projection to `filters`. */
  readonly input: Conv1d;
  /** The dilated layers of one block (applied `iterations` times). */
  readonly block: Conv1d[];
  private readonly owned: Conv1d[];
  /** Layer applications in order (the block's layers repeated per iteration, weights aliased). */
  private readonly steps: { conv: Conv1d; act: Activation }[] = [];

  constructor(
    inSize: number,
    filters: number,
    width: number,
    dilations: number[],
    readonly iterations: number,
    rng: Rng,
  ) {
    this.outSize = filters;
    const input = new Conv1d('idcnn.in', inSize, filters, rng, { width });
    const block = dilations.map(
      (d, i) => new Conv1d(`idcnn.block.${i}`, filters, filters, rng, { width, dilation: d }),
    );
    this.input = input;
    this.block = block;
    this.owned = [input, ...block];
    this.steps.push({ conv: input, act: new Activation('relu') });
    const scratch = createRng(0);
    for (let it = 0; it < iterations; it++) {
      block.forEach((layer, i) => {
        let conv = layer;
        if (it > 0) {
          conv = new Conv1d(`idcnn.alias.${i}`, filters, filters, scratch, {
            width,
            dilation: dilations[i]!,
          });
          Object.assign(conv, { w: layer.w, b: layer.b }); // shared weights: gradients add up in one Param
        }
        this.steps.push({ conv, act: new Activation('relu') });
      });
    }
  }

  params(): Param[] {
    return this.owned.flatMap((c) => c.params());
  }

  forward(x: FloatArray, seq: SeqBatch): FloatArray {
    let h = x;
    for (const s of this.steps) h = s.act.forward(s.conv.forward(h, seq));
    return h;
  }

  backward(dy: FloatArray): FloatArray {
    let d = dy;
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const s = this.steps[i]!;
      d = s.conv.backward(s.act.backward(d), true)!;
    }
    return d;
  }
}

/** Lays out the char ids of word slots char-time-major (slot without a word: zero characters). */
function charBatchOfIds(slots: readonly (number[] | undefined)[]): CharBatch {
  const seq = seqBatch(slots.map((c) => c?.length ?? 0));
  const ids = new Int32Array(seq.T * seq.B).fill(-1);
  slots.forEach((cs, b) => {
    if (cs) for (let t = 0; t < cs.length; t++) ids[t * seq.B + b] = cs[t]!;
  });
  return { ids, seq };
}

/** The result of a forward pass: the batch shape and the emission scores [T·B × tags]. */
export interface Emissions {
  seq: SeqBatch;
  em: FloatArray;
}

/**
 * Embeddings → encoder → emissions → CRF, with forward/backward over encoded sentences.
 *
 * @example
 * const net = createTaggerNetwork(options);
 * zeroGrad(net.params());
 * const loss = net.lossAndGrad(batch);
 */
export class TaggerNetwork implements Trainable {
  readonly words: Embedding;
  readonly chars: CharCnn | undefined;
  readonly encoder: Encoder;
  readonly out: Linear;
  readonly crf: Crf;
  readonly tagSet: TagSet;
  private readonly dropIn: Dropout;
  private readonly dropOut: Dropout;
  private readonly all: Param[];
  private readonly inSize: number;

  constructor(readonly options: NetworkOptions) {
    const o = options;
    const rng = createRng(o.seed).fork('init');
    this.tagSet = new TagSet(o.types, o.scheme);
    this.words = new Embedding('words', o.words, o.wordDim, rng);
    this.words.table.frozen = o.frozenWords;
    this.chars =
      o.charFilters > 0
        ? new CharCnn('chars', o.chars, rng, {
            charDim: o.charDim,
            filters: o.charFilters,
            width: o.charWidth,
          })
        : undefined;
    this.inSize = o.wordDim + o.charFilters;
    this.encoder =
      o.encoder === 'bilstm'
        ? new BiLstmEncoder(this.inSize, o.hidden ?? 100, rng)
        : new IdCnnEncoder(
            this.inSize,
            o.filters ?? 128,
            o.width ?? 3,
            o.dilations ?? [1, 2, 4],
            o.iterations ?? 3,
            rng,
          );
    this.out = new Linear('emissions', this.encoder.outSize, this.tagSet.size, rng);
    this.crf = new Crf('crf', this.tagSet.size, rng);
    const dropRng = createRng(o.seed).fork('dropout');
    this.dropIn = new Dropout(o.dropout, dropRng.fork('in'));
    this.dropOut = new Dropout(o.dropout, dropRng.fork('out'));
    this.forbidInvalidTransitions();
    const layers: HasParams[] = [
      this.words,
      ...(this.chars ? [this.chars] : []),
      this.encoder,
      this.out,
      this.crf,
    ];
    this.all = layers.flatMap((l) => l.params());
  }

  /** Sets the CRF scores of transitions, starts and ends the tag scheme forbids to {@link FORBIDDEN}. */
  private forbidInvalidTransitions(): void {
    const K = this.tagSet.size;
    for (let a = 0; a < K; a++) {
      if (!this.tagSet.allowedStart(a)) this.crf.start.value[a] = FORBIDDEN;
      if (!this.tagSet.allowedEnd(a)) this.crf.end.value[a] = FORBIDDEN;
      for (let b = 0; b < K; b++)
        if (!this.tagSet.allowedTransition(a, b)) this.crf.trans.value[a * K + b] = FORBIDDEN;
    }
  }

  params(): Param[] {
    return this.all;
  }

  /** Forward pass over non-empty sentences (dropout on when `train`). */
  forward(batch: readonly EncodedSentence[], train: boolean): Emissions {
    const { ids, seq } = timeMajorIds(batch.map((s) => s.w));
    const n = seq.T * seq.B;
    const D = this.inSize;
    const wd = this.options.wordDim;
    const e = this.words.forward(ids);
    let x = e;
    if (this.chars) {
      const slots: (number[] | undefined)[] = new Array(n).fill(undefined);
      batch.forEach((s, b) => {
        s.c.forEach((cs, t) => {
          slots[t * seq.B + b] = cs;
        });
      });
      const c = this.chars.forward(charBatchOfIds(slots));
      const cf = this.options.charFilters;
      x = alloc(n * D);
      for (let r = 0; r < n; r++) {
        x.set(e.subarray(r * wd, r * wd + wd), r * D);
        x.set(c.subarray(r * cf, r * cf + cf), r * D + wd);
      }
    }
    const h = this.encoder.forward(this.dropIn.forward(x, train), seq);
    const em = this.out.forward(this.dropOut.forward(h, train), n);
    return { seq, em };
  }

  /** Adds the gradient of the summed CRF loss over `batch` into the parameters; returns the loss. */
  lossAndGrad(examples: unknown[]): number {
    const batch = (examples as EncodedSentence[]).filter((s) => s.w.length > 0);
    if (batch.length === 0) return 0;
    const { seq, em } = this.forward(batch, true);
    const n = seq.T * seq.B;
    const gold = new Int32Array(n).fill(-1);
    batch.forEach((s, b) => {
      s.y!.forEach((tag, t) => {
        gold[t * seq.B + b] = tag;
      });
    });
    const { loss, dEmissions } = this.crf.loss(em, seq, gold);
    const dh = this.dropOut.backward(this.out.backward(dEmissions)!);
    const dx = this.dropIn.backward(this.encoder.backward(dh));
    const wd = this.options.wordDim;
    if (!this.chars) {
      this.words.backward(dx);
      return loss;
    }
    const D = this.inSize;
    const cf = this.options.charFilters;
    const de = alloc(n * wd);
    const dc = alloc(n * cf);
    for (let r = 0; r < n; r++) {
      de.set(dx.subarray(r * D, r * D + wd), r * wd);
      dc.set(dx.subarray(r * D + wd, r * D + D), r * cf);
    }
    this.words.backward(de);
    this.chars.backward(dc);
    return loss;
  }
}

/** Factory of the network (the data-parallel worker threads call it by name). */
export function createTaggerNetwork(options: NetworkOptions): TaggerNetwork {
  return new TaggerNetwork(options);
}
