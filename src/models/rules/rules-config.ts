import { z } from 'zod';
import { validateConfig } from '../../core/config.ts';
import { ConfigError, formatLocation, type Problem } from '../../core/errors.ts';

/** Registered name of the rule-based NER model. */
export const RULES_NER_V1 = 'rules-ner.v1';
/** Registered name of the keyword-rule classifier. */
export const RULES_CLASSIFY_V1 = 'rules-classify.v1';
/** Registered name of the wrapper that combines any registered model with rules. */
export const WITH_RULES_V1 = 'with-rules.v1';

const label = z.string().min(1);
const score = z.number().min(0).max(1);

/** A phrase list (gazetteer): inline phrases and/or a file with one phrase per line. */
export const phraseListSchema = z
  .strictObject({
    label,
    phrases: z.array(z.string()).default([]),
    /** A text file with one phrase per line (blank lines skipped), resolved from the working directory. */
    file: z.string().min(1).optional(),
    caseSensitive: z.boolean().default(false),
    score: score.default(1),
  })
  .refine((v) => v.phrases.length > 0 || v.file !== undefined, {
    message: 'needs "phrases" (a list) or "file" (one phrase per line)',
  });

/** A spaCy EntityRuler pattern: an exact phrase (string) or a list of token specs. */
export const entityPatternSchema = z.strictObject({
  label,
  pattern: z.union([z.string().min(1), z.array(z.record(z.string(), z.unknown())).min(1)]),
  /** spaCy's optional entity id; kept for explanations. */
  id: z.string().optional(),
  score: score.default(1),
});

/** A JSONL file of spaCy EntityRuler patterns, one `{"label", "pattern"}` object per line. */
export const patternFileSchema = z.strictObject({
  file: z.string().min(1),
  score: score.default(1),
});

/** A regular expression whose matches (snapped to token boundaries) become entities. */
export const regexRuleSchema = z.strictObject({
  label,
  regex: z.string().min(1),
  /** JavaScript flags besides `g` (added automatically), e.g. `i` or `iu`. */
  flags: z
    .string()
    .regex(/^[dgimsuv]*$/, 'must only use the flags d, g, i, m, s, u, v')
    .default(''),
  /** Take the span of this capture group (number or name) instead of the whole match. */
  group: z.union([z.number().int().min(0), z.string().min(1)]).optional(),
  /** A match that cuts a token: `expand` it to the whole tokens it touches, or `drop` it. */
  snap: z.enum(['expand', 'drop']).default('expand'),
  score: score.default(1),
});

/** Config of rules-ner.v1. */
export const rulesNerConfigSchema = z.strictObject({
  task: z.literal('ner').default('ner'),
  phrases: z.array(phraseListSchema).default([]),
  patterns: z.array(entityPatternSchema).default([]),
  patternFiles: z
    .array(
      z.union([
        z
          .string()
          .min(1)
          .transform((file) => ({ file, score: 1 })),
        patternFileSchema,
      ]),
    )
    .default([]),
  /** How string patterns (`"pattern": "Ann Taylor"`) compare tokens: spaCy's default `orth` is case-sensitive. */
  phraseMatcherAttr: z.enum(['orth', 'lower']).default('orth'),
  regexes: z.array(regexRuleSchema).default([]),
  /** At fit, learn a phrase list from the training spans. */
  learnPhrases: z.boolean().default(false),
  /** Keep a learnt phrase only when this share of its occurrences in train carry its label. */
  minPrecision: z.number().min(0).max(1).default(0.5),
  /** Keep a learnt phrase only when it is annotated at least this often. */
  minCount: z.number().int().min(1).default(1),
  /** Match learnt phrases case-sensitively. */
  learnCaseSensitive: z.boolean().default(true),
});

/** A keyword rule of rules-classify.v1: keywords (phrases) or a regex voting for a class. */
export const keywordRuleSchema = z.strictObject({
  label,
  keywords: z.union([
    z.array(z.string().min(1)).min(1),
    z.strictObject({
      regex: z.string().min(1),
      flags: z
        .string()
        .regex(/^[imsuv]*$/, 'must only use the flags i, m, s, u, v')
        .default(''),
    }),
  ]),
  weight: z.number().default(1),
  caseSensitive: z.boolean().default(false),
});

/** Config of rules-classify.v1. */
export const rulesClassifyConfigSchema = z.strictObject({
  task: z.literal('classify').default('classify'),
  rules: z.array(keywordRuleSchema).default([]),
  /** The fallback class when no rule fires; the majority training class when absent. */
  default: z.string().min(1).optional(),
  /** Score the fallback class gets before rules add theirs (so it wins when nothing fires). */
  defaultScore: z.number().min(0).default(0.5),
  /** Softmax temperature turning scores into probabilities (lower is more peaked). */
  temperature: z.number().gt(0).default(0.25),
  /** Extra classes to report even when no rule names them. */
  labels: z.array(label).default([]),
  /** At fit, learn the most discriminative words of each class (log-odds ratio with a prior). */
  learnKeywords: z.boolean().default(false),
  keywordsPerClass: z.number().int().min(1).default(20),
  /** A learnt keyword must occur in at least this many training texts of its class. */
  minCount: z.number().int().min(1).default(2),
  /** Dirichlet prior (pseudo-count) of the log-odds ratio. */
  prior: z.number().gt(0).default(0.5),
});

/** Config of with-rules.v1. */
export const withRulesConfigSchema = z.strictObject({
  /** The wrapped model: its registered architecture plus its own config. */
  model: z.looseObject({ architecture: z.string().min(1) }),
  /** A rules-ner.v1 config (NER models) or a rules-classify.v1 config (classifiers). */
  rules: z.record(z.string(), z.unknown()).default({}),
  /** `override`: rules win over the model; `fill`: rules only where the model found nothing. */
  mode: z.enum(['override', 'fill']).default('override'),
  /** Classification: rules decide only when one fired and their top probability reaches this. */
  ruleThreshold: z.number().min(0).max(1).default(0.5),
  /** Classification in `fill` mode: rules decide only when the model's top probability is below this. */
  modelThreshold: z.number().min(0).max(1).default(0.5),
});

/** Filled config of rules-ner.v1. */
export type RulesNerConfig = z.output<typeof rulesNerConfigSchema>;
/** Filled config of rules-classify.v1. */
export type RulesClassifyConfig = z.output<typeof rulesClassifyConfigSchema>;
/** Filled config of with-rules.v1. */
export type WithRulesConfig = z.output<typeof withRulesConfigSchema>;
/** A spaCy-style token spec as written in a pattern: attribute → value. */
export type TokenSpec = Record<string, unknown>;

/**
 * Validates a config with a strict schema as if it sat at `prefix` in a larger config, so field paths in
 * errors read `rules.phrases.0.label`; throws ConfigError listing every problem.
 */
export function parseConfigAt<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  prefix: readonly string[],
  architecture: string,
  ctx: { file?: string; line?: number } = {},
): z.output<S> {
  let wrapped: z.ZodType = schema;
  let value: unknown = raw ?? {};
  for (const key of [...prefix].reverse()) {
    wrapped = z.strictObject({ [key]: wrapped });
    value = { [key]: value };
  }
  const out = validateConfig(wrapped, value, {
    file: ctx.file,
    lineOf: ctx.line === undefined ? undefined : () => ctx.line,
    hint: `fix the ${architecture} config${ctx.file ? ` in ${ctx.file}` : ''}`,
  });
  return prefix.reduce<unknown>((v, key) => (v as Record<string, unknown>)[key], out) as z.output<S>;
}

/** Joins a config path prefix and a relative path into the dotted form used in messages. */
export function joinPath(prefix: readonly (string | number)[], ...rest: (string | number)[]): string {
  return [...prefix, ...rest].join('.');
}

/** Throws one ConfigError listing every problem (the first few in the message), when there are any. */
export function throwConfigProblems(problems: Problem[], what: string, hint: string): void {
  if (problems.length === 0) return;
  const where = (p: Problem) => {
    const loc = p.file ? (p.line !== undefined ? `${p.file}:${p.line}` : p.file) : '';
    const field = p.path ? `field ${p.path}` : '';
    return [loc, field].filter(Boolean).join(', ');
  };
  const line = (p: Problem) => (where(p) ? `${where(p)}: ${p.message}` : p.message);
  const first = problems[0]!;
  const message =
    problems.length === 1
      ? line(first)
      : `${problems.length} problems in ${what}:\n  ${problems.slice(0, 8).map(line).join('\n  ')}${
          problems.length > 8 ? `\n  … and ${problems.length - 8} more` : ''
        }`;
  const error = new ConfigError(message, { problems, hint });
  Object.assign(error.details, { file: first.file, line: first.line, path: first.path });
  for (const k of ['file', 'line', 'path'] as const)
    if (error.details[k] === undefined) delete error.details[k];
  throw error;
}

/** The problems a ConfigError carries: its own list, or one problem built from its location and message. */
export function problemsOf(error: ConfigError): Problem[] {
  const listed = error.details.problems;
  if (Array.isArray(listed) && listed.length > 0) return listed;
  const { file, line, path } = error.details;
  const prefix = `${formatLocation(error.details)}: `;
  const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  const problem: Problem = { message };
  if (file !== undefined) problem.file = file;
  if (line !== undefined) problem.line = line;
  if (path !== undefined) problem.path = path;
  return [problem];
}
