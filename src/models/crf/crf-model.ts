import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { SapphireError } from '../../core/errors.ts';
import type { Example } from '../../data/types.ts';
import type { FitOptions, FitReport } from '../model.ts';
import { lbfgsIterations } from '../optim/lbfgs.ts';
import { type CrfConfig, parseCrfConfig } from './crf-config.ts';
import { buildStateLayout, CrfObjective } from './crf-objective.ts';
import { ChainInference, type ChainParams, paramLayout } from './linear-chain.ts';
import { entityF1, type PreparedData, SequenceTagger } from './sequence-tagger.ts';

/** Format version of saved `crf.v1` models. */
export const CRF_FORMAT_VERSION = 1;

/**
 * `crf.v1`: a first-order linear-chain CRF over rich token features, trained by L-BFGS (L2) or
 * OWL-QN (L1 / elastic net), decoding with constrained Viterbi so BIO/BILOU output is always valid.
 * Entity confidences are exact span probabilities from forward–backward (see `SequenceTagger`).
 *
 * @example
 * const crf = new CrfTagger({ c2: 0.1, maxIterations: 100 });
 * await crf.fit(train, dev);
 * crf.predict([{ text: 'Dinner at Nobu' }]);
 */
export class CrfTagger extends SequenceTagger<CrfConfig> {
  constructor(config: Record<string, unknown> = {}) {
    super('crf.v1', parseCrfConfig(config), CRF_FORMAT_VERSION);
  }

  /** Loads a saved `crf.v1` directory. */
  static async load(dir: string, config: Record<string, unknown>): Promise<CrfTagger> {
    const model = new CrfTagger(config);
    await model.restore(dir);
    return model;
  }

  /** Trains by L-BFGS/OWL-QN; with `dev`, keeps the weights of the best dev entity F1 seen. */
  async fit(train: Example[], dev?: Example[], options: FitOptions = {}): Promise<FitReport> {
    const cfg = this.cfg;
    const data = this.prepare(train, dev);
    const fx = this.extractor!;
    const tagSet = this.tagSet!;
    const l = tagSet.size;
    const layout = buildStateLayout(
      data.train.seqs,
      data.train.gold,
      fx.size,
      l,
      fx.denseBase,
      cfg.possibleStates,
    );
    const params: ChainParams = { numTags: l, ...layout, weights: new Float64Array(0) };
    const total = paramLayout(params).total;
    params.weights = new Float64Array(total);
    const objective = new CrfObjective(
      data.train.seqs,
      data.train.gold,
      params,
      tagSet,
      fx.denseBase,
      cfg.c2,
    );

    const devScore = (weights: Float64Array, devData: PreparedData): number => {
      const p: ChainParams = { ...params, weights };
      const inf = new ChainInference(p, tagSet);
      const pred = devData.seqs.map((seq) => inf.viterbi(this.stateScores(seq, p), seq.length).tags);
      return entityF1(tagSet, devData.gold, pred);
    };

    let best: Float64Array | null = null;
    let bestScore = Number.NEGATIVE_INFINITY;
    let bestIteration = 0;
    let sinceBest = 0;
    let iterations = 0;
    let status = 'max-iterations';
    let value = Number.NaN;
    let evaluations = 0;
    const run = lbfgsIterations((x, g) => objective.evaluate(x, g), new Float64Array(total), {
      memory: cfg.memory,
      maxIterations: cfg.maxIterations,
      epsilon: cfg.epsilon,
      period: cfg.period,
      delta: cfg.delta,
      l1: cfg.c1,
    });
    let last: Float64Array = new Float64Array(total);
    for (;;) {
      const step = run.next();
      if (step.done) {
        status = step.value.status;
        last = step.value.x;
        value = step.value.value;
        evaluations = step.value.evaluations;
        break;
      }
      const it = step.value;
      iterations = it.iteration;
      evaluations = it.evaluations;
      value = it.value;
      last = it.x;
      let score: number | undefined;
      const finalStep = it.status !== 'running';
      if (data.dev && (it.iteration % cfg.devEvalEvery === 0 || finalStep)) {
        score = devScore(it.x, data.dev);
        if (score > bestScore) {
          bestScore = score;
          best = Float64Array.from(it.x);
          bestIteration = it.iteration;
          sinceBest = 0;
        } else sinceBest++;
      }
      options.onProgress?.({
        epoch: it.iteration,
        epochs: cfg.maxIterations,
        loss: it.value,
        devScore: score,
      });
      if (cfg.patience > 0 && sinceBest >= cfg.patience) {
        status = 'early-stopped';
        break;
      }
      if (options.signal?.aborted) {
        throw new SapphireError('BAD_INPUT', 'training was cancelled', {
          hint: 'the abort signal passed to fit() fired; start training again to get a model',
        });
      }
      await yieldToEventLoop();
    }
    if (data.dev && bestScore === Number.NEGATIVE_INFINITY) {
      bestScore = devScore(last, data.dev);
      best = Float64Array.from(last);
      bestIteration = iterations;
    }
    params.weights = best ?? Float64Array.from(last);
    this.install(params);
    const info = {
      iterations,
      evaluations,
      status,
      objective: value,
      features: fx.size,
      stateFeatures: layout.attrTag.length,
      keptStateFeatures: this.params!.attrTag.length,
      ...(data.dev ? { bestIteration } : {}),
    };
    this.trainingInfo = info;
    return { epochs: iterations, ...(data.dev ? { bestDevScore: bestScore } : {}), info };
  }
}
