import { createRng, type Rng } from '../core/rng.ts';
import type { LoggedPrediction, SerializedPrediction, UsageCount } from '../store/serving-store.ts';
import type { Store } from '../store/store.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Rows per store write of a flush (about a millisecond of SQLite work each). */
const WRITE_SLICE_ROWS = 32;

/** Where the request log reports its own failures (a pino/fastify logger fits). */
export interface LogSink {
  warn(obj: unknown, msg?: string): void;
}

/** Settings of a {@link RequestLog}. */
export interface RequestLogOptions {
  store: Store;
  /** Share of requests whose predictions are written to the store, 0..1 (default 1). */
  sample?: number;
  /** Logged predictions older than this many days are purged on start and daily (default 30; 0 keeps all). */
  retentionDays?: number;
  /** Seed of the sampling generator (default: from the clock). */
  seed?: number;
  /** Flush buffered rows this often, in ms (default 250). */
  flushIntervalMs?: number;
  /** Flush as soon as this many rows are buffered (default 500). */
  flushRows?: number;
  /** Items kept in memory for feedback on unsampled requests (default 10,000). */
  recentItems?: number;
  /** Characters of text kept in memory for those items at most (default 20 million). */
  recentChars?: number;
  /** Sampled rows kept at most while the store is failing; older ones are dropped (default 50,000). */
  maxPendingRows?: number;
  logger?: LogSink;
}

/**
 * The server's prediction log: predictions are sampled and written to the store in batches, usage counts
 * (requests, items, overridden, errors per model version and day) are exact whatever the sampling, override
 * hits are summed in memory, and the last items are kept in memory so feedback on an unsampled request still
 * finds its prediction. Nothing here runs a query on the request path.
 *
 * @example
 * const log = new RequestLog({ store, sample: 0.1 });
 * log.record([{ requestId, item: 0, tenant: 'default', model: 'intents', version: 3, text, output, overridden: false,
 *   latencyMs: 1.2, createdAt: new Date().toISOString() }]);
 * await log.close(); // flushes everything
 */
export class RequestLog {
  private readonly store: Store;
  private readonly sample: number;
  private readonly retentionDays: number;
  private readonly rng: Rng;
  private readonly flushRows: number;
  private readonly recentItems: number;
  private readonly recentChars: number;
  private readonly maxPendingRows: number;
  private readonly logger: LogSink | undefined;
  private pending: SerializedPrediction[] = [];
  private usage = new Map<string, UsageCount>();
  private hits = new Map<string, number>();
  private readonly recentMap = new Map<string, SerializedPrediction>();
  private recentCharCount = 0;
  private flushing: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private closed = false;
  private readonly flushTimer: NodeJS.Timeout;
  private readonly purgeTimer: NodeJS.Timeout | null;
  private purging: Promise<void> = Promise.resolve();

  constructor(options: RequestLogOptions) {
    this.store = options.store;
    this.sample = Math.min(1, Math.max(0, options.sample ?? 1));
    this.retentionDays = options.retentionDays ?? 30;
    this.rng = createRng(options.seed ?? Date.now());
    this.flushRows = options.flushRows ?? 500;
    this.recentItems = options.recentItems ?? 10_000;
    this.recentChars = options.recentChars ?? 20_000_000;
    this.maxPendingRows = options.maxPendingRows ?? 50_000;
    this.logger = options.logger;
    this.flushTimer = setInterval(() => this.scheduleFlush(), options.flushIntervalMs ?? 250);
    this.flushTimer.unref();
    if (this.retentionDays > 0) {
      this.purging = this.purge();
      this.purgeTimer = setInterval(() => {
        this.purging = this.purge();
      }, DAY_MS);
      this.purgeTimer.unref();
    } else this.purgeTimer = null;
  }

  /**
   * Records the items of one request: counted in the usage exactly, kept in the recent-items cache, and
   * (when the request is sampled) buffered for the store. All items of a request are sampled together.
   */
  record(entries: readonly LoggedPrediction[]): void {
    const first = entries[0];
    if (!first) return;
    const usage = this.usageRow(first.tenant, first.model, first.version, first.createdAt);
    usage.requests++;
    usage.items += entries.length;
    // Kept with the output as JSON text: thousands of items stay in memory, and one string each costs the
    // garbage collector far less than each answer's object tree (young-generation pauses grow with what survives).
    const kept = entries.map(serialized);
    for (const entry of kept) {
      if (entry.overridden) usage.overridden++;
      this.remember(entry);
    }
    if (this.sample >= 1 || (this.sample > 0 && this.rng.next() < this.sample)) {
      for (const entry of kept) this.pending.push(entry);
      if (this.pending.length > this.maxPendingRows) {
        this.pending.splice(0, this.pending.length - this.maxPendingRows);
      }
      if (this.pending.length >= this.flushRows) this.scheduleFlush();
    }
  }

  /** Counts a failed request of a model version in the usage (exact, like requests). */
  countError(tenant: string, model: string, version: number): void {
    this.usageRow(tenant, model, version, new Date().toISOString()).errors++;
  }

  /** The prediction of one item of a recent request of this tenant, from memory, or null when forgotten. */
  recent(tenant: string, requestId: string, item: number): LoggedPrediction | null {
    const found = this.recentMap.get(recentKey(tenant, requestId, item));
    if (!found) return null;
    const { outputJson, ...rest } = found;
    return { ...rest, output: JSON.parse(outputJson) as Record<string, unknown> };
  }

  /** Counts one hit of an override rule; written to the store with the next flush. */
  overrideHit(ruleId: string): void {
    this.hits.set(ruleId, (this.hits.get(ruleId) ?? 0) + 1);
  }

  /** Writes everything buffered so far (predictions, usage, override hits) to the store. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeBuffered());
    return this.flushing;
  }

  /** Stops the timers and flushes what is left; later records are still accepted but only flushed on demand. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      clearInterval(this.flushTimer);
      if (this.purgeTimer) clearInterval(this.purgeTimer);
    }
    await this.purging;
    await this.flush();
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    if (this.pending.length === 0 && this.usage.size === 0 && this.hits.size === 0) return;
    this.flushQueued = true;
    void this.flush().finally(() => {
      this.flushQueued = false;
    });
  }

  private async writeBuffered(): Promise<void> {
    const rows = this.pending;
    const usage = this.usage;
    const hits = this.hits;
    this.pending = [];
    this.usage = new Map();
    this.hits = new Map();
    for (let from = 0; from < rows.length; from += WRITE_SLICE_ROWS) {
      try {
        // Slices with a turn of the event loop between them: an SQLite write blocks the thread, and one
        // transaction of a whole flush (hundreds of rows under load) would stall every request behind it.
        if (from > 0) await new Promise((resolve) => setImmediate(resolve));
        await this.store.feedback.logPredictions(rows.slice(from, from + WRITE_SLICE_ROWS));
      } catch (error) {
        // Keep the unwritten rows for the next flush (bounded by maxPendingRows in record()).
        this.pending = rows.slice(from).concat(this.pending).slice(-this.maxPendingRows);
        this.logger?.warn(
          { err: error, rows: rows.length - from },
          'could not write the prediction log; will retry',
        );
        break;
      }
    }
    if (usage.size > 0) {
      try {
        await this.store.feedback.addUsage([...usage.values()]);
      } catch (error) {
        for (const row of usage.values()) this.mergeUsage(row);
        this.logger?.warn({ err: error }, 'could not write usage counts; will retry');
      }
    }
    if (hits.size > 0) {
      try {
        await this.store.overrides.addOverrideHits(hits);
      } catch (error) {
        for (const [id, n] of hits) this.hits.set(id, (this.hits.get(id) ?? 0) + n);
        this.logger?.warn({ err: error }, 'could not write override hit counts; will retry');
      }
    }
  }

  private async purge(): Promise<void> {
    const before = new Date(Date.now() - this.retentionDays * DAY_MS).toISOString();
    try {
      await this.store.feedback.purgePredictions(before);
    } catch (error) {
      this.logger?.warn({ err: error }, 'could not purge old logged predictions');
    }
  }

  private usageRow(tenant: string, model: string, version: number, createdAt: string): UsageCount {
    const day = createdAt.slice(0, 10);
    const key = `${tenant}\u0000${model}\u0000${version}\u0000${day}`;
    let row = this.usage.get(key);
    if (!row) {
      row = { tenant, model, version, day, requests: 0, items: 0, overridden: 0, errors: 0 };
      this.usage.set(key, row);
    }
    return row;
  }

  private mergeUsage(row: UsageCount): void {
    const into = this.usageRow(row.tenant, row.model, row.version, row.day);
    into.requests += row.requests;
    into.items += row.items;
    into.overridden += row.overridden;
    into.errors += row.errors;
  }

  private remember(entry: SerializedPrediction): void {
    const key = recentKey(entry.tenant, entry.requestId, entry.item);
    const old = this.recentMap.get(key);
    if (old) {
      this.recentMap.delete(key);
      this.recentCharCount -= old.text.length;
    }
    this.recentMap.set(key, entry);
    this.recentCharCount += entry.text.length;
    while (this.recentMap.size > this.recentItems || this.recentCharCount > this.recentChars) {
      const oldest = this.recentMap.entries().next().value;
      if (!oldest) break;
      this.recentMap.delete(oldest[0]);
      this.recentCharCount -= oldest[1].text.length;
    }
  }
}

function serialized(entry: LoggedPrediction): SerializedPrediction {
  return {
    requestId: entry.requestId,
    item: entry.item,
    tenant: entry.tenant,
    model: entry.model,
    version: entry.version,
    text: entry.text,
    outputJson: JSON.stringify(entry.output),
    overridden: entry.overridden,
    latencyMs: entry.latencyMs,
    createdAt: entry.createdAt,
  };
}

function recentKey(tenant: string, requestId: string, item: number): string {
  return `${tenant}\u0000${requestId}\u0000${item}`;
}
