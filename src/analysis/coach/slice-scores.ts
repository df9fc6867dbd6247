import type { ProblemCard } from '../../core/project.ts';
import { sliceMembership } from '../../data/slices.ts';
import type { Example } from '../../data/types.ts';
import { evaluatePredictions } from '../../metrics/evaluate.ts';
import type { Prediction } from '../../models/model.ts';
import { loadPredictions, predictionSplits } from '../../store/run-artifacts.ts';
import type { Run, Store } from '../../store/store.ts';

/** One slice of the problem card scored on a run's stored predictions. */
export interface SliceScore {
  name: string;
  /** Examples of the evaluated split in the slice. */
  size: number;
  /** The primary metric on the slice. */
  score: number;
  /** `score` minus the primary metric on the whole split (negative: the slice lags). */
  delta: number;
}

/** The slices of a run's evaluated split, with the split and its overall score. */
export interface RunSliceScores {
  run: string;
  /** The split the predictions are on (`dev`, else `test`, else `heldout`). */
  split: string;
  overall: number;
  slices: SliceScore[];
}

/** Splits whose stored predictions the coach scores by slice, in order of preference. */
const SLICE_SPLITS = ['dev', 'test', 'heldout'];

/**
 * Scores every slice of the problem card on a run's stored predictions (its dev split, else test or heldout) with
 * the card's primary metric; null when the card has no slices or the run stored no predictions.
 *
 * @example
 * const scores = await sliceScoresOfRun(store, card, run); // scores?.slices[0].delta === -0.12
 */
export async function sliceScoresOfRun(
  store: Store,
  card: ProblemCard,
  run: Run,
): Promise<RunSliceScores | null> {
  const version = run.datasetVersions[0];
  if (card.slices.length === 0 || !version) return null;
  const stored = await predictionSplits(store, run.id);
  const split = SLICE_SPLITS.find((s) => stored.includes(s));
  if (!split) return null;
  const records = await loadPredictions(store, run.id, split);
  const byId = new Map((await store.loadExamples(version)).map((e) => [e.id, e]));
  const gold: Example[] = [];
  const predictions: Prediction[] = [];
  for (const { id, ...prediction } of records) {
    const example = byId.get(id);
    if (!example) continue;
    gold.push(example);
    predictions.push(prediction);
  }
  if (gold.length === 0) return null;
  const primary = card.metrics.primary;
  const labels = card.labels.length ? card.labels : undefined;
  const score = (examples: Example[], preds: Prediction[]) =>
    evaluatePredictions(card.task, examples, preds, { labels }).metrics[primary] ?? 0;
  const overall = score(gold, predictions);
  const index = new Map(gold.map((e, i) => [e.id, i]));
  const slices: SliceScore[] = [];
  for (const [name, ids] of sliceMembership(gold, card.slices)) {
    if (ids.length === 0) continue;
    const positions = ids.map((id) => index.get(id) as number);
    const value = score(
      positions.map((i) => gold[i] as Example),
      positions.map((i) => predictions[i] as Prediction),
    );
    slices.push({ name, size: ids.length, score: value, delta: value - overall });
  }
  return { run: run.id, split, overall, slices };
}
