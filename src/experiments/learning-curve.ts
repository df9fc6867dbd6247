import { SapphireError } from '../core/errors.ts';
import type { Run } from '../store/store.ts';
import type { TrainConfig } from '../train/train-config.ts';
import type { JobResult, TrainJob } from './jobs.ts';
import { expandGrid, type SearchDimension, type TrialPoint } from './search-space.ts';
import {
  createStudyRun,
  failStudy,
  finishStudyRun,
  type StudyOptions,
  studyMetric,
  withOverrides,
} from './study.ts';
import { type Summary, summarize } from './summary.ts';
import { doublingEstimate, type TrendFit } from './trend.ts';
import { runJobs } from './worker-pool.ts';

/** What a learning curve measures. */
export interface CurveSpec {
  /** Fractions of the training split, each in (0, 1]. */
  fractions: number[];
  /** Seeds per fraction: each draws its own subsample and trains its own model. */
  seeds: number;
  stratify: boolean;
  /** Optional model-size axis: one curve per value (e.g. `model.hidden=[32,64]`). */
  vary?: SearchDimension | null;
}

/** One point of a learning curve: training size and the score over seeds. */
export interface CurvePointSummary {
  fraction: number;
  size: number;
  score: Summary | null;
  runs: string[];
}

/** One curve (one value of the model-size axis, or the only curve). */
export interface LearningCurve {
  /** The model-size setting of this curve (`{}` without `vary`). */
  values: Record<string, unknown>;
  points: CurvePointSummary[];
  /** The fitted trend and what doubling the largest training set would give (null with fewer than 2 sizes). */
  doubling: { size: number; predicted: number; gain: number; fit: Omit<TrendFit, 'predict'> } | null;
}

/** What {@link runLearningCurve} measured. */
export interface LearningCurveResult {
  study: Run;
  metric: string;
  curves: LearningCurve[];
}

function checkCurveSpec(spec: CurveSpec): void {
  if (spec.fractions.length === 0 || spec.fractions.some((f) => !(f > 0 && f <= 1))) {
    throw new SapphireError(
      'BAD_INPUT',
      `--fractions ${spec.fractions.join(',')} must be numbers in (0, 1]`,
      {
        hint: 'e.g. --fractions 0.1,0.25,0.5,1',
      },
    );
  }
  if (!Number.isInteger(spec.seeds) || spec.seeds < 1)
    throw new SapphireError('BAD_INPUT', `--seeds ${spec.seeds} must be a whole number ≥ 1`, {
      hint: 'e.g. --seeds 3',
    });
}

/**
 * A learning curve: trains on growing fractions of the training split (several seeds each), scores every model on
 * dev (or test when there is no dev split), fits a power-law trend and estimates what doubling the data would give.
 *
 * @example
 * const curve = await runLearningCurve(config, { fractions: [0.1, 0.25, 0.5, 1], seeds: 3, stratify: true }, options);
 */
export async function runLearningCurve(
  config: TrainConfig,
  spec: CurveSpec,
  options: StudyOptions,
): Promise<LearningCurveResult> {
  checkCurveSpec(spec);
  const version = await options.store.getDatasetVersion(config.data.dataset);
  const set = config.data.dev && (version.splitCounts[config.data.dev] ?? 0) > 0 ? 'dev' : 'test';
  const metric = studyMetric(set, options.context);
  const fractions = [...new Set(spec.fractions)].sort((a, b) => a - b);
  const variants: TrialPoint[] = spec.vary
    ? expandGrid([spec.vary])
    : [{ index: 0, values: {}, overrides: [] }];
  const configs = variants.map((v) => withOverrides(config, v.overrides, `curve ${v.overrides.join(' ')}`));
  const study = await createStudyRun(
    options,
    'curve',
    { ...config, study: { kind: 'curve', ...spec, fractions, metric } },
    [version.id],
    config.seed,
  );
  try {
    const cells: { variant: number; fraction: number; seed: number }[] = [];
    for (const [variant] of variants.entries())
      for (const fraction of fractions)
        for (let s = 0; s < spec.seeds; s++) cells.push({ variant, fraction, seed: config.seed + s });
    const jobs: TrainJob[] = cells.map((cell) => {
      const variant = variants[cell.variant] as TrialPoint;
      const label = `${Math.round(cell.fraction * 1000) / 10}%${variant.overrides.length ? ` ${variant.overrides.join(' ')}` : ''} seed ${cell.seed}`;
      return {
        id: `curve-${cell.variant + 1}/${cell.fraction}/${cell.seed}`,
        config: { ...(configs[cell.variant] as TrainConfig), seed: cell.seed },
        selection: { kind: 'subsample', fraction: cell.fraction, seed: cell.seed, stratify: spec.stratify },
        record: { kind: 'curve-point', parentId: study.id, name: label, command: options.command ?? null },
        annotations: variant.overrides.length
          ? { trial: { index: variant.index, values: variant.values } }
          : {},
      };
    });
    const results = await (options.runner ?? runJobs)(jobs, options);
    const sizes = new Map<string, number>();
    for (const result of results) {
      const run = await options.store.getRun(result.runId);
      const size = (run.config.selection as { size?: unknown } | undefined)?.size;
      if (typeof size === 'number') sizes.set(result.jobId, size);
    }
    const curves: LearningCurve[] = variants.map((variant, v) => {
      const points = fractions.map((fraction) => {
        const mine = cells
          .map((cell, i) => ({ cell, result: results[i] as JobResult }))
          .filter(({ cell }) => cell.variant === v && cell.fraction === fraction);
        const scores = mine
          .map(({ result }) => (result.status === 'finished' ? result.metrics[metric] : undefined))
          .filter((x): x is number => x !== undefined);
        const size = mine.map(({ result }) => sizes.get(result.jobId)).find((x) => x !== undefined) ?? 0;
        return {
          fraction,
          size,
          score: scores.length ? summarize(scores) : null,
          runs: mine.map(({ result }) => result.runId),
        };
      });
      const usable = points.filter((p) => p.score !== null && p.size > 0);
      let doubling: LearningCurve['doubling'] = null;
      if (new Set(usable.map((p) => p.size)).size >= 2) {
        const estimate = doublingEstimate(
          usable.map((p) => ({ size: p.size, score: (p.score as Summary).mean })),
        );
        const { predict: _predict, ...fit } = estimate.fit;
        doubling = { size: estimate.size, predicted: estimate.predicted, gain: estimate.gain, fit };
      }
      return { values: variant.values, points, doubling };
    });
    const metrics: Record<string, number> = {};
    const first = curves[0];
    const last = first?.points.at(-1);
    if (last?.score) metrics[metric] = last.score.mean;
    if (first?.doubling) {
      metrics['doubling.predicted'] = first.doubling.predicted;
      metrics['doubling.gain'] = first.doubling.gain;
    }
    const finished = await finishStudyRun(options, study, results, metrics, { metric, curves });
    return { study: finished, metric, curves };
  } catch (error) {
    return failStudy(options.store, study, error);
  }
}
