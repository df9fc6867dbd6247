/**
 * Result reports over runs and studies: rows of runs that differ only by seed or data selection, each
 * cell a mean ± std over the row's runs, the best value per column, paired significance tests of every
 * row against a baseline row, per-label F1 per row and, for learning-curve studies, the curves with their
 * fitted trends. The {@link Report} is plain JSON; `report-render.ts` turns it into md, LaTeX, CSV, JSON
 * or HTML.
 *
 * Pooling predictions: a row's predictions on the compared split are its runs' stored predictions keyed
 * by example id. When several runs predict the same example (seeds of one configuration, or repeats of
 * a cross-validation) the first run's prediction is kept (runs in creation order); the folds of one
 * repeat hold out distinct examples, so they concatenate into one prediction per example.
 */
import { SapphireError } from '../core/errors.ts';
import { DEFAULT_METRICS } from '../core/project.ts';
import type { Example, TaskKind } from '../data/types.ts';
import { evaluatePredictions } from '../metrics/evaluate.ts';
import {
  compareSystems,
  DEFAULT_BOOTSTRAP_SAMPLES,
  DEFAULT_CONFIDENCE,
  DEFAULT_SIGNIFICANCE_SEED,
  significanceMarker,
  significanceMetricNames,
} from '../metrics/significance.ts';
import type { Prediction } from '../models/model.ts';
import { canonicalJson } from '../store/canonical.ts';
import { loadPredictions, predictionSplits } from '../store/run-artifacts.ts';
import type { Run, Store } from '../store/store.ts';
import { formatMeanStd, type Summary, summarize } from './summary.ts';
import { type CurvePoint, doublingEstimate } from './trend.ts';

/** Run kinds that group other runs (their members carry `parentId` = the study id). */
export const STUDY_KINDS = ['sweep', 'cv', 'nested-cv', 'curve', 'ladder'] as const;

/** Evaluated sets, in the order reports prefer them for default columns and significance. */
export const EVALUATED_SETS = ['test', 'heldout', 'dev'] as const;

/** Config fields that do not make two runs different systems (they vary across seeds and folds). */
const IGNORED_CONFIG_KEYS = ['seed', 'selection', 'output', 'name', 'tags', 'trial'] as const;

/** Selection fields that only pick which fold / subsample of one system a run is. */
const IGNORED_SELECTION_KEYS = ['index', 'repeat', 'seed', 'size'] as const;

/** Metric-name fragments for which lower values are better. */
const LOWER_IS_BETTER = ['seconds', 'loss', 'ece', 'hamming'] as const;

/** Options of {@link buildReport}. */
export interface ReportOptions {
  task: TaskKind;
  /** The project's label set (per-label scores list these first, in this order). */
  labels?: readonly string[];
  /** The primary metric name (`macro_f1`), or set-qualified (`heldout.macro_f1`, which also picks the split). */
  primary: string;
  /** Secondary metrics for the default columns (default: the task's defaults from the problem card). */
  secondary?: readonly string[];
  /**
   * Columns: run metric keys (`test.macro_f1`, `train_seconds`); a bare metric name (`accuracy`) stands for
   * it on every evaluated set present. Default: per evaluated set present (test, heldout, dev) the primary
   * and secondary metrics, then `train_seconds`.
   */
  metrics?: readonly string[];
  /** The baseline row: a run id (or unique id prefix) of one of its runs, a study id, or a row label (default: the first row). */
  baseline?: string;
  /** The evaluated set of the significance tests and per-label scores (default: test → heldout → dev, the first with predictions). */
  split?: string;
  /** Bootstrap resamples and random permutations per comparison (default 10 000). */
  samples?: number;
  /** Seed of the resampling (default 13). */
  seed?: number;
  /** Report title (default: from the study or the number of runs). */
  title?: string;
}

/** Where a report's rows came from: a study or a run given directly. */
export interface ReportSource {
  id: string;
  kind: string;
  name: string | null;
  /** Number of member runs when the source is a study, else null. */
  members: number | null;
}

/** One metric column. */
export interface ReportColumn {
  /** The run metric key, e.g. `test.macro_f1` or `train_seconds`. */
  key: string;
  /** True for times, losses, calibration error and Hamming loss. */
  lowerIsBetter: boolean;
  /** Indices of the rows with the best mean (several on a tie; empty when fewer than two rows have values). */
  best: number[];
}

/** A row's paired comparison with the baseline row on the primary metric of the compared split. */
export interface RowSignificance {
  split: string;
  metric: string;
  /** Examples both rows predicted (the compared set). */
  examples: number;
  /** The baseline's metric on the compared examples (pooled predictions, not a mean over runs). */
  a: number;
  /** This row's metric on the compared examples. */
  b: number;
  /** `b − a`. */
  delta: number;
  /** Paired-bootstrap percentile interval of the delta at the report's confidence. */
  ci: [number, number];
  pBootstrap: number;
  pRandomization: number;
  /** The larger of the two p-values: the one the marker and `significant` go by. */
  pValue: number;
  /** `''`, `'*'` (p < 0.05), `'**'` (p < 0.01) or `'***'` (p < 0.001) of {@link pValue}. */
  marker: string;
  /** Both p-values below `1 − confidence`. */
  significant: boolean;
}

/** F1 and support of one label in one row (pooled predictions on the compared split). */
export interface LabelF1 {
  label: string;
  f1: number;
  support: number;
}

/** One row: the runs of one system (seeds, folds or subsample draws of the same configuration). */
export interface ReportRow {
  label: string;
  /** The study the runs belong to, or null for runs given directly. */
  source: string | null;
  /** Run kind of the row's runs (`train`, `trial`, `fold`, `curve-point`, `rung`, …). */
  kind: string;
  /** Finished runs whose metrics the cells summarise, in creation order. */
  runs: string[];
  seeds: (number | null)[];
  /** Mean, std and interval over the runs per column key; null when no run has the metric. */
  cells: Record<string, Summary | null>;
  /** Comparison with the baseline; null for the baseline itself and when it could not be made. */
  significance: RowSignificance | null;
  /** Per-label F1 on the compared split; null without predictions. */
  perLabel: LabelF1[] | null;
  /** Examples the row's pooled predictions cover on the compared split; null without predictions. */
  examples: number | null;
  /** Learning-curve point: training-set size and fraction; null for other rows. */
  curve: { size: number; fraction: number | null } | null;
}

/** How the significance tests were run. */
export interface ReportSignificanceSettings {
  split: string;
  metric: string;
  /** The column whose values carry the markers (`test.macro_f1`), or null when it is not shown. */
  column: string | null;
  samples: number;
  seed: number;
  confidence: number;
}

/** A learning curve of one curve study (one per model-size setting): score per training-set size, its power-law fit and the doubling estimate. */
export interface ReportCurve {
  /** The study name, with the varied setting when the study varies one (`curve (model.hidden=64)`). */
  label: string;
  source: string | null;
  /** The run metric key plotted (`heldout.macro_f1`). */
  metric: string;
  points: { row: number; label: string; size: number; fraction: number | null; summary: Summary }[];
  /** `score ≈ c − a · size^(−b)`; null when it could not be fitted. */
  fit: { a: number; b: number; c: number; r2: number } | null;
  /** The fitted score at twice the largest size and the gain over the largest size. */
  doubling: { size: number; predicted: number; gain: number } | null;
  /** The fitted curve sampled from the smallest size to the doubling size (log-spaced), for plots. */
  trend: { size: number; score: number }[];
}

/** A result report: rows × metric columns with significance and plot data, as plain JSON. */
export interface Report {
  title: string;
  task: TaskKind;
  /** The primary metric name, without a set prefix. */
  primary: string;
  sources: ReportSource[];
  columns: ReportColumn[];
  rows: ReportRow[];
  /** Index of the baseline row, or null when there are no rows. */
  baseline: number | null;
  /** Null when no significance tests were run (no predictions, one row, or an unsupported metric). */
  significance: ReportSignificanceSettings | null;
  /** Labels of the per-label scores, in display order. */
  labels: string[];
  /** Learning curves of curve studies (empty when the report has none). */
  curves: ReportCurve[];
  /** Failed or running members, missing predictions, partial comparisons. */
  notes: string[];
}

/** True for metrics where lower is better (names containing `seconds`, `loss`, `ece` or `hamming`). */
export function isLowerBetter(metricKey: string): boolean {
  return LOWER_IS_BETTER.some((part) => metricKey.includes(part));
}

/** Decimals a column is shown with: 2 for times, 3 for scores. */
export function columnDigits(metricKey: string): number {
  return metricKey.includes('seconds') ? 2 : 3;
}

/**
 * A report cell as text: `mean ± std` (just the mean for one run), or `–` when the row has no value.
 *
 * @example
 * formatCell('test.macro_f1', summarize([0.91, 0.914])); // '0.912 ± 0.003'
 */
export function formatCell(metricKey: string, summary: Summary | null): string {
  return summary ? formatMeanStd(summary, columnDigits(metricKey)) : '–';
}

/** The marker a row's cell in a column carries (only the compared column has markers). */
export function cellMarker(report: Report, row: ReportRow, column: ReportColumn): string {
  return report.significance?.column === column.key ? (row.significance?.marker ?? '') : '';
}

/** The row label as shown in tables: the baseline row says so. */
export function rowTitle(report: Report, index: number): string {
  const row = report.rows[index]!;
  return index === report.baseline && report.significance ? `${row.label} (baseline)` : row.label;
}

/**
 * One sentence explaining the table: what the cells are, what bold means, and (when tests ran) the markers,
 * the baseline and the tests behind them.
 */
export function legendText(report: Report): string {
  const parts = [
    'Cells: mean ± std over seeds/folds (n = runs per row).',
    'Bold: best per column (↓ lower is better).',
  ];
  const s = report.significance;
  if (s && report.baseline !== null) {
    const where = s.column ?? `${s.split}.${s.metric}`;
    parts.push(
      `Markers on ${where}: * p < 0.05, ** p < 0.01, *** p < 0.001 against the baseline "${report.rows[report.baseline]!.label}" ` +
        `(paired bootstrap and approximate randomization, ${s.samples} samples each, on pooled predictions; the larger p-value).`,
    );
  }
  return parts.join(' ');
}

/** A p-value with enough precision to be read (`0.0012`, `< 0.0001`). */
export function pText(p: number): string {
  return p < 0.0001 ? '< 0.0001' : p < 0.01 ? p.toFixed(4) : p.toFixed(3);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function without(record: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => !keys.includes(k)));
}

/** The runs a reference stands for: a study's members (creation order) or the run itself. */
interface SourceRuns {
  source: ReportSource;
  study: Run | null;
  runs: Run[];
}

async function expandRefs(store: Store, refs: readonly Run[], notes: string[]): Promise<SourceRuns[]> {
  const out: SourceRuns[] = [];
  const seen = new Set<string>();
  for (const ref of refs) {
    if (seen.has(ref.id)) continue;
    seen.add(ref.id);
    const members = (await store.listRuns({ parentId: ref.id })).reverse();
    const isStudy = members.length > 0 || (STUDY_KINDS as readonly string[]).includes(ref.kind);
    if (isStudy && members.length === 0) notes.push(`study ${ref.id} (${ref.kind}) has no member runs`);
    out.push({
      source: { id: ref.id, kind: ref.kind, name: ref.name, members: isStudy ? members.length : null },
      study: isStudy ? ref : null,
      runs: isStudy ? members : [ref],
    });
  }
  return out;
}

function selectionOf(run: Run): Record<string, unknown> | null {
  return isRecord(run.config.selection) ? run.config.selection : null;
}

function architectureOf(run: Run): string | null {
  const model = run.config.model;
  return isRecord(model) && typeof model.architecture === 'string' ? model.architecture : null;
}

/** A selection without what only picks one fold or draw (index, repeat, seed, size), also in a nested inner cut. */
function selectionKey(selection: Record<string, unknown>): Record<string, unknown> {
  const key = without(selection, IGNORED_SELECTION_KEYS);
  if (isRecord(key.inner)) key.inner = without(key.inner, IGNORED_SELECTION_KEYS);
  return key;
}

/** Everything that makes a run a different system; equal keys mean "same system, other seed or fold". */
function groupKey(run: Run, source: string | null): string {
  const selection = selectionOf(run);
  return canonicalJson({
    source,
    datasets: run.datasetVersions,
    config: without(run.config, IGNORED_CONFIG_KEYS),
    selection: selection ? selectionKey(selection) : null,
  });
}

function formatValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function percent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(1))}%`;
}

function curveOf(run: Run): { size: number; fraction: number | null } | null {
  const selection = selectionOf(run);
  if (selection?.kind !== 'subsample' || typeof selection.size !== 'number') return null;
  return {
    size: selection.size,
    fraction: typeof selection.fraction === 'number' ? selection.fraction : null,
  };
}

function trialLabel(run: Run): string | null {
  const trial = run.config.trial;
  if (!isRecord(trial) || !isRecord(trial.values)) return null;
  const entries = Object.entries(trial.values).filter(([k]) => k !== 'seed');
  return entries.length > 0 ? entries.map(([k, v]) => `${k}=${formatValue(v)}`).join(', ') : null;
}

function baseLabel(runs: readonly Run[], study: Run | null): string {
  const first = runs[0]!;
  const trial = trialLabel(first);
  const curve = curveOf(first);
  if (curve) {
    const point = `n=${curve.size}${curve.fraction === null ? '' : ` (${percent(curve.fraction)})`}`;
    return trial ? `${point}, ${trial}` : point;
  }
  if (trial) return trial;
  const configName = typeof first.config.name === 'string' ? first.config.name : null;
  if (selectionOf(first)?.kind === 'fold') {
    return study?.name ?? configName ?? architectureOf(first) ?? first.id;
  }
  return first.name ?? configName ?? architectureOf(first) ?? first.id;
}

/** Flattens a config to `path → canonical JSON` for leaves, to tell apart rows that got the same label. */
function flatten(value: unknown, prefix: string, out: Map<string, string>): void {
  if (isRecord(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, canonicalJson(value ?? null));
}

function distinguishLabels(labels: string[], groups: readonly Run[][]): string[] {
  const result = [...labels];
  const byLabel = new Map<string, number[]>();
  labels.forEach((label, i) => {
    byLabel.set(label, [...(byLabel.get(label) ?? []), i]);
  });
  for (const [label, indices] of byLabel) {
    if (indices.length < 2) continue;
    const flats = indices.map((i) => {
      const out = new Map<string, string>();
      flatten(without(groups[i]![0]!.config, IGNORED_CONFIG_KEYS), '', out);
      return out;
    });
    const paths = [...new Set(flats.flatMap((f) => [...f.keys()]))].sort();
    const differing = paths.filter((p) => new Set(flats.map((f) => f.get(p) ?? 'none')).size > 1).slice(0, 3);
    indices.forEach((rowIndex, j) => {
      const parts = differing.map(
        (p) => `${p}=${flats[j]!.has(p) ? formatValue(JSON.parse(flats[j]!.get(p)!)) : 'none'}`,
      );
      result[rowIndex] = parts.length ? `${label} (${parts.join(', ')})` : `${label} #${j + 1}`;
    });
  }
  // A label may still repeat (same configuration on different datasets or studies): number the repeats.
  const count = new Map<string, number>();
  return result.map((label) => {
    const n = (count.get(label) ?? 0) + 1;
    count.set(label, n);
    return n === 1 ? label : `${label} #${n}`;
  });
}

interface Group {
  source: string | null;
  study: Run | null;
  kind: string;
  runs: Run[];
  curve: { size: number; fraction: number | null } | null;
}

/** Orders a curve study's rows by configuration (first appearance), then training-set size. */
function sortCurvePoints(groups: Group[]): void {
  const variants = new Map<string, number>();
  const variantOf = (g: Group) => {
    const key = canonicalJson(without(g.runs[0]!.config, IGNORED_CONFIG_KEYS));
    if (!variants.has(key)) variants.set(key, variants.size);
    return variants.get(key)!;
  };
  const order = new Map(groups.map((g) => [g, variantOf(g)]));
  groups.sort((x, y) => order.get(x)! - order.get(y)! || x.curve!.size - y.curve!.size);
}

/**
 * Groups finished runs into rows: a study's members among themselves, runs given directly all together
 * (so seeds given as separate refs share a row); rows keep the order of their first run, except that a
 * curve study's rows go by configuration and size.
 */
function groupRuns(sources: readonly SourceRuns[], notes: string[]): Group[] {
  const byKey = new Map<string, Group>();
  const blocks: Group[][] = [];
  const direct: Group[] = [];
  for (const { source, study, runs } of sources) {
    const sourceId = study ? source.id : null;
    const block: Group[] = study ? [] : direct;
    if (study || !blocks.includes(direct)) blocks.push(block);
    for (const run of runs) {
      if (run.status !== 'finished') {
        const what = study ? `member ${run.id} (${run.kind}) of ${study.kind} ${study.id}` : `run ${run.id}`;
        notes.push(
          run.status === 'failed'
            ? `${what} failed and is left out: ${run.error ?? 'no error recorded'}`
            : `${what} is still running and is left out`,
        );
        continue;
      }
      const key = groupKey(run, sourceId);
      let group = byKey.get(key);
      if (!group) {
        group = { source: sourceId, study, kind: run.kind, runs: [], curve: curveOf(run) };
        byKey.set(key, group);
        block.push(group);
      }
      group.runs.push(run);
    }
  }
  for (const block of blocks) {
    if (block.length > 0 && block[0]!.study && block.every((g) => g.curve !== null)) sortCurvePoints(block);
  }
  return blocks.flat();
}

function metricKeysOf(runs: readonly Run[]): Set<string> {
  const keys = new Set<string>();
  for (const run of runs) for (const key of Object.keys(run.metrics)) keys.add(key);
  return keys;
}

function chooseColumns(options: ReportOptions, primary: string, present: Set<string>): string[] {
  if (options.metrics && options.metrics.length > 0) {
    const columns: string[] = [];
    for (const name of options.metrics) {
      if (present.has(name) || name.includes('.')) columns.push(name);
      else {
        const expanded = EVALUATED_SETS.map((set) => `${set}.${name}`).filter((key) => present.has(key));
        columns.push(...(expanded.length ? expanded : [name]));
      }
    }
    return [...new Set(columns)];
  }
  const secondary = (options.secondary ?? DEFAULT_METRICS[options.task].secondary).filter(
    (m) => m !== primary,
  );
  const columns: string[] = [];
  for (const set of EVALUATED_SETS) {
    if (!present.has(`${set}.${primary}`)) continue;
    columns.push(`${set}.${primary}`);
    for (const metric of secondary) if (present.has(`${set}.${metric}`)) columns.push(`${set}.${metric}`);
  }
  if (present.has('train_seconds')) columns.push('train_seconds');
  return columns;
}

function summarizeColumn(runs: readonly Run[], key: string): Summary | null {
  const values = runs.map((r) => r.metrics[key]).filter((v): v is number => Number.isFinite(v));
  return values.length ? summarize(values) : null;
}

function bestRows(rows: readonly ReportRow[], key: string, lowerIsBetter: boolean): number[] {
  const means = rows.map((r) => r.cells[key]?.mean ?? null);
  const present = means.filter((m): m is number => m !== null);
  if (present.length < 2) return [];
  const best = lowerIsBetter ? Math.min(...present) : Math.max(...present);
  const tolerance = 1e-12 * Math.max(1, Math.abs(best));
  return means.flatMap((m, i) => (m !== null && Math.abs(m - best) <= tolerance ? [i] : []));
}

function findBaseline(ref: string | undefined, rows: readonly ReportRow[]): number {
  if (ref === undefined) return 0;
  const exact = rows.findIndex((r) => r.runs.includes(ref) || r.label === ref);
  if (exact >= 0) return exact;
  const bySource = rows.findIndex((r) => r.source === ref);
  if (bySource >= 0) return bySource;
  const byPrefix = rows.flatMap((r, i) => (r.runs.some((id) => id.startsWith(ref)) ? [i] : []));
  if (byPrefix.length === 1) return byPrefix[0]!;
  throw new SapphireError(
    'NOT_FOUND',
    byPrefix.length > 1
      ? `baseline "${ref}" matches runs of ${byPrefix.length} rows`
      : `baseline "${ref}" is not a run id, study id or row label of the report`,
    {
      path: 'baseline',
      hint: `pass a run id of one row or a row label: ${rows.map((r) => JSON.stringify(r.label)).join(', ')}`,
    },
  );
}

/** A row's pooled predictions on one split with the gold example of each id. */
interface PooledPredictions {
  ids: string[];
  predictions: Map<string, Prediction>;
  gold: Map<string, Example>;
  datasets: Set<string>;
}

class ExampleCache {
  private readonly versions = new Map<string, Promise<Map<string, Example>>>();
  constructor(private readonly store: Store) {}

  byId(version: string): Promise<Map<string, Example>> {
    let cached = this.versions.get(version);
    if (!cached) {
      cached = this.store.loadExamples(version).then((examples) => new Map(examples.map((e) => [e.id, e])));
      this.versions.set(version, cached);
    }
    return cached;
  }
}

async function poolPredictions(
  store: Store,
  cache: ExampleCache,
  row: ReportRow,
  runs: readonly Run[],
  split: string,
  notes: string[],
): Promise<PooledPredictions | null> {
  const pooled: PooledPredictions = { ids: [], predictions: new Map(), gold: new Map(), datasets: new Set() };
  const missing: string[] = [];
  let unknownIds = 0;
  for (const run of runs) {
    if (!(await predictionSplits(store, run.id)).includes(split)) {
      missing.push(run.id);
      continue;
    }
    const version = run.datasetVersions[0];
    const examples = version ? await cache.byId(version) : new Map<string, Example>();
    if (version) pooled.datasets.add(version);
    for (const { id, ...prediction } of await loadPredictions(store, run.id, split)) {
      if (pooled.predictions.has(id)) continue;
      const example = examples.get(id);
      if (!example) {
        unknownIds++;
        continue;
      }
      pooled.ids.push(id);
      pooled.predictions.set(id, prediction);
      pooled.gold.set(id, example);
    }
  }
  if (missing.length > 0) {
    notes.push(
      `row "${row.label}": ${missing.length === runs.length ? 'no run has' : `runs ${missing.join(', ')} have no`} stored predictions on "${split}"`,
    );
  }
  if (unknownIds > 0) {
    notes.push(
      `row "${row.label}": ${unknownIds} predictions on "${split}" name examples not in the run's dataset version`,
    );
  }
  return pooled.ids.length > 0 ? pooled : null;
}

async function chooseSplit(
  store: Store,
  requested: string | undefined,
  baselineRuns: readonly Run[],
): Promise<string | null> {
  if (requested) return requested;
  const available = new Set<string>();
  for (const run of baselineRuns) for (const s of await predictionSplits(store, run.id)) available.add(s);
  return EVALUATED_SETS.find((s) => available.has(s)) ?? null;
}

function perLabelOf(
  task: TaskKind,
  pooled: PooledPredictions,
  labels: readonly string[] | undefined,
): LabelF1[] {
  const gold = pooled.ids.map((id) => pooled.gold.get(id)!);
  const predictions = pooled.ids.map((id) => pooled.predictions.get(id)!);
  const report = evaluatePredictions(task, gold, predictions, labels?.length ? { labels } : {});
  return report.perLabel.map((l) => ({ label: l.label, f1: l.f1, support: l.support }));
}

function compareRows(
  task: TaskKind,
  base: PooledPredictions,
  candidate: PooledPredictions,
  settings: ReportSignificanceSettings,
  labels: readonly string[] | undefined,
): RowSignificance | null {
  const ids = base.ids.filter((id) => candidate.predictions.has(id));
  if (ids.length === 0) return null;
  const { bootstrap, randomization, significant } = compareSystems(
    task,
    ids.map((id) => base.gold.get(id)!),
    ids.map((id) => base.predictions.get(id)!),
    ids.map((id) => candidate.predictions.get(id)!),
    {
      metric: settings.metric,
      ...(labels?.length ? { labels } : {}),
      samples: settings.samples,
      seed: settings.seed,
      confidence: settings.confidence,
    },
  );
  const pValue = Math.max(bootstrap.pValue, randomization.pValue);
  return {
    split: settings.split,
    metric: settings.metric,
    examples: ids.length,
    a: bootstrap.a,
    b: bootstrap.b,
    delta: bootstrap.delta,
    ci: bootstrap.ci,
    pBootstrap: bootstrap.pValue,
    pRandomization: randomization.pValue,
    pValue,
    marker: significanceMarker(pValue),
    significant,
  };
}

/** `count` sizes from `from` to `to` (both exact), evenly spaced on a log scale. */
function logSpaced(from: number, to: number, count: number): number[] {
  if (!(to > from)) return [from];
  const lo = Math.log(from);
  const hi = Math.log(to);
  return Array.from({ length: count }, (_, i) =>
    i === 0 ? from : i === count - 1 ? to : Math.exp(lo + ((hi - lo) * i) / (count - 1)),
  );
}

/** The metric a curve plots: the explicit split's, the study's own (`config.study.metric`), else test → heldout → dev. */
function curveMetric(
  study: Run | null,
  primary: string,
  split: string | undefined,
  has: (key: string) => boolean,
): string | undefined {
  if (split) return `${split}.${primary}`;
  const own = isRecord(study?.config.study) ? study.config.study.metric : undefined;
  if (typeof own === 'string' && has(own)) return own;
  return EVALUATED_SETS.map((s) => `${s}.${primary}`).find(has);
}

function fitCurve(curve: ReportCurve, raw: readonly CurvePoint[], notes: string[]): void {
  try {
    const estimate = doublingEstimate(raw);
    const { a, b, c, r2 } = estimate.fit;
    curve.fit = { a, b, c, r2 };
    curve.doubling = { size: estimate.size, predicted: estimate.predicted, gain: estimate.gain };
    const smallest = Math.min(...curve.points.map((p) => p.size));
    curve.trend = logSpaced(smallest, estimate.size, 40).map((size) => ({
      size,
      score: estimate.fit.predict(size),
    }));
  } catch (error) {
    if (!(error instanceof SapphireError)) throw error;
    notes.push(`learning curve "${curve.label}" could not be fitted: ${error.message}`);
  }
}

/** One curve per study and configuration (a curve study may vary the model size), points sorted by size. */
function buildCurves(
  rows: readonly ReportRow[],
  groups: readonly Group[],
  primary: string,
  split: string | undefined,
  notes: string[],
): ReportCurve[] {
  const byVariant = new Map<string, number[]>();
  rows.forEach((row, i) => {
    if (!row.curve) return;
    const run = groups[i]!.runs[0]!;
    const key = canonicalJson({ source: row.source, config: without(run.config, IGNORED_CONFIG_KEYS) });
    byVariant.set(key, [...(byVariant.get(key) ?? []), i]);
  });
  const curves: ReportCurve[] = [];
  for (const indices of byVariant.values()) {
    if (new Set(indices.map((i) => rows[i]!.curve!.size)).size < 2) continue;
    const group = groups[indices[0]!]!;
    const metric = curveMetric(group.study, primary, split, (key) =>
      indices.some((i) => groups[i]!.runs.some((r) => Number.isFinite(r.metrics[key]))),
    );
    if (!metric) continue;
    const points: ReportCurve['points'] = [];
    const raw: CurvePoint[] = [];
    for (const i of [...indices].sort((x, y) => rows[x]!.curve!.size - rows[y]!.curve!.size)) {
      const summary = rows[i]!.cells[metric] ?? summarizeColumn(groups[i]!.runs, metric);
      if (!summary) continue;
      const { size, fraction } = rows[i]!.curve!;
      points.push({ row: i, label: rows[i]!.label, size, fraction, summary });
      for (const run of groups[i]!.runs) {
        const score = run.metrics[metric];
        if (Number.isFinite(score)) raw.push({ size, score: score! });
      }
    }
    const variant = trialLabel(group.runs[0]!);
    const name = group.study?.name ?? group.study?.id ?? 'runs';
    const curve: ReportCurve = {
      label: variant ? `${name} (${variant})` : name,
      source: group.source,
      metric,
      points,
      fit: null,
      doubling: null,
      trend: [],
    };
    fitCurve(curve, raw, notes);
    curves.push(curve);
  }
  return curves;
}

function defaultTitle(sources: readonly ReportSource[], runCount: number): string {
  if (sources.length === 1 && sources[0]!.members !== null) {
    const s = sources[0]!;
    const label =
      {
        sweep: 'Sweep',
        cv: 'Cross-validation',
        'nested-cv': 'Nested cross-validation',
        curve: 'Learning curve',
        ladder: 'Model ladder',
      }[s.kind] ?? s.kind;
    return s.name && s.name !== s.kind ? `${label}: ${s.name} (${s.id})` : `${label} ${s.id}`;
  }
  return `Results of ${runCount} run${runCount === 1 ? '' : 's'}`;
}

/**
 * Builds a result report from runs and studies (already resolved): groups runs that differ only by seed
 * or data selection into rows, summarises every metric column as mean ± std, marks the best row per
 * column, tests every row against the baseline row on the primary metric of the compared split (paired
 * bootstrap and approximate randomization on pooled predictions) and collects per-label F1 and, for a
 * learning-curve study, its curves with the fitted trend and the doubling estimate.
 *
 * @example
 * const report = await buildReport(store, [await store.getRun(studyId)], {
 *   task: card.task, labels: card.labels, primary: card.metrics.primary,
 * });
 * console.log(renderReport(report, 'md'));
 */
export async function buildReport(
  store: Store,
  refs: readonly Run[],
  options: ReportOptions,
): Promise<Report> {
  const notes: string[] = [];
  let primary = options.primary;
  let split = options.split;
  const dot = primary.indexOf('.');
  if (dot > 0) {
    split ??= primary.slice(0, dot);
    primary = primary.slice(dot + 1);
  }
  if (options.samples !== undefined && !(Number.isInteger(options.samples) && options.samples >= 1)) {
    throw new SapphireError('BAD_INPUT', `samples must be a positive integer, got ${options.samples}`, {
      path: 'samples',
      hint: 'pass the number of bootstrap resamples, e.g. 10000',
    });
  }
  const sources = await expandRefs(store, refs, notes);
  const groups = groupRuns(sources, notes);
  const allRuns = groups.flatMap((g) => g.runs);
  const columns = chooseColumns(options, primary, metricKeysOf(allRuns));
  const labels = distinguishLabels(
    groups.map((g) => baseLabel(g.runs, g.study)),
    groups.map((g) => g.runs),
  );
  const rows: ReportRow[] = groups.map((g, i) => ({
    label: labels[i]!,
    source: g.source,
    kind: g.kind,
    runs: g.runs.map((r) => r.id),
    seeds: g.runs.map((r) => r.seed),
    cells: Object.fromEntries(columns.map((key) => [key, summarizeColumn(g.runs, key)])),
    significance: null,
    perLabel: null,
    examples: null,
    curve: g.curve,
  }));
  const reportColumns: ReportColumn[] = columns.map((key) => {
    const lowerIsBetter = isLowerBetter(key);
    return { key, lowerIsBetter, best: bestRows(rows, key, lowerIsBetter) };
  });
  for (const column of reportColumns) {
    if (rows.every((r) => r.cells[column.key] === null)) notes.push(`no run has the metric "${column.key}"`);
  }

  const report: Report = {
    title:
      options.title ??
      defaultTitle(
        sources.map((s) => s.source),
        allRuns.length,
      ),
    task: options.task,
    primary,
    sources: sources.map((s) => s.source),
    columns: reportColumns,
    rows,
    baseline: null,
    significance: null,
    labels: [],
    curves: [],
    notes,
  };
  if (rows.length === 0) {
    notes.push('no finished runs to report');
    return report;
  }
  const baseline = findBaseline(options.baseline, rows);
  report.baseline = baseline;

  const compared = await chooseSplit(store, split, groups[baseline]!.runs);
  if (compared === null) {
    notes.push('no stored predictions on test, heldout or dev: no significance tests or per-label scores');
  } else {
    const cache = new ExampleCache(store);
    const pooled: (PooledPredictions | null)[] = [];
    for (const [i, row] of rows.entries()) {
      const p = await poolPredictions(store, cache, row, groups[i]!.runs, compared, notes);
      pooled.push(p);
      if (p) {
        row.examples = p.ids.length;
        row.perLabel = perLabelOf(options.task, p, options.labels);
      }
    }
    const supported = significanceMetricNames(options.task).includes(primary);
    if (!supported) {
      notes.push(`significance tests do not support "${primary}"; no markers`);
    } else if (rows.length > 1 && pooled[baseline]) {
      const settings: ReportSignificanceSettings = {
        split: compared,
        metric: primary,
        column: columns.includes(`${compared}.${primary}`) ? `${compared}.${primary}` : null,
        samples: options.samples ?? DEFAULT_BOOTSTRAP_SAMPLES,
        seed: options.seed ?? DEFAULT_SIGNIFICANCE_SEED,
        confidence: DEFAULT_CONFIDENCE,
      };
      report.significance = settings;
      const base = pooled[baseline]!;
      for (const [i, row] of rows.entries()) {
        const candidate = pooled[i];
        if (i === baseline || !candidate) continue;
        row.significance = compareRows(options.task, base, candidate, settings, options.labels);
        if (!row.significance) {
          notes.push(`row "${row.label}" shares no predicted "${compared}" examples with the baseline`);
        } else if (row.significance.examples < Math.max(base.ids.length, candidate.ids.length)) {
          notes.push(
            `row "${row.label}" is compared with the baseline on the ${row.significance.examples} "${compared}" examples both predicted`,
          );
        }
        const differ = [...candidate.datasets].some((d) => !base.datasets.has(d));
        if (row.significance && differ) {
          notes.push(
            `row "${row.label}" used dataset version(s) ${[...candidate.datasets].join(', ')}, the baseline ${[...base.datasets].join(', ')}; gold examples are the baseline's`,
          );
        }
      }
    }
    const seen = new Set<string>(options.labels ?? []);
    const ordered = [...(options.labels ?? [])];
    for (const row of rows) {
      for (const l of row.perLabel ?? []) {
        if (!seen.has(l.label)) {
          seen.add(l.label);
          ordered.push(l.label);
        }
      }
    }
    report.labels = rows.some((r) => r.perLabel) ? ordered : [];
  }
  report.curves = buildCurves(rows, groups, primary, split, notes);
  return report;
}
