import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DataError } from '../../core/errors.ts';
import { tokenize } from '../../text/tokenizer.ts';
import type { Example } from '../types.ts';
import {
  type CommonReadOptions,
  finishRead,
  lineId,
  type ParseProblem,
  type ReadResult,
  splitLines,
} from './common.ts';
import { commonTagScheme, joinTokens, tokenSpans } from './conll.ts';
import { readUtf8 } from './read-text.ts';
import { checkTags, detectScheme, spansToTags, type TagScheme, tagsToSpans } from './tagging.ts';

/**
 * Options for one-utterance-per-line data: either a directory with `seq.in` (tokens),
 * `seq.out` (tags) and optional `label` (intent) files, or a single `label sentence` file.
 */
export interface LinesReadOptions extends CommonReadOptions {
  /** Read a single file whose lines are `label sentence` (first whitespace-separated token is the label); default: true for a file, false for a directory. */
  labelFirst?: boolean;
  /** Tagging scheme of `seq.out`; default `'auto'`. */
  scheme?: TagScheme | 'auto';
}

/** Options for writing one-utterance-per-line data with `writeDataset` (which returns one file). */
export interface LinesWriteOptions {
  /** Write `label sentence` lines (the default when no `linesFile` is given). */
  labelFirst?: boolean;
  /** Which file of a `seq.in`/`seq.out`/`label` directory to write (see {@link writeLinesFiles} for all three). */
  linesFile?: 'seq.in' | 'seq.out' | 'label';
  /** Tagging scheme for `seq.out`; default the examples' `meta.tagScheme`, else IOB2. */
  scheme?: TagScheme;
}

/** What the lines reader found out. */
export interface LinesDetected {
  format: 'lines';
  /** `triple`: a seq.in/seq.out/label directory; `labelFirst`: `label sentence` lines. */
  layout: 'triple' | 'labelFirst';
  labelFirst: boolean;
  scheme?: TagScheme;
  utterances: number;
  hasTags: boolean;
  hasLabels: boolean;
  /** Intents or class labels found, sorted. */
  labels: string[];
  /** Slot types found, sorted. */
  spanLabels?: string[];
}

/** Reads a `seq.in`/`seq.out`/`label` directory, or a `label sentence` file; see {@link parseLinesTriple} and {@link parseLabelFirst}. */
export async function readLines(
  path: string,
  options: LinesReadOptions = {},
): Promise<ReadResult<LinesDetected>> {
  const isDir = existsSync(path) && statSync(path).isDirectory();
  if (!isDir || options.labelFirst === true) {
    return parseLabelFirst(await readUtf8(path, options.encoding), path, options);
  }
  const seqIn = join(path, 'seq.in');
  if (!existsSync(seqIn)) {
    throw new DataError('no seq.in file in this directory', {
      file: path,
      hint: 'the lines format needs seq.in (tokens), optionally seq.out (tags) and label (intents)',
    });
  }
  const read = async (name: string) => {
    const p = join(path, name);
    return existsSync(p) ? { file: p, text: await readUtf8(p, options.encoding) } : undefined;
  };
  return parseLinesTriple(
    {
      seqIn: { file: seqIn, text: await readUtf8(seqIn, options.encoding) },
      seqOut: await read('seq.out'),
      label: await read('label'),
    },
    options,
    basename(path),
  );
}

/** One file of a triple: its path (for messages) and its text. */
export interface NamedText {
  file: string;
  text: string;
}

/**
 * Parses aligned `seq.in` (space-separated tokens), optional `seq.out` (one tag per token)
 * and optional `label` (one intent per line) texts into examples: text = tokens joined by
 * single spaces, spans from the tags, `labels` = [intent]. Ids are `<name>:<line>` (name is
 * the directory name). Different line counts or token/tag counts are problems naming file:line.
 *
 * @example
 * parseLinesTriple({ seqIn: { file: 'seq.in', text: 'play jazz\n' }, seqOut: { file: 'seq.out', text: 'O B-genre\n' } });
 */
export function parseLinesTriple(
  files: { seqIn: NamedText; seqOut?: NamedText; label?: NamedText },
  options: LinesReadOptions = {},
  name = basename(files.seqIn.file),
): ReadResult<LinesDetected> {
  const inLines = splitLines(files.seqIn.text);
  const outLines = files.seqOut ? splitLines(files.seqOut.text) : undefined;
  const labelLines = files.label ? splitLines(files.label.text) : undefined;
  const parseProblems: ParseProblem[] = [];
  const fileProblem = (file: string, line: number, message: string) =>
    parseProblems.push({ problem: { file, line, message } });

  for (const [other, lines] of [
    [files.seqOut, outLines],
    [files.label, labelLines],
  ] as const) {
    if (!other || !lines || lines.length === inLines.length) continue;
    const inName = basename(files.seqIn.file);
    const name = basename(other.file);
    if (lines.length < inLines.length) {
      fileProblem(
        other.file,
        lines.length + 1,
        `${name} ends after ${lines.length} lines but ${inName} has ${inLines.length}: ${inName}:${lines.length + 1} onwards have no partner line; the files must be aligned line by line`,
      );
    } else {
      fileProblem(
        other.file,
        inLines.length + 1,
        `${name} has ${lines.length} lines but ${inName} only ${inLines.length}: this line and the ones after it have no utterance; the files must be aligned line by line`,
      );
    }
  }

  const split = (l: string) =>
    l
      .trim()
      .split(/\s+/)
      .filter((t) => t !== '');
  const rows: { tokens: string[]; tags?: string[]; label?: string; line: number }[] = [];
  const bad = new Set<number>();
  for (let i = 0; i < inLines.length; i++) {
    const tokens = split(inLines[i]!);
    const row: (typeof rows)[number] = { tokens, line: i + 1 };
    const index = rows.length;
    if (outLines) {
      if (i >= outLines.length) bad.add(index);
      else {
        row.tags = split(outLines[i]!);
        if (row.tags.length !== tokens.length) {
          fileProblem(
            files.seqOut!.file,
            i + 1,
            `${row.tags.length} tags for ${tokens.length} tokens (${basename(files.seqIn.file)}:${i + 1}); give exactly one tag per token`,
          );
          parseProblems.at(-1)!.index = index;
        }
      }
    }
    if (labelLines) {
      if (i >= labelLines.length) bad.add(index);
      else {
        row.label = labelLines[i]!.trim();
        if (row.label === '') {
          fileProblem(files.label!.file, i + 1, 'empty label; write the intent for this utterance');
          parseProblems.at(-1)!.index = index;
        }
      }
    }
    rows.push(row);
  }

  const schemeOption = options.scheme ?? 'auto';
  const tagRows = rows.filter((r) => r.tags && r.tags.length === r.tokens.length).map((r) => r.tags!);
  const scheme: TagScheme | undefined = outLines
    ? schemeOption === 'auto'
      ? detectScheme(tagRows)
      : schemeOption
    : undefined;
  const examples: Example[] = [];
  const labels = new Set<string>();
  const spanLabels = new Set<string>();
  rows.forEach((row, index) => {
    const { text, tokens } = joinTokens(row.tokens);
    const example: Example = { id: `${name}:${row.line}`, text, tokens, meta: { line: row.line } };
    if (row.tags && scheme) {
      example.meta.tagScheme = scheme;
      if (row.tags.length === row.tokens.length) {
        for (const p of checkTags(row.tags, scheme)) {
          parseProblems.push({
            index,
            problem: {
              file: files.seqOut!.file,
              line: row.line,
              message: `token ${p.index + 1} ('${row.tokens[p.index]}'): ${p.message}`,
            },
          });
        }
        example.spans = tagsToSpans(row.tags, scheme).map((s) => ({
          start: tokens[s.start]!.start,
          end: tokens[s.end - 1]!.end,
          label: s.label,
        }));
        for (const s of example.spans) spanLabels.add(s.label);
      } else example.spans = [];
    }
    if (row.label !== undefined) {
      example.labels = row.label === '' ? [] : [row.label];
      if (row.label !== '') labels.add(row.label);
    }
    examples.push(example);
  });

  const detected: LinesDetected = {
    format: 'lines',
    layout: 'triple',
    labelFirst: false,
    utterances: rows.length,
    hasTags: outLines !== undefined,
    hasLabels: labelLines !== undefined,
    labels: [...labels].sort(),
  };
  if (scheme) {
    detected.scheme = scheme;
    detected.spanLabels = [...spanLabels].sort();
  }
  // Rows past the end of a shorter partner file are covered by the line-count problem: leave them out.
  return finishRead(examples, parseProblems, (i) => rows[i]?.line, files.seqIn.file, options, detected, bad);
}

/**
 * Parses `label sentence` lines (SST-2, TREC `.all`): the first whitespace-separated token is
 * the label, the rest of the line (trimmed) the text. Ids are `<file basename>:<line>`.
 *
 * @example
 * parseLabelFirst('1 a stirring , funny film\n', 'train.txt').examples[0].labels; // ['1']
 */
export function parseLabelFirst(
  text: string,
  file: string,
  options: LinesReadOptions = {},
): ReadResult<LinesDetected> {
  const lines = splitLines(text);
  const examples: Example[] = [];
  const lineOf: number[] = [];
  const parseProblems: ParseProblem[] = [];
  const labels = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const m = /^\s*(\S+)(?:\s+(.*?))?\s*$/.exec(raw)!;
    const label = m[1]!;
    const sentence = m[2] ?? '';
    if (sentence === '') {
      parseProblems.push({
        problem: {
          file,
          line: i + 1,
          message: `only a label (${JSON.stringify(label)}) and no text; write "label text" or delete the line`,
        },
      });
      continue;
    }
    examples.push({ id: lineId(file, i + 1), text: sentence, labels: [label], meta: { line: i + 1 } });
    lineOf.push(i + 1);
    labels.add(label);
  }
  const detected: LinesDetected = {
    format: 'lines',
    layout: 'labelFirst',
    labelFirst: true,
    utterances: examples.length,
    hasTags: false,
    hasLabels: true,
    labels: [...labels].sort(),
  };
  return finishRead(examples, parseProblems, (i) => lineOf[i], file, options, detected);
}

/**
 * Writes examples as the three aligned files of the lines format: `seq.in` (tokens joined by
 * spaces; examples without tokens are tokenized), `seq.out` (tags in `scheme`) and `label`
 * (first label, when any example has labels).
 *
 * @example
 * const files = writeLinesFiles(examples); // { 'seq.in': '…', 'seq.out': '…', label: '…' }
 */
export function writeLinesFiles(
  examples: readonly Example[],
  options: { scheme?: TagScheme } = {},
): { 'seq.in': string; 'seq.out': string; label?: string } {
  const scheme = options.scheme ?? commonTagScheme(examples) ?? 'IOB2';
  const seqIn: string[] = [];
  const seqOut: string[] = [];
  const label: string[] = [];
  const anyLabels = examples.some((e) => e.labels !== undefined);
  for (const ex of examples) {
    const tokens = ex.tokens ?? tokenize(ex.text);
    for (const t of tokens) {
      if (/\s/.test(t.text) || t.text === '') {
        throw new DataError(
          `token ${JSON.stringify(t.text)} cannot be written to seq.in (tokens are space-separated)`,
          {
            exampleId: ex.id,
            hint: 'retokenize the example so that no token contains whitespace',
          },
        );
      }
    }
    seqIn.push(tokens.map((t) => t.text).join(' '));
    seqOut.push(spansToTags(tokenSpans(ex, tokens), tokens.length, scheme).join(' '));
    if (anyLabels) label.push(oneLine(ex, ex.labels?.[0] ?? ''));
  }
  const end = (ls: string[]) => (ls.length === 0 ? '' : `${ls.join('\n')}\n`);
  const out: { 'seq.in': string; 'seq.out': string; label?: string } = {
    'seq.in': end(seqIn),
    'seq.out': end(seqOut),
  };
  if (anyLabels) out.label = end(label);
  return out;
}

/**
 * Writes examples as `label text` lines (the first label; an example with none gets an error).
 *
 * @example
 * writeLabelFirst([{ id: 'a', text: 'great film', labels: ['1'], meta: {} }]); // '1 great film\n'
 */
export function writeLabelFirst(examples: readonly Example[]): string {
  let out = '';
  for (const ex of examples) {
    const label = ex.labels?.[0];
    if (label === undefined || label === '' || /\s/.test(label)) {
      throw new DataError(
        `cannot write ${label === undefined || label === '' ? 'an example without a label' : `the label ${JSON.stringify(label)} (it contains whitespace)`} as "label text"`,
        {
          exampleId: ex.id,
          hint: 'give every example one label without spaces, or export as csv or jsonl',
        },
      );
    }
    out += `${label} ${oneLine(ex, ex.text)}\n`;
  }
  return out;
}

function oneLine(ex: Example, value: string): string {
  if (value.includes('\n')) {
    throw new DataError('a line break cannot be written in a one-utterance-per-line file', {
      exampleId: ex.id,
      hint: 'replace line breaks in the text, or export as csv or jsonl',
    });
  }
  return value;
}
