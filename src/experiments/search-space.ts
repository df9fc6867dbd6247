import { parse as parseYaml } from 'yaml';
import { didYouMean, formatOverride, parseOverride } from '../core/config.ts';
import { SapphireError } from '../core/errors.ts';
import { createRng, type Rng } from '../core/rng.ts';

/** How one hyper-parameter is searched: a list of values, or a range to sample from. */
export type Distribution =
  | { kind: 'choice'; values: unknown[] }
  | { kind: 'uniform'; low: number; high: number }
  | { kind: 'loguniform'; low: number; high: number }
  /** Integers from `low` to `high`, both inclusive. */
  | { kind: 'int'; low: number; high: number };

/** One searched config field: its `key.path` and how its values are chosen. */
export interface SearchDimension {
  key: string;
  distribution: Distribution;
}

/** One trial of a search: its position, the chosen value per key, and the overrides that apply them. */
export interface TrialPoint {
  /** 0-based position in the search. */
  index: number;
  /** Chosen value per dimension key. */
  values: Record<string, unknown>;
  /** `key.path=value` strings, one per dimension in dimension order, for `applyOverrides`. */
  overrides: string[];
}

/** The most trials {@link expandGrid} will produce; larger grids are rejected rather than run for days. */
export const MAX_GRID_TRIALS = 10_000;

/** Distribution names accepted in random specs. */
export const DISTRIBUTION_NAMES = ['choice', 'uniform', 'loguniform', 'int'] as const;

const GRID_HINT =
  'write grid specs as key.path=[v1,v2,…], e.g. model.c2=[0.01,0.1,1] or model.features=[words,shapes] ' +
  '(bare words are strings; quote values with commas or brackets, e.g. ["a, b",c])';
const RANDOM_HINT =
  'write random specs as key.path=DIST with DIST one of loguniform(low,high), uniform(low,high), ' +
  'int(low,high) (inclusive), choice(a,b,c) or a list [a,b,c], e.g. model.c2=loguniform(1e-3,1) or model.epochs=int(5,20)';

function badInput(message: string, hint: string, path?: string): SapphireError {
  return new SapphireError('BAD_INPUT', message, path === undefined ? { hint } : { path, hint });
}

/** Splits `key=value` at the first `=`, checking the key is a valid override path. */
function splitSpec(spec: string, hint: string): { key: string; text: string } {
  const eq = spec.indexOf('=');
  if (eq < 0) throw badInput(`search spec "${spec}" has no "=": expected key.path=values`, hint);
  const key = spec.slice(0, eq).trim();
  checkKey(key, hint, `search spec "${spec}"`);
  const text = spec.slice(eq + 1).trim();
  if (text === '') throw badInput(`search spec "${spec}" gives no values after "="`, hint, key);
  return { key, text };
}

/** Throws unless `key` is a path `parseOverride` accepts (dot-separated names or indices). */
function checkKey(key: string, hint: string, where: string): void {
  try {
    parseOverride(`${key}=null`);
  } catch (e) {
    const why = (e as Error).message.replace(/^malformed override "[^"]*": /, '');
    throw badInput(`${where}: ${why}`, hint, key);
  }
}

/** Reads `[a, b, …]` (or the inside of `choice(…)`) as a YAML flow list, like override values are read. */
function parseList(listText: string, spec: string, key: string, hint: string): unknown[] {
  let value: unknown;
  try {
    value = parseYaml(listText, { uniqueKeys: true });
  } catch (e) {
    const why = (e as Error).message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw badInput(`search spec "${spec}": the values are not a valid list (${why})`, hint, key);
  }
  if (!Array.isArray(value)) throw badInput(`search spec "${spec}": expected a list of values`, hint, key);
  return value;
}

/**
 * Parses a `--grid` spec, `key.path=[v1,v2,…]`, into a choice dimension; values are read like override
 * values (YAML: numbers, booleans, null, quoted strings, nested lists; bare words become strings).
 *
 * @example
 * parseGridSpec('model.c2=[0.01,0.1,1]'); // { key: 'model.c2', distribution: { kind: 'choice', values: [0.01, 0.1, 1] } }
 */
export function parseGridSpec(spec: string): SearchDimension {
  const { key, text } = splitSpec(spec, GRID_HINT);
  if (!text.startsWith('[')) {
    const suggestion = text.includes(',') ? `; did you mean ${key}=[${text}]?` : '';
    throw badInput(
      `search spec "${spec}": grid values must be a list in brackets${suggestion}`,
      GRID_HINT,
      key,
    );
  }
  const distribution: Distribution = { kind: 'choice', values: parseList(text, spec, key, GRID_HINT) };
  checkDistribution(key, distribution, `search spec "${spec}"`, GRID_HINT);
  return { key, distribution };
}

/** Reads the two numeric arguments of `uniform(…)`, `loguniform(…)` or `int(…)`. */
function parseBounds(name: string, args: string, spec: string, key: string): [number, number] {
  const parts = args.split(',').map((p) => p.trim());
  const numbers = parts.map((p) => (p === '' ? Number.NaN : Number(p)));
  if (parts.length !== 2 || numbers.some((x) => !Number.isFinite(x))) {
    throw badInput(
      `search spec "${spec}": ${name}() needs two numbers, low and high, got "${args.trim()}"`,
      RANDOM_HINT,
      key,
    );
  }
  return numbers as [number, number];
}

/**
 * Parses a `--random` spec: `key.path=loguniform(low,high)`, `uniform(low,high)`, `int(low,high)` (inclusive),
 * `choice(a,b,c)` or a grid list `[a,b,c]`.
 *
 * @example
 * parseRandomSpec('model.c2=loguniform(1e-3,1)'); // { key: 'model.c2', distribution: { kind: 'loguniform', low: 0.001, high: 1 } }
 */
export function parseRandomSpec(spec: string): SearchDimension {
  const { key, text } = splitSpec(spec, RANDOM_HINT);
  const where = `search spec "${spec}"`;
  let distribution: Distribution;
  if (text.startsWith('[')) {
    distribution = { kind: 'choice', values: parseList(text, spec, key, RANDOM_HINT) };
  } else {
    const call = /^([A-Za-z_][A-Za-z0-9_]*)\s*\(([\s\S]*)\)$/.exec(text);
    const name = call ? call[1]! : /^[A-Za-z_][A-Za-z0-9_]*$/.test(text) ? text : undefined;
    if (name === undefined) {
      const suggestion = text.includes(',') && !text.includes('(') ? `; did you mean ${key}=[${text}]?` : '';
      throw badInput(
        `${where}: expected a distribution such as loguniform(1e-3,1) or a list [a,b]${suggestion}`,
        RANDOM_HINT,
        key,
      );
    }
    if (!(DISTRIBUTION_NAMES as readonly string[]).includes(name)) {
      throw badInput(
        `${where}: unknown distribution "${name}"${didYouMean(name, DISTRIBUTION_NAMES)}; ` +
          `use one of ${DISTRIBUTION_NAMES.join(', ')}`,
        RANDOM_HINT,
        key,
      );
    }
    if (!call)
      throw badInput(`${where}: ${name} needs arguments in parentheses, e.g. ${name}(…)`, RANDOM_HINT, key);
    const args = call[2]!;
    if (name === 'choice') {
      distribution = { kind: 'choice', values: parseList(`[${args}]`, spec, key, RANDOM_HINT) };
    } else {
      const [low, high] = parseBounds(name, args, spec, key);
      distribution = { kind: name as 'uniform' | 'loguniform' | 'int', low, high };
    }
  }
  checkDistribution(key, distribution, where, RANDOM_HINT);
  return { key, distribution };
}

/** Throws a BAD_INPUT error when a distribution cannot be searched (empty list, empty or invalid range). */
function checkDistribution(key: string, d: Distribution, where: string, hint: string): void {
  if (d.kind === 'choice') {
    if (!Array.isArray(d.values) || d.values.length === 0) {
      throw badInput(`${where}: the list of values for ${key} is empty`, hint, key);
    }
    return;
  }
  const { low, high } = d;
  if (!Number.isFinite(low) || !Number.isFinite(high)) {
    throw badInput(`${where}: ${d.kind} bounds must be finite numbers, got ${low} and ${high}`, hint, key);
  }
  if (low >= high) {
    throw badInput(`${where}: ${d.kind}(${low}, ${high}) needs low < high`, hint, key);
  }
  if (d.kind === 'loguniform' && low <= 0) {
    throw badInput(
      `${where}: loguniform(${low}, ${high}) needs low > 0 (it samples the logarithm)`,
      `${hint}; use a small positive low such as 1e-6, or uniform() for ranges that include 0`,
      key,
    );
  }
  if (d.kind === 'int' && (!Number.isSafeInteger(low) || !Number.isSafeInteger(high))) {
    throw badInput(`${where}: int(${low}, ${high}) needs whole-number bounds`, hint, key);
  }
}

/** Checks every dimension and that no key is repeated or nested inside another (which would overwrite it). */
function checkDimensions(dims: readonly SearchDimension[], hint: string): void {
  const keys: string[] = [];
  for (const dim of dims) {
    checkKey(dim.key, hint, `search dimension "${dim.key}"`);
    checkDistribution(dim.key, dim.distribution, `search dimension "${dim.key}"`, hint);
    for (const other of keys) {
      if (other === dim.key) {
        throw badInput(
          `search dimension "${dim.key}" is given twice`,
          'give each key.path once; put all its values in one list',
          dim.key,
        );
      }
      const [outer, inner] = other.length < dim.key.length ? [other, dim.key] : [dim.key, other];
      if (inner.startsWith(`${outer}.`)) {
        throw badInput(
          `search dimensions "${outer}" and "${inner}" overlap: setting ${outer} replaces ${inner}`,
          `search either ${outer} as a whole or the fields inside it, not both`,
          dim.key,
        );
      }
    }
    keys.push(dim.key);
  }
}

function trial(index: number, dims: readonly SearchDimension[], chosen: readonly unknown[]): TrialPoint {
  const values: Record<string, unknown> = {};
  const overrides: string[] = [];
  dims.forEach((dim, d) => {
    // A copy, so trials sharing a list or mapping value cannot change each other.
    values[dim.key] = typeof chosen[d] === 'object' ? structuredClone(chosen[d]) : chosen[d];
    overrides.push(formatOverride(dim.key.split('.'), chosen[d]));
  });
  return { index, values, overrides };
}

/**
 * Expands choice dimensions into their Cartesian product, the first dimension varying slowest (like nested
 * loops); no dimensions give one trial with no overrides (the base config).
 *
 * @example
 * expandGrid([parseGridSpec('a=[1,2]'), parseGridSpec('b=[x,y]')]).map((t) => t.overrides.join(' '));
 * // ['a=1 b=x', 'a=1 b=y', 'a=2 b=x', 'a=2 b=y']
 */
export function expandGrid(dims: readonly SearchDimension[]): TrialPoint[] {
  checkDimensions(dims, GRID_HINT);
  const lists: unknown[][] = [];
  for (const dim of dims) {
    if (dim.distribution.kind !== 'choice') {
      throw badInput(
        `search dimension "${dim.key}" is a ${dim.distribution.kind} range, which a grid cannot enumerate`,
        `list the values to try (${dim.key}=[…]) or use a random search for ranges`,
        dim.key,
      );
    }
    lists.push(dim.distribution.values);
  }
  let total = 1;
  for (const list of lists) {
    total *= list.length;
    if (total > MAX_GRID_TRIALS) {
      const sizes = lists.map((l) => l.length).join(' × ');
      throw badInput(
        `the grid has ${sizes} = ${lists.reduce((n, l) => n * l.length, 1)} trials, more than the limit of ${MAX_GRID_TRIALS}`,
        'use fewer values per key, or a random search with a fixed number of trials',
      );
    }
  }
  const trials: TrialPoint[] = [];
  for (let index = 0; index < total; index++) {
    const chosen = new Array<unknown>(lists.length);
    let rest = index;
    for (let d = lists.length - 1; d >= 0; d--) {
      const list = lists[d]!;
      chosen[d] = list[rest % list.length];
      rest = Math.floor(rest / list.length);
    }
    trials.push(trial(index, dims, chosen));
  }
  return trials;
}

function draw(rng: Rng, d: Distribution): unknown {
  switch (d.kind) {
    case 'choice':
      return d.values[rng.int(d.values.length)];
    case 'uniform':
      return d.low + (d.high - d.low) * rng.next();
    case 'loguniform': {
      const lo = Math.log(d.low);
      // Clamp: exp(log(x)) can land a rounding step outside [low, high).
      const x = Math.exp(lo + (Math.log(d.high) - lo) * rng.next());
      return Math.min(Math.max(x, d.low), d.high);
    }
    case 'int':
      return d.low + rng.int(d.high - d.low + 1);
  }
}

/**
 * Draws `n` independent trials; each dimension has its own stream (forked from the seed by its key), so adding
 * or removing a dimension leaves the other dimensions' values unchanged.
 *
 * `uniform` and `loguniform` values lie in [low, high); `int` values in [low, high]; `choice` picks uniformly.
 *
 * @example
 * sampleRandom([parseRandomSpec('model.c2=loguniform(1e-3,1)')], 20, 7)[0]!.overrides; // ['model.c2=0.0184…']
 */
export function sampleRandom(dims: readonly SearchDimension[], n: number, seed: number): TrialPoint[] {
  checkDimensions(dims, RANDOM_HINT);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw badInput(`the number of random trials must be a positive integer, got ${n}`, 'pass e.g. 20 trials');
  }
  const root = createRng(seed);
  const streams = dims.map((dim) => root.fork(`search:${dim.key}`));
  const trials: TrialPoint[] = [];
  for (let index = 0; index < n; index++) {
    trials.push(
      trial(
        index,
        dims,
        dims.map((dim, d) => draw(streams[d]!, dim.distribution)),
      ),
    );
  }
  return trials;
}

/** Number of trials a grid over these dimensions has (non-choice dimensions count once). */
export function gridSize(dims: readonly SearchDimension[]): number {
  return dims.reduce((n, d) => n * (d.distribution.kind === 'choice' ? d.distribution.values.length : 1), 1);
}
