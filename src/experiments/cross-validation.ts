import { SapphireError } from '../core/errors.ts';
import type { Run } from '../store/store.ts';
import type { TrainConfig } from '../train/train-config.ts';
import type { JobResult, TrainJob } from './jobs.ts';
import type { SearchDimension, TrialPoint } from './search-space.ts';
import type { FoldCut } from './selection.ts';
import {
  createStudyRun,
  failStudy,
  finishStudyRun,
  type StudyOptions,
  studyMetric,
  withOverrides,
} from './study.ts';
import { type Summary, summarize } from './summary.ts';
import { bestTrial, searchPoints, trialName } from './sweep.ts';
import { runJobs } from './worker-pool.ts';

/** How the data is folded. */
export interface FoldSpec {
  k: number;
  repeats: number;
  stratify: boolean;
  seed: number;
  /** Splits pooled before folding (default: the config's train split). */
  pool: string[];
}

/** What {@link runCrossValidation} measured. */
export interface CrossValidationResult {
  study: Run;
  folds: { repeat: number; index: number; result: JobResult }[];
  /** Mean ± std over folds of every held-out metric (`heldout.macro_f1`, …). */
  summary: Record<string, Summary>;
  metric: string;
}

function checkFoldSpec(spec: FoldSpec, inner?: number): void {
  if (!Number.isInteger(spec.k) || spec.k < 2)
    throw new SapphireError('BAD_INPUT', `--folds ${spec.k} must be a whole number ≥ 2`, {
      hint: 'e.g. --folds 5',
    });
  if (!Number.isInteger(spec.repeats) || spec.repeats < 1)
    throw new SapphireError('BAD_INPUT', `--repeats ${spec.repeats} must be a whole number ≥ 1`, {
      hint: 'e.g. --repeats 3',
    });
  if (inner !== undefined && (!Number.isInteger(inner) || inner < 2))
    throw new SapphireError('BAD_INPUT', `--nested ${inner} must be a whole number ≥ 2`, {
      hint: 'e.g. --nested 3',
    });
}

function foldCut(spec: FoldSpec, repeat: number, index: number): FoldCut {
  return { k: spec.k, index, repeat, seed: spec.seed, stratify: spec.stratify };
}

/** Mean ± std over finished runs of every metric that starts with `prefix`. */
export function summarizeMetrics(results: JobResult[], prefix: string): Record<string, Summary> {
  const values = new Map<string, number[]>();
  for (const result of results) {
    if (result.status !== 'finished') continue;
    for (const [key, value] of Object.entries(result.metrics)) {
      if (!key.startsWith(prefix)) continue;
      values.set(key, [...(values.get(key) ?? []), value]);
    }
  }
  return Object.fromEntries([...values].map(([key, list]) => [key, summarize(list)]));
}

function summaryMetrics(summary: Record<string, Summary>): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const [key, s] of Object.entries(summary)) {
    metrics[key] = s.mean;
    metrics[`${key}.std`] = s.std;
  }
  return metrics;
}

/**
 * k-fold cross-validation (optionally stratified and repeated) of a training config: each fold trains on the
 * rest of the pool and is scored on the held-out fold; the study records per-fold runs and mean ± std.
 *
 * @example
 * const cv = await runCrossValidation(config, { k: 5, repeats: 1, stratify: true, seed: 13, pool: [] }, options);
 */
export async function runCrossValidation(
  config: TrainConfig,
  spec: FoldSpec,
  options: StudyOptions,
): Promise<CrossValidationResult> {
  checkFoldSpec(spec);
  const version = await options.store.getDatasetVersion(config.data.dataset);
  const metric = studyMetric('heldout', options.context);
  const study = await createStudyRun(
    options,
    'cv',
    { ...config, study: { kind: 'cv', ...spec, metric } },
    [version.id],
    spec.seed,
  );
  try {
    const cells: { repeat: number; index: number }[] = [];
    for (let repeat = 0; repeat < spec.repeats; repeat++)
      for (let index = 0; index < spec.k; index++) cells.push({ repeat, index });
    const jobs: TrainJob[] = cells.map(({ repeat, index }) => ({
      id: `fold-${repeat + 1}.${index + 1}`,
      config,
      selection: { kind: 'fold', pool: spec.pool, ...foldCut(spec, repeat, index) },
      record: {
        kind: 'fold',
        parentId: study.id,
        name: `fold ${index + 1}/${spec.k}${spec.repeats > 1 ? ` repeat ${repeat + 1}` : ''}`,
        command: options.command ?? null,
      },
    }));
    const results = await (options.runner ?? runJobs)(jobs, options);
    const summary = summarizeMetrics(results, 'heldout.');
    const folds = cells.map((cell, i) => ({ ...cell, result: results[i] as JobResult }));
    const finished = await finishStudyRun(options, study, results, summaryMetrics(summary), {
      metric,
      summary,
      folds: folds.map((f) => ({
        repeat: f.repeat,
        index: f.index,
        run: f.result.runId,
        status: f.result.status,
        score: f.result.metrics[metric] ?? null,
        error: f.result.error,
      })),
    });
    return { study: finished, folds, summary, metric };
  } catch (error) {
    return failStudy(options.store, study, error);
  }
}

/** One outer fold of a nested cross-validation: the settings the inner loop chose and the outer score. */
export interface OuterFold {
  repeat: number;
  index: number;
  /** Mean inner held-out score of every candidate, in search order. */
  candidates: { point: TrialPoint; score: number | null }[];
  chosen: TrialPoint | null;
  result: JobResult | null;
}

/** An outer fold as plain JSON: the choice, every candidate's inner score, the outer run and score. */
export function outerFoldJson(fold: OuterFold, metric: string) {
  return {
    repeat: fold.repeat,
    index: fold.index,
    chosen: fold.chosen?.values ?? null,
    candidates: fold.candidates.map((c) => ({ values: c.point.values, score: c.score })),
    run: fold.result?.runId ?? null,
    score: fold.result?.metrics[metric] ?? null,
  };
}

/** What {@link runNestedCrossValidation} measured. */
export interface NestedCrossValidationResult {
  study: Run;
  outer: OuterFold[];
  /** The honest estimate: mean ± std over outer folds of the held-out metrics. */
  summary: Record<string, Summary>;
  /** The optimistic estimate a plain search would report: the best candidate's mean inner score, per outer fold. */
  innerBest: Summary | null;
  metric: string;
}

/**
 * Nested cross-validation: for every outer fold, an inner k-fold loop over the outer training part picks the
 * hyper-parameters (by mean inner held-out score), then a model with those settings is trained on the whole outer
 * training part and scored on the outer held-out fold. The outer scores estimate how well the whole procedure
 * (search included) generalises — the estimate plain cross-validation after a search overstates.
 *
 * @example
 * await runNestedCrossValidation(config, folds, 3, [parseGridSpec('model.c=[0.1,1,10]')], options);
 */
export async function runNestedCrossValidation(
  config: TrainConfig,
  spec: FoldSpec,
  innerK: number,
  dimensions: SearchDimension[],
  options: StudyOptions,
): Promise<NestedCrossValidationResult> {
  checkFoldSpec(spec, innerK);
  const points = searchPoints({ mode: 'grid', dimensions });
  const configs = points.map((p) =>
    withOverrides(config, p.overrides, `candidate ${p.index + 1} (${p.overrides.join(' ')})`),
  );
  const version = await options.store.getDatasetVersion(config.data.dataset);
  const metric = studyMetric('heldout', options.context);
  const study = await createStudyRun(
    options,
    'nested-cv',
    { ...config, study: { kind: 'nested-cv', ...spec, inner: innerK, dimensions, metric } },
    [version.id],
    spec.seed,
  );
  try {
    const outerCells: { repeat: number; index: number }[] = [];
    for (let repeat = 0; repeat < spec.repeats; repeat++)
      for (let index = 0; index < spec.k; index++) outerCells.push({ repeat, index });
    // Phase 1: every candidate on every inner fold of every outer fold.
    const innerJobs: TrainJob[] = [];
    for (const cell of outerCells) {
      for (const [c, point] of points.entries()) {
        for (let inner = 0; inner < innerK; inner++) {
          innerJobs.push({
            id: `outer-${cell.repeat + 1}.${cell.index + 1}/candidate-${c + 1}/inner-${inner + 1}`,
            config: configs[c] as TrainConfig,
            selection: {
              kind: 'fold',
              pool: spec.pool,
              ...foldCut(spec, cell.repeat, cell.index),
              inner: { k: innerK, index: inner, repeat: 0, seed: spec.seed, stratify: spec.stratify },
            },
            record: {
              kind: 'inner-fold',
              parentId: study.id,
              name: `outer ${cell.index + 1} · ${trialName(point)} · inner ${inner + 1}`,
              command: options.command ?? null,
            },
            annotations: { trial: { index: point.index, values: point.values }, outer: cell },
          });
        }
      }
    }
    const innerResults = await (options.runner ?? runJobs)(innerJobs, options);
    const perCell = innerK * points.length;
    const outer: OuterFold[] = outerCells.map((cell, o) => {
      const candidates = points.map((point, c) => {
        const scores = innerResults
          .slice(o * perCell + c * innerK, o * perCell + (c + 1) * innerK)
          .map((r) => (r.status === 'finished' ? r.metrics[metric] : undefined))
          .filter((v): v is number => v !== undefined);
        return { point, score: scores.length === innerK ? summarize(scores).mean : null };
      });
      return { ...cell, candidates, chosen: bestTrial(candidates)?.point ?? null, result: null };
    });
    // Phase 2: the chosen settings on the whole outer training part, scored on the outer held-out fold.
    const outerJobs: TrainJob[] = [];
    for (const fold of outer) {
      if (!fold.chosen) continue;
      outerJobs.push({
        id: `outer-${fold.repeat + 1}.${fold.index + 1}`,
        config: configs[fold.chosen.index] as TrainConfig,
        selection: { kind: 'fold', pool: spec.pool, ...foldCut(spec, fold.repeat, fold.index) },
        record: {
          kind: 'fold',
          parentId: study.id,
          name: `outer ${fold.index + 1}/${spec.k} · ${trialName(fold.chosen)}`,
          command: options.command ?? null,
        },
        annotations: { trial: { index: fold.chosen.index, values: fold.chosen.values } },
      });
    }
    const outerResults = await (options.runner ?? runJobs)(outerJobs, options);
    for (const result of outerResults) {
      const fold = outer.find((f) => `outer-${f.repeat + 1}.${f.index + 1}` === result.jobId);
      if (fold) fold.result = result;
    }
    const summary = summarizeMetrics(outerResults, 'heldout.');
    const innerScores = outer
      .map((f) => bestTrial(f.candidates)?.score)
      .filter((v): v is number => typeof v === 'number');
    const innerBest = innerScores.length ? summarize(innerScores) : null;
    const metrics = summaryMetrics(summary);
    if (innerBest) metrics[`inner_best.${metric}`] = innerBest.mean;
    const finished = await finishStudyRun(options, study, [...innerResults, ...outerResults], metrics, {
      metric,
      summary,
      innerBest,
      outer: outer.map((f) => outerFoldJson(f, metric)),
    });
    return { study: finished, outer, summary, innerBest, metric };
  } catch (error) {
    return failStudy(options.store, study, error);
  }
}
