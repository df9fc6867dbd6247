/**
 * Error analysis of one model on one or more datasets: the evaluation (per-label P/R/F1), the
 * confusion matrix, the NER error taxonomy, per-slice scores with lagging slices flagged, howlers,
 * suspected label noise and — reported apart from model errors — bug checks that reveal
 * implementation problems. {@link analyzeModel} is pure (model + examples in, plain JSON out);
 * {@link aggregateAnalyses} puts several datasets side by side with their mean; the store-facing
 * helpers load what `sapphire analyze` needs and record the analysis as a run of kind `analyze`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, NotFoundError, SapphireError } from '../core/errors.ts';
import type { SliceDefinition } from '../data/slices.ts';
import type { Example, TaskKind } from '../data/types.ts';
import { type EvaluationReport, evaluatePredictions, primaryMetricNames } from '../metrics/evaluate.ts';
import { loadModel, type Model, type Prediction, predictMany } from '../models/index.ts';
import { collectProvenance } from '../store/provenance.ts';
import { MODEL_PREFIX, materializeModel } from '../store/run-artifacts.ts';
import type { DatasetVersion, Run, Store } from '../store/store.ts';
import { TRAINING_RECORD } from '../train/train.ts';
import { type BugCheck, inputOf, runBugChecks, seedDeterminismCheck } from './bug-checks.ts';
import { type ConfusionMatrix, confusionMatrix } from './confusion.ts';
import { NER_ERROR_KINDS, type NerError, type NerErrorKind, nerErrorTaxonomy } from './error-taxonomy.ts';
import { findHowlers, type Howler } from './howlers.ts';
import { DEFAULT_NOISE_THRESHOLD, type LabelNoiseSuspect, suspectLabelNoise } from './label-noise.ts';
import { type SliceMetrics, sliceMetrics } from './slice-metrics.ts';

/** A step of {@link analyzeModel}, reported as it starts (predictions also as they progress). */
export interface AnalysisProgress {
  step:
    | 'predict'
    | 'evaluate'
    | 'taxonomy'
    | 'slices'
    | 'howlers'
    | 'label-noise'
    | 'bug-checks'
    | 'seed-check';
  /** Examples predicted so far (step `predict`). */
  done?: number;
  total?: number;
}

/** A seed-determinism check to run with the bug checks: two fits with the same seed must predict alike. */
export interface SeedCheckOptions {
  /** Creates a fresh, untrained model of the analysed architecture and settings. */
  create: () => Model;
  /** Training examples (a seeded sample of them is used). */
  train: readonly Example[];
  seed: number;
}

/** Options for {@link analyzeModel}. */
export interface AnalyzeOptions {
  /** A fitted model. */
  model: Model;
  task: TaskKind;
  /** The project's label set. */
  labels?: readonly string[];
  /** The metric slices are compared on (the problem card's primary metric). */
  primary: string;
  /** The gold examples analysed. */
  examples: readonly Example[];
  /** The model's training examples: label rarity and unseen entities come from them. */
  train?: readonly Example[];
  /** Declared slices (the problem card's `slices`). */
  slices?: readonly SliceDefinition[];
  /** Predictions already made on `examples` (same order); by default the model predicts them. */
  predictions?: readonly Prediction[];
  /** Predictions of other models, seeds or folds on `examples`, which label-noise suspects must agree with. */
  extraPredictionSets?: readonly (readonly Prediction[])[];
  /** Most howlers listed (default 20). */
  howlerLimit?: number;
  /** Errors of each taxonomy kind kept as examples (default 10). */
  examplesPerKind?: number;
  /** Least confidence of a disagreement that counts as label noise (default 0.9). */
  noiseThreshold?: number;
  /** Most label-noise suspects listed (default 20). */
  noiseLimit?: number;
  /** Examples the bug checks run on (default 200). */
  bugSample?: number;
  /** Also check that training twice with one seed gives the same model. */
  seedCheck?: SeedCheckOptions;
  /** Slices with fewer examples are never flagged (default 20). */
  minSliceExamples?: number;
  /** How far below the overall score a slice must fall to be flagged (default 0.05). */
  lagThreshold?: number;
  /** Examples predicted per batch (default 256). */
  batchSize?: number;
  onProgress?: (event: AnalysisProgress) => void;
}

/** The NER error taxonomy of an analysis: counts of every kind and the first errors of each. */
export interface TaxonomySummary {
  counts: Record<NerErrorKind, number>;
  truePositives: number;
  /** Predicted entities without an exact gold match: spurious + wrong type/boundary. */
  falsePositives: number;
  /** Gold entities without an exact predicted match: missed + wrong type/boundary. */
  falseNegatives: number;
  /** The first errors of each kind, in example order. */
  examples: Record<NerErrorKind, NerError[]>;
}

/** Everything {@link analyzeModel} found, as plain JSON. */
export interface AnalysisReport {
  task: TaskKind;
  /** The model's architecture name. */
  model: string;
  examples: number;
  primary: { metric: string; value: number };
  evaluation: EvaluationReport;
  confusion: ConfusionMatrix;
  /** NER only. */
  taxonomy: TaxonomySummary | null;
  slices: SliceMetrics & { lagThreshold: number; minExamples: number };
  howlers: Howler[];
  labelNoise: {
    threshold: number;
    predictionSets: number;
    /** Every suspect found (the list may be cut). */
    total: number;
    suspects: LabelNoiseSuspect[];
  };
  /** Implementation bugs, apart from model errors. */
  bugs: { failed: number; checks: BugCheck[] };
}

const DEFAULT_HOWLERS = 20;
const DEFAULT_EXAMPLES_PER_KIND = 10;
const DEFAULT_NOISE_LIMIT = 20;
const DEFAULT_BATCH = 256;
const DEFAULT_MIN_SLICE = 20;
const DEFAULT_LAG = 0.05;

async function predictInBatches(options: AnalyzeOptions): Promise<Prediction[]> {
  const { model, examples, onProgress } = options;
  const size = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
  const out: Prediction[] = [];
  onProgress?.({ step: 'predict', done: 0, total: examples.length });
  for (let i = 0; i < examples.length; i += size) {
    out.push(...(await predictMany(model, examples.slice(i, i + size).map(inputOf))));
    onProgress?.({ step: 'predict', done: Math.min(examples.length, i + size), total: examples.length });
  }
  return out;
}

function taxonomySummary(
  examples: readonly Example[],
  predictions: readonly Prediction[],
  perKind: number,
): TaxonomySummary {
  const taxonomy = nerErrorTaxonomy(examples, predictions);
  const kept = Object.fromEntries(NER_ERROR_KINDS.map((k) => [k, [] as NerError[]])) as Record<
    NerErrorKind,
    NerError[]
  >;
  for (const error of taxonomy.errors) if (kept[error.kind].length < perKind) kept[error.kind].push(error);
  return {
    counts: taxonomy.counts,
    truePositives: taxonomy.truePositives,
    falsePositives: taxonomy.falsePositives,
    falseNegatives: taxonomy.falseNegatives,
    examples: kept,
  };
}

/**
 * Analyses a fitted model on gold examples: evaluation, confusion, taxonomy (NER), slices, howlers,
 * label-noise suspects and bug checks (the bug checks and the optional seed check are reported apart).
 *
 * @example
 * const report = await analyzeModel({ model, task: 'ner', labels: card.labels, primary: 'span_f1_micro',
 *   examples: dev, train, slices: card.slices });
 * report.taxonomy?.counts.missed; // gold entities the model did not find at all
 * report.bugs.failed; // 0 when no implementation bug was found
 */
export async function analyzeModel(options: AnalyzeOptions): Promise<AnalysisReport> {
  const { model, task, examples, onProgress } = options;
  if (examples.length === 0) {
    throw new SapphireError('BAD_INPUT', 'no examples to analyse', {
      hint: 'pass a dataset split that has examples',
    });
  }
  const labels = options.labels && options.labels.length > 0 ? options.labels : undefined;
  const predictions = options.predictions ? [...options.predictions] : await predictInBatches(options);

  onProgress?.({ step: 'evaluate' });
  const evaluation = evaluatePredictions(task, examples, predictions, labels ? { labels } : {});
  const value = evaluation.metrics[options.primary];
  if (value === undefined) {
    throw new ConfigError(`metric "${options.primary}" is not reported for task ${task}`, {
      path: 'metrics.primary',
      hint: `use one of ${primaryMetricNames(task).join(', ')}`,
    });
  }
  const confusion = confusionMatrix(task, examples, predictions, labels);

  onProgress?.({ step: 'taxonomy' });
  const taxonomy =
    task === 'ner'
      ? taxonomySummary(examples, predictions, options.examplesPerKind ?? DEFAULT_EXAMPLES_PER_KIND)
      : null;

  onProgress?.({ step: 'slices' });
  const minExamples = options.minSliceExamples ?? DEFAULT_MIN_SLICE;
  const lagThreshold = options.lagThreshold ?? DEFAULT_LAG;
  const slices = sliceMetrics(task, examples, predictions, {
    primary: options.primary,
    ...(labels ? { labels } : {}),
    ...(options.slices ? { slices: options.slices } : {}),
    ...(options.train ? { train: options.train } : {}),
    minExamples,
    lagThreshold,
  });

  onProgress?.({ step: 'howlers' });
  const howlers = findHowlers(task, examples, predictions, { limit: options.howlerLimit ?? DEFAULT_HOWLERS });

  onProgress?.({ step: 'label-noise' });
  const threshold = options.noiseThreshold ?? DEFAULT_NOISE_THRESHOLD;
  const sets = [predictions, ...(options.extraPredictionSets ?? [])];
  const suspects = suspectLabelNoise(task, examples, sets, { threshold });

  onProgress?.({ step: 'bug-checks' });
  const checks = await runBugChecks(model, examples, {
    task,
    ...(labels ? { labels } : {}),
    ...(options.bugSample !== undefined ? { sample: options.bugSample } : {}),
  });
  if (options.seedCheck) {
    onProgress?.({ step: 'seed-check' });
    const { create, train, seed } = options.seedCheck;
    checks.push(await seedDeterminismCheck(create, train, examples, seed));
  }

  return {
    task,
    model: model.name,
    examples: examples.length,
    primary: { metric: options.primary, value },
    evaluation,
    confusion,
    taxonomy,
    slices: { ...slices, lagThreshold, minExamples },
    howlers,
    labelNoise: {
      threshold,
      predictionSets: sets.length,
      total: suspects.length,
      suspects: suspects.slice(0, options.noiseLimit ?? DEFAULT_NOISE_LIMIT),
    },
    bugs: { failed: checks.filter((c) => !c.passed).length, checks },
  };
}

/** One analysed dataset (split) of a {@link ModelAnalysis}. */
export interface DatasetAnalysis {
  /** How the dataset is named in tables and metric keys: `name` or `name:split`. */
  name: string;
  /** The dataset version id. */
  version: string;
  split: string | null;
  report: AnalysisReport;
}

/** Several datasets side by side: one row of values per dataset and their mean. */
export interface AnalysisAggregate {
  /** The primary metric. */
  primary: string;
  /** Value names in display order: examples, the task's metrics, error counts, lagging slices, bugs. */
  columns: string[];
  rows: { dataset: string; values: Record<string, number> }[];
  /** Mean of every column over the datasets. */
  mean: Record<string, number>;
}

/** What the model analysed is and where it came from. */
export interface AnalysedModel {
  /** Architecture name, e.g. `crf.v1`. */
  name: string;
  /** The model folder analysed, when one was given. */
  dir: string | null;
  /** The training run the model comes from, when known. */
  run: string | null;
}

/** A model's analysis on one or more datasets, with the aggregate view when there are several. */
export interface ModelAnalysis {
  model: AnalysedModel;
  task: TaskKind;
  primary: string;
  datasets: DatasetAnalysis[];
  aggregate: AnalysisAggregate | null;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** The key counts of one report, by column name. */
function keyValues(report: AnalysisReport): Record<string, number> {
  const values: Record<string, number> = { examples: report.examples };
  for (const name of primaryMetricNames(report.task)) {
    const v = report.evaluation.metrics[name];
    if (v !== undefined) values[name] = v;
  }
  values.false_positives = sum(report.evaluation.perLabel.map((l) => l.fp));
  values.false_negatives = sum(report.evaluation.perLabel.map((l) => l.fn));
  if (report.taxonomy) for (const kind of NER_ERROR_KINDS) values[kind] = report.taxonomy.counts[kind];
  values.lagging_slices = report.slices.rows.filter((r) => r.lagging).length;
  values.label_noise = report.labelNoise.total;
  values.bugs_failed = report.bugs.failed;
  return values;
}

/**
 * Puts the analyses of several datasets side by side (e.g. the CrossNER domains): per dataset the
 * primary metric, the task's other metrics and the key error counts, plus the mean of each.
 *
 * @example
 * const agg = aggregateAnalyses([{ dataset: 'music:test', report: a }, { dataset: 'science:test', report: b }]);
 * agg.mean.span_f1_micro; // the mean F1 over the two domains
 */
export function aggregateAnalyses(
  reports: readonly { dataset: string; report: AnalysisReport }[],
): AnalysisAggregate {
  if (reports.length === 0) {
    throw new SapphireError('BAD_INPUT', 'no analyses to aggregate', {
      hint: 'analyse at least one dataset',
    });
  }
  const first = reports[0]!.report;
  const mixed = reports.find((r) => r.report.task !== first.task);
  if (mixed) {
    throw new SapphireError(
      'BAD_INPUT',
      `cannot aggregate a ${mixed.report.task} analysis (${mixed.dataset}) with ${first.task} analyses`,
      { hint: 'aggregate analyses of one task' },
    );
  }
  const primary = first.primary.metric;
  const rows = reports.map(({ dataset, report }) => ({ dataset, values: keyValues(report) }));
  const seen = new Set(rows.flatMap((r) => Object.keys(r.values)));
  const metrics = primaryMetricNames(first.task);
  const order = ['examples', primary, ...metrics.filter((m) => m !== primary)];
  const columns = [...order.filter((c) => seen.has(c)), ...[...seen].filter((c) => !order.includes(c))];
  const mean = Object.fromEntries(
    columns.map((c) => {
      const present = rows.map((r) => r.values[c]).filter((v): v is number => v !== undefined);
      return [c, present.length ? sum(present) / present.length : Number.NaN];
    }),
  );
  return { primary, columns, rows, mean };
}

/** The metrics an `analyze` run records (see {@link recordAnalysis}). */
export function analysisMetrics(analysis: ModelAnalysis): Record<string, number> {
  const metrics: Record<string, number> = {};
  const put = (key: string, value: number | null | undefined) => {
    if (typeof value === 'number' && Number.isFinite(value)) metrics[key] = value;
  };
  const names = primaryMetricNames(analysis.task);
  const several = analysis.datasets.length > 1;
  const sliceValues = new Map<string, { score: number[]; delta: number[] }>();
  const failing = new Set<string>();
  const taxonomy: Partial<Record<NerErrorKind, number>> = {};
  for (const { name, report } of analysis.datasets) {
    for (const metric of names) put(`${name}.${metric}`, report.evaluation.metrics[metric]);
    if (report.taxonomy) {
      for (const kind of NER_ERROR_KINDS) {
        taxonomy[kind] = (taxonomy[kind] ?? 0) + report.taxonomy.counts[kind];
        if (several) put(`${name}.taxonomy.${kind}`, report.taxonomy.counts[kind]);
      }
    }
    for (const row of report.slices.rows) {
      if (row.score === null || row.delta === null) continue;
      const entry = sliceValues.get(row.name) ?? { score: [], delta: [] };
      entry.score.push(row.score);
      entry.delta.push(row.delta);
      sliceValues.set(row.name, entry);
      if (several) {
        put(`${name}.slice.${row.name}.score`, row.score);
        put(`${name}.slice.${row.name}.delta`, row.delta);
      }
    }
    for (const check of report.bugs.checks) if (!check.passed) failing.add(check.name);
  }
  if (analysis.aggregate) for (const metric of names) put(`mean.${metric}`, analysis.aggregate.mean[metric]);
  for (const kind of NER_ERROR_KINDS) put(`taxonomy.${kind}`, taxonomy[kind]);
  for (const [slice, { score, delta }] of sliceValues) {
    put(`slice.${slice}.score`, sum(score) / score.length);
    put(`slice.${slice}.delta`, sum(delta) / delta.length);
  }
  put(
    'slices.lagging',
    sum(analysis.datasets.map(({ report }) => report.slices.rows.filter((r) => r.lagging).length)),
  );
  put('label_noise.suspects', sum(analysis.datasets.map(({ report }) => report.labelNoise.total)));
  put('bugs.failed', failing.size);
  return metrics;
}

/** Name of the artifact holding the whole analysis as JSON. */
export const ANALYSIS_ARTIFACT = 'analysis/report.json';

/** Options for {@link recordAnalysis}. */
export interface RecordAnalysisOptions {
  analysis: ModelAnalysis;
  /** The analysed model's filled config (recorded with the run). */
  modelConfig?: Record<string, unknown>;
  projectDir: string;
  command?: string | null;
}

/**
 * Records an analysis as a finished run of kind `analyze`: config (model folder, source run, datasets),
 * metrics (`<dataset>.<metric>`, `taxonomy.<kind>`, `slice.<name>.score|delta`, `bugs.failed`, …; with
 * several datasets, slice scores are means and per-dataset values are prefixed) and the whole analysis as the
 * `analysis/report.json` artifact.
 *
 * @example
 * const run = await recordAnalysis(store, { analysis, projectDir: ctx.dir });
 * run.metrics['bugs.failed']; // 0
 */
export async function recordAnalysis(store: Store, options: RecordAnalysisOptions): Promise<Run> {
  const { analysis } = options;
  const names = analysis.datasets.map((d) => d.name);
  const run = await store.createRun({
    kind: 'analyze',
    name: `analyze ${analysis.model.name} on ${names.join(', ')}`,
    config: {
      model: { architecture: analysis.model.name, ...(options.modelConfig ?? {}) },
      modelDir: analysis.model.dir,
      sourceRun: analysis.model.run,
      primary: analysis.primary,
      datasets: analysis.datasets.map((d) => ({ name: d.name, dataset: d.version, split: d.split })),
    },
    datasetVersions: [...new Set(analysis.datasets.map((d) => d.version))],
    provenance: { ...collectProvenance(options.projectDir, options.command ?? null) },
  });
  try {
    const bytes = Buffer.from(`${JSON.stringify(analysis, null, 2)}\n`, 'utf8');
    await store.addRunArtifacts(run.id, [
      { name: ANALYSIS_ARTIFACT, hash: await store.putArtifact(bytes), size: bytes.length },
    ]);
    return await store.finishRun(run.id, { status: 'finished', metrics: analysisMetrics(analysis) });
  } catch (error) {
    await store
      .finishRun(run.id, { status: 'failed', error: error instanceof Error ? error.message : String(error) })
      .catch(() => undefined);
    throw error;
  }
}

/** Where a model's training data is: dataset version, training split and seed. */
export interface TrainingSource {
  dataset: string;
  split: string;
  seed: number | null;
}

/** A model loaded for analysis, with where it came from. */
export interface AnalysisTarget {
  model: Model;
  /** The model folder given, or null when the model was restored from a run. */
  dir: string | null;
  /** The training run, when known. */
  run: string | null;
  /** The data the model was trained on, when known. */
  training: TrainingSource | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function trainSplitOf(config: unknown): string {
  const data = isRecord(config) ? config.data : undefined;
  return isRecord(data) && typeof data.train === 'string' ? data.train : 'train';
}

function seedOf(config: unknown): number | null {
  return isRecord(config) && typeof config.seed === 'number' ? config.seed : null;
}

/**
 * Loads a saved model folder for analysis, with the training data its `training.json` names.
 *
 * @example
 * const target = await loadModelFolder('models/crf'); // target.training?.dataset === 'wnut17@…'
 */
export async function loadModelFolder(dir: string): Promise<AnalysisTarget> {
  const folder = resolve(dir);
  const model = await loadModel(folder);
  const record = await readFile(join(folder, TRAINING_RECORD), 'utf8')
    .then((text) => JSON.parse(text) as unknown)
    .catch(() => null);
  const run = isRecord(record) && typeof record.run === 'string' ? record.run : null;
  const dataset = isRecord(record) && typeof record.dataset === 'string' ? record.dataset : null;
  const config = isRecord(record) ? record.config : undefined;
  return {
    model,
    dir: folder,
    run,
    training: dataset ? { dataset, split: trainSplitOf(config), seed: seedOf(config) } : null,
  };
}

/**
 * Restores the model a run stored (an `evaluate` run stands for its training run) and loads it, with the
 * run's dataset version and training split.
 *
 * @example
 * const target = await loadRunModel(store, 'r-20240501120000-a1b2c3');
 */
export async function loadRunModel(store: Store, runId: string): Promise<AnalysisTarget> {
  let run = await store.getRun(runId);
  const hasModel = async (id: string) =>
    (await store.listRunArtifacts(id)).some((a) => a.name.startsWith(MODEL_PREFIX));
  if (!(await hasModel(run.id)) && typeof run.config.trainingRun === 'string') {
    run = await store.getRun(run.config.trainingRun);
  }
  const temp = await mkdtemp(join(tmpdir(), 'sapphire-analyze-'));
  try {
    await materializeModel(store, run.id, temp);
    const model = await loadModel(temp);
    const dataset = run.datasetVersions[0];
    return {
      model,
      dir: null,
      run: run.id,
      training: dataset ? { dataset, split: trainSplitOf(run.config), seed: run.seed } : null,
    };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * The training examples of a model, or null when its dataset version is not in this store.
 *
 * @example
 * const train = target.training ? await loadTrainingExamples(store, target.training) : null;
 */
export async function loadTrainingExamples(
  store: Store,
  training: TrainingSource,
): Promise<Example[] | null> {
  try {
    const examples = await store.loadExamples((await store.getDatasetVersion(training.dataset)).id);
    const picked = examples.filter((e) => e.split === training.split);
    return picked.length > 0 ? picked : null;
  } catch (error) {
    if (error instanceof NotFoundError || (error instanceof SapphireError && error.code === 'NOT_FOUND'))
      return null;
    throw error;
  }
}

/** A dataset split loaded for analysis. */
export interface AnalysisData {
  /** `name` or `name:split`. */
  name: string;
  version: DatasetVersion;
  split: string | null;
  examples: Example[];
}

/**
 * Loads the examples of `dataset[:split]` (a dataset name or version id, then an optional split).
 *
 * @example
 * const dev = await loadAnalysisData(store, 'wnut17:dev'); // dev.examples.length === 1009
 */
export async function loadAnalysisData(store: Store, arg: string): Promise<AnalysisData> {
  const i = arg.lastIndexOf(':');
  const ref = i > 0 ? arg.slice(0, i) : arg;
  const split = i > 0 ? arg.slice(i + 1) : null;
  const version = await store.getDatasetVersion(ref);
  const examples = (await store.loadExamples(version.id)).filter((e) => split === null || e.split === split);
  if (examples.length === 0) {
    throw new SapphireError(
      'NOT_FOUND',
      `${version.id} has no examples${split ? ` in split "${split}"` : ''}`,
      {
        hint: `its splits are: ${Object.keys(version.splitCounts).join(', ') || 'none'}; pass --data ${version.name}:<split>`,
      },
    );
  }
  return { name: split ? `${version.name}:${split}` : version.name, version, split, examples };
}
