import { DataError } from '../../core/errors.ts';
import type { Example } from '../types.ts';
import { type CommonReadOptions, finishRead, lineId, type ParseProblem, type ReadResult } from './common.ts';
import { readUtf8 } from './read-text.ts';

/** Options for reading CSV/TSV classification data. */
export interface CsvReadOptions extends CommonReadOptions {
  /** Field delimiter; default `'auto'` (chooses among `,`, tab and `;` by consistency over the first lines). */
  delimiter?: string;
  /** Whether the first row is a header; default auto (it is when a cell is a known column name such as `text` or `label`). */
  header?: boolean;
  /** Text column: header name or 0-based index. Default: a column named text/sentence/utterance/…; else the longer of two. */
  textColumn?: string | number;
  /** Label column: header name or 0-based index. Default: a column named label/category/intent/…; else the shorter of two. */
  labelColumn?: string | number;
  /** Splits the label cell into several labels (multi-label), e.g. `'|'`. */
  labelSeparator?: string;
  /**
   * RFC 4180 quoting (`"a, b"`, doubled `""`, newlines inside quotes). Default: on for `,`
   * and `;`; for tab, on unless the file has quotes that are not RFC 4180 (then quotes are text).
   */
  quote?: boolean;
}

/** What the CSV reader found out about a file; the writer accepts the same keys. */
export interface CsvDetected {
  format: 'csv';
  delimiter: string;
  header: boolean;
  quote: boolean;
  /** Column names: the header, or `column1`, `column2`, … without one. */
  columns: string[];
  textColumn: string;
  labelColumn?: string;
  labelSeparator?: string;
  rows: number;
  /** Labels found, sorted. */
  labels: string[];
}

/** Options for writing CSV/TSV. */
export interface CsvWriteOptions {
  /** Field delimiter; default `,`. */
  delimiter?: string;
  /** Write a header row; default true. */
  header?: boolean;
  /** Column order (the reader's `detected.columns`); default `[textColumn, labelColumn]` plus extra columns found in `meta._extra`. */
  columns?: string[];
  /** Name of the text column; default `text`. */
  textColumn?: string;
  /** Name of the label column; default `label`. */
  labelColumn?: string;
  /** Joins several labels into one cell; default `|`. */
  labelSeparator?: string;
}

/** Key in `Example.meta` holding the row's other columns (by column name), which the writer puts back. */
export const CSV_EXTRA_KEY = '_extra';

const TEXT_NAMES = [
  'text',
  'sentence',
  'utterance',
  'sms',
  'message',
  'content',
  'body',
  'review',
  'query',
  'question',
  'document',
  'comment',
  'tweet',
  'title',
];
const LABEL_NAMES = [
  'label',
  'labels',
  'category',
  'class',
  'intent',
  'target',
  'sentiment',
  'tag',
  'topic',
  'y',
];

/** One parsed record with the line it starts on. */
export interface CsvRecord {
  fields: string[];
  line: number;
}

/** Reads a CSV/TSV file from disk (UTF-8, `.gz` allowed); see {@link parseCsv}. */
export async function readCsv(path: string, options: CsvReadOptions = {}): Promise<ReadResult<CsvDetected>> {
  return parseCsv(await readUtf8(path, options.encoding), path, options);
}

/**
 * Parses delimited text into classification examples: one example per row with `text` and
 * `labels` from the chosen columns, other columns kept in `meta._extra`, `meta.line` the line
 * the row starts on and id `<file basename>:<line>`. Rows with a missing or extra column are
 * problems naming the line and column.
 *
 * @example
 * const { examples } = parseCsv('text,label\n"Hi, you",greet\n', 'a.csv');
 */
export function parseCsv(text: string, file: string, options: CsvReadOptions = {}): ReadResult<CsvDetected> {
  const source = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  const delimiter =
    !options.delimiter || options.delimiter === 'auto' ? detectDelimiter(source) : options.delimiter;
  const parseProblems: ParseProblem[] = [];

  let quote = options.quote ?? true;
  let parsed = parseDelimited(source, delimiter, quote);
  if (options.quote === undefined && delimiter === '\t' && parsed.errors.length > 0) {
    quote = false;
    parsed = parseDelimited(source, delimiter, false);
  }
  for (const e of parsed.errors) parseProblems.push({ problem: { file, line: e.line, message: e.message } });
  const records = parsed.records.filter((r) => !(r.fields.length === 1 && r.fields[0]!.trim() === ''));
  if (records.length === 0)
    return finishRead([], parseProblems, () => undefined, file, options, emptyDetected(delimiter, quote));

  const header = options.header ?? looksLikeHeader(records[0]!.fields, options);
  const width = header ? records[0]!.fields.length : modeWidth(records);
  const columns = header
    ? records[0]!.fields.map((f, i) => f.trim() || `column${i + 1}`)
    : Array.from({ length: width }, (_, i) => `column${i + 1}`);
  const rows = header ? records.slice(1) : records;
  const { textIndex, labelIndex } = chooseColumns(columns, header, rows, options, file);

  const examples: Example[] = [];
  const lineOfExample: number[] = [];
  const labels = new Set<string>();
  for (const row of rows) {
    const f = row.fields;
    const problem = (message: string) => parseProblems.push({ problem: { file, line: row.line, message } });
    const needed = Math.max(textIndex, labelIndex ?? -1) + 1;
    if (f.length < needed) {
      const missing = f.length <= textIndex ? textIndex : labelIndex!;
      problem(
        `the ${JSON.stringify(columns[missing])} column (column ${missing + 1}) is missing: the row has ${f.length} field(s), expected ${columns.length}; add it, or check the delimiter (${JSON.stringify(delimiter)}) and quoting`,
      );
      continue;
    }
    if (f.length !== columns.length) {
      problem(
        `the row has ${f.length} fields but ${header ? 'the header has' : 'the file has'} ${columns.length}; quote fields that contain ${JSON.stringify(delimiter)} or fix the row`,
      );
      continue;
    }
    const example: Example = { id: lineId(file, row.line), text: f[textIndex]!, meta: { line: row.line } };
    if (labelIndex !== undefined) {
      const cell = f[labelIndex]!.trim();
      const ls = options.labelSeparator
        ? cell
            .split(options.labelSeparator)
            .map((l) => l.trim())
            .filter((l) => l !== '')
        : cell === ''
          ? []
          : [cell];
      example.labels = ls;
      for (const l of ls) labels.add(l);
    }
    if (columns.length > (labelIndex === undefined ? 1 : 2)) {
      const extra: Record<string, string> = {};
      columns.forEach((name, i) => {
        if (i !== textIndex && i !== labelIndex) extra[name] = f[i]!;
      });
      example.meta[CSV_EXTRA_KEY] = extra;
    }
    examples.push(example);
    lineOfExample.push(row.line);
  }
  const detected: CsvDetected = {
    format: 'csv',
    delimiter,
    header,
    quote,
    columns,
    textColumn: columns[textIndex]!,
    rows: rows.length,
    labels: [...labels].sort(),
  };
  if (labelIndex !== undefined) detected.labelColumn = columns[labelIndex]!;
  if (options.labelSeparator) detected.labelSeparator = options.labelSeparator;
  return finishRead(examples, parseProblems, (i) => lineOfExample[i], file, options, detected);
}

function emptyDetected(delimiter: string, quote: boolean): CsvDetected {
  return {
    format: 'csv',
    delimiter,
    header: false,
    quote,
    columns: [],
    textColumn: 'text',
    rows: 0,
    labels: [],
  };
}

/**
 * Splits delimited text into records following RFC 4180 when `quote` is on: quoted fields
 * may hold delimiters, doubled quotes and newlines; each record knows the line it starts on.
 * Malformed quoting (text after a closing quote, an unterminated quote) is reported and the
 * text kept as written.
 */
export function parseDelimited(
  text: string,
  delimiter: string,
  quote = true,
): { records: CsvRecord[]; errors: { line: number; message: string }[] } {
  const records: CsvRecord[] = [];
  const errors: { line: number; message: string }[] = [];
  if (!quote) {
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (let i = 0; i < lines.length; i++) records.push({ fields: lines[i]!.split(delimiter), line: i + 1 });
    return { records, errors };
  }
  const n = text.length;
  const dl = delimiter.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    for (;;) {
      // One field.
      let value: string;
      if (text[i] === '"') {
        const quoteLine = line;
        let j = i + 1;
        let buf = '';
        let closed = false;
        while (j < n) {
          const q = text.indexOf('"', j);
          if (q < 0) break;
          buf += text.slice(j, q);
          if (text[q + 1] === '"') {
            buf += '"';
            j = q + 2;
            continue;
          }
          j = q + 1;
          closed = true;
          break;
        }
        if (!closed) {
          errors.push({
            line: quoteLine,
            message:
              'unterminated quoted field: a field opens with " but never closes; close the quote or double quotes inside the field ("")',
          });
          buf = text.slice(i + 1);
          j = n;
        }
        for (let k = i; k < j; k++) if (text.charCodeAt(k) === 10) line++;
        i = j;
        // Text after the closing quote: not RFC 4180; keep it as written.
        if (i < n && text[i] !== '\n' && !text.startsWith(delimiter, i)) {
          errors.push({
            line,
            message: `unexpected text after a closing quote; in a quoted field write quotes as "" (or read the file with quote: false)`,
          });
          const end = nextStop(text, i, delimiter);
          buf = `"${buf}"${text.slice(i, end)}`;
          i = end;
        }
        value = buf;
      } else {
        const end = nextStop(text, i, delimiter);
        value = text.slice(i, end);
        i = end;
      }
      fields.push(value);
      if (i < n && text.startsWith(delimiter, i)) {
        i += dl;
        continue;
      }
      break;
    }
    if (i < n && text[i] === '\n') {
      i++;
      line++;
    }
    records.push({ fields, line: startLine });
  }
  return { records, errors };
}

function nextStop(text: string, from: number, delimiter: string): number {
  const nl = text.indexOf('\n', from);
  const d = text.indexOf(delimiter, from);
  const a = nl < 0 ? text.length : nl;
  const b = d < 0 ? text.length : d;
  return Math.min(a, b);
}

/** Picks `,`, tab or `;`: the candidate that splits the first lines into the most consistent number of fields. */
export function detectDelimiter(text: string): string {
  const sample = text
    .slice(0, 64 * 1024)
    .split('\n')
    .slice(0, 50)
    .filter((l) => l.trim() !== '');
  let best = ',';
  let bestScore = -1;
  for (const d of ['\t', ',', ';']) {
    const counts = sample.map((l) => countOutsideQuotes(l, d));
    const freq = new Map<number, number>();
    for (const c of counts) if (c > 0) freq.set(c, (freq.get(c) ?? 0) + 1);
    let modeShare = 0;
    for (const v of freq.values()) modeShare = Math.max(modeShare, v);
    const withAny = counts.filter((c) => c > 0).length;
    const score = sample.length === 0 ? 0 : (modeShare + withAny) / (2 * sample.length);
    if (score > bestScore + 1e-9) {
      best = d;
      bestScore = score;
    }
  }
  return best;
}

function countOutsideQuotes(line: string, d: string): number {
  let inQuotes = false;
  let count = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') inQuotes = !inQuotes;
    else if (!inQuotes && c === d) count++;
  }
  return count;
}

function looksLikeHeader(first: readonly string[], options: CsvReadOptions): boolean {
  const cells = first.map((c) => c.trim().toLowerCase());
  if (typeof options.textColumn === 'string' || typeof options.labelColumn === 'string') {
    const wanted = [options.textColumn, options.labelColumn].filter(
      (c): c is string => typeof c === 'string',
    );
    if (wanted.some((w) => cells.includes(w.toLowerCase()))) return true;
  }
  return cells.some((c) => TEXT_NAMES.includes(c) || LABEL_NAMES.includes(c));
}

function modeWidth(records: readonly CsvRecord[]): number {
  const freq = new Map<number, number>();
  for (const r of records.slice(0, 1000)) freq.set(r.fields.length, (freq.get(r.fields.length) ?? 0) + 1);
  let best = 1;
  let bestCount = -1;
  for (const [w, c] of freq) {
    if (c > bestCount) {
      best = w;
      bestCount = c;
    }
  }
  return best;
}

function chooseColumns(
  columns: readonly string[],
  header: boolean,
  rows: readonly CsvRecord[],
  options: CsvReadOptions,
  file: string,
): { textIndex: number; labelIndex: number | undefined } {
  const lower = columns.map((c) => c.toLowerCase());
  const resolve = (spec: string | number, what: string): number => {
    if (typeof spec === 'number') {
      if (spec >= 0 && spec < columns.length) return spec;
      throw new DataError(
        `${what} column index ${spec} is out of range (the file has ${columns.length} columns)`,
        {
          file,
          hint: 'column indices are 0-based',
        },
      );
    }
    const i = lower.indexOf(spec.toLowerCase());
    if (i >= 0) return i;
    throw new DataError(`no ${what} column named ${JSON.stringify(spec)}`, {
      file,
      hint: header
        ? `the header has: ${columns.join(', ')}`
        : 'the file has no header row; give the column as a 0-based index or pass header: true',
    });
  };
  const byName = (names: readonly string[]) => {
    for (const n of names) {
      const i = lower.indexOf(n);
      if (i >= 0) return i;
    }
    return -1;
  };
  let textIndex =
    options.textColumn !== undefined ? resolve(options.textColumn, 'text') : header ? byName(TEXT_NAMES) : -1;
  let labelIndex =
    options.labelColumn !== undefined
      ? resolve(options.labelColumn, 'label')
      : header
        ? byName(LABEL_NAMES)
        : -1;
  if (columns.length === 1) return { textIndex: 0, labelIndex: undefined };
  if (textIndex < 0 && labelIndex >= 0 && columns.length === 2) textIndex = 1 - labelIndex;
  if (labelIndex < 0 && textIndex >= 0 && columns.length === 2) labelIndex = 1 - textIndex;
  if (textIndex < 0 && labelIndex < 0 && columns.length === 2) {
    // The label is the short column.
    const mean = (c: number) => {
      const sample = rows.slice(0, 500);
      return sample.reduce((sum, r) => sum + (r.fields[c]?.length ?? 0), 0) / Math.max(1, sample.length);
    };
    labelIndex = mean(0) <= mean(1) ? 0 : 1;
    textIndex = 1 - labelIndex;
  }
  if (textIndex < 0) {
    throw new DataError(`cannot tell which of the ${columns.length} columns holds the text`, {
      file,
      hint: `pass textColumn (and labelColumn) by name or 0-based index; columns: ${columns.join(', ')}`,
    });
  }
  if (labelIndex === textIndex) {
    throw new DataError('the text and label columns are the same column', {
      file,
      hint: 'give two different columns',
    });
  }
  return { textIndex, labelIndex: labelIndex < 0 ? undefined : labelIndex };
}

/**
 * Writes examples as CSV (or TSV with `delimiter: '\t'`) with RFC 4180 quoting: fields holding
 * the delimiter, quotes, line breaks or edge spaces are quoted, quotes doubled. Several labels
 * are joined with `labelSeparator`; columns kept in `meta._extra` are written back.
 *
 * @example
 * writeCsv([{ id: '1', text: 'Hi, you', labels: ['greet'], meta: {} }]); // 'text,label\n"Hi, you",greet\n'
 */
export function writeCsv(examples: readonly Example[], options: CsvWriteOptions = {}): string {
  const delimiter = options.delimiter ?? ',';
  const textColumn = options.textColumn ?? 'text';
  const labelColumn = options.labelColumn ?? 'label';
  const sep = options.labelSeparator ?? '|';
  let columns = options.columns;
  if (!columns || columns.length === 0) {
    columns = [textColumn];
    if (examples.some((e) => e.labels !== undefined)) columns.push(labelColumn);
    for (const ex of examples) {
      for (const k of Object.keys((ex.meta[CSV_EXTRA_KEY] ?? {}) as Record<string, unknown>)) {
        if (!columns.includes(k)) columns.push(k);
      }
    }
  }
  const quote = (v: string) =>
    v.includes(delimiter) || /["\n\r]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
  const lines: string[] = [];
  if (options.header ?? true) lines.push(columns.map(quote).join(delimiter));
  for (const ex of examples) {
    const extra = (ex.meta[CSV_EXTRA_KEY] ?? {}) as Record<string, unknown>;
    const row = columns.map((c) => {
      if (c === textColumn) return ex.text;
      if (c === labelColumn) return (ex.labels ?? []).join(sep);
      const v = extra[c];
      return v === undefined || v === null ? '' : String(v);
    });
    lines.push(row.map(quote).join(delimiter));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
