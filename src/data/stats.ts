import { tokenize } from '../text/tokenizer.ts';
import { inferTask } from './split.ts';
import type { Example, TaskKind } from './types.ts';

/** Name used for examples whose `split` is undefined. */
export const NO_SPLIT = '(none)';

/** How many example ids are kept as samples per finding. */
const SAMPLE_IDS = 5;
/** How many duplicate groups are kept as samples. */
const SAMPLE_GROUPS = 10;
/** Longest normalised text kept in a duplicate sample. */
const SAMPLE_TEXT_CHARS = 80;

/** Length buckets in tokens: inclusive bounds, `max: null` for the open last bucket. */
export const LENGTH_BUCKETS: readonly { min: number; max: number | null }[] = [
  { min: 0, max: 0 },
  { min: 1, max: 5 },
  { min: 6, max: 10 },
  { min: 11, max: 20 },
  { min: 21, max: 40 },
  { min: 41, max: 80 },
  { min: 81, max: 160 },
  { min: 161, max: 320 },
  { min: 321, max: null },
];

/** A label with its count and the fraction of the relevant total (see where it is used). */
export interface LabelCount {
  label: string;
  count: number;
  fraction: number;
}

/** An entity label: spans with that label, their share of all spans, and examples containing one. */
export interface EntityLabelCount extends LabelCount {
  examples: number;
}

/** Size and label distribution of one split. */
export interface SplitStats {
  split: string;
  examples: number;
  tokens: number;
  entities: number;
  /**
   * Label distribution of the split: for `ner` entity spans per label (fraction of the split's
   * spans), for `classify`/`multilabel` examples per label (fraction of the split's examples).
   * Sorted like the dataset-wide labels; labels absent from the split are listed with count 0.
   */
  labels: LabelCount[];
}

/** One bucket of the length histogram (token counts, inclusive bounds). */
export interface LengthBucket {
  label: string;
  min: number;
  max: number | null;
  count: number;
}

/** Example lengths in tokens. */
export interface LengthStats {
  min: number;
  mean: number;
  /** Middle value (mean of the two middle values for an even count). */
  median: number;
  /** 95th percentile, nearest-rank. */
  p95: number;
  max: number;
  histogram: LengthBucket[];
}

/** A group of examples whose texts are equal after lowercasing and collapsing whitespace. */
export interface DuplicateGroup {
  /** The normalised text, cut to 80 characters. */
  text: string;
  count: number;
  /** The first few example ids. */
  ids: string[];
  /** Whether members disagree on labels or spans. */
  conflicting: boolean;
}

/** Exact duplicate texts (normalised); empty texts are not counted here (see `emptyTexts`). */
export interface DuplicateStats {
  groups: number;
  /** Examples that belong to a duplicate group (every member, including the first). */
  examples: number;
  /** Examples that could be removed, keeping one per group. */
  redundant: number;
  conflictingGroups: number;
  conflictingExamples: number;
  /** A few groups, conflicting ones first, then the largest. */
  samples: DuplicateGroup[];
}

/** Texts of a non-train split that also occur (normalised) in the train split. */
export interface LeakageStats {
  split: string;
  examples: number;
  /** Fraction of the split's examples that leak. */
  fraction: number;
  sampleIds: string[];
}

/** Tokens of a non-train split never seen (lowercased) in the train split. */
export interface UnseenTokenStats {
  split: string;
  tokens: number;
  unseenTokens: number;
  tokenFraction: number;
  types: number;
  unseenTypes: number;
  typeFraction: number;
}

/** Counts and label distribution of one slice (a named subset of example ids). */
export interface SliceStats {
  name: string;
  examples: number;
  /** Ids listed for the slice that are not in the dataset. */
  missingIds: number;
  /** Slice examples per split. */
  splits: { split: string; count: number }[];
  /** Label distribution, with the same meaning as {@link SplitStats.labels}; labels with count 0 are left out. */
  labels: LabelCount[];
}

/** Statistics of a set of examples; plain JSON (printed as-is by `--json`). */
export interface DatasetStats {
  task: TaskKind;
  examples: number;
  tokens: number;
  characters: number;
  /** Examples whose text is empty or only whitespace. */
  emptyTexts: number;
  emptyTextIds: string[];
  entities: { total: number; labels: EntityLabelCount[] };
  /** Examples per class label; fraction of all examples. */
  classLabels: LabelCount[];
  /** Splits in order train, dev, validation, test, then others by name, `(none)` last. */
  splits: SplitStats[];
  length: LengthStats;
  duplicates: DuplicateStats;
  /** Name of the split treated as training data for leakage and unseen tokens, or null if absent. */
  trainSplit: string | null;
  leakage: LeakageStats[];
  unseenTokens: UnseenTokenStats[];
  slices: SliceStats[];
}

/** Options for {@link computeStats}. */
export interface StatsOptions {
  /** Task used for label distributions; inferred when omitted (see `inferTask`). */
  task?: TaskKind;
  /** Named slices (name → example ids), computed elsewhere. */
  slices?: Map<string, string[]>;
  /** Split treated as training data; defaults to `train`. */
  trainSplit?: string;
}

/** Lowercases and collapses whitespace, the normalisation used for duplicate and leakage checks. */
export function normalizeText(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

const SPLIT_ORDER = ['train', 'dev', 'validation', 'valid', 'test'];

/** Orders split names train, dev, validation, valid, test, then others by name, `(none)` last. */
export function compareSplits(a: string, b: string): number {
  const rank = (s: string) => {
    if (s === NO_SPLIT) return SPLIT_ORDER.length + 1;
    const i = SPLIT_ORDER.indexOf(s);
    return i >= 0 ? i : SPLIT_ORDER.length;
  };
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

function increment(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** Annotation fingerprint that survives case and whitespace changes: labels plus span positions in non-space chars. */
function annotationKey(ex: Example): string {
  const labels = [...new Set(ex.labels ?? [])].sort().join(',');
  const spans = ex.spans ?? [];
  if (spans.length === 0) return labels;
  const nonSpaceBefore = new Int32Array(ex.text.length + 1);
  for (let i = 0; i < ex.text.length; i++) {
    nonSpaceBefore[i + 1] = nonSpaceBefore[i]! + (/\s/.test(ex.text[i]!) ? 0 : 1);
  }
  const at = (i: number) => nonSpaceBefore[Math.max(0, Math.min(i, ex.text.length))]!;
  const spanKeys = spans.map((s) => `${at(s.start)}:${at(s.end)}:${s.label}`).sort();
  return `${labels}|${spanKeys.join(',')}`;
}

function toLabelCounts(counts: Map<string, number>, total: number, order?: string[]): LabelCount[] {
  const labels = order ?? sortByCount(counts);
  return labels.map((label) => {
    const count = counts.get(label) ?? 0;
    return { label, count, fraction: total > 0 ? count / total : 0 };
  });
}

function sortByCount(counts: Map<string, number>): string[] {
  return [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || (a < b ? -1 : a > b ? 1 : 0));
}

function lengthStats(lengths: number[]): LengthStats {
  const histogram = LENGTH_BUCKETS.map(({ min, max }) => ({
    label: max === null ? `${min}+` : min === max ? `${min}` : `${min}–${max}`,
    min,
    max,
    count: 0,
  }));
  if (lengths.length === 0) return { min: 0, mean: 0, median: 0, p95: 0, max: 0, histogram };
  const sorted = Float64Array.from(lengths).sort();
  for (const n of sorted) {
    const bucket = histogram.find((b) => b.max === null || n <= b.max)!;
    bucket.count++;
  }
  const count = sorted.length;
  const mid = Math.floor(count / 2);
  const median = count % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    min: sorted[0]!,
    mean: sum / count,
    median,
    p95: sorted[Math.max(0, Math.ceil(0.95 * count) - 1)]!,
    max: sorted[count - 1]!,
    histogram,
  };
}

interface SplitAccumulator {
  examples: number;
  tokens: number;
  entities: number;
  units: number;
  labels: Map<string, number>;
}

/**
 * Computes dataset statistics in one pass over the tokens (plus sorting the per-example lengths):
 * sizes, entity and class label counts, per-split and per-slice label distributions, a length
 * histogram, duplicate and conflicting texts, train/test leakage and tokens unseen in train.
 *
 * @example
 * const stats = computeStats(examples, { slices: new Map([['short', ['ex1', 'ex7']]]) });
 * console.log(stats.leakage); // [{ split: 'test', examples: 12, fraction: 0.01, sampleIds: [...] }]
 */
export function computeStats(examples: readonly Example[], options: StatsOptions = {}): DatasetStats {
  const task = options.task ?? inferTask(examples);
  const trainName = options.trainSplit ?? 'train';
  // Units counted by a split's label distribution: entity spans for NER, else examples' class labels.
  const unitLabels = (ex: Example): string[] =>
    task === 'ner' ? (ex.spans ?? []).map((s) => s.label) : [...new Set(ex.labels ?? [])];
  const unitTotal = (ex: Example): number => (task === 'ner' ? (ex.spans ?? []).length : 1);

  let tokens = 0;
  let characters = 0;
  const emptyTextIds: string[] = [];
  let emptyTexts = 0;
  const entityCounts = new Map<string, number>();
  const entityExamples = new Map<string, number>();
  const classCounts = new Map<string, number>();
  const splits = new Map<string, SplitAccumulator>();
  const lengths: number[] = [];
  // Lowercased train tokens go straight into the vocabulary; other splits' tokens are kept for later.
  const trainVocabulary = new Set<string>();
  const heldOutTokens: string[][] = [];
  const textGroups = new Map<
    string,
    { ids: string[]; count: number; annotation: string; conflicting: boolean }
  >();
  const normalized: string[] = [];

  for (const ex of examples) {
    const toks = (ex.tokens ?? tokenize(ex.text)).map((t) => t.text.toLowerCase());
    if (ex.split === trainName) for (const t of toks) trainVocabulary.add(t);
    else heldOutTokens.push(toks);
    tokens += toks.length;
    lengths.push(toks.length);
    characters += ex.text.length;
    const spans = ex.spans ?? [];
    for (const s of spans) increment(entityCounts, s.label);
    for (const label of new Set(spans.map((s) => s.label))) increment(entityExamples, label);
    for (const label of new Set(ex.labels ?? [])) increment(classCounts, label);

    const splitName = ex.split ?? NO_SPLIT;
    let acc = splits.get(splitName);
    if (!acc) {
      acc = { examples: 0, tokens: 0, entities: 0, units: 0, labels: new Map() };
      splits.set(splitName, acc);
    }
    acc.examples++;
    acc.tokens += toks.length;
    acc.entities += spans.length;
    acc.units += unitTotal(ex);
    for (const label of unitLabels(ex)) increment(acc.labels, label);

    const norm = normalizeText(ex.text);
    normalized.push(norm);
    if (norm === '') {
      emptyTexts++;
      if (emptyTextIds.length < SAMPLE_IDS) emptyTextIds.push(ex.id);
      continue;
    }
    const annotation = annotationKey(ex);
    const group = textGroups.get(norm);
    if (!group) textGroups.set(norm, { ids: [ex.id], count: 1, annotation, conflicting: false });
    else {
      group.count++;
      if (group.ids.length < SAMPLE_IDS) group.ids.push(ex.id);
      if (group.annotation !== annotation) group.conflicting = true;
    }
  }

  const labelOrder = sortByCount(task === 'ner' ? entityCounts : classCounts);
  const splitNames = [...splits.keys()].sort(compareSplits);
  const totalEntities = [...entityCounts.values()].reduce((a, b) => a + b, 0);

  return {
    task,
    examples: examples.length,
    tokens,
    characters,
    emptyTexts,
    emptyTextIds,
    entities: {
      total: totalEntities,
      labels: sortByCount(entityCounts).map((label) => ({
        label,
        count: entityCounts.get(label)!,
        fraction: entityCounts.get(label)! / totalEntities,
        examples: entityExamples.get(label) ?? 0,
      })),
    },
    classLabels: toLabelCounts(classCounts, examples.length),
    splits: splitNames.map((split) => {
      const acc = splits.get(split)!;
      return {
        split,
        examples: acc.examples,
        tokens: acc.tokens,
        entities: acc.entities,
        labels: toLabelCounts(acc.labels, acc.units, labelOrder),
      };
    }),
    length: lengthStats(lengths),
    duplicates: duplicateStats(textGroups),
    trainSplit: splits.has(trainName) ? trainName : null,
    leakage: splits.has(trainName) ? leakageStats(examples, normalized, trainName, splitNames) : [],
    unseenTokens: splits.has(trainName)
      ? unseenTokenStats(examples, heldOutTokens, trainVocabulary, trainName, splitNames)
      : [],
    slices: sliceStats(examples, options.slices, { labelOrder, unitLabels, unitTotal }),
  };
}

function duplicateStats(
  textGroups: Map<string, { ids: string[]; count: number; conflicting: boolean }>,
): DuplicateStats {
  const stats: DuplicateStats = {
    groups: 0,
    examples: 0,
    redundant: 0,
    conflictingGroups: 0,
    conflictingExamples: 0,
    samples: [],
  };
  const all: DuplicateGroup[] = [];
  for (const [text, g] of textGroups) {
    if (g.count < 2) continue;
    stats.groups++;
    stats.examples += g.count;
    stats.redundant += g.count - 1;
    if (g.conflicting) {
      stats.conflictingGroups++;
      stats.conflictingExamples += g.count;
    }
    const shown = text.length > SAMPLE_TEXT_CHARS ? `${text.slice(0, SAMPLE_TEXT_CHARS - 1)}…` : text;
    all.push({ text: shown, count: g.count, ids: g.ids, conflicting: g.conflicting });
  }
  // Stable sort keeps first-seen order among equals.
  all.sort((a, b) => Number(b.conflicting) - Number(a.conflicting) || b.count - a.count);
  stats.samples = all.slice(0, SAMPLE_GROUPS);
  return stats;
}

function leakageStats(
  examples: readonly Example[],
  normalized: string[],
  trainName: string,
  splitNames: string[],
): LeakageStats[] {
  const trainTexts = new Set<string>();
  examples.forEach((ex, i) => {
    if (ex.split === trainName && normalized[i] !== '') trainTexts.add(normalized[i]!);
  });
  const bySplit = new Map<string, LeakageStats>();
  const sizes = new Map<string, number>();
  examples.forEach((ex, i) => {
    const split = ex.split ?? NO_SPLIT;
    if (split === trainName) return;
    increment(sizes, split);
    let row = bySplit.get(split);
    if (!row) {
      row = { split, examples: 0, fraction: 0, sampleIds: [] };
      bySplit.set(split, row);
    }
    if (normalized[i] !== '' && trainTexts.has(normalized[i]!)) {
      row.examples++;
      if (row.sampleIds.length < SAMPLE_IDS) row.sampleIds.push(ex.id);
    }
  });
  return splitNames
    .filter((s) => bySplit.has(s))
    .map((s) => {
      const row = bySplit.get(s)!;
      return { ...row, fraction: row.examples / sizes.get(s)! };
    });
}

/** `heldOutTokens` holds the lowercased tokens of every non-train example, in example order. */
function unseenTokenStats(
  examples: readonly Example[],
  heldOutTokens: string[][],
  vocabulary: Set<string>,
  trainName: string,
  splitNames: string[],
): UnseenTokenStats[] {
  const bySplit = new Map<string, { tokens: number; unseen: number; types: Set<string> }>();
  let next = 0;
  for (const ex of examples) {
    if (ex.split === trainName) continue;
    const split = ex.split ?? NO_SPLIT;
    let acc = bySplit.get(split);
    if (!acc) {
      acc = { tokens: 0, unseen: 0, types: new Set() };
      bySplit.set(split, acc);
    }
    for (const t of heldOutTokens[next++]!) {
      acc.tokens++;
      acc.types.add(t);
      if (!vocabulary.has(t)) acc.unseen++;
    }
  }
  return splitNames
    .filter((s) => bySplit.has(s))
    .map((split) => {
      const acc = bySplit.get(split)!;
      let unseenTypes = 0;
      for (const t of acc.types) if (!vocabulary.has(t)) unseenTypes++;
      return {
        split,
        tokens: acc.tokens,
        unseenTokens: acc.unseen,
        tokenFraction: acc.tokens > 0 ? acc.unseen / acc.tokens : 0,
        types: acc.types.size,
        unseenTypes,
        typeFraction: acc.types.size > 0 ? unseenTypes / acc.types.size : 0,
      };
    });
}

function sliceStats(
  examples: readonly Example[],
  slices: Map<string, string[]> | undefined,
  units: { labelOrder: string[]; unitLabels: (ex: Example) => string[]; unitTotal: (ex: Example) => number },
): SliceStats[] {
  if (!slices || slices.size === 0) return [];
  const byId = new Map<string, Example>();
  for (const ex of examples) if (!byId.has(ex.id)) byId.set(ex.id, ex);
  return [...slices].map(([name, ids]) => {
    let found = 0;
    let missing = 0;
    let unitCount = 0;
    const splitCounts = new Map<string, number>();
    const labels = new Map<string, number>();
    for (const id of new Set(ids)) {
      const ex = byId.get(id);
      if (!ex) {
        missing++;
        continue;
      }
      found++;
      increment(splitCounts, ex.split ?? NO_SPLIT);
      unitCount += units.unitTotal(ex);
      for (const label of units.unitLabels(ex)) increment(labels, label);
    }
    const order = [...units.labelOrder, ...sortByCount(labels).filter((l) => !units.labelOrder.includes(l))];
    return {
      name,
      examples: found,
      missingIds: missing,
      splits: [...splitCounts.keys()]
        .sort(compareSplits)
        .map((split) => ({ split, count: splitCounts.get(split)! })),
      labels: toLabelCounts(labels, unitCount, order).filter((l) => l.count > 0),
    };
  });
}
