import { createHash } from 'node:crypto';
import { DataError, type Problem, throwIfProblems } from '../core/errors.ts';
import type { Example } from '../data/types.ts';

/** Key order of the fields of an example in its canonical form; other keys are not part of an example. */
export const EXAMPLE_KEYS = ['id', 'text', 'tokens', 'spans', 'labels', 'split', 'meta'] as const;
const TOKEN_KEYS = ['text', 'start', 'end'];
const SPAN_KEYS = ['start', 'end', 'label'];

/** Thrown inside the serialiser; turned into a {@link Problem} with the example id by the callers. */
class NotJsonError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `a ${(value as object).constructor?.name ?? 'object'}`;
  return `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function serialise(value: unknown, path: string, firstKeys: readonly string[] = []): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value))
        throw new NotJsonError(path, `is ${value}; only finite numbers can be stored`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        const items: string[] = [];
        for (let i = 0; i < value.length; i++) {
          if (value[i] === undefined) throw new NotJsonError(`${path}[${i}]`, 'is undefined; use null');
          items.push(serialise(value[i], `${path}[${i}]`));
        }
        return `[${items.join(',')}]`;
      }
      if (!isPlainObject(value)) {
        throw new NotJsonError(
          path,
          `is ${describe(value)}; only JSON values (plain objects, arrays, strings, numbers, booleans, null) can be stored`,
        );
      }
      const rest = Object.keys(value)
        .filter((k) => !firstKeys.includes(k))
        .sort();
      const parts: string[] = [];
      for (const key of [...firstKeys.filter((k) => k in value), ...rest]) {
        const v = value[key];
        if (v === undefined) continue;
        parts.push(`${JSON.stringify(key)}:${serialise(v, path ? `${path}.${key}` : key)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new NotJsonError(path, `is ${describe(value)}; only JSON values can be stored`);
  }
}

/**
 * Serialises a JSON value with object keys sorted (so equal content gives equal text), throwing a
 * DataError naming the field path for anything JSON cannot carry faithfully (NaN, Infinity, Date, Map, BigInt, undefined in arrays).
 *
 * @example
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown, path = ''): string {
  try {
    return serialise(value, path);
  } catch (err) {
    if (err instanceof NotJsonError) {
      throw new DataError(`${err.path || 'value'} ${err.message}`, {
        path: err.path || undefined,
        hint: 'convert the value to plain JSON before storing it',
      });
    }
    throw err;
  }
}

function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** Structural problems of one example that would make it unsafe to store (types, offsets inside the text). */
function exampleProblems(ex: Example, index: number): Problem[] {
  const problems: Problem[] = [];
  const exampleId = typeof ex?.id === 'string' && ex.id !== '' ? ex.id : undefined;
  const at = (path: string, message: string) =>
    problems.push({ exampleId, path: `examples[${index}]${path ? `.${path}` : ''}`, message });
  if (!isPlainObject(ex)) {
    at('', `is ${describe(ex)}, not an example object`);
    return problems;
  }
  for (const key of Object.keys(ex)) {
    if (
      !(EXAMPLE_KEYS as readonly string[]).includes(key) &&
      (ex as unknown as Record<string, unknown>)[key] !== undefined
    )
      at(key, `is not a field of an example (fields: ${EXAMPLE_KEYS.join(', ')}); put extra data in meta`);
  }
  if (typeof ex.id !== 'string' || ex.id === '') at('id', 'must be a non-empty string');
  if (typeof ex.text !== 'string') {
    at('text', 'must be a string');
    return problems;
  }
  const n = ex.text.length;
  if (ex.tokens !== undefined) {
    if (!Array.isArray(ex.tokens)) at('tokens', 'must be an array');
    else
      ex.tokens.forEach((t, i) => {
        if (!isPlainObject(t) || typeof t.text !== 'string' || !isOffset(t.start) || !isOffset(t.end))
          at(`tokens[${i}]`, 'must be { text: string, start: integer, end: integer }');
        else if (t.start > t.end || t.end > n)
          at(`tokens[${i}]`, `offsets ${t.start}..${t.end} are outside the text (length ${n})`);
      });
  }
  if (ex.spans !== undefined) {
    if (!Array.isArray(ex.spans)) at('spans', 'must be an array');
    else
      ex.spans.forEach((s, i) => {
        if (
          !isPlainObject(s) ||
          !isOffset(s.start) ||
          !isOffset(s.end) ||
          typeof s.label !== 'string' ||
          s.label === ''
        )
          at(`spans[${i}]`, 'must be { start: integer, end: integer, label: non-empty string }');
        else if (s.start >= s.end || s.end > n)
          at(
            `spans[${i}]`,
            `offsets ${s.start}..${s.end} are not a non-empty range inside the text (length ${n})`,
          );
      });
  }
  if (ex.labels !== undefined) {
    if (!Array.isArray(ex.labels) || ex.labels.some((l) => typeof l !== 'string' || l === ''))
      at('labels', 'must be an array of non-empty strings');
  }
  if (ex.split !== undefined && (typeof ex.split !== 'string' || ex.split === ''))
    at('split', 'must be a non-empty string when present');
  if (ex.meta !== undefined && !isPlainObject(ex.meta))
    at('meta', `must be a plain object, not ${describe(ex.meta)}`);
  return problems;
}

/** An example's canonical JSON line (fixed field order, sorted keys inside `meta`; `meta` defaults to `{}`). */
function exampleLine(ex: Example): string {
  const parts: string[] = [];
  for (const key of EXAMPLE_KEYS) {
    let value: unknown = ex[key];
    if (key === 'meta' && value === undefined) value = {};
    if (value === undefined) continue;
    const firstKeys = key === 'tokens' ? TOKEN_KEYS : key === 'spans' ? SPAN_KEYS : [];
    const text = Array.isArray(value)
      ? `[${value.map((v, i) => serialise(v, `${key}[${i}]`, firstKeys)).join(',')}]`
      : serialise(value, key);
    parts.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

/** The canonical serialisation of a list of examples, with its content hash and split counts. */
export interface SerialisedExamples {
  /** One canonical JSON object per line, each line ending in `\n`; this is what a dataset blob holds (before gzip). */
  jsonl: string;
  /** sha256 (hex) of `jsonl`. */
  hash: string;
  /** Example count per split name, over the examples that have one. */
  splitCounts: Record<string, number>;
}

/**
 * Checks and serialises examples canonically (stable key order, in the given order) and hashes the result;
 * throws one DataError listing every problem (bad types, offsets outside the text, duplicate ids, non-JSON meta).
 *
 * @example
 * const { hash, jsonl } = serialiseExamples([{ id: 'a', text: 'Hi', meta: {} }]);
 */
export function serialiseExamples(examples: readonly Example[], what = 'the examples'): SerialisedExamples {
  if (!Array.isArray(examples)) {
    throw new DataError(`${what} must be an array of examples, not ${describe(examples)}`, {
      hint: 'pass the examples as an array',
    });
  }
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  const lines: string[] = [];
  const splitCounts: Record<string, number> = {};
  for (let i = 0; i < examples.length; i++) {
    const ex = examples[i]!;
    const found = exampleProblems(ex, i);
    if (isPlainObject(ex) && typeof ex.id === 'string' && ex.id !== '') {
      const first = seen.get(ex.id);
      if (first !== undefined)
        found.push({
          exampleId: ex.id,
          path: `examples[${i}].id`,
          message: `duplicates the id of examples[${first}]`,
        });
      else seen.set(ex.id, i);
    }
    if (found.length === 0) {
      try {
        lines.push(`${exampleLine(ex)}\n`);
        if (ex.split !== undefined) splitCounts[ex.split] = (splitCounts[ex.split] ?? 0) + 1;
      } catch (err) {
        if (!(err instanceof NotJsonError)) throw err;
        found.push({ exampleId: ex.id, path: `examples[${i}].${err.path}`, message: err.message });
      }
    }
    problems.push(...found);
    if (problems.length >= 1000) break;
  }
  throwIfProblems(problems, what, 'fix these examples (or leave them out) and store the dataset again');
  const jsonl = lines.join('');
  return { jsonl, hash: createHash('sha256').update(jsonl).digest('hex'), splitCounts };
}

/**
 * sha256 (hex) over the canonical serialisation of the examples, in order: same content, same hash,
 * whatever the key order or `undefined` fields of the input objects.
 *
 * @example
 * hashExamples([{ id: 'a', text: 'Hi', meta: { x: 1, y: 2 } }]) === hashExamples([{ meta: { y: 2, x: 1 }, text: 'Hi', id: 'a' }]);
 */
export function hashExamples(examples: readonly Example[]): string {
  return serialiseExamples(examples).hash;
}

/** Parses the JSONL text of a dataset blob back into examples, naming the line of any damage. */
export function parseExamplesJsonl(jsonl: string, source: string): Example[] {
  const examples: Example[] = [];
  const lines = jsonl.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    try {
      examples.push(JSON.parse(line) as Example);
    } catch (err) {
      throw new DataError(`cannot parse example: ${(err as Error).message}`, {
        file: source,
        line: i + 1,
        hint: 'the stored dataset is damaged; restore it from a backup or import it again',
      });
    }
  });
  return examples;
}
