import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { type Generated, Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { ConfigError, SapphireError } from '../core/errors.ts';

/** The SQL dialects the store runs on. */
export type SqlDialectName = 'sqlite' | 'postgres';

/** `sapphire_schema`: one row per applied migration. */
export interface SchemaTable {
  version: number;
  name: string;
  applied_at: string;
}

/** `settings`: key/value pairs about the store itself (e.g. `artifacts_root`). */
export interface SettingsTable {
  key: string;
  value: string;
}

/** `dataset_versions`: one immutable version of a named dataset; JSON columns hold text. */
export interface DatasetVersionsTable {
  seq: Generated<number>;
  id: string;
  name: string;
  hash: string;
  parent_id: string | null;
  operation: string;
  example_count: number;
  split_counts: string;
  blob: string;
  created_at: string;
}

/** `runs`: one tracked run; JSON columns hold text, `seed` is a bigint (a string from PostgreSQL). */
export interface RunsTable {
  seq: Generated<number>;
  id: string;
  kind: string;
  name: string | null;
  status: string;
  config: string;
  dataset_versions: string;
  seed: number | string | null;
  metrics: string;
  tags: string;
  error: string | null;
  started_at: string;
  ended_at: string | null;
  parent_id: string | null;
  notes: string | null;
  provenance: string;
}

/** `run_artifacts`: a named, content-addressed file of a run. */
export interface RunArtifactsTable {
  run_id: string;
  name: string;
  hash: string;
  size: number | string;
}

/** `run_metrics`: the value of one metric at one step of a run. */
export interface RunMetricsTable {
  run_id: string;
  key: string;
  step: number;
  value: number;
}

/** The store's tables, for kysely's typed queries. */
export interface StoreTables {
  sapphire_schema: SchemaTable;
  settings: SettingsTable;
  dataset_versions: DatasetVersionsTable;
  runs: RunsTable;
  run_metrics: RunMetricsTable;
  run_artifacts: RunArtifactsTable;
}

/** Where a store's database lives, parsed from its URI. */
export type StoreTarget =
  | { dialect: 'sqlite'; path: string; location: string }
  | { dialect: 'postgres'; url: string; location: string };

/** An open connection (SQLite handle or PostgreSQL pool) with its dialect. */
export interface StoreDatabase {
  db: Kysely<StoreTables>;
  dialect: SqlDialectName;
  /** File path or URI without password. */
  location: string;
}

const URI_FORMS = 'use sqlite:<path>, a path ending in .db, or postgres://user@host:port/database';

/**
 * Parses a store URI: `sqlite:<path>`, a plain path ending in `.db` (relative paths resolve against
 * `projectDir`), `sqlite::memory:`, or `postgres://…` / `postgresql://…`.
 *
 * @example
 * parseStoreUri('sqlite:.sapphire/sapphire.db', '/work/project'); // { dialect: 'sqlite', path: '/work/project/.sapphire/sapphire.db', … }
 */
export function parseStoreUri(uri: string, projectDir: string): StoreTarget {
  const trimmed = uri.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) {
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      throw new ConfigError(`store URI "${maskPassword(trimmed)}" is not a valid URL`, {
        path: 'store',
        hint: URI_FORMS,
      });
    }
    if (url.password) url.password = '***';
    return { dialect: 'postgres', url: trimmed, location: url.toString() };
  }
  let path: string | null = null;
  if (/^sqlite:/i.test(trimmed)) path = trimmed.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  else if (/\.(db|sqlite3?)$/i.test(trimmed) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) path = trimmed;
  if (path === null || path === '') {
    throw new ConfigError(`unsupported store URI "${maskPassword(trimmed)}"`, {
      path: 'store',
      hint: URI_FORMS,
    });
  }
  if (path === ':memory:') return { dialect: 'sqlite', path, location: 'sqlite::memory:' };
  const absolute = isAbsolute(path) ? path : resolve(projectDir, path);
  return { dialect: 'sqlite', path: absolute, location: absolute };
}

function maskPassword(uri: string): string {
  return uri.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Opens the database named by a store URI (without touching its schema); errors say how to fix the URI or server. */
export async function connectDatabase(uri: string, projectDir: string): Promise<StoreDatabase> {
  const target = parseStoreUri(uri, projectDir);
  if (target.dialect === 'sqlite') return connectSqlite(target.path, target.location);
  return connectPostgres(target.url, target.location);
}

function connectSqlite(path: string, location: string): StoreDatabase {
  let handle: BetterSqlite3.Database | undefined;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    handle = new BetterSqlite3(path);
    handle.pragma('busy_timeout = 10000');
    handle.pragma('foreign_keys = ON');
    handle.pragma('synchronous = NORMAL'); // safe with WAL: a crash loses at most the last commits, never consistency
    if (path !== ':memory:') handle.pragma('journal_mode = WAL');
  } catch (err) {
    handle?.close();
    throw new SapphireError(
      'STORE_ERROR',
      `cannot open the SQLite store ${location}: ${(err as Error).message}`,
      {
        file: location,
        hint: 'check that the path is a writable SQLite file (or a new file in a writable folder)',
      },
    );
  }
  return {
    db: new Kysely<StoreTables>({ dialect: new SqliteDialect({ database: handle }) }),
    dialect: 'sqlite',
    location,
  };
}

async function connectPostgres(url: string, location: string): Promise<StoreDatabase> {
  // Loaded on first use: SQLite users never pay for the PostgreSQL driver.
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: 4,
    connectionTimeoutMillis: 15000,
    idleTimeoutMillis: 10000,
  });
  // An idle client losing its server must not crash the process; the next query reports the problem.
  pool.on('error', () => undefined);
  const db = new Kysely<StoreTables>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw new SapphireError(
      'STORE_ERROR',
      `cannot connect to PostgreSQL at ${location}: ${(err as Error).message}`,
      {
        hint: 'check the URI and that the server is running (for tests: export SAPPHIRE_TEST_PG_URL=$(bash scripts/start-postgres.sh))',
      },
    );
  }
  return { db, dialect: 'postgres', location };
}
