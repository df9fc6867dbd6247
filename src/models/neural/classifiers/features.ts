/** Turns texts into the ids the classifier networks read: a word vocabulary plus hashed n-gram buckets. */
import { tokenize } from '../../../text/tokenizer.ts';
import { combineHashes, hashString } from '../../linear/hashing.ts';
import type { ModelInput } from '../../model.ts';

/** The unknown-word entry, row 0 of every word vocabulary. */
export const UNKNOWN_WORD = '<unk>';

/** What the encoder needs besides the vocabulary. */
export interface FeatureSettings {
  lowercase: boolean;
  /** Hashed character n-grams of each word (`<word>`), or null. */
  charNgrams: [number, number] | null;
  wordBigrams: boolean;
  /** Rows of the n-gram table (0: no n-grams). */
  buckets: number;
}

/** The words of an input (its tokens when given, else the tokenizer's), lowercased when asked. */
export function wordsOf(input: ModelInput, lowercase: boolean): string[] {
  const words = (input.tokens ?? tokenize(input.text)).map((t) => t.text);
  return lowercase ? words.map((w) => w.toLowerCase()) : words;
}

/**
 * Builds the word vocabulary: `<unk>` first, then training words seen at least `minCount` times or
 * accepted by `keep` (e.g. covered by pretrained vectors), in first-seen order.
 */
export function buildVocabulary(
  docs: readonly string[][],
  minCount: number,
  keep: (word: string) => boolean = () => false,
): string[] {
  const counts = new Map<string, number>();
  for (const doc of docs) for (const w of doc) counts.set(w, (counts.get(w) ?? 0) + 1);
  const vocab = [UNKNOWN_WORD];
  for (const [w, n] of counts) if (w !== UNKNOWN_WORD && (n >= minCount || keep(w))) vocab.push(w);
  return vocab;
}

/** Word ids of `words` (0 for unknown words) and the bucket ids of their hashed n-grams. */
export function encodeWords(
  words: readonly string[],
  index: ReadonlyMap<string, number>,
  s: FeatureSettings,
): { words: number[]; grams: number[] } {
  const ids = words.map((w) => index.get(w) ?? 0);
  const grams: number[] = [];
  if (s.buckets > 0) {
    if (s.charNgrams) {
      const [lo, hi] = s.charNgrams;
      for (const w of words) {
        const marked = `<${w}>`;
        for (let n = lo; n <= hi; n++) {
          for (let i = 0; i + n <= marked.length; i++) {
            const gram = marked.slice(i, i + n);
            if (gram === marked && n > 1) continue; // the whole word is already in the vocabulary
            grams.push(hashString(gram, 1) % s.buckets);
          }
        }
      }
    }
    if (s.wordBigrams) {
      for (let i = 0; i + 1 < words.length; i++) {
        grams.push(combineHashes(hashString(words[i]!, 2), hashString(words[i + 1]!, 2)) % s.buckets);
      }
    }
  }
  return { words: ids, grams };
}
