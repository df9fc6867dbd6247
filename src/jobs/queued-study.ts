import {
  type FoldSpec,
  runCrossValidation,
  runNestedCrossValidation,
} from '../experiments/cross-validation.ts';
import { type CurveSpec, runLearningCurve } from '../experiments/learning-curve.ts';
import type { SearchDimension } from '../experiments/search-space.ts';
import type { StudyOptions } from '../experiments/study.ts';
import { runSweep, type SearchSpec } from '../experiments/sweep.ts';
import { type TrainConfig, trainConfigSchema } from '../train/train-config.ts';
import type { StudySpec } from './queue.ts';

/** What a study coordinator job returns. */
export interface QueuedStudyResult {
  studyId: string;
  status: string;
}

/**
 * Runs a study described as plain JSON (what `sapphire sweep|cv|curve --queue … --detach` enqueues): the same
 * library call as a local study, with the options' runner sending its members to the queue.
 *
 * @example
 * await runQueuedStudy({ kind: 'sweep', config, search }, { store, context, runner: queueRunner({ url, card }) });
 */
export async function runQueuedStudy(spec: StudySpec, options: StudyOptions): Promise<QueuedStudyResult> {
  const config: TrainConfig = trainConfigSchema.parse(spec.config);
  let study: { id: string; status: string };
  if (spec.kind === 'sweep') study = (await runSweep(config, spec.search as SearchSpec, options)).study;
  else if (spec.kind === 'cv')
    study = (await runCrossValidation(config, spec.folds as FoldSpec, options)).study;
  else if (spec.kind === 'nested-cv')
    study = (
      await runNestedCrossValidation(
        config,
        spec.folds as FoldSpec,
        spec.inner,
        spec.dimensions as SearchDimension[],
        options,
      )
    ).study;
  else study = (await runLearningCurve(config, spec.curve as CurveSpec, options)).study;
  return { studyId: study.id, status: study.status };
}
