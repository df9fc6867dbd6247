/**
 * How a model's {@link Prediction} is read as a class decision when it carries only some fields:
 * single-label takes its first label, else its top-scored class; multi-label takes its labels, else
 * every class scored at or above {@link MULTI_LABEL_THRESHOLD}.
 */
import type { LabelScore, Prediction } from '../models/model.ts';

/** The highest-scored class (the first one on ties), or undefined when there are no scores. */
export function topScore(scores: readonly LabelScore[]): LabelScore | undefined {
  let best: LabelScore | undefined;
  for (const s of scores) if (best === undefined || s.score > best.score) best = s;
  return best;
}

/** The label a single-label prediction chose: its first label, else its top-scored class. */
export function predictedClass(prediction: Prediction): string | undefined {
  return prediction.labels?.[0] ?? topScore(prediction.scores ?? [])?.label;
}

/** Default decision threshold for multi-label predictions that carry scores but no labels. */
export const MULTI_LABEL_THRESHOLD = 0.5;

/** The labels a multi-label prediction chose: its labels, else every class scored ≥ 0.5. */
export function predictedLabelSet(prediction: Prediction): string[] {
  if (prediction.labels !== undefined) return prediction.labels;
  return (prediction.scores ?? []).filter((s) => s.score >= MULTI_LABEL_THRESHOLD).map((s) => s.label);
}
