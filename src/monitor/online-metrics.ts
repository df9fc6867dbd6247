/**
 * Online metrics of served models: usage per model version per day, thumbs-up rate from feedback, and the
 * override rules with their hits (overrides are a smell to reduce).
 */
import { formatPercent, renderTable } from '../core/table.ts';
import type { OverrideAction, OverrideMatch, OverrideTarget } from '../store/serving-store.ts';
import type { Store } from '../store/store.ts';

/** Usage and feedback sums of one model version (per day in `rows`, over the window in `totals`). */
export interface OnlineCounts {
  model: string;
  version: number;
  /** Requests served. */
  requests: number;
  /** Texts predicted (a batch counts each text). */
  items: number;
  /** Texts whose answer an override changed. */
  overridden: number;
  errors: number;
  up: number;
  down: number;
  corrections: number;
  /** up / (up + down), or null without ratings. */
  thumbsUpRate: number | null;
}

/** One model version on one UTC day. */
export interface OnlineMetricsRow extends OnlineCounts {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
}

/** An active override rule with its hit count. */
export interface OverrideHits {
  id: string;
  model: string;
  action: OverrideAction;
  match: OverrideMatch;
  target: OverrideTarget;
  label: string;
  pattern: string;
  hits: number;
}

/** Online metrics of a tenant's served models over the last days. */
export interface OnlineMetrics {
  tenant: string;
  /** Length of the window in days (today included). */
  days: number;
  /** First UTC day of the window, `YYYY-MM-DD`. */
  since: string;
  /** Per model, version and day: oldest day first within each model version. */
  rows: OnlineMetricsRow[];
  /** Per model and version over the window. */
  totals: OnlineCounts[];
  /** Active override rules, most hits first. */
  overrides: OverrideHits[];
}

/** Options for {@link onlineMetrics}. */
export interface OnlineMetricsOptions {
  tenant: string;
  /** Only this registered model. */
  model?: string;
  /** Days to look back, today included (default 7). */
  days?: number;
  /** The current time (tests); default now. */
  now?: Date;
}

const DAY_MS = 86_400_000;

function emptyCounts(model: string, version: number): OnlineCounts {
  return {
    model,
    version,
    requests: 0,
    items: 0,
    overridden: 0,
    errors: 0,
    up: 0,
    down: 0,
    corrections: 0,
    thumbsUpRate: null,
  };
}

function rate(c: OnlineCounts): number | null {
  const rated = c.up + c.down;
  return rated === 0 ? null : c.up / rated;
}

function add(into: OnlineCounts, from: Partial<OnlineCounts>): void {
  into.requests += from.requests ?? 0;
  into.items += from.items ?? 0;
  into.overridden += from.overridden ?? 0;
  into.errors += from.errors ?? 0;
  into.up += from.up ?? 0;
  into.down += from.down ?? 0;
  into.corrections += from.corrections ?? 0;
}

/**
 * Reads usage counts, feedback counts and override hits of a tenant (optionally one model) for the last `days`
 * UTC days, today included.
 *
 * @example
 * const metrics = await onlineMetrics(store, { tenant: 'default', days: 7 });
 * console.log(renderOnlineMetrics(metrics));
 */
export async function onlineMetrics(store: Store, options: OnlineMetricsOptions): Promise<OnlineMetrics> {
  const days = Math.max(1, Math.floor(options.days ?? 7));
  const now = options.now ?? new Date();
  const since = new Date(now.getTime() - (days - 1) * DAY_MS).toISOString().slice(0, 10);
  const { tenant, model } = options;
  const filter = { tenant, ...(model ? { model } : {}), since };
  const [usage, feedback, rules] = await Promise.all([
    store.feedback.usage(filter),
    store.feedback.feedbackCounts(filter),
    store.overrides.listOverrides(tenant, model ? { model } : {}),
  ]);
  const byDay = new Map<string, OnlineMetricsRow>();
  const row = (m: string, version: number, day: string): OnlineMetricsRow => {
    const key = JSON.stringify([m, version, day]);
    let found = byDay.get(key);
    if (!found) {
      found = { ...emptyCounts(m, version), day };
      byDay.set(key, found);
    }
    return found;
  };
  // The store filters by tenant, model and day too; filtering again keeps the window exact whatever it compares.
  const keep = (r: { tenant: string; model: string; day: string }) =>
    r.tenant === tenant && (!model || r.model === model) && r.day >= since;
  for (const u of usage.filter(keep)) add(row(u.model, u.version, u.day), u);
  for (const f of feedback.filter(keep)) add(row(f.model, f.version, f.day), f);
  const rows = [...byDay.values()].sort(
    (a, b) =>
      a.model.localeCompare(b.model) || b.version - a.version || (a.day < b.day ? -1 : a.day > b.day ? 1 : 0),
  );
  const totalsByVersion = new Map<string, OnlineCounts>();
  for (const r of rows) {
    r.thumbsUpRate = rate(r);
    const key = JSON.stringify([r.model, r.version]);
    let total = totalsByVersion.get(key);
    if (!total) {
      total = emptyCounts(r.model, r.version);
      totalsByVersion.set(key, total);
    }
    add(total, r);
  }
  const totals = [...totalsByVersion.values()];
  for (const t of totals) t.thumbsUpRate = rate(t);
  const overrides = rules
    .filter((r) => !r.removedAt)
    .map((r) => ({
      id: r.id,
      model: r.model,
      action: r.action,
      match: r.match,
      target: r.target,
      label: r.label,
      pattern: r.pattern,
      hits: r.hits,
    }))
    .sort((a, b) => b.hits - a.hits);
  return { tenant, days, since, rows, totals, overrides };
}

function percent(x: number | null): string {
  return x === null ? '–' : formatPercent(x);
}

function countsCells(c: OnlineCounts): (string | number)[] {
  return [c.requests, c.items, c.overridden, c.errors, c.up, c.down, percent(c.thumbsUpRate), c.corrections];
}

const COUNT_HEADINGS = [
  'requests',
  'texts',
  'overridden',
  'errors',
  'up',
  'down',
  'thumbs-up',
  'corrections',
];

/**
 * Renders online metrics as text tables for `sapphire monitor`: totals per model version, usage per day, and the
 * override rules by hits.
 *
 * @example
 * say(renderOnlineMetrics(await onlineMetrics(store, { tenant: 'default' })));
 */
export function renderOnlineMetrics(metrics: OnlineMetrics): string {
  const window = `${metrics.days} day${metrics.days === 1 ? '' : 's'} since ${metrics.since} (UTC)`;
  const out: string[] = [];
  if (metrics.rows.length === 0) {
    out.push(`No requests or feedback for tenant ${metrics.tenant} in the last ${window}.`);
    out.push('Serve a registered model with `sapphire serve`; usage and feedback show up here.');
  } else {
    out.push(
      renderTable(
        metrics.totals.map((t) => [t.model, `v${t.version}`, ...countsCells(t)]),
        {
          title: `Online metrics of tenant ${metrics.tenant}, last ${window}`,
          header: ['model', 'version', ...COUNT_HEADINGS],
        },
      ),
    );
    out.push('');
    out.push(
      renderTable(
        metrics.rows.map((r) => [r.model, `v${r.version}`, r.day, ...countsCells(r)]),
        { title: 'Per day', header: ['model', 'version', 'day', ...COUNT_HEADINGS] },
      ),
    );
  }
  out.push('');
  if (metrics.overrides.length === 0) out.push('No active overrides.');
  else {
    const hits = metrics.overrides.reduce((sum, o) => sum + o.hits, 0);
    out.push(
      renderTable(
        metrics.overrides.map((o) => [
          o.id,
          o.model,
          o.action,
          o.target,
          o.label,
          `${o.match} ${o.pattern}`,
          o.hits,
        ]),
        {
          title: `Overrides: ${metrics.overrides.length} active, ${hits} hits in all (overrides are a smell: fix the model and remove them)`,
          header: ['id', 'model', 'action', 'target', 'label', 'pattern', 'hits'],
          maxWidth: [undefined, undefined, undefined, undefined, undefined, 40, undefined],
        },
      ),
    );
  }
  return out.join('\n');
}
