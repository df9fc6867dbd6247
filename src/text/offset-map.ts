import { SapphireError } from '../core/errors.ts';

/**
 * The JSON form of an {@link OffsetMap}: `segments` is a flat list of
 * `[textStart, sourceStart, textLength, sourceLength]` quadruples.
 */
export interface SerializedOffsetMap {
  version: 1;
  /** Length of the text the map describes. */
  textLength: number;
  /** Length of the source string the map points into. */
  sourceLength: number;
  /** Flat `[textStart, sourceStart, textLength, sourceLength]` quadruples, ordered by `textStart`. */
  segments: number[];
}

/** How the characters of one segment relate to their source. */
export type SegmentKind = 'copy' | 'atomic' | 'synthetic';

/**
 * One run of text characters and where it came from: `copy` runs map character for character,
 * `atomic` runs (a decoded entity) map as a whole to their source, `synthetic` runs (inserted
 * line breaks and spaces) have no source and sit at `sourceStart`.
 */
export interface OffsetSegment {
  textStart: number;
  sourceStart: number;
  textLength: number;
  sourceLength: number;
  kind: SegmentKind;
}

const FIELDS = 4;

function kindOf(textLength: number, sourceLength: number): SegmentKind {
  if (sourceLength === 0) return 'synthetic';
  return textLength === sourceLength ? 'copy' : 'atomic';
}

/**
 * Maps every character of an extracted text back to the source string it came from, stored as runs.
 *
 * @example
 * const { text, map } = htmlToText('<p>Fish &amp; chips</p>');
 * map.toSourceRange(5, 6); // [8, 13]: the `&amp;` entity
 */
export class OffsetMap {
  /** Length of the text this map describes. */
  readonly textLength: number;
  /** Length of the source string this map points into. */
  readonly sourceLength: number;
  private readonly data: number[];

  /** Builds a map from flat quadruples; use {@link OffsetMapBuilder} or {@link OffsetMap.fromJSON} instead. */
  constructor(segments: ArrayLike<number>, textLength: number, sourceLength: number) {
    this.data = Array.from(segments);
    this.textLength = textLength;
    this.sourceLength = sourceLength;
  }

  /** Number of runs in the map. */
  get segmentCount(): number {
    return this.data.length / FIELDS;
  }

  /** The runs, in text order. */
  *segments(): IterableIterator<OffsetSegment> {
    for (let i = 0; i < this.segmentCount; i++) yield this.segment(i);
  }

  private segment(i: number): OffsetSegment {
    const d = this.data;
    const o = i * FIELDS;
    const textLength = d[o + 2]!;
    const sourceLength = d[o + 3]!;
    return {
      textStart: d[o]!,
      sourceStart: d[o + 1]!,
      textLength,
      sourceLength,
      kind: kindOf(textLength, sourceLength),
    };
  }

  /** Index of the run holding text offset `t` (0 ≤ t < textLength). */
  private find(t: number): number {
    let lo = 0;
    let hi = this.segmentCount - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.data[mid * FIELDS]! <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private check(offset: number, what: string): void {
    if (!Number.isInteger(offset) || offset < 0 || offset > this.textLength) {
      throw new SapphireError(
        'BAD_INPUT',
        `${what} ${offset} is outside the text (length ${this.textLength})`,
        {
          hint: 'pass character offsets between 0 and the length of the extracted text',
        },
      );
    }
  }

  /** Source extent `[start, end)` of one text character; empty for synthetic characters. */
  private extent(t: number): [number, number, boolean] {
    const s = this.segment(this.find(t));
    if (s.kind === 'copy') {
      const p = s.sourceStart + (t - s.textStart);
      return [p, p + 1, true];
    }
    return [s.sourceStart, s.sourceStart + s.sourceLength, s.kind !== 'synthetic'];
  }

  /** Source offset of text offset `t`; `t === textLength` gives the end of the last character's source. */
  toSource(t: number): number {
    this.check(t, 'text offset');
    if (this.segmentCount === 0) return 0;
    if (t === this.textLength) {
      const last = this.segment(this.segmentCount - 1);
      return last.sourceStart + last.sourceLength;
    }
    return this.extent(t)[0];
  }

  /** Whether the character at text offset `t` was inserted by extraction (a line break or separator). */
  isSynthetic(t: number): boolean {
    this.check(t, 'text offset');
    if (t === this.textLength) return false;
    return this.segment(this.find(t)).kind === 'synthetic';
  }

  /**
   * Source range `[start, end)` covering text `[start, end)`; synthetic characters count only when the
   * range holds nothing else.
   */
  toSourceRange(start: number, end: number): [number, number] {
    this.check(start, 'range start');
    this.check(end, 'range end');
    if (end < start) {
      throw new SapphireError('BAD_INPUT', `range end ${end} is before its start ${start}`, {
        hint: 'pass ranges as [start, end) with start ≤ end',
      });
    }
    if (start === end) {
      const p = this.toSource(start);
      return [p, p];
    }
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    let synthetic: number | undefined;
    for (const piece of this.sourcePieces(start, end)) {
      if (piece.synthetic) {
        synthetic ??= piece.start;
        continue;
      }
      lo = Math.min(lo, piece.start);
      hi = Math.max(hi, piece.end);
    }
    if (lo === Number.POSITIVE_INFINITY) return [synthetic!, synthetic!];
    return [lo, hi];
  }

  /**
   * The source pieces behind text `[start, end)`, one per run (clipped), in text order; synthetic
   * pieces are empty and flagged.
   */
  *sourcePieces(
    start: number,
    end: number,
  ): IterableIterator<{
    textStart: number;
    textEnd: number;
    start: number;
    end: number;
    synthetic: boolean;
  }> {
    if (start >= end || this.segmentCount === 0) return;
    for (let i = this.find(start); i < this.segmentCount; i++) {
      const s = this.segment(i);
      if (s.textStart >= end) break;
      const a = Math.max(start, s.textStart);
      const b = Math.min(end, s.textStart + s.textLength);
      if (a >= b) continue;
      if (s.kind === 'copy') {
        const off = s.sourceStart - s.textStart;
        yield { textStart: a, textEnd: b, start: a + off, end: b + off, synthetic: false };
      } else {
        yield {
          textStart: a,
          textEnd: b,
          start: s.sourceStart,
          end: s.sourceStart + s.sourceLength,
          synthetic: s.kind === 'synthetic',
        };
      }
    }
  }

  /**
   * Text range `[start, end)` of the non-synthetic characters whose source starts inside
   * `[sourceStart, sourceEnd)`, or `undefined` when none does (the source was dropped).
   */
  fromSourceRange(sourceStart: number, sourceEnd: number): [number, number] | undefined {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const s of this.segments()) {
      if (s.kind === 'synthetic') continue;
      if (s.kind === 'atomic') {
        if (s.sourceStart >= sourceStart && s.sourceStart < sourceEnd) {
          lo = Math.min(lo, s.textStart);
          hi = Math.max(hi, s.textStart + s.textLength);
        }
        continue;
      }
      const a = Math.max(sourceStart, s.sourceStart);
      const b = Math.min(sourceEnd, s.sourceStart + s.sourceLength);
      if (a >= b) continue;
      const off = s.textStart - s.sourceStart;
      lo = Math.min(lo, a + off);
      hi = Math.max(hi, b + off);
    }
    return lo === Number.POSITIVE_INFINITY ? undefined : [lo, hi];
  }

  /** The JSON form, compact (four numbers per run). */
  toJSON(): SerializedOffsetMap {
    return {
      version: 1,
      textLength: this.textLength,
      sourceLength: this.sourceLength,
      segments: Array.from(this.data),
    };
  }

  /** Rebuilds a map from its JSON form, checking that the runs are well formed. */
  static fromJSON(json: unknown): OffsetMap {
    const bad = (why: string): never => {
      throw new SapphireError('BAD_INPUT', `not a serialised offset map: ${why}`, {
        hint: 'pass the value produced by OffsetMap.toJSON() (e.g. example.meta.htmlMap)',
      });
    };
    if (typeof json !== 'object' || json === null) return bad('expected an object');
    const o = json as Partial<SerializedOffsetMap>;
    if (o.version !== 1) return bad(`unknown version ${String(o.version)}`);
    if (!Number.isInteger(o.textLength) || !Number.isInteger(o.sourceLength)) {
      return bad('textLength and sourceLength must be integers');
    }
    const seg = o.segments;
    if (!Array.isArray(seg) || seg.length % FIELDS !== 0) return bad('segments must be a list of quadruples');
    let next = 0;
    for (let i = 0; i < seg.length; i += FIELDS) {
      const [ts, ss, tl, sl] = [seg[i], seg[i + 1], seg[i + 2], seg[i + 3]];
      if (![ts, ss, tl, sl].every((v) => Number.isInteger(v) && (v as number) >= 0)) {
        return bad(`segment ${i / FIELDS} has a non-integer or negative field`);
      }
      if (ts !== next || tl === 0) return bad(`segment ${i / FIELDS} does not continue the text at ${next}`);
      if ((ss as number) + (sl as number) > o.sourceLength!)
        return bad(`segment ${i / FIELDS} ends past the source`);
      next += tl as number;
    }
    if (next !== o.textLength)
      return bad(`segments cover ${next} characters, textLength says ${o.textLength}`);
    return new OffsetMap(seg, o.textLength!, o.sourceLength!);
  }
}

/** Builds an {@link OffsetMap} one piece of text at a time, merging contiguous runs. */
export class OffsetMapBuilder {
  private readonly data: number[] = [];
  private length = 0;

  /** Text length so far. */
  get textLength(): number {
    return this.length;
  }

  /** Appends `length` characters copied one-for-one from `sourceStart`. */
  copy(sourceStart: number, length: number): void {
    this.push(sourceStart, length, length);
  }

  /**
   * Appends `textLength` characters produced as a whole by `[sourceStart, sourceStart + sourceLength)`,
   * such as a decoded entity.
   */
  atomic(sourceStart: number, sourceLength: number, textLength: number): void {
    // Runs whose lengths agree are read back as copies (an HTML entity is always longer than its text).
    this.push(sourceStart, sourceLength, textLength);
  }

  /** Appends `textLength` inserted characters that sit at `sourcePosition`. */
  synthetic(sourcePosition: number, textLength: number): void {
    this.push(sourcePosition, 0, textLength);
  }

  private push(sourceStart: number, sourceLength: number, textLength: number): void {
    if (textLength <= 0) return;
    const d = this.data;
    const n = d.length;
    if (n > 0) {
      const ps = d[n - 3]!;
      const ptl = d[n - 2]!;
      const psl = d[n - 1]!;
      const prevCopy = ptl === psl;
      const thisCopy = textLength === sourceLength;
      const mergeCopy = prevCopy && thisCopy && ps + psl === sourceStart;
      const mergeSynthetic = psl === 0 && sourceLength === 0 && ps === sourceStart;
      if (mergeCopy || mergeSynthetic) {
        d[n - 2] = ptl + textLength;
        d[n - 1] = psl + sourceLength;
        this.length += textLength;
        return;
      }
    }
    d.push(this.length, sourceStart, textLength, sourceLength);
    this.length += textLength;
  }

  /** The finished map over a source of `sourceLength` characters. */
  build(sourceLength: number): OffsetMap {
    return new OffsetMap(this.data, this.length, sourceLength);
  }
}
