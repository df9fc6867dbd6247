/**
 * Howlers: the errors a model made with the highest confidence, which are the first to look at
 * (they often reveal a bug, a labelling mistake or a missing feature rather than a hard example).
 *
 * - ner: every predicted entity that is not an exact match (spurious, wrong type, wrong boundary,
 *   wrong type and boundary), by its score; missed entities carry no confidence and are left out.
 * - classify: every example whose predicted class differs from gold, by the predicted class's score
 *   (predictions without a score for their class are left out).
 * - multilabel: every predicted label not in gold (`spurious-label`, by its score) and every gold
 *   label the model left out while scoring it (`missed-label`, by 1 − its score).
 *
 * Gold and predicted are written `LABEL "surface"` for entities and `none` for no entity.
 */
import type { Example, TaskKind } from '../data/types.ts';
import { predictedClass, predictedLabelSet } from '../metrics/prediction-labels.ts';
import type { Prediction } from '../models/model.ts';
import { checkAligned, describeSpan, exampleNerErrors } from './error-taxonomy.ts';

/** One confident error. */
export interface Howler {
  exampleId: string;
  /** The example's whole text. */
  text: string;
  /** ner: an error kind of the taxonomy; classify: `wrong-class`; multilabel: `spurious-label` or `missed-label`. */
  kind: string;
  gold: string;
  predicted: string;
  /** The model's confidence in its wrong decision, in [0, 1]. */
  confidence: number;
  /** ner: surface text of the predicted entity. */
  spanText?: string;
}

/** Options for {@link findHowlers}. */
export interface HowlerOptions {
  /** Most howlers returned (default 20). */
  limit?: number;
}

/** Default number of howlers returned. */
export const DEFAULT_HOWLER_LIMIT = 20;

function scoreOf(prediction: Prediction, label: string): number | undefined {
  return prediction.scores?.find((s) => s.label === label)?.score;
}

function exampleHowlers(task: TaskKind, example: Example, prediction: Prediction, index: number): Howler[] {
  const { id: exampleId, text } = example;
  if (task === 'ner') {
    return exampleNerErrors(example, prediction, index).errors.flatMap((e) =>
      e.predicted && e.confidence !== null
        ? [
            {
              exampleId,
              text,
              kind: e.kind,
              gold: e.gold ? describeSpan(text, e.gold) : 'none',
              predicted: describeSpan(text, e.predicted),
              confidence: e.confidence,
              spanText: e.predictedText ?? '',
            },
          ]
        : [],
    );
  }
  if (task === 'classify') {
    const gold = example.labels?.[0];
    const predicted = predictedClass(prediction);
    if (gold === undefined || predicted === undefined || predicted === gold) return [];
    const confidence = scoreOf(prediction, predicted);
    return confidence === undefined
      ? []
      : [{ exampleId, text, kind: 'wrong-class', gold, predicted, confidence }];
  }
  const gold = new Set(example.labels ?? []);
  const predicted = new Set(predictedLabelSet(prediction));
  const goldText = [...gold].join(', ') || 'none';
  const out: Howler[] = [];
  for (const label of predicted) {
    const score = scoreOf(prediction, label);
    if (!gold.has(label) && score !== undefined) {
      out.push({
        exampleId,
        text,
        kind: 'spurious-label',
        gold: goldText,
        predicted: label,
        confidence: score,
      });
    }
  }
  for (const label of gold) {
    const score = scoreOf(prediction, label);
    if (!predicted.has(label) && score !== undefined) {
      out.push({
        exampleId,
        text,
        kind: 'missed-label',
        gold: label,
        predicted: [...predicted].join(', ') || 'none',
        confidence: 1 - score,
      });
    }
  }
  return out;
}

/**
 * The errors made with the highest confidence, most confident first (ties in example order).
 *
 * @example
 * findHowlers('ner', examples, predictions, { limit: 10 })[0]; // { kind: 'spurious', confidence: 0.99, … }
 */
export function findHowlers(
  task: TaskKind,
  examples: readonly Example[],
  predictions: readonly Prediction[],
  options: HowlerOptions = {},
): Howler[] {
  checkAligned(examples, predictions);
  const limit = options.limit ?? DEFAULT_HOWLER_LIMIT;
  const all = examples.flatMap((example, i) => exampleHowlers(task, example, predictions[i] ?? {}, i));
  // Array.prototype.sort is stable, so equal confidences keep example order.
  return all.sort((a, b) => b.confidence - a.confidence).slice(0, Math.max(0, limit));
}
