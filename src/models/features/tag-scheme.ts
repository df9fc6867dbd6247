import { DataError } from '../../core/errors.ts';
import type { Span, Token } from '../../data/types.ts';

/** Token tagging schemes the sequence taggers support. */
export const TAG_SCHEMES = ['BIO', 'BILOU'] as const;

/** A token tagging scheme: BIO (IOB2) or BILOU. */
export type TagScheme = (typeof TAG_SCHEMES)[number];

/** Tag prefix codes stored per tag id. */
export const PREFIX = { O: 0, B: 1, I: 2, L: 3, U: 4 } as const;
const PREFIX_LETTERS = ['O', 'B', 'I', 'L', 'U'];

/** An entity found in a tag sequence: token range [first, last] (inclusive) and type index. */
export interface TokenSpan {
  first: number;
  last: number;
  type: number;
}

/**
 * The tags of a scheme over a set of entity types (tag 0 is `O`), with the transitions that keep
 * the output valid and conversions between character spans and tag ids.
 *
 * @example
 * const tags = new TagSet(['LOC', 'PER'], 'BIO'); // O, B-LOC, I-LOC, B-PER, I-PER
 */
export class TagSet {
  /** Tag strings by id, e.g. `B-PER`. */
  readonly tags: string[];
  /** Prefix code (see {@link PREFIX}) of each tag. */
  readonly prefix: Uint8Array;
  /** Entity type index of each tag (−1 for `O`). */
  readonly typeOf: Int32Array;
  private readonly ids = new Map<string, number>();
  private readonly continuations: number[][] = [];

  constructor(
    /** Entity types, sorted. */
    readonly types: readonly string[],
    readonly scheme: TagScheme,
  ) {
    const prefixes = scheme === 'BIO' ? [PREFIX.B, PREFIX.I] : [PREFIX.B, PREFIX.I, PREFIX.L, PREFIX.U];
    this.tags = ['O'];
    const prefix = [0];
    const typeOf = [-1];
    types.forEach((type, ti) => {
      for (const p of prefixes) {
        this.tags.push(`${PREFIX_LETTERS[p]}-${type}`);
        prefix.push(p);
        typeOf.push(ti);
      }
    });
    this.prefix = Uint8Array.from(prefix);
    this.typeOf = Int32Array.from(typeOf);
    this.tags.forEach((t, i) => {
      this.ids.set(t, i);
    });
  }

  /** Number of tags. */
  get size(): number {
    return this.tags.length;
  }

  /** Id of a tag string, or −1. */
  tagId(tag: string): number {
    return this.ids.get(tag) ?? -1;
  }

  private opensEntity(p: number): boolean {
    return p === PREFIX.B || p === PREFIX.U;
  }

  /** Whether tag `b` may follow tag `a`. */
  allowedTransition(a: number, b: number): boolean {
    const pa = this.prefix[a]!;
    const pb = this.prefix[b]!;
    if (this.scheme === 'BIO') {
      return pb !== PREFIX.I || ((pa === PREFIX.B || pa === PREFIX.I) && this.typeOf[a] === this.typeOf[b]);
    }
    const open = pa === PREFIX.B || pa === PREFIX.I;
    if (open) return (pb === PREFIX.I || pb === PREFIX.L) && this.typeOf[a] === this.typeOf[b];
    return pb === PREFIX.O || this.opensEntity(pb);
  }

  /** Whether a sequence may start with tag `b`. */
  allowedStart(b: number): boolean {
    const p = this.prefix[b]!;
    return p === PREFIX.O || this.opensEntity(p);
  }

  /** Whether a sequence may end with tag `a`. */
  allowedEnd(a: number): boolean {
    if (this.scheme === 'BIO') return true;
    const p = this.prefix[a]!;
    return p === PREFIX.O || p === PREFIX.L || p === PREFIX.U;
  }

  /** Tags that would extend an entity of type `type` if they followed its last token. */
  continuationTags(type: number): readonly number[] {
    let out = this.continuations[type];
    if (!out) {
      out = [];
      for (let i = 0; i < this.size; i++) {
        if (this.typeOf[i] === type && (this.prefix[i] === PREFIX.I || this.prefix[i] === PREFIX.L))
          out.push(i);
      }
      this.continuations[type] = out;
    }
    return out;
  }

  /** The tag ids of an entity of type `type` over `length` tokens. */
  entityTags(type: number, length: number): number[] {
    const id = (p: number) => this.tagId(`${PREFIX_LETTERS[p]}-${this.types[type]}`);
    if (this.scheme === 'BIO') return Array.from({ length }, (_, i) => id(i === 0 ? PREFIX.B : PREFIX.I));
    if (length === 1) return [id(PREFIX.U)];
    return Array.from({ length }, (_, i) => id(i === 0 ? PREFIX.B : i === length - 1 ? PREFIX.L : PREFIX.I));
  }

  /**
   * Tags the tokens with the spans: a token belongs to a span when they overlap. Spans overlapping
   * an earlier span, or covering no token, are skipped and returned in `skipped`.
   */
  encode(tokens: readonly Token[], spans: readonly Span[]): { tags: Int32Array; skipped: Span[] } {
    const tags = new Int32Array(tokens.length);
    const skipped: Span[] = [];
    const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
    for (const span of sorted) {
      const type = this.types.indexOf(span.label);
      let first = -1;
      let last = -1;
      for (let t = 0; t < tokens.length; t++) {
        const tok = tokens[t]!;
        if (tok.end > span.start && tok.start < span.end) {
          if (first < 0) first = t;
          last = t;
        }
      }
      let free = first >= 0 && type >= 0;
      for (let t = first; free && t <= last; t++) if (tags[t] !== 0) free = false;
      if (!free) {
        skipped.push(span);
        continue;
      }
      this.entityTags(type, last - first + 1).forEach((tag, i) => {
        tags[first + i] = tag;
      });
    }
    return { tags, skipped };
  }

  /** Reads the entities of a tag sequence (conlleval semantics: a stray I/L starts an entity). */
  decode(tags: ArrayLike<number>): TokenSpan[] {
    const out: TokenSpan[] = [];
    let open: TokenSpan | null = null;
    for (let t = 0; t < tags.length; t++) {
      const tag = tags[t]!;
      const p = this.prefix[tag]!;
      const type = this.typeOf[tag]!;
      if (p === PREFIX.O) {
        if (open) out.push(open);
        open = null;
        continue;
      }
      if (open && open.type === type && (p === PREFIX.I || p === PREFIX.L)) open.last = t;
      else {
        if (open) out.push(open);
        open = { first: t, last: t, type };
      }
      if (p === PREFIX.L || p === PREFIX.U) {
        out.push(open);
        open = null;
      }
    }
    if (open) out.push(open);
    return out;
  }
}

/** Checks that a list of saved tag strings is exactly the tag set of its scheme and types. */
export function tagSetFromTags(tags: readonly string[], scheme: TagScheme, file: string): TagSet {
  const types = [...new Set(tags.filter((t) => t !== 'O').map((t) => t.slice(2)))];
  const set = new TagSet(types, scheme);
  if (set.tags.join('\n') !== tags.join('\n')) {
    throw new DataError(`saved labels ${JSON.stringify(tags)} are not a ${scheme} tag set`, {
      file,
      hint: 'the model directory is damaged; save the model again',
    });
  }
  return set;
}
