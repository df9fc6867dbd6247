/**
 * The networks of the neural text classifiers, assembled from engine layers:
 * - `embedding-bag`: mean of word (+ hashed n-gram) embeddings → dropout → linear (fastText-style);
 * - `text-cnn`: word embeddings → "same"-padded 1-D convolutions of several widths → ReLU → max over
 *   time → concatenation → dropout → linear (Kim 2014, with odd widths).
 * The output is softmax cross-entropy (classify) or one sigmoid per label (multilabel).
 */
import { createRng } from '../../../core/rng.ts';
import { Activation } from '../engine/activation.ts';
import { Conv1d } from '../engine/conv1d.ts';
import type { Trainable } from '../engine/data-parallel.ts';
import { Dropout } from '../engine/dropout.ts';
import { Embedding } from '../engine/embedding.ts';
import { initUniform } from '../engine/init.ts';
import { Linear } from '../engine/linear.ts';
import { MaxPoolTime } from '../engine/pooling.ts';
import { timeMajorIds } from '../engine/seq.ts';
import { softmaxCrossEntropy } from '../engine/softmax.ts';
import { alloc, createParam, type FloatArray, type Param, touchRow } from '../engine/tensor.ts';

/** One document as ids: word ids (0 = unknown word) and hashed n-gram bucket ids, with its label ids. */
export interface EncodedDoc {
  words: number[];
  grams: number[];
  /** Classify: one class id; multilabel: the ids of its labels (maybe none). */
  targets: number[];
}

/** Sizes and hyper-parameters a network is built from (structured-cloneable, for worker threads). */
export interface ClassifierNetworkOptions {
  kind: 'embedding-bag' | 'text-cnn';
  vocabSize: number;
  /** Rows of the hashed n-gram table (embedding-bag only; 0: none). */
  buckets: number;
  dim: number;
  labels: number;
  multilabel: boolean;
  dropout: number;
  /** Text-CNN convolution widths and filters per width. */
  widths: number[];
  filters: number;
  seed: number;
  /** Keep the word table fixed (pretrained vectors, frozen). */
  frozenWords: boolean;
}

/** The mean of the word and n-gram rows of each document ([B × dim]), with sparse row gradients. */
export class EmbeddingBag {
  readonly words: Param;
  readonly grams: Param | undefined;
  private docs: EncodedDoc[] = [];

  constructor(
    vocabSize: number,
    buckets: number,
    readonly dim: number,
    seed: number,
  ) {
    const rng = createRng(seed);
    this.words = createParam('words.table', [vocabSize, dim], true);
    initUniform(this.words, rng, 1 / Math.sqrt(dim));
    if (buckets > 0) {
      this.grams = createParam('ngrams.table', [buckets, dim], true);
      initUniform(this.grams, rng, 1 / Math.sqrt(dim));
    }
  }

  params(): Param[] {
    return this.grams ? [this.words, this.grams] : [this.words];
  }

  forward(docs: EncodedDoc[]): FloatArray {
    const { dim } = this;
    const y = alloc(docs.length * dim);
    docs.forEach((doc, b) => {
      const count = doc.words.length + (this.grams ? doc.grams.length : 0);
      if (count === 0) return;
      const o = b * dim;
      const add = (table: FloatArray, id: number) => {
        const r = id * dim;
        for (let j = 0; j < dim; j++) y[o + j] = y[o + j]! + table[r + j]!;
      };
      for (const id of doc.words) add(this.words.value, id);
      if (this.grams) for (const id of doc.grams) add(this.grams.value, id);
      for (let j = 0; j < dim; j++) y[o + j] = y[o + j]! / count;
    });
    this.docs = docs;
    return y;
  }

  backward(dy: FloatArray): void {
    const { dim } = this;
    this.docs.forEach((doc, b) => {
      const count = doc.words.length + (this.grams ? doc.grams.length : 0);
      if (count === 0) return;
      const o = b * dim;
      const add = (p: Param, id: number) => {
        if (p.frozen) return;
        touchRow(p, id);
        const r = id * dim;
        for (let j = 0; j < dim; j++) p.grad[r + j] = p.grad[r + j]! + dy[o + j]! / count;
      };
      for (const id of doc.words) add(this.words, id);
      if (this.grams) for (const id of doc.grams) add(this.grams, id);
    });
  }
}

/** Kim-style CNN encoder: [B docs] → [B × widths·filters]. */
export class CnnEncoder {
  readonly emb: Embedding;
  readonly convs: Conv1d[];
  private readonly acts: Activation[];
  private readonly pools: MaxPoolTime[];
  readonly outSize: number;

  constructor(opts: ClassifierNetworkOptions) {
    const rng = createRng(opts.seed);
    this.emb = new Embedding('words', opts.vocabSize, opts.dim, rng, 1 / Math.sqrt(opts.dim));
    this.convs = opts.widths.map(
      (width, i) => new Conv1d(`conv${i}`, opts.dim, opts.filters, rng, { width, dilation: 1 }),
    );
    this.acts = opts.widths.map(() => new Activation('relu'));
    this.pools = opts.widths.map(() => new MaxPoolTime());
    this.outSize = opts.widths.length * opts.filters;
  }

  get words(): Param {
    return this.emb.table;
  }

  params(): Param[] {
    return [this.emb.table, ...this.convs.flatMap((c) => c.params())];
  }

  forward(docs: EncodedDoc[]): FloatArray {
    const { ids, seq } = timeMajorIds(docs.map((d) => d.words));
    const x = this.emb.forward(ids);
    const B = docs.length;
    const out = alloc(B * this.outSize);
    this.convs.forEach((conv, i) => {
      const f = conv.outSize;
      const h = this.acts[i]!.forward(conv.forward(x, seq));
      const pooled = this.pools[i]!.forward(h, seq, f);
      for (let b = 0; b < B; b++) out.set(pooled.subarray(b * f, b * f + f), b * this.outSize + i * f);
    });
    return out;
  }

  backward(dy: FloatArray): void {
    const B = dy.length / this.outSize;
    let dx: FloatArray | undefined;
    this.convs.forEach((conv, i) => {
      const f = conv.outSize;
      const dp = alloc(B * f);
      for (let b = 0; b < B; b++)
        dp.set(dy.subarray(b * this.outSize + i * f, b * this.outSize + i * f + f), b * f);
      const dh = this.acts[i]!.backward(this.pools[i]!.backward(dp));
      const dxi = conv.backward(dh, !this.emb.table.frozen);
      if (!dxi) return;
      if (!dx) dx = dxi;
      else for (let j = 0; j < dx.length; j++) dx[j] = dx[j]! + dxi[j]!;
    });
    if (dx) this.emb.backward(dx);
  }
}

/**
 * A classifier network: encoder → dropout → linear → softmax / sigmoids.
 *
 * @example
 * const net = createClassifierNetwork({ kind: 'embedding-bag', vocabSize: 100, buckets: 0, dim: 16, labels: 3,
 *   multilabel: false, dropout: 0, widths: [], filters: 0, seed: 1, frozenWords: false });
 * const probs = net.probabilities(docs);
 */
export class ClassifierNetwork implements Trainable {
  /** The encoder: an embedding bag or a CNN. */
  readonly encoder: EmbeddingBag | CnnEncoder;
  private readonly drop: Dropout;
  readonly out: Linear;
  private readonly all: Param[];

  constructor(readonly opts: ClassifierNetworkOptions) {
    const rng = createRng(opts.seed);
    if (opts.kind === 'embedding-bag') {
      this.encoder = new EmbeddingBag(opts.vocabSize, opts.buckets, opts.dim, opts.seed);
    } else {
      this.encoder = new CnnEncoder(opts);
    }
    const featSize = this.encoder instanceof CnnEncoder ? this.encoder.outSize : opts.dim;
    this.encoder.words.frozen = opts.frozenWords;
    this.drop = new Dropout(opts.dropout, rng.fork('dropout'));
    this.out = new Linear('out', featSize, opts.labels, rng);
    this.all = [...this.encoder.params(), ...this.out.params()];
  }

  /** The word embedding table (pretrained vectors are copied into it). */
  get words(): Param {
    return this.encoder.words;
  }

  params(): Param[] {
    return this.all;
  }

  /** Logits [B × labels]; `train` turns dropout on. */
  logits(docs: EncodedDoc[], train: boolean): FloatArray {
    const h = this.drop.forward(this.encoder.forward(docs), train);
    return this.out.forward(h, docs.length);
  }

  /** Adds the gradient of the summed loss over `docs` into the parameters; returns the loss. */
  lossAndGrad(docs: unknown[]): number {
    const batch = docs as EncodedDoc[];
    const K = this.opts.labels;
    const z = this.logits(batch, true);
    let loss = 0;
    let dz: FloatArray;
    if (this.opts.multilabel) {
      dz = alloc(z.length);
      batch.forEach((doc, b) => {
        const gold = new Set(doc.targets);
        for (let k = 0; k < K; k++) {
          const zi = z[b * K + k]!;
          const y = gold.has(k) ? 1 : 0;
          // log(1 + e^-|z|) + max(z, 0) − y·z, stable for any z.
          loss += Math.log1p(Math.exp(-Math.abs(zi))) + Math.max(zi, 0) - y * zi;
          dz[b * K + k] = 1 / (1 + Math.exp(-zi)) - y;
        }
      });
    } else {
      const targets = Int32Array.from(batch, (d) => d.targets[0] ?? -1);
      const r = softmaxCrossEntropy(z, batch.length, K, targets, 'sum');
      loss = r.loss;
      dz = r.dLogits;
    }
    const dh = this.out.backward(dz)!;
    this.encoder.backward(this.drop.backward(dh));
    return loss;
  }

  /** Probabilities [B × labels] in float64: softmax rows (classify) or per-label sigmoids (multilabel). */
  probabilities(docs: EncodedDoc[]): Float64Array {
    return probabilitiesFromLogits(
      this.logits(docs, false),
      docs.length,
      this.opts.labels,
      this.opts.multilabel,
    );
  }
}

/** Softmax rows (or per-label sigmoids when `multilabel`) of logits [n × K], in float64. */
export function probabilitiesFromLogits(
  z: ArrayLike<number>,
  n: number,
  K: number,
  multilabel: boolean,
): Float64Array {
  const p = new Float64Array(n * K);
  for (let b = 0; b < n; b++) {
    const o = b * K;
    if (multilabel) {
      for (let k = 0; k < K; k++) p[o + k] = 1 / (1 + Math.exp(-z[o + k]!));
      continue;
    }
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < K; k++) max = Math.max(max, z[o + k]!);
    let sum = 0;
    for (let k = 0; k < K; k++) {
      p[o + k] = Math.exp(z[o + k]! - max);
      sum += p[o + k]!;
    }
    for (let k = 0; k < K; k++) p[o + k] = p[o + k]! / sum;
  }
  return p;
}

/** Factory of the network (the data-parallel worker threads call it by name). */
export function createClassifierNetwork(options: ClassifierNetworkOptions): ClassifierNetwork {
  return new ClassifierNetwork(options);
}
