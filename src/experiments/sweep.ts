import { join } from 'node:path';
import { materializeModel } from '../store/run-artifacts.ts';
import type { Run } from '../store/store.ts';
import type { TrainConfig } from '../train/train-config.ts';
import type { JobResult, TrainJob } from './jobs.ts';
import { expandGrid, type SearchDimension, sampleRandom, type TrialPoint } from './search-space.ts';
import {
  createStudyRun,
  failStudy,
  finishStudyRun,
  requireSplit,
  type StudyOptions,
  studyMetric,
  withOverrides,
} from './study.ts';
import { runJobs } from './worker-pool.ts';

/** A hyper-parameter search: every grid point, or `trials` random draws. */
export type SearchSpec =
  | { mode: 'grid'; dimensions: SearchDimension[] }
  | { mode: 'random'; dimensions: SearchDimension[]; trials: number; seed: number };

/** One trial of a sweep with its outcome. */
export interface SweepTrial {
  point: TrialPoint;
  result: JobResult;
  score: number | null;
}

/** What {@link runSweep} found. */
export interface SweepResult {
  study: Run;
  /** The metric trials are ranked by: `dev.<primary metric>`. */
  metric: string;
  trials: SweepTrial[];
  best: SweepTrial | null;
  /** Folder the best trial's model was written to. */
  bestModelDir: string | null;
}

/** The trial points of a search spec, in a stable order. */
export function searchPoints(search: SearchSpec): TrialPoint[] {
  return search.mode === 'grid'
    ? expandGrid(search.dimensions)
    : sampleRandom(search.dimensions, search.trials, search.seed);
}

/**
 * Runs a hyper-parameter sweep over a base training config in parallel local workers, ranks the trials by the
 * project's primary metric on dev, writes the best trial's model to `models/<study id>` and records the study.
 * A trial that fails is recorded as failed with its error; the others still run.
 *
 * @example
 * const sweep = await runSweep(base, { mode: 'grid', dimensions: [parseGridSpec('model.c2=[0.01,0.1,1]')] }, options);
 */
export async function runSweep(
  base: TrainConfig,
  search: SearchSpec,
  options: StudyOptions,
): Promise<SweepResult> {
  const points = searchPoints(search);
  const configs = points.map((p) =>
    withOverrides(base, p.overrides, `trial ${p.index + 1} (${p.overrides.join(' ')})`),
  );
  const version = await options.store.getDatasetVersion(base.data.dataset);
  requireSplit(version.splitCounts, base.data.dev, version.id, 'a sweep ranks its trials on');
  const metric = studyMetric('dev', options.context);
  const study = await createStudyRun(
    options,
    'sweep',
    { ...base, study: { kind: 'sweep', ...search, metric, trials: points.length } },
    [version.id],
    base.seed,
  );
  try {
    const jobs: TrainJob[] = points.map((point, i) => ({
      id: `trial-${point.index + 1}`,
      config: configs[i] as TrainConfig,
      record: { kind: 'trial', parentId: study.id, name: trialName(point), command: options.command ?? null },
      annotations: { trial: { index: point.index, values: point.values } },
    }));
    const results = await (options.runner ?? runJobs)(jobs, { ...options, context: options.context });
    const trials = points.map((point, i) => {
      const result = results[i] as JobResult;
      return { point, result, score: result.status === 'finished' ? (result.metrics[metric] ?? null) : null };
    });
    const best = bestTrial(trials);
    let bestModelDir: string | null = null;
    if (best) {
      bestModelDir = join(options.context.projectDir, 'models', study.id);
      await materializeModel(options.store, best.result.runId, bestModelDir);
    }
    const summary = {
      metric,
      best: best
        ? { run: best.result.runId, values: best.point.values, score: best.score, modelDir: bestModelDir }
        : null,
      trials: trials.map((t) => ({
        run: t.result.runId,
        values: t.point.values,
        status: t.result.status,
        score: t.score,
        error: t.result.error,
      })),
    };
    const metrics: Record<string, number> = {};
    if (best) {
      for (const [key, value] of Object.entries(best.result.metrics)) metrics[`best.${key}`] = value;
    }
    const finished = await finishStudyRun(options, study, results, metrics, summary);
    return { study: finished, metric, trials, best, bestModelDir };
  } catch (error) {
    return failStudy(options.store, study, error);
  }
}

/** `model.c2=0.1 model.algorithm=svm`: a trial named by its values. */
export function trialName(point: TrialPoint): string {
  return point.overrides.join(' ') || 'base';
}

/** The finished trial with the highest score (the first on ties), or null when none finished with a score. */
export function bestTrial<T extends { score: number | null }>(trials: T[]): T | null {
  let best: T | null = null;
  for (const trial of trials) {
    if (trial.score === null) continue;
    if (!best || trial.score > (best.score as number)) best = trial;
  }
  return best;
}
