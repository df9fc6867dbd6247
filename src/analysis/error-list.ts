/**
 * Every error of a model on gold examples as one flat list for browsing: kind, gold and predicted answer, the
 * model's confidence in its wrong answer and the declared slices of the example, most confident (howlers) first.
 */
import { type SliceDefinition, sliceMembership } from '../data/slices.ts';
import type { Example, TaskKind } from '../data/types.ts';
import type { Prediction } from '../models/model.ts';
import { nerErrorTaxonomy } from './error-taxonomy.ts';

/** One error of the browser. */
export interface BrowsedError {
  exampleId: string;
  text: string;
  /** ner: a taxonomy kind (`missed`, `spurious`, `wrong-type`, …); classify: `wrong-class`; multilabel: `spurious-label`/`missed-label`. */
  kind: string;
  /** The gold label (ner: entity label, `-` for spurious). */
  gold: string;
  /** The predicted label (`-` for missed). */
  predicted: string;
  /** The model's confidence in its wrong answer, null when it made none (a missed entity or label). */
  confidence: number | null;
  /** ner: character offsets of the gold or predicted entity. */
  span: { start: number; end: number } | null;
  /** Declared slices the example belongs to. */
  slices: string[];
}

const NONE = '-';

/**
 * Lists every error of `predictions` on `examples` (same order), confident wrong answers first (ties and
 * missed items keep example order).
 *
 * @example
 * const errors = listErrors('classify', dev, model.predict(dev), card.slices);
 * errors[0].kind; // 'wrong-class', the most confident mistake
 */
export function listErrors(
  task: TaskKind,
  examples: readonly Example[],
  predictions: readonly Prediction[],
  slices: readonly SliceDefinition[] = [],
): BrowsedError[] {
  const bySlice = sliceMembership(examples, slices);
  const slicesOf = new Map<string, string[]>();
  for (const [name, ids] of bySlice)
    for (const id of ids) slicesOf.set(id, [...(slicesOf.get(id) ?? []), name]);
  const out: BrowsedError[] = [];
  if (task === 'ner') {
    for (const e of nerErrorTaxonomy(examples, predictions).errors) {
      const where = e.predicted ?? e.gold;
      out.push({
        exampleId: e.exampleId,
        text: e.text,
        kind: e.kind,
        gold: e.gold?.label ?? NONE,
        predicted: e.predicted?.label ?? NONE,
        confidence: e.confidence,
        span: where ? { start: where.start, end: where.end } : null,
        slices: slicesOf.get(e.exampleId) ?? [],
      });
    }
  } else {
    examples.forEach((example, i) => {
      const p = predictions[i] ?? {};
      const gold = example.labels ?? [];
      const predicted = p.labels ?? [];
      const scoreOf = (label: string) => p.scores?.find((s) => s.label === label)?.score ?? null;
      const base = {
        exampleId: example.id,
        text: example.text,
        span: null,
        slices: slicesOf.get(example.id) ?? [],
      };
      if (task === 'classify') {
        if (gold[0] !== predicted[0])
          out.push({
            ...base,
            kind: 'wrong-class',
            gold: gold[0] ?? NONE,
            predicted: predicted[0] ?? NONE,
            confidence: predicted[0] ? scoreOf(predicted[0]) : null,
          });
        return;
      }
      for (const label of predicted)
        if (!gold.includes(label))
          out.push({
            ...base,
            kind: 'spurious-label',
            gold: NONE,
            predicted: label,
            confidence: scoreOf(label),
          });
      for (const label of gold)
        if (!predicted.includes(label))
          out.push({ ...base, kind: 'missed-label', gold: label, predicted: NONE, confidence: null });
    });
  }
  return out
    .map((error, i) => ({ error, i }))
    .sort((a, b) => (b.error.confidence ?? -1) - (a.error.confidence ?? -1) || a.i - b.i)
    .map((x) => x.error);
}
