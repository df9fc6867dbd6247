import type { Example, Token } from '../../data/types.ts';
import { tokenize } from '../../text/tokenizer.ts';
import type { LearnedPhrase } from './ner-rule-set.ts';
import { TokenTrie } from './token-trie.ts';

/** Options of {@link learnPhrases}. */
export interface PhraseLearningOptions {
  caseSensitive: boolean;
  /** Keep a phrase when at least this share of its occurrences in train carry its label. */
  minPrecision: number;
  /** Keep a phrase when it is annotated at least this often. */
  minCount: number;
}

/** What {@link learnPhrases} found: the kept phrases and counts for the fit report. */
export interface PhraseLearningResult {
  learned: LearnedPhrase[];
  /** Distinct annotated phrases considered. */
  candidates: number;
  /** Candidates dropped as ambiguous or too rare. */
  dropped: number;
  /** Training spans skipped because they do not start and end on token boundaries. */
  unaligned: number;
}

interface Candidate {
  tokens: string[];
  occurrences: number;
  perLabel: Map<string, number>;
}

/**
 * Learns a phrase list from training spans: every annotated span text is a candidate phrase of its label,
 * kept when, over every occurrence of the phrase in the training texts (annotated or not), the share
 * annotated with that exact label and extent reaches `minPrecision`.
 *
 * @example
 * learnPhrases(train, { caseSensitive: true, minPrecision: 0.5, minCount: 1 }).learned;
 */
export function learnPhrases(train: readonly Example[], opts: PhraseLearningOptions): PhraseLearningResult {
  const key = (t: Token) => (opts.caseSensitive ? t.text : t.text.toLowerCase());
  const tokenized = train.map((ex) => ex.tokens ?? tokenize(ex.text));
  const candidates = new Map<string, Candidate>();
  const trie = new TokenTrie<Candidate>();
  let unaligned = 0;
  train.forEach((ex, n) => {
    const tokens = tokenized[n]!;
    const byStart = new Map(tokens.map((t, i) => [t.start, i]));
    const byEnd = new Map(tokens.map((t, i) => [t.end, i]));
    for (const span of ex.spans ?? []) {
      const first = byStart.get(span.start);
      const last = byEnd.get(span.end);
      if (first === undefined || last === undefined || last < first) {
        unaligned++;
        continue;
      }
      const words = tokens.slice(first, last + 1);
      const id = words.map(key).join('\u0000');
      if (!candidates.has(id)) {
        const c: Candidate = { tokens: words.map((t) => t.text), occurrences: 0, perLabel: new Map() };
        candidates.set(id, c);
        trie.add(words.map(key), c);
      }
    }
  });
  train.forEach((ex, n) => {
    const tokens = tokenized[n]!;
    const keys = tokens.map(key);
    const labelsAt = new Map<string, string[]>();
    for (const s of ex.spans ?? []) {
      const at = `${s.start}:${s.end}`;
      labelsAt.set(at, [...(labelsAt.get(at) ?? []), s.label]);
    }
    for (let i = 0; i < tokens.length; i++) {
      trie.matchesAt(keys, i, (end, hits) => {
        const labels = labelsAt.get(`${tokens[i]!.start}:${tokens[end - 1]!.end}`) ?? [];
        for (const c of hits) {
          c.occurrences++;
          for (const l of labels) c.perLabel.set(l, (c.perLabel.get(l) ?? 0) + 1);
        }
      });
    }
  });
  const learned: LearnedPhrase[] = [];
  for (const c of candidates.values()) {
    // The most frequent label; ties go to the alphabetically first so learning is deterministic.
    let best: [string, number] | undefined;
    for (const [label, count] of [...c.perLabel].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!best || count > best[1]) best = [label, count];
    }
    if (!best || c.occurrences === 0) continue;
    const precision = best[1] / c.occurrences;
    if (precision < opts.minPrecision || best[1] < opts.minCount) continue;
    learned.push({
      label: best[0],
      tokens: c.tokens,
      caseSensitive: opts.caseSensitive,
      precision,
      annotated: best[1],
      occurrences: c.occurrences,
    });
  }
  learned.sort((a, b) => {
    const x = `${a.label}\u0000${a.tokens.join('\u0000')}`;
    const y = `${b.label}\u0000${b.tokens.join('\u0000')}`;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return { learned, candidates: candidates.size, dropped: candidates.size - learned.length, unaligned };
}
