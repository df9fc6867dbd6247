/**
 * Sub-word → word → character-span alignment for imported token classifiers: words are packed into windows that
 * fit the model's maximum length, each word is labelled from its first sub-token, and the word tags (BIO, IOB1,
 * BIOES, BILOU or plain IO labels) are decoded into character spans with softmax confidences.
 *
 * @example
 * const windows = planWindows([[7592], [2088, 999]], 510); // [{ start: 0, end: 2 }]
 */
import { parseTag, tagsToSpans } from '../../data/formats/tagging.ts';
import type { Token } from '../../data/types.ts';
import type { PredictedSpan } from '../model.ts';

/** A run of words `[start, end)` encoded as one model input. */
export interface WordWindow {
  start: number;
  end: number;
}

/** How many sub-tokens a word contributes to a window (all of them, at most the whole budget). */
function cost(pieces: readonly number[], budget: number): number {
  return Math.min(pieces.length, budget);
}

/**
 * Packs words, in order, into as few windows as possible whose sub-tokens fit `budget` (the model's maximum
 * length minus its special tokens); a single word longer than the budget gets a window of its own and is cut.
 */
export function planWindows(pieces: readonly (readonly number[])[], budget: number): WordWindow[] {
  if (budget < 1) throw new RangeError(`window budget must be at least 1, got ${budget}`);
  const windows: WordWindow[] = [];
  let start = 0;
  let used = 0;
  for (let i = 0; i < pieces.length; i++) {
    const c = cost(pieces[i]!, budget);
    if (used + c > budget && i > start) {
      windows.push({ start, end: i });
      start = i;
      used = 0;
    }
    used += c;
  }
  if (pieces.length > start || windows.length === 0) windows.push({ start, end: pieces.length });
  return windows;
}

/** One window's model input: its ids (with special tokens) and, per word, the position of its first sub-token (-1: none). */
export interface WindowInput {
  ids: number[];
  firstPiece: number[];
}

/** Builds the ids of one window: `prefix` + every word's sub-tokens (cut to the budget) + `suffix`. */
export function windowInput(
  pieces: readonly (readonly number[])[],
  window: WordWindow,
  prefix: readonly number[],
  suffix: readonly number[],
  budget: number,
): WindowInput {
  const ids = [...prefix];
  const firstPiece: number[] = [];
  for (let w = window.start; w < window.end; w++) {
    const own = pieces[w]!.slice(0, cost(pieces[w]!, budget - (ids.length - prefix.length)));
    firstPiece.push(own.length > 0 ? ids.length : -1);
    ids.push(...own);
  }
  ids.push(...suffix);
  return { ids, firstPiece };
}

/** Softmax of `logits[offset … offset + n)` (numerically stable). */
export function softmax(logits: ArrayLike<number>, offset: number, n: number): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < n; k++) max = Math.max(max, logits[offset + k]!);
  const out = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    out[k] = Math.exp(logits[offset + k]! - max);
    sum += out[k]!;
  }
  for (let k = 0; k < n; k++) out[k]! /= sum;
  return out;
}

/**
 * Turns a model's labels into tags: `O`, `B-X`, `I-X`, … stay; a label set with no prefixes at all
 * (`O`, `PER`, `LOC`) is read as IO tags (`I-PER`). Returns null when some labels have prefixes and others not.
 */
export function labelsAsTags(labels: readonly string[]): string[] | null {
  const prefixed = labels.filter((l) => l !== 'O' && parseTag(l) !== null && parseTag(l)!.type !== '');
  const bare = labels.filter((l) => l !== 'O' && (parseTag(l) === null || parseTag(l)!.type === ''));
  if (prefixed.length > 0 && bare.length > 0) return null;
  return labels.map((l) => (l === 'O' || prefixed.length > 0 ? l : `I-${l}`));
}

/** The entity types of a tag set (`B-PER`, `I-PER`, `O` → `PER`), sorted. */
export function entityTypes(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => parseTag(t)?.type ?? '').filter((t) => t !== ''))].sort();
}

/**
 * Decodes per-word tag probabilities into character spans: each word takes its most probable tag (a word without
 * sub-tokens is `O`), tags decode with seqeval semantics, and an entity's confidence is the probability of its
 * words' tags (the product of their softmax probabilities).
 */
export function decodeWordTags(
  words: readonly Token[],
  probs: readonly (Float64Array | null)[],
  tags: readonly string[],
): PredictedSpan[] {
  const chosen: string[] = [];
  const p: number[] = [];
  for (let w = 0; w < words.length; w++) {
    const row = probs[w];
    if (!row) {
      chosen.push('O');
      p.push(1);
      continue;
    }
    let best = 0;
    for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
    chosen.push(tags[best]!);
    p.push(row[best]!);
  }
  return tagsToSpans(chosen).map((s) => {
    let score = 1;
    for (let w = s.start; w < s.end; w++) score *= p[w]!;
    return { start: words[s.start]!.start, end: words[s.end - 1]!.end, label: s.label, score };
  });
}
