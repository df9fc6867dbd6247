import { SapphireError } from '../core/errors.ts';
import type { Run } from '../store/store.ts';

/** A config key (dotted path) whose value differs between the compared runs. */
export interface ConfigDifference {
  key: string;
  /** Each run's value, in run order; `undefined` where the run's config lacks the key. */
  values: unknown[];
}

/** One metric across the compared runs. */
export interface MetricComparison {
  /** Full metric name, e.g. `dev.macro_f1`. */
  key: string;
  /** The evaluated set (`dev`, `test`, `train`, …), or `''` for unprefixed metrics such as `train_seconds`. */
  set: string;
  /** The metric without its set, e.g. `macro_f1`. */
  metric: string;
  /** Each run's value, in run order; null where the run lacks the metric. */
  values: (number | null)[];
  /** Each run's value minus the first run's (0 for the first run); null where either is missing. */
  deltas: (number | null)[];
}

/** A run-level field (dataset versions, seed, code version, package versions) that differs between the runs. */
export interface FieldDifference {
  /** `datasets`, `seed`, `kind`, `git.commit`, `git.dirty`, `packages.<name>`, … */
  field: string;
  values: unknown[];
}

/** The header of one compared run. */
export interface ComparedRun {
  id: string;
  name: string | null;
  kind: string;
  status: Run['status'];
  seed: number | null;
  datasetVersions: string[];
  /** The git commit the run was made from, or null when unknown. */
  commit: string | null;
  /** Whether the work tree had uncommitted changes, or null when unknown. */
  dirty: boolean | null;
  startedAt: string;
}

/** What {@link compareRuns} found: the runs, the config keys that differ, every metric with deltas, other differences. */
export interface RunComparison {
  runs: ComparedRun[];
  /** Config keys whose values differ, sorted by key. */
  config: ConfigDifference[];
  /** How many flattened config keys are the same in every run. */
  sameConfigKeys: number;
  /** Every metric any run has, grouped by set (sets in the order train, dev, test, then others), then by name. */
  metrics: MetricComparison[];
  /** Dataset versions, seed, kind, code version and package versions that differ. */
  differences: FieldDifference[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Flattens nested objects into dotted keys; arrays and scalars are leaves, and an empty object is a leaf too.
 *
 * @example
 * flattenConfig({ model: { architecture: 'crf.v1', c2: 0.1 }, tags: ['a'] });
 * // { 'model.architecture': 'crf.v1', 'model.c2': 0.1, tags: ['a'] }
 */
export function flattenConfig(value: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(child) && Object.keys(child).length > 0) Object.assign(out, flattenConfig(child, path));
    else out[path] = child;
  }
  return out;
}

/** JSON with sorted object keys, so equal values compare equal whatever their key order. */
function stableJson(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isPlainObject(value))
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

function allSame(values: unknown[]): boolean {
  const first = stableJson(values[0]);
  return values.every((v) => stableJson(v) === first);
}

const SET_ORDER = ['train', 'dev', 'test', 'heldout'];

function splitMetric(key: string): { set: string; metric: string } {
  const dot = key.indexOf('.');
  return dot > 0 ? { set: key.slice(0, dot), metric: key.slice(dot + 1) } : { set: '', metric: key };
}

function setRank(set: string): number {
  const i = SET_ORDER.indexOf(set);
  return i >= 0 ? i : set === '' ? SET_ORDER.length + 1 : SET_ORDER.length;
}

function provenanceFields(run: Run): Record<string, unknown> {
  const p = run.provenance;
  const git = isPlainObject(p.git) ? p.git : {};
  const packages = isPlainObject(p.packages) ? p.packages : {};
  const fields: Record<string, unknown> = {
    'git.commit': git.commit ?? null,
    'git.dirty': git.dirty ?? null,
  };
  for (const [name, version] of Object.entries(packages)) fields[`packages.${name}`] = version;
  return fields;
}

/**
 * Compares runs side by side: the config keys whose values differ, every metric with its delta against the
 * first run, and differences in dataset versions, seed, kind, code version and package versions.
 *
 * @example
 * const diff = compareRuns([baseline, candidate]);
 * diff.config; // [{ key: 'model.architecture', values: ['token-majority.v1', 'crf.v1'] }]
 * diff.metrics.find((m) => m.key === 'dev.macro_f1')?.deltas; // [0, 0.12]
 */
export function compareRuns(runs: Run[]): RunComparison {
  if (runs.length < 2)
    throw new SapphireError('BAD_INPUT', `comparing needs at least two runs, got ${runs.length}`, {
      hint: 'pass two or more run ids, e.g. `sapphire runs compare <id> <id>`',
    });
  const seen = new Set<string>();
  for (const run of runs) {
    if (seen.has(run.id))
      throw new SapphireError('BAD_INPUT', `run ${run.id} is given twice`, {
        hint: 'compare different runs',
      });
    seen.add(run.id);
  }

  const flat = runs.map((r) => flattenConfig(r.config));
  const configKeys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const config: ConfigDifference[] = [];
  let sameConfigKeys = 0;
  for (const key of configKeys) {
    const values = flat.map((f) => (Object.hasOwn(f, key) ? f[key] : undefined));
    if (allSame(values)) sameConfigKeys++;
    else config.push({ key, values });
  }

  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))];
  const metrics = metricKeys
    .map((key): MetricComparison => {
      const values = runs.map((r) => (Object.hasOwn(r.metrics, key) ? r.metrics[key]! : null));
      const base = values[0] ?? null;
      const deltas = values.map((v) => (v === null || base === null ? null : v - base));
      return { key, ...splitMetric(key), values, deltas };
    })
    .sort(
      (a, b) =>
        setRank(a.set) - setRank(b.set) || a.set.localeCompare(b.set) || a.metric.localeCompare(b.metric),
    );

  const differences: FieldDifference[] = [];
  const consider = (field: string, values: unknown[]) => {
    if (!allSame(values)) differences.push({ field, values });
  };
  consider(
    'kind',
    runs.map((r) => r.kind),
  );
  consider(
    'datasets',
    runs.map((r) => r.datasetVersions),
  );
  consider(
    'seed',
    runs.map((r) => r.seed),
  );
  const provenance = runs.map(provenanceFields);
  const provenanceKeys = [...new Set(provenance.flatMap((p) => Object.keys(p)))].sort((a, b) =>
    a.startsWith('git.') === b.startsWith('git.') ? a.localeCompare(b) : a.startsWith('git.') ? -1 : 1,
  );
  for (const key of provenanceKeys)
    consider(
      key,
      provenance.map((p) => p[key]),
    );

  return {
    runs: runs.map((r, i) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      status: r.status,
      seed: r.seed,
      datasetVersions: r.datasetVersions,
      commit: (provenance[i]!['git.commit'] as string | null) ?? null,
      dirty: (provenance[i]!['git.dirty'] as boolean | null) ?? null,
      startedAt: r.startedAt,
    })),
    config,
    sameConfigKeys,
    metrics,
    differences,
  };
}
