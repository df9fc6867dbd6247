/**
 * Exact-match entity evaluation with seqeval / conlleval semantics: a predicted entity counts as
 * correct only when its start, end and label all equal a gold entity's. Spans are in character
 * offsets (tagged data is decoded to spans before it gets here, so IOB1/IOB2/BILOU/BIOES need no
 * special treatment). Spans are compared as sets: an exact duplicate of a span in the same list is
 * counted once, as seqeval does. Overlapping (nested) spans are allowed and matched independently.
 */
import { type Problem, throwIfProblems } from '../core/errors.ts';
import type { Span } from '../data/types.ts';
import {
  countsFor,
  createLabelCountTable,
  type LabelCountTable,
  type LabelMetrics,
  type LabelSetOptions,
  labelMetrics,
  type MicroAverage,
  macroAverage,
  mergeLabelCountTables,
  microAverage,
  type PrecisionRecallF1,
  reportedLabels,
} from './label-counts.ts';

/** Mergeable entity counts: number of examples seen and tp/fp/fn per entity label; JSON-serialisable. */
export interface SpanCounts {
  examples: number;
  labels: LabelCountTable;
}

/** Entity-level scores computed from {@link SpanCounts}. */
export interface SpanScores {
  examples: number;
  /** Precision/recall/F1 of all entities pooled, with the pooled counts. */
  micro: MicroAverage;
  /** Mean of per-label scores over labels present in gold or predictions (seqeval's macro avg). */
  macro: PrecisionRecallF1;
  /** One row per label: listed labels first (see {@link LabelSetOptions}), then others by name. */
  perLabel: LabelMetrics[];
}

/** Which predicted spans are right, which are wrong and which gold spans were missed. */
export interface SpanComparison<G extends Span = Span, P extends Span = Span> {
  /** Predicted spans that exactly match a gold span (in prediction order). */
  truePositives: P[];
  /** Predicted spans with no exact gold match (in prediction order). */
  falsePositives: P[];
  /** Gold spans no prediction matched exactly (in gold order). */
  falseNegatives: G[];
}

/** Where a list of spans comes from, for error messages. */
export interface SpanSource {
  exampleId?: string;
  /** Field path of the list, e.g. `spans` or `predictions[3].spans`. */
  path?: string;
}

/** Creates empty entity counts. */
export function createSpanCounts(): SpanCounts {
  return { examples: 0, labels: createLabelCountTable() };
}

/**
 * Problems with a list of spans: offsets must be integers with `0 ≤ start < end`, labels non-empty
 * strings; returns them all (empty when the list is fine).
 */
export function spanProblems(spans: readonly Span[], source: SpanSource = {}): Problem[] {
  const problems: Problem[] = [];
  const base = source.path ?? 'spans';
  spans.forEach((span, i) => {
    const where = { exampleId: source.exampleId, path: `${base}[${i}]` };
    if (span === null || typeof span !== 'object') {
      problems.push({ ...where, message: `span is ${span === null ? 'null' : typeof span}, not an object` });
      return;
    }
    const { start, end, label } = span;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end <= start) {
      problems.push({
        ...where,
        message: `span offsets [${String(start)}, ${String(end)}) are not integers with 0 ≤ start < end`,
      });
    }
    if (typeof label !== 'string' || label === '') {
      problems.push({ ...where, message: `span label ${JSON.stringify(label)} is not a non-empty string` });
    }
  });
  return problems;
}

function spanKey(span: Span): string {
  return `${span.start}:${span.end}:${span.label}`;
}

function checkSpans(spans: readonly Span[], source: SpanSource): void {
  throwIfProblems(
    spanProblems(spans, source),
    source.path ?? 'spans',
    'spans need integer character offsets with start < end and a non-empty label',
  );
}

/**
 * Splits predictions into exact matches and errors against the gold spans (set semantics: exact
 * duplicates are kept once); throws a DataError listing every malformed span.
 *
 * @example
 * const gold = [{ start: 0, end: 4, label: 'BRAND' }];
 * const pred = [{ start: 0, end: 4, label: 'BRAND', score: 0.9 }, { start: 5, end: 10, label: 'COLOR', score: 0.4 }];
 * compareSpans(gold, pred); // { truePositives: [pred[0]], falsePositives: [pred[1]], falseNegatives: [] }
 */
export function compareSpans<G extends Span, P extends Span>(
  gold: readonly G[],
  predicted: readonly P[],
  source: { gold?: SpanSource; predicted?: SpanSource } = {},
): SpanComparison<G, P> {
  checkSpans(gold, source.gold ?? { path: 'gold' });
  checkSpans(predicted, source.predicted ?? { path: 'predicted' });
  const goldKeys = new Set(gold.map(spanKey));
  const matched = new Set<string>();
  const seenPredicted = new Set<string>();
  const truePositives: P[] = [];
  const falsePositives: P[] = [];
  for (const span of predicted) {
    const key = spanKey(span);
    if (seenPredicted.has(key)) continue;
    seenPredicted.add(key);
    if (goldKeys.has(key)) {
      truePositives.push(span);
      matched.add(key);
    } else falsePositives.push(span);
  }
  const falseNegatives: G[] = [];
  const seenGold = new Set<string>();
  for (const span of gold) {
    const key = spanKey(span);
    if (seenGold.has(key)) continue;
    seenGold.add(key);
    if (!matched.has(key)) falseNegatives.push(span);
  }
  return { truePositives, falsePositives, falseNegatives };
}

/**
 * Adds one example's gold and predicted spans to the counts (mutating and returning them).
 *
 * @example
 * const counts = createSpanCounts();
 * addSpans(counts, ex.spans ?? [], prediction.spans ?? []);
 * spanScores(counts).micro.f1;
 */
export function addSpans(
  counts: SpanCounts,
  gold: readonly Span[],
  predicted: readonly Span[],
  source: { gold?: SpanSource; predicted?: SpanSource } = {},
): SpanCounts {
  const { truePositives, falsePositives, falseNegatives } = compareSpans(gold, predicted, source);
  for (const span of truePositives) countsFor(counts.labels, span.label).tp++;
  for (const span of falsePositives) countsFor(counts.labels, span.label).fp++;
  for (const span of falseNegatives) countsFor(counts.labels, span.label).fn++;
  counts.examples++;
  return counts;
}

/** New counts equal to the sum of two (e.g. two batches or two folds); the inputs are not changed. */
export function mergeSpanCounts(a: SpanCounts, b: SpanCounts): SpanCounts {
  return { examples: a.examples + b.examples, labels: mergeLabelCountTables(a.labels, b.labels) };
}

/**
 * Micro, macro and per-label precision/recall/F1 from entity counts (0 where a ratio is 0/0).
 * Micro pools every label's counts; macro averages over labels present in gold or predictions.
 */
export function spanScores(counts: SpanCounts, options: LabelSetOptions = {}): SpanScores {
  const labels = reportedLabels(Object.keys(counts.labels), options.labels);
  const perLabel = labelMetrics(counts.labels, labels);
  return {
    examples: counts.examples,
    micro: microAverage(perLabel),
    macro: macroAverage(perLabel),
    perLabel,
  };
}
