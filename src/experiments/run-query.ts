import { closestMatch } from '../core/config.ts';
import { NotFoundError, SapphireError } from '../core/errors.ts';
import type { MetricPoint, Run, RunFilter, RunStatus, Store } from '../store/store.ts';

/** Comparison operators a `--filter` expression may use. */
export type FilterOperator = '>' | '>=' | '<' | '<=' | '=' | '!=' | '~';

/** One parsed `--filter` expression, e.g. `dev.macro_f1>0.8` → `{ key: 'dev.macro_f1', op: '>', value: '0.8' }`. */
export interface RunCondition {
  key: string;
  op: FilterOperator;
  value: string;
}

/** One parsed `--sort` expression. */
export interface RunSort {
  key: string;
  direction: 'asc' | 'desc';
}

/** What {@link queryRuns} selects. */
export interface RunQuery {
  /** Conditions every run must meet: expressions such as `dev.macro_f1>=0.8` or parsed conditions. */
  filters?: (string | RunCondition)[];
  /** `key[:asc|desc]` (metrics default to desc, other keys to asc); default: newest first. */
  sort?: string | RunSort;
  /** At most this many runs (after filtering and sorting). */
  limit?: number;
  /**
   * Also list the members of studies (trials, folds, curve points, rungs). Without it only top-level runs are
   * listed, unless a `kind` or `study` condition names what to list.
   */
  includeMembers?: boolean;
}

/** Keys that name a run field rather than a metric or a config value. */
export const RUN_FIELDS = [
  'status',
  'kind',
  'name',
  'tag',
  'notes',
  'seed',
  'study',
  'started',
  'ended',
] as const;

type RunField = (typeof RUN_FIELDS)[number];

const RUN_STATUSES: RunStatus[] = ['running', 'finished', 'failed'];
/** Two-character operators first, so `>=` is not read as `>` followed by `=…`. */
const OPERATORS: FilterOperator[] = ['>=', '<=', '!=', '>', '<', '=', '~'];
const OPERATOR_CHARS = /[<>=!~]/;
const METRIC_KEY = /^[A-Za-z0-9_][\w.\-/@:]*$/;
const CONFIG_KEY = /^config(\.[\w\-@/]+)+$/;

/** Operators each field accepts (metrics and config values accept all but `~` and all, respectively). */
const FIELD_OPERATORS: Record<RunField, FilterOperator[]> = {
  status: ['=', '!=', '~'],
  kind: ['=', '!=', '~'],
  name: ['=', '!=', '~'],
  tag: ['=', '!=', '~'],
  notes: ['=', '!=', '~'],
  study: ['=', '!=', '~'],
  seed: ['=', '!=', '>', '>=', '<', '<='],
  started: ['=', '!=', '>', '>=', '<', '<=', '~'],
  ended: ['=', '!=', '>', '>=', '<', '<=', '~'],
};
const METRIC_OPERATORS: FilterOperator[] = ['=', '!=', '>', '>=', '<', '<='];

const FILTER_FORMS =
  'a filter is <key><op><value> with op one of > >= < <= = != ~ and key a metric (dev.macro_f1), ' +
  'status, kind, name, tag, notes, seed, study, started or ended (ISO date prefix) or config.<path>; ' +
  'e.g. dev.macro_f1>0.8, tag=baseline, config.model.architecture=crf.v1, started>=2024-05';

const SORT_FORMS =
  'sort by a metric (dev.macro_f1), name, kind, status, seed, study, started, ended or config.<path>, ' +
  'optionally with :asc or :desc, e.g. --sort dev.macro_f1 or --sort started:desc';

function badFilter(message: string): SapphireError {
  return new SapphireError('BAD_INPUT', message, { hint: FILTER_FORMS });
}

function isField(key: string): key is RunField {
  return (RUN_FIELDS as readonly string[]).includes(key);
}

/** What a key names: a run field, a config path or a metric. */
function keyKind(key: string): 'field' | 'config' | 'metric' {
  if (isField(key)) return 'field';
  if (key === 'config' || key.startsWith('config.')) return 'config';
  return 'metric';
}

function checkKey(key: string, what: (message: string) => SapphireError): void {
  const kind = keyKind(key);
  if (kind === 'config' && !CONFIG_KEY.test(key))
    throw what(`"${key}" is not a config path: write config.<path>, e.g. config.model.architecture`);
  if (kind === 'metric' && !METRIC_KEY.test(key)) throw what(`unknown key "${key}"`);
}

/** Removes one pair of matching surrounding quotes. */
function unquote(text: string): string {
  const t = text.trim();
  if (t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0]) return t.slice(1, -1);
  return t;
}

/**
 * Parses one `--filter` expression into a condition, with a clear error for unknown operators or keys.
 *
 * @example
 * parseRunFilter('dev.macro_f1>=0.8'); // { key: 'dev.macro_f1', op: '>=', value: '0.8' }
 * parseRunFilter('config.model.architecture=crf.v1');
 */
export function parseRunFilter(expression: string): RunCondition {
  const at = expression.search(OPERATOR_CHARS);
  if (at < 0) throw badFilter(`filter "${expression}" has no operator`);
  const key = expression.slice(0, at).trim();
  const rest = expression.slice(at);
  const op = OPERATORS.find((o) => rest.startsWith(o));
  if (!op) throw badFilter(`filter "${expression}" has an unknown operator "${rest.slice(0, 2)}"`);
  const value = unquote(rest.slice(op.length));
  if (key === '') throw badFilter(`filter "${expression}" names no key before ${op}`);
  if (/^[<>=!~]/.test(value) && !(op === '~' || op === '=' || op === '!='))
    throw badFilter(`filter "${expression}" has an unknown operator "${op}${value[0]}"`);
  checkKey(key, (m) => badFilter(`filter "${expression}": ${m}`));
  checkCondition({ key, op, value }, expression);
  return { key, op, value };
}

function checkCondition(condition: RunCondition, source: string): void {
  const { key, op, value } = condition;
  const kind = keyKind(key);
  const allowed =
    kind === 'field' ? FIELD_OPERATORS[key as RunField] : kind === 'metric' ? METRIC_OPERATORS : OPERATORS;
  if (!allowed.includes(op)) {
    const what = kind === 'metric' ? `${key} (read as a metric name)` : key;
    throw badFilter(
      `filter "${source}": ${what} cannot be compared with ${op} (it accepts ${allowed.join(' ')})`,
    );
  }
  if ((kind === 'metric' || key === 'seed') && asNumber(value) === null)
    throw badFilter(`filter "${source}": ${key} is a number, so "${value}" must be one too`);
  if (key === 'status' && op !== '~' && !RUN_STATUSES.includes(value as RunStatus))
    throw new SapphireError('BAD_INPUT', `filter "${source}": unknown status "${value}"`, {
      hint: `a run's status is one of ${RUN_STATUSES.join(', ')}`,
    });
}

/**
 * Parses `--sort key[:asc|desc]`; metrics sort best (highest) first by default, other keys ascending.
 *
 * @example
 * parseRunSort('dev.macro_f1'); // { key: 'dev.macro_f1', direction: 'desc' }
 * parseRunSort('name:desc'); // { key: 'name', direction: 'desc' }
 */
export function parseRunSort(expression: string): RunSort {
  const match = /^(.*?)(?::(asc|desc))?$/i.exec(expression.trim());
  const key = match?.[1]?.trim() ?? '';
  const bad = (m: string) => new SapphireError('BAD_INPUT', m, { hint: SORT_FORMS });
  if (key === '') throw bad(`sort "${expression}" names no key`);
  if (key === 'tag') throw bad('runs cannot be sorted by tag');
  checkKey(key, (m) => bad(`sort "${expression}": ${m}`));
  const given = match?.[2]?.toLowerCase() as 'asc' | 'desc' | undefined;
  return { key, direction: given ?? (keyKind(key) === 'metric' ? 'desc' : 'asc') };
}

function asNumber(text: string): number | null {
  if (text.trim() === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function regexOf(pattern: string): RegExp {
  try {
    return new RegExp(pattern, 'i');
  } catch {
    return new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
  }
}

/** Reads a dotted path inside a run's config, or undefined when any part is missing. */
export function configValue(config: Record<string, unknown>, path: string): unknown {
  let cur: unknown = config;
  for (const part of path.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(part)) cur = cur[Number(part)];
    else if (cur !== null && typeof cur === 'object' && Object.hasOwn(cur, part))
      cur = (cur as Record<string, unknown>)[part];
    else return undefined;
  }
  return cur;
}

/** The value a key names on a run (undefined when the run lacks it); `tag` yields the tag list. */
export function runValue(run: Run, key: string): unknown {
  switch (key) {
    case 'status':
      return run.status;
    case 'kind':
      return run.kind;
    case 'name':
      return run.name ?? undefined;
    case 'tag':
      return run.tags;
    case 'notes':
      return run.notes ?? undefined;
    case 'seed':
      return run.seed ?? undefined;
    case 'study':
      return run.parentId ?? undefined;
    case 'started':
      return run.startedAt;
    case 'ended':
      return run.endedAt ?? undefined;
  }
  if (key.startsWith('config.')) return configValue(run.config, key.slice('config.'.length));
  return Object.hasOwn(run.metrics, key) ? run.metrics[key] : undefined;
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function compare(actual: number | string, op: FilterOperator, expected: number | string): boolean {
  switch (op) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '~':
      return regexOf(String(expected)).test(String(actual));
  }
}

/**
 * Whether a run meets a condition. A run that lacks the key meets only `!=`; `tag` conditions ask whether
 * some tag matches (`!=`: none does); `started` compares the ISO timestamp cut to the value's length.
 */
export function matchesCondition(run: Run, condition: RunCondition): boolean {
  const { key, op, value } = condition;
  if (key === 'tag') {
    if (op === '!=') return !run.tags.includes(value);
    return run.tags.some((t) => compare(t, op, value));
  }
  const actual = runValue(run, key);
  if (actual === undefined) return op === '!=';
  if (key === 'started' || key === 'ended') {
    if (op === '~') return compare(actual as string, op, value);
    return compare((actual as string).slice(0, value.length), op, value);
  }
  const expected = asNumber(value);
  if (typeof actual === 'number' && expected !== null && op !== '~') return compare(actual, op, expected);
  return compare(textOf(actual), op, value);
}

function sortValue(run: Run, key: string): number | string | undefined {
  const value = runValue(run, key);
  if (value === undefined || value === null) return undefined;
  return typeof value === 'number' || typeof value === 'string' ? value : JSON.stringify(value);
}

/** Sorts runs by a key (stable: ties keep their order); runs that lack the key come last either way. */
export function sortRuns(runs: Run[], sort: RunSort): Run[] {
  const keyed = runs.map((run, index) => ({ run, index, value: sortValue(run, sort.key) }));
  const sign = sort.direction === 'asc' ? 1 : -1;
  keyed.sort((a, b) => {
    if (a.value === undefined || b.value === undefined) {
      if (a.value === b.value) return a.index - b.index;
      return a.value === undefined ? 1 : -1;
    }
    let order: number;
    if (typeof a.value === 'number' && typeof b.value === 'number') order = a.value - b.value;
    else order = String(a.value) < String(b.value) ? -1 : String(a.value) > String(b.value) ? 1 : 0;
    return order !== 0 ? sign * order : a.index - b.index;
  });
  return keyed.map((k) => k.run);
}

/** The SQL-side part of a query: the first `=` condition on kind, status, tag and study narrows the rows read. */
function pushDown(conditions: RunCondition[], includeMembers: boolean): RunFilter {
  const filter: RunFilter = {};
  const first = (key: string) => conditions.find((c) => c.key === key && c.op === '=');
  const kind = first('kind');
  if (kind) filter.kind = kind.value;
  const status = first('status');
  if (status) filter.status = status.value as RunStatus;
  const tag = first('tag');
  if (tag) filter.tag = tag.value;
  const study = first('study');
  if (study) filter.parentId = study.value;
  const namesWhat = conditions.some((c) => c.key === 'kind' || c.key === 'study');
  if (!includeMembers && !namesWhat) filter.parentId = null;
  return filter;
}

/**
 * Lists runs matching filter expressions, sorted and limited: `kind`, `status`, `tag` and `study` equality go to
 * the store's SQL query, everything else (metrics, config values, names, dates) is applied in memory. A metric
 * that no candidate run has (while some have metrics) is refused with the closest metric name, since it would
 * silently match nothing.
 *
 * @example
 * const best = await queryRuns(store, { filters: ['dev.macro_f1>0.8', 'tag=baseline'], sort: 'dev.macro_f1', limit: 5 });
 */
export async function queryRuns(store: Store, query: RunQuery = {}): Promise<Run[]> {
  const conditions = (query.filters ?? []).map((f) => {
    if (typeof f === 'string') return parseRunFilter(f);
    checkKey(f.key, badFilter);
    if (!OPERATORS.includes(f.op)) throw badFilter(`unknown operator "${f.op}"`);
    checkCondition(f, `${f.key}${f.op}${f.value}`);
    return { ...f };
  });
  for (const c of conditions) {
    if (c.key === 'study' && c.op === '=') c.value = await resolveRunId(store, c.value);
  }
  const sort = typeof query.sort === 'string' ? parseRunSort(query.sort) : query.sort;
  const limit = query.limit;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1))
    throw new SapphireError('BAD_INPUT', `limit ${limit} is not a positive integer`, {
      hint: 'pass e.g. 50',
    });
  const filter = pushDown(conditions, query.includeMembers === true);
  const pushedAll = conditions.every(
    (c) => c.op === '=' && ['kind', 'status', 'tag', 'study'].includes(c.key) && sameAsPushed(filter, c),
  );
  if (pushedAll && !sort && limit !== undefined) filter.limit = limit;
  const candidates = await store.listRuns(filter);
  checkMetricsExist(candidates, conditions, sort);
  let runs = conditions.length
    ? candidates.filter((r) => conditions.every((c) => matchesCondition(r, c)))
    : candidates;
  if (sort) runs = sortRuns(runs, sort);
  return limit !== undefined ? runs.slice(0, limit) : runs;
}

function sameAsPushed(filter: RunFilter, c: RunCondition): boolean {
  if (c.key === 'kind') return filter.kind === c.value;
  if (c.key === 'status') return filter.status === c.value;
  if (c.key === 'tag') return filter.tag === c.value;
  return filter.parentId === c.value;
}

/** Refuses metric keys that none of the candidate runs has (typos would otherwise match nothing). */
function checkMetricsExist(runs: Run[], conditions: RunCondition[], sort: RunSort | undefined): void {
  if (runs.length === 0) return;
  const keys = [...conditions.map((c) => c.key), ...(sort ? [sort.key] : [])].filter(
    (k) => keyKind(k) === 'metric',
  );
  if (keys.length === 0) return;
  const known = new Set<string>();
  for (const run of runs) for (const k of Object.keys(run.metrics)) known.add(k);
  if (known.size === 0) return; // nothing has finished yet: an empty answer, not a typo
  for (const key of keys) {
    if (known.has(key)) continue;
    const near = closestMatch(key, [...known, ...RUN_FIELDS]);
    const sorted = [...known].sort();
    const listed = sorted.slice(0, 12).join(', ') + (sorted.length > 12 ? ', …' : '');
    throw new SapphireError('BAD_INPUT', `unknown key "${key}": no run has a metric of that name`, {
      hint:
        `${near ? `did you mean ${near}? ` : ''}metrics of these runs: ${listed}; ` +
        `other keys: ${RUN_FIELDS.join(', ')}, config.<path>`,
    });
  }
}

/**
 * Resolves a run reference: an exact id, else the one run whose id starts or ends with it (e.g. the last six hex
 * characters); an ambiguous reference is refused with the candidates.
 *
 * @example
 * await resolveRunId(store, 'a1b2c3'); // 'r-20240501120000-a1b2c3'
 */
export async function resolveRunId(store: Store, ref: string): Promise<string> {
  const wanted = typeof ref === 'string' ? ref.trim() : '';
  if (wanted === '')
    throw new SapphireError('BAD_INPUT', 'empty run reference', {
      hint: 'pass a run id or a unique part of it (e.g. its last 6 characters), as listed by `sapphire runs ls`',
    });
  try {
    return (await store.getRun(wanted)).id;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  const matches = (await store.listRuns())
    .map((r) => r.id)
    .filter((id) => id.startsWith(wanted) || id.endsWith(wanted));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0)
    throw new NotFoundError(`no run "${wanted}" in ${store.location}`, {
      hint: 'run `sapphire runs ls --all` to see the tracked runs',
    });
  const shown = matches.slice(0, 10).join(', ');
  throw new SapphireError(
    'BAD_INPUT',
    `run reference "${wanted}" is ambiguous: ${matches.length} runs match`,
    {
      hint: `use more characters or a full id: ${shown}${matches.length > 10 ? ', …' : ''}`,
      candidates: matches,
    },
  );
}

/** A per-step metric of a run summarised: how many points, the first, last and best value. */
export interface MetricHistorySummary {
  key: string;
  points: number;
  first: number;
  last: number;
  /** The highest value, or the lowest for keys that name a cost (loss, error, seconds, ece). */
  best: number;
  /** The step at which the best value was logged. */
  bestStep: number;
}

/** Whether lower values of a metric are better (losses, errors, times, calibration error). */
export function lowerIsBetter(key: string): boolean {
  return /loss|error|seconds|(^|[._])ece($|[._])|hamming/i.test(key);
}

/**
 * Summarises a run's metric history per key (points in step order).
 *
 * @example
 * summarizeHistory([{ key: 'loss', step: 0, value: 2 }, { key: 'loss', step: 1, value: 1 }]);
 * // [{ key: 'loss', points: 2, first: 2, last: 1, best: 1, bestStep: 1 }]
 */
export function summarizeHistory(points: readonly MetricPoint[]): MetricHistorySummary[] {
  const byKey = new Map<string, MetricPoint[]>();
  for (const p of points) {
    const list = byKey.get(p.key) ?? [];
    list.push(p);
    byKey.set(p.key, list);
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, list]) => {
      const sorted = [...list].sort((a, b) => a.step - b.step);
      const lower = lowerIsBetter(key);
      let best = sorted[0]!;
      for (const p of sorted) if (lower ? p.value < best.value : p.value > best.value) best = p;
      return {
        key,
        points: sorted.length,
        first: sorted[0]!.value,
        last: sorted[sorted.length - 1]!.value,
        best: best.value,
        bestStep: best.step,
      };
    });
}

/** Everything `runs show` tells about a run. */
export interface RunDetails {
  run: Run;
  /** Seconds from start to end, or null while running. */
  durationSeconds: number | null;
  /** The study the run belongs to, if any. */
  study: { id: string; kind: string; name: string | null } | null;
  /** How many runs belong to this run (when it is a study). */
  members: number;
  history: MetricHistorySummary[];
  artifacts: { name: string; size: number; hash: string }[];
}

/** Seconds between two ISO timestamps, or null when the end is missing. */
export function runDuration(run: Pick<Run, 'startedAt' | 'endedAt'>): number | null {
  if (!run.endedAt) return null;
  return (Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000;
}

/**
 * Collects a run's details for `runs show`: the run, its study and member count, per-step metric summaries and
 * artifacts. The reference may be a unique part of the id.
 *
 * @example
 * const details = await describeRun(store, 'a1b2c3');
 */
export async function describeRun(store: Store, ref: string): Promise<RunDetails> {
  const run = await store.getRun(await resolveRunId(store, ref));
  let study: RunDetails['study'] = null;
  if (run.parentId) {
    try {
      const parent = await store.getRun(run.parentId);
      study = { id: parent.id, kind: parent.kind, name: parent.name };
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      study = { id: run.parentId, kind: 'unknown', name: null };
    }
  }
  const [members, history, artifacts] = await Promise.all([
    store.listRuns({ parentId: run.id }),
    store.metricHistory(run.id),
    store.listRunArtifacts(run.id),
  ]);
  return {
    run,
    durationSeconds: runDuration(run),
    study,
    members: members.length,
    history: summarizeHistory(history),
    artifacts: artifacts.map((a) => ({ name: a.name, size: a.size, hash: a.hash })),
  };
}
