import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { SapphireError } from '../../core/errors.ts';
import { createRng } from '../../core/rng.ts';
import type { Example } from '../../data/types.ts';
import { ChainInference, type ChainParams, denseStateLayout, paramLayout } from '../crf/linear-chain.ts';
import { entityF1, SequenceTagger } from '../crf/sequence-tagger.ts';
import type { FitOptions, FitReport } from '../model.ts';
import { type PerceptronConfig, parsePerceptronConfig } from './perceptron-config.ts';

/** Format version of saved `perceptron.v1` models. */
export const PERCEPTRON_FORMAT_VERSION = 1;

/**
 * `perceptron.v1`: an averaged structured perceptron (Collins 2002) over the same token features
 * and constrained first-order Viterbi decoding as `crf.v1`. Confidences come from forward–backward
 * over the perceptron's scores, so they rank entities but are not calibrated probabilities.
 *
 * @example
 * const tagger = new PerceptronTagger({ epochs: 10 });
 * await tagger.fit(train, dev, { seed: 1 });
 */
export class PerceptronTagger extends SequenceTagger<PerceptronConfig> {
  constructor(config: Record<string, unknown> = {}) {
    super('perceptron.v1', parsePerceptronConfig(config), PERCEPTRON_FORMAT_VERSION);
  }

  /** Loads a saved `perceptron.v1` directory. */
  static async load(dir: string, config: Record<string, unknown>): Promise<PerceptronTagger> {
    const model = new PerceptronTagger(config);
    await model.restore(dir);
    return model;
  }

  /** Trains for `epochs` passes (seeded shuffling); with `dev`, keeps the epoch with the best dev entity F1. */
  async fit(train: Example[], dev?: Example[], options: FitOptions = {}): Promise<FitReport> {
    const cfg = this.cfg;
    const data = this.prepare(train, dev);
    const fx = this.extractor!;
    const tagSet = this.tagSet!;
    const l = tagSet.size;
    const layout = denseStateLayout(fx.size, l);
    const params: ChainParams = { numTags: l, ...layout, weights: new Float64Array(0) };
    const lay = paramLayout(params);
    const w = new Float64Array(lay.total);
    params.weights = w;
    /** Σ over updates of (update count at that time) × change: the averaging trick of Daumé III. */
    const acc = new Float64Array(lay.total);
    let counter = 1;
    const inference = new ChainInference(params, tagSet);
    const denseBase = fx.denseBase;
    const rng = createRng(options.seed ?? 0);
    const order = data.train.seqs.map((_, i) => i);

    const bump = (k: number, v: number) => {
      w[k] += v;
      acc[k] += counter * v;
    };
    const averaged = (): Float64Array => {
      const avg = new Float64Array(lay.total);
      for (let k = 0; k < avg.length; k++) avg[k] = w[k]! - acc[k]! / counter;
      return avg;
    };
    const devScore = (weights: Float64Array): number => {
      const p: ChainParams = { ...params, weights };
      const inf = new ChainInference(p, tagSet);
      const pred = data.dev!.seqs.map((seq) => inf.viterbi(this.stateScores(seq, p), seq.length).tags);
      return entityF1(tagSet, data.dev!.gold, pred);
    };

    let best: Float64Array | null = null;
    let bestScore = Number.NEGATIVE_INFINITY;
    let bestEpoch = 0;
    let sinceBest = 0;
    let epochs = 0;
    let mistakes = 0;
    for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
      if (cfg.shuffle) rng.shuffle(order);
      mistakes = 0;
      for (const s of order) {
        const seq = data.train.seqs[s]!;
        const gold = data.train.gold[s]!;
        const n = seq.length;
        if (n === 0) {
          counter++;
          continue;
        }
        const pred = inference.viterbi(this.stateScores(seq, params), n).tags;
        let changed = false;
        for (let t = 0; t < n; t++) {
          const g = gold[t]!;
          const p = pred[t]!;
          if (g !== p) {
            changed = true;
            mistakes++;
            for (let q = seq.offsets[t]!; q < seq.offsets[t + 1]!; q++) {
              const a = seq.ids[q]!;
              bump(a * l + g, 1);
              bump(a * l + p, -1);
            }
            const vec = seq.dense?.[t];
            if (vec) {
              for (let i = 0; i < vec.length; i++) {
                bump((denseBase + i) * l + g, vec[i]!);
                bump((denseBase + i) * l + p, -vec[i]!);
              }
            }
          }
          const gPrev = t > 0 ? gold[t - 1]! : -1;
          const pPrev = t > 0 ? pred[t - 1]! : -1;
          if (g !== p || gPrev !== pPrev) {
            bump(t === 0 ? lay.start + g : lay.transitions + gPrev * l + g, 1);
            bump(t === 0 ? lay.start + p : lay.transitions + pPrev * l + p, -1);
          }
        }
        if (gold[n - 1] !== pred[n - 1]) {
          bump(lay.end + gold[n - 1]!, 1);
          bump(lay.end + pred[n - 1]!, -1);
        }
        if (changed) inference.refresh();
        counter++;
      }
      epochs = epoch;
      let score: number | undefined;
      if (data.dev) {
        score = devScore(averaged());
        if (score > bestScore) {
          bestScore = score;
          best = averaged();
          bestEpoch = epoch;
          sinceBest = 0;
        } else sinceBest++;
      }
      options.onProgress?.({ epoch, epochs: cfg.epochs, loss: mistakes, devScore: score });
      if (data.dev && cfg.patience > 0 && sinceBest >= cfg.patience) break;
      if (options.signal?.aborted) {
        throw new SapphireError('BAD_INPUT', 'training was cancelled', {
          hint: 'the abort signal passed to fit() fired; start training again to get a model',
        });
      }
      await yieldToEventLoop();
    }
    params.weights = best ?? averaged();
    this.install(params);
    this.trainingInfo = {
      epochs,
      lastEpochMistakes: mistakes,
      features: fx.size,
      keptStateFeatures: this.params!.attrTag.length,
      ...(data.dev ? { bestEpoch } : {}),
    };
    return { epochs, ...(data.dev ? { bestDevScore: bestScore } : {}), info: this.trainingInfo };
  }
}
