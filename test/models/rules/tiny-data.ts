import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Example, Span } from '../../../src/data/types.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** Absolute path of a file in test/fixtures/rules. */
export function fixture(name: string): string {
  return join(here, '..', '..', 'fixtures', 'rules', name);
}

/** Absolute path of a shared dataset file (`../shared/datasets` from the repo root), or undefined when absent. */
export function sharedDataset(...parts: string[]): string | undefined {
  const file = join(here, '..', '..', '..', '..', 'shared', 'datasets', ...parts);
  return existsSync(file) ? file : undefined;
}

/** Builds an NER example from text with entities marked as `[text](LABEL)`. */
export function marked(id: string, source: string): Example {
  let text = '';
  const spans: Span[] = [];
  let last = 0;
  for (const m of source.matchAll(/\[([^\]]+)\]\(([A-Z_]+)\)/g)) {
    text += source.slice(last, m.index);
    spans.push({ start: text.length, end: text.length + m[1]!.length, label: m[2]! });
    text += m[1]!;
    last = m.index + m[0].length;
  }
  text += source.slice(last);
  return { id, text, spans, meta: {} };
}

/** A classification example. */
export function labelled(id: string, text: string, label: string): Example {
  return { id, text, labels: [label], meta: {} };
}

/** A tiny NER set where every annotated phrase is always annotated, so learnt phrases reproduce it exactly. */
export const NER_TRAIN: Example[] = [
  marked('n1', '[Anna Schmidt](PER) lives in [Berlin](LOC) .'),
  marked('n2', '[Bob](PER) works for [Acme Corp](ORG) in [Paris](LOC) .'),
  marked('n3', 'Yesterday [Carla Diaz](PER) visited [New York](LOC) with [Bob](PER) .'),
  marked('n4', '[Acme Corp](ORG) opened an office in [Berlin](LOC) .'),
  marked('n5', 'Nothing happened here today .'),
  marked('n6', '[Dan](PER) and [Eve](PER) founded [Globex](ORG) .'),
];

/** Probe inputs for the NER conformance suite: training-like, unseen, empty. */
export const NER_PROBE: Example[] = [
  marked('p1', 'Anna Schmidt works for Globex in New York .'),
  marked('p2', 'Eve moved to Paris last week .'),
  marked('p3', 'A completely unseen sentence about Zorblax .'),
  marked('p4', ''),
  marked('p5', 'Bob'),
];

/** A tiny classification set with distinct words per class, so learnt keywords separate it. */
export const CLASSIFY_TRAIN: Example[] = [
  labelled('c1', 'the team won the match', 'sports'),
  labelled('c2', 'a great match for the team', 'sports'),
  labelled('c3', 'team scores in final match', 'sports'),
  labelled('c4', 'heavy rain and wind today', 'weather'),
  labelled('c5', 'rain expected with strong wind', 'weather'),
  labelled('c6', 'wind and rain all week', 'weather'),
  labelled('c7', 'the pizza and pasta were tasty', 'food'),
  labelled('c8', 'tasty pasta with pizza sauce', 'food'),
  labelled('c9', 'pizza night with pasta', 'food'),
];

/** Probe inputs for the classification conformance suite. */
export const CLASSIFY_PROBE: Example[] = [
  labelled('q1', 'what a match by the team', 'sports'),
  labelled('q2', 'more rain tomorrow', 'weather'),
  labelled('q3', 'nothing relevant here at all', 'food'),
  labelled('q4', '', 'food'),
];
