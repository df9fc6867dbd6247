/**
 * NER error taxonomy: every gold or predicted entity that is not an exact match is classified as
 * missed, spurious, wrong type, wrong boundary or wrong type and boundary. Exact matching follows
 * `compareSpans` (seqeval semantics, exact duplicates counted once), so the taxonomy's false
 * positives and false negatives are exactly the counts behind `evaluatePredictions`' span metrics:
 *
 *   falseNegatives = missed + wrong-type + wrong-boundary + wrong-type-and-boundary
 *   falsePositives = spurious + wrong-type + wrong-boundary + wrong-type-and-boundary
 *
 * Each unmatched predicted span is paired with at most one unmatched gold span it overlaps
 * (one-to-one, greedily: same boundaries first, then the largest overlap, then the same label,
 * then the earliest spans); what stays unpaired is spurious (predicted) or missed (gold).
 */
import { DataError } from '../core/errors.ts';
import type { Example, Span } from '../data/types.ts';
import { compareSpans } from '../metrics/span-metrics.ts';
import type { PredictedSpan, Prediction } from '../models/model.ts';

/** The kinds of NER error. */
export type NerErrorKind =
  | 'missed'
  | 'spurious'
  | 'wrong-type'
  | 'wrong-boundary'
  | 'wrong-type-and-boundary';

/** Every {@link NerErrorKind}, in the order reports list them. */
export const NER_ERROR_KINDS: readonly NerErrorKind[] = [
  'missed',
  'spurious',
  'wrong-type',
  'wrong-boundary',
  'wrong-type-and-boundary',
];

/** One NER error: a gold entity, a predicted entity, or a paired gold and predicted entity. */
export interface NerError {
  kind: NerErrorKind;
  exampleId: string;
  /** The example's whole text. */
  text: string;
  /** The gold entity (null for spurious). */
  gold: Span | null;
  /** The predicted entity (null for missed). */
  predicted: PredictedSpan | null;
  /** The predicted entity's score (null for missed). */
  confidence: number | null;
  /** Surface text of the gold entity (null for spurious). */
  goldText: string | null;
  /** Surface text of the predicted entity (null for missed). */
  predictedText: string | null;
}

/** The result of {@link nerErrorTaxonomy}. */
export interface NerErrorTaxonomy {
  counts: Record<NerErrorKind, number>;
  /** Errors in example order, then by position in the text. */
  errors: NerError[];
  /** Exact matches (distinct spans). */
  truePositives: number;
  /** Distinct predicted spans without an exact gold match. */
  falsePositives: number;
  /** Distinct gold spans without an exact predicted match. */
  falseNegatives: number;
}

/** Throws a DataError unless there is exactly one prediction per example. */
export function checkAligned(
  examples: readonly Example[],
  predictions: readonly unknown[],
  what = 'predictions',
): void {
  if (examples.length !== predictions.length) {
    throw new DataError(`${examples.length} examples but ${predictions.length} ${what}`, {
      path: what,
      hint: 'predict on exactly the analysed examples and keep them in the same order',
    });
  }
}

/** Number of characters two spans share (0 when they do not overlap). */
export function spanOverlap(a: Span, b: Span): number {
  return Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start));
}

/** A span as `LABEL "surface"`, for messages and tables. */
export function describeSpan(text: string, span: Span): string {
  return `${span.label} ${JSON.stringify(text.slice(span.start, span.end))}`;
}

interface Candidate {
  p: number;
  g: number;
  exact: boolean;
  overlap: number;
  sameLabel: boolean;
}

function pairKind(gold: Span, predicted: Span): NerErrorKind {
  if (gold.start === predicted.start && gold.end === predicted.end) return 'wrong-type';
  return gold.label === predicted.label ? 'wrong-boundary' : 'wrong-type-and-boundary';
}

function position(e: NerError): [number, number] {
  const spans = [e.gold, e.predicted].filter((s): s is Span => s !== null);
  return [Math.min(...spans.map((s) => s.start)), Math.min(...spans.map((s) => s.end))];
}

/**
 * Classifies one example's errors (gold and predicted spans are assumed valid; see {@link nerErrorTaxonomy}).
 *
 * @example
 * exampleNerErrors({ id: 'a', text: 'Paris Hilton', spans: [{ start: 0, end: 12, label: 'PER' }], meta: {} },
 *   { spans: [{ start: 0, end: 5, label: 'LOC', score: 0.8 }] }); // one 'wrong-type-and-boundary' error
 */
export function exampleNerErrors(
  example: Example,
  prediction: Prediction,
  index = 0,
): { errors: NerError[]; truePositives: number } {
  const { truePositives, falsePositives, falseNegatives } = compareSpans(
    example.spans ?? [],
    prediction.spans ?? [],
    {
      gold: { exampleId: example.id, path: 'spans' },
      predicted: { exampleId: example.id, path: `predictions[${index}].spans` },
    },
  );
  const candidates: Candidate[] = [];
  falsePositives.forEach((pred, p) => {
    falseNegatives.forEach((gold, g) => {
      const overlap = spanOverlap(pred, gold);
      if (overlap === 0) return;
      const exact = pred.start === gold.start && pred.end === gold.end;
      candidates.push({ p, g, exact, overlap, sameLabel: pred.label === gold.label });
    });
  });
  candidates.sort(
    (a, b) =>
      Number(b.exact) - Number(a.exact) ||
      b.overlap - a.overlap ||
      Number(b.sameLabel) - Number(a.sameLabel) ||
      a.p - b.p ||
      a.g - b.g,
  );
  const pairedPredicted = new Set<number>();
  const pairedGold = new Set<number>();
  const { id: exampleId, text } = example;
  const make = (kind: NerErrorKind, gold: Span | null, predicted: PredictedSpan | null): NerError => ({
    kind,
    exampleId,
    text,
    gold,
    predicted,
    confidence: predicted ? predicted.score : null,
    goldText: gold ? text.slice(gold.start, gold.end) : null,
    predictedText: predicted ? text.slice(predicted.start, predicted.end) : null,
  });
  const errors: NerError[] = [];
  for (const c of candidates) {
    if (pairedPredicted.has(c.p) || pairedGold.has(c.g)) continue;
    pairedPredicted.add(c.p);
    pairedGold.add(c.g);
    const gold = falseNegatives[c.g]!;
    const predicted = falsePositives[c.p]!;
    errors.push(make(pairKind(gold, predicted), gold, predicted));
  }
  falsePositives.forEach((predicted, p) => {
    if (!pairedPredicted.has(p)) errors.push(make('spurious', null, predicted));
  });
  falseNegatives.forEach((gold, g) => {
    if (!pairedGold.has(g)) errors.push(make('missed', gold, null));
  });
  const keyed = errors.map((e) => ({ e, pos: position(e) }));
  keyed.sort((a, b) => a.pos[0] - b.pos[0] || a.pos[1] - b.pos[1]);
  return { errors: keyed.map((k) => k.e), truePositives: truePositives.length };
}

/** Zero counts for every error kind. */
export function emptyErrorCounts(): Record<NerErrorKind, number> {
  return { missed: 0, spurious: 0, 'wrong-type': 0, 'wrong-boundary': 0, 'wrong-type-and-boundary': 0 };
}

/**
 * Classifies every NER error of a set of predictions (one per example, same order); throws a
 * DataError for misaligned input or malformed spans.
 *
 * @example
 * const { counts, falsePositives, falseNegatives } = nerErrorTaxonomy(examples, predictions);
 * counts['wrong-type']; // entities found with the right boundaries but the wrong label
 */
export function nerErrorTaxonomy(
  examples: readonly Example[],
  predictions: readonly Prediction[],
): NerErrorTaxonomy {
  checkAligned(examples, predictions);
  const counts = emptyErrorCounts();
  const errors: NerError[] = [];
  let truePositives = 0;
  let falsePositives = 0;
  let falseNegatives = 0;
  examples.forEach((example, i) => {
    const result = exampleNerErrors(example, predictions[i] ?? {}, i);
    truePositives += result.truePositives;
    for (const e of result.errors) {
      counts[e.kind]++;
      if (e.gold) falseNegatives++;
      if (e.predicted) falsePositives++;
      errors.push(e);
    }
  });
  return { counts, errors, truePositives, falsePositives, falseNegatives };
}
