import { randomBytes } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely, Transaction } from 'kysely';
import { NotFoundError, SapphireError } from '../core/errors.ts';
import type { SqlDialectName, StoreTables } from './database.ts';

/** What the SQL store's parts share: the open database (throws once the store is closed), its dialect and location. */
export interface SqlContext {
  /** The kysely handle; throws a STORE_ERROR when the store is closed. */
  db(): Kysely<StoreTables>;
  readonly dialect: SqlDialectName;
  /** File path or URI without password, for messages. */
  readonly location: string;
  /** SQLite only: the raw handle, for hot-path inserts (see StoreDatabase.sqlite). */
  readonly sqlite?: BetterSqlite3.Database;
}

/** A kysely handle or an open transaction on it. */
export type SqlExecutor = Kysely<StoreTables> | Transaction<StoreTables>;

/** A BAD_INPUT error naming the field and what to do. */
export function badInput(message: string, path: string, hint: string): SapphireError {
  return new SapphireError('BAD_INPUT', message, { path, hint });
}

/** True for `{…}` objects (not arrays, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Checks a `{ key: finite number }` record (metric names non-empty), naming the bad field. */
export function checkMetrics(metrics: unknown, path: string): Record<string, number> {
  if (!isPlainObject(metrics))
    throw badInput(`${path} must be an object of numbers`, path, 'pass e.g. { f1: 0.91 }');
  for (const [key, value] of Object.entries(metrics)) {
    if (key === '') throw badInput(`${path} has an empty metric name`, path, 'name every metric');
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw badInput(
        `${path}.${key} is ${String(value)}; only finite numbers can be logged`,
        `${path}.${key}`,
        'report a diverged run with finishRun({ status: "failed", error }) instead of logging NaN or Infinity',
      );
    }
  }
  return metrics as Record<string, number>;
}

/** Rows per multi-row INSERT for a table with `columns` columns: at most ~4,000 bound parameters. */
export function insertChunk(columns: number): number {
  return Math.max(1, Math.floor(4000 / columns));
}

/**
 * Writes `rows` in one transaction, `write` called on successive slices sized by {@link insertChunk} for
 * rows of `columns` columns (multi-row INSERTs under the bound-parameter limit).
 */
export async function writeInChunks<Row>(
  db: Kysely<StoreTables>,
  rows: readonly Row[],
  columns: number,
  write: (trx: Transaction<StoreTables>, slice: Row[]) => Promise<unknown>,
): Promise<void> {
  const chunk = insertChunk(columns);
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += chunk) await write(trx, rows.slice(i, i + chunk));
  });
}

/**
 * A short random id with a kind prefix, e.g. `ov-3f9a1b2c4d`.
 *
 * @example
 * shortId('fb'); // 'fb-0a1b2c3d4e'
 */
export function shortId(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A non-empty string, else BAD_INPUT naming the field. */
export function checkText(value: unknown, path: string, hint: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw badInput(`${path} must be a non-empty string`, path, hint);
  return value;
}

/** A string or null (undefined → null), else BAD_INPUT naming the field. */
export function optionalText(value: unknown, path: string): string | null {
  if (value == null) return null;
  if (typeof value !== 'string') throw badInput(`${path} must be a string or null`, path, 'pass a string');
  return value;
}

/** One of the allowed values, else BAD_INPUT listing them. */
export function checkChoice<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw badInput(
      `${path} is ${JSON.stringify(value)}; expected ${allowed.map((a) => `"${a}"`).join(' or ')}`,
      path,
      `use one of: ${allowed.join(', ')}`,
    );
  }
  return value as T;
}

/** A whole number ≥ `min`, else BAD_INPUT naming the field. */
export function checkInteger(value: unknown, path: string, min: number, hint: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    throw badInput(`${path} is ${String(value)}; expected a whole number ≥ ${min}`, path, hint);
  return value;
}

/** An ISO-8601 timestamp string, else BAD_INPUT naming the field. */
export function checkTimestamp(value: unknown, path: string): string {
  if (typeof value !== 'string' || !/^\d{4}-\d\d-\d\d/.test(value) || Number.isNaN(Date.parse(value)))
    throw badInput(
      `${path} is ${JSON.stringify(value)}; expected an ISO timestamp`,
      path,
      'pass e.g. new Date().toISOString()',
    );
  return value;
}

/** JSON text of a value whose non-finite numbers (NaN, ±Infinity) are kept as strings instead of becoming null. */
export function lenientJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/** Throws BAD_INPUT unless `id` can name a tenant (lowercase letters, digits, `-`, `_`; at most 40). */
export function checkTenantId(id: unknown, path = 'tenant'): string {
  if (typeof id !== 'string' || !TENANT_ID.test(id)) {
    throw badInput(
      `invalid tenant id ${JSON.stringify(id)}`,
      path,
      'use lowercase letters, digits, "-" or "_" (at most 40 characters, starting with a letter or digit), e.g. acme',
    );
  }
  return id;
}

const MODEL_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** Throws BAD_INPUT unless `name` can name a registered model (lowercase letters, digits, `-`, `_`, `.`; at most 64). */
export function checkModelName(name: unknown, path = 'name'): string {
  if (typeof name !== 'string' || !MODEL_NAME.test(name)) {
    throw badInput(
      `invalid model name ${JSON.stringify(name)}`,
      path,
      'use lowercase letters, digits, "-", "_" or "." (at most 64 characters, starting with a letter or digit), e.g. fashion-ner',
    );
  }
  return name;
}

/** The hint for an unknown tenant: lists the tenants that exist. */
export const TENANTS_HINT =
  'run `sapphire tenants ls` to see the tenants, or `sapphire tenants add <id>` to create one';

/** Throws NotFoundError (naming the existing tenants) unless the tenant exists. */
export async function requireTenant(db: SqlExecutor, tenant: string, location: string): Promise<void> {
  checkTenantId(tenant);
  const row = await db.selectFrom('tenants').select('id').where('id', '=', tenant).executeTakeFirst();
  if (row) return;
  const known = await db.selectFrom('tenants').select('id').orderBy('id').limit(20).execute();
  throw new NotFoundError(
    `no tenant "${tenant}" in ${location} (tenants: ${known.map((t) => t.id).join(', ') || 'none'})`,
    { path: 'tenant', hint: TENANTS_HINT },
  );
}
