import { basename } from 'node:path';
import type { Problem } from '../../core/errors.ts';
import type { Example, TaskKind } from '../types.ts';
import { validateExamplesIndexed } from '../validate.ts';
import type { TextEncoding } from './read-text.ts';

/** The dataset formats Sapphire reads and writes. */
export type FormatName = 'conll' | 'jsonl' | 'csv' | 'lines' | 'html';

/** What every reader returns: the good examples, every problem found, and what was detected about the file. */
export interface ReadResult<D extends object = Record<string, unknown>> {
  /** Examples without problems, in file order. */
  examples: Example[];
  /** Every problem, each with file and line (or example id) and a message saying what to do. */
  problems: Problem[];
  /** What the reader detected or assumed (scheme, delimiter, columns, counts …): pass it back to the writer to reproduce the file. */
  detected: D;
}

/** Options shared by all readers. */
export interface CommonReadOptions {
  /** Adds task checks (see `validateExamples`): `classify` needs one label per example, `ner` spans. */
  task?: TaskKind;
  /** Allowed labels; anything else is reported as an unknown label. */
  labelSet?: readonly string[];
  /** Text encoding of the file: strict `utf-8` (default) or `latin1` for legacy files. */
  encoding?: TextEncoding;
}

/** A problem found while parsing, before validation: which example (by index, if any) it rules out. */
export interface ParseProblem {
  /** Index into the parsed examples of the example this problem rules out, when there is one. */
  index?: number;
  problem: Problem;
}

/** Example id for the example starting at `line` of `file`: `<basename>:<line>`. */
export function lineId(file: string, line: number): string {
  return `${basename(file)}:${line}`;
}

/**
 * Validates parsed examples, adds each example's line to its validation problems, drops the
 * examples with any problem (and those in `excluded`) and sorts problems by line; shared by all readers.
 */
export function finishRead<D extends object>(
  parsed: Example[],
  parseProblems: ParseProblem[],
  lineOf: (index: number) => number | undefined,
  file: string,
  options: CommonReadOptions,
  detected: D,
  excluded: Iterable<number> = [],
): ReadResult<D> {
  const bad = new Set<number>(excluded);
  const problems: Problem[] = [];
  for (const p of parseProblems) {
    if (p.index !== undefined) bad.add(p.index);
    problems.push(p.problem);
  }
  const validation = validateExamplesIndexed(parsed, {
    task: options.task,
    labelSet: options.labelSet,
    file,
  });
  const badFromParsing = new Set(bad);
  for (const { index, problem } of validation) {
    // An example already ruled out while parsing is often incomplete: its validation problems would only repeat that.
    if (badFromParsing.has(index)) continue;
    bad.add(index);
    const line = lineOf(index);
    problems.push(line === undefined ? problem : { ...problem, line });
  }
  problems.sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
  const examples = bad.size === 0 ? parsed : parsed.filter((_, i) => !bad.has(i));
  return { examples, problems, detected };
}

/** Splits text into lines (CRLF and CR count as line ends), dropping the empty string after a final newline. */
export function splitLines(text: string): string[] {
  const lines = (text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text).split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
