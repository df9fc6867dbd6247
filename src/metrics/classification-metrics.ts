/**
 * Classification metrics as mergeable accumulators: single-label (accuracy, per-label P/R/F1,
 * micro/macro/weighted averages, confusion matrix) and multi-label (micro/macro/weighted F1, samples
 * F1, subset accuracy, Hamming loss). Counts are plain JSON-serialisable integers, so batches, folds
 * or workers merge to exactly the totals of a single pass. Ratios with a zero denominator are 0; see
 * `label-counts.ts` for the averaging conventions.
 */
import { SapphireError } from '../core/errors.ts';
import {
  compareLabels,
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
  safeDivide,
  setOwn,
  weightedAverage,
} from './label-counts.ts';

/** Gold label → predicted label → number of examples (only non-zero cells are present). */
export type ConfusionCounts = Record<string, Record<string, number>>;

/** Mergeable single-label counts: a confusion matrix plus examples the model gave no label. */
export interface ClassificationCounts {
  examples: number;
  correct: number;
  confusion: ConfusionCounts;
  /** Gold label → number of examples for which the model predicted no label at all. */
  abstained: Record<string, number>;
}

/** Single-label scores computed from {@link ClassificationCounts}. */
export interface ClassificationScores {
  examples: number;
  /** Fraction of examples whose predicted label equals the gold label. */
  accuracy: number;
  /** Pooled over labels; equals accuracy when the model always predicts a label. */
  micro: MicroAverage;
  /** Mean over labels present in gold or predictions. */
  macro: PrecisionRecallF1;
  /** Per-label scores weighted by support. */
  weighted: PrecisionRecallF1;
  perLabel: LabelMetrics[];
  /** Gold → predicted → count, keys sorted, zero cells left out. */
  confusion: ConfusionCounts;
  /** Number of examples with no predicted label (counted as errors). */
  abstained: number;
}

/** Mergeable multi-label counts. */
export interface MultiLabelCounts {
  examples: number;
  /** Examples whose predicted label set equals the gold set exactly. */
  exactMatches: number;
  labels: LabelCountTable;
  /**
   * Per-example F1 as a reduced fraction `numerator/denominator` → number of examples with that
   * value; kept as exact fractions so merged counts give bit-identical samples F1.
   */
  exampleF1: Record<string, number>;
}

/** Multi-label scores computed from {@link MultiLabelCounts}. */
export interface MultiLabelScores {
  examples: number;
  micro: MicroAverage;
  macro: PrecisionRecallF1;
  weighted: PrecisionRecallF1;
  /** Mean over examples of each example's F1 (an example with no gold and no predicted label scores 1). */
  samplesF1: number;
  /** Fraction of examples whose predicted set equals the gold set. */
  subsetAccuracy: number;
  /** Fraction of wrong (example, label) decisions over all reported labels. */
  hammingLoss: number;
  perLabel: LabelMetrics[];
}

function dictionary<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function increment(table: Record<string, number>, key: string, by = 1): void {
  setOwn(table, key, (Object.hasOwn(table, key) ? table[key]! : 0) + by);
}

function checkLabel(value: unknown, what: string): void {
  if (typeof value !== 'string' || value === '') {
    throw new SapphireError('BAD_INPUT', `${what} ${JSON.stringify(value)} is not a non-empty string`, {
      path: what,
      hint: 'pass class labels as non-empty strings (use null for "no prediction")',
    });
  }
}

/** Creates empty single-label counts. */
export function createClassificationCounts(): ClassificationCounts {
  return { examples: 0, correct: 0, confusion: dictionary(), abstained: dictionary() };
}

/**
 * Adds one example (mutating and returning the counts); `predicted` null or undefined means the model
 * gave no label, which counts as a miss for the gold label and a false positive for none.
 *
 * @example
 * const counts = createClassificationCounts();
 * addClassification(counts, 'pos', 'neg');
 * classificationScores(counts).accuracy; // 0
 */
export function addClassification(
  counts: ClassificationCounts,
  gold: string,
  predicted: string | null | undefined,
): ClassificationCounts {
  checkLabel(gold, 'gold label');
  counts.examples++;
  if (predicted === null || predicted === undefined) {
    increment(counts.abstained, gold);
    return counts;
  }
  checkLabel(predicted, 'predicted label');
  if (!Object.hasOwn(counts.confusion, gold)) setOwn(counts.confusion, gold, dictionary<number>());
  increment(counts.confusion[gold]!, predicted);
  if (gold === predicted) counts.correct++;
  return counts;
}

/** New counts equal to the sum of two; the inputs are not changed. */
export function mergeClassificationCounts(
  a: ClassificationCounts,
  b: ClassificationCounts,
): ClassificationCounts {
  const merged = createClassificationCounts();
  merged.examples = a.examples + b.examples;
  merged.correct = a.correct + b.correct;
  for (const counts of [a, b]) {
    for (const gold of Object.keys(counts.confusion)) {
      if (!Object.hasOwn(merged.confusion, gold)) setOwn(merged.confusion, gold, dictionary<number>());
      const row = counts.confusion[gold]!;
      for (const predicted of Object.keys(row))
        increment(merged.confusion[gold]!, predicted, row[predicted]!);
    }
    for (const gold of Object.keys(counts.abstained))
      increment(merged.abstained, gold, counts.abstained[gold]!);
  }
  return merged;
}

/** Per-label tp/fp/fn derived from a confusion matrix and abstentions. */
function confusionToLabelCounts(counts: ClassificationCounts): LabelCountTable {
  const table = createLabelCountTable();
  for (const gold of Object.keys(counts.confusion)) {
    const row = counts.confusion[gold]!;
    for (const predicted of Object.keys(row)) {
      const n = row[predicted]!;
      if (gold === predicted) countsFor(table, gold).tp += n;
      else {
        countsFor(table, gold).fn += n;
        countsFor(table, predicted).fp += n;
      }
    }
  }
  for (const gold of Object.keys(counts.abstained)) countsFor(table, gold).fn += counts.abstained[gold]!;
  return table;
}

function sortedConfusion(confusion: ConfusionCounts): ConfusionCounts {
  const out: ConfusionCounts = {};
  for (const gold of Object.keys(confusion).sort(compareLabels)) {
    const row: Record<string, number> = {};
    for (const predicted of Object.keys(confusion[gold]!).sort(compareLabels)) {
      const n = confusion[gold]![predicted]!;
      if (n !== 0) setOwn(row, predicted, n);
    }
    setOwn(out, gold, row);
  }
  return out;
}

/**
 * Accuracy, micro/macro/weighted averages, per-label scores and the confusion matrix.
 *
 * @example
 * const counts = createClassificationCounts();
 * for (const [gold, pred] of [['a', 'a'], ['a', 'b'], ['b', 'b']]) addClassification(counts, gold, pred);
 * classificationScores(counts).macro.f1; // (2/3 + 2/3) / 2
 */
export function classificationScores(
  counts: ClassificationCounts,
  options: LabelSetOptions = {},
): ClassificationScores {
  const table = confusionToLabelCounts(counts);
  const perLabel = labelMetrics(table, reportedLabels(Object.keys(table), options.labels));
  const abstained = Object.values(counts.abstained).reduce((s, n) => s + n, 0);
  return {
    examples: counts.examples,
    accuracy: safeDivide(counts.correct, counts.examples),
    micro: microAverage(perLabel),
    macro: macroAverage(perLabel),
    weighted: weightedAverage(perLabel),
    perLabel,
    confusion: sortedConfusion(counts.confusion),
    abstained,
  };
}

/** Creates empty multi-label counts. */
export function createMultiLabelCounts(): MultiLabelCounts {
  return { examples: 0, exactMatches: 0, labels: createLabelCountTable(), exampleF1: dictionary() };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** One example's F1 as a reduced fraction key; no gold and no predicted labels is a perfect 1/1. */
export function exampleF1Key(tp: number, fp: number, fn: number): string {
  const numerator = 2 * tp;
  const denominator = 2 * tp + fp + fn;
  if (denominator === 0) return '1/1';
  if (numerator === 0) return '0/1';
  const d = gcd(numerator, denominator);
  return `${numerator / d}/${denominator / d}`;
}

/**
 * Adds one example's gold and predicted label sets (duplicates ignored), mutating and returning the counts.
 *
 * @example
 * const counts = createMultiLabelCounts();
 * addMultiLabel(counts, ['sports', 'politics'], ['sports']);
 * multiLabelScores(counts).samplesF1; // 2/3
 */
export function addMultiLabel(
  counts: MultiLabelCounts,
  gold: readonly string[],
  predicted: readonly string[],
): MultiLabelCounts {
  for (const [i, label] of gold.entries()) checkLabel(label, `gold labels[${i}]`);
  for (const [i, label] of predicted.entries()) checkLabel(label, `predicted labels[${i}]`);
  const goldSet = new Set(gold);
  const predictedSet = new Set(predicted);
  let tp = 0;
  let fp = 0;
  for (const label of predictedSet) {
    if (goldSet.has(label)) {
      tp++;
      countsFor(counts.labels, label).tp++;
    } else {
      fp++;
      countsFor(counts.labels, label).fp++;
    }
  }
  let fn = 0;
  for (const label of goldSet) {
    if (!predictedSet.has(label)) {
      fn++;
      countsFor(counts.labels, label).fn++;
    }
  }
  counts.examples++;
  if (fp === 0 && fn === 0) counts.exactMatches++;
  increment(counts.exampleF1, exampleF1Key(tp, fp, fn));
  return counts;
}

/** New counts equal to the sum of two; the inputs are not changed. */
export function mergeMultiLabelCounts(a: MultiLabelCounts, b: MultiLabelCounts): MultiLabelCounts {
  const exampleF1 = dictionary<number>();
  for (const counts of [a, b]) {
    for (const key of Object.keys(counts.exampleF1)) increment(exampleF1, key, counts.exampleF1[key]!);
  }
  return {
    examples: a.examples + b.examples,
    exactMatches: a.exactMatches + b.exactMatches,
    labels: mergeLabelCountTables(a.labels, b.labels),
    exampleF1,
  };
}

/** The value of a reduced fraction key written by {@link exampleF1Key}. */
export function fractionValue(key: string): number {
  const [numerator, denominator] = key.split('/').map(Number);
  return numerator! / denominator!;
}

/**
 * Micro/macro/weighted F1, samples F1, subset accuracy, Hamming loss and per-label scores; the Hamming
 * loss divides the wrong decisions by examples × reported labels (listed labels included).
 */
export function multiLabelScores(counts: MultiLabelCounts, options: LabelSetOptions = {}): MultiLabelScores {
  const labels = reportedLabels(Object.keys(counts.labels), options.labels);
  const perLabel = labelMetrics(counts.labels, labels);
  const micro = microAverage(perLabel);
  // Summing in key order makes the result independent of the order examples were added or merged.
  const f1Sum = Object.keys(counts.exampleF1)
    .sort(compareLabels)
    .reduce((sum, key) => sum + counts.exampleF1[key]! * fractionValue(key), 0);
  return {
    examples: counts.examples,
    micro,
    macro: macroAverage(perLabel),
    weighted: weightedAverage(perLabel),
    samplesF1: safeDivide(f1Sum, counts.examples),
    subsetAccuracy: safeDivide(counts.exactMatches, counts.examples),
    hammingLoss: safeDivide(micro.fp + micro.fn, counts.examples * labels.length),
    perLabel,
  };
}
