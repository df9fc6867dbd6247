import { mkdir, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { SapphireError } from '../core/errors.ts';
import type { ProblemCard } from '../core/project.ts';
import type { Example, TaskKind } from '../data/types.ts';
import { type EvaluationReport, evaluatePredictions } from '../metrics/evaluate.ts';
import type { Model, TrainProgress } from '../models/model.ts';
import { createModel } from '../models/registry.ts';
import type { DatasetVersion, Run, Store } from '../store/store.ts';
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

/** Options for {@link trainModel}. */
export interface TrainOptions {
  store: Store;
  card: ProblemCard;
  config: TrainConfig;
  /** Project folder; relative outputs are resolved against it. */
  projectDir: string;
  onProgress?: (event: TrainProgress) => void;
}

/** What {@link trainModel} produced. */
export interface TrainResult {
  run: Run;
  model: Model;
  modelDir: string;
  dataset: DatasetVersion;
  dev: EvaluationReport | null;
  test: EvaluationReport | null;
  seconds: number;
}

/** Prefixes every metric of a report for the run record (`dev.span_f1_micro`). */
function prefixed(prefix: string, report: EvaluationReport | null): Record<string, number> {
  if (!report) return {};
  return Object.fromEntries(Object.entries(report.metrics).map(([k, v]) => [`${prefix}.${k}`, v]));
}

/** Predicts a split and evaluates it against its gold annotations. */
export function evaluateModel(
  model: Model,
  examples: Example[],
  task: TaskKind,
  labels?: string[],
): EvaluationReport {
  const predictions = model.predict(examples.map((e) => ({ text: e.text, tokens: e.tokens })));
  return evaluatePredictions(task, examples, predictions, { labels });
}

/**
 * Trains a model from a filled training config, evaluates it on dev and test, saves it and records the run.
 *
 * @example
 * const result = await trainModel({ store, card, config, projectDir });
 */
export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const { store, card, config } = options;
  const data = await loadTrainingData(store, config);
  checkTrainingLabels(data.train, card, data.version.id);
  const { architecture, settings } = modelSection(config);
  const model = createModel(architecture, { task: card.task, ...settings });
  const run = await store.createRun({
    kind: 'train',
    name: config.name ?? architecture,
    config: { ...config, model: { architecture, ...model.config() } },
    datasetVersions: [data.version.id],
    seed: config.seed,
    tags: config.tags,
  });
  const started = performance.now();
  try {
    await model.fit(data.train, data.dev.length ? data.dev : undefined, {
      seed: config.seed,
      onProgress: (event) => {
        options.onProgress?.(event);
        const metrics: Record<string, number> = {};
        if (event.loss !== undefined && Number.isFinite(event.loss)) metrics.loss = event.loss;
        if (event.devScore !== undefined && Number.isFinite(event.devScore))
          metrics.dev_score = event.devScore;
        if (Object.keys(metrics).length) void store.logMetrics(run.id, event.epoch, metrics).catch(() => {});
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const labels = card.labels.length ? card.labels : undefined;
    const dev = data.dev.length ? evaluateModel(model, data.dev, card.task, labels) : null;
    const test = data.test.length ? evaluateModel(model, data.test, card.task, labels) : null;
    const output = config.output ?? join('models', run.id);
    const modelDir = isAbsolute(output) ? output : resolve(options.projectDir, output);
    await rm(modelDir, { recursive: true, force: true });
    await mkdir(modelDir, { recursive: true });
    await model.save(modelDir);
    await writeFile(
      join(modelDir, TRAINING_RECORD),
      `${JSON.stringify(
        {
          run: run.id,
          dataset: data.version.id,
          config,
          seconds,
          dev: dev?.metrics ?? null,
          test: test?.metrics ?? null,
        },
        null,
        2,
      )}\n`,
    );
    const finished = await store.finishRun(run.id, {
      status: 'finished',
      metrics: { ...prefixed('dev', dev), ...prefixed('test', test), train_seconds: seconds },
    });
    return { run: finished, model, modelDir, dataset: data.version, dev, test, seconds };
  } catch (error) {
    await store.finishRun(run.id, {
      status: 'failed',
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
}
