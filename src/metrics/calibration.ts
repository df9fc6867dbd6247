/**
 * Calibration: does a model's confidence match how often it is right? Expected calibration error
 * (ECE), maximum calibration error (MCE) and reliability-diagram bins from (confidence, correct)
 * pairs, as a mergeable accumulator. Bins are equal-width on [0, 1]: bin i holds confidences in
 * [i/B, (i+1)/B), and the last bin also holds 1. Confidence sums are kept as integers in millionths,
 * so merged counts equal a single pass exactly (the rounding moves a bin's mean confidence by at most
 * 5e-7).
 */
import { ConfigError, DataError, type ErrorLocation, SapphireError } from '../core/errors.ts';
import type { Span } from '../data/types.ts';
import type { PredictedSpan, Prediction } from '../models/model.ts';
import { safeDivide } from './label-counts.ts';
import { predictedClass, predictedLabelSet } from './prediction-labels.ts';
import { compareSpans, type SpanSource } from './span-metrics.ts';

/** Default number of equal-width bins. */
export const DEFAULT_CALIBRATION_BINS = 10;

/** Confidence sums are stored in units of 1 / CONFIDENCE_SCALE. */
const CONFIDENCE_SCALE = 1_000_000;

/** Confidences this far outside [0, 1] (floating-point noise from a softmax) are clamped, not rejected. */
export const CONFIDENCE_TOLERANCE = 1e-6;

/** One prediction's confidence and whether it was right. */
export interface ConfidencePair {
  confidence: number;
  correct: boolean;
}

/** Counts of one bin. */
export interface CalibrationBinCounts {
  count: number;
  correct: number;
  /** Sum of the bin's confidences in millionths. */
  confidenceMicros: number;
}

/** Mergeable calibration counts, one entry per equal-width bin; JSON-serialisable. */
export interface CalibrationCounts {
  bins: CalibrationBinCounts[];
}

/** One bar of a reliability diagram. */
export interface ReliabilityBin {
  /** Inclusive lower edge. */
  lower: number;
  /** Exclusive upper edge (inclusive for the last bin). */
  upper: number;
  count: number;
  /** Fraction of the bin's predictions that were right (0 for an empty bin). */
  accuracy: number;
  /** Mean confidence of the bin's predictions (0 for an empty bin). */
  confidence: number;
  /** `confidence − accuracy`: positive means over-confident. */
  gap: number;
}

/** Calibration summary: ECE, MCE, the number of pairs and the reliability bins. */
export interface CalibrationReport {
  /** Σ over bins of (bin count / total) · |accuracy − confidence|; 0 when there are no pairs. */
  ece: number;
  /** Largest |accuracy − confidence| over non-empty bins; 0 when there are no pairs. */
  mce: number;
  count: number;
  bins: ReliabilityBin[];
}

/** Creates empty calibration counts with `binCount` equal-width bins (default 10). */
export function createCalibrationCounts(binCount: number = DEFAULT_CALIBRATION_BINS): CalibrationCounts {
  if (!Number.isInteger(binCount) || binCount < 1 || binCount > 1000) {
    throw new ConfigError(`calibration bin count ${binCount} is not an integer from 1 to 1000`, {
      path: 'calibration.bins',
      hint: 'use a small whole number of bins such as 10 or 15',
    });
  }
  return { bins: Array.from({ length: binCount }, () => ({ count: 0, correct: 0, confidenceMicros: 0 })) };
}

/** The bin index of a confidence in [0, 1] for `binCount` bins. */
export function binIndex(confidence: number, binCount: number): number {
  return Math.min(binCount - 1, Math.max(0, Math.floor(confidence * binCount)));
}

/**
 * Adds one (confidence, correct) pair (mutating and returning the counts); throws a DataError for a
 * confidence that is not a number in [0, 1].
 */
export function addCalibration(
  counts: CalibrationCounts,
  confidence: number,
  correct: boolean,
  where: ErrorLocation = {},
): CalibrationCounts {
  if (
    typeof confidence !== 'number' ||
    !Number.isFinite(confidence) ||
    confidence < -CONFIDENCE_TOLERANCE ||
    confidence > 1 + CONFIDENCE_TOLERANCE
  ) {
    throw new DataError(`confidence ${String(confidence)} is not a number in [0, 1]`, {
      ...where,
      hint: 'models must report probabilities (or scores normalised to [0, 1]) as confidences',
    });
  }
  const clamped = Math.min(1, Math.max(0, confidence));
  const bin = counts.bins[binIndex(clamped, counts.bins.length)]!;
  bin.count++;
  if (correct) bin.correct++;
  bin.confidenceMicros += Math.round(clamped * CONFIDENCE_SCALE);
  return counts;
}

/** Adds many pairs (mutating and returning the counts). */
export function addCalibrationPairs(
  counts: CalibrationCounts,
  pairs: Iterable<ConfidencePair>,
  where: ErrorLocation = {},
): CalibrationCounts {
  for (const pair of pairs) addCalibration(counts, pair.confidence, pair.correct, where);
  return counts;
}

/** New counts equal to the sum of two with the same number of bins; the inputs are not changed. */
export function mergeCalibrationCounts(a: CalibrationCounts, b: CalibrationCounts): CalibrationCounts {
  if (a.bins.length !== b.bins.length) {
    throw new SapphireError(
      'BAD_INPUT',
      `cannot merge calibration counts with ${a.bins.length} and ${b.bins.length} bins`,
      { hint: 'create every batch’s counts with the same bin count' },
    );
  }
  return {
    bins: a.bins.map((x, i) => {
      const y = b.bins[i]!;
      return {
        count: x.count + y.count,
        correct: x.correct + y.correct,
        confidenceMicros: x.confidenceMicros + y.confidenceMicros,
      };
    }),
  };
}

/**
 * ECE, MCE and reliability bins from the counts.
 *
 * @example
 * const counts = createCalibrationCounts();
 * addCalibrationPairs(counts, [{ confidence: 0.9, correct: true }, { confidence: 0.9, correct: false }]);
 * calibrationReport(counts).ece; // 0.4 (confidence 0.9, accuracy 0.5)
 */
export function calibrationReport(counts: CalibrationCounts): CalibrationReport {
  const binCount = counts.bins.length;
  const total = counts.bins.reduce((s, b) => s + b.count, 0);
  let ece = 0;
  let mce = 0;
  const bins = counts.bins.map((b, i): ReliabilityBin => {
    const accuracy = safeDivide(b.correct, b.count);
    const confidence = safeDivide(b.confidenceMicros, b.count * CONFIDENCE_SCALE);
    const gap = confidence - accuracy;
    if (b.count > 0) {
      ece += (b.count / total) * Math.abs(gap);
      mce = Math.max(mce, Math.abs(gap));
    }
    return { lower: i / binCount, upper: (i + 1) / binCount, count: b.count, accuracy, confidence, gap };
  });
  return { ece, mce, count: total, bins };
}

/** NER pairs: each predicted span's score, correct when it exactly matches a gold span. */
export function spanConfidencePairs(
  gold: readonly Span[],
  predicted: readonly PredictedSpan[],
  source: { gold?: SpanSource; predicted?: SpanSource } = {},
): ConfidencePair[] {
  const { truePositives, falsePositives } = compareSpans(gold, predicted, source);
  return [
    ...truePositives.map((s) => ({ confidence: s.score, correct: true })),
    ...falsePositives.map((s) => ({ confidence: s.score, correct: false })),
  ];
}

/**
 * Single-label pair: the confidence of the predicted label (its top score), correct when it is the
 * gold label; undefined when the prediction has no label or no score for it.
 */
export function classificationConfidencePair(
  gold: string,
  prediction: Prediction,
): ConfidencePair | undefined {
  const label = predictedClass(prediction);
  if (label === undefined || !prediction.scores?.length) return undefined;
  const scored = prediction.scores.find((s) => s.label === label);
  if (scored === undefined) return undefined;
  return { confidence: scored.score, correct: label === gold };
}

/**
 * Multi-label pairs: one binary decision per scored label — confidence `score` when the label was
 * predicted, else `1 − score` — correct when the decision agrees with the gold set.
 */
export function multiLabelConfidencePairs(gold: readonly string[], prediction: Prediction): ConfidencePair[] {
  const goldSet = new Set(gold);
  const predicted = new Set(predictedLabelSet(prediction));
  return (prediction.scores ?? []).map((s) => {
    const chosen = predicted.has(s.label);
    return { confidence: chosen ? s.score : 1 - s.score, correct: chosen === goldSet.has(s.label) };
  });
}
