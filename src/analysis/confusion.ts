/**
 * Confusion matrices for every task, as a square table `matrix[gold][predicted]` over one label list.
 *
 * - classify: one cell per example (gold class → predicted class); examples the model gave no label
 *   go to a `none` column, which is only present when there are such examples.
 * - ner: entity types plus `none`. Exact matches and the overlapping pairs of the error taxonomy
 *   (wrong type, wrong boundary, wrong type and boundary) count as gold type → predicted type, so
 *   the diagonal counts entities whose type was right even when a boundary was wrong; missed
 *   entities count as gold type → `none`, spurious ones as `none` → predicted type.
 * - multilabel: one-vs-rest per label, read along the `none` row and column: `[l][l]` = true
 *   positives of l, `[l][none]` = its false negatives (missed), `[none][l]` = its false positives;
 *   other off-diagonal cells stay 0 (true negatives are not shown).
 *
 * The placeholder is named `none` unless a real label has that name, in which case it is `(none)`.
 */
import type { Example, TaskKind } from '../data/types.ts';
import { reportedLabels } from '../metrics/label-counts.ts';
import { predictedClass, predictedLabelSet } from '../metrics/prediction-labels.ts';
import type { Prediction } from '../models/model.ts';
import { checkAligned, exampleNerErrors } from './error-taxonomy.ts';

/** A confusion matrix: `matrix[i][j]` counts gold `labels[i]` predicted as `labels[j]`. */
export interface ConfusionMatrix {
  labels: string[];
  /** Rows are gold labels, columns predicted labels, both in `labels` order. */
  matrix: number[][];
  /** The placeholder label for "no entity / no label" (always last in `labels`), or null when absent. */
  none: string | null;
}

/**
 * Builds the confusion matrix of a set of predictions (one per example, same order); `labels` are
 * listed first in the given order, other labels seen after them by name, and the placeholder last.
 *
 * @example
 * const { labels, matrix } = confusionMatrix('ner', examples, predictions, card.labels);
 * matrix[labels.indexOf('PER')][labels.indexOf('none')]; // missed PER entities
 */
export function confusionMatrix(
  task: TaskKind,
  examples: readonly Example[],
  predictions: readonly Prediction[],
  labels?: readonly string[],
): ConfusionMatrix {
  checkAligned(examples, predictions);
  const pairs: [gold: string | null, predicted: string | null][] = [];
  examples.forEach((example, i) => {
    const prediction = predictions[i] ?? {};
    if (task === 'ner') {
      const { errors } = exampleNerErrors(example, prediction, i);
      const wrong = new Set(errors.flatMap((e) => (e.predicted ? [e.predicted] : [])));
      const seen = new Set<string>();
      for (const span of prediction.spans ?? []) {
        const key = `${span.start}:${span.end}:${span.label}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (!wrong.has(span)) pairs.push([span.label, span.label]);
      }
      for (const e of errors) pairs.push([e.gold?.label ?? null, e.predicted?.label ?? null]);
    } else if (task === 'classify') {
      pairs.push([example.labels?.[0] ?? null, predictedClass(prediction) ?? null]);
    } else {
      const gold = new Set(example.labels ?? []);
      const predicted = new Set(predictedLabelSet(prediction));
      for (const label of gold) pairs.push([label, predicted.has(label) ? label : null]);
      for (const label of predicted) if (!gold.has(label)) pairs.push([null, label]);
    }
  });
  const seen = pairs.flatMap(([g, p]) => [g, p].filter((l): l is string => l !== null));
  const real = reportedLabels(seen, labels);
  const needsNone = task !== 'classify' || pairs.some(([g, p]) => g === null || p === null);
  const none = needsNone ? (real.includes('none') ? '(none)' : 'none') : null;
  const all = none === null ? real : [...real, none];
  const index = new Map(all.map((label, i) => [label, i]));
  const matrix = all.map(() => all.map(() => 0));
  for (const [g, p] of pairs) {
    if (g === null && p === null) continue;
    matrix[index.get(g ?? none!)!]![index.get(p ?? none!)!]!++;
  }
  return { labels: all, matrix, none };
}
