import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { DataError, NotFittedError, type Problem, throwIfProblems } from '../../core/errors.ts';
import type { Example, Token } from '../../data/types.ts';
import { tokenize } from '../../text/tokenizer.ts';
import { parseModelConfig } from '../linear/config-parse.ts';
import { readManifest, writeManifest } from '../linear/saved-model.ts';
import type { Explanation, FitReport, Model, ModelInput, Prediction } from '../model.ts';
import { bioToSpans, OUTSIDE, spansToBio } from './bio.ts';

/** Registered name of the most-frequent-tag-per-token NER baseline. */
export const TOKEN_MAJORITY_V1 = 'token-majority.v1';
/** Format version of saved token-majority.v1 directories. */
export const TOKEN_MAJORITY_FORMAT_VERSION = 1;
const STATE_FILE = 'tags.json';

/** Config of token-majority.v1. */
export const tokenMajorityConfigSchema = z.strictObject({
  task: z.literal('ner').default('ner'),
  /** Look tokens up lowercased. */
  lowercase: z.boolean().default(true),
});

/** The learned table: for each token, its most frequent BIO tag and that tag's share of the token's uses. */
type TagTable = Map<string, { tag: string; confidence: number }>;

/**
 * NER baseline: learns the most frequent BIO tag of each (lowercased) token from the training spans, tags each
 * token with it (unknown tokens get O) and decodes the tags to spans; a span's score is the mean share of its
 * tokens' tags.
 *
 * @example
 * const model = new TokenMajorityModel();
 * await model.fit(train);
 * model.predict([{ text: 'Nike shoes' }])[0]?.spans;
 */
export class TokenMajorityModel implements Model {
  readonly name = TOKEN_MAJORITY_V1;
  readonly task = 'ner' as const;
  private readonly cfg: z.output<typeof tokenMajorityConfigSchema>;
  private table: TagTable | null = null;
  private labels: string[] = [];

  /** An untrained model; throws ConfigError for an invalid config. */
  constructor(config: Record<string, unknown> = {}) {
    this.cfg = parseModelConfig(tokenMajorityConfigSchema, config, TOKEN_MAJORITY_V1);
  }

  /** Loads a directory written by {@link TokenMajorityModel.save}. */
  static async load(dir: string): Promise<TokenMajorityModel> {
    const manifest = await readManifest(dir, TOKEN_MAJORITY_V1, TOKEN_MAJORITY_FORMAT_VERSION);
    const model = new TokenMajorityModel(manifest.config);
    const rows = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as [string, string, number][];
    model.table = new Map(rows.map(([token, tag, confidence]) => [token, { tag, confidence }]));
    model.labels = manifest.labels;
    return model;
  }

  /** The filled configuration. */
  config(): Record<string, unknown> {
    return { ...this.cfg };
  }

  /** Counts BIO tags per token over `train` and keeps each token's most frequent one (dev is not used). */
  async fit(train: Example[], dev?: Example[]): Promise<FitReport> {
    this.checkSpans(train, 'train');
    if (dev) this.checkSpans(dev, 'dev');
    const counts = new Map<string, Map<string, number>>();
    const labels = new Set<string>();
    for (const ex of train) {
      const tokens = this.tokensOf(ex);
      const tags = spansToBio(tokens, ex.spans!);
      for (const span of ex.spans!) labels.add(span.label);
      tokens.forEach((t, i) => {
        const key = this.key(t);
        const perTag = counts.get(key) ?? new Map<string, number>();
        perTag.set(tags[i]!, (perTag.get(tags[i]!) ?? 0) + 1);
        counts.set(key, perTag);
      });
    }
    const table: TagTable = new Map();
    for (const [token, perTag] of counts) {
      let best = OUTSIDE;
      let bestCount = -1;
      let total = 0;
      // Most frequent tag; ties go to O, then to the alphabetically first tag, so results are deterministic.
      for (const [tag, count] of [...perTag].sort(([a], [b]) =>
        a === OUTSIDE ? -1 : b === OUTSIDE ? 1 : a < b ? -1 : 1,
      )) {
        total += count;
        if (count > bestCount) {
          best = tag;
          bestCount = count;
        }
      }
      if (best !== OUTSIDE) table.set(token, { tag: best, confidence: bestCount / total });
    }
    this.table = table;
    this.labels = [...labels].sort();
    return { epochs: 1, info: { tokens: counts.size, taggedTokens: table.size, labels: this.labels.length } };
  }

  /** Entity spans for each input. */
  predict(inputs: ModelInput[]): Prediction[] {
    const table = this.requireTable();
    return inputs.map((input) => {
      const tokens = input.tokens ?? tokenize(input.text);
      const tags: string[] = [];
      const confidences: number[] = [];
      for (const t of tokens) {
        const entry = table.get(this.key(t));
        tags.push(entry?.tag ?? OUTSIDE);
        confidences.push(entry?.confidence ?? 1);
      }
      return { spans: bioToSpans(tokens, tags, confidences) };
    });
  }

  /** For each predicted entity, its tokens and the share of training uses that carried the predicted tag. */
  explain(input: ModelInput, topK = 10): Explanation[] {
    const table = this.requireTable();
    const tokens = input.tokens ?? tokenize(input.text);
    const [prediction] = this.predict([{ text: input.text, tokens }]);
    return prediction!.spans!.map((span) => ({
      target: `${span.label} "${input.text.slice(span.start, span.end)}" [${span.start}, ${span.end})`,
      contributions: tokens
        .filter((t) => t.start >= span.start && t.end <= span.end)
        .map((t) => {
          const entry = table.get(this.key(t))!;
          return { feature: `token:${this.key(t)} → ${entry.tag}`, weight: entry.confidence };
        })
        .slice(0, topK),
    }));
  }

  /** Writes `model.json` and `tags.json` (token, tag, confidence rows, sorted by token). */
  async save(dir: string): Promise<void> {
    const table = this.requireTable();
    await writeManifest(dir, {
      architecture: TOKEN_MAJORITY_V1,
      formatVersion: TOKEN_MAJORITY_FORMAT_VERSION,
      config: this.config(),
      labels: this.labels,
    });
    const rows = [...table]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([token, { tag, confidence }]) => [token, tag, confidence]);
    await writeFile(join(dir, STATE_FILE), JSON.stringify(rows));
  }

  private key(token: Token): string {
    return this.cfg.lowercase ? token.text.toLowerCase() : token.text;
  }

  private tokensOf(ex: Example): Token[] {
    return ex.tokens ?? tokenize(ex.text);
  }

  private checkSpans(examples: Example[], split: string): void {
    const problems: Problem[] = [];
    for (const ex of examples) {
      if (!Array.isArray(ex.spans)) {
        problems.push({
          exampleId: ex.id,
          message: `${split} example has no spans (an empty list means no entities)`,
        });
        continue;
      }
      for (const s of ex.spans) {
        if (!(s.start >= 0 && s.end > s.start && s.end <= ex.text.length)) {
          problems.push({
            exampleId: ex.id,
            message: `${split} span [${s.start}, ${s.end}) ${s.label} is outside the text (length ${ex.text.length})`,
          });
        }
      }
    }
    throwIfProblems(
      problems,
      `${split} examples`,
      'give every NER example a spans list with offsets inside its text',
    );
    if (split === 'train' && examples.length === 0) {
      throw new DataError(`${TOKEN_MAJORITY_V1} needs at least one training example`, {
        hint: 'add annotated examples before training',
      });
    }
  }

  private requireTable(): TagTable {
    if (!this.table) throw new NotFittedError(`${TOKEN_MAJORITY_V1} model`);
    return this.table;
  }
}
