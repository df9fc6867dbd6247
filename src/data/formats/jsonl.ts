import type { Example, Span, Token } from '../types.ts';
import {
  type CommonReadOptions,
  finishRead,
  lineId,
  type ParseProblem,
  type ReadResult,
  splitLines,
} from './common.ts';
import { readUtf8 } from './read-text.ts';

/**
 * Key in `Example.meta` holding the record's other top-level fields (e.g. Prodigy's
 * `_input_hash`, `answer`), in their original order; the writer puts them back.
 */
export const JSONL_EXTRA_KEY = '_extra';
/** Key in `Example.meta` holding how the record was laid out (key order, span and token fields) so the writer reproduces it. */
export const JSONL_LAYOUT_KEY = '_jsonl';

/**
 * How a file counts character offsets: `codepoint` (Python, hence spaCy and Prodigy: an emoji
 * is one character) or `utf16` (JavaScript: an emoji outside the BMP is two). Sapphire keeps
 * UTF-16 offsets in memory; the two only differ in texts with characters outside the BMP.
 */
export type OffsetUnit = 'codepoint' | 'utf16';

/** Options for reading JSONL (spaCy/Prodigy shape). */
export interface JsonlReadOptions extends CommonReadOptions {
  /**
   * Offset unit of `start`/`end` in the file; default `'auto'`: per record, the unit its tokens
   * agree with, else the unit seen in the rest of the file, else `codepoint` (spaCy/Prodigy).
   */
  offsets?: OffsetUnit | 'auto';
}

/** Options for writing JSONL. */
export interface JsonlWriteOptions {
  /** Write `tokens` (from `Example.tokens`) when an example has them; default true. */
  includeTokens?: boolean;
  /** Offset unit to write; default `codepoint` (what spaCy and Prodigy expect). */
  offsets?: OffsetUnit;
}

/** What the JSONL reader found out about a file. */
export interface JsonlDetected {
  format: 'jsonl';
  /** Offset unit of the file (`codepoint` unless tokens showed UTF-16 offsets); pass it back to the writer. */
  offsets: OffsetUnit;
  records: number;
  withTokens: number;
  spans: number;
  /** Span labels and class labels found, sorted. */
  labels: string[];
}

/** The layout of one record, kept in `meta._jsonl` so that writing reproduces the line. */
interface JsonlLayout {
  /** Top-level keys in their original order. */
  keys: string[];
  /** The `id` was a number. */
  numericId?: boolean;
  /** Keys of the first token, in order (e.g. text, start, end, id). */
  tokenKeys?: string[];
  /** Per-token fields other than text/start/end (and `id` when it equals the index), when any token has some. */
  tokenExtras?: (Record<string, unknown> | null)[];
  /** Original span objects (for their extra fields and key order), matched back by start/end/label. */
  spans?: Record<string, unknown>[];
}

const KNOWN_KEYS = new Set(['id', 'text', 'tokens', 'spans', 'label', 'labels', 'meta']);

/** Reads a JSONL file from disk (UTF-8, `.gz` allowed); see {@link parseJsonl}. */
export async function readJsonl(
  path: string,
  options: JsonlReadOptions = {},
): Promise<ReadResult<JsonlDetected>> {
  return parseJsonl(await readUtf8(path, options.encoding), path, options);
}

/**
 * Parses JSONL with one spaCy/Prodigy-style record per line: `text`, optional `id`, `tokens`
 * (`{text,start,end,id}`), `spans` (`{start,end,label,token_start?,token_end?}`, character
 * offsets), `label` (string) or `labels` (array) for classification, and `meta` (merged into
 * `Example.meta`). Any other top-level field is kept in `meta._extra`, and the record's
 * layout in `meta._jsonl`, so {@link writeJsonl} reproduces every line. Ids default to
 * `<file basename>:<line>`. Spans are never moved: a span off token boundaries is a problem.
 *
 * @example
 * const { examples } = parseJsonl('{"text":"Nike rocks","spans":[{"start":0,"end":4,"label":"BRAND"}]}\n', 'a.jsonl');
 */
export function parseJsonl(
  text: string,
  file: string,
  options: JsonlReadOptions = {},
): ReadResult<JsonlDetected> {
  const lines = splitLines(text);
  const examples: Example[] = [];
  const lineOfExample: number[] = [];
  const parseProblems: ParseProblem[] = [];
  const labels = new Set<string>();
  const undecided: number[] = [];
  const votes = { codepoint: 0, utf16: 0 };
  let records = 0;
  let withTokens = 0;
  let spanCount = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const line = i + 1;
    records++;
    const fail = (message: string) => parseProblems.push({ problem: { file, line, message } });
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch (err) {
      fail(`invalid JSON: ${(err as Error).message}; fix the line or remove it (one JSON object per line)`);
      continue;
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      fail('expected a JSON object with a "text" field; each line must be one object');
      continue;
    }
    const converted = fromRecord(record as Record<string, unknown>, file, line);
    if (typeof converted === 'string') {
      fail(converted);
      continue;
    }
    // Offsets: JSON holds code point or UTF-16 offsets; Examples hold UTF-16 ones.
    if (ASTRAL.test(converted.text)) {
      const unit =
        options.offsets && options.offsets !== 'auto' ? options.offsets : unitFromTokens(converted);
      if (unit === undefined) undecided.push(examples.length);
      else {
        votes[unit]++;
        if (unit === 'codepoint') toUtf16Offsets(converted);
      }
    }
    examples.push(converted);
    lineOfExample.push(line);
    if (converted.tokens) withTokens++;
    spanCount += converted.spans?.length ?? 0;
    for (const s of converted.spans ?? []) labels.add(s.label);
    for (const l of converted.labels ?? []) labels.add(l);
  }
  const fileUnit: OffsetUnit = votes.utf16 > votes.codepoint ? 'utf16' : 'codepoint';
  if (fileUnit === 'codepoint') for (const i of undecided) toUtf16Offsets(examples[i]!);
  const detected: JsonlDetected = {
    format: 'jsonl',
    offsets: fileUnit,
    records,
    withTokens,
    spans: spanCount,
    labels: [...labels].sort(),
  };
  return finishRead(examples, parseProblems, (i) => lineOfExample[i], file, options, detected);
}

/** Converts one parsed record into an example, or returns a message saying what is wrong with it. */
function fromRecord(record: Record<string, unknown>, file: string, line: number): Example | string {
  const keys = Object.keys(record);
  const layout: JsonlLayout = { keys };
  const text = record.text;
  if (!('text' in record)) return 'missing "text" field; every record needs the text to annotate';
  if (typeof text !== 'string') return `"text" must be a string, not ${jsonType(text)}`;

  let id = lineId(file, line);
  if ('id' in record) {
    if (typeof record.id === 'string' && record.id !== '') id = record.id;
    else if (typeof record.id === 'number') {
      id = String(record.id);
      layout.numericId = true;
    } else return `"id" must be a non-empty string or a number, not ${JSON.stringify(record.id)}`;
  }

  const example: Example = { id, text, meta: {} };
  if ('meta' in record) {
    const meta = record.meta;
    if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
      return `"meta" must be an object, not ${jsonType(meta)}`;
    }
    for (const reserved of [JSONL_EXTRA_KEY, JSONL_LAYOUT_KEY]) {
      if (reserved in meta) return `"meta" uses the reserved key "${reserved}"; rename it`;
    }
    Object.assign(example.meta, meta);
  }

  if ('tokens' in record) {
    const tokens = readTokens(record.tokens, layout);
    if (typeof tokens === 'string') return tokens;
    example.tokens = tokens;
  }

  if ('spans' in record) {
    const spans = readSpans(record.spans, layout);
    if (typeof spans === 'string') return spans;
    example.spans = spans;
  }

  if ('label' in record && 'labels' in record) return 'has both "label" and "labels"; keep one';
  if ('label' in record) {
    if (typeof record.label !== 'string') return `"label" must be a string, not ${jsonType(record.label)}`;
    example.labels = [record.label];
  } else if ('labels' in record) {
    const ls = record.labels;
    if (!Array.isArray(ls) || ls.some((l) => typeof l !== 'string'))
      return '"labels" must be an array of strings';
    example.labels = [...(ls as string[])];
  }

  const extra: Record<string, unknown> = {};
  let hasExtra = false;
  for (const k of keys) {
    if (KNOWN_KEYS.has(k)) continue;
    extra[k] = record[k];
    hasExtra = true;
  }
  if (hasExtra) example.meta[JSONL_EXTRA_KEY] = extra;
  example.meta[JSONL_LAYOUT_KEY] = layout;
  return example;
}

function readTokens(value: unknown, layout: JsonlLayout): Token[] | string {
  if (!Array.isArray(value)) return `"tokens" must be an array, not ${jsonType(value)}`;
  const tokens: Token[] = [];
  const extras: (Record<string, unknown> | null)[] = [];
  let anyExtra = false;
  for (let i = 0; i < value.length; i++) {
    const t = value[i] as Record<string, unknown> | null;
    if (t === null || typeof t !== 'object' || typeof t.text !== 'string') {
      return `tokens[${i}] must be an object with "text", "start" and "end"`;
    }
    if (typeof t.start !== 'number' || typeof t.end !== 'number') {
      return `tokens[${i}] ("${t.text}") needs numeric "start" and "end" character offsets`;
    }
    if (i === 0) layout.tokenKeys = Object.keys(t);
    tokens.push({ text: t.text, start: t.start, end: t.end });
    let extra: Record<string, unknown> | null = null;
    for (const [k, v] of Object.entries(t)) {
      if (k === 'text' || k === 'start' || k === 'end' || (k === 'id' && v === i)) continue;
      extra ??= {};
      extra[k] = v;
    }
    extras.push(extra);
    if (extra !== null) anyExtra = true;
  }
  if (anyExtra) layout.tokenExtras = extras;
  return tokens;
}

function readSpans(value: unknown, layout: JsonlLayout): Span[] | string {
  if (!Array.isArray(value)) return `"spans" must be an array, not ${jsonType(value)}`;
  const spans: Span[] = [];
  let plain = true;
  for (let i = 0; i < value.length; i++) {
    const s = value[i] as Record<string, unknown> | null;
    if (s === null || typeof s !== 'object')
      return `spans[${i}] must be an object with "start", "end" and "label"`;
    if (typeof s.start !== 'number' || typeof s.end !== 'number') {
      return `spans[${i}] needs numeric "start" and "end" character offsets`;
    }
    if (typeof s.label !== 'string' || s.label === '') return `spans[${i}] needs a non-empty "label"`;
    spans.push({ start: s.start, end: s.end, label: s.label });
    const keys = Object.keys(s);
    if (!(keys.length === 3 && keys[0] === 'start' && keys[1] === 'end' && keys[2] === 'label'))
      plain = false;
  }
  if (!plain) layout.spans = value as Record<string, unknown>[];
  return spans;
}

const ASTRAL = /[\uD800-\uDBFF][\uDC00-\uDFFF]/;

/** Which offset unit makes the example's tokens match its text; undefined without tokens or when neither does. */
function unitFromTokens(ex: Example): OffsetUnit | undefined {
  if (!ex.tokens || ex.tokens.length === 0) return undefined;
  const matches = (toUtf16: (i: number) => number) =>
    ex.tokens!.every((t) => ex.text.slice(toUtf16(t.start), toUtf16(t.end)) === t.text);
  if (matches((i) => i)) return 'utf16';
  const map = codePointToUtf16(ex.text);
  if (matches((i) => map[i] ?? Number.NaN)) return 'codepoint';
  return undefined;
}

/** For each code point index (and the end), the UTF-16 index where it starts. */
function codePointToUtf16(text: string): number[] {
  const map: number[] = [];
  let u = 0;
  for (const ch of text) {
    map.push(u);
    u += ch.length;
  }
  map.push(u);
  return map;
}

/** Rewrites an example's token and span offsets from code points to UTF-16 (out-of-range offsets are kept for validation to report). */
function toUtf16Offsets(ex: Example): void {
  const map = codePointToUtf16(ex.text);
  const conv = (i: number) =>
    Number.isInteger(i) && i >= 0 && i < map.length ? map[i]! : i + map.at(-1)! - (map.length - 1);
  if (ex.tokens) ex.tokens = ex.tokens.map((t) => ({ ...t, start: conv(t.start), end: conv(t.end) }));
  if (ex.spans) ex.spans = ex.spans.map((s) => ({ ...s, start: conv(s.start), end: conv(s.end) }));
}

/** Converts UTF-16 offsets back to code points for writing. */
function utf16ToCodePoint(text: string): (i: number) => number {
  if (!ASTRAL.test(text)) return (i) => i;
  const map = new Map<number, number>();
  let cp = 0;
  let u = 0;
  for (const ch of text) {
    map.set(u, cp);
    u += ch.length;
    cp++;
  }
  map.set(u, cp);
  return (i) => map.get(i) ?? i;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/**
 * Writes examples as JSONL, one object per line. Records read by {@link parseJsonl} come back
 * with their original key order and extra fields; new records get `id`, `text`, `tokens`,
 * `spans`, `label`/`labels` (`label` when there is exactly one) and `meta` when not empty.
 *
 * @example
 * writeJsonl([{ id: '1', text: 'hi', labels: ['greet'], meta: {} }]); // '{"id":"1","text":"hi","label":"greet"}\n'
 */
export function writeJsonl(examples: readonly Example[], options: JsonlWriteOptions = {}): string {
  const includeTokens = options.includeTokens ?? true;
  const unit = options.offsets ?? 'codepoint';
  let out = '';
  for (const ex of examples) out += `${JSON.stringify(toRecord(ex, includeTokens, unit))}\n`;
  return out;
}

function toRecord(ex: Example, includeTokens: boolean, unit: OffsetUnit): Record<string, unknown> {
  const conv = unit === 'codepoint' ? utf16ToCodePoint(ex.text) : (i: number) => i;
  const layout = (ex.meta[JSONL_LAYOUT_KEY] ?? undefined) as JsonlLayout | undefined;
  const extra = (ex.meta[JSONL_EXTRA_KEY] ?? {}) as Record<string, unknown>;
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ex.meta))
    if (k !== JSONL_EXTRA_KEY && k !== JSONL_LAYOUT_KEY) meta[k] = v;
  const tokens = includeTokens ? ex.tokens : undefined;

  const fields = new Map<string, unknown>();
  if (layout === undefined || layout.keys.includes('id'))
    fields.set('id', layout?.numericId ? Number(ex.id) : ex.id);
  fields.set('text', ex.text);
  if (tokens !== undefined) fields.set('tokens', writeTokens(tokens, layout, conv));
  if (ex.spans !== undefined) fields.set('spans', writeSpans(ex.spans, tokens ?? ex.tokens, layout, conv));
  if (ex.labels !== undefined) {
    const useArray = layout?.keys.includes('labels') ?? ex.labels.length !== 1;
    if (useArray || ex.labels.length !== 1) fields.set('labels', ex.labels);
    else fields.set('label', ex.labels[0]);
  }
  if (Object.keys(meta).length > 0 || layout?.keys.includes('meta')) fields.set('meta', meta);
  for (const [k, v] of Object.entries(extra)) if (!fields.has(k)) fields.set(k, v);

  const record: Record<string, unknown> = {};
  for (const k of layout?.keys ?? []) if (fields.has(k)) record[k] = fields.get(k);
  for (const [k, v] of fields) if (!(k in record)) record[k] = v;
  return record;
}

function writeTokens(
  tokens: readonly Token[],
  layout: JsonlLayout | undefined,
  conv: (i: number) => number,
): Record<string, unknown>[] {
  const keys = layout?.tokenKeys ?? ['text', 'start', 'end', 'id'];
  return tokens.map((t, i) => {
    const extra = layout?.tokenExtras?.[i] ?? null;
    const values: Record<string, unknown> = {
      text: t.text,
      start: conv(t.start),
      end: conv(t.end),
      id: i,
      ...extra,
    };
    const out: Record<string, unknown> = {};
    for (const k of keys) if (k in values) out[k] = values[k];
    for (const [k, v] of Object.entries(values))
      if (!(k in out) && (k !== 'id' || keys.includes('id'))) out[k] = v;
    return out;
  });
}

function writeSpans(
  spans: readonly Span[],
  tokens: readonly Token[] | undefined,
  layout: JsonlLayout | undefined,
  conv: (i: number) => number,
): Record<string, unknown>[] {
  const originals = [...(layout?.spans ?? [])];
  const tokenStart = new Map<number, number>();
  const tokenEnd = new Map<number, number>();
  tokens?.forEach((t, i) => {
    tokenStart.set(t.start, i);
    tokenEnd.set(t.end, i);
  });
  return spans.map((s) => {
    const at = originals.findIndex(
      (o) => o !== undefined && o.start === conv(s.start) && o.end === conv(s.end) && o.label === s.label,
    );
    const original = at >= 0 ? originals[at]! : undefined;
    if (at >= 0) originals[at] = undefined as unknown as Record<string, unknown>;
    const ts = tokenStart.get(s.start);
    const te = tokenEnd.get(s.end);
    if (original !== undefined) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(original)) {
        if (k === 'start') out[k] = conv(s.start);
        else if (k === 'end') out[k] = conv(s.end);
        else if (k === 'label') out[k] = s.label;
        else if (k === 'token_start' && ts !== undefined) out[k] = ts;
        else if (k === 'token_end' && te !== undefined) out[k] = te;
        else out[k] = v;
      }
      return out;
    }
    const out: Record<string, unknown> = { start: conv(s.start), end: conv(s.end) };
    if (ts !== undefined && te !== undefined) {
      out.token_start = ts;
      out.token_end = te;
    }
    out.label = s.label;
    return out;
  });
}
