import { randomBytes } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { behaviourTestsSchema } from '../analysis/behavioural.ts';
import { forEachCondition, type SliceCondition, type SliceDefinition, slicesSchema } from '../data/slices.ts';
import type { TaskKind } from '../data/types.ts';
import { applyOverrides, didYouMean, parseYamlWithLines, toYaml, validateConfig } from './config.ts';
import { ConfigError, NotFoundError, SapphireError } from './errors.ts';

/** File name of the problem card at the root of a Sapphire project. */
export const PROJECT_FILE = 'sapphire.yaml';

/** The kinds of task a project can have. */
export const TASKS = ['ner', 'classify', 'multilabel'] as const satisfies readonly TaskKind[];

/** Offline metric names allowed for each task. */
export const METRICS_BY_TASK: Readonly<Record<TaskKind, readonly string[]>> = {
  ner: ['span_f1_micro', 'span_f1_macro', 'span_precision', 'span_recall'],
  classify: ['accuracy', 'macro_f1', 'micro_f1', 'weighted_f1'],
  multilabel: ['micro_f1', 'macro_f1', 'samples_f1', 'subset_accuracy'],
};

/** Primary and secondary metrics a new project starts with, per task. */
export const DEFAULT_METRICS: Readonly<Record<TaskKind, { primary: string; secondary: string[] }>> = {
  ner: { primary: 'span_f1_micro', secondary: ['span_f1_macro', 'span_precision', 'span_recall'] },
  classify: { primary: 'macro_f1', secondary: ['accuracy', 'weighted_f1'] },
  multilabel: { primary: 'micro_f1', secondary: ['macro_f1', 'samples_f1'] },
};

/** Data formats `sapphire data import` can read. */
export const DATA_FORMATS = ['conll', 'jsonl', 'csv', 'lines', 'html', 'auto'] as const;

const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

const dataSourceSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'source names use letters, digits, "-", "_" and "."'),
  path: z.string().min(1),
  format: z.enum(DATA_FORMATS).default('auto'),
  options: z.record(z.string(), z.unknown()).default(() => ({})),
  split: z.enum(['train', 'dev', 'test']).nullable().default(null),
});

const splitSchema = z.strictObject({
  ratios: z
    .array(z.number().gt(0, 'split ratios must be > 0'))
    .min(1)
    .max(3)
    .default(() => [0.8, 0.1, 0.1]),
  seed: z.int().min(0).default(13),
  stratify: z.boolean().default(true),
  groupBy: z.string().min(1).nullable().default(null),
});

const metricName = z.string().min(1);

const ladderRungSchema = z
  .strictObject({
    /** Short name shown in the ladder table, e.g. `crf`. */
    name: z.string().regex(/^[\w.-]+$/, 'rung names use letters, digits, "-", "_" and "."'),
    /** A training config file (relative to the project) … */
    config: z.string().min(1).optional(),
    /** … or an inline `model` section (`architecture` + settings) trained on the ladder's dataset. */
    model: z.looseObject({ architecture: z.string().min(1) }).optional(),
  })
  .refine((rung) => (rung.config === undefined) !== (rung.model === undefined), {
    message: 'give each rung either `config` (a training config file) or `model` (architecture + settings)',
  });

const ladderSchema = z.strictObject({
  /** Dataset every rung trains on (default: the first data source). */
  dataset: z.string().min(1).nullable().default(null),
  /** Seeds every rung is trained with: a list, or a count (13, 14, …). */
  seeds: z.union([z.array(z.int().min(0)).min(1), z.int().min(1).max(100)]).default(1),
  rungs: z.array(ladderRungSchema).min(1, 'a ladder needs at least one rung'),
});

const promotionSchema = z.strictObject({
  /** Gate dataset `dataset[:split]` (default: the first data source's name + `:test`). */
  dataset: z.string().min(1).nullable().default(null),
  /** Metric the gate compares (default: metrics.primary). */
  metric: metricName.nullable().default(null),
  /** Significance level of the paired tests. */
  alpha: z.number().gt(0, 'alpha must be > 0').lt(0.5, 'alpha must be < 0.5').default(0.05),
  /** `not-worse`: refuse a significantly lower score; `better`: require a significantly higher one. */
  require: z.enum(['not-worse', 'better']).default('not-worse'),
  /** Every earmark (earmarks.jsonl) must pass. */
  earmarks: z.boolean().default(true),
  latency: z
    .strictObject({
      /** Budget for the 99th percentile of single-text predictions, in milliseconds. */
      p99Ms: z.number().gt(0, 'the latency budget must be > 0 ms').default(50),
      /** Gate texts timed one by one. */
      samples: z.int().min(1).max(100_000).default(200),
    })
    .prefault({}),
});

const serveSchema = z.strictObject({
  port: z.int().min(0).max(65_535).default(8080),
  host: z.string().min(1).default('127.0.0.1'),
  /** Require API keys; false serves the default tenant without keys (local use only). */
  auth: z.boolean().default(true),
  limits: z
    .strictObject({
      bodyBytes: z.int().min(1).default(1_048_576),
      textChars: z.int().min(1).default(100_000),
      batchSize: z.int().min(1).default(256),
    })
    .prefault({}),
  rateLimitPerMinute: z.int().min(1).default(6000),
  log: z
    .strictObject({
      /** Share of predictions written to the prediction log (0..1); usage counts are always exact. */
      sample: z.number().min(0).max(1).default(1),
      retentionDays: z.int().min(1).default(30),
    })
    .prefault({}),
  pollIntervalMs: z.int().min(50).default(1000),
  /** Where models score: `native` (TypeScript) or `onnx` (onnxruntime-node, for the models that export to ONNX). */
  runtime: z.enum(['native', 'onnx']).default('native'),
  /** Intra-op threads of each ONNX Runtime session (runtime: onnx). */
  onnxThreads: z.int().min(1).max(256).default(2),
  /** Worker threads that score ONNX batches, each with its own session of onnxThreads threads (0: the server's thread). */
  onnxWorkers: z.int().min(0).max(64).default(0),
});

const monitoringSchema = z.strictObject({
  /** Keep live sketches of every prediction in the server (`/v1/models/{name}/live`, drift gauges). */
  enabled: z.boolean().default(true),
  /** Width of a sketch time bucket in seconds: the resolution of windows. */
  bucketSeconds: z.int().min(10).max(86_400).default(300),
  /** Hours of buckets kept in memory and in the store. */
  retentionHours: z
    .int()
    .min(1)
    .max(24 * 90)
    .default(24),
  /** How often each replica writes its changed buckets to the store, in ms. */
  publishIntervalMs: z.int().min(100).default(10_000),
  /** The window drift is judged over by default (`/metrics`, `sapphire next`), e.g. 1h. */
  window: z
    .string()
    .regex(/^\d+(s|m|h|d)$/, 'a window is a whole number and s, m, h or d, e.g. 1h')
    .default('1h'),
  /** Predictions needed in the window before drift is judged. */
  minSamples: z.int().min(1).default(200),
  /** Drift thresholds: a signal above its threshold marks the model version as drifted. */
  drift: z
    .strictObject({
      /** Population stability index of the predicted-label distribution (0.1 moderate, 0.2 significant). */
      labelPsi: z.number().gt(0).default(0.2),
      /** Jensen–Shannon divergence (base 2, 0..1) of the predicted-label distribution. */
      labelJs: z.number().gt(0).max(1).default(0.1),
      /** Population stability index of input lengths in tokens, over the reference's deciles. */
      lengthPsi: z.number().gt(0).default(0.2),
      /** Absolute change of the mean confidence. */
      confidenceShift: z.number().gt(0).max(1).default(0.1),
      /** Rise of the out-of-vocabulary token rate (live minus reference). */
      oovShift: z.number().gt(0).max(1).default(0.05),
      /** A token (or entity) unseen in training that occurs in at least this share of texts is a new frequent one. */
      newTokenShare: z.number().gt(0).max(1).default(0.02),
    })
    .prefault({}),
});

const cardObjectSchema = z.strictObject({
  name: z
    .string()
    .regex(NAME_PATTERN, 'project names use lowercase letters, digits, "-" and "_" (e.g. fashion-demo)'),
  task: z.enum(TASKS),
  description: z.string().optional(),
  labels: z.array(z.string().regex(/^\S+$/, 'labels cannot be empty or contain spaces')).default(() => []),
  metrics: z
    .strictObject({
      primary: metricName.optional(),
      secondary: z.array(metricName).default(() => []),
      online: z.array(metricName).default(() => []),
    })
    .prefault({}),
  acceptance: z.record(z.string(), z.number().min(0).max(1)).default(() => ({})),
  slices: slicesSchema.default(() => []),
  /** Behavioural tests `sapphire test` runs: invariance, directional and minimum-functionality (mft). */
  behaviour: behaviourTestsSchema.default(() => []),
  data: z
    .strictObject({
      sources: z.array(dataSourceSchema).default(() => []),
      split: splitSchema.prefault({}),
    })
    .prefault({}),
  store: z.string().min(1).nullable().default(null),
  /** The model ladder `sapphire ladder` climbs (default: the training configs in `configs/`). */
  ladder: ladderSchema.nullable().default(null),
  /** Gates `sapphire promote` checks before an alias moves to a new model version. */
  promotion: promotionSchema.prefault({}),
  /** Settings of `sapphire serve`. */
  serve: serveSchema.prefault({}),
  /** Live monitoring and drift detection of served models. */
  monitoring: monitoringSchema.prefault({}),
});

type Ctx = z.RefinementCtx;

function checkMetric(name: string, task: TaskKind, path: (string | number)[], ctx: Ctx): void {
  const allowed = METRICS_BY_TASK[task];
  if (allowed.includes(name)) return;
  ctx.addIssue({
    code: 'custom',
    path,
    input: name,
    message: `"${name}" is not a ${task} metric; use one of ${allowed.join(', ')}${didYouMean(name, allowed)}`,
  });
}

function checkUnique(
  values: string[],
  what: string,
  path: (string | number)[],
  ctx: Ctx,
  field?: string,
): void {
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    const first = seen.get(v);
    if (first === undefined) seen.set(v, i);
    else
      ctx.addIssue({
        code: 'custom',
        path: field ? [...path, i, field] : [...path, i],
        input: v,
        message: `duplicate ${what} "${v}" (already at ${[...path, first].join('.')})`,
      });
  });
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Cross-field rules of the card. They run even when other fields failed (so every problem is reported at once),
 * hence they check the shape of what they read.
 */
function checkCrossFieldRules(card: Record<string, unknown>, ctx: Ctx): void {
  const task = TASKS.find((t) => t === card.task);
  const metrics = isRecord(card.metrics) ? card.metrics : {};
  if (task) {
    if (typeof metrics.primary === 'string') checkMetric(metrics.primary, task, ['metrics', 'primary'], ctx);
    if (isStringArray(metrics.secondary)) {
      metrics.secondary.forEach((m, i) => {
        checkMetric(m, task, ['metrics', 'secondary', i], ctx);
      });
    }
    if (isRecord(card.acceptance)) {
      for (const key of Object.keys(card.acceptance)) checkMetric(key, task, ['acceptance', key], ctx);
    }
    const promotion = isRecord(card.promotion) ? card.promotion : {};
    if (typeof promotion.metric === 'string')
      checkMetric(promotion.metric, task, ['promotion', 'metric'], ctx);
  }
  const labels = isStringArray(card.labels) ? card.labels : [];
  checkUnique(labels, 'label', ['labels'], ctx);
  const data = isRecord(card.data) ? card.data : {};
  if (Array.isArray(data.sources)) {
    const names = data.sources.map((s) => (isRecord(s) && typeof s.name === 'string' ? s.name : ''));
    checkUnique(
      names.filter(Boolean).length === names.length ? names : [],
      'source name',
      ['data', 'sources'],
      ctx,
      'name',
    );
  }
  if (labels.length > 0 && Array.isArray(card.slices)) {
    card.slices.forEach((slice, i) => {
      if (!isRecord(slice) || !isRecord(slice.where)) return;
      forEachCondition(slice.where as SliceCondition, (cond, path) => {
        if (!isRecord(cond) || typeof cond.label !== 'string' || labels.includes(cond.label)) return;
        ctx.addIssue({
          code: 'custom',
          path: ['slices', i, 'where', ...path, 'label'],
          input: cond.label,
          message: `label "${cond.label}" is not in labels (${labels.join(', ')})${didYouMean(cond.label, labels)}`,
        });
      });
    });
  }
  const split = isRecord(data.split) ? data.split : {};
  const ratios = split.ratios;
  if (Array.isArray(ratios) && ratios.length > 0 && ratios.every((r) => typeof r === 'number' && r > 0)) {
    const sum = (ratios as number[]).reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-6) {
      ctx.addIssue({
        code: 'custom',
        path: ['data', 'split', 'ratios'],
        input: ratios,
        message: `split ratios must sum to 1, but [${ratios.join(', ')}] sums to ${Number(sum.toFixed(6))}`,
      });
    }
  }
}

/**
 * Zod schema of the problem card (`sapphire.yaml`): parses, checks cross-field rules and fills every default.
 *
 * @example
 * const card = problemCardSchema.parse({ name: 'demo', task: 'ner' }); // card.metrics.primary === 'span_f1_micro'
 */
export const problemCardSchema = cardObjectSchema
  .superRefine((card, ctx) => checkCrossFieldRules(card as Record<string, unknown>, ctx), {
    when: (payload) => isRecord(payload.value),
  })
  .transform((card) => ({
    ...card,
    metrics: {
      primary: card.metrics.primary ?? DEFAULT_METRICS[card.task].primary,
      secondary: card.metrics.secondary,
      online: card.metrics.online,
    },
  }));

/** The problem card: what the project predicts, how it is measured, its slices and data, all defaults filled. */
export type ProblemCard = z.output<typeof problemCardSchema>;

/** A loaded project: its folder, the card's file and the filled card. */
export interface Project {
  dir: string;
  file: string;
  card: ProblemCard;
}

/** Comments written above each section of the problem card. */
export const PROBLEM_CARD_COMMENTS: Record<string, string> = {
  '': 'Sapphire problem card: what this project predicts and how success is measured.\nEdit freely; `sapphire` validates this file on every command.',
  name: 'Project name: lowercase letters, digits, "-" and "_".',
  task: 'ner (entity spans) | classify (one class per text) | multilabel (any number of classes).',
  description: 'What the model is for, in a sentence or two.',
  labels: 'The label set: entity types for ner, classes otherwise (may start empty).',
  metrics:
    'primary decides which model is best; secondary are reported beside it; online are watched in production.\nner: span_f1_micro|span_f1_macro|span_precision|span_recall; classify: accuracy|macro_f1|micro_f1|weighted_f1;\nmultilabel: micro_f1|macro_f1|samples_f1|subset_accuracy.',
  acceptance: 'Minimum metric values (0..1) a model must reach to be promoted, e.g. span_f1_micro: 0.75.',
  slices:
    'Named data slices, evaluated separately. Conditions: tokens/chars {min, max}, label, regex (+ flags),\nmeta {field, equals | in | exists}, combined with all: [...], any: [...], not: {...}.',
  behaviour:
    'Behavioural tests `sapphire test` runs, each {type, name, …, maxFailureRate?}: invariance (perturb: swapEntities\n{LABEL: [names]} | casing lower|upper|title | punctuation strip|add | append | prepend | replace {from, to}) on\ndata: dataset[:split] or texts: [...], limit; directional (perturb + expect: class changes|same|{to: X}, entities\nchanges|same, confidence {direction: up|down, label?}); mft (template "{brand} shoes", fill {brand: [...]}, expect\nlike earmarks: entities, notEntities, exactEntities, class, notClass, labels, notLabels, exactLabels).',
  data: 'sources: files `sapphire data import` brings in (format conll|jsonl|csv|lines|html|auto).\nsplit: train/dev/test ratios, seed, stratify by label, keep groups of a meta field together (groupBy).',
  ladder:
    'The ladder `sapphire ladder` climbs on the same splits and seeds, simplest first: rungs of {name, config: file}\nor {name, model: {architecture, …}}; seeds: a list or a count. Leave null to use the configs/ folder.',
  promotion:
    'Gates `sapphire promote` checks: metric (default metrics.primary) on dataset (dataset[:split], default the first\nsource + :test) not significantly worse than the current version at alpha (require: not-worse | better),\nacceptance minimums, earmarks.jsonl all pass (earmarks), and latency.p99Ms over latency.samples single texts.',
  serve:
    '`sapphire serve` settings: port, host, auth (API keys), limits (bodyBytes, textChars, batchSize),\nrateLimitPerMinute per tenant, log (sample share of predictions logged, retentionDays), pollIntervalMs (promotions),\nruntime (native | onnx: score through onnxruntime-node), onnxThreads and onnxWorkers.',
  monitoring:
    'Live sketches of served predictions and drift against the reference profile saved with each model: enabled,\nbucketSeconds, retentionHours, publishIntervalMs (replicas → store), window (default 1h), minSamples, drift thresholds\n(labelPsi, labelJs, lengthPsi, confidenceShift, oovShift, newTokenShare).',
  store:
    'Where runs, datasets and models are kept: null for the default SQLite file, or a path / postgres:// URI.',
};

/**
 * Finds the project folder holding `sapphire.yaml`, starting at `startDir` and walking up like git does.
 *
 * @example
 * const dir = findProjectDir(process.cwd());
 */
export function findProjectDir(startDir: string): string {
  const start = resolve(startDir);
  let dir = start;
  for (;;) {
    const file = join(dir, PROJECT_FILE);
    if (existsSync(file) && statSync(file).isFile()) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new NotFoundError(`no ${PROJECT_FILE} found in ${start} or any folder above it`, {
    hint: 'run `sapphire init` to start a project here, or change to a project folder',
  });
}

/**
 * Loads and validates `dir/sapphire.yaml`, applying `key.path=value` overrides first; returns the filled card.
 *
 * @example
 * const { card } = loadProject(findProjectDir('.'), ['metrics.primary=span_f1_macro']);
 */
export function loadProject(dir: string, overrides: string[] = []): Project {
  const file = join(dir, PROJECT_FILE);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`no ${PROJECT_FILE} in ${dir}`, {
        file,
        hint: 'run `sapphire init` to create one, or pass the folder that holds it',
      });
    }
    throw e;
  }
  const parsed = parseYamlWithLines(source, file);
  let value = parsed.value;
  if (value === null || value === undefined) {
    throw new ConfigError(`${file} is empty`, {
      hint: 'write the problem card into it (name, task, labels, …) or delete it and run `sapphire init`',
    });
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${file} must hold key: value pairs at the top level`, {
      hint: 'start the file with `name: my-project` and `task: ner` (see `sapphire init`)',
    });
  }
  if (overrides.length > 0) value = applyOverrides(value as Record<string, unknown>, overrides);
  const card = validateConfig(problemCardSchema, value, {
    file,
    lineOf: parsed.lineOf,
    overrides,
    hint: `fix the fields listed above in ${file}`,
  });
  return { dir, file, card };
}

/** Validates a card object (without a file), throwing a ConfigError naming each bad field. */
export function validateProblemCard(card: unknown): ProblemCard {
  return validateConfig(problemCardSchema, card, { hint: 'fix the problem card fields listed above' });
}

/**
 * Writes the filled problem card to `dir/sapphire.yaml` atomically (temp file + rename), with section comments.
 *
 * Refuses to replace an existing file unless `force` is set. Returns the file's path.
 *
 * @example
 * writeProblemCard('.', card, { force: true });
 */
export function writeProblemCard(dir: string, card: ProblemCard, opts: { force?: boolean } = {}): string {
  const filled = validateProblemCard(card);
  const file = join(dir, PROJECT_FILE);
  const exists = (): SapphireError =>
    new SapphireError('CONFLICT', `${file} already exists`, {
      file,
      hint: 'edit the existing file, or use --force to overwrite it',
    });
  if (!opts.force && existsSync(file)) throw exists();
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${PROJECT_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(tmp, toYaml(filled, PROBLEM_CARD_COMMENTS), { flag: 'wx' });
  try {
    if (opts.force) {
      renameSync(tmp, file);
    } else {
      // link() fails when the target exists, so a file created meanwhile is never clobbered.
      try {
        linkSync(tmp, file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw exists();
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw e;
        if (existsSync(file)) throw exists();
        renameSync(tmp, file);
      }
    }
  } finally {
    if (existsSync(tmp)) unlinkSync(tmp);
  }
  return file;
}

/** Turns a folder name into a valid project name (lowercase, `-` for other characters), `project` when nothing is left. */
export function sanitizeProjectName(raw: string): string {
  const name = raw
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
  return name === '' ? 'project' : name;
}

/** Options for {@link initProject}. */
export interface InitOptions {
  task: TaskKind;
  /** Project name; defaults to the folder's name, sanitised. */
  name?: string;
  labels?: string[];
  /** Overwrite an existing sapphire.yaml. */
  force?: boolean;
}

/**
 * Writes a starter problem card for `task` into `dir` (created if needed) and returns the project with the filled card.
 *
 * @example
 * const { file, card } = initProject('fashion-demo', { task: 'ner', labels: ['BRAND', 'COLOR'] });
 */
export function initProject(dir: string, opts: InitOptions): Project {
  const file = join(dir, PROJECT_FILE);
  if (!opts.force && existsSync(file)) {
    throw new SapphireError('CONFLICT', `${file} already exists; this folder is already a Sapphire project`, {
      file,
      hint: 'edit sapphire.yaml, or use --force to replace it with a starter card',
    });
  }
  const defaults = DEFAULT_METRICS[opts.task];
  const starter = {
    name: opts.name ?? sanitizeProjectName(basename(resolve(dir))),
    task: opts.task,
    labels: opts.labels ?? [],
    metrics: { primary: defaults.primary, secondary: [...defaults.secondary], online: [] },
    acceptance: {},
    slices: [
      { name: 'short', description: 'texts of at most 6 tokens', where: { tokens: { max: 6 } } },
    ] satisfies SliceDefinition[],
  };
  const card = validateProblemCard(starter);
  return { dir, file: writeProblemCard(dir, card, { force: opts.force }), card };
}
