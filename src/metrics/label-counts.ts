/**
 * Per-label true/false positive/negative counts and the precision/recall/F1 arithmetic shared by
 * span, classification and multi-label metrics.
 *
 * Conventions (the same as seqeval and scikit-learn with `zero_division=0`):
 * - a ratio whose denominator is 0 is 0 (precision with no predictions, recall with no gold items,
 *   F1 with neither);
 * - F1 is computed as `2·tp / (2·tp + fp + fn)`, which equals the harmonic mean of precision and
 *   recall whenever both are defined;
 * - macro averages are the unweighted mean over the labels that occur in the gold data or in the
 *   predictions (tp + fp + fn > 0); labels that occur in neither are listed with zeros but do not
 *   pull the average down;
 * - weighted averages weight each label by its support (number of gold items).
 */

/** True positives, false positives and false negatives of one label. */
export interface LabelCounts {
  tp: number;
  fp: number;
  fn: number;
}

/** Counts per label; an object with no prototype so that any label string is a safe key. */
export type LabelCountTable = Record<string, LabelCounts>;

/** Precision, recall and F1, each in [0, 1]. */
export interface PrecisionRecallF1 {
  precision: number;
  recall: number;
  f1: number;
}

/** Scores and counts of one label; `support` is the number of gold items (tp + fn). */
export interface LabelMetrics extends PrecisionRecallF1, LabelCounts {
  label: string;
  support: number;
}

/** Micro-averaged scores with the summed counts they come from. */
export interface MicroAverage extends PrecisionRecallF1, LabelCounts {}

/** Options shared by the score functions. */
export interface LabelSetOptions {
  /**
   * The label set to report on, in display order: listed labels are always reported (with zeros
   * when absent); labels seen in the data but not listed are still reported, after them, so nothing
   * is silently dropped.
   */
  labels?: readonly string[];
}

/** Divides, returning 0 when the denominator is 0 (the zero-division convention of every metric here). */
export function safeDivide(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

/** Precision, recall and F1 from counts, with 0 for any ratio whose denominator is 0. */
export function precisionRecallF1(counts: LabelCounts): PrecisionRecallF1 {
  const { tp, fp, fn } = counts;
  return {
    precision: safeDivide(tp, tp + fp),
    recall: safeDivide(tp, tp + fn),
    f1: safeDivide(2 * tp, 2 * tp + fp + fn),
  };
}

/** Creates an empty count table (no prototype, so labels such as `__proto__` are ordinary keys). */
export function createLabelCountTable(): LabelCountTable {
  return Object.create(null) as LabelCountTable;
}

/**
 * Sets an own property even for keys such as `__proto__`, so tables revived with `JSON.parse` (which
 * have the usual prototype) stay safe to add to.
 */
export function setOwn<T>(table: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(table, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The counts of one label in a table, created at zero when the label is new. */
export function countsFor(table: LabelCountTable, label: string): LabelCounts {
  if (Object.hasOwn(table, label)) return table[label]!;
  const counts: LabelCounts = { tp: 0, fp: 0, fn: 0 };
  setOwn(table, label, counts);
  return counts;
}

/** A new table holding the label-wise sums of two tables (neither input is changed). */
export function mergeLabelCountTables(a: LabelCountTable, b: LabelCountTable): LabelCountTable {
  const merged = createLabelCountTable();
  for (const table of [a, b]) {
    for (const label of Object.keys(table)) {
      const from = table[label]!;
      const into = countsFor(merged, label);
      into.tp += from.tp;
      into.fp += from.fp;
      into.fn += from.fn;
    }
  }
  return merged;
}

/** The labels to report: the listed ones first, in their order, then any others seen, sorted. */
export function reportedLabels(seen: Iterable<string>, listed?: readonly string[]): string[] {
  const out = listed ? [...new Set(listed)] : [];
  const known = new Set(out);
  const extra = [...new Set(seen)].filter((label) => !known.has(label)).sort(compareLabels);
  return [...out, ...extra];
}

/** Orders labels by code unit, the same in every locale. */
export function compareLabels(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Per-label metrics for the given labels (zeros for labels missing from the table). */
export function labelMetrics(table: LabelCountTable, labels: readonly string[]): LabelMetrics[] {
  return labels.map((label) => {
    const counts = Object.hasOwn(table, label) ? table[label]! : { tp: 0, fp: 0, fn: 0 };
    return { label, ...precisionRecallF1(counts), support: counts.tp + counts.fn, ...pickCounts(counts) };
  });
}

function pickCounts(counts: LabelCounts): LabelCounts {
  return { tp: counts.tp, fp: counts.fp, fn: counts.fn };
}

/** Micro average: precision, recall and F1 of the counts summed over the given labels. */
export function microAverage(rows: readonly LabelCounts[]): MicroAverage {
  const total = { tp: 0, fp: 0, fn: 0 };
  for (const row of rows) {
    total.tp += row.tp;
    total.fp += row.fp;
    total.fn += row.fn;
  }
  return { ...precisionRecallF1(total), ...total };
}

/** Whether a label occurs in the gold data or in the predictions. */
function occurs(row: LabelMetrics): boolean {
  return row.tp + row.fp + row.fn > 0;
}

/** Macro average: the unweighted mean of per-label scores over labels that occur in gold or predictions. */
export function macroAverage(rows: readonly LabelMetrics[]): PrecisionRecallF1 {
  const used = rows.filter(occurs);
  const mean = (pick: (r: LabelMetrics) => number) =>
    safeDivide(
      used.reduce((sum, r) => sum + pick(r), 0),
      used.length,
    );
  return { precision: mean((r) => r.precision), recall: mean((r) => r.recall), f1: mean((r) => r.f1) };
}

/** Weighted average: per-label scores weighted by support (labels with no gold items weigh 0). */
export function weightedAverage(rows: readonly LabelMetrics[]): PrecisionRecallF1 {
  const support = rows.reduce((sum, r) => sum + r.support, 0);
  const mean = (pick: (r: LabelMetrics) => number) =>
    safeDivide(
      rows.reduce((sum, r) => sum + pick(r) * r.support, 0),
      support,
    );
  return { precision: mean((r) => r.precision), recall: mean((r) => r.recall), f1: mean((r) => r.f1) };
}
