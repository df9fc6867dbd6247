import { readFileSync } from 'node:fs';
import {
  Document,
  isAlias,
  isCollection,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  parse as parseYaml,
  stringify as stringifyYaml,
  visit,
} from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ErrorDetails, NotFoundError, type Problem } from './errors.ts';

/** A path into a config value: object keys and array indices, e.g. `['slices', 0, 'name']`. */
export type ConfigPath = (string | number)[];

/** A parsed YAML document: its plain value and a way to find the line of any field in it. */
export interface ParsedYaml {
  /** The document as plain JavaScript data (objects, arrays, scalars). */
  value: unknown;
  /** The 1-based line of the field at `path` (the key's line for mapping entries), or undefined when absent. */
  lineOf(path: ConfigPath): number | undefined;
}

/** Where a value being validated came from, so errors can point at it. */
export interface ConfigSource {
  /** File the value was read from; prefixes every problem. */
  file?: string;
  /** Maps a field path to its line in `file` (from {@link parseYamlWithLines}). */
  lineOf?: (path: ConfigPath) => number | undefined;
  /** The `key.path=value` overrides that were applied, so their fields are reported as "from override". */
  overrides?: string[];
  /** What the user should do when validation fails; a generic hint is used when absent. */
  hint?: string;
}

/** Builds a ConfigError whose message is exactly `message` while still carrying the location details. */
function configError(message: string, details: ErrorDetails): ConfigError {
  const { file, line, column, path, ...rest } = details;
  const err = new ConfigError(message, rest);
  Object.assign(err.details, { file, line, column, path });
  for (const k of ['file', 'line', 'column', 'path'] as const) {
    if (err.details[k] === undefined) delete err.details[k];
  }
  return err;
}

/** Formats a config path as the dotted form used by overrides, e.g. `slices.0.name`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

/**
 * Parses YAML text keeping positions, so any field path can be mapped back to its line.
 *
 * @example
 * const { value, lineOf } = parseYamlWithLines('name: demo\ntask: ner\n', 'sapphire.yaml');
 * lineOf(['task']); // 2
 */
export function parseYamlWithLines(source: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const problems: Problem[] = doc.errors.map((e) => {
      const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
      return { file, line: pos.line, column: pos.col, message: cleanYamlMessage(e.message) };
    });
    const first = problems[0]!;
    const lines = problems.map((p) => `${file}:${p.line}:${p.column}: YAML syntax error: ${p.message}`);
    throw configError(lines.join('\n'), {
      file,
      line: first.line,
      column: first.column,
      problems,
      hint: `fix the YAML syntax in ${file} at the position shown (check indentation, colons and quotes)`,
    });
  }
  const lineAt = (node: unknown): number | undefined => {
    const range = (node as Node | null)?.range;
    return range ? lineCounter.linePos(range[0]).line : undefined;
  };
  const lineOf = (path: ConfigPath): number | undefined => {
    let node: unknown = doc.contents;
    let line = lineAt(node);
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => keyText(p.key) === String(seg));
        if (!pair) return undefined;
        line = lineAt(pair.key) ?? lineAt(pair.value);
        node = pair.value;
      } else if (isSeq(node) && /^\d+$/.test(String(seg))) {
        const item = node.items[Number(seg)];
        if (item === undefined) return undefined;
        line = lineAt(item) ?? line;
        node = item;
      } else {
        return undefined;
      }
    }
    return line;
  };
  return { value: doc.toJS({ maxAliasCount: 1000 }), lineOf };
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/** Drops the position suffix and code frame the yaml package appends; the location is reported separately. */
function cleanYamlMessage(message: string): string {
  return message
    .split('\n')[0]!
    .replace(/ at line \d+, column \d+:?$/, '')
    .trim();
}

/** Optimal-string-alignment edit distance (insertions, deletions, substitutions, adjacent swaps). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate closest to `word` by edit distance (case-insensitive), when it is close enough to be a likely typo. */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.floor(w.length * 0.4));
  let best: string | undefined;
  let bestDist = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const dist = editDistance(w, c.toLowerCase());
    if (dist < bestDist) {
      best = c;
      bestDist = dist;
    }
  }
  return bestDist <= limit && bestDist < w.length ? best : undefined;
}

/** `" (did you mean "x"?)"` when a candidate is close to `word`, otherwise the empty string. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const match = closestMatch(word, candidates);
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  return `${typeof v} ${String(v)}`;
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping (key: value)',
  record: 'a mapping (key: value)',
  array: 'a list',
  tuple: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  null: 'null',
};

function rangeText(min: number | undefined, max: number | undefined): string | undefined {
  const lo = min !== undefined && Math.abs(min) < Number.MAX_SAFE_INTEGER ? min : undefined;
  const hi = max !== undefined && Math.abs(max) < Number.MAX_SAFE_INTEGER ? max : undefined;
  if (lo !== undefined && hi !== undefined) return `between ${lo} and ${hi}`;
  return undefined;
}

interface RawIssue {
  code?: string;
  input?: unknown;
  path?: PropertyKey[];
  inst?: { _zod?: { def?: { shape?: Record<string, unknown> } } };
  schema?: { minValue?: number | null; maxValue?: number | null };
  [key: string]: unknown;
}

/** Marker prefix the error map puts on unknown-key messages so their known keys can be recovered. */
const KNOWN_KEYS = '\u0000known:';

/** Our error map: plain-language messages that name what was expected and what was found. */
function messageFor(iss: RawIssue): string | undefined {
  const got = describeValue(iss.input);
  switch (iss.code) {
    case 'invalid_type': {
      const expected = TYPE_WORDS[String(iss.expected)] ?? String(iss.expected);
      if (iss.input === undefined) return `is required (expected ${expected})`;
      return `expected ${expected}, got ${got}`;
    }
    case 'invalid_value': {
      const values = (iss.values as unknown[]) ?? [];
      const shown = values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
      const hint = typeof iss.input === 'string' ? didYouMean(iss.input, values.map(String)) : '';
      return values.length === 1
        ? `expected ${shown}, got ${got}${hint}`
        : `expected one of ${shown}; got ${got}${hint}`;
    }
    case 'too_small':
    case 'too_big': {
      const origin = String(iss.origin);
      if (origin === 'number' || origin === 'int' || origin === 'bigint') {
        const range = rangeText(iss.schema?.minValue ?? undefined, iss.schema?.maxValue ?? undefined);
        if (range) return `must be ${range}, got ${iss.input}`;
        const bound = iss.code === 'too_small' ? iss.minimum : iss.maximum;
        const op = iss.code === 'too_small' ? (iss.inclusive ? '≥' : '>') : iss.inclusive ? '≤' : '<';
        return `must be ${op} ${String(bound)}, got ${iss.input}`;
      }
      const unit = origin === 'string' ? 'character' : 'item';
      const n = Number(iss.code === 'too_small' ? iss.minimum : iss.maximum);
      if (iss.code === 'too_small' && n === 1)
        return origin === 'string' ? 'must not be empty' : 'needs at least 1 item';
      const word = iss.exact ? 'exactly' : iss.code === 'too_small' ? 'at least' : 'at most';
      return `needs ${word} ${n} ${unit}${n === 1 ? '' : 's'}`;
    }
    case 'unrecognized_keys': {
      const known = Object.keys(iss.inst?._zod?.def?.shape ?? {});
      return `${KNOWN_KEYS}${JSON.stringify(known)}`;
    }
    case 'invalid_format':
      return iss.pattern
        ? `does not match the pattern ${String(iss.pattern)} (got ${got})`
        : `invalid format`;
    case 'invalid_union':
      return `has an unsupported form (got ${got})`;
    default:
      return undefined;
  }
}

/** The overrides that set `path` or one of its parents, and those that set something inside it. */
function overrideRelation(
  path: ConfigPath,
  overrides: string[] | undefined,
): { from?: string; after?: string } {
  const rel: { from?: string; after?: string } = {};
  for (const ov of overrides ?? []) {
    let key: string[];
    try {
      key = parseOverride(ov).path.map(String);
    } catch {
      continue;
    }
    const p = path.map(String);
    const n = Math.min(key.length, p.length);
    if (key.slice(0, n).join('\u0000') !== p.slice(0, n).join('\u0000')) continue;
    if (key.length <= p.length) rel.from = ov;
    else rel.after ??= ov;
  }
  return rel;
}

/**
 * Validates (and fills defaults into) a config value with a zod schema, throwing one ConfigError listing every problem.
 *
 * Each problem reads `file:line: field a.b.c: message`; unknown keys get a "did you mean" suggestion and
 * fields set by an override say so instead of giving a line.
 *
 * @example
 * const cfg = validateConfig(schema, parsed.value, { file: 'train.yaml', lineOf: parsed.lineOf });
 */
export function validateConfig<T>(schema: z.ZodType<T>, value: unknown, ctx: ConfigSource = {}): T {
  const result = schema.safeParse(value, { error: (iss) => messageFor(iss as RawIssue) });
  if (result.success) return result.data;
  const problems: Problem[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path as ConfigPath;
    if (issue.code === 'unrecognized_keys' && issue.message.startsWith(KNOWN_KEYS)) {
      const known = JSON.parse(issue.message.slice(KNOWN_KEYS.length)) as string[];
      for (const key of issue.keys) {
        const suggestion = closestMatch(key, known);
        const message = suggestion
          ? `unknown key "${key}" (did you mean "${suggestion}"?)`
          : `unknown key "${key}"; allowed keys here: ${known.join(', ')}`;
        problems.push(locate([...path, key], message, ctx));
      }
    } else {
      problems.push(locate(path, issue.message, ctx));
    }
  }
  problems.sort((a, b) => (a.line ?? Number.POSITIVE_INFINITY) - (b.line ?? Number.POSITIVE_INFINITY));
  const lines = problems.map(formatConfigProblem);
  const what = ctx.file ?? 'the configuration';
  const message =
    lines.length === 1 ? lines[0]! : `${lines.length} problems in ${what}:\n  ${lines.join('\n  ')}`;
  const first = problems[0]!;
  throw configError(message, {
    file: ctx.file,
    line: first.line,
    path: first.path,
    problems,
    hint: ctx.hint ?? `fix the field${problems.length === 1 ? '' : 's'} listed above in ${what}`,
  });
}

interface ConfigProblem extends Problem {
  override?: string;
  afterOverride?: string;
}

function locate(path: ConfigPath, message: string, ctx: ConfigSource): ConfigProblem {
  const rel = overrideRelation(path, ctx.overrides);
  const problem: ConfigProblem = { path: formatPath(path), message };
  if (ctx.file) problem.file = ctx.file;
  // A path missing from the file but reaching into an override was created by that override.
  const createdByOverride = rel.after !== undefined && ctx.lineOf?.(path) === undefined;
  if (rel.from || createdByOverride) {
    problem.override = rel.from ?? rel.after;
    return problem;
  }
  if (rel.after) problem.afterOverride = rel.after;
  if (ctx.lineOf) {
    for (let n = path.length; n >= 0; n--) {
      const line = ctx.lineOf(path.slice(0, n));
      if (line !== undefined) {
        problem.line = line;
        break;
      }
    }
  }
  return problem;
}

function formatConfigProblem(p: ConfigProblem): string {
  const where = p.file ? (p.line !== undefined ? `${p.file}:${p.line}: ` : `${p.file}: `) : '';
  const suffix = p.override
    ? ` (from override \`${p.override}\`)`
    : p.afterOverride
      ? ` (after override \`${p.afterOverride}\`)`
      : '';
  return `${where}field ${p.path}: ${p.message}${suffix}`;
}

const OVERRIDE_HINT =
  'write overrides as key.path=value, e.g. `lr=0.1`, `labels=[A,B]`, `name=foo` or `slices.0.name=short`';
const UNSAFE_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/** A parsed `key.path=value` override: the path and its value read as a YAML scalar or flow collection. */
export interface ParsedOverride {
  path: ConfigPath;
  value: unknown;
}

/**
 * Parses one `key.path=value` override; numeric path segments are array indices, the value is YAML.
 *
 * @example
 * parseOverride('labels=[A,B]'); // { path: ['labels'], value: ['A', 'B'] }
 */
export function parseOverride(override: string): ParsedOverride {
  const eq = override.indexOf('=');
  if (eq < 0) {
    throw configError(`malformed override "${override}": expected key.path=value but found no "="`, {
      hint: OVERRIDE_HINT,
    });
  }
  const key = override.slice(0, eq).trim();
  const segments = key.split('.');
  if (key === '' || segments.some((s) => !/^[A-Za-z0-9_-]+$/.test(s))) {
    throw configError(
      `malformed override "${override}": the key "${key}" must be dot-separated names or indices (letters, digits, _ and -)`,
      { hint: OVERRIDE_HINT },
    );
  }
  const unsafe = segments.find((s) => UNSAFE_KEYS.has(s));
  if (unsafe) {
    throw configError(`malformed override "${override}": "${unsafe}" is not allowed as a key`, {
      hint: OVERRIDE_HINT,
    });
  }
  let value: unknown;
  try {
    value = parseYaml(override.slice(eq + 1), { uniqueKeys: true });
  } catch (e) {
    throw configError(
      `malformed override "${override}": the value is not valid YAML (${cleanYamlMessage((e as Error).message)})`,
      { path: key, hint: `${OVERRIDE_HINT}; quote values containing special characters, e.g. name='a: b'` },
    );
  }
  return { path: segments.map((s) => (/^\d+$/.test(s) ? Number(s) : s)), value };
}

/** Writes a `key.path=value` override string that {@link parseOverride} reads back to `value`. */
export function formatOverride(path: ConfigPath, value: unknown): string {
  const text = stringifyYaml(value, { collectionStyle: 'flow', blockQuote: false, lineWidth: 0 });
  return `${path.join('.')}=${text.trimEnd()}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Applies `key.path=value` overrides to a copy of a config value (before validation, so errors still name the path).
 *
 * Missing parents are created (a list when the next segment is an index); an index may append at the end of a list.
 *
 * @example
 * applyOverrides({ lr: 0.01 }, ['lr=0.1', 'labels=[A,B]']); // { lr: 0.1, labels: ['A', 'B'] }
 */
export function applyOverrides(value: Record<string, unknown>, overrides: string[]): Record<string, unknown> {
  const root: Record<string, unknown> = structuredClone(value ?? {});
  for (const override of overrides) {
    const { path, value: newValue } = parseOverride(override);
    let container: unknown = root;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const last = i === path.length - 1;
      const here = formatPath(path.slice(0, i));
      const nextIsIndex = !last && typeof path[i + 1] === 'number';
      if (Array.isArray(container)) {
        if (typeof seg !== 'number') {
          throw configError(
            `cannot apply override "${override}": ${here} is a list, so "${seg}" must be an index`,
            {
              path: formatPath(path),
              hint: `use a number after ${here}, e.g. ${here}.0.…`,
            },
          );
        }
        if (seg > container.length) {
          throw configError(
            `cannot apply override "${override}": index ${seg} is past the end of ${here} (length ${container.length})`,
            {
              path: formatPath(path),
              hint: `use an index from 0 to ${container.length} (${container.length} appends)`,
            },
          );
        }
        if (last) container[seg] = newValue;
        else if (container[seg] === undefined || container[seg] === null)
          container[seg] = nextIsIndex ? [] : {};
        container = container[seg];
      } else if (isPlainObject(container)) {
        const key = String(seg);
        if (last) container[key] = newValue;
        else if (container[key] === undefined || container[key] === null)
          container[key] = nextIsIndex ? [] : {};
        container = container[key];
      } else {
        throw configError(
          `cannot apply override "${override}": ${here} is ${describeValue(container)}, not a mapping or list`,
          { path: formatPath(path), hint: `override ${here} itself, or fix its value first` },
        );
      }
    }
  }
  return root;
}

/** Reads the value at `path` (keys and indices), or undefined when any part is missing. */
export function getPath(value: unknown, path: ConfigPath): unknown {
  let cur = value;
  for (const seg of path) {
    if (Array.isArray(cur) && typeof seg === 'number') cur = cur[seg];
    else if (isPlainObject(cur) && Object.hasOwn(cur, String(seg))) cur = cur[String(seg)];
    else return undefined;
  }
  return cur;
}

/**
 * Reads a YAML config file, applies overrides and validates it, reporting problems with file:line.
 *
 * @example
 * const cfg = loadConfigFile('train.yaml', trainConfigSchema, { overrides: ['lr=0.1'] });
 */
export function loadConfigFile<T>(
  file: string,
  schema: z.ZodType<T>,
  opts: { overrides?: string[]; hint?: string } = {},
): T {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`config file ${file} does not exist`, { file, hint: 'check the path' });
    }
    throw e;
  }
  const parsed = parseYamlWithLines(source, file);
  let value = parsed.value ?? {};
  const overrides = opts.overrides ?? [];
  if (overrides.length > 0) {
    if (!isPlainObject(value)) {
      throw configError(`${file}: cannot apply overrides: the file does not hold a mapping`, {
        file,
        hint: 'the file must contain key: value pairs at the top level',
      });
    }
    value = applyOverrides(value, overrides);
  }
  return validateConfig(schema, value, { file, lineOf: parsed.lineOf, overrides, hint: opts.hint });
}

/**
 * Writes a config value as YAML, with `comments` (dotted path → text, `''` for the header) above the keys they name.
 *
 * Short lists of scalars and small nested mappings are written inline (`[A, B]`, `{ max: 6 }`).
 *
 * @example
 * toYaml({ lr: 0.1 }, { '': 'training config', lr: 'learning rate' });
 */
export function toYaml(value: unknown, comments: Record<string, string> = {}): string {
  const doc = new Document(value);
  visit(doc, {
    Seq(_key, node) {
      if (node.items.length > 0 && node.items.every(isScalar) && JSON.stringify(node.toJSON()).length <= 60)
        node.flow = true;
    },
    Map(_key, node, path) {
      const depth = path.filter(isCollection).length;
      if (
        depth >= 3 &&
        node.items.every((p) => isScalar(p.value)) &&
        JSON.stringify(node.toJSON()).length <= 60
      )
        node.flow = true;
    },
  });
  for (const [path, text] of Object.entries(comments)) {
    const comment = text
      .split('\n')
      .map((l) => ` ${l}`)
      .join('\n');
    if (path === '') {
      doc.commentBefore = comment;
      continue;
    }
    const segs = path.split('.');
    const parent = segs.length === 1 ? doc.contents : doc.getIn(segs.slice(0, -1), true);
    if (!isMap(parent)) continue;
    const pair = parent.items.find((p) => keyText(p.key) === segs[segs.length - 1]);
    if (!pair || !isScalar(pair.key)) continue;
    pair.key.commentBefore = comment;
    if (parent.items[0] !== pair) pair.key.spaceBefore = true;
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: true });
}
