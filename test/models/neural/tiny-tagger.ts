/** A small BiLSTM-CRF tagger assembled from engine layers, shared by the engine's tests. */
import { createRng } from '../../../src/core/rng.ts';
import { CharCnn, charBatch } from '../../../src/models/neural/engine/char-features.ts';
import { Crf } from '../../../src/models/neural/engine/crf.ts';
import { Dropout } from '../../../src/models/neural/engine/dropout.ts';
import { Embedding } from '../../../src/models/neural/engine/embedding.ts';
import { Linear } from '../../../src/models/neural/engine/linear.ts';
import { BiLstm } from '../../../src/models/neural/engine/lstm.ts';
import { Adam, clipGradNorm } from '../../../src/models/neural/engine/optim.ts';
import { timeMajorIds } from '../../../src/models/neural/engine/seq.ts';
import { alloc, type Param, zeroGrad } from '../../../src/models/neural/engine/tensor.ts';

/** A tagged toy sentence. */
export interface ToySentence {
  words: string[];
  tags: string[];
}

/** Ten toy sentences: names (PER) and cities (LOC). */
export const TOY: ToySentence[] = [
  ['alice', 'lives', 'in', 'paris'],
  ['bob', 'moved', 'to', 'new', 'york'],
  ['carol', 'and', 'dave', 'met', 'in', 'rome'],
  ['the', 'train', 'to', 'berlin', 'left'],
  ['eve', 'likes', 'oslo'],
  ['we', 'saw', 'frank', 'in', 'madrid', 'today'],
  ['grace', 'flew', 'from', 'tokyo', 'to', 'lima'],
  ['heidi', 'stayed'],
  ['ivan', 'visited', 'san', 'francisco', 'with', 'judy'],
  ['nobody', 'went', 'anywhere'],
].map((words) => ({ words, tags: words.map(() => 'O') }));
const TAGS: Record<string, string> = {
  alice: 'B-PER',
  bob: 'B-PER',
  carol: 'B-PER',
  dave: 'B-PER',
  eve: 'B-PER',
  frank: 'B-PER',
  grace: 'B-PER',
  heidi: 'B-PER',
  ivan: 'B-PER',
  judy: 'B-PER',
  paris: 'B-LOC',
  new: 'B-LOC',
  york: 'I-LOC',
  rome: 'B-LOC',
  berlin: 'B-LOC',
  oslo: 'B-LOC',
  madrid: 'B-LOC',
  tokyo: 'B-LOC',
  lima: 'B-LOC',
  san: 'B-LOC',
  francisco: 'I-LOC',
};
for (const s of TOY) s.tags = s.words.map((w) => TAGS[w] ?? 'O');

/** The tiny BiLSTM-CRF: word embeddings + char CNN → dropout → BiLSTM → linear → CRF. */
export class TinyTagger {
  readonly words = new Map<string, number>();
  readonly chars = new Map<string, number>();
  readonly tags: string[] = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
  readonly emb: Embedding;
  readonly charCnn: CharCnn;
  readonly drop: Dropout;
  readonly bi: BiLstm;
  readonly out: Linear;
  readonly crf: Crf;
  readonly adam: Adam;
  private readonly all: Param[];

  constructor(data: ToySentence[], seed: number, dropout = 0.1) {
    for (const s of data) {
      for (const w of s.words) {
        if (!this.words.has(w)) this.words.set(w, this.words.size);
        for (const c of w) if (!this.chars.has(c)) this.chars.set(c, this.chars.size);
      }
    }
    const rng = createRng(seed);
    this.emb = new Embedding('words', this.words.size, 16, rng);
    this.charCnn = new CharCnn('chars', this.chars.size, rng, { charDim: 8, filters: 8 });
    this.drop = new Dropout(dropout, rng.fork('dropout'));
    this.bi = new BiLstm('bilstm', 24, 16, rng);
    this.out = new Linear('out', 32, this.tags.length, rng);
    this.crf = new Crf('crf', this.tags.length, rng);
    this.all = [this.emb, this.charCnn, this.bi, this.out, this.crf].flatMap((l) => l.params());
    this.adam = new Adam(this.all);
  }

  params(): Param[] {
    return this.all;
  }

  private encode(batch: ToySentence[], train: boolean) {
    const { ids, seq } = timeMajorIds(batch.map((s) => s.words.map((w) => this.words.get(w) ?? 0)));
    const slots: (string | undefined)[] = new Array(seq.T * seq.B).fill(undefined);
    batch.forEach((s, b) => {
      s.words.forEach((w, t) => {
        slots[t * seq.B + b] = w;
      });
    });
    const cb = charBatch(slots, (c) => this.chars.get(c) ?? 0);
    const n = seq.T * seq.B;
    const e = this.emb.forward(ids);
    const c = this.charCnn.forward(cb);
    const x = alloc(n * 24);
    for (let r = 0; r < n; r++) {
      x.set(e.subarray(r * 16, r * 16 + 16), r * 24);
      x.set(c.subarray(r * 8, r * 8 + 8), r * 24 + 16);
    }
    const xd = this.drop.forward(x, train);
    const h = this.bi.forward(xd, seq);
    const em = this.out.forward(h, n);
    return { seq, em, n };
  }

  /** Adds the gradient of the summed CRF loss over `batch` into the parameters; returns the loss. */
  lossAndGrad(batch: ToySentence[]): number {
    const { seq, em, n } = this.encode(batch, true);
    const gold = new Int32Array(n).fill(-1);
    batch.forEach((s, b) => {
      s.tags.forEach((tag, t) => {
        gold[t * seq.B + b] = this.tags.indexOf(tag);
      });
    });
    const { loss, dEmissions } = this.crf.loss(em, seq, gold);
    const dh = this.out.backward(dEmissions)!;
    const dx = this.drop.backward(this.bi.backward(dh)!);
    const de = alloc(n * 16);
    const dc = alloc(n * 8);
    for (let r = 0; r < n; r++) {
      de.set(dx.subarray(r * 24, r * 24 + 16), r * 16);
      dc.set(dx.subarray(r * 24 + 16, r * 24 + 24), r * 8);
    }
    this.emb.backward(de);
    this.charCnn.backward(dc);
    return loss;
  }

  /** One Adam step on a batch; returns the summed CRF loss. */
  trainStep(batch: ToySentence[], lr: number): number {
    zeroGrad(this.all);
    const loss = this.lossAndGrad(batch);
    clipGradNorm(this.all, 5);
    this.adam.step(lr);
    return loss;
  }

  /** Viterbi tags of each sentence. */
  predict(batch: ToySentence[]): string[][] {
    const { seq, em } = this.encode(batch, false);
    const best = this.crf.decode(em, seq);
    return batch.map((s, b) => s.words.map((_, t) => this.tags[best[t * seq.B + b]!]!));
  }
}

/** Factory used by the data-parallel tests: the tiny tagger on the toy sentences. */
export function createToyTagger(options: { seed: number; dropout: number }): TinyTagger {
  return new TinyTagger(TOY, options.seed, options.dropout);
}
