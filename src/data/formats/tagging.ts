import { DataError } from '../../core/errors.ts';

/**
 * Token tagging schemes: `IOB1` (I- starts chunks; B- only between adjacent chunks of one type),
 * `IOB2` a.k.a. BIO (every chunk starts with B-), `BILOU` (B-, I-, L- last, U- unit) and
 * `BIOES` (B-, I-, E- end, S- single).
 */
export type TagScheme = 'IOB1' | 'IOB2' | 'BILOU' | 'BIOES';

/** All supported tagging schemes. */
export const TAG_SCHEMES: readonly TagScheme[] = ['IOB1', 'IOB2', 'BILOU', 'BIOES'];

/** A labelled span in token indices (`end` exclusive). */
export interface TokenSpan {
  start: number;
  end: number;
  label: string;
}

/** A tag split into its prefix (`O`, `B`, `I`, `E`, `S`, `L`, `U`) and entity type (`''` for `O` or a bare prefix). */
export interface ParsedTag {
  prefix: 'O' | 'B' | 'I' | 'E' | 'S' | 'L' | 'U';
  type: string;
}

/** A problem with one tag of a sequence: the token index and what is wrong, with what to do. */
export interface TagProblem {
  index: number;
  message: string;
}

const TAG_RE = /^([BIESLU])(?:-(.+))?$/;

const OUTSIDE: ParsedTag = Object.freeze({ prefix: 'O', type: '' });
// Tag vocabularies are small: parse each distinct tag once.
const parsedTags = new Map<string, ParsedTag | null>();

/** Parses `O`, `B-PER`, `I-creative-work` … into prefix and type (a shared, frozen object); returns null for anything else. */
export function parseTag(tag: string): ParsedTag | null {
  if (tag === 'O') return OUTSIDE;
  let parsed = parsedTags.get(tag);
  if (parsed !== undefined) return parsed;
  const m = TAG_RE.exec(tag);
  parsed = m === null ? null : Object.freeze({ prefix: m[1] as ParsedTag['prefix'], type: m[2] ?? '' });
  if (parsedTags.size > 100_000) parsedTags.clear();
  parsedTags.set(tag, parsed);
  return parsed;
}

/** Whether a string looks like a tag of any supported scheme (`O`, `B-X`, `I-X`, `E-X`, `S-X`, `L-X`, `U-X`). */
export function isTag(value: string): boolean {
  return parseTag(value) !== null;
}

/**
 * Guesses the tagging scheme of tag sequences: E-/S- → BIOES, L-/U- → BILOU; otherwise IOB1
 * when chunks start with I- (after O, another type or the sentence start) and almost never
 * with B- (fewer than 1 in 20), else IOB2 (whose stray I- starts `checkTags` then reports).
 */
export function detectScheme(tagSeqs: readonly (readonly string[])[]): TagScheme {
  let bioes = 0;
  let bilou = 0;
  let iStarts = 0;
  let bAfterOutside = 0;
  for (const tags of tagSeqs) {
    let prev: ParsedTag = OUTSIDE;
    for (const tag of tags) {
      const t = parseTag(tag);
      if (t === null) {
        prev = OUTSIDE;
        continue;
      }
      if (t.prefix === 'E' || t.prefix === 'S') bioes++;
      else if (t.prefix === 'L' || t.prefix === 'U') bilou++;
      else if (t.prefix === 'I' && (prev.prefix === 'O' || prev.type !== t.type)) iStarts++;
      else if (t.prefix === 'B' && (prev.prefix === 'O' || prev.type !== t.type)) bAfterOutside++;
      prev = t;
    }
  }
  if (bioes > 0 || bilou > 0) return bioes >= bilou ? 'BIOES' : 'BILOU';
  // Canonical IOB1 never starts a chunk with B- after O; a few such B- starts mean IOB2 with some I- mistakes.
  return iStarts > 0 && bAfterOutside * 20 < iStarts ? 'IOB1' : 'IOB2';
}

/** Maps BILOU prefixes onto their BIOES equivalents so one decoder handles every scheme. */
function normalisedPrefix(prefix: ParsedTag['prefix']): 'O' | 'B' | 'I' | 'E' | 'S' {
  if (prefix === 'L') return 'E';
  if (prefix === 'U') return 'S';
  return prefix;
}

/**
 * Decodes tags into token spans with conlleval/seqeval (default mode) semantics: a chunk
 * starts at B-/S-/U-, or at I-/E-/L- after O, after a chunk end or after another type, and
 * ends before the next start; unparseable tags count as O (see {@link checkTags}).
 * The scheme is accepted for symmetry with {@link spansToTags}; decoding is the same for all.
 */
export function tagsToSpans(tags: readonly string[], _scheme?: TagScheme): TokenSpan[] {
  const spans: TokenSpan[] = [];
  let prevPrefix: 'O' | 'B' | 'I' | 'E' | 'S' = 'O';
  let prevType = '';
  let chunkStart = -1;
  for (let i = 0; i <= tags.length; i++) {
    const parsed = i < tags.length ? parseTag(tags[i]!) : null;
    const prefix = parsed === null ? 'O' : normalisedPrefix(parsed.prefix);
    const type = parsed === null ? '' : parsed.type;
    if (chunkStart >= 0 && endOfChunk(prevPrefix, prefix, prevType, type)) {
      spans.push({ start: chunkStart, end: i, label: prevType });
      chunkStart = -1;
    }
    if (startOfChunk(prevPrefix, prefix, prevType, type)) chunkStart = i;
    prevPrefix = prefix;
    prevType = type;
  }
  return spans;
}

function endOfChunk(prev: string, tag: string, prevType: string, type: string): boolean {
  if (prev === 'E' || prev === 'S') return true;
  if ((prev === 'B' || prev === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prev !== 'O' && prevType !== type;
}

function startOfChunk(prev: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prev === 'E' || prev === 'S' || prev === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && prevType !== type;
}

/**
 * Encodes token spans (sorted or not, never overlapping) as `n` tags in the given scheme;
 * IOB1 uses B- only for a chunk that directly follows a chunk of the same type.
 *
 * @example
 * spansToTags([{ start: 0, end: 2, label: 'PER' }], 3, 'BIOES'); // ['B-PER', 'E-PER', 'O']
 */
export function spansToTags(spans: readonly TokenSpan[], n: number, scheme: TagScheme): string[] {
  const tags: string[] = new Array(n).fill('O');
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let prevEnd = -1;
  let prevLabel = '';
  for (const span of sorted) {
    if (!Number.isInteger(span.start) || !Number.isInteger(span.end) || span.start < 0 || span.end > n) {
      throw new DataError(`token span [${span.start}, ${span.end}) '${span.label}' is outside 0..${n}`, {
        hint: 'token spans must use integer token indices within the sentence',
      });
    }
    if (span.end <= span.start) {
      throw new DataError(`token span [${span.start}, ${span.end}) '${span.label}' is empty`, {
        hint: 'a span must cover at least one token',
      });
    }
    if (span.start < prevEnd) {
      throw new DataError(
        `token span [${span.start}, ${span.end}) '${span.label}' overlaps the previous span`,
        {
          hint: 'tag schemes cannot express overlapping spans; keep only one of them',
        },
      );
    }
    const label = span.label;
    const single = span.end - span.start === 1;
    for (let i = span.start; i < span.end; i++) {
      const first = i === span.start;
      const last = i === span.end - 1;
      let prefix: string;
      switch (scheme) {
        case 'IOB1':
          prefix = first && prevEnd === span.start && prevLabel === label ? 'B' : 'I';
          break;
        case 'IOB2':
          prefix = first ? 'B' : 'I';
          break;
        case 'BIOES':
          prefix = single ? 'S' : first ? 'B' : last ? 'E' : 'I';
          break;
        case 'BILOU':
          prefix = single ? 'U' : first ? 'B' : last ? 'L' : 'I';
          break;
      }
      tags[i] = label === '' ? prefix : `${prefix}-${label}`;
    }
    prevEnd = span.end;
    prevLabel = label;
  }
  return tags;
}

const PREFIXES: Record<TagScheme, string> = { IOB1: 'BI', IOB2: 'BI', BIOES: 'BIES', BILOU: 'BILU' };
const END_PREFIX: Record<TagScheme, string> = { IOB1: '', IOB2: '', BIOES: 'E', BILOU: 'L' };
const UNIT_PREFIX: Record<TagScheme, string> = { IOB1: '', IOB2: '', BIOES: 'S', BILOU: 'U' };

/**
 * Checks a tag sequence against a scheme and returns every violation with its token index:
 * unparseable tags, prefixes from another scheme, `I-X` not continuing `B-X`/`I-X` (IOB2,
 * BIOES, BILOU), chunks not closed with `E-`/`L-` and `E-`/`L-` without a start (BIOES,
 * BILOU). IOB1 only checks the tags themselves: I- after O is how IOB1 starts chunks.
 */
export function checkTags(tags: readonly string[], scheme: TagScheme): TagProblem[] {
  const problems: TagProblem[] = [];
  const parsed = tags.map(parseTag);
  const allowed = PREFIXES[scheme];
  const endPrefix = END_PREFIX[scheme];
  const unitPrefix = UNIT_PREFIX[scheme];
  const sequenceChecks = scheme !== 'IOB1';
  for (let i = 0; i < tags.length; i++) {
    const t = parsed[i];
    const tag = tags[i]!;
    if (t === null || t === undefined) {
      problems.push({
        index: i,
        message: `tag '${tag}' is not a tag: expected O or ${[...allowed].map((p) => `${p}-TYPE`).join(', ')}; fix the tag`,
      });
      continue;
    }
    if (t.prefix === 'O') continue;
    if (!allowed.includes(t.prefix)) {
      problems.push({
        index: i,
        message: `tag '${tag}' has prefix ${t.prefix}- which ${scheme} does not use; convert the file to ${scheme} or read it with the scheme it uses`,
      });
      continue;
    }
    if (!sequenceChecks) continue;
    const prev = i > 0 ? parsed[i - 1] : null;
    const next = i + 1 < tags.length ? parsed[i + 1] : null;
    const prevOpen = prev != null && (prev.prefix === 'B' || prev.prefix === 'I') && prev.type === t.type;
    if (t.prefix === 'I' || t.prefix === endPrefix) {
      if (!prevOpen) {
        const after = i === 0 ? 'at the start of the sentence' : `after ${tags[i - 1]}`;
        problems.push({
          index: i,
          message: `${tag} ${after}: in ${scheme} an entity starts with B-${t.type}${unitPrefix ? ` or ${unitPrefix}-${t.type}` : ''}; change this tag (or read the file as IOB1 if I- starts entities there)`,
        });
      }
    }
    if (endPrefix && (t.prefix === 'B' || t.prefix === 'I')) {
      const continues =
        next != null && (next.prefix === 'I' || next.prefix === endPrefix) && next.type === t.type;
      if (!continues) {
        problems.push({
          index: i,
          message: `${tag} is not followed by I-${t.type} or ${endPrefix}-${t.type}: in ${scheme} an entity ends with ${endPrefix}- (or is a single ${unitPrefix}- token); fix the tags of this entity`,
        });
      }
    }
  }
  return problems;
}

/** Rewrites tags from one scheme into another (decode with {@link tagsToSpans}, encode with {@link spansToTags}). */
export function convertTags(tags: readonly string[], from: TagScheme, to: TagScheme): string[] {
  return spansToTags(tagsToSpans(tags, from), tags.length, to);
}
