import { DataError } from '../../core/errors.ts';
import { tokenize } from '../../text/tokenizer.ts';
import type { Example, Span, Token } from '../types.ts';
import { findToken } from '../validate.ts';
import {
  type CommonReadOptions,
  finishRead,
  lineId,
  type ParseProblem,
  type ReadResult,
  splitLines,
} from './common.ts';
import { readUtf8 } from './read-text.ts';
import {
  checkTags,
  detectScheme,
  isTag,
  spansToTags,
  type TagScheme,
  type TokenSpan,
  tagsToSpans,
} from './tagging.ts';

/** Column separator of a CoNLL file: a tab, or runs of spaces/tabs (`' '`). */
export type ConllSeparator = '\t' | ' ';

/**
 * Options for reading CoNLL-style files: one token per line, columns separated by tabs or
 * spaces, a blank line between sentences, optional `-DOCSTART-` lines.
 */
export interface ConllReadOptions extends CommonReadOptions {
  /** `'\t'` (fields split on tabs, so tokens may contain spaces), `' '` (runs of whitespace) or `'auto'` (default: tab when any line has one). */
  columnSeparator?: ConllSeparator | 'auto';
  /** 0-based token column; negative counts from the end. Default: first column (last when label-first). */
  tokenColumn?: number;
  /** 0-based tag column; negative counts from the end. Default: last column (first when label-first). */
  tagColumn?: number;
  /** Tag first, token last (`B-Rating\t5`); auto-detected when neither this nor the columns are given. */
  labelFirst?: boolean;
  /** Tagging scheme of the file; default `'auto'` (see `detectScheme`). */
  scheme?: TagScheme | 'auto';
}

/** What the CoNLL reader found out about a file; pass `scheme`, `columnSeparator` and `labelFirst` to the writer to reproduce it. */
export interface ConllDetected {
  format: 'conll';
  columnSeparator: ConllSeparator;
  /** Number of columns per token line. */
  columnCount: number;
  tokenColumn: number;
  tagColumn: number;
  labelFirst: boolean;
  scheme: TagScheme;
  /** The first `-DOCSTART-` line as written in the file, when there is one. */
  docStartLine?: string;
  documents: number;
  sentences: number;
  tokens: number;
  entities: number;
  /** Entity types found, sorted. */
  labels: string[];
}

/** Options for writing CoNLL files. */
export interface ConllWriteOptions {
  /** Tagging scheme; default the examples' `meta.tagScheme` (set by the reader) when they agree, else IOB2. */
  scheme?: TagScheme;
  /** Column separator; default tab. */
  columnSeparator?: ConllSeparator;
  /** Write `TAG<sep>token` instead of `token<sep>TAG`. */
  labelFirst?: boolean;
  /** Token column when examples carry `meta.extraColumns` (default 0, or last when label-first). */
  tokenColumn?: number;
  /** Tag column when examples carry `meta.extraColumns` (default last, or 0 when label-first). */
  tagColumn?: number;
  /** Line written for a document start; default `-DOCSTART-` in the token column, `O` as tag and `-X-` in other columns. */
  docStartLine?: string;
}

const DOCSTART = '-DOCSTART-';

interface RawLine {
  line: number;
  fields: string[];
  raw: string;
}

interface RawSentence {
  lines: RawLine[];
  doc: number;
  docStart: boolean;
}

/** Reads a CoNLL file from disk (UTF-8, `.gz` allowed); see {@link parseConll}. */
export async function readConll(
  path: string,
  options: ConllReadOptions = {},
): Promise<ReadResult<ConllDetected>> {
  return parseConll(await readUtf8(path, options.encoding), path, options);
}

/**
 * Parses CoNLL text into examples: text = tokens joined by single spaces, tokens with offsets,
 * spans in character offsets; ids are `<file basename>:<line of first token>`; `meta` holds
 * `line`, `doc` (document index, counting `-DOCSTART-` lines), `docStart` (first sentence
 * after a `-DOCSTART-`), `tagScheme` and, for files with more than two columns,
 * `extraColumns` (the other columns of each token, so the writer can re-emit them).
 *
 * @example
 * const { examples } = parseConll('Paris\tB-LOC\nis\tO\n', 'toy.conll');
 * examples[0].spans; // [{ start: 0, end: 5, label: 'LOC' }]
 */
export function parseConll(
  text: string,
  file: string,
  options: ConllReadOptions = {},
): ReadResult<ConllDetected> {
  const lines = splitLines(text);
  const sepOption = options.columnSeparator ?? 'auto';
  const separator: ConllSeparator =
    sepOption === 'auto' ? (lines.some((l) => l.includes('\t')) ? '\t' : ' ') : sepOption;

  // 1. Split into sentences of raw lines; record document starts.
  const sentences: RawSentence[] = [];
  let current: RawLine[] = [];
  let doc = 0;
  let pendingDocStart = false;
  let docStartLine: string | undefined;
  let trailingDocStart = false;
  const flush = () => {
    if (current.length === 0) return;
    sentences.push({ lines: current, doc, docStart: pendingDocStart });
    pendingDocStart = false;
    current = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') {
      flush();
      continue;
    }
    const fields = splitFields(raw, separator);
    if (raw.includes(DOCSTART) && fields.includes(DOCSTART)) {
      flush();
      doc++;
      pendingDocStart = true;
      docStartLine ??= raw;
      continue;
    }
    current.push({ line: i + 1, fields, raw });
  }
  flush();
  if (pendingDocStart && sentences.length > 0) trailingDocStart = true;

  // 2. Columns: the usual count, and which column holds tokens and tags.
  const columns = modeColumnCount(sentences);
  const { tokenColumn, tagColumn, labelFirst } = resolveColumns(sentences, columns, options);
  const needed = Math.max(tokenColumn, tagColumn) + 1;

  // 3. Per sentence: tokens, tags, problems with the lines themselves.
  const parseProblems: ParseProblem[] = [];
  const parsed: { sentence: RawSentence; tokens: string[]; tags: string[]; extra?: string[][] }[] = [];
  const bad = new Set<number>();
  for (const sentence of sentences) {
    const index = parsed.length;
    const tokens: string[] = [];
    const tags: string[] = [];
    const extra: string[][] = [];
    for (const l of sentence.lines) {
      const n = l.fields.length;
      const token = l.fields[tokenColumn] ?? '';
      const tag = l.fields[tagColumn] ?? '';
      if (n !== columns || n < needed || token === '' || tag === '') {
        for (const message of lineProblems(l, { columns, needed, tokenColumn, tagColumn, separator })) {
          parseProblems.push({ index, problem: { file, line: l.line, message } });
          bad.add(index);
        }
      }
      tokens.push(token);
      tags.push(tag);
      if (columns > 2) extra.push(l.fields.filter((_, c) => c !== tokenColumn && c !== tagColumn));
    }
    parsed.push({ sentence, tokens, tags, extra: columns > 2 ? extra : undefined });
  }

  // 4. Scheme, tag checks, examples.
  const schemeOption = options.scheme ?? 'auto';
  const scheme: TagScheme =
    schemeOption === 'auto'
      ? detectScheme(parsed.filter((_, i) => !bad.has(i)).map((p) => p.tags))
      : schemeOption;
  const examples: Example[] = [];
  const labels = new Set<string>();
  let tokenCount = 0;
  let entityCount = 0;
  for (let index = 0; index < parsed.length; index++) {
    const { sentence, tokens: words, tags, extra } = parsed[index]!;
    if (!bad.has(index)) {
      for (const p of checkTags(tags, scheme)) {
        parseProblems.push({
          index,
          problem: { file, line: sentence.lines[p.index]!.line, message: p.message },
        });
      }
    }
    const { text, tokens } = joinTokens(words);
    const spans: Span[] = tagsToSpans(tags, scheme).map((s) => ({
      start: tokens[s.start]!.start,
      end: tokens[s.end - 1]!.end,
      label: s.label,
    }));
    const firstLine = sentence.lines[0]!.line;
    const meta: Record<string, unknown> = { line: firstLine, doc: sentence.doc, tagScheme: scheme };
    if (sentence.docStart) meta.docStart = true;
    if (extra) meta.extraColumns = extra;
    examples.push({ id: lineId(file, firstLine), text, tokens, spans, meta });
    tokenCount += tokens.length;
    entityCount += spans.length;
    for (const s of spans) labels.add(s.label);
  }
  if (trailingDocStart) examples.at(-1)!.meta.docStartAfter = true;

  const detected: ConllDetected = {
    format: 'conll',
    columnSeparator: separator,
    columnCount: columns,
    tokenColumn,
    tagColumn,
    labelFirst,
    scheme,
    documents: new Set(sentences.map((s) => s.doc)).size,
    sentences: sentences.length,
    tokens: tokenCount,
    entities: entityCount,
    labels: [...labels].sort(),
  };
  if (docStartLine !== undefined) detected.docStartLine = docStartLine;
  const result = finishRead(
    examples,
    parseProblems,
    (i) => examples[i]?.meta.line as number,
    file,
    options,
    detected,
  );
  // Keep a trailing -DOCSTART- even when the last sentence was left out.
  if (trailingDocStart && result.examples.length > 0 && result.examples.at(-1) !== examples.at(-1)) {
    result.examples[result.examples.length - 1] = {
      ...result.examples.at(-1)!,
      meta: { ...result.examples.at(-1)!.meta, docStartAfter: true },
    };
  }
  return result;
}

/** What is wrong with one token line (rarely anything: only called when something looks off). */
function lineProblems(
  l: RawLine,
  layout: {
    columns: number;
    needed: number;
    tokenColumn: number;
    tagColumn: number;
    separator: ConllSeparator;
  },
): string[] {
  const { columns, needed, tokenColumn, tagColumn, separator } = layout;
  const n = l.fields.length;
  const shown = JSON.stringify(l.raw);
  const colName = (c: number) => `column ${c + 1}`;
  const out: string[] = [];
  if (n < needed || n < columns) {
    const missing =
      n <= tagColumn
        ? `the tag (${colName(tagColumn)})`
        : n <= tokenColumn
          ? `the token (${colName(tokenColumn)})`
          : colName(n);
    out.push(
      `truncated line ${shown}: ${n} column(s), expected ${Math.max(columns, needed)}; ${missing} is missing. Add it (columns separated by ${separator === '\t' ? 'a tab' : 'spaces'}) or delete the line`,
    );
  } else if (n !== columns) {
    out.push(
      `line ${shown} has ${n} columns but the file has ${columns}; ${separator === ' ' ? 'a token cannot contain spaces in a space-separated file — ' : ''}fix the columns of this line`,
    );
  }
  if (n >= needed) {
    if (l.fields[tokenColumn] === '')
      out.push(`empty token in line ${shown}; write the token in ${colName(tokenColumn)} or delete the line`);
    if (l.fields[tagColumn] === '')
      out.push(`empty tag in line ${shown}; write a tag (e.g. O) in ${colName(tagColumn)}`);
  }
  return out;
}

const EDGE_SPACE = /^\s|\s$/;

function splitFields(raw: string, separator: ConllSeparator): string[] {
  if (separator === ' ') return raw.trim().split(/[ \t]+/);
  const fields = raw.split('\t');
  for (let i = 0; i < fields.length; i++) if (EDGE_SPACE.test(fields[i]!)) fields[i] = fields[i]!.trim();
  while (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
  return fields;
}

function modeColumnCount(sentences: readonly RawSentence[]): number {
  const counts = new Map<number, number>();
  for (const s of sentences)
    for (const l of s.lines) counts.set(l.fields.length, (counts.get(l.fields.length) ?? 0) + 1);
  let best = 2;
  let bestCount = -1;
  for (const [n, c] of counts) {
    if (c > bestCount || (c === bestCount && n > best)) {
      best = n;
      bestCount = c;
    }
  }
  return Math.max(best, 2);
}

function resolveColumns(
  sentences: readonly RawSentence[],
  columns: number,
  options: ConllReadOptions,
): { tokenColumn: number; tagColumn: number; labelFirst: boolean } {
  const abs = (c: number) => (c < 0 ? columns + c : c);
  let labelFirst = options.labelFirst;
  if (labelFirst === undefined && options.tokenColumn === undefined && options.tagColumn === undefined) {
    let first = 0;
    let last = 0;
    let n = 0;
    outer: for (const s of sentences) {
      for (const l of s.lines) {
        if (l.fields.length !== columns) continue;
        if (isTag(l.fields[0]!)) first++;
        if (isTag(l.fields[columns - 1]!)) last++;
        if (++n >= 2000) break outer;
      }
    }
    labelFirst = n > 0 && first / n >= 0.9 && last / n < 0.5;
  }
  const tokenColumn = abs(options.tokenColumn ?? (labelFirst ? -1 : 0));
  const tagColumn = abs(options.tagColumn ?? (labelFirst ? 0 : -1));
  if (tokenColumn < 0 || tagColumn < 0 || tokenColumn === tagColumn) {
    throw new DataError(
      `invalid CoNLL columns: token column ${tokenColumn + 1}, tag column ${tagColumn + 1}`,
      {
        hint: `the file has ${columns} columns; give two different 0-based columns (negative counts from the end)`,
      },
    );
  }
  return { tokenColumn, tagColumn, labelFirst: labelFirst ?? tagColumn < tokenColumn };
}

/** Joins token strings with single spaces and returns the text with token offsets. */
export function joinTokens(words: readonly string[]): { text: string; tokens: Token[] } {
  const tokens: Token[] = [];
  let offset = 0;
  for (const w of words) {
    tokens.push({ text: w, start: offset, end: offset + w.length });
    offset += w.length + 1;
  }
  return { text: words.join(' '), tokens };
}

/**
 * Writes examples as CoNLL: one `token<sep>TAG` line per token (or the reader's column
 * layout via `meta.extraColumns`), a blank line after each sentence, and a `-DOCSTART-`
 * line (plus blank line) before the first sentence of each document (`meta.docStart`, or a
 * change of `meta.doc`) and after the last one when `meta.docStartAfter` is set.
 * Examples without tokens are tokenized; spans must start and end on token boundaries.
 *
 * @example
 * writeConll(examples, { scheme: 'BIOES' });
 */
export function writeConll(examples: readonly Example[], options: ConllWriteOptions = {}): string {
  const sep = options.columnSeparator ?? '\t';
  const scheme = options.scheme ?? commonTagScheme(examples) ?? 'IOB2';
  const out: string[] = [];
  let prevDoc: unknown;
  examples.forEach((ex, i) => {
    const tokens = ex.tokens ?? tokenize(ex.text);
    const tags = spansToTags(tokenSpans(ex, tokens), tokens.length, scheme);
    const extra = Array.isArray(ex.meta.extraColumns) ? (ex.meta.extraColumns as string[][]) : undefined;
    const columns = extra && extra.length > 0 ? extra[0]!.length + 2 : 2;
    const layout = writeLayout(columns, options);
    const doc = ex.meta.doc;
    if (ex.meta.docStart === true || (typeof doc === 'number' && doc !== (i === 0 ? 0 : prevDoc))) {
      out.push(options.docStartLine ?? docStartFields(layout).join(sep), '');
    }
    prevDoc = doc;
    tokens.forEach((t, k) => {
      if (t.text === '' || /[\t\n]/.test(t.text) || (sep === ' ' && /\s/.test(t.text))) {
        throw new DataError(`token ${k} ${JSON.stringify(t.text)} cannot be written as one CoNLL column`, {
          exampleId: ex.id,
          hint: sep === ' ' ? 'use the tab separator, or retokenize the example' : 'retokenize the example',
        });
      }
      const fields: string[] = new Array(columns);
      fields[layout.token] = t.text;
      fields[layout.tag] = tags[k]!;
      const rest = extra?.[k] ?? [];
      let r = 0;
      for (let c = 0; c < columns; c++)
        if (c !== layout.token && c !== layout.tag) fields[c] = rest[r++] ?? '_';
      out.push(fields.join(sep));
    });
    out.push('');
    if (ex.meta.docStartAfter === true)
      out.push(options.docStartLine ?? docStartFields(layout).join(sep), '');
  });
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** The `meta.tagScheme` shared by all examples that have one (undefined when none do or they disagree). */
export function commonTagScheme(examples: readonly Example[]): TagScheme | undefined {
  let found: TagScheme | undefined;
  for (const ex of examples) {
    const s = ex.meta.tagScheme as TagScheme | undefined;
    if (s === undefined) continue;
    if (found !== undefined && s !== found) return undefined;
    found = s;
  }
  return found;
}

function writeLayout(
  columns: number,
  options: ConllWriteOptions,
): { token: number; tag: number; columns: number } {
  const abs = (c: number) => (c < 0 ? columns + c : c);
  const token = abs(options.tokenColumn ?? (options.labelFirst ? -1 : 0));
  const tag = abs(options.tagColumn ?? (options.labelFirst ? 0 : -1));
  return { token, tag, columns };
}

function docStartFields(layout: { token: number; tag: number; columns: number }): string[] {
  const fields = new Array<string>(layout.columns).fill('-X-');
  fields[layout.token] = DOCSTART;
  fields[layout.tag] = 'O';
  return fields;
}

/** Maps an example's character spans onto token indices; throws a DataError when a span is not on token boundaries. */
export function tokenSpans(ex: Example, tokens: readonly Token[]): TokenSpan[] {
  return (ex.spans ?? []).map((s) => {
    const a = findToken(tokens, s.start, 'start');
    const b = findToken(tokens, s.end, 'end');
    if (a < 0 || b < 0 || b < a) {
      throw new DataError(`span [${s.start}, ${s.end}) '${s.label}' is not on token boundaries`, {
        exampleId: ex.id,
        hint: 'fix the span offsets or the tokens (run validateExamples to list every such span)',
      });
    }
    return { start: a, end: b + 1, label: s.label };
  });
}
