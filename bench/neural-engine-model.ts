/**
 * The engine.md benchmark tagger (embeddings → BiLSTM → linear → softmax or CRF) as a `Trainable`,
 * in its own module so data-parallel threads can build replicas of it.
 */
import { createRng } from '../src/core/rng.ts';
import { Crf } from '../src/models/neural/engine/crf.ts';
import type { Trainable } from '../src/models/neural/engine/data-parallel.ts';
import { Embedding } from '../src/models/neural/engine/embedding.ts';
import { Linear } from '../src/models/neural/engine/linear.ts';
import { BiLstm } from '../src/models/neural/engine/lstm.ts';
import { timeMajorIds } from '../src/models/neural/engine/seq.ts';
import { softmaxCrossEntropy } from '../src/models/neural/engine/softmax.ts';
import type { FloatArray, Param } from '../src/models/neural/engine/tensor.ts';

/** Sizes of the benchmark workload. */
export const WORKLOAD = { vocab: 20_000, embedding: 100, hidden: 100, tags: 9 };

/** One benchmark sentence: token ids and tag ids. */
export interface BenchSentence {
  ids: number[];
  tags: number[];
}

/** The benchmark tagger. */
export class BenchTagger implements Trainable {
  readonly emb: Embedding;
  readonly bi: BiLstm;
  readonly out: Linear;
  readonly crf: Crf | undefined;
  private readonly all: Param[];

  constructor(options: { crf: boolean; seed?: number }) {
    const rng = createRng(options.seed ?? 42);
    const { vocab, embedding, hidden, tags } = WORKLOAD;
    this.emb = new Embedding('emb', vocab, embedding, rng);
    this.bi = new BiLstm('bi', embedding, hidden, rng);
    this.out = new Linear('out', 2 * hidden, tags, rng);
    this.crf = options.crf ? new Crf('crf', tags, rng) : undefined;
    this.all = [this.emb, this.bi, this.out, ...(this.crf ? [this.crf] : [])].flatMap((l) => l.params());
  }

  params(): Param[] {
    return this.all;
  }

  private logits(sentences: BenchSentence[]) {
    const { ids, seq } = timeMajorIds(sentences.map((s) => s.ids));
    const x = this.emb.forward(ids);
    const h = this.bi.forward(x, seq);
    return { seq, logits: this.out.forward(h, seq.T * seq.B) };
  }

  lossAndGrad(examples: unknown[]): number {
    const sentences = examples as BenchSentence[];
    const { seq, logits } = this.logits(sentences);
    const gold = timeMajorIds(sentences.map((s) => s.tags)).ids;
    let loss: number;
    let d: FloatArray;
    if (this.crf) {
      const r = this.crf.loss(logits, seq, gold);
      loss = r.loss;
      d = r.dEmissions;
    } else {
      const r = softmaxCrossEntropy(logits, seq.T * seq.B, WORKLOAD.tags, gold, 'sum');
      loss = r.loss;
      d = r.dLogits;
    }
    const dh = this.out.backward(d)!;
    this.emb.backward(this.bi.backward(dh)!);
    return loss;
  }

  /** Best tag of each token (Viterbi with the CRF, argmax otherwise), time-major. */
  predict(sentences: BenchSentence[]): Int32Array {
    const { seq, logits } = this.logits(sentences);
    if (this.crf) return this.crf.decode(logits, seq);
    const K = WORKLOAD.tags;
    const out = new Int32Array(seq.T * seq.B);
    for (let r = 0; r < out.length; r++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (logits[r * K + k]! > logits[r * K + best]!) best = k;
      out[r] = best;
    }
    return out;
  }
}

/** Factory for data-parallel replicas. */
export function createBenchTagger(options: { crf: boolean; seed?: number }): BenchTagger {
  return new BenchTagger(options);
}
