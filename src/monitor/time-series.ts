/**
 * Monitoring time series per model version: latency percentiles, logged traffic and override hits from the
 * (sampled) prediction log, thumbs up/down from feedback, and exact daily requests and error rates from the usage
 * counters.
 */
import type { Store } from '../store/store.ts';
import { type OnlineMetricsRow, onlineMetrics } from './online-metrics.ts';

/** Width of one time bucket. */
export type Bucket = 'hour' | 'day';

/** One model version in one time bucket. */
export interface SeriesPoint {
  model: string;
  version: number;
  /** Start of the bucket, ISO UTC (`2026-01-02T13:00:00.000Z`). */
  t: string;
  /** Logged texts in the bucket (a sample when `serve.log.sample` < 1). */
  logged: number;
  /** Latency percentiles of the logged texts, in ms; null without any. */
  p50: number | null;
  p99: number | null;
  /** Logged texts whose answer an override changed. */
  overridden: number;
  up: number;
  down: number;
  /** up / (up + down); null without ratings. */
  thumbsUpRate: number | null;
}

/** A day of exact usage of a model version with its error rate. */
export interface DailyUsage extends OnlineMetricsRow {
  /** errors / (requests + errors); null without requests. */
  errorRate: number | null;
}

/** The monitoring series of a tenant. */
export interface MonitorSeries {
  tenant: string;
  bucket: Bucket;
  since: string;
  /** Per model version and bucket, oldest first. */
  points: SeriesPoint[];
  /** Exact counts per model version and day (requests, errors, error rate, feedback). */
  daily: DailyUsage[];
}

/** Options of {@link monitorSeries}. */
export interface MonitorSeriesOptions {
  tenant: string;
  model?: string;
  /** Days back, today included (default 7). */
  days?: number;
  /** Default: hours for up to 2 days, else days. */
  bucket?: Bucket;
  now?: Date;
}

/** The `q` quantile (0..1) of sorted numbers, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function bucketStart(iso: string, bucket: Bucket): string {
  return bucket === 'hour' ? `${iso.slice(0, 13)}:00:00.000Z` : `${iso.slice(0, 10)}T00:00:00.000Z`;
}

/**
 * Reads a tenant's monitoring series for the last `days`: per model version and hour (or day) the logged traffic,
 * latency p50/p99, override hits and thumbs-up rate, plus the exact daily usage with error rates.
 *
 * @example
 * const series = await monitorSeries(store, { tenant: 'default', days: 1 }); // hourly buckets
 */
export async function monitorSeries(store: Store, options: MonitorSeriesOptions): Promise<MonitorSeries> {
  const days = Math.max(1, Math.floor(options.days ?? 7));
  const bucket = options.bucket ?? (days <= 2 ? 'hour' : 'day');
  const online = await onlineMetrics(store, { ...options, days });
  const since = `${online.since}T00:00:00.000Z`;
  const filter = { tenant: options.tenant, since, ...(options.model ? { model: options.model } : {}) };
  const [timings, feedback] = await Promise.all([
    store.feedback.loggedTimings(filter),
    store.feedback.listFeedback(filter),
  ]);
  const groups = new Map<string, { point: SeriesPoint; latencies: number[] }>();
  const group = (model: string, version: number, createdAt: string) => {
    const t = bucketStart(createdAt, bucket);
    const key = JSON.stringify([model, version, t]);
    let found = groups.get(key);
    if (!found) {
      found = {
        point: {
          model,
          version,
          t,
          logged: 0,
          p50: null,
          p99: null,
          overridden: 0,
          up: 0,
          down: 0,
          thumbsUpRate: null,
        },
        latencies: [],
      };
      groups.set(key, found);
    }
    return found;
  };
  for (const timing of timings) {
    const g = group(timing.model, timing.version, timing.createdAt);
    g.point.logged++;
    if (timing.overridden) g.point.overridden++;
    g.latencies.push(timing.latencyMs);
  }
  for (const f of feedback) {
    if (f.model === null || f.version === null || f.rating === null) continue;
    const g = group(f.model, f.version, f.createdAt);
    if (f.rating === 'up') g.point.up++;
    else g.point.down++;
  }
  const points = [...groups.values()].map(({ point, latencies }) => {
    latencies.sort((a, b) => a - b);
    const rated = point.up + point.down;
    return {
      ...point,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      thumbsUpRate: rated === 0 ? null : point.up / rated,
    };
  });
  points.sort((a, b) => a.model.localeCompare(b.model) || a.version - b.version || a.t.localeCompare(b.t));
  const daily = online.rows.map((r) => ({
    ...r,
    errorRate: r.requests + r.errors === 0 ? null : r.errors / (r.requests + r.errors),
  }));
  return { tenant: options.tenant, bucket, since, points, daily };
}
