import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError, NotFittedError, type Problem, throwIfProblems } from '../../core/errors.ts';
import type { Example } from '../../data/types.ts';
import { tokenize } from '../../text/tokenizer.ts';
import { readManifest, writeManifest } from '../linear/saved-model.ts';
import type { Explanation, FitReport, Model, ModelInput, Prediction } from '../model.ts';
import {
  NerRuleEngine,
  type NerRuleMatch,
  type NerRuleRef,
  type NerRuleSet,
  resolveNerRules,
  resolveOverlaps,
} from './ner-rule-set.ts';
import { learnPhrases } from './phrase-learning.ts';
import { parseConfigAt, RULES_NER_V1, type RulesNerConfig, rulesNerConfigSchema } from './rules-config.ts';

/** Format version of saved rules-ner.v1 directories. */
export const RULES_NER_FORMAT_VERSION = 1;
/** The file holding the resolved rules (files inlined, learnt phrases included) in a saved directory. */
export const RULES_FILE = 'rules.json';

/** Options for building a rules model, used by the wrapper and by `load`. */
export interface RulesModelOptions {
  /** Where the config sits in a larger config, so errors name `rules.phrases.0` rather than `phrases.0`. */
  configPath?: readonly string[];
  /** Rules already resolved (from a saved directory): no file is read. */
  saved?: NerRuleSet;
}

/** One rule match behind a predicted span, for explanations and tooling. */
export interface NerRuleEvidence {
  span: { start: number; end: number; label: string; score: number };
  /** The rule that produced the span first, then any other rule that matched the same extent. */
  rules: (NerRuleRef & { matchedLine?: number })[];
}

/**
 * NER from rules: phrase lists (token trie), spaCy EntityRuler token patterns and regexes; overlaps resolved
 * longest first, then earliest, then by rule priority (phrase lists, patterns, regexes, learnt phrases, each in
 * config order). A regex match that cuts through a token is expanded to the whole tokens it touches (`snap:
 * 'expand'`, the default, so spans always sit on token boundaries) or dropped (`snap: 'drop'`). Ready at
 * construction unless `learnPhrases` is on, in which case `fit` learns a phrase list from the training spans first.
 *
 * @example
 * const model = new RulesNerModel({ patterns: [{ label: 'BRAND', pattern: [{ lower: 'nike' }] }] });
 * model.predict([{ text: 'New Nike shoes' }])[0]?.spans; // [{ start: 4, end: 8, label: 'BRAND', score: 1 }]
 */
export class RulesNerModel implements Model {
  readonly name = RULES_NER_V1;
  readonly task = 'ner' as const;
  private readonly cfg: RulesNerConfig;
  private readonly base: NerRuleSet;
  private rules: NerRuleSet | null = null;
  private engine: NerRuleEngine | null = null;

  /** Validates the config and reads the rule files it names; throws ConfigError listing every problem. */
  constructor(config: Record<string, unknown> = {}, options: RulesModelOptions = {}) {
    const prefix = options.configPath ?? [];
    this.cfg = parseConfigAt(rulesNerConfigSchema, config, prefix, RULES_NER_V1);
    if (options.saved) {
      this.base = { ...options.saved, learned: [] };
      this.use(options.saved);
    } else {
      this.base = resolveNerRules(this.cfg, prefix);
      if (!this.cfg.learnPhrases) this.use(this.base);
    }
  }

  /** Loads a directory written by {@link RulesNerModel.save} (rule files are not read again). */
  static async load(dir: string): Promise<RulesNerModel> {
    const manifest = await readManifest(dir, RULES_NER_V1, RULES_NER_FORMAT_VERSION);
    const saved = JSON.parse(await readFile(join(dir, RULES_FILE), 'utf8')) as NerRuleSet;
    return new RulesNerModel(manifest.config, { saved });
  }

  /** The filled configuration. */
  config(): Record<string, unknown> {
    return structuredClone(this.cfg) as Record<string, unknown>;
  }

  /** The labels the rules can produce. */
  labels(): string[] {
    return this.requireEngine().labels();
  }

  /** Learns phrases from `train` when `learnPhrases` is on; otherwise there is nothing to train (dev is unused). */
  async fit(train: Example[], _dev?: Example[]): Promise<FitReport> {
    if (!this.cfg.learnPhrases) {
      this.use(this.base);
      return { epochs: 0, info: { rules: this.engine!.rules.length, learnedPhrases: 0 } };
    }
    checkNerExamples(train);
    const result = learnPhrases(train, {
      caseSensitive: this.cfg.learnCaseSensitive,
      minPrecision: this.cfg.minPrecision,
      minCount: this.cfg.minCount,
    });
    this.use({ ...this.base, learned: result.learned });
    return {
      epochs: 1,
      info: {
        rules: this.engine!.rules.length,
        learnedPhrases: result.learned.length,
        droppedPhrases: result.dropped,
        unalignedSpans: result.unaligned,
      },
    };
  }

  /** Entity spans for each input, with each span's rule score as its confidence. */
  predict(inputs: ModelInput[]): Prediction[] {
    const engine = this.requireEngine();
    return inputs.map((input) => ({
      spans: engine.predict(input.text, input.tokens ?? tokenize(input.text)),
    }));
  }

  /** For each predicted span, the rule that produced it and any other rule matching the same extent. */
  evidence(input: ModelInput): NerRuleEvidence[] {
    const engine = this.requireEngine();
    const tokens = input.tokens ?? tokenize(input.text);
    const all = engine.matches(input.text, tokens);
    return resolveOverlaps(all, tokens.length).map((winner) => {
      const same = all
        .filter((m) => m.start === winner.start && m.end === winner.end && m !== winner)
        .sort((a, b) => a.rule - b.rule);
      const describe = (m: NerRuleMatch) => {
        const ref = { ...engine.rules[m.rule]! } as NerRuleRef & { matchedLine?: number };
        if (m.line !== undefined) ref.matchedLine = m.line;
        return ref;
      };
      return {
        span: { start: winner.start, end: winner.end, label: winner.label, score: winner.score },
        rules: [winner, ...same].map(describe),
      };
    });
  }

  /** For each predicted span: the rules behind it (kind, config path, pattern text, file:line), winner first. */
  explain(input: ModelInput, topK = 10): Explanation[] {
    return this.evidence(input).map(({ span, rules }) => ({
      target: `${span.label} "${input.text.slice(span.start, span.end)}" [${span.start}, ${span.end})`,
      contributions: rules.slice(0, topK).map((r) => ({
        feature: describeNerRule(r, input.text.slice(span.start, span.end)),
        weight: r.score,
      })),
    }));
  }

  /** Writes `model.json` and `rules.json` (every rule resolved, files inlined, learnt phrases included). */
  async save(dir: string): Promise<void> {
    const engine = this.requireEngine();
    await writeManifest(dir, {
      architecture: RULES_NER_V1,
      formatVersion: RULES_NER_FORMAT_VERSION,
      config: this.config(),
      labels: engine.labels(),
      rulesFile: RULES_FILE,
    });
    await writeFile(join(dir, RULES_FILE), JSON.stringify(this.rules));
  }

  private use(rules: NerRuleSet): void {
    this.rules = rules;
    this.engine = NerRuleEngine.compile(rules);
  }

  private requireEngine(): NerRuleEngine {
    if (!this.engine) throw new NotFittedError(`${RULES_NER_V1} model (learnPhrases is on)`);
    return this.engine;
  }
}

/** One line naming a rule: kind, config path, text, and file:line when it came from a file. */
export function describeNerRule(rule: NerRuleRef & { matchedLine?: number }, matched: string): string {
  const line = rule.kind === 'phrase' ? rule.matchedLine : rule.line;
  const where = rule.file && line !== undefined ? ` (${rule.file}:${line})` : '';
  switch (rule.kind) {
    case 'phrase':
      return `phrase "${matched}" of list ${rule.path}${where}`;
    case 'pattern':
      return `pattern ${rule.path} ${rule.text}${where}`;
    case 'regex':
      return `regex ${rule.path} ${rule.text}`;
    case 'learned':
      return `learnt phrase ${rule.text}`;
  }
}

function checkNerExamples(examples: Example[]): void {
  const problems: Problem[] = [];
  for (const ex of examples) {
    if (!Array.isArray(ex.spans)) {
      problems.push({
        exampleId: ex.id,
        message: 'train example has no spans (an empty list means no entities)',
      });
      continue;
    }
    for (const s of ex.spans) {
      if (!(s.start >= 0 && s.end > s.start && s.end <= ex.text.length)) {
        problems.push({
          exampleId: ex.id,
          message: `span [${s.start}, ${s.end}) ${s.label} is outside the text (length ${ex.text.length})`,
        });
      }
    }
  }
  throwIfProblems(
    problems,
    'train examples',
    'give every NER example a spans list with offsets inside its text',
  );
  if (examples.length === 0) {
    throw new DataError(`${RULES_NER_V1} with learnPhrases needs at least one training example`, {
      hint: 'add annotated examples, or set learnPhrases: false to use the hand-written rules only',
    });
  }
}
