import type { Example } from '../../data/types.ts';

/** How often each label occurs in training: counts per label (examples carrying it) and the example count. */
export interface LabelPrior {
  labels: string[];
  counts: number[];
  total: number;
}

/** Counts labels over `examples` (each example counts once per label it carries); labels sorted. */
export function countLabels(examples: Example[], labels: string[]): LabelPrior {
  const index = new Map(labels.map((l, k) => [l, k]));
  const counts = labels.map(() => 0);
  for (const ex of examples) for (const l of new Set(ex.labels ?? [])) counts[index.get(l)!]!++;
  return { labels, counts, total: examples.length };
}

/** Relative frequency of each label (counts divided by the example count). */
export function frequencies(prior: LabelPrior): number[] {
  return prior.counts.map((c) => c / Math.max(1, prior.total));
}

/** Label indices sorted by descending score, ties by label order (so output is deterministic). */
export function rankByScore(scores: number[]): number[] {
  return [...scores.keys()].sort((a, b) => scores[b]! - scores[a]! || a - b);
}
