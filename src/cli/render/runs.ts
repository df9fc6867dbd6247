import { toYaml } from '../../core/config.ts';
import { formatCount, renderTable } from '../../core/table.ts';
import type { RunDeletionPlan, RunDeletionResult } from '../../experiments/delete-runs.ts';
import type { RunComparison } from '../../experiments/run-compare.ts';
import { type RunDetails, runDuration } from '../../experiments/run-query.ts';
import type { Run } from '../../store/store.ts';

const MISSING = '–';

/** Seconds as `0.42 s`, `12.3 s`, `4 min 05 s` or `2 h 03 min`. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return MISSING;
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} min`;
}

/** Bytes as `812 B`, `4.1 kB`, `12.5 MB`, `1.2 GB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** A metric value with four decimals (or an integer as is). */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}

function formatDelta(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return MISSING;
  if (value === 0) return '0';
  return `${value > 0 ? '+' : ''}${value.toFixed(4)}`;
}

/** An ISO timestamp as `2024-05-01 12:00:00` (UTC). */
function formatTime(iso: string | null): string {
  return iso ? iso.slice(0, 19).replace('T', ' ') : MISSING;
}

function formatValue(value: unknown): string {
  if (value === undefined) return MISSING;
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** The table printed by `sapphire runs ls`, with one column per metric in `metricColumns` that some run has. */
export function renderRunList(runs: Run[], metricColumns: string[]): string {
  if (runs.length === 0) return 'No runs match. Train one with `sapphire train <config.yaml>`.';
  const columns = metricColumns.filter(
    (key, i) => metricColumns.indexOf(key) === i && runs.some((r) => key in r.metrics),
  );
  const rows = runs.map((r) => [
    r.id,
    r.kind,
    r.name ?? MISSING,
    r.status,
    ...columns.map((key) => formatMetric(r.metrics[key])),
    r.tags.join(',') || MISSING,
    formatTime(r.startedAt),
    formatDuration(runDuration(r)),
  ]);
  return renderTable(rows, {
    header: ['run', 'kind', 'name', 'status', ...columns, 'tags', 'started (UTC)', 'took'],
    align: ['left', 'left', 'left', 'left', ...columns.map(() => 'right' as const), 'left', 'left', 'right'],
    maxWidth: [undefined, undefined, 28, undefined, ...columns.map(() => undefined), 28],
  });
}

function record(object: unknown): Record<string, unknown> {
  return object !== null && typeof object === 'object' && !Array.isArray(object)
    ? (object as Record<string, unknown>)
    : {};
}

/** Final metrics as a table: one row per metric name, one column per evaluated set (train, dev, test, …). */
function renderFinalMetrics(metrics: Record<string, number>): string {
  const order = ['train', 'dev', 'test', 'heldout'];
  const sets: string[] = [];
  const names: string[] = [];
  const other: [string, number][] = [];
  for (const [key, value] of Object.entries(metrics)) {
    const dot = key.indexOf('.');
    if (dot <= 0) {
      other.push([key, value]);
      continue;
    }
    const set = key.slice(0, dot);
    const name = key.slice(dot + 1);
    if (!sets.includes(set)) sets.push(set);
    if (!names.includes(name)) names.push(name);
  }
  const rank = (s: string) => (order.includes(s) ? order.indexOf(s) : order.length);
  sets.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  names.sort();
  const parts: string[] = [];
  if (names.length > 0) {
    parts.push(
      renderTable(
        names.map((name) => [name, ...sets.map((set) => formatMetric(metrics[`${set}.${name}`]))]),
        { header: ['metric', ...sets], title: 'Final metrics' },
      ),
    );
  }
  if (other.length > 0) {
    parts.push(
      renderTable(
        other.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, formatMetric(v)]),
        { header: ['other', 'value'] },
      ),
    );
  }
  return parts.join('\n\n');
}

/** Everything `sapphire runs show` prints about a run. */
export function renderRunDetails(details: RunDetails): string {
  const { run } = details;
  const provenance = record(run.provenance);
  const git = record(provenance.git);
  const packages = record(provenance.packages);
  const fields: [string, string][] = [
    ['status', run.status + (run.error ? ` — ${run.error}` : '')],
    ['kind', run.kind],
  ];
  if (details.study)
    fields.push([
      'study',
      `${details.study.id} (${details.study.kind}${details.study.name ? `, ${details.study.name}` : ''})`,
    ]);
  if (details.members > 0) fields.push(['members', formatCount(details.members)]);
  fields.push(['name', run.name ?? MISSING]);
  fields.push(['tags', run.tags.join(', ') || MISSING]);
  if (run.notes) fields.push(['notes', run.notes.replace(/\n/g, '\n           ')]);
  fields.push(['seed', run.seed === null ? MISSING : String(run.seed)]);
  fields.push(['datasets', run.datasetVersions.join(', ') || MISSING]);
  if (typeof git.commit === 'string') {
    const dirty = git.dirty === true ? ' (with uncommitted changes)' : git.dirty === false ? ' (clean)' : '';
    fields.push([
      'code',
      `git ${git.commit.slice(0, 12)}${typeof git.branch === 'string' ? ` on ${git.branch}` : ''}${dirty}`,
    ]);
  } else if (Object.keys(provenance).length > 0) fields.push(['code', 'not in a git repository']);
  const packageList = Object.entries(packages).map(([name, version]) => `${name} ${String(version)}`);
  if (packageList.length) fields.push(['packages', packageList.join(', ')]);
  if (typeof provenance.host === 'string') {
    const where = [
      provenance.platform,
      provenance.cpus !== undefined ? `${String(provenance.cpus)} cpus` : null,
    ]
      .filter((x) => x !== null && x !== undefined)
      .join(', ');
    fields.push([
      'host',
      `${provenance.host}${where ? ` (${where})` : ''}${provenance.pid !== undefined ? `, pid ${String(provenance.pid)}` : ''}`,
    ]);
  }
  if (typeof provenance.command === 'string') fields.push(['command', provenance.command]);
  fields.push(['started', `${formatTime(run.startedAt)} UTC`]);
  fields.push(['ended', run.endedAt ? `${formatTime(run.endedAt)} UTC` : MISSING]);
  fields.push(['duration', formatDuration(details.durationSeconds)]);

  const width = Math.max(...fields.map(([k]) => k.length));
  const sections = [`Run ${run.id}`, fields.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')];
  if (Object.keys(run.metrics).length > 0) sections.push(renderFinalMetrics(run.metrics));
  if (details.history.length > 0)
    sections.push(
      renderTable(
        details.history.map((h) => [
          h.key,
          formatCount(h.points),
          formatMetric(h.first),
          formatMetric(h.last),
          `${formatMetric(h.best)} @${h.bestStep}`,
        ]),
        {
          header: ['metric', 'points', 'first', 'last', 'best @step'],
          title: 'Per-step metrics',
          align: ['left', 'right', 'right', 'right', 'right'],
        },
      ),
    );
  if (details.artifacts.length > 0)
    sections.push(
      renderTable(
        details.artifacts.map((a) => [a.name, formatBytes(a.size)]),
        { header: ['artifact', 'size'], title: 'Artifacts', align: ['left', 'right'] },
      ),
    );
  sections.push(`Config\n${toYaml(run.config).trimEnd().replace(/^/gm, '  ')}`);
  return sections.join('\n\n');
}

/** Runs as short column labels for comparison tables: their names, else the last part of their id. */
function runLabels(comparison: RunComparison): string[] {
  return comparison.runs.map((r) => {
    const tail = r.id.slice(-6);
    return r.name ? `${r.name} ${tail}` : tail;
  });
}

/** What `sapphire runs compare` prints: the runs, the config keys that differ, metrics with deltas, other differences. */
export function renderComparison(comparison: RunComparison): string {
  const labels = runLabels(comparison);
  const sections: string[] = [
    renderTable(
      comparison.runs.map((r, i) => [
        labels[i]!,
        r.id,
        r.kind,
        r.status,
        r.seed === null ? MISSING : String(r.seed),
        r.datasetVersions.join(', ') || MISSING,
      ]),
      {
        header: ['', 'run', 'kind', 'status', 'seed', 'datasets'],
        title: 'Runs',
        align: ['left', 'left', 'left', 'left', 'right', 'left'],
      },
    ),
  ];
  sections.push(
    comparison.config.length === 0
      ? `Config: identical (${comparison.sameConfigKeys} keys)`
      : renderTable(
          comparison.config.map((d) => [d.key, ...d.values.map(formatValue)]),
          {
            header: ['config', ...labels],
            title: `Config differences (${comparison.config.length}; ${comparison.sameConfigKeys} keys identical)`,
            maxWidth: [undefined, ...labels.map(() => 40)],
          },
        ),
  );
  if (comparison.metrics.length > 0) {
    const header = ['metric', ...labels.flatMap((l, i) => (i === 0 ? [l] : [l, 'Δ']))];
    sections.push(
      renderTable(
        comparison.metrics.map((m) => [
          m.key,
          ...m.values.flatMap((v, i) =>
            i === 0 ? [formatMetric(v)] : [formatMetric(v), formatDelta(m.deltas[i]!)],
          ),
        ]),
        {
          header,
          title: `Metrics (Δ against ${labels[0]})`,
          align: ['left', ...header.slice(1).map(() => 'right' as const)],
        },
      ),
    );
  } else sections.push('Metrics: none recorded');
  if (comparison.differences.length > 0)
    sections.push(
      renderTable(
        comparison.differences.map((d) => [d.field, ...d.values.map(formatValue)]),
        { header: ['also differs', ...labels], maxWidth: [undefined, ...labels.map(() => 40)] },
      ),
    );
  return sections.join('\n\n');
}

/** What `sapphire runs delete` would remove (printed without `--yes`). */
export function renderDeletionPlan(plan: RunDeletionPlan): string {
  const members = plan.runs.length - plan.requested.length;
  const lines = [
    `Would delete ${plan.runs.length} run(s)${members > 0 ? ` (${members} of them members of the studies named)` : ''}:`,
    ...plan.runs.map((r) => `  ${r.id}  ${r.kind}  ${r.name ?? ''}  ${r.status}`.trimEnd()),
  ];
  if (plan.modelDirs.length > 0) {
    lines.push(`and ${plan.modelDirs.length} model folder(s):`);
    for (const d of plan.modelDirs) lines.push(`  ${d.path}  (${formatBytes(d.bytes)})`);
  }
  return lines.join('\n');
}

/** What `sapphire runs delete --yes` removed. */
export function renderDeletion(result: RunDeletionResult): string {
  const lines = [
    `Deleted ${result.runs.length} run(s): ${result.runs.join(', ')}`,
    `Freed ${result.freedArtifacts} stored artifact(s) (${formatBytes(result.freedBytes)}).`,
  ];
  if (result.modelDirs.length > 0)
    lines.push(
      `Removed ${result.modelDirs.length} model folder(s) (${formatBytes(result.freedModelBytes)}): ${result.modelDirs.map((d) => d.path).join(', ')}`,
    );
  return lines.join('\n');
}
