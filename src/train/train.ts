import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { SapphireError } from '../core/errors.ts';
import type { ProblemCard } from '../core/project.ts';
import type { Example, TaskKind } from '../data/types.ts';
import { type EvaluationReport, evaluatePredictions } from '../metrics/evaluate.ts';
import { type Model, type Prediction, predictMany, type TrainProgress } from '../models/model.ts';
import { createModel } from '../models/registry.ts';
import { collectProvenance } from '../store/provenance.ts';
import { saveModelArtifacts, savePredictions } from '../store/run-artifacts.ts';
import type { DatasetVersion, MetricPoint, Run, Store } from '../store/store.ts';
import { buildReferenceProfile, saveReferenceProfile } from './reference-profile.ts';
import { modelSection, type TrainConfig } from './train-config.ts';

/** The file written beside a saved model describing how it was trained. */
export const TRAINING_RECORD = 'training.json';

/** Examples of a dataset version grouped by the splits a training config names. */
export interface TrainingData {
  version: DatasetVersion;
  train: Example[];
  dev: Example[];
  test: Example[];
}

/** Loads a dataset version and picks the train/dev/test splits a training config names, with clear errors. */
export async function loadTrainingData(store: Store, config: TrainConfig): Promise<TrainingData> {
  const version = await store.getDatasetVersion(config.data.dataset);
  const examples = await store.loadExamples(version.id);
  const pick = (split: string | null) => (split ? examples.filter((e) => e.split === split) : []);
  const train = pick(config.data.train);
  if (train.length === 0) {
    const known = Object.keys(version.splitCounts);
    throw new SapphireError('DATA_INVALID', `${version.id} has no examples in split "${config.data.train}"`, {
      path: 'data.train',
      hint:
        known.length === 0
          ? `the version has no splits: run \`sapphire data split ${version.name}\` first`
          : `its splits are: ${known.join(', ')}; set data.train to one of them`,
    });
  }
  return { version, train, dev: pick(config.data.dev), test: pick(config.data.test) };
}

/** Labels that examples carry for a task: entity types for NER, classes otherwise. */
export function labelsIn(examples: Example[], task: TaskKind): Set<string> {
  const labels = new Set<string>();
  for (const e of examples) {
    if (task === 'ner') for (const s of e.spans ?? []) labels.add(s.label);
    else for (const l of e.labels ?? []) labels.add(l);
  }
  return labels;
}

/** Refuses training data without labels, or with labels the project's label set does not have. */
export function checkTrainingLabels(train: Example[], card: ProblemCard, datasetId: string): void {
  const found = labelsIn(train, card.task);
  if (found.size === 0) {
    const what = card.task === 'ner' ? 'entity spans' : 'class labels';
    throw new SapphireError('DATA_INVALID', `the training split of ${datasetId} has no ${what}`, {
      hint: `the project's task is ${card.task}: import annotated data, or change task in sapphire.yaml`,
    });
  }
  if (card.labels.length === 0) return;
  const declared = new Set(card.labels);
  const unknown = [...found].filter((l) => !declared.has(l)).sort();
  if (unknown.length > 0) {
    const missing = card.labels.filter((l) => !found.has(l));
    throw new SapphireError(
      'DATA_INVALID',
      `${datasetId} uses labels the project does not declare: ${unknown.join(', ')}` +
        (missing.length ? ` (and never uses ${missing.join(', ')})` : ''),
      {
        path: 'labels',
        hint: 'add the labels to `labels` in sapphire.yaml, or train on a dataset of this project',
      },
    );
  }
}

/** Examples chosen by a study (a fold, a subsample) instead of the config's splits, recorded with the run. */
export interface DataSelection {
  /** JSON description that, with the config and dataset version, reproduces the choice (e.g. `{ kind: 'fold', k: 5, index: 2, seed: 13 }`). */
  describe: Record<string, unknown>;
  /** Picks the training examples, the dev examples (early stopping) and the named sets to evaluate on. */
  apply(data: TrainingData): { train: Example[]; dev: Example[]; evaluate: Record<string, Example[]> };
}

/** How {@link trainModel} records its run. */
export interface RunRecordOptions {
  /** Run kind: `train` (default), `trial`, `fold`, `curve-point`, `rung`. */
  kind?: string;
  /** The study run this run belongs to. */
  parentId?: string | null;
  /** Run name (default: the config's name or the architecture). */
  name?: string;
  /** Tags added to the config's tags. */
  tags?: string[];
  /** The command line that started the run. */
  command?: string | null;
  /** Extra provenance (a study member's key, the queue worker and job that ran it). */
  provenance?: Record<string, unknown>;
}

/** Options for {@link trainModel}. */
export interface TrainOptions {
  store: Store;
  card: ProblemCard;
  config: TrainConfig;
  /** Project folder; relative outputs are resolved against it. */
  projectDir: string;
  onProgress?: (event: TrainProgress) => void;
  /** Train and evaluate on examples a study chose instead of the config's splits. */
  selection?: DataSelection;
  record?: RunRecordOptions;
  /** Also write the model folder to `config.output` or `models/<run id>` (default true); the store always keeps a copy. */
  writeModelDir?: boolean;
  /** Also score the model on its own training examples, as `train.*` metrics (default true). */
  evaluateTrain?: boolean;
  /** Called once the run is recorded, before training starts. */
  onRunCreated?: (run: Run) => void;
  /** Extra JSON recorded in the run's config, e.g. a sweep trial's `{ trial: { index, values } }`. */
  annotations?: Record<string, unknown>;
}

/** What {@link trainModel} produced. */
export interface TrainResult {
  run: Run;
  model: Model;
  /** The model folder written to disk, or null with `writeModelDir: false`. */
  modelDir: string | null;
  dataset: DatasetVersion;
  dev: EvaluationReport | null;
  test: EvaluationReport | null;
  /** Every evaluated set by name (`train`, `dev`, `test`, `heldout`, …). */
  evaluations: Record<string, EvaluationReport>;
  seconds: number;
}

/** Prefixes every metric of a report for the run record (`dev.span_f1_micro`). */
function prefixed(prefix: string, report: EvaluationReport | null): Record<string, number> {
  if (!report) return {};
  return Object.fromEntries(Object.entries(report.metrics).map(([k, v]) => [`${prefix}.${k}`, v]));
}

/** Predicts a split and evaluates it, keeping the predictions (for the run's artifacts and significance tests). */
export async function predictAndEvaluate(
  model: Model,
  examples: Example[],
  task: TaskKind,
  labels?: string[],
): Promise<{ predictions: Prediction[]; report: EvaluationReport }> {
  const predictions = await predictMany(
    model,
    examples.map((e) => ({ text: e.text, tokens: e.tokens })),
  );
  return { predictions, report: evaluatePredictions(task, examples, predictions, { labels }) };
}

/** Buffers per-epoch metrics and writes them in batches, so logging never slows training down. */
class MetricBuffer {
  private points: MetricPoint[] = [];
  private lastFlush = performance.now();
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly runId: string,
  ) {}

  add(step: number, metrics: Record<string, number>): void {
    for (const [key, value] of Object.entries(metrics))
      if (Number.isFinite(value)) this.points.push({ key, step, value });
    if (this.points.length >= 1000 || performance.now() - this.lastFlush > 5000) void this.flush();
  }

  /** Writes what is buffered; resolves when every write so far is done (errors are kept for the last flush). */
  flush(): Promise<void> {
    const points = this.points;
    this.points = [];
    this.lastFlush = performance.now();
    if (points.length > 0)
      this.pending = this.pending.then(() => this.store.logMetricPoints(this.runId, points));
    return this.pending;
  }
}

/**
 * Trains a model from a filled training config, evaluates it on dev and test (or a study's selection), saves
 * it and records the run: filled config, dataset version, seed, provenance, per-epoch metrics, final metrics,
 * the model files and the predictions on every evaluated set as artifacts. A failure marks the run failed
 * with its error.
 *
 * @example
 * const result = await trainModel({ store, card, config, projectDir });
 */
export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const { store, card, config, record = {} } = options;
  const data = await loadTrainingData(store, config);
  const chosen = options.selection
    ? options.selection.apply(data)
    : { train: data.train, dev: data.dev, evaluate: { dev: data.dev, test: data.test } };
  checkTrainingLabels(chosen.train, card, data.version.id);
  const { architecture, settings } = modelSection(config);
  const model = createModel(architecture, { task: card.task, ...settings });
  const run = await store.createRun({
    kind: record.kind ?? 'train',
    name: record.name ?? config.name ?? architecture,
    config: {
      ...config,
      model: { architecture, ...model.config() },
      ...(options.selection ? { selection: options.selection.describe } : {}),
      ...options.annotations,
    },
    datasetVersions: [data.version.id],
    seed: config.seed,
    tags: [...new Set([...config.tags, ...(record.tags ?? [])])],
    parentId: record.parentId ?? null,
    provenance: { ...collectProvenance(options.projectDir, record.command ?? null), ...record.provenance },
  });
  const buffer = new MetricBuffer(store, run.id);
  const started = performance.now();
  try {
    options.onRunCreated?.(run);
    await model.fit(chosen.train, chosen.dev.length ? chosen.dev : undefined, {
      seed: config.seed,
      onProgress: (event) => {
        options.onProgress?.(event);
        const metrics: Record<string, number> = {};
        if (event.loss !== undefined) metrics.loss = event.loss;
        if (event.devScore !== undefined) metrics.dev_score = event.devScore;
        buffer.add(event.epoch, metrics);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    await buffer.flush();
    const labels = card.labels.length ? card.labels : undefined;
    const evaluations: Record<string, EvaluationReport> = {};
    let metrics: Record<string, number> = {};
    let trainPredictions: Prediction[] | undefined;
    if (options.evaluateTrain !== false) {
      const evaluated = await predictAndEvaluate(model, chosen.train, card.task, labels);
      trainPredictions = evaluated.predictions;
      evaluations.train = evaluated.report;
      metrics = { ...metrics, ...prefixed('train', evaluations.train) };
    }
    const predicted: Record<string, { examples: Example[]; predictions: Prediction[] }> = {};
    for (const [name, examples] of Object.entries(chosen.evaluate)) {
      if (examples.length === 0) continue;
      const { predictions, report } = await predictAndEvaluate(model, examples, card.task, labels);
      predicted[name] = { examples, predictions };
      evaluations[name] = report;
      metrics = { ...metrics, ...prefixed(name, report) };
      await savePredictions(store, run.id, name, examples, predictions);
    }
    let modelDir: string | null = null;
    const target =
      options.writeModelDir === false
        ? await mkdtemp(join(tmpdir(), 'sapphire-model-'))
        : resolveOutput(options, run.id);
    try {
      await rm(target, { recursive: true, force: true });
      await mkdir(target, { recursive: true });
      await model.save(target);
      await saveReferenceProfile(
        target,
        referenceProfileOf(model, card.task, chosen.train, predicted, trainPredictions),
      );
      await writeFile(
        join(target, TRAINING_RECORD),
        `${JSON.stringify(
          {
            run: run.id,
            dataset: data.version.id,
            config,
            ...(options.selection ? { selection: options.selection.describe } : {}),
            seconds,
            dev: evaluations.dev?.metrics ?? null,
            test: evaluations.test?.metrics ?? null,
          },
          null,
          2,
        )}\n`,
      );
      await saveModelArtifacts(store, run.id, target);
      if (options.writeModelDir !== false) modelDir = target;
    } finally {
      if (options.writeModelDir === false) await rm(target, { recursive: true, force: true });
    }
    const finished = await store.finishRun(run.id, {
      status: 'finished',
      metrics: { ...metrics, train_seconds: seconds },
    });
    return {
      run: finished,
      model,
      modelDir,
      dataset: data.version,
      dev: evaluations.dev ?? null,
      test: evaluations.test ?? null,
      evaluations,
      seconds,
    };
  } catch (error) {
    await buffer.flush().catch(() => undefined);
    await store
      .finishRun(run.id, { status: 'failed', error: error instanceof Error ? error.message : String(error) })
      .catch(() => undefined);
    throw error;
  }
}

/**
 * The reference profile of a freshly trained model (every architecture): predictions on dev (else test, else the
 * training set — predicted here when `evaluateTrain` was off) against the training data.
 */
function referenceProfileOf(
  model: Model,
  task: TaskKind,
  train: Example[],
  predicted: Record<string, { examples: Example[]; predictions: Prediction[] }>,
  trainPredictions: Prediction[] | undefined,
) {
  const name = ['dev', 'test', ...Object.keys(predicted)].find((n) => predicted[n]);
  const held = name ? predicted[name] : undefined;
  return buildReferenceProfile({
    task,
    architecture: model.name,
    train,
    reference: held && name ? { name, ...held } : null,
    trainPredictions: held
      ? []
      : (trainPredictions ?? model.predict(train.map((e) => ({ text: e.text, tokens: e.tokens })))),
  });
}

/** The folder a trained model is written to: the config's `output`, else `models/<run id>`, inside the project. */
function resolveOutput(options: TrainOptions, runId: string): string {
  const output = options.config.output ?? join('models', runId);
  return isAbsolute(output) ? output : resolve(options.projectDir, output);
}

/** Options for {@link recordEvaluation}. */
export interface RecordEvaluationOptions {
  store: Store;
  card: ProblemCard;
  model: Model;
  /** The model folder evaluated (recorded with the run). */
  modelDir: string;
  dataset: DatasetVersion;
  examples: Example[];
  /** The split evaluated, or null for every example of the version. */
  split: string | null;
  projectDir: string;
  command?: string | null;
}

/**
 * Evaluates a saved model on a dataset split and records it as an `evaluate` run: the model's config and folder,
 * the training run it came from, the dataset version and split, the metrics (`<split>.<metric>`), the throughput
 * and the predictions as an artifact, so evaluations can be listed, compared and tested for significance.
 *
 * @example
 * const { run, report } = await recordEvaluation({ store, card, model, modelDir, dataset, examples, split: 'test', projectDir });
 */
export async function recordEvaluation(
  options: RecordEvaluationOptions,
): Promise<{ run: Run; report: EvaluationReport; seconds: number }> {
  const { store, card, model, dataset, examples } = options;
  const set = options.split ?? 'all';
  const trainingRun = await readFile(join(options.modelDir, TRAINING_RECORD), 'utf8')
    .then((text) => (JSON.parse(text) as { run?: unknown }).run)
    .catch(() => null);
  const run = await store.createRun({
    kind: 'evaluate',
    name: `${model.name} on ${dataset.id}:${set}`,
    config: {
      model: { architecture: model.name, ...model.config() },
      modelDir: options.modelDir,
      trainingRun: typeof trainingRun === 'string' ? trainingRun : null,
      data: { dataset: dataset.id, split: options.split },
    },
    datasetVersions: [dataset.id],
    provenance: { ...collectProvenance(options.projectDir, options.command ?? null) },
  });
  try {
    const started = performance.now();
    const labels = card.labels.length ? card.labels : undefined;
    const { predictions, report } = await predictAndEvaluate(model, examples, model.task, labels);
    const seconds = (performance.now() - started) / 1000;
    await savePredictions(store, run.id, set, examples, predictions);
    const finished = await store.finishRun(run.id, {
      status: 'finished',
      metrics: {
        ...prefixed(set, report),
        predict_seconds: seconds,
        examples_per_second: examples.length / seconds,
      },
    });
    return { run: finished, report, seconds };
  } catch (error) {
    await store
      .finishRun(run.id, { status: 'failed', error: error instanceof Error ? error.message : String(error) })
      .catch(() => undefined);
    throw error;
  }
}
