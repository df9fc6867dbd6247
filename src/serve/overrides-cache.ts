import type { Store } from '../store/store.ts';
import type { PoolLogger } from './model-pool.ts';
import { type CompiledOverrides, compileOverrides } from './overrides-engine.ts';

interface Entry {
  tenant: string;
  model: string;
  revision: number;
  compiled: CompiledOverrides;
}

const key = (tenant: string, model: string): string => `${tenant}\u0000${model}`;

/**
 * Compiled override rules per tenant and model, for the predict route: the first request for a model reads and
 * compiles its rules; afterwards a timer checks each cached model's override revision every poll interval and
 * recompiles only when it changed, so no request waits on the store. `invalidate` refreshes one model at once
 * (the override routes call it after a change, so the API's own changes apply to the next request).
 *
 * @example
 * const cache = new OverridesCache(store, 1000);
 * const compiled = await cache.get('default', 'intents');
 */
export class OverridesCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Entry>>();
  private readonly timer: NodeJS.Timeout;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    pollIntervalMs: number,
    private readonly logger?: PoolLogger,
  ) {
    this.timer = setInterval(() => {
      this.refreshing ??= this.refreshAll().finally(() => {
        this.refreshing = null;
      });
    }, pollIntervalMs);
    this.timer.unref();
  }

  /** The compiled rules of a model: synchronously when cached, else a promise of the first read. */
  get(tenant: string, model: string): CompiledOverrides | Promise<CompiledOverrides> {
    const entry = this.entries.get(key(tenant, model));
    if (entry) return entry.compiled;
    return this.read(tenant, model).then((e) => e.compiled);
  }

  /** Reads a model's rules again now (after the API changed them). */
  async invalidate(tenant: string, model: string): Promise<void> {
    await this.read(tenant, model, true);
  }

  /** Stops the refresh timer. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.refreshing;
  }

  private read(tenant: string, model: string, force = false): Promise<Entry> {
    const k = key(tenant, model);
    let pending = this.pending.get(k);
    if (pending && !force) return pending;
    pending = (async () => {
      const revision = await this.store.overrides.overrideRevision(tenant, model);
      const rules = await this.store.overrides.listOverrides(tenant, { model });
      const entry: Entry = { tenant, model, revision, compiled: compileOverrides(rules) };
      this.entries.set(k, entry);
      return entry;
    })();
    this.pending.set(k, pending);
    const settle = () => {
      if (this.pending.get(k) === pending) this.pending.delete(k);
    };
    pending.then(settle, settle);
    return pending;
  }

  private async refreshAll(): Promise<void> {
    for (const entry of [...this.entries.values()]) {
      try {
        const revision = await this.store.overrides.overrideRevision(entry.tenant, entry.model);
        if (revision !== entry.revision) await this.read(entry.tenant, entry.model, true);
      } catch (error) {
        this.logger?.warn(
          { err: error, model: `${entry.tenant}/${entry.model}` },
          'could not refresh override rules; the cached ones stay in use',
        );
      }
    }
  }
}

const caches = new WeakMap<object, OverridesCache>();

/** Attaches the server's overrides cache to its context (done by `buildServer`). */
export function attachOverridesCache(ctx: object, cache: OverridesCache): void {
  caches.set(ctx, cache);
}

/**
 * The overrides cache of a server's context, for routes that change rules and want the change served at once.
 *
 * @example
 * await overridesCacheOf(ctx)?.invalidate(caller.tenant, name);
 */
export function overridesCacheOf(ctx: object): OverridesCache | undefined {
  return caches.get(ctx);
}
