import { ConfigError } from '../../core/errors.ts';
import type { TokenSpec } from './rules-config.ts';
import { BOOLEAN_ATTRIBUTES, VALUE_ATTRIBUTES } from './token-attributes.ts';

/*
 * spaCy Matcher-style token patterns: a list of token specs, each a set of attribute tests plus an
 * optional `OP` quantifier. Attribute names are case-insensitive (`LOWER` = `lower`). Supported:
 *   orth/text, lower, shape, length        — equal to a value, or {IN: […]}, {NOT_IN: […]}, {REGEX: "…"},
 *                                            or comparisons {"==": v, "!=": v, ">=": n, "<=": n, ">": n, "<": n}
 *   is_alpha, is_ascii, is_digit, is_lower, is_upper, is_title, is_punct, is_space,
 *   like_num, like_url, like_email         — true/false
 *   regex                                  — a regular expression the token text must match (per token)
 *   op                                     — "!" (exactly one token that does not match), "?", "*", "+", "1",
 *                                            "{n}", "{n,m}", "{n,}", "{,m}"
 * An empty spec `{}` matches any one token.
 */

/** A token as patterns see it: its text and (cached) lower-case form. */
export interface PatternToken {
  text: string;
  lower: string;
}

/** One element of a compiled pattern: a token test repeated between `min` and `max` times. */
interface PatternElement {
  test: (token: PatternToken) => boolean;
  min: number;
  max: number;
}

/** Where a pattern came from, for errors: a file and line, and/or a config field path. */
export interface PatternLocation {
  file?: string;
  line?: number;
  path?: string;
}

/** A pattern that is a plain sequence of exact token values, matched with a token trie instead. */
export interface LiteralPattern {
  caseSensitive: boolean;
  words: string[];
}

/** The attributes that need a statistical pipeline, which Sapphire patterns cannot test. */
const PIPELINE_ATTRIBUTES = new Set([
  'pos',
  'tag',
  'dep',
  'lemma',
  'morph',
  'ent_type',
  'ent_iob',
  'ent_id',
  'ent_kb_id',
  'sent_start',
  'is_sent_start',
  'is_sent_end',
  'norm',
  'is_stop',
  'is_oov',
  'is_bracket',
  'is_quote',
  'is_left_punct',
  'is_right_punct',
  'is_currency',
  'prefix',
  'suffix',
  'spacy',
  'lang',
  'ent_type_',
  '_',
]);

const SUPPORTED = [...Object.keys(VALUE_ATTRIBUTES), ...Object.keys(BOOLEAN_ATTRIBUTES), 'regex', 'op'];

function patternError(where: PatternLocation, message: string, hint: string): ConfigError {
  return new ConfigError(message, { file: where.file, line: where.line, path: where.path, hint });
}

/** Compiles a user regular expression, throwing a ConfigError naming `where` when it is invalid. */
export function compileUserRegex(
  source: string,
  flags: string,
  where: PatternLocation,
  what = 'regular expression',
): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (e) {
    throw patternError(
      where,
      `invalid ${what} /${source}/${flags}: ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}`,
      'fix the regular expression (JavaScript syntax; escape backslashes in JSON and YAML strings)',
    );
  }
}

function parseQuantifier(op: unknown, where: PatternLocation): { min: number; max: number; negate: boolean } {
  const bad = () =>
    patternError(
      where,
      `unknown OP ${JSON.stringify(op)}`,
      'use one of "!", "?", "*", "+", "1", "{n}", "{n,m}", "{n,}" or "{,m}"',
    );
  if (typeof op !== 'string') throw bad();
  switch (op) {
    case '!':
      return { min: 1, max: 1, negate: true };
    case '?':
      return { min: 0, max: 1, negate: false };
    case '*':
      return { min: 0, max: Number.POSITIVE_INFINITY, negate: false };
    case '+':
      return { min: 1, max: Number.POSITIVE_INFINITY, negate: false };
    case '1':
      return { min: 1, max: 1, negate: false };
  }
  const m = /^\{(\d*)(,?)(\d*)\}$/.exec(op);
  if (!m || (m[1] === '' && m[3] === '') || (m[2] === '' && m[3] !== '')) throw bad();
  const min = m[1] === '' ? 0 : Number(m[1]);
  const max = m[2] === '' ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
  if (max < min || max === 0) throw bad();
  return { min, max, negate: false };
}

type ValueTest = (value: string | number) => boolean;

function compileValueTest(attr: string, spec: unknown, where: PatternLocation): ValueTest {
  if (typeof spec === 'string' || typeof spec === 'number') return (v) => v === spec;
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw patternError(
      where,
      `attribute "${attr}" must be a string, a number or an object like {"IN": […]} (got ${JSON.stringify(spec)})`,
      'write e.g. {"lower": "nike"} or {"lower": {"IN": ["nike", "adidas"]}}',
    );
  }
  const tests: ValueTest[] = [];
  for (const [rawKey, arg] of Object.entries(spec)) {
    const key = rawKey.toUpperCase();
    const needList = () => {
      if (!Array.isArray(arg)) {
        throw patternError(
          where,
          `"${attr}": {"${rawKey}": …} needs a list`,
          'write e.g. {"IN": ["a", "b"]}',
        );
      }
      return new Set(arg as unknown[]);
    };
    const needNumber = () => {
      if (typeof arg !== 'number') {
        throw patternError(where, `"${attr}": {"${rawKey}": …} needs a number`, 'write e.g. {">=": 3}');
      }
      return arg;
    };
    switch (key) {
      case 'IN': {
        const set = needList();
        tests.push((v) => set.has(v));
        break;
      }
      case 'NOT_IN': {
        const set = needList();
        tests.push((v) => !set.has(v));
        break;
      }
      case 'REGEX': {
        if (typeof arg !== 'string') {
          throw patternError(
            where,
            `"${attr}": {"REGEX": …} needs a string`,
            'write e.g. {"REGEX": "^[A-Z]"}',
          );
        }
        const re = compileUserRegex(arg, 'u', where, `regex of "${attr}"`);
        tests.push((v) => re.test(String(v)));
        break;
      }
      case '==':
        tests.push((v) => v === arg);
        break;
      case '!=':
        tests.push((v) => v !== arg);
        break;
      case '>=': {
        const n = needNumber();
        tests.push((v) => typeof v === 'number' && v >= n);
        break;
      }
      case '<=': {
        const n = needNumber();
        tests.push((v) => typeof v === 'number' && v <= n);
        break;
      }
      case '>': {
        const n = needNumber();
        tests.push((v) => typeof v === 'number' && v > n);
        break;
      }
      case '<': {
        const n = needNumber();
        tests.push((v) => typeof v === 'number' && v < n);
        break;
      }
      default:
        throw patternError(
          where,
          `unknown predicate "${rawKey}" on attribute "${attr}"`,
          'use IN, NOT_IN, REGEX, ==, !=, >=, <=, > or <',
        );
    }
  }
  return (v) => tests.every((t) => t(v));
}

function compileTokenSpec(spec: TokenSpec, where: PatternLocation): PatternElement {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw patternError(
      where,
      'a pattern token must be an object such as {"lower": "nike"}',
      'fix the pattern',
    );
  }
  const tests: ((token: PatternToken) => boolean)[] = [];
  let quantifier = { min: 1, max: 1, negate: false };
  for (const [rawKey, value] of Object.entries(spec)) {
    const key = rawKey.toLowerCase();
    if (key === 'op') {
      quantifier = parseQuantifier(value, where);
    } else if (key === 'lower') {
      const test = compileValueTest(rawKey, value, where);
      tests.push((t) => test(t.lower));
    } else if (key in VALUE_ATTRIBUTES) {
      const get = VALUE_ATTRIBUTES[key]!;
      const test = compileValueTest(rawKey, value, where);
      tests.push((t) => test(get(t.text)));
    } else if (key in BOOLEAN_ATTRIBUTES) {
      if (typeof value !== 'boolean') {
        throw patternError(
          where,
          `attribute "${rawKey}" must be true or false (got ${JSON.stringify(value)})`,
          `write e.g. {"${rawKey}": true}`,
        );
      }
      const get = BOOLEAN_ATTRIBUTES[key]!;
      tests.push((t) => get(t.text) === value);
    } else if (key === 'regex') {
      if (typeof value !== 'string') {
        throw patternError(where, `attribute "${rawKey}" must be a string`, 'write e.g. {"regex": "^[A-Z]"}');
      }
      const re = compileUserRegex(value, 'u', where, `regex of "${rawKey}"`);
      tests.push((t) => re.test(t.text));
    } else if (PIPELINE_ATTRIBUTES.has(key)) {
      throw patternError(
        where,
        `unsupported token attribute "${rawKey}": it needs a tagger or parser, which rules-ner.v1 does not run`,
        `use surface attributes only: ${SUPPORTED.join(', ')}`,
      );
    } else {
      throw patternError(
        where,
        `unknown token attribute "${rawKey}"`,
        `use one of: ${SUPPORTED.join(', ')} (names are case-insensitive)`,
      );
    }
  }
  const test = (t: PatternToken) => tests.every((f) => f(t)) !== quantifier.negate;
  return { test, min: quantifier.min, max: quantifier.max };
}

/**
 * A compiled spaCy-style token pattern: finds every token range a pattern matches.
 *
 * @example
 * const p = TokenPattern.compile([{ lower: 'ann' }, { lower: 'taylor', OP: '?' }], { path: 'patterns.0' });
 * p.matchEnds(tokens, 0); // e.g. [1, 2]: "Ann" and "Ann Taylor" both match from token 0
 */
export class TokenPattern {
  private constructor(private readonly elements: PatternElement[]) {}

  /** Compiles token specs, throwing a ConfigError naming `where` and the attribute for anything unsupported. */
  static compile(specs: readonly TokenSpec[], where: PatternLocation): TokenPattern {
    if (specs.length === 0)
      throw patternError(where, 'a token pattern needs at least one token', 'fix the pattern');
    const elements = specs.map((spec, i) =>
      compileTokenSpec(spec, { ...where, path: where.path ? `${where.path}.${i}` : `pattern.${i}` }),
    );
    return new TokenPattern(elements);
  }

  /**
   * The exact words of a pattern that only tests `orth`/`text` (case-sensitive) or only `lower`, one token
   * per spec and without OP, so it can go in a token trie; undefined for any other pattern.
   */
  static literal(specs: readonly TokenSpec[]): LiteralPattern | undefined {
    let caseSensitive: boolean | undefined;
    const words: string[] = [];
    for (const spec of specs) {
      const entries = Object.entries(spec ?? {});
      if (entries.length !== 1) return undefined;
      const [rawKey, value] = entries[0]!;
      const key = rawKey.toLowerCase();
      if (typeof value !== 'string') return undefined;
      const cs = key === 'orth' || key === 'text' ? true : key === 'lower' ? false : undefined;
      if (cs === undefined || (caseSensitive !== undefined && cs !== caseSensitive)) return undefined;
      caseSensitive = cs;
      words.push(value);
    }
    return caseSensitive === undefined ? undefined : { caseSensitive, words };
  }

  /**
   * Every end (exclusive token index) of a non-empty match starting at token `start`, ascending.
   * `memo` may be shared across starts of the same token list (pass a fresh Map per text).
   */
  matchEnds(tokens: readonly PatternToken[], start: number, memo = new Map<number, number[]>()): number[] {
    const ends = this.endsFrom(0, start, tokens, memo).filter((e) => e > start);
    return ends;
  }

  private endsFrom(
    e: number,
    pos: number,
    tokens: readonly PatternToken[],
    memo: Map<number, number[]>,
  ): number[] {
    if (e === this.elements.length) return [pos];
    const key = e * (tokens.length + 1) + pos;
    const cached = memo.get(key);
    if (cached) return cached;
    const el = this.elements[e]!;
    const out = new Set<number>();
    if (el.min === 0) for (const end of this.endsFrom(e + 1, pos, tokens, memo)) out.add(end);
    let p = pos;
    let count = 0;
    while (count < el.max && p < tokens.length && el.test(tokens[p]!)) {
      p++;
      count++;
      if (count >= el.min) for (const end of this.endsFrom(e + 1, p, tokens, memo)) out.add(end);
    }
    const result = [...out].sort((a, b) => a - b);
    memo.set(key, result);
    return result;
  }
}
