import { NotFoundError, SapphireError } from '../core/errors.ts';
import { type Model, predictMany } from '../models/model.ts';
import { loadServedModel } from '../registry/materialize.ts';
import { type AliasPointer, type ModelVersion, PRODUCTION_ALIAS } from '../store/serving-store.ts';
import type { Store } from '../store/store.ts';
import type { ModelProvider, ServedModel, ServeRuntime } from './context.ts';
import type { ServeMetrics } from './metrics.ts';

/** The text every newly loaded model predicts once before it serves (a failing warm-up keeps it out). */
export const WARM_UP_TEXT = 'warm-up';

/** Where the pool reports what it does (a pino/fastify logger fits). */
export interface PoolLogger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

/** Settings of a {@link ModelPool}. */
export interface ModelPoolOptions {
  store: Store;
  /** Folder registered versions are materialized into before loading. */
  cacheRoot: string;
  /** How often the aliases are polled for promotions, in ms (default 1,000). */
  pollIntervalMs?: number;
  metrics?: ServeMetrics;
  logger?: PoolLogger;
  /** Where loaded models score (default native); ignored when `load` is given. */
  runtime?: { kind: ServeRuntime; threads?: number; workers?: number };
  /** Loads a version (default: H2's `loadRegisteredModel` through the cache folder); tests inject slow or failing loaders. */
  load?: (version: ModelVersion) => Promise<Model>;
  /** Work that must finish with each load, run alongside it (the monitor's reference profile). */
  alongside?: (version: ModelVersion) => Promise<unknown>;
}

/** How a request's model reference follows the registry. */
type RefKind =
  /** `name@3`: never moves. */
  | { kind: 'pinned' }
  /** `name@staging`, or `name` while a production alias exists: follows that alias. */
  | { kind: 'alias'; alias: string }
  /** `name` without a production alias: the newest version, re-resolved at every poll. */
  | { kind: 'latest' };

interface RefEntry {
  tenant: string;
  name: string;
  ref: string;
  served: ServedModel;
  follows: RefKind;
}

/** Failed lookups are remembered this long, so a flood of requests for an unknown model does not reach the store. */
const NEGATIVE_TTL_MS = 1000;

const key = (...parts: (string | number)[]): string => parts.join('\u0000');

/**
 * The models a server holds: loads every tenant's `production` model at start (with a warm-up prediction each),
 * loads other references on first use (concurrent first requests share one load), and polls the registry's
 * aliases to pick up promotions: the new version is loaded and warmed up in the background and then swapped in
 * with one assignment, so requests already running keep the old model and none fails. A version that fails to
 * load leaves the old one serving and is logged and counted.
 *
 * @example
 * const pool = new ModelPool({ store, cacheRoot: defaultCacheRoot(projectDir) });
 * await pool.start(); // production models loaded and warmed up
 * const { model, version } = await pool.get('default', 'intents');
 */
export class ModelPool implements ModelProvider {
  private readonly store: Store;
  private readonly pollIntervalMs: number;
  private readonly metrics: ServeMetrics | undefined;
  private readonly logger: PoolLogger | undefined;
  private readonly load: (version: ModelVersion) => Promise<Model>;
  /** Loaded (or loading) versions by tenant, name and version number: one load per version, shared. */
  private readonly versions = new Map<string, Promise<ServedModel>>();
  /** Request references (`tenant`, `name[@x]`) resolved to a loaded model. */
  private readonly refs = new Map<string, RefEntry>();
  /** References being resolved and loaded for the first time. */
  private readonly pendingRefs = new Map<string, Promise<ServedModel>>();
  private readonly misses = new Map<string, { error: unknown; until: number }>();
  /** Versions that failed to load; not retried until their alias moves again. */
  private readonly failed = new Set<string>();
  /** The aliases as last polled: tenant+name+alias → version. */
  private aliases = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private started = false;
  private closed = false;

  constructor(options: ModelPoolOptions) {
    this.store = options.store;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.metrics = options.metrics;
    this.logger = options.logger;
    const cacheRoot = options.cacheRoot;
    const runtime = options.runtime ?? { kind: 'native' };
    const load =
      options.load ??
      ((version: ModelVersion) =>
        loadServedModel(this.store, version, cacheRoot, runtime, (msg) =>
          this.logger?.warn({ model: `${version.tenant}/${version.name}@${version.version}` }, msg),
        ));
    const alongside = options.alongside;
    this.load = alongside
      ? async (version) => (await Promise.all([load(version), alongside(version)]))[0]
      : load;
  }

  /**
   * Loads and warms up every tenant's production model, then starts polling for promotions. Rejects with
   * UNAVAILABLE naming each model that failed (the pool keeps serving the others and keeps polling).
   */
  async start(): Promise<void> {
    const pointers = await this.store.registry.listAliases();
    this.aliases = aliasMap(pointers);
    const production = pointers.filter((p) => p.alias === PRODUCTION_ALIAS);
    const outcomes = await Promise.allSettled(production.map((p) => this.preload(p)));
    this.started = true;
    this.schedulePoll();
    const failures = outcomes.flatMap((o, i) =>
      o.status === 'rejected' ? [{ pointer: production[i]!, error: o.reason as unknown }] : [],
    );
    for (const f of failures) this.failed.add(key(f.pointer.tenant, f.pointer.name, f.pointer.version));
    if (failures.length > 0) {
      const list = failures
        .map((f) => `${f.pointer.tenant}/${f.pointer.name}@${f.pointer.version}: ${messageOf(f.error)}`)
        .join('; ');
      throw new SapphireError(
        'UNAVAILABLE',
        `could not load ${failures.length} production model(s): ${list}`,
        {
          hint: 'fix or re-register the model and promote a working version; the server picks it up without a restart',
          failed: failures.map((f) => ({
            tenant: f.pointer.tenant,
            name: f.pointer.name,
            version: f.pointer.version,
          })),
        },
      );
    }
  }

  /** True once started and every tenant's production model (as last polled) is loaded and warmed up. */
  isReady(): boolean {
    if (!this.started || this.closed) return false;
    for (const [k] of this.aliases) {
      const [tenant, name, alias] = k.split('\u0000') as [string, string, string];
      if (alias === PRODUCTION_ALIAS && !this.refs.has(key(tenant, `${name}@${PRODUCTION_ALIAS}`)))
        return false;
    }
    return true;
  }

  /** The model a request names (see {@link ModelProvider.get}). */
  get(tenant: string, ref: string): Promise<ServedModel> {
    const entry = this.refs.get(key(tenant, ref));
    if (entry) return Promise.resolve(entry.served);
    return this.resolveFirst(tenant, ref);
  }

  /** The model a request names when it is already loaded (no promise, for the hot path), else undefined. */
  peek(tenant: string, ref: string): ServedModel | undefined {
    return this.refs.get(key(tenant, ref))?.served;
  }

  /** Every distinct model version currently served. */
  loaded(): ServedModel[] {
    const seen = new Map<string, ServedModel>();
    for (const entry of this.refs.values()) {
      const v = entry.served.version;
      seen.set(key(v.tenant, v.name, v.version), entry.served);
    }
    return [...seen.values()];
  }

  /** Checks the aliases now (the timer does this every poll interval) and swaps models whose alias moved. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  /** Stops polling; waits for a poll in progress. Loaded models stay usable by requests still running. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.polling;
  }

  private schedulePoll(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.poll()
        .catch((error: unknown) => this.logger?.warn({ err: error }, 'alias poll failed; will retry'))
        .finally(() => this.schedulePoll());
    }, this.pollIntervalMs);
    this.timer.unref();
  }

  private async preload(pointer: AliasPointer): Promise<ServedModel> {
    const version = await this.store.registry.resolveVersion(
      pointer.tenant,
      `${pointer.name}@${pointer.version}`,
    );
    const served = await this.loadVersion(version);
    const follows: RefKind = { kind: 'alias', alias: PRODUCTION_ALIAS };
    this.setRef(pointer.tenant, pointer.name, `${pointer.name}@${PRODUCTION_ALIAS}`, served, follows);
    this.setRef(pointer.tenant, pointer.name, pointer.name, served, follows);
    return served;
  }

  private resolveFirst(tenant: string, ref: string): Promise<ServedModel> {
    const k = key(tenant, ref);
    const miss = this.misses.get(k);
    if (miss && miss.until > Date.now()) return Promise.reject(miss.error);
    let pending = this.pendingRefs.get(k);
    if (!pending) {
      pending = this.resolveAndLoad(tenant, ref).finally(() => this.pendingRefs.delete(k));
      this.pendingRefs.set(k, pending);
    }
    return pending;
  }

  private async resolveAndLoad(tenant: string, ref: string): Promise<ServedModel> {
    const k = key(tenant, ref);
    let version: ModelVersion;
    try {
      version = await this.store.registry.resolveVersion(tenant, ref);
    } catch (error) {
      if (error instanceof NotFoundError || (error instanceof SapphireError && error.code === 'BAD_INPUT')) {
        this.misses.set(k, { error, until: Date.now() + NEGATIVE_TTL_MS });
        if (this.misses.size > 10_000) this.misses.clear();
      }
      throw error;
    }
    const served = await this.loadVersion(version);
    const follows = this.followsOf(tenant, version.name, ref);
    this.setRef(tenant, version.name, ref, served, follows);
    // An alias that moved while this version loaded: follow it now rather than at its next move.
    const wanted = this.targetOf(tenant, version.name, follows);
    if (wanted !== undefined && wanted !== version.version)
      void this.swapTo(tenant, version.name, wanted, [ref]);
    return served;
  }

  /** How a reference follows the registry, given the aliases as last polled. */
  private followsOf(tenant: string, name: string, ref: string): RefKind {
    const at = ref.indexOf('@');
    if (at >= 0) {
      const selector = ref.slice(at + 1);
      return /^\d+$/.test(selector) ? { kind: 'pinned' } : { kind: 'alias', alias: selector };
    }
    return this.aliases.has(key(tenant, name, PRODUCTION_ALIAS))
      ? { kind: 'alias', alias: PRODUCTION_ALIAS }
      : { kind: 'latest' };
  }

  /** The version an alias-following reference should serve now (undefined: pinned, latest or alias gone). */
  private targetOf(tenant: string, name: string, follows: RefKind): number | undefined {
    return follows.kind === 'alias' ? this.aliases.get(key(tenant, name, follows.alias)) : undefined;
  }

  private setRef(tenant: string, name: string, ref: string, served: ServedModel, follows: RefKind): void {
    this.refs.set(key(tenant, ref), { tenant, name, ref, served, follows });
    this.metrics?.modelsLoaded(this.loaded().length);
  }

  /** Loads and warms up one version, once: concurrent callers share the promise; a failure is forgotten. */
  private loadVersion(version: ModelVersion): Promise<ServedModel> {
    const k = key(version.tenant, version.name, version.version);
    let promise = this.versions.get(k);
    if (!promise) {
      promise = this.loadAndWarm(version);
      this.versions.set(k, promise);
      promise.catch(() => {
        if (this.versions.get(k) === promise) this.versions.delete(k);
      });
    }
    return promise;
  }

  private async loadAndWarm(version: ModelVersion): Promise<ServedModel> {
    const label = `${version.tenant}/${version.name}@${version.version}`;
    try {
      const model = await this.load(version);
      await predictMany(model, [{ text: WARM_UP_TEXT }]);
      this.logger?.info({ model: label, architecture: version.architecture }, 'model loaded and warmed up');
      return { version, model, loadedAt: new Date().toISOString() };
    } catch (error) {
      this.metrics?.modelLoadFailed(version.tenant, version.name, version.version);
      this.logger?.error({ err: error, model: label }, 'model failed to load or warm up');
      throw error;
    }
  }

  private async pollOnce(): Promise<void> {
    let pointers: AliasPointer[];
    try {
      pointers = await this.store.registry.listAliases();
    } catch (error) {
      this.logger?.warn({ err: error }, 'could not poll the model aliases; will retry');
      return;
    }
    const next = aliasMap(pointers);
    const moved = !sameMap(next, this.aliases);
    this.aliases = next;
    // A moved alias gives versions that failed before another chance.
    if (moved) this.failed.clear();
    // Every reference that should move, grouped by target version: each version is loaded once per poll.
    const swaps = new Map<string, { tenant: string; name: string; version: number; refs: Set<string> }>();
    const plan = (tenant: string, name: string, version: number, ref: string) => {
      if (this.failed.has(key(tenant, name, version))) return;
      const k = key(tenant, name, version);
      let swap = swaps.get(k);
      if (!swap) {
        swap = { tenant, name, version, refs: new Set() };
        swaps.set(k, swap);
      }
      swap.refs.add(ref);
    };
    // Production models that appeared or moved are loaded even before a request names them (readiness).
    for (const p of pointers) {
      if (p.alias !== PRODUCTION_ALIAS) continue;
      const current = this.refs.get(key(p.tenant, `${p.name}@${PRODUCTION_ALIAS}`));
      if (current?.served.version.version === p.version) continue;
      plan(p.tenant, p.name, p.version, `${p.name}@${PRODUCTION_ALIAS}`);
      plan(p.tenant, p.name, p.version, p.name);
    }
    for (const entry of [...this.refs.values()]) {
      if (entry.follows.kind === 'pinned') continue;
      if (entry.follows.kind === 'alias' && !moved) continue;
      const target = await this.targetNow(entry);
      if (target !== undefined && target !== entry.served.version.version)
        plan(entry.tenant, entry.name, target, entry.ref);
    }
    await Promise.all([...swaps.values()].map((s) => this.swapTo(s.tenant, s.name, s.version, [...s.refs])));
  }

  /**
   * The version a floating reference should serve now: its alias's, else the newest (one query); undefined when
   * it cannot tell (the reference is dropped when its alias was removed).
   */
  private async targetNow(entry: RefEntry): Promise<number | undefined> {
    const { tenant, name, ref } = entry;
    const follows = this.followsOf(tenant, name, ref);
    const target = this.targetOf(tenant, name, follows);
    if (follows.kind === 'alias' && target === undefined) {
      // The alias was removed: forget the reference; the next request resolves it again (and gets a 404).
      this.refs.delete(key(tenant, ref));
      this.metrics?.modelsLoaded(this.loaded().length);
      return undefined;
    }
    entry.follows = follows;
    if (target !== undefined) return target;
    try {
      return (await this.store.registry.resolveVersion(tenant, name)).version;
    } catch (error) {
      this.logger?.warn({ err: error, model: `${tenant}/${name}` }, 'could not resolve the newest version');
      return undefined;
    }
  }

  /** Loads and warms up `name@version` in the background, then points the given references at it. */
  private async swapTo(tenant: string, name: string, version: number, refs: string[]): Promise<void> {
    let served: ServedModel;
    try {
      const found = await this.store.registry.resolveVersion(tenant, `${name}@${version}`);
      served = await this.loadVersion(found);
    } catch (error) {
      this.failed.add(key(tenant, name, version));
      this.logger?.warn(
        { err: error, model: `${tenant}/${name}@${version}` },
        'could not load a promoted version; the current one keeps serving',
      );
      return;
    }
    const swapped: string[] = [];
    for (const ref of refs) {
      const follows = this.followsOf(tenant, name, ref);
      const wanted = this.targetOf(tenant, name, follows);
      // A later promotion won the race: leave the reference to that swap.
      if (follows.kind === 'pinned' || (wanted !== undefined && wanted !== version)) continue;
      if (follows.kind === 'alias' && wanted === undefined) continue;
      // One assignment per reference: requests that already hold the old ServedModel finish with it.
      this.setRef(tenant, name, ref, served, follows);
      swapped.push(ref);
    }
    if (swapped.length > 0)
      this.logger?.info(
        { model: `${tenant}/${name}@${version}`, refs: swapped },
        'now serving a new version',
      );
  }
}

function aliasMap(pointers: readonly AliasPointer[]): Map<string, number> {
  return new Map(pointers.map((p) => [key(p.tenant, p.name, p.alias), p.version]));
}

function sameMap(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
