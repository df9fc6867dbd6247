/**
 * Per-slice metrics: the primary metric on every declared slice of the problem card and on
 * automatic slices, with the slices that fall well below the overall score flagged as lagging.
 *
 * Automatic slices (empty ones are left out; declared ones are always listed):
 * - length: token-count terciles of the evaluated examples (`length-short`, `length-medium`,
 *   `length-long`; an example's own tokens, else the tokenizer's).
 * - rarity: a label is rare when its count is below half the mean count per label, counted in
 *   `train` when given, else in the evaluated examples' gold (labels listed in `labels` but never
 *   seen count 0). ner: `rare-types` holds examples with at least one gold entity of a rare type,
 *   `frequent-types` those whose gold entities are all of frequent types; classify and multilabel:
 *   `rare-classes` / `frequent-classes` by the gold label(s) in the same way.
 * - unseen (ner, when `train` is given): `unseen-entities` holds examples with at least one gold
 *   entity whose surface text (case and spacing ignored) is never an entity in `train`,
 *   `seen-entities` those whose gold entities all are.
 *
 * A slice lags when it has at least `minExamples` examples and its score is more than
 * `lagThreshold` below the overall score (above, for metrics where lower is better).
 */
import { ConfigError } from '../core/errors.ts';
import type { SliceDefinition } from '../data/slices.ts';
import { sliceMembership } from '../data/slices.ts';
import type { Example, TaskKind } from '../data/types.ts';
import { evaluatePredictions } from '../metrics/evaluate.ts';
import type { Prediction } from '../models/model.ts';
import { tokenize } from '../text/tokenizer.ts';
import { checkAligned } from './error-taxonomy.ts';

/** The primary metric on one slice. */
export interface SliceRow {
  name: string;
  kind: 'declared' | 'length' | 'rarity' | 'unseen';
  /** What the slice holds, in words (declared slices: their description, when they have one). */
  description?: string;
  examples: number;
  /** Every metric of the slice's evaluation (empty when the slice has no example). */
  metrics: Record<string, number>;
  /** The primary metric on the slice (null when it has no example). */
  score: number | null;
  /** score − overall (null when it has no example). */
  delta: number | null;
  lagging: boolean;
}

/** Options for {@link sliceMetrics}. */
export interface SliceMetricsOptions {
  /** The metric compared across slices (a name of the evaluation's metrics, e.g. `span_f1_micro`). */
  primary: string;
  /** The project's label set. */
  labels?: readonly string[];
  /** Declared slices (the problem card's `slices`). */
  slices?: readonly SliceDefinition[];
  /** Training examples: label frequencies and seen entity surfaces come from them. */
  train?: readonly Example[];
  /** Slices with fewer examples are reported but never flagged (default 20). */
  minExamples?: number;
  /** How far below the overall score a slice must fall to be flagged (default 0.05, absolute). */
  lagThreshold?: number;
}

/** The result of {@link sliceMetrics}. */
export interface SliceMetrics {
  /** The primary metric on all examples. */
  overall: number;
  rows: SliceRow[];
}

/** Default least number of examples for a slice to be flagged. */
export const DEFAULT_MIN_SLICE_EXAMPLES = 20;
/** Default absolute drop below the overall score that flags a slice. */
export const DEFAULT_LAG_THRESHOLD = 0.05;

const LOWER_IS_BETTER = new Set(['hamming_loss', 'ece']);

interface AutoSlice {
  name: string;
  kind: SliceRow['kind'];
  description: string;
  members: boolean[];
}

function tokenCount(example: Example): number {
  return example.tokens?.length ?? tokenize(example.text).length;
}

function lengthSlices(examples: readonly Example[]): AutoSlice[] {
  const counts = examples.map(tokenCount);
  const sorted = [...counts].sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  // The last value of the first and second thirds (13 / 13 / 14 for 40 distinct lengths).
  const q1 = sorted[Math.max(0, Math.floor(sorted.length / 3) - 1)]!;
  const q2 = sorted[Math.max(0, Math.floor((2 * sorted.length) / 3) - 1)]!;
  const max = sorted[sorted.length - 1]!;
  const min = sorted[0]!;
  const range = (lo: number, hi: number): string => (lo === hi ? `${lo} tokens` : `${lo}–${hi} tokens`);
  return [
    {
      name: 'length-short',
      kind: 'length',
      description: range(min, q1),
      members: counts.map((n) => n <= q1),
    },
    {
      name: 'length-medium',
      kind: 'length',
      description: range(q1 + 1, q2),
      members: counts.map((n) => n > q1 && n <= q2),
    },
    {
      name: 'length-long',
      kind: 'length',
      description: range(q2 + 1, max),
      members: counts.map((n) => n > q2),
    },
  ];
}

function goldLabelsOf(task: TaskKind, example: Example): string[] {
  return task === 'ner' ? (example.spans ?? []).map((s) => s.label) : (example.labels ?? []);
}

/** Labels whose count is below half the mean count per label (listed labels never seen count 0). */
export function rareLabels(
  task: TaskKind,
  reference: readonly Example[],
  labels: readonly string[] = [],
): Set<string> {
  const counts = new Map<string, number>(labels.map((l) => [l, 0]));
  for (const example of reference) {
    for (const label of goldLabelsOf(task, example)) counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  if (counts.size === 0) return new Set();
  const mean = [...counts.values()].reduce((s, n) => s + n, 0) / counts.size;
  return new Set([...counts].filter(([, n]) => n < mean / 2).map(([label]) => label));
}

function rarityInput(
  task: TaskKind,
  examples: readonly Example[],
  options: SliceMetricsOptions,
): Set<string> {
  // Labels of the evaluated examples that never occur in train are rare too.
  const listed = [...(options.labels ?? []), ...examples.flatMap((e) => goldLabelsOf(task, e))];
  return rareLabels(task, options.train ?? examples, listed);
}

function raritySlices(
  task: TaskKind,
  examples: readonly Example[],
  options: SliceMetricsOptions,
): AutoSlice[] {
  const rare = rarityInput(task, examples, options);
  if (rare.size === 0) return [];
  const noun = task === 'ner' ? 'types' : 'classes';
  const rareList = [...rare].sort().join(', ');
  const golds = examples.map((e) => goldLabelsOf(task, e));
  return [
    {
      name: `rare-${noun}`,
      kind: 'rarity',
      description: `examples with a gold ${task === 'ner' ? 'entity of a rare type' : 'rare class'} (${rareList})`,
      members: golds.map((ls) => ls.some((l) => rare.has(l))),
    },
    {
      name: `frequent-${noun}`,
      kind: 'rarity',
      description: `examples whose gold ${task === 'ner' ? 'entities are all of frequent types' : 'classes are all frequent'}`,
      members: golds.map((ls) => ls.length > 0 && ls.every((l) => !rare.has(l))),
    },
  ];
}

function surfaceKey(text: string): string {
  return text.toLowerCase().replace(/\s+/gu, ' ').trim();
}

function unseenSlices(examples: readonly Example[], train: readonly Example[]): AutoSlice[] {
  const seen = new Set<string>();
  for (const ex of train) for (const s of ex.spans ?? []) seen.add(surfaceKey(ex.text.slice(s.start, s.end)));
  const surfaces = examples.map((e) => (e.spans ?? []).map((s) => surfaceKey(e.text.slice(s.start, s.end))));
  return [
    {
      name: 'unseen-entities',
      kind: 'unseen',
      description: 'examples with a gold entity whose text is never an entity in training',
      members: surfaces.map((ss) => ss.some((s) => !seen.has(s))),
    },
    {
      name: 'seen-entities',
      kind: 'unseen',
      description: 'examples whose gold entities all occur as entities in training',
      members: surfaces.map((ss) => ss.length > 0 && ss.every((s) => seen.has(s))),
    },
  ];
}

/**
 * Scores the primary metric on declared and automatic slices and flags the lagging ones.
 *
 * @example
 * const { overall, rows } = sliceMetrics('ner', test, predictions, {
 *   primary: card.metrics.primary, labels: card.labels, slices: card.slices, train,
 * });
 * rows.filter((r) => r.lagging).map((r) => r.name); // ['unseen-entities']
 */
export function sliceMetrics(
  task: TaskKind,
  examples: readonly Example[],
  predictions: readonly Prediction[],
  options: SliceMetricsOptions,
): SliceMetrics {
  checkAligned(examples, predictions);
  const minExamples = options.minExamples ?? DEFAULT_MIN_SLICE_EXAMPLES;
  const lagThreshold = options.lagThreshold ?? DEFAULT_LAG_THRESHOLD;
  const evalOptions = options.labels ? { labels: options.labels } : {};
  const whole = evaluatePredictions(task, examples, predictions, evalOptions).metrics;
  if (!Object.hasOwn(whole, options.primary)) {
    throw new ConfigError(`metric "${options.primary}" is not reported for task ${task}`, {
      path: 'metrics.primary',
      hint: `use one of ${Object.keys(whole).join(', ')}`,
    });
  }
  const overall = whole[options.primary]!;
  const sign = LOWER_IS_BETTER.has(options.primary) ? -1 : 1;

  const row = (
    name: string,
    kind: SliceRow['kind'],
    description: string | undefined,
    members: boolean[],
  ): SliceRow => {
    const subset = examples.filter((_, i) => members[i]);
    const base = {
      name,
      kind,
      ...(description !== undefined ? { description } : {}),
      examples: subset.length,
    };
    if (subset.length === 0) return { ...base, metrics: {}, score: null, delta: null, lagging: false };
    const metrics = evaluatePredictions(
      task,
      subset,
      predictions.filter((_, i) => members[i]),
      evalOptions,
    ).metrics;
    const score = metrics[options.primary]!;
    const delta = score - overall;
    return {
      ...base,
      metrics,
      score,
      delta,
      lagging: subset.length >= minExamples && sign * delta < -lagThreshold,
    };
  };

  const rows: SliceRow[] = [];
  const declared = options.slices ?? [];
  if (declared.length > 0) {
    const membership = sliceMembership(examples, declared);
    for (const def of declared) {
      const ids = new Set(membership.get(def.name));
      const members = examples.map((e) => ids.has(e.id));
      rows.push(row(def.name, 'declared', def.description, members));
    }
  }
  const auto: AutoSlice[] = [...lengthSlices(examples), ...raritySlices(task, examples, options)];
  if (task === 'ner' && options.train) auto.push(...unseenSlices(examples, options.train));
  for (const s of auto) {
    if (s.members.some(Boolean)) rows.push(row(s.name, s.kind, s.description, s.members));
  }
  return { overall, rows };
}
