/**
 * Sub-word → word → character-span alignment for imported token classifiers: words are packed into windows that
 * fit the model's maximum length, each word is labelled from its first sub-token, and the word tags (BIO, IOB1,
 * BIOES, BILOU or plain IO labels) are decoded into character spans with softmax confidences.
 *
 * @example
 * const windows = planWindows([[7592], [2088, 999]], 510); // [{ start: 0, end: 2, from: 0, to: 2 }]
 */
import { parseTag, tagsToSpans } from '../../data/formats/tagging.ts';
import type { Token } from '../../data/types.ts';
import type { PredictedSpan } from '../model.ts';

/**
 * One model input over words: the words `[start, end)` it labels, encoded with the context words `[from, to)`
 * around them (`from ≤ start`, `end ≤ to`) so that no labelled word sits at a window edge without context.
 */
export interface WordWindow {
  start: number;
  end: number;
  from: number;
  to: number;
}

/** How many sub-tokens a word contributes to a window (all of them, at most the whole budget). */
function cost(pieces: readonly number[], budget: number): number {
  return Math.min(pieces.length, budget);
}

/** Packs words, in order, into runs whose sub-tokens fit `budget`; a word longer than the budget is a run of its own. */
function pack(pieces: readonly (readonly number[])[], budget: number): { start: number; end: number }[] {
  const runs: { start: number; end: number }[] = [];
  let start = 0;
  let used = 0;
  for (let i = 0; i < pieces.length; i++) {
    const c = cost(pieces[i]!, budget);
    if (used + c > budget && i > start) {
      runs.push({ start, end: i });
      start = i;
      used = 0;
    }
    used += c;
  }
  if (pieces.length > start || runs.length === 0) runs.push({ start, end: pieces.length });
  return runs;
}

/**
 * Plans the windows of a text within `budget` sub-tokens (the model's maximum length minus its special tokens):
 * one window when everything fits; otherwise the words are labelled in runs of half the budget, each encoded
 * with as many neighbouring words on both sides as fit (their predictions come from the window where they are
 * labelled). A single word longer than the budget is cut (only its first sub-token is labelled).
 */
export function planWindows(pieces: readonly (readonly number[])[], budget: number): WordWindow[] {
  if (budget < 1) throw new RangeError(`window budget must be at least 1, got ${budget}`);
  const n = pieces.length;
  const total = pieces.reduce((sum, p) => sum + cost(p, budget), 0);
  if (total <= budget) return [{ start: 0, end: n, from: 0, to: n }];
  return pack(pieces, Math.max(1, Math.floor(budget / 2))).map(({ start, end }) => {
    let used = 0;
    for (let w = start; w < end; w++) used += cost(pieces[w]!, budget);
    let from = start;
    let to = end;
    for (let grew = true; grew; ) {
      grew = false;
      if (from > 0 && used + pieces[from - 1]!.length <= budget) {
        used += pieces[--from]!.length;
        grew = true;
      }
      if (to < n && used + pieces[to]!.length <= budget) {
        used += pieces[to++]!.length;
        grew = true;
      }
    }
    return { start, end, from, to };
  });
}

/** One window's model input: its ids (with special tokens) and, per labelled word, the position of its first sub-token (-1: none). */
export interface WindowInput {
  ids: number[];
  firstPiece: number[];
}

/** Builds the ids of one window: `prefix` + the sub-tokens of words `[from, to)` (cut to the budget) + `suffix`. */
export function windowInput(
  pieces: readonly (readonly number[])[],
  window: WordWindow,
  prefix: readonly number[],
  suffix: readonly number[],
  budget: number,
): WindowInput {
  const ids = [...prefix];
  const firstPiece: number[] = [];
  for (let w = window.from; w < window.to; w++) {
    const own = pieces[w]!.slice(0, cost(pieces[w]!, budget - (ids.length - prefix.length)));
    if (w >= window.start && w < window.end) firstPiece.push(own.length > 0 ? ids.length : -1);
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
