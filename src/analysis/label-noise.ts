/**
 * Suspected label noise: examples where one or several prediction sets (models, seeds or
 * cross-validation folds' out-of-fold predictions, each aligned with the examples) confidently and
 * consistently disagree with the gold label. A disagreement counts when its confidence is at least
 * `threshold`; a suspect needs the same disagreement from at least `minAgreeing` sets (default: a
 * strict majority of the sets).
 *
 * - classify: the same wrong class predicted with score ≥ threshold.
 * - ner: the same non-gold entity (start, end, label) predicted with score ≥ threshold; `gold`
 *   describes the gold entities it overlaps (`none` when there are none).
 * - multilabel: the same label added (score ≥ threshold; predicted `+label`) or removed (score ≤
 *   1 − threshold, confidence 1 − score; predicted `-label`); `gold` is the gold label set.
 */
import { ConfigError } from '../core/errors.ts';
import type { Example, Span, TaskKind } from '../data/types.ts';
import { predictedClass } from '../metrics/prediction-labels.ts';
import { compareSpans } from '../metrics/span-metrics.ts';
import type { Prediction } from '../models/model.ts';
import { checkAligned, describeSpan, spanOverlap } from './error-taxonomy.ts';

/** One example whose gold label the models doubt. */
export interface LabelNoiseSuspect {
  exampleId: string;
  text: string;
  gold: string;
  predicted: string;
  /** Mean confidence of the agreeing prediction sets. */
  confidence: number;
  /** How many prediction sets make this same confident disagreement. */
  agreeing: number;
}

/** Options for {@link suspectLabelNoise}. */
export interface LabelNoiseOptions {
  /** Least confidence for a disagreement to count (default 0.9). */
  threshold?: number;
  /** Least number of agreeing prediction sets (default: more than half of them). */
  minAgreeing?: number;
  /** Most suspects returned (default: all). */
  limit?: number;
}

/** Default confidence a disagreement needs to count as suspected label noise. */
export const DEFAULT_NOISE_THRESHOLD = 0.9;

interface Vote {
  /** Identifies the same disagreement across prediction sets. */
  key: string;
  gold: string;
  predicted: string;
  confidence: number;
}

function scoreOf(prediction: Prediction, label: string): number | undefined {
  return prediction.scores?.find((s) => s.label === label)?.score;
}

function describeGoldOverlaps(example: Example, span: Span): string {
  const overlapping = (example.spans ?? []).filter((g) => spanOverlap(g, span) > 0);
  return overlapping.map((g) => describeSpan(example.text, g)).join('; ') || 'none';
}

function votes(
  task: TaskKind,
  example: Example,
  prediction: Prediction,
  threshold: number,
  index: number,
): Vote[] {
  if (task === 'classify') {
    const gold = example.labels?.[0];
    const predicted = predictedClass(prediction);
    if (gold === undefined || predicted === undefined || predicted === gold) return [];
    const confidence = scoreOf(prediction, predicted);
    return confidence !== undefined && confidence >= threshold
      ? [{ key: predicted, gold, predicted, confidence }]
      : [];
  }
  if (task === 'ner') {
    const { falsePositives } = compareSpans(example.spans ?? [], prediction.spans ?? [], {
      gold: { exampleId: example.id, path: 'spans' },
      predicted: { exampleId: example.id, path: `predictions[${index}].spans` },
    });
    return falsePositives
      .filter((s) => s.score >= threshold)
      .map((s) => ({
        key: `${s.start}:${s.end}:${s.label}`,
        gold: describeGoldOverlaps(example, s),
        predicted: describeSpan(example.text, s),
        confidence: s.score,
      }));
  }
  const goldLabels = example.labels ?? [];
  const gold = goldLabels.join(', ') || 'none';
  const out: Vote[] = [];
  for (const { label, score } of prediction.scores ?? []) {
    const inGold = goldLabels.includes(label);
    if (!inGold && score >= threshold)
      out.push({ key: `+${label}`, gold, predicted: `+${label}`, confidence: score });
    if (inGold && 1 - score >= threshold)
      out.push({ key: `-${label}`, gold, predicted: `-${label}`, confidence: 1 - score });
  }
  return out;
}

/**
 * Examples whose gold label is confidently and consistently contradicted, most agreeing sets first,
 * then most confident.
 *
 * @example
 * suspectLabelNoise('classify', dev, [foldPredictions, otherModelPredictions], { threshold: 0.95 });
 * // [{ exampleId: 'ex42', gold: 'refund', predicted: 'cancel', confidence: 0.97, agreeing: 2 }]
 */
export function suspectLabelNoise(
  task: TaskKind,
  examples: readonly Example[],
  predictionSets: readonly (readonly Prediction[])[],
  options: LabelNoiseOptions = {},
): LabelNoiseSuspect[] {
  const threshold = options.threshold ?? DEFAULT_NOISE_THRESHOLD;
  if (!(threshold > 0 && threshold <= 1)) {
    throw new ConfigError(`label-noise threshold ${threshold} is not in (0, 1]`, {
      path: 'threshold',
      hint: 'use a confidence such as 0.9',
    });
  }
  predictionSets.forEach((set, i) => {
    checkAligned(examples, set, `predictionSets[${i}]`);
  });
  const minAgreeing = options.minAgreeing ?? Math.floor(predictionSets.length / 2) + 1;
  const suspects: LabelNoiseSuspect[] = [];
  examples.forEach((example, i) => {
    const tally = new Map<string, { gold: string; predicted: string; sets: number; total: number }>();
    for (const set of predictionSets) {
      const seen = new Set<string>();
      for (const vote of votes(task, example, set[i] ?? {}, threshold, i)) {
        if (seen.has(vote.key)) continue;
        seen.add(vote.key);
        const entry = tally.get(vote.key) ?? {
          gold: vote.gold,
          predicted: vote.predicted,
          sets: 0,
          total: 0,
        };
        entry.sets++;
        entry.total += vote.confidence;
        tally.set(vote.key, entry);
      }
    }
    for (const entry of tally.values()) {
      if (entry.sets < minAgreeing) continue;
      suspects.push({
        exampleId: example.id,
        text: example.text,
        gold: entry.gold,
        predicted: entry.predicted,
        confidence: entry.total / entry.sets,
        agreeing: entry.sets,
      });
    }
  });
  suspects.sort((a, b) => b.agreeing - a.agreeing || b.confidence - a.confidence);
  return options.limit === undefined ? suspects : suspects.slice(0, Math.max(0, options.limit));
}
