import { createHash, randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import { NotFoundError, SapphireError } from '../core/errors.ts';
import type { ApiKeysTable, TenantsTable } from './database.ts';
import type { ApiKeyInfo, ApiKeyScope, Tenant, TenantStore } from './serving-store.ts';
import {
  badInput,
  checkChoice,
  checkTenantId,
  isPlainObject,
  optionalText,
  requireTenant,
  type SqlContext,
  shortId,
} from './sql-common.ts';

const KEYS_HINT = 'run `sapphire tenants keys` to see the keys (id and prefix)';
const SCOPES: readonly ApiKeyScope[] = ['predict', 'admin'];

/** sha256 (hex) of an API key: the only form in which keys are stored. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * The part of a key shown in listings: its first 12 characters, or more for long tenant ids so that
 * at least 4 random characters follow `sk_<tenant>_`.
 */
export function apiKeyPrefix(key: string, tenant: string): string {
  return key.slice(0, Math.max(12, `sk_${tenant}_`.length + 4));
}

function toTenant(row: Selectable<TenantsTable>): Tenant {
  return {
    id: row.id,
    rateLimitPerMinute: row.rate_limit_per_minute == null ? null : Number(row.rate_limit_per_minute),
    createdAt: row.created_at,
  };
}

function toKeyInfo(row: Selectable<ApiKeysTable>): ApiKeyInfo {
  return {
    id: row.id,
    tenant: row.tenant,
    scope: row.scope as ApiKeyScope,
    prefix: row.prefix,
    label: row.label,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

function checkRateLimit(value: unknown): number | null {
  if (value == null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw badInput(
      `rateLimitPerMinute is ${String(value)}; expected a whole number ≥ 1 or null`,
      'rateLimitPerMinute',
      'pass e.g. 600 requests per minute, or null for the server default',
    );
  return value;
}

/** Tenants and their API keys in the SQL store (keys are kept only as sha256 hashes). */
export class SqlTenantStore implements TenantStore {
  constructor(private readonly ctx: SqlContext) {}

  async createTenant(input: { id: string; rateLimitPerMinute?: number | null }): Promise<Tenant> {
    if (!isPlainObject(input)) throw badInput('the tenant must be an object', '', 'pass { id }');
    const id = checkTenantId(input.id, 'id');
    const row = {
      id,
      rate_limit_per_minute: checkRateLimit(input.rateLimitPerMinute),
      created_at: new Date().toISOString(),
    };
    const inserted = await this.ctx
      .db()
      .insertInto('tenants')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) {
      throw new SapphireError('CONFLICT', `tenant "${id}" already exists in ${this.ctx.location}`, {
        path: 'id',
        hint: 'choose another id, or change its rate limit with updateTenant',
      });
    }
    return toTenant(row);
  }

  async listTenants(): Promise<Tenant[]> {
    const rows = await this.ctx.db().selectFrom('tenants').selectAll().orderBy('id').execute();
    return rows.map(toTenant);
  }

  async getTenant(id: string): Promise<Tenant> {
    const db = this.ctx.db();
    await requireTenant(db, checkTenantId(id, 'id'), this.ctx.location);
    return toTenant(
      await db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
    );
  }

  async updateTenant(id: string, patch: { rateLimitPerMinute?: number | null }): Promise<Tenant> {
    if (!isPlainObject(patch))
      throw badInput('the patch must be an object', '', 'pass { rateLimitPerMinute }');
    const tenant = await this.getTenant(id);
    if (patch.rateLimitPerMinute === undefined) return tenant;
    const limit = checkRateLimit(patch.rateLimitPerMinute);
    await this.ctx
      .db()
      .updateTable('tenants')
      .set({ rate_limit_per_minute: limit })
      .where('id', '=', id)
      .execute();
    return { ...tenant, rateLimitPerMinute: limit };
  }

  async createApiKey(input: { tenant: string; scope: ApiKeyScope; label?: string | null }): Promise<{
    key: string;
    info: ApiKeyInfo;
  }> {
    if (!isPlainObject(input))
      throw badInput('the key request must be an object', '', 'pass { tenant, scope: "predict" }');
    const tenant = checkTenantId(input.tenant);
    const scope = checkChoice(input.scope, SCOPES, 'scope');
    const label = optionalText(input.label, 'label');
    const db = this.ctx.db();
    await requireTenant(db, tenant, this.ctx.location);
    const key = `sk_${tenant}_${randomBytes(16).toString('hex')}`;
    const row = {
      id: shortId('key'),
      tenant,
      hash: hashApiKey(key),
      prefix: apiKeyPrefix(key, tenant),
      scope,
      label,
      created_at: new Date().toISOString(),
      revoked_at: null,
    };
    await db.insertInto('api_keys').values(row).execute();
    return { key, info: toKeyInfo({ ...row, seq: 0 }) };
  }

  async listApiKeys(tenant?: string): Promise<ApiKeyInfo[]> {
    let query = this.ctx.db().selectFrom('api_keys').selectAll().orderBy('seq', 'desc');
    if (tenant !== undefined) query = query.where('tenant', '=', checkTenantId(tenant));
    return (await query.execute()).map(toKeyInfo);
  }

  async revokeApiKey(idOrPrefix: string): Promise<ApiKeyInfo> {
    if (typeof idOrPrefix !== 'string' || idOrPrefix.trim() === '')
      throw badInput('name the key to revoke by id or prefix', 'key', KEYS_HINT);
    const wanted = idOrPrefix.trim();
    const db = this.ctx.db();
    // By id, by the whole key, else by the prefix shown in listings (active keys first).
    let rows = await db
      .selectFrom('api_keys')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', wanted), eb('hash', '=', hashApiKey(wanted))]))
      .execute();
    if (rows.length === 0) {
      const byPrefix = await db.selectFrom('api_keys').selectAll().where('prefix', '=', wanted).execute();
      const active = byPrefix.filter((r) => r.revoked_at === null);
      rows = active.length > 0 ? active : byPrefix;
    }
    if (rows.length === 0)
      throw new NotFoundError(`no API key with id or prefix "${wanted}" in ${this.ctx.location}`, {
        path: 'key',
        hint: KEYS_HINT,
      });
    if (rows.length > 1) {
      throw new SapphireError(
        'CONFLICT',
        `prefix "${wanted}" is ambiguous: it matches keys ${rows.map((r) => r.id).join(', ')}`,
        { path: 'key', candidates: rows.map((r) => r.id), hint: 'revoke the key by its id instead' },
      );
    }
    const row = rows[0]!;
    if (row.revoked_at !== null) return toKeyInfo(row); // already revoked: nothing changes
    const revokedAt = new Date().toISOString();
    await db
      .updateTable('api_keys')
      .set({ revoked_at: revokedAt })
      .where('id', '=', row.id)
      .where('revoked_at', 'is', null)
      .execute();
    return toKeyInfo({ ...row, revoked_at: revokedAt });
  }

  async authenticate(key: string): Promise<ApiKeyInfo | null> {
    if (typeof key !== 'string' || key === '') return null;
    const row = await this.ctx
      .db()
      .selectFrom('api_keys')
      .selectAll()
      .where('hash', '=', hashApiKey(key))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row ? toKeyInfo(row) : null;
  }
}
