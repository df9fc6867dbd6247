import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { NotFittedError } from '../../core/errors.ts';
import type { Example } from '../../data/types.ts';
import { collectLabels } from '../linear/check-labels.ts';
import { parseModelConfig } from '../linear/config-parse.ts';
import { readManifest, writeManifest } from '../linear/saved-model.ts';
import type { Explanation, FitReport, LabelScore, Model, ModelInput, Prediction } from '../model.ts';
import { countLabels, frequencies, type LabelPrior, rankByScore } from './label-prior.ts';

/** Registered name of the majority-class baseline. */
export const MAJORITY_V1 = 'majority.v1';
/** Format version of saved majority.v1 directories. */
export const MAJORITY_FORMAT_VERSION = 1;
const STATE_FILE = 'state.json';

/** Config of majority.v1. */
export const majorityConfigSchema = z.strictObject({
  task: z.enum(['classify', 'multilabel']).default('classify'),
});

/**
 * Predicts the most frequent training class for every text, with the class frequencies as probabilities;
 * multi-label: every label carried by at least half the training examples.
 *
 * @example
 * const model = new MajorityModel();
 * await model.fit(train);
 * model.predict([{ text: 'anything' }])[0]?.labels; // the most frequent class
 */
export class MajorityModel implements Model {
  readonly name = MAJORITY_V1;
  readonly task: 'classify' | 'multilabel';
  private readonly cfg: z.output<typeof majorityConfigSchema>;
  private prior: LabelPrior | null = null;
  private ranked: { prior: LabelPrior; labels: string[]; scores: LabelScore[] } | null = null;

  /** An untrained model; throws ConfigError for an invalid config. */
  constructor(config: Record<string, unknown> = {}) {
    this.cfg = parseModelConfig(majorityConfigSchema, config, MAJORITY_V1);
    this.task = this.cfg.task;
  }

  /** Loads a directory written by {@link MajorityModel.save}. */
  static async load(dir: string): Promise<MajorityModel> {
    const manifest = await readManifest(dir, MAJORITY_V1, MAJORITY_FORMAT_VERSION);
    const model = new MajorityModel(manifest.config);
    const state = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as {
      counts: number[];
      total: number;
    };
    model.prior = { labels: manifest.labels, counts: state.counts, total: state.total };
    return model;
  }

  /** The filled configuration. */
  config(): Record<string, unknown> {
    return { ...this.cfg };
  }

  /** Counts label frequencies in `train` (dev is not used). */
  async fit(train: Example[], dev?: Example[]): Promise<FitReport> {
    const labels = collectLabels(train, this.task, 'train', MAJORITY_V1);
    if (dev) collectLabels(dev, this.task, 'dev', MAJORITY_V1, false);
    this.prior = countLabels(train, labels);
    return { epochs: 1, info: { examples: train.length, labels: labels.length } };
  }

  /** The same prediction for every input (each a fresh copy: callers may change what they get). */
  predict(inputs: ModelInput[]): Prediction[] {
    const { labels, scores } = this.answer();
    return inputs.map(() => ({ labels: [...labels], scores: scores.map((s) => ({ ...s })) }));
  }

  /** The one answer of the fitted prior, ranked once and kept (predict is on the serving path). */
  private answer(): { labels: string[]; scores: LabelScore[] } {
    const prior = this.requirePrior();
    if (this.ranked?.prior === prior) return this.ranked;
    const freq = frequencies(prior);
    const order = rankByScore(freq);
    const labels =
      this.task === 'classify'
        ? [prior.labels[order[0]!]!]
        : order.filter((k) => freq[k]! >= 0.5).map((k) => prior.labels[k]!);
    const scores = order.map((k) => ({ label: prior.labels[k]!, score: freq[k]! }));
    this.ranked = { prior, labels, scores };
    return this.ranked;
  }

  /** The only "feature" is the label's training frequency. */
  explain(input: ModelInput, _topK = 10): Explanation[] {
    const [p] = this.predict([input]);
    const targets = p!.labels!.length > 0 ? p!.labels! : [p!.scores![0]!.label];
    return targets.map((target) => ({
      target,
      contributions: [{ feature: 'prior', weight: p!.scores!.find((s) => s.label === target)!.score }],
    }));
  }

  /** Writes `model.json` and `state.json` (label counts). */
  async save(dir: string): Promise<void> {
    const prior = this.requirePrior();
    await writeManifest(dir, {
      architecture: MAJORITY_V1,
      formatVersion: MAJORITY_FORMAT_VERSION,
      config: this.config(),
      labels: prior.labels,
    });
    await writeFile(join(dir, STATE_FILE), JSON.stringify({ counts: prior.counts, total: prior.total }));
  }

  private requirePrior(): LabelPrior {
    if (!this.prior) throw new NotFittedError(`${MAJORITY_V1} model`);
    return this.prior;
  }
}
