import { hash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SapphireError } from '../core/errors.ts';
import { DEFAULT_TENANT } from '../store/serving-store.ts';
import type { Store } from '../store/store.ts';
import type { Caller, ServeContext } from './context.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller of a `/v1/*` request (null elsewhere); read it through `ctx.caller(request)`. */
    caller: Caller | null;
  }
}

/** How long a key lookup (found or not) is trusted before asking the store again: revocation applies this fast. */
export const AUTH_CACHE_TTL_MS = 5000;

/** Most key lookups kept in memory; the oldest is dropped first. */
export const AUTH_CACHE_MAX_ENTRIES = 10_000;

/** Requests per minute per tenant when neither the tenant nor the server options set a limit. */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 6000;

/** Routes under this prefix need a key and are rate-limited per tenant. */
const PROTECTED_PREFIX = '/v1/';

const KEY_HINT = 'send Authorization: Bearer <key>; create one with `sapphire tenants key <tenant>`';

/** The caller of every request when the server runs without keys (`serve --no-auth`). */
const LOCAL_CALLER: Caller = Object.freeze({ tenant: DEFAULT_TENANT, scope: 'admin', actor: 'local' });

/** A resolved key: who calls and the tenant's rate limit; null for an unknown or revoked key. */
type Resolved = { caller: Caller; rateLimit: number } | null;

interface CacheEntry {
  expiresAt: number;
  /** Set once the lookup finished; until then `pending` is shared by concurrent requests with the same key. */
  resolved?: Resolved;
  pending?: Promise<Resolved>;
}

/**
 * Key lookups by the key's sha256, kept for at most {@link AUTH_CACHE_TTL_MS}, positive and negative alike, and at
 * most `maxEntries` of them; concurrent first requests with one key share a single store lookup.
 */
export class KeyCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(
    private readonly lookup: (key: string) => Promise<Resolved>,
    private readonly ttlMs = AUTH_CACHE_TTL_MS,
    private readonly maxEntries = AUTH_CACHE_MAX_ENTRIES,
  ) {}

  /** The cached answer for `cacheKey` (synchronously when fresh), else a promise of a new lookup of `key`. */
  get(cacheKey: string, key: string): Resolved | Promise<Resolved> {
    const now = Date.now();
    const entry = this.entries.get(cacheKey);
    if (entry && entry.expiresAt > now) {
      return entry.resolved !== undefined ? entry.resolved : entry.pending!;
    }
    if (entry) this.entries.delete(cacheKey);
    else if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const fresh: CacheEntry = { expiresAt: now + this.ttlMs };
    fresh.pending = this.lookup(key).then(
      (resolved) => {
        fresh.resolved = resolved;
        fresh.pending = undefined;
        return resolved;
      },
      (error: unknown) => {
        // A failed lookup (store down) is not an answer: forget it so the next request asks again.
        if (this.entries.get(cacheKey) === fresh) this.entries.delete(cacheKey);
        throw error;
      },
    );
    this.entries.set(cacheKey, fresh);
    return fresh.pending;
  }

  /** Number of cached lookups (for tests). */
  get size(): number {
    return this.entries.size;
  }
}

/** The API key of a request: `Authorization: Bearer <key>`, else `X-API-Key`; null when neither is sent. */
export function apiKeyOf(request: FastifyRequest): string | null {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1]!;
  }
  const header = request.headers['x-api-key'];
  const key = Array.isArray(header) ? header[0] : header;
  return key?.trim() ? key.trim() : null;
}

function unauthorized(message: 'missing API key' | 'unknown or revoked API key'): SapphireError {
  return new SapphireError('UNAUTHORIZED', message, { hint: KEY_HINT });
}

function sha256(text: string): string {
  return hash('sha256', text, 'hex');
}

/** The tenant's own requests-per-minute limit, else the server's default. */
async function tenantRateLimit(store: Store, tenant: string, fallback: number): Promise<number> {
  const found = await store.tenants.getTenant(tenant);
  return found.rateLimitPerMinute ?? fallback;
}

function isProtected(request: FastifyRequest): boolean {
  return (
    request.url.startsWith(PROTECTED_PREFIX) ||
    (request.routeOptions.url?.startsWith(PROTECTED_PREFIX) ?? false)
  );
}

/**
 * Installs API-key authentication and the per-tenant rate limit on `/v1/*`: an `onRequest` hook finds the caller
 * (`Authorization: Bearer <key>` or `X-API-Key`, looked up by sha256 and cached ≤ 5 s so revocation applies fast),
 * answers 401 for a missing, unknown or revoked key, then counts the request against the tenant's
 * requests-per-minute (the tenant's `rateLimitPerMinute`, else `options.rateLimitPerMinute`, default 6,000) with
 * a {@link TenantRateLimiter}, answering 429 with `Retry-After` when over. With `options.auth === false` every request is
 * the default tenant with admin scope (actor `local`). Call it before the routes are registered.
 *
 * @example
 * const app = Fastify();
 * installAuth(app, ctx);
 * await app.register((scope) => registryRoutes(scope, ctx));
 */
export function installAuth(app: FastifyInstance, ctx: ServeContext): void {
  const { store, options } = ctx;
  const defaultLimit = options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE;
  const authOff = options.auth === false;

  app.decorateRequest('caller', null);

  // One cache for both modes: with auth off it holds the default tenant's limit under a fixed entry, so a
  // changed limit applies within the cache's lifetime too.
  const keys = new KeyCache(async (key) => {
    if (authOff) {
      return { caller: LOCAL_CALLER, rateLimit: await tenantRateLimit(store, DEFAULT_TENANT, defaultLimit) };
    }
    const info = await store.tenants.authenticate(key);
    if (!info || info.revokedAt) return null;
    const caller: Caller = Object.freeze({
      tenant: info.tenant,
      scope: info.scope,
      actor: `key:${info.prefix}`,
    });
    return { caller, rateLimit: await tenantRateLimit(store, info.tenant, defaultLimit) };
  });
  function resolve(request: FastifyRequest): Resolved | Promise<Resolved> {
    if (authOff) return keys.get('local', '');
    const key = apiKeyOf(request);
    if (key === null) throw unauthorized('missing API key');
    // The cache holds hashes only; the plain key reaches the store on a miss.
    return keys.get(sha256(key), key);
  }

  const limiter = new TenantRateLimiter();

  // A callback hook, not an async one: with the key cached (nearly every request) it finishes synchronously, without
  // the promise and microtask turns an async hook costs on the serving path.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    if (!isProtected(request)) return done();
    let found: Resolved | Promise<Resolved>;
    try {
      found = resolve(request);
    } catch (error) {
      return done(error as Error);
    }
    if (found instanceof Promise) {
      found
        .then(
          (resolved) => admit(request, reply, resolved) ?? undefined,
          (error: Error) => error,
        )
        .then(done);
    } else done(admit(request, reply, found) ?? undefined);
  });

  /** Sets the caller and counts the request against its tenant's limit; the error to answer with, or null. */
  function admit(request: FastifyRequest, reply: FastifyReply, resolved: Resolved): SapphireError | null {
    if (!resolved) return unauthorized('unknown or revoked API key');
    request.caller = resolved.caller;
    const tenant = resolved.caller.tenant;
    const limit = resolved.rateLimit;
    const retryAfter = limiter.take(tenant, limit, Date.now());
    if (retryAfter === 0) return null;
    reply.header('retry-after', String(retryAfter));
    reply.header('x-ratelimit-limit', String(limit));
    reply.header('x-ratelimit-remaining', '0');
    reply.header('x-ratelimit-reset', String(retryAfter));
    return new SapphireError(
      'TOO_MANY_REQUESTS',
      `tenant "${tenant}" sent more than ${limit} requests in a minute`,
      {
        hint: `retry after ${retryAfter} s (Retry-After), spread requests out or batch texts, or raise the tenant's rateLimitPerMinute`,
        retryAfterSeconds: retryAfter,
        limitPerMinute: limit,
      },
    );
  }
}

/** Length of a rate-limit window: limits are requests per minute. */
const RATE_WINDOW_MS = 60_000;

/**
 * Per-tenant request counts in fixed one-minute windows (the scheme @fastify/rate-limit's default store uses), in
 * memory and synchronous: one map lookup and an increment per request. Each server process counts its own requests.
 *
 * @example
 * const limiter = new TenantRateLimiter();
 * limiter.take('acme', 600, Date.now()); // 0 while under 600 this minute, else seconds until the window resets
 */
export class TenantRateLimiter {
  private readonly windows = new Map<string, { resetAt: number; count: number }>();

  /** Counts one request of `tenant`; 0 when allowed, else the whole seconds until its window resets (≥ 1). */
  take(tenant: string, limitPerMinute: number, now: number): number {
    let window = this.windows.get(tenant);
    if (!window || window.resetAt <= now) {
      if (!window && this.windows.size >= AUTH_CACHE_MAX_ENTRIES) this.makeRoom(now);
      window = { resetAt: now + RATE_WINDOW_MS, count: 0 };
      this.windows.set(tenant, window);
    }
    window.count++;
    return window.count <= limitPerMinute ? 0 : Math.max(1, Math.ceil((window.resetAt - now) / 1000));
  }

  /** Drops ended windows, and the oldest one if none has ended, so the map never passes its bound. */
  private makeRoom(now: number): void {
    for (const [tenant, window] of this.windows) if (window.resetAt <= now) this.windows.delete(tenant);
    if (this.windows.size >= AUTH_CACHE_MAX_ENTRIES) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
  }
}

/**
 * The accessors `buildServer` puts on the ServeContext: `caller(request)` (401 when the auth hook set none) and
 * `requireAdmin(request)` (403 unless the key has admin scope).
 *
 * @example
 * const { caller, requireAdmin } = makeCallerAccessors();
 * const tenant = caller(request).tenant;
 */
export function makeCallerAccessors(): {
  caller(request: FastifyRequest): Caller;
  requireAdmin(request: FastifyRequest): Caller;
} {
  const caller = (request: FastifyRequest): Caller => {
    const found = request.caller;
    if (!found) throw unauthorized('missing API key');
    return found;
  };
  const requireAdmin = (request: FastifyRequest): Caller => {
    const found = caller(request);
    if (found.scope !== 'admin') {
      throw new SapphireError(
        'FORBIDDEN',
        `${request.method} ${request.routeOptions.url ?? request.url} needs an admin key; ${found.actor} has scope "${found.scope}"`,
        { hint: 'use a key made with `sapphire tenants key <tenant> --scope admin`' },
      );
    }
    return found;
  };
  return { caller, requireAdmin };
}
