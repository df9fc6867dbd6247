import type { Example, Span } from '../../../src/data/types.ts';
import { tokenize } from '../../../src/text/tokenizer.ts';

/** Builds an example from text with entities marked as `[text](LABEL)`. */
export function marked(id: string, source: string, withTokens = true): Example {
  let text = '';
  const spans: Span[] = [];
  const re = /\[([^\]]+)\]\(([A-Z_]+)\)/g;
  let last = 0;
  for (const m of source.matchAll(re)) {
    text += source.slice(last, m.index);
    spans.push({ start: text.length, end: text.length + m[1]!.length, label: m[2]! });
    text += m[1]!;
    last = m.index + m[0].length;
  }
  text += source.slice(last);
  return { id, text, spans, meta: {}, ...(withTokens ? { tokens: tokenize(text) } : {}) };
}

/** A tiny hand-made NER training set (people, places, organisations). */
export const TINY_TRAIN: Example[] = [
  marked('t1', '[Anna Schmidt](PER) lives in [Berlin](LOC) .'),
  marked('t2', '[Bob](PER) works for [Acme Corp](ORG) in [Paris](LOC) .'),
  marked('t3', 'Yesterday [Carla Diaz](PER) visited [New York](LOC) with [Bob](PER) .'),
  marked('t4', '[Acme Corp](ORG) opened an office in [Berlin](LOC) .'),
  marked('t5', 'Nothing happened here today .'),
  marked('t6', '[Globex](ORG) hired [Anna Schmidt](PER) last year .', false),
  marked('t7', 'We flew from [Paris](LOC) to [New York](LOC) .'),
  marked('t8', '[Dan](PER) and [Eve](PER) founded [Globex](ORG) .'),
];

/** Probe inputs: training-like and unseen texts. */
export const TINY_PROBE: Example[] = [
  marked('p1', '[Anna Schmidt](PER) works for [Globex](ORG) .'),
  marked('p2', 'Eve moved to Paris last week .'),
  marked('p3', 'A completely unseen sentence about Zorblax in Qwertyland .'),
  marked('p4', '', false),
  marked('p5', 'Bob', false),
];

/** A dev set for early stopping. */
export const TINY_DEV: Example[] = [
  marked('d1', '[Carla Diaz](PER) works for [Acme Corp](ORG) .'),
  marked('d2', '[Dan](PER) lives in [Paris](LOC) .'),
];
