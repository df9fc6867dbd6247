import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { NotFittedError } from '../../core/errors.ts';
import type { Example } from '../../data/types.ts';
import { collectLabels } from '../linear/check-labels.ts';
import { parseModelConfig } from '../linear/config-parse.ts';
import { hashString, mix32 } from '../linear/hashing.ts';
import { readManifest, writeManifest } from '../linear/saved-model.ts';
import type { Explanation, FitOptions, FitReport, Model, ModelInput, Prediction } from '../model.ts';
import { countLabels, frequencies, type LabelPrior, rankByScore } from './label-prior.ts';

/** Registered name of the random baseline. */
export const RANDOM_V1 = 'random.v1';
/** Format version of saved random.v1 directories. */
export const RANDOM_FORMAT_VERSION = 1;
const STATE_FILE = 'state.json';

/** Config of random.v1: draw labels uniformly or by their training frequency. */
export const randomConfigSchema = z.strictObject({
  task: z.enum(['classify', 'multilabel']).default('classify'),
  strategy: z.enum(['uniform', 'prior']).default('prior'),
});

interface RandomState extends LabelPrior {
  seed: number;
}

/**
 * Draws a label at random (uniformly or by training frequency). The draw is a seeded hash of the text, so one
 * text always gets the same label, batches equal single calls, and the same seed gives the same model.
 * Multi-label: each label is drawn independently with probability 1/2 (uniform) or its frequency (prior).
 *
 * @example
 * const model = new RandomModel({ strategy: 'uniform' });
 * await model.fit(train, undefined, { seed: 3 });
 */
export class RandomModel implements Model {
  readonly name = RANDOM_V1;
  readonly task: 'classify' | 'multilabel';
  private readonly cfg: z.output<typeof randomConfigSchema>;
  private state: RandomState | null = null;

  /** An untrained model; throws ConfigError for an invalid config. */
  constructor(config: Record<string, unknown> = {}) {
    this.cfg = parseModelConfig(randomConfigSchema, config, RANDOM_V1);
    this.task = this.cfg.task;
  }

  /** Loads a directory written by {@link RandomModel.save}. */
  static async load(dir: string): Promise<RandomModel> {
    const manifest = await readManifest(dir, RANDOM_V1, RANDOM_FORMAT_VERSION);
    const model = new RandomModel(manifest.config);
    const state = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as Omit<RandomState, 'labels'>;
    model.state = { labels: manifest.labels, counts: state.counts, total: state.total, seed: state.seed };
    return model;
  }

  /** The filled configuration. */
  config(): Record<string, unknown> {
    return { ...this.cfg };
  }

  /** Learns the label set and frequencies; the seed (`options.seed`, default 0) fixes every later draw. */
  async fit(train: Example[], dev?: Example[], options: FitOptions = {}): Promise<FitReport> {
    const labels = collectLabels(train, this.task, 'train', RANDOM_V1);
    if (dev) collectLabels(dev, this.task, 'dev', RANDOM_V1, false);
    this.state = { ...countLabels(train, labels), seed: Math.trunc(options.seed ?? 0) };
    return {
      epochs: 1,
      info: { examples: train.length, labels: labels.length, strategy: this.cfg.strategy },
    };
  }

  /** A random label (or label set) per input, with the drawing probabilities as scores. */
  predict(inputs: ModelInput[]): Prediction[] {
    const state = this.requireState();
    const K = state.labels.length;
    const probs = this.cfg.strategy === 'uniform' ? state.labels.map(() => 1 / K) : frequencies(state);
    const order = rankByScore(probs);
    const scores = () => order.map((k) => ({ label: state.labels[k]!, score: probs[k]! }));
    return inputs.map((input) => {
      const h = hashString(input.text, state.seed);
      if (this.task === 'multilabel') {
        const threshold = this.cfg.strategy === 'uniform' ? state.labels.map(() => 0.5) : probs;
        const labels = order
          .filter((k) => mix32((h ^ Math.imul(k + 1, 0x9e3779b1)) >>> 0) / 2 ** 32 < threshold[k]!)
          .map((k) => state.labels[k]!);
        return { labels, scores: scores() };
      }
      const u = h / 2 ** 32;
      let k = 0;
      for (let cumulative = probs[0]!; k < K - 1 && u >= cumulative; ) cumulative += probs[++k]!;
      return { labels: [state.labels[k]!], scores: scores() };
    });
  }

  /** Random draws have no features; the explanation names the drawing probability. */
  explain(input: ModelInput, _topK = 10): Explanation[] {
    const [p] = this.predict([input]);
    return p!.labels!.map((target) => ({
      target,
      contributions: [
        {
          feature: `random (${this.cfg.strategy})`,
          weight: p!.scores!.find((s) => s.label === target)!.score,
        },
      ],
    }));
  }

  /** Writes `model.json` and `state.json` (label counts and seed). */
  async save(dir: string): Promise<void> {
    const state = this.requireState();
    await writeManifest(dir, {
      architecture: RANDOM_V1,
      formatVersion: RANDOM_FORMAT_VERSION,
      config: this.config(),
      labels: state.labels,
    });
    await writeFile(
      join(dir, STATE_FILE),
      JSON.stringify({ counts: state.counts, total: state.total, seed: state.seed }),
    );
  }

  private requireState(): RandomState {
    if (!this.state) throw new NotFittedError(`${RANDOM_V1} model`);
    return this.state;
  }
}
