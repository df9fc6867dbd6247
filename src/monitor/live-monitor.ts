/**
 * The serving process's live monitor: prediction sketches per tenant, model version and time bucket, in bounded
 * memory; each replica publishes its changed buckets to the shared store, and views merge the replica's own
 * buckets with every other replica's from the store (ADR 0013).
 */
import { randomBytes } from 'node:crypto';
import type { SketchBucket } from '../store/serving-store.ts';
import type { Store } from '../store/store.ts';
import type { ReferenceProfile } from '../train/reference-profile.ts';
import { indexProfile, type MonitoredAnswer, PredictionSketch, type ProfileIndex } from './live-sketch.ts';

/** The model version predictions are observed for. */
export interface MonitoredVersion {
  tenant: string;
  name: string;
  version: number;
}

/** Where the monitor reports its own failures (a pino/fastify logger fits). */
export interface MonitorLogger {
  warn(obj: unknown, msg?: string): void;
}

/** Settings of a {@link LiveMonitor}. */
export interface LiveMonitorOptions {
  /** Width of a time bucket in seconds (default 300). */
  bucketSeconds?: number;
  /** Buckets older than this many hours are dropped from memory and the store (default 24). */
  retentionHours?: number;
  /** Publish changed buckets to the store this often, in ms (default 10,000; needs `store`). */
  publishIntervalMs?: number;
  /** The shared store replicas publish to; without one, views are this process's only. */
  store?: Store;
  /** This replica's id (default random). */
  replica?: string;
  /** Loads a version's reference profile (null: it has none). */
  profiles?: (version: MonitoredVersion) => Promise<ReferenceProfile | null>;
  logger?: MonitorLogger;
  /** The clock in ms (tests). */
  now?: () => number;
}

/** A merged view of one model version over a window. */
export interface LiveView {
  tenant: string;
  model: string;
  version: number;
  /** Start of the first bucket included (ISO). */
  from: string;
  to: string;
  /** Buckets merged (over every replica). */
  buckets: number;
  /** Replicas whose buckets were merged. */
  replicas: string[];
  sketch: PredictionSketch;
}

interface Series {
  ref: MonitoredVersion;
  /** Bucket start (ms) → sketch. */
  buckets: Map<number, PredictionSketch>;
  dirty: Set<number>;
  currentStart: number;
  current: PredictionSketch | null;
  /** Whether `currentStart` is already in `dirty` (skips the Set insert on every observe). */
  currentDirty: boolean;
  /** undefined while loading. */
  profile: ProfileIndex | null | undefined;
  /** Resolves once the profile is loaded (or known missing). */
  profileLoaded: Promise<void>;
}

const seriesKey = (v: MonitoredVersion): string => `${v.tenant}\u0000${v.name}\u0000${v.version}`;

/**
 * Merges the buckets other replicas published to the store (and, with `local`, this replica's in-memory ones)
 * into one view of a model version over the window ending now.
 *
 * @example
 * const view = await mergedView(store, { tenant: 'default', name: 'intents', version: 3 }, 3_600_000, 300);
 * view.sketch.items; // predictions in the last hour, every replica
 */
export async function mergedView(
  store: Store | undefined,
  ref: MonitoredVersion,
  windowMs: number,
  bucketSeconds: number,
  options: { now?: number; local?: LiveMonitor; logger?: MonitorLogger } = {},
): Promise<LiveView> {
  const now = options.now ?? Date.now();
  const bucketMs = bucketSeconds * 1000;
  const from = Math.floor((now - windowMs) / bucketMs) * bucketMs;
  const sketch = new PredictionSketch();
  const replicas = new Set<string>();
  let buckets = 0;
  const skip = options.local?.replica;
  if (store) {
    const rows: SketchBucket[] = await store.monitoring.listSketches({
      tenant: ref.tenant,
      model: ref.name,
      version: ref.version,
      since: new Date(from).toISOString(),
    });
    for (const row of rows) {
      if (row.replica === skip) continue;
      try {
        sketch.merge(PredictionSketch.fromState(row.state));
        replicas.add(row.replica);
        buckets++;
      } catch (error) {
        options.logger?.warn(
          { err: error, bucket: row.bucket, replica: row.replica },
          'skipped a malformed sketch',
        );
      }
    }
  }
  if (options.local) {
    const own = options.local.localBuckets(ref, from);
    for (const b of own) sketch.merge(b);
    if (own.length > 0) replicas.add(options.local.replica);
    buckets += own.length;
  }
  return {
    tenant: ref.tenant,
    model: ref.name,
    version: ref.version,
    from: new Date(from).toISOString(),
    to: new Date(now).toISOString(),
    buckets,
    replicas: [...replicas].sort(),
    sketch,
  };
}

/**
 * Live sketches of served predictions per tenant, model version and time bucket: observing costs a few
 * microseconds and no I/O; memory is bounded by the buckets kept (retention / bucket width per served version, a
 * few tens of KiB each). With a store, changed buckets are published every `publishIntervalMs`.
 *
 * @example
 * const live = new LiveMonitor({ store, profiles: loadProfileOf });
 * live.observe(version, 'where is my card', { labels: [{ label: 'card_arrival', score: 0.9 }] });
 * const view = await live.view(version, 3_600_000);
 */
export class LiveMonitor {
  readonly replica: string;
  readonly bucketSeconds: number;
  private readonly bucketMs: number;
  private readonly retentionMs: number;
  private readonly store: Store | undefined;
  private readonly profiles: LiveMonitorOptions['profiles'];
  private readonly logger: MonitorLogger | undefined;
  private readonly now: () => number;
  private readonly series = new Map<string, Series>();
  private readonly byObject = new WeakMap<MonitoredVersion, Series>();
  private readonly timer: NodeJS.Timeout | null;
  private publishing: Promise<void> = Promise.resolve();
  private lastPurge = 0;
  private lastVersion: MonitoredVersion | null = null;
  private lastSeries: Series | null = null;

  constructor(options: LiveMonitorOptions = {}) {
    this.replica = options.replica ?? randomBytes(6).toString('hex');
    this.bucketSeconds = options.bucketSeconds ?? 300;
    this.bucketMs = this.bucketSeconds * 1000;
    this.retentionMs = (options.retentionHours ?? 24) * 3_600_000;
    this.store = options.store;
    this.profiles = options.profiles;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    if (this.store) {
      this.timer = setInterval(() => void this.publish(), options.publishIntervalMs ?? 10_000);
      this.timer.unref();
    } else this.timer = null;
  }

  /** Observes one served answer on one text. */
  observe(version: MonitoredVersion, text: string, answer: MonitoredAnswer): void {
    const series = this.seriesOf(version);
    const now = this.now();
    const start = now - (now % this.bucketMs);
    let sketch = series.current;
    if (sketch === null || series.currentStart !== start) {
      sketch = series.buckets.get(start) ?? null;
      if (sketch === null) {
        sketch = new PredictionSketch();
        series.buckets.set(start, sketch);
        // A new bucket: drop expired ones of every version (versions no longer served included).
        for (const other of this.series.values()) this.evict(other, now);
      }
      series.current = sketch;
      series.currentStart = start;
      series.currentDirty = false;
    }
    sketch.observe(text, answer, series.profile ?? null);
    if (!series.currentDirty) {
      series.dirty.add(start);
      series.currentDirty = true;
    }
  }

  /** The version's reference profile, loaded on first use (null: the model was saved without one). */
  async profileFor(ref: MonitoredVersion): Promise<ReferenceProfile | null> {
    const series = this.seriesOf(ref);
    await series.profileLoaded;
    return series.profile?.profile ?? null;
  }

  /** This replica's buckets of a version starting at or after `from` (ms). */
  localBuckets(ref: MonitoredVersion, from: number): PredictionSketch[] {
    const series = this.series.get(seriesKey(ref));
    if (!series) return [];
    return [...series.buckets].filter(([start]) => start >= from).map(([, s]) => s);
  }

  /** The merged view of a version over the window ending now: this replica's buckets and every other replica's. */
  view(ref: MonitoredVersion, windowMs: number): Promise<LiveView> {
    return mergedView(this.store, ref, windowMs, this.bucketSeconds, {
      now: this.now(),
      local: this,
      ...(this.logger ? { logger: this.logger } : {}),
    });
  }

  /** Versions observed so far (with buckets in memory). */
  versions(): MonitoredVersion[] {
    return [...this.series.values()].filter((s) => s.buckets.size > 0).map((s) => s.ref);
  }

  /** Buckets held in memory over every version (for tests and the memory bench). */
  get bucketCount(): number {
    let n = 0;
    for (const s of this.series.values()) n += s.buckets.size;
    return n;
  }

  /** Writes every changed bucket to the store (no-op without one); failures are logged and retried next time. */
  publish(): Promise<void> {
    this.publishing = this.publishing.then(() => this.writeDirty());
    return this.publishing;
  }

  /** Stops publishing and writes what is left. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.publish();
  }

  private async writeDirty(): Promise<void> {
    if (!this.store) return;
    const now = this.now();
    const rows: SketchBucket[] = [];
    const written: [Series, number][] = [];
    for (const series of this.series.values()) {
      this.evict(series, now);
      for (const start of series.dirty) {
        const sketch = series.buckets.get(start);
        if (!sketch) continue;
        rows.push({
          tenant: series.ref.tenant,
          model: series.ref.name,
          version: series.ref.version,
          bucket: new Date(start).toISOString(),
          replica: this.replica,
          items: sketch.items,
          state: sketch.toState() as unknown as Record<string, unknown>,
          updatedAt: new Date(now).toISOString(),
        });
        written.push([series, start]);
      }
      series.dirty.clear();
      series.currentDirty = false;
    }
    try {
      if (rows.length > 0) await this.store.monitoring.putSketches(rows);
      if (now - this.lastPurge > 600_000) {
        this.lastPurge = now;
        await this.store.monitoring.purgeSketches(new Date(now - this.retentionMs).toISOString());
      }
    } catch (error) {
      for (const [series, start] of written) series.dirty.add(start);
      this.logger?.warn(
        { err: error, buckets: rows.length },
        'could not publish monitoring sketches; will retry',
      );
    }
  }

  private seriesOf(version: MonitoredVersion): Series {
    // The server passes the same version object for every request to a model: check the last one first.
    if (version === this.lastVersion && this.lastSeries) return this.lastSeries;
    let series = this.byObject.get(version);
    if (series) {
      this.lastVersion = version;
      this.lastSeries = series;
      return series;
    }
    const key = seriesKey(version);
    series = this.series.get(key);
    if (!series) {
      const ref = { tenant: version.tenant, name: version.name, version: version.version };
      const created: Series = {
        ref,
        buckets: new Map(),
        dirty: new Set(),
        currentStart: -1,
        current: null,
        currentDirty: false,
        profile: this.profiles ? undefined : null,
        profileLoaded: Promise.resolve(),
      };
      series = created;
      this.series.set(key, created);
      if (this.profiles)
        created.profileLoaded = this.profiles(ref).then(
          (profile) => {
            created.profile = profile ? indexProfile(profile) : null;
          },
          (error: unknown) => {
            created.profile = null;
            this.logger?.warn(
              { err: error, model: ref.name, version: ref.version },
              'could not load the reference profile',
            );
          },
        );
    }
    this.byObject.set(version, series);
    this.lastVersion = version;
    this.lastSeries = series;
    return series;
  }

  /** Drops buckets older than the retention (never the current one). */
  private evict(series: Series, now: number): void {
    const oldest = now - this.retentionMs;
    for (const start of series.buckets.keys())
      if (start + this.bucketMs <= oldest) {
        series.buckets.delete(start);
        series.dirty.delete(start);
      }
  }
}
