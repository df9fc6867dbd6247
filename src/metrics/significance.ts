/**
 * Paired significance tests for two systems' predictions on the same examples: the paired bootstrap
 * (Efron & Tibshirani 1993; Koehn 2004) and approximate randomization (Noreen 1989; Riezler & Maxwell
 * 2005). Corpus-level metrics such as micro/macro F1 are not means of per-example scores, so each
 * example's sufficient statistics (per-label tp/fp/fn, a correct/exact-match flag, its samples-F1
 * fraction) are computed once as integer vectors; a resample or permutation only sums those vectors
 * and applies a cheap metric function. On the full set that function gives exactly the value of
 * `evaluatePredictions` (same formulas, same summation order).
 *
 * Conventions: A is the baseline and B the candidate; every delta is `metric(B) − metric(A)` (for
 * `hamming_loss`, where lower is better, a negative delta is an improvement). p-values are two-sided
 * and add one to numerator and denominator, so they are never 0.
 */

import { SapphireError } from '../core/errors.ts';
import { createRng, type Rng } from '../core/rng.ts';
import type { Example, TaskKind } from '../data/types.ts';
import type { Prediction } from '../models/model.ts';
import { exampleF1Key, fractionValue } from './classification-metrics.ts';
import { addPredictions, createEvaluationCounts, primaryMetricNames } from './evaluate.ts';
import { compareLabels, type LabelCounts, reportedLabels, safeDivide } from './label-counts.ts';
import { predictedClass, predictedLabelSet } from './prediction-labels.ts';
import { compareSpans } from './span-metrics.ts';

/** Default number of bootstrap resamples (also behind the interval approximate randomization reports). */
export const DEFAULT_BOOTSTRAP_SAMPLES = 10_000;
/** Default number of random permutations for approximate randomization. */
export const DEFAULT_PERMUTATIONS = 10_000;
/** Default seed of the resampling generator. */
export const DEFAULT_SIGNIFICANCE_SEED = 13;
/** Default confidence level of the interval; `1 − confidence` is the significance level. */
export const DEFAULT_CONFIDENCE = 0.95;

/** Deltas closer than this to the observed one count as ties (as extreme), so p-values stay conservative. */
const TIE_TOLERANCE = 1e-12;

/** Options of {@link pairedBootstrap}, {@link approximateRandomization} and {@link compareSystems}. */
export interface PairedTestOptions {
  /** A metric name of the task, as in `evaluatePredictions(...).metrics` (see {@link significanceMetricNames}). */
  metric: string;
  /** The project's label set (same meaning as `EvaluateOptions.labels`: it affects macro/weighted averages' order and Hamming loss). */
  labels?: readonly string[];
  /**
   * Bootstrap resamples ({@link DEFAULT_BOOTSTRAP_SAMPLES}) or random permutations
   * ({@link DEFAULT_PERMUTATIONS}); {@link compareSystems} uses it for both when given.
   */
  samples?: number;
  /**
   * Bootstrap resamples behind the interval that {@link approximateRandomization} reports (default
   * {@link DEFAULT_BOOTSTRAP_SAMPLES}); {@link compareSystems} reuses its bootstrap's interval instead.
   */
  ciSamples?: number;
  /** Seed of the generator (default {@link DEFAULT_SIGNIFICANCE_SEED}); the same seed gives the same result. */
  seed?: number;
  /** Confidence level of the interval, in (0, 1) (default {@link DEFAULT_CONFIDENCE}). */
  confidence?: number;
}

/** The outcome of one paired test; A is the baseline and B the candidate. */
export interface PairedTestResult {
  metric: string;
  examples: number;
  /** The baseline's metric on the full set (equal to `evaluatePredictions`). */
  a: number;
  /** The candidate's metric on the full set (equal to `evaluatePredictions`). */
  b: number;
  /** `b − a`. */
  delta: number;
  /** Paired-bootstrap percentile interval of the delta at `confidence` (linear interpolation between order statistics). */
  ci: [number, number];
  /** Two-sided p-value of "no difference". */
  pValue: number;
  /** Resamples or permutations the p-value comes from. */
  samples: number;
  method: 'paired-bootstrap' | 'approximate-randomization';
  confidence: number;
  seed: number;
}

/** Both tests on the same pair of systems, and whether both call the difference significant. */
export interface SystemComparison {
  bootstrap: PairedTestResult;
  randomization: PairedTestResult;
  /** Both p-values are below `1 − confidence`. */
  significant: boolean;
}

/** Per-example statistics of both systems for one metric, with the metric on resampled or swapped sets. */
export interface PairedStatistics {
  readonly task: TaskKind;
  readonly metric: string;
  readonly examples: number;
  /** The baseline's metric on the full set. */
  readonly a: number;
  /** The candidate's metric on the full set. */
  readonly b: number;
  /** Both systems' metric on the examples at these indices (repeats allowed), as if evaluated on that multiset. */
  scoreResample(indices: ArrayLike<number>): { a: number; b: number };
  /** Both systems' metric after exchanging their predictions on every example `i` with `swap[i]` true. */
  scoreSwapped(swap: ArrayLike<boolean>): { a: number; b: number };
}

// ---------------------------------------------------------------------------------------------------
// Metric functions over summed statistics

/** What each example contributes for a metric: which integer vector, and how it is laid out. */
type StatisticKind =
  /** [tp, fp, fn] pooled over labels. */
  | 'pooled'
  /** [tp, fp, fn] per label, labels in report order (listed labels first, then the others by name). */
  | 'labels'
  /** [1] when the example is correct (classify) or an exact match (multilabel). */
  | 'hits'
  /** One count per distinct samples-F1 fraction, fractions in the order evaluation sums them. */
  | 'fractions';

interface Layout {
  labelCount: number;
  listedCount: number;
  fractionValues: Float64Array;
}

type MetricValue = (totals: Float64Array, layout: Layout, examples: number) => number;

interface MetricDefinition {
  kind: StatisticKind;
  value: MetricValue;
}

type CountScore = (tp: number, fp: number, fn: number) => number;

const precisionOf: CountScore = (tp, fp) => safeDivide(tp, tp + fp);
const recallOf: CountScore = (tp, _fp, fn) => safeDivide(tp, tp + fn);
const f1Of: CountScore = (tp, fp, fn) => safeDivide(2 * tp, 2 * tp + fp + fn);

function pooled(score: CountScore): MetricDefinition {
  return { kind: 'pooled', value: (t) => score(t[0]!, t[1]!, t[2]!) };
}

/** Mean over labels that occur in gold or predictions, summed in report order like `macroAverage`. */
function macro(score: CountScore): MetricDefinition {
  return {
    kind: 'labels',
    value: (t, layout) => {
      let sum = 0;
      let used = 0;
      for (let l = 0; l < layout.labelCount; l++) {
        const tp = t[3 * l]!;
        const fp = t[3 * l + 1]!;
        const fn = t[3 * l + 2]!;
        if (tp + fp + fn > 0) {
          sum += score(tp, fp, fn);
          used++;
        }
      }
      return safeDivide(sum, used);
    },
  };
}

/** Support-weighted F1, summed in report order like `weightedAverage`. */
const weightedF1: MetricDefinition = {
  kind: 'labels',
  value: (t, layout) => {
    let sum = 0;
    let support = 0;
    for (let l = 0; l < layout.labelCount; l++) {
      const tp = t[3 * l]!;
      const fn = t[3 * l + 2]!;
      sum += f1Of(tp, t[3 * l + 1]!, fn) * (tp + fn);
      support += tp + fn;
    }
    return safeDivide(sum, support);
  },
};

/** Wrong decisions over examples × reported labels (listed labels plus the others that occur). */
const hammingLoss: MetricDefinition = {
  kind: 'labels',
  value: (t, layout, examples) => {
    let wrong = 0;
    let reported = layout.listedCount;
    for (let l = 0; l < layout.labelCount; l++) {
      const fp = t[3 * l + 1]!;
      const fn = t[3 * l + 2]!;
      wrong += fp + fn;
      if (l >= layout.listedCount && t[3 * l]! + fp + fn > 0) reported++;
    }
    return safeDivide(wrong, examples * reported);
  },
};

const hitRate: MetricDefinition = {
  kind: 'hits',
  value: (t, _layout, examples) => safeDivide(t[0]!, examples),
};

/** Mean per-example F1, summed over fractions in key order like `multiLabelScores`. */
const samplesF1: MetricDefinition = {
  kind: 'fractions',
  value: (t, layout, examples) => {
    let sum = 0;
    for (let k = 0; k < layout.fractionValues.length; k++) sum += t[k]! * layout.fractionValues[k]!;
    return safeDivide(sum, examples);
  },
};

const METRICS: Readonly<Record<TaskKind, Readonly<Record<string, MetricDefinition>>>> = {
  ner: {
    span_f1_micro: pooled(f1Of),
    span_f1_macro: macro(f1Of),
    span_precision: pooled(precisionOf),
    span_recall: pooled(recallOf),
    span_precision_macro: macro(precisionOf),
    span_recall_macro: macro(recallOf),
  },
  classify: {
    accuracy: hitRate,
    macro_f1: macro(f1Of),
    micro_f1: pooled(f1Of),
    weighted_f1: weightedF1,
    macro_precision: macro(precisionOf),
    macro_recall: macro(recallOf),
  },
  multilabel: {
    micro_f1: pooled(f1Of),
    macro_f1: macro(f1Of),
    samples_f1: samplesF1,
    subset_accuracy: hitRate,
    micro_precision: pooled(precisionOf),
    micro_recall: pooled(recallOf),
    hamming_loss: hammingLoss,
  },
};

/**
 * The metric names the paired tests support for a task: every metric of the evaluation report
 * except calibration error, which is not a sum of per-example statistics.
 *
 * @example
 * significanceMetricNames('classify'); // ['accuracy', 'macro_f1', 'micro_f1', 'weighted_f1', ...]
 */
export function significanceMetricNames(task: TaskKind): string[] {
  primaryMetricNames(task); // throws a ConfigError for an unknown task
  return Object.keys(METRICS[task]);
}

// ---------------------------------------------------------------------------------------------------
// Per-example outcomes and their statistic vectors

/** What one system did on one example, before it is turned into a statistic vector. */
interface Outcome {
  tally: Map<string, LabelCounts>;
  /** 1 when correct (classify) or an exact match (multilabel), else 0. */
  hit: number;
  /** Multi-label: the example's F1 as a reduced fraction key, as evaluation keys it. */
  fraction: string;
}

function tallyOf(tally: Map<string, LabelCounts>, label: string): LabelCounts {
  let counts = tally.get(label);
  if (counts === undefined) {
    counts = { tp: 0, fp: 0, fn: 0 };
    tally.set(label, counts);
  }
  return counts;
}

function outcomeOf(task: TaskKind, example: Example, prediction: Prediction): Outcome {
  const tally = new Map<string, LabelCounts>();
  if (task === 'ner') {
    const { truePositives, falsePositives, falseNegatives } = compareSpans(
      example.spans ?? [],
      prediction.spans ?? [],
    );
    for (const span of truePositives) tallyOf(tally, span.label).tp++;
    for (const span of falsePositives) tallyOf(tally, span.label).fp++;
    for (const span of falseNegatives) tallyOf(tally, span.label).fn++;
    return { tally, hit: 0, fraction: '' };
  }
  if (task === 'classify') {
    const gold = example.labels![0]!;
    const predicted = predictedClass(prediction);
    if (predicted === gold) {
      tallyOf(tally, gold).tp++;
      return { tally, hit: 1, fraction: '' };
    }
    tallyOf(tally, gold).fn++;
    if (predicted !== undefined) tallyOf(tally, predicted).fp++;
    return { tally, hit: 0, fraction: '' };
  }
  const gold = new Set(example.labels ?? []);
  const predicted = new Set(predictedLabelSet(prediction));
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const label of predicted) {
    if (gold.has(label)) {
      tp++;
      tallyOf(tally, label).tp++;
    } else {
      fp++;
      tallyOf(tally, label).fp++;
    }
  }
  for (const label of gold) {
    if (!predicted.has(label)) {
      fn++;
      tallyOf(tally, label).fn++;
    }
  }
  return { tally, hit: fp === 0 && fn === 0 ? 1 : 0, fraction: exampleF1Key(tp, fp, fn) };
}

/** Sparse integer vectors in compressed sparse rows: row `r` is entries `offsets[r] … offsets[r + 1] − 1`. */
interface Rows {
  offsets: Int32Array;
  dims: Int32Array;
  values: Int32Array;
}

type SparseRow = [dim: number, value: number][];

function packRows(rows: readonly SparseRow[]): Rows {
  const total = rows.reduce((sum, row) => sum + row.length, 0);
  const offsets = new Int32Array(rows.length + 1);
  const dims = new Int32Array(total);
  const values = new Int32Array(total);
  let at = 0;
  rows.forEach((row, r) => {
    for (const [dim, value] of row) {
      dims[at] = dim;
      values[at] = value;
      at++;
    }
    offsets[r + 1] = at;
  });
  return { offsets, dims, values };
}

/** One example's statistic vector for a metric kind, entries sorted by dimension, zeros left out. */
function statisticRow(
  outcome: Outcome,
  kind: StatisticKind,
  labelIndex: ReadonlyMap<string, number>,
  fractionIndex: ReadonlyMap<string, number>,
): SparseRow {
  const row: SparseRow = [];
  if (kind === 'hits') {
    if (outcome.hit) row.push([0, 1]);
  } else if (kind === 'fractions') {
    row.push([fractionIndex.get(outcome.fraction)!, 1]);
  } else if (kind === 'pooled') {
    const total = [0, 0, 0];
    for (const counts of outcome.tally.values()) {
      total[0]! += counts.tp;
      total[1]! += counts.fp;
      total[2]! += counts.fn;
    }
    total.forEach((n, dim) => {
      if (n !== 0) row.push([dim, n]);
    });
  } else {
    for (const [label, counts] of outcome.tally) {
      const base = 3 * labelIndex.get(label)!;
      [counts.tp, counts.fp, counts.fn].forEach((n, offset) => {
        if (n !== 0) row.push([base + offset, n]);
      });
    }
    row.sort((x, y) => x[0] - y[0]);
  }
  return row;
}

/** `row − other` for rows sorted by dimension, zeros left out. */
function subtractRows(row: SparseRow, other: SparseRow): SparseRow {
  const out = new Map<number, number>(row);
  for (const [dim, value] of other) out.set(dim, (out.get(dim) ?? 0) - value);
  return [...out].filter(([, value]) => value !== 0).sort((x, y) => x[0] - y[0]);
}

/** Adds `times` × row `r` to the totals. */
function addRow(rows: Rows, r: number, times: number, totals: Float64Array): void {
  const end = rows.offsets[r + 1]!;
  for (let j = rows.offsets[r]!; j < end; j++) totals[rows.dims[j]!]! += times * rows.values[j]!;
}

/** Moves `times` × a difference row (A − B) from A's totals to B's: the effect of swapping that many examples. */
function swapRow(diff: Rows, r: number, times: number, totalsA: Float64Array, totalsB: Float64Array): void {
  const end = diff.offsets[r + 1]!;
  for (let j = diff.offsets[r]!; j < end; j++) {
    const dim = diff.dims[j]!;
    const value = times * diff.values[j]!;
    totalsA[dim]! -= value;
    totalsB[dim]! += value;
  }
}

/**
 * Everything the resampling loops need, computed once. Examples with the same pair of statistic
 * vectors share a pattern, so a resample only counts draws per pattern and sums few vectors.
 */
interface Prepared {
  task: TaskKind;
  metric: string;
  examples: number;
  dimensions: number;
  /** Pattern of each example. */
  patternOf: Int32Array;
  /** Number of examples of each pattern. */
  patternSize: Int32Array;
  /** The baseline's and the candidate's statistic vector of each pattern. */
  a: Rows;
  b: Rows;
  /** A − B per pattern (empty where the systems agree, so a swap changes nothing). */
  diff: Rows;
  /** Patterns with a non-empty difference, the only ones a swap affects. */
  differing: Int32Array;
  totalA: Float64Array;
  totalB: Float64Array;
  value: (totals: Float64Array, examples: number) => number;
}

function badInput(message: string, hint: string, path?: string): SapphireError {
  return new SapphireError('BAD_INPUT', message, { hint, ...(path ? { path } : {}) });
}

/** Runs evaluation's own checks on one system so the tests accept exactly what evaluation accepts. */
function checkSystem(
  task: TaskKind,
  gold: readonly Example[],
  predictions: readonly Prediction[],
  role: 'baseline' | 'candidate',
): void {
  try {
    addPredictions(createEvaluationCounts(task), gold, predictions);
  } catch (error) {
    if (error instanceof SapphireError) {
      throw new SapphireError(error.code, `${role} predictions: ${error.message}`, error.details);
    }
    throw error;
  }
}

function dimensionsOf(kind: StatisticKind, labelCount: number, fractionCount: number): number {
  if (kind === 'pooled') return 3;
  if (kind === 'labels') return 3 * labelCount;
  if (kind === 'hits') return 1;
  return fractionCount;
}

function prepare(
  task: TaskKind,
  gold: readonly Example[],
  baseline: readonly Prediction[],
  candidate: readonly Prediction[],
  options: Pick<PairedTestOptions, 'metric' | 'labels'>,
): Prepared {
  const supported = significanceMetricNames(task);
  if (gold.length !== baseline.length || gold.length !== candidate.length) {
    throw badInput(
      `${gold.length} gold examples, ${baseline.length} baseline predictions and ${candidate.length} candidate predictions`,
      'predict with both systems on exactly the same examples, in the same order',
      'predictions',
    );
  }
  if (gold.length === 0) {
    throw badInput('no examples to compare the systems on', 'pass at least one gold example', 'gold');
  }
  const metric = options.metric;
  if (typeof metric !== 'string' || !Object.hasOwn(METRICS[task], metric)) {
    throw badInput(
      `metric ${JSON.stringify(metric)} is not supported by paired significance tests for task ${task}`,
      `use one of ${supported.join(', ')}`,
      'metric',
    );
  }
  const definition = METRICS[task][metric]!;
  checkSystem(task, gold, baseline, 'baseline');
  checkSystem(task, gold, candidate, 'candidate');

  const outcomesA = gold.map((example, i) => outcomeOf(task, example, baseline[i] ?? {}));
  const outcomesB = gold.map((example, i) => outcomeOf(task, example, candidate[i] ?? {}));
  const seen = new Set<string>();
  const fractionSet = new Set<string>();
  for (const outcome of [...outcomesA, ...outcomesB]) {
    for (const label of outcome.tally.keys()) seen.add(label);
    fractionSet.add(outcome.fraction);
  }
  // The same label and fraction orders as evaluation, so sums run in the same order.
  const labels = reportedLabels(seen, options.labels);
  const fractions = [...fractionSet].sort(compareLabels);
  const labelIndex = new Map(labels.map((label, i) => [label, i]));
  const fractionIndex = new Map(fractions.map((key, i) => [key, i]));
  const layout: Layout = {
    labelCount: labels.length,
    listedCount: new Set(options.labels ?? []).size,
    fractionValues: Float64Array.from(fractions, fractionValue),
  };
  const dimensions = dimensionsOf(definition.kind, labels.length, fractions.length);

  const patternIndex = new Map<string, number>();
  const rowsA: SparseRow[] = [];
  const rowsB: SparseRow[] = [];
  const sizes: number[] = [];
  const patternOf = new Int32Array(gold.length);
  for (let i = 0; i < gold.length; i++) {
    const rowA = statisticRow(outcomesA[i]!, definition.kind, labelIndex, fractionIndex);
    const rowB = statisticRow(outcomesB[i]!, definition.kind, labelIndex, fractionIndex);
    const key = `${rowA.join(';')}|${rowB.join(';')}`;
    let pattern = patternIndex.get(key);
    if (pattern === undefined) {
      pattern = rowsA.length;
      patternIndex.set(key, pattern);
      rowsA.push(rowA);
      rowsB.push(rowB);
      sizes.push(0);
    }
    sizes[pattern]!++;
    patternOf[i] = pattern;
  }
  const diffRows = rowsA.map((rowA, r) => subtractRows(rowA, rowsB[r]!));
  const a = packRows(rowsA);
  const b = packRows(rowsB);
  const totalA = new Float64Array(dimensions);
  const totalB = new Float64Array(dimensions);
  sizes.forEach((size, r) => {
    addRow(a, r, size, totalA);
    addRow(b, r, size, totalB);
  });
  return {
    task,
    metric,
    examples: gold.length,
    dimensions,
    patternOf,
    patternSize: Int32Array.from(sizes),
    a,
    b,
    diff: packRows(diffRows),
    differing: Int32Array.from(diffRows.flatMap((row, r) => (row.length > 0 ? [r] : []))),
    totalA,
    totalB,
    value: (totals, examples) => definition.value(totals, layout, examples),
  };
}

// ---------------------------------------------------------------------------------------------------
// Resampling loops

const TWO_POW_32 = 4294967296;
/** Largest n for which `uint32 · n` is exact in a double (2^21). */
const EXACT_PRODUCT_LIMIT = 2 ** 21;

/**
 * Draws `count` uniform example indices and counts them per pattern: Lemire's multiply-shift with
 * rejection (unbiased, and exact while `n ≤ 2^21`), else `rng.int`.
 */
function drawPatterns(rng: Rng, patternOf: Int32Array, count: number, draws: Int32Array): void {
  const n = patternOf.length;
  draws.fill(0);
  if (n > EXACT_PRODUCT_LIMIT) {
    for (let k = 0; k < count; k++) draws[patternOf[rng.int(n)]!]!++;
    return;
  }
  const threshold = (TWO_POW_32 - n) % n;
  for (let k = 0; k < count; k++) {
    let product = rng.uint32() * n;
    while (product % TWO_POW_32 < threshold) product = rng.uint32() * n;
    draws[patternOf[Math.floor(product / TWO_POW_32)]!]!++;
  }
}

function bootstrapDeltas(p: Prepared, samples: number, rng: Rng): Float64Array {
  const n = p.examples;
  const patterns = p.patternSize.length;
  const draws = new Int32Array(patterns);
  const totalsA = new Float64Array(p.dimensions);
  const totalsB = new Float64Array(p.dimensions);
  const deltas = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    drawPatterns(rng, p.patternOf, n, draws);
    totalsA.fill(0);
    totalsB.fill(0);
    for (let r = 0; r < patterns; r++) {
      const times = draws[r]!;
      if (times === 0) continue;
      addRow(p.a, r, times, totalsA);
      addRow(p.b, r, times, totalsB);
    }
    deltas[s] = p.value(totalsB, n) - p.value(totalsA, n);
  }
  return deltas;
}

/** Number of set bits of a 32-bit integer. */
function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** How many of `size` examples a fair coin swaps: one random bit per example. */
function coinFlips(rng: Rng, size: number): number {
  let heads = 0;
  let left = size;
  for (; left >= 32; left -= 32) heads += popcount(rng.uint32());
  if (left > 0) heads += popcount(rng.uint32() >>> (32 - left));
  return heads;
}

function randomizationDeltas(p: Prepared, samples: number, rng: Rng): Float64Array {
  const n = p.examples;
  const totalsA = new Float64Array(p.dimensions);
  const totalsB = new Float64Array(p.dimensions);
  const deltas = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    totalsA.set(p.totalA);
    totalsB.set(p.totalB);
    for (const r of p.differing) {
      const swapped = coinFlips(rng, p.patternSize[r]!);
      if (swapped > 0) swapRow(p.diff, r, swapped, totalsA, totalsB);
    }
    deltas[s] = p.value(totalsB, n) - p.value(totalsA, n);
  }
  return deltas;
}

/** Percentile (linear interpolation between order statistics) of sorted values, q in [0, 1]. */
function percentile(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

function percentileInterval(deltas: Float64Array, confidence: number): [number, number] {
  const sorted = Float64Array.from(deltas).sort();
  const alpha = 1 - confidence;
  return [percentile(sorted, alpha / 2), percentile(sorted, 1 - alpha / 2)];
}

/** (count + 1) / (samples + 1) where count is the number of deltas at least as extreme as `observed`. */
function pValueOf(deltas: Float64Array, observed: number, shift: number): number {
  const threshold = Math.abs(observed) - TIE_TOLERANCE;
  let count = 0;
  for (const delta of deltas) if (Math.abs(delta - shift) >= threshold) count++;
  return (count + 1) / (deltas.length + 1);
}

interface Settings {
  samples?: number;
  ciSamples: number;
  seed: number;
  confidence: number;
}

function checkCount(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw badInput(
      `${path} must be a positive integer, got ${String(value)}`,
      `pass e.g. ${path}: 1000`,
      path,
    );
  }
  return value;
}

function settingsOf(options: PairedTestOptions): Settings {
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  if (typeof confidence !== 'number' || !(confidence > 0 && confidence < 1)) {
    throw badInput(
      `confidence must be a number between 0 and 1, got ${String(confidence)}`,
      'pass e.g. confidence: 0.95',
      'confidence',
    );
  }
  const seed = options.seed ?? DEFAULT_SIGNIFICANCE_SEED;
  createRng(seed); // validates the seed before any work
  return {
    samples: options.samples === undefined ? undefined : checkCount(options.samples, 'samples'),
    ciSamples: checkCount(options.ciSamples ?? DEFAULT_BOOTSTRAP_SAMPLES, 'ciSamples'),
    seed,
    confidence,
  };
}

function streams(seed: number): { bootstrap: Rng; randomization: Rng } {
  const root = createRng(seed);
  return { bootstrap: root.fork('paired-bootstrap'), randomization: root.fork('approximate-randomization') };
}

function fullSet(p: Prepared): { a: number; b: number; delta: number } {
  const a = p.value(p.totalA, p.examples);
  const b = p.value(p.totalB, p.examples);
  return { a, b, delta: b - a };
}

function runBootstrap(p: Prepared, samples: number, settings: Settings): PairedTestResult {
  const observed = fullSet(p);
  const deltas = bootstrapDeltas(p, samples, streams(settings.seed).bootstrap);
  return {
    metric: p.metric,
    examples: p.examples,
    ...observed,
    ci: percentileInterval(deltas, settings.confidence),
    pValue: pValueOf(deltas, observed.delta, observed.delta),
    samples,
    method: 'paired-bootstrap',
    confidence: settings.confidence,
    seed: settings.seed,
  };
}

function runRandomization(
  p: Prepared,
  samples: number,
  settings: Settings,
  ci: [number, number],
): PairedTestResult {
  const observed = fullSet(p);
  const deltas = randomizationDeltas(p, samples, streams(settings.seed).randomization);
  return {
    metric: p.metric,
    examples: p.examples,
    ...observed,
    ci,
    pValue: pValueOf(deltas, observed.delta, 0),
    samples,
    method: 'approximate-randomization',
    confidence: settings.confidence,
    seed: settings.seed,
  };
}

function bootstrapInterval(p: Prepared, settings: Settings): [number, number] {
  const deltas = bootstrapDeltas(p, settings.ciSamples, streams(settings.seed).bootstrap);
  return percentileInterval(deltas, settings.confidence);
}

// ---------------------------------------------------------------------------------------------------
// Public entry points

/**
 * Precomputes both systems' per-example statistics for one metric (validating the inputs like
 * {@link pairedBootstrap}), for callers that resample or swap examples themselves.
 *
 * @example
 * const stats = pairedStatistics('ner', gold, baseline, candidate, { metric: 'span_f1_micro' });
 * stats.scoreResample([0, 0, 2]); // { a, b } as if evaluated on examples 0, 0 and 2
 */
export function pairedStatistics(
  task: TaskKind,
  gold: readonly Example[],
  baseline: readonly Prediction[],
  candidate: readonly Prediction[],
  options: Pick<PairedTestOptions, 'metric' | 'labels'>,
): PairedStatistics {
  const p = prepare(task, gold, baseline, candidate, options);
  const score = (totalsA: Float64Array, totalsB: Float64Array, examples: number) => ({
    a: p.value(totalsA, examples),
    b: p.value(totalsB, examples),
  });
  const { a, b } = score(p.totalA, p.totalB, p.examples);
  return {
    task,
    metric: p.metric,
    examples: p.examples,
    a,
    b,
    scoreResample(indices) {
      const totalsA = new Float64Array(p.dimensions);
      const totalsB = new Float64Array(p.dimensions);
      for (let k = 0; k < indices.length; k++) {
        const i = indices[k]!;
        if (!Number.isInteger(i) || i < 0 || i >= p.examples) {
          throw badInput(
            `resample index ${String(i)} at position ${k} is not an example index in [0, ${p.examples})`,
            'pass integer indices of the gold examples',
            `indices[${k}]`,
          );
        }
        addRow(p.a, p.patternOf[i]!, 1, totalsA);
        addRow(p.b, p.patternOf[i]!, 1, totalsB);
      }
      return score(totalsA, totalsB, indices.length);
    },
    scoreSwapped(swap) {
      if (swap.length !== p.examples) {
        throw badInput(
          `swap has ${swap.length} entries for ${p.examples} examples`,
          'pass one boolean per gold example',
          'swap',
        );
      }
      const totalsA = Float64Array.from(p.totalA);
      const totalsB = Float64Array.from(p.totalB);
      for (let i = 0; i < p.examples; i++) {
        if (swap[i]) swapRow(p.diff, p.patternOf[i]!, 1, totalsA, totalsB);
      }
      return score(totalsA, totalsB, p.examples);
    },
  };
}

/**
 * Paired bootstrap test of the candidate against the baseline: resamples example indices with
 * replacement (the same indices for both systems), reports the percentile interval of the resampled
 * deltas and the two-sided p-value of the shifted null, `(#{|δ* − δ| ≥ |δ|} + 1) / (samples + 1)`.
 *
 * @example
 * const r = pairedBootstrap('ner', testSet, baselinePreds, candidatePreds, { metric: 'span_f1_micro' });
 * r.delta; // e.g. 0.021
 * r.ci; // e.g. [0.008, 0.034]
 * r.pValue; // e.g. 0.0012
 */
export function pairedBootstrap(
  task: TaskKind,
  gold: readonly Example[],
  baseline: readonly Prediction[],
  candidate: readonly Prediction[],
  options: PairedTestOptions,
): PairedTestResult {
  const settings = settingsOf(options);
  const p = prepare(task, gold, baseline, candidate, options);
  return runBootstrap(p, settings.samples ?? DEFAULT_BOOTSTRAP_SAMPLES, settings);
}

/**
 * Approximate randomization test: each permutation swaps the two systems' predictions on every
 * example with probability 1/2; the two-sided p-value is `(#{|δ*| ≥ |δ|} + 1) / (samples + 1)`. The
 * reported interval is the paired bootstrap's (`ciSamples` resamples, same seed).
 *
 * @example
 * const r = approximateRandomization('classify', testSet, baselinePreds, candidatePreds, { metric: 'macro_f1' });
 * r.pValue < 0.05; // significant at the 5% level
 */
export function approximateRandomization(
  task: TaskKind,
  gold: readonly Example[],
  baseline: readonly Prediction[],
  candidate: readonly Prediction[],
  options: PairedTestOptions,
): PairedTestResult {
  const settings = settingsOf(options);
  const p = prepare(task, gold, baseline, candidate, options);
  return runRandomization(
    p,
    settings.samples ?? DEFAULT_PERMUTATIONS,
    settings,
    bootstrapInterval(p, settings),
  );
}

/**
 * Runs both tests (statistics computed once; the randomization result reports the bootstrap's
 * interval) and calls the difference significant when both p-values are below `1 − confidence`.
 *
 * @example
 * const { bootstrap, randomization, significant } = compareSystems('ner', gold, a, b, { metric: 'span_f1_micro' });
 * `${bootstrap.delta.toFixed(3)}${significanceMarker(randomization.pValue)}`; // e.g. '0.021**'
 */
export function compareSystems(
  task: TaskKind,
  gold: readonly Example[],
  baseline: readonly Prediction[],
  candidate: readonly Prediction[],
  options: PairedTestOptions,
): SystemComparison {
  const settings = settingsOf(options);
  const p = prepare(task, gold, baseline, candidate, options);
  const bootstrap = runBootstrap(p, settings.samples ?? DEFAULT_BOOTSTRAP_SAMPLES, settings);
  const randomization = runRandomization(p, settings.samples ?? DEFAULT_PERMUTATIONS, settings, bootstrap.ci);
  const alpha = 1 - settings.confidence;
  return { bootstrap, randomization, significant: bootstrap.pValue < alpha && randomization.pValue < alpha };
}

/**
 * A marker for result tables: `'***'` when p < 0.001, `'**'` when p < 0.01, `'*'` when p < 0.05, else `''`.
 *
 * @example
 * significanceMarker(0.004); // '**'
 */
export function significanceMarker(pValue: number): string {
  if (typeof pValue !== 'number' || !(pValue >= 0 && pValue <= 1)) {
    throw badInput(`p-value must be a number in [0, 1], got ${String(pValue)}`, 'pass a test result pValue');
  }
  if (pValue < 0.001) return '***';
  if (pValue < 0.01) return '**';
  if (pValue < 0.05) return '*';
  return '';
}
