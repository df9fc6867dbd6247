import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFittedError } from '../../core/errors.ts';
import type { Example } from '../../data/types.ts';
import { tokenize } from '../../text/tokenizer.ts';
import { collectLabels } from '../linear/check-labels.ts';
import { readManifest, writeManifest } from '../linear/saved-model.ts';
import type { Explanation, FitReport, Model, ModelInput, Prediction } from '../model.ts';
import {
  type KeywordRule,
  KeywordRuleEngine,
  type KeywordRuleSet,
  type KeywordScores,
  learnKeywords,
  resolveKeywordRules,
} from './keyword-rule-set.ts';
import {
  parseConfigAt,
  RULES_CLASSIFY_V1,
  type RulesClassifyConfig,
  rulesClassifyConfigSchema,
} from './rules-config.ts';
import { RULES_FILE } from './rules-ner-model.ts';

/** Format version of saved rules-classify.v1 directories. */
export const RULES_CLASSIFY_FORMAT_VERSION = 1;

/** Options for building a keyword classifier, used by the wrapper and by `load`. */
export interface KeywordModelOptions {
  /** Where the config sits in a larger config, so errors name `rules.rules.0` rather than `rules.0`. */
  configPath?: readonly string[];
  /** A fitted rule set (from a saved directory). */
  saved?: KeywordRuleSet;
}

/** A prediction plus whether any rule fired (a prediction from the fallback alone has `fired: false`). */
export interface KeywordDecision {
  prediction: Prediction;
  fired: boolean;
}

/**
 * Text classification from keyword rules: each class scores the weights of the distinct keywords (or regexes)
 * of its rules found in the text; a softmax turns scores into probabilities for every class; the fallback class
 * (config `default`, else the majority training class) gets `defaultScore` so it wins when nothing fires.
 * `learnKeywords` adds the most discriminative words of each class at fit. Ready at construction when `default`
 * is set and nothing is learnt; otherwise `fit` first.
 *
 * @example
 * const model = new RulesClassifyModel({ rules: [{ label: 'refund', keywords: ['refund', 'money back'] }], default: 'other' });
 * model.predict([{ text: 'I want my money back' }])[0]?.labels; // ['refund']
 */
export class RulesClassifyModel implements Model {
  readonly name = RULES_CLASSIFY_V1;
  readonly task = 'classify' as const;
  private readonly cfg: RulesClassifyConfig;
  private readonly handRules: KeywordRule[];
  private set: KeywordRuleSet | null = null;
  private engine: KeywordRuleEngine | null = null;

  /** Validates the config and its regexes; throws ConfigError listing every problem. */
  constructor(config: Record<string, unknown> = {}, options: KeywordModelOptions = {}) {
    const prefix = options.configPath ?? [];
    this.cfg = parseConfigAt(rulesClassifyConfigSchema, config, prefix, RULES_CLASSIFY_V1);
    if (options.saved) {
      this.handRules = options.saved.rules;
      this.use(options.saved);
      return;
    }
    this.handRules = resolveKeywordRules(this.cfg, prefix);
    if (!this.cfg.learnKeywords && this.cfg.default !== undefined)
      this.use(this.ruleSet([], this.cfg.default, []));
  }

  /** Loads a directory written by {@link RulesClassifyModel.save}. */
  static async load(dir: string): Promise<RulesClassifyModel> {
    const manifest = await readManifest(dir, RULES_CLASSIFY_V1, RULES_CLASSIFY_FORMAT_VERSION);
    const saved = JSON.parse(await readFile(join(dir, RULES_FILE), 'utf8')) as KeywordRuleSet;
    return new RulesClassifyModel(manifest.config, { saved });
  }

  /** The filled configuration. */
  config(): Record<string, unknown> {
    return structuredClone(this.cfg) as Record<string, unknown>;
  }

  /** Every class the model reports. */
  labels(): string[] {
    return [...this.requireEngine().classes];
  }

  /** Learns the fallback (majority class unless `default` is set) and, with `learnKeywords`, keywords per class. */
  async fit(train: Example[], _dev?: Example[]): Promise<FitReport> {
    const trainLabels = collectLabels(
      train,
      'classify',
      'train',
      RULES_CLASSIFY_V1,
      this.cfg.default === undefined,
    );
    const counts = new Map<string, number>();
    for (const ex of train) counts.set(ex.labels![0]!, (counts.get(ex.labels![0]!) ?? 0) + 1);
    const majority = [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))[0]?.[0];
    const fallback = this.cfg.default ?? majority!;
    const classes = this.classes(trainLabels, fallback);
    const learned = this.cfg.learnKeywords
      ? learnKeywords(train, classes, {
          perClass: this.cfg.keywordsPerClass,
          minCount: this.cfg.minCount,
          prior: this.cfg.prior,
        })
      : [];
    this.use(this.ruleSet(learned, fallback, trainLabels));
    return {
      epochs: this.cfg.learnKeywords ? 1 : 0,
      info: { classes: classes.length, fallback, learnedKeywords: learned.length },
    };
  }

  /** The predicted class and every class's probability for each input. */
  predict(inputs: ModelInput[]): Prediction[] {
    return inputs.map((input) => this.decide(input).prediction);
  }

  /** The prediction for one input and whether any rule fired (used by with-rules.v1 to decide overrides). */
  decide(input: ModelInput): KeywordDecision {
    const scored = this.scoreOf(input);
    return {
      prediction: { labels: [scored.scores[0]!.label], scores: scored.scores },
      fired: scored.matches.length > 0,
    };
  }

  /** For the predicted class and every class a rule fired for: the rules and keywords behind its score. */
  explain(input: ModelInput, topK = 10): Explanation[] {
    const engine = this.requireEngine();
    const scored = this.scoreOf(input);
    const predicted = scored.scores[0]!.label;
    const targets = scored.scores
      .map((s) => s.label)
      .filter(
        (label) => label === predicted || scored.matches.some((m) => engine.rules[m.rule]!.label === label),
      );
    return targets.map((target) => {
      const contributions = scored.matches
        .filter((m) => engine.rules[m.rule]!.label === target)
        .map((m) => {
          const rule = engine.rules[m.rule]!;
          const what =
            rule.kind === 'regex'
              ? `regex ${rule.path} ${rule.text} matched "${m.matched}"`
              : rule.kind === 'learned'
                ? `learnt keyword ${rule.text}`
                : `keyword "${m.matched}" of ${rule.path}`;
          return { feature: what, weight: rule.weight };
        });
      if (target === engine.fallback) {
        contributions.push({ feature: 'fallback class (default score)', weight: this.set!.defaultScore });
      }
      contributions.sort((a, b) => b.weight - a.weight);
      return { target, contributions: contributions.slice(0, topK) };
    });
  }

  /** Writes `model.json` and `rules.json` (hand-written rules, learnt keywords, classes, fallback). */
  async save(dir: string): Promise<void> {
    const engine = this.requireEngine();
    await writeManifest(dir, {
      architecture: RULES_CLASSIFY_V1,
      formatVersion: RULES_CLASSIFY_FORMAT_VERSION,
      config: this.config(),
      labels: [...engine.classes],
      rulesFile: RULES_FILE,
    });
    await writeFile(join(dir, RULES_FILE), JSON.stringify(this.set));
  }

  private scoreOf(input: ModelInput): KeywordScores {
    return this.requireEngine().score(input.text, input.tokens ?? tokenize(input.text));
  }

  private classes(trainLabels: readonly string[], fallback: string): string[] {
    const all = new Set([
      ...this.cfg.labels,
      ...this.handRules.map((r) => r.label),
      fallback,
      ...trainLabels,
    ]);
    return [...all].sort();
  }

  private ruleSet(
    learned: KeywordRuleSet['learned'],
    fallback: string,
    trainLabels: readonly string[],
  ): KeywordRuleSet {
    return {
      rules: this.handRules,
      learned,
      classes: this.classes(trainLabels, fallback),
      fallback,
      defaultScore: this.cfg.defaultScore,
      temperature: this.cfg.temperature,
    };
  }

  private use(set: KeywordRuleSet): void {
    this.set = set;
    this.engine = KeywordRuleEngine.compile(set);
  }

  private requireEngine(): KeywordRuleEngine {
    if (!this.engine) {
      throw new NotFittedError(
        `${RULES_CLASSIFY_V1} model (it needs fit when learnKeywords is on or no \`default\` class is set)`,
      );
    }
    return this.engine;
  }
}
