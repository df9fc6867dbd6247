/**
 * Drift of live traffic against a model's reference profile: population stability index and Jensen–Shannon
 * divergence of the predicted-label distribution, PSI of input lengths, mean-confidence shift, out-of-vocabulary
 * rate shift, and tokens or entities frequent live but never seen in training.
 */
import type { ProblemCard } from '../core/project.ts';
import { CONFIDENCE_BINS, type ReferenceProfile } from '../train/reference-profile.ts';
import type { PredictionSketch } from './live-sketch.ts';

/** Drift thresholds (the card's `monitoring.drift` section). */
export type DriftThresholds = ProblemCard['monitoring']['drift'];

/** Names of the drift signals, as they appear in the API and in `sapphire_drift_score{signal=…}`. */
export const DRIFT_SIGNALS = [
  'label_psi',
  'label_js',
  'length_psi',
  'confidence_shift',
  'oov_shift',
  'new_tokens',
  'new_entities',
] as const;

/** One drift signal. */
export type DriftSignalName = (typeof DRIFT_SIGNALS)[number];

/** One signal's value against its threshold. */
export interface DriftSignal {
  name: DriftSignalName;
  /** The measured value (null when it cannot be measured, e.g. no confidences). */
  value: number | null;
  threshold: number;
  /** Above the threshold, with enough samples. */
  drifted: boolean;
  /** What was compared, in words. */
  detail: string;
}

/** A token or entity frequent live but unseen in training. */
export interface NewItem {
  item: string;
  /** Upper bound of its count in the window (Space-Saving). */
  count: number;
  /** Maximum overestimation of `count`. */
  error: number;
  /** count / predictions in the window. */
  share: number;
}

/** The drift verdict of a model version over a window. */
export interface DriftReport {
  /** `drift`: a signal is over its threshold; `ok`; `insufficient-data`: fewer than minSamples predictions. */
  status: 'ok' | 'drift' | 'insufficient-data';
  items: number;
  minSamples: number;
  signals: DriftSignal[];
  /** The drifted signals' names. */
  drifted: DriftSignalName[];
  newTokens: NewItem[];
  newEntities: NewItem[];
}

/** Smoothing added to every share before PSI and JS, so empty bins do not divide by zero. */
const EPSILON = 1e-4;

/** A token or entity needs at least this many occurrences to count as a new frequent one. */
const MIN_NEW_COUNT = 5;

function normalise(values: number[]): number[] {
  const smoothed = values.map((v) => Math.max(0, v) + EPSILON);
  const total = smoothed.reduce((a, b) => a + b, 0);
  return smoothed.map((v) => v / total);
}

/**
 * Population stability index Σ (a − e)·ln(a / e) between an expected and an actual distribution given as counts
 * or shares over the same bins (smoothed by 1e-4). Below 0.1: stable; 0.1–0.2: moderate shift; above 0.2: significant.
 *
 * @example
 * psi([50, 50], [90, 10]); // ≈ 0.879
 */
export function psi(expected: number[], actual: number[]): number {
  const e = normalise(expected);
  const a = normalise(actual);
  let sum = 0;
  for (let i = 0; i < e.length; i++) sum += (a[i]! - e[i]!) * Math.log(a[i]! / e[i]!);
  return sum;
}

/**
 * Jensen–Shannon divergence in bits (0: identical, 1: disjoint) between two distributions given as counts or
 * shares over the same bins.
 *
 * @example
 * jensenShannon([1, 0], [0, 1]); // ≈ 1
 */
export function jensenShannon(p: number[], q: number[]): number {
  const a = normalise(p);
  const b = normalise(q);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const m = (a[i]! + b[i]!) / 2;
    sum += 0.5 * a[i]! * Math.log2(a[i]! / m) + 0.5 * b[i]! * Math.log2(b[i]! / m);
  }
  return Math.max(0, sum);
}

/** Upper edges (inclusive) of about ten bins holding a tenth of the reference lengths each. */
export function lengthEdges(lengths: Record<string, number>): number[] {
  const entries = Object.entries(lengths)
    .map(([k, v]) => [Number(k), v] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((s, [, v]) => s + v, 0);
  const edges: number[] = [];
  let cumulative = 0;
  let next = 0.1;
  for (const [length, count] of entries) {
    cumulative += count;
    if (cumulative / total >= next - 1e-9) {
      edges.push(length);
      while (next <= cumulative / total + 1e-9) next += 0.1;
    }
  }
  return edges;
}

/** The reference's mean confidence (from the profile, else its histogram). */
function referenceMeanConfidence(profile: ReferenceProfile): number | null {
  if (profile.meanConfidence !== null) return profile.meanConfidence;
  const total = profile.confidence.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  return profile.confidence.reduce((s, c, i) => s + c * ((i + 0.5) / CONFIDENCE_BINS), 0) / total;
}

function newItems(sketch: PredictionSketch['oov'], items: number, share: number): NewItem[] {
  return sketch
    .top(50)
    .map((h) => ({ item: h.item, count: h.count, error: h.error, share: items > 0 ? h.count / items : 0 }))
    .filter((h) => h.count - h.error >= MIN_NEW_COUNT && h.share >= share)
    .slice(0, 20);
}

/**
 * Compares a live view with the reference profile and judges each signal against its threshold; with fewer than
 * `minSamples` predictions the signals are reported but nothing counts as drifted.
 *
 * @example
 * const report = computeDrift(profile, sketch, card.monitoring.drift, card.monitoring.minSamples);
 * report.status; // 'drift'
 * report.drifted; // ['oov_shift', 'new_tokens']
 */
export function computeDrift(
  profile: ReferenceProfile,
  live: PredictionSketch,
  thresholds: DriftThresholds,
  minSamples: number,
): DriftReport {
  const enough = live.items >= minSamples;
  const signals: DriftSignal[] = [];
  /** Adds a signal; one-sided signals (OOV rise, new items) only drift upwards. */
  const add = (
    name: DriftSignalName,
    value: number | null,
    threshold: number,
    detail: string,
    twoSided = false,
  ) =>
    signals.push({
      name,
      value,
      threshold,
      drifted: enough && value !== null && (twoSided ? Math.abs(value) : value) > threshold,
      detail,
    });

  // Predicted labels: the union of reference and live labels.
  const liveLabels = new Map(live.labels.top().map((h) => [h.item, h.count]));
  const names = [...new Set([...Object.keys(profile.labels), ...liveLabels.keys()])].sort();
  const expected = names.map((n) => profile.labels[n] ?? 0);
  const actual = names.map((n) => liveLabels.get(n) ?? 0);
  const haveLabels = live.labels.n > 0 && expected.some((v) => v > 0);
  add(
    'label_psi',
    haveLabels ? psi(expected, actual) : null,
    thresholds.labelPsi,
    `predicted-label distribution over ${names.length} labels vs the ${profile.referenceSet} set`,
  );
  add(
    'label_js',
    haveLabels ? jensenShannon(expected, actual) : null,
    thresholds.labelJs,
    'Jensen–Shannon divergence (bits) of the predicted-label distribution',
  );

  // Input lengths over the reference deciles.
  const edges = lengthEdges(profile.lengths);
  let lengthValue: number | null = null;
  if (edges.length > 1 && live.length.count > 0) {
    const refCounts = edges.map(() => 0);
    for (const [k, v] of Object.entries(profile.lengths)) {
      const bin = edges.findIndex((e) => Number(k) <= e);
      refCounts[bin === -1 ? edges.length - 1 : bin]! += v;
    }
    const liveShares: number[] = [];
    let previous = 0;
    edges.forEach((edge, i) => {
      const cdf = i === edges.length - 1 ? 1 : (live.length.cdf(edge + 0.5) ?? 0);
      liveShares.push(Math.max(0, cdf - previous));
      previous = Math.max(previous, cdf);
    });
    lengthValue = psi(refCounts, liveShares);
  }
  add(
    'length_psi',
    lengthValue,
    thresholds.lengthPsi,
    `input length in tokens over ${edges.length} bins of the reference (its deciles)`,
  );

  const refMean = referenceMeanConfidence(profile);
  const liveMean = live.confidence.mean;
  add(
    'confidence_shift',
    refMean !== null && liveMean !== null ? liveMean - refMean : null,
    thresholds.confidenceShift,
    `mean confidence live${liveMean === null ? '' : ` ${liveMean.toFixed(3)}`} minus reference${refMean === null ? '' : ` ${refMean.toFixed(3)}`}`,
    true,
  );

  const oovRate = live.checkedTokens > 0 ? live.oovTokens / live.checkedTokens : null;
  add(
    'oov_shift',
    oovRate === null ? null : oovRate - profile.oovRate,
    thresholds.oovShift,
    `out-of-vocabulary token rate live${oovRate === null ? '' : ` ${oovRate.toFixed(4)}`} minus reference ${profile.oovRate.toFixed(4)}`,
  );

  const newTokens = newItems(live.oov, live.items, thresholds.newTokenShare);
  add(
    'new_tokens',
    live.items > 0 && live.checkedTokens > 0 ? (newTokens[0]?.share ?? 0) : null,
    thresholds.newTokenShare,
    'largest share of texts containing one token never seen in training',
  );
  const newEntities =
    profile.task === 'ner' ? newItems(live.newEntities, live.items, thresholds.newTokenShare) : [];
  add(
    'new_entities',
    profile.task === 'ner' && live.items > 0 ? (newEntities[0]?.share ?? 0) : null,
    thresholds.newTokenShare,
    'largest share of texts with one entity (type and text) never seen in training',
  );

  const drifted = signals.filter((s) => s.drifted).map((s) => s.name);
  return {
    status: !enough ? 'insufficient-data' : drifted.length > 0 ? 'drift' : 'ok',
    items: live.items,
    minSamples,
    signals,
    drifted,
    newTokens,
    newEntities,
  };
}
