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

/** `tenants`: one tenant (the `default` tenant is created by the migration). */
export interface TenantsTable {
  id: string;
  rate_limit_per_minute: number | null;
  created_at: string;
}

/** `api_keys`: a tenant's API key, kept only as its sha256 (hex) and its first characters. */
export interface ApiKeysTable {
  seq: Generated<number>;
  id: string;
  tenant: string;
  hash: string;
  prefix: string;
  scope: string;
  label: string | null;
  created_at: string;
  revoked_at: string | null;
}

/** `registered_models`: a model name of a tenant; `last_version` is the counter registrations bump. */
export interface RegisteredModelsTable {
  tenant: string;
  name: string;
  task: string;
  last_version: number;
  created_at: string;
  updated_at: string;
}

/** `model_versions`: one immutable registered version; `files`, `config`, `metrics`, `dataset_versions` are JSON text. */
export interface ModelVersionsTable {
  tenant: string;
  name: string;
  version: number;
  architecture: string;
  task: string;
  run_id: string | null;
  source: string;
  files: string;
  config: string;
  metrics: string;
  dataset_versions: string;
  description: string | null;
  created_at: string;
  created_by: string;
}

/** `model_aliases`: an alias (`production`, `staging`, …) pointing at a version. */
export interface ModelAliasesTable {
  tenant: string;
  name: string;
  alias: string;
  version: number;
  updated_at: string;
}

/** `promotions`: the promotion log; `forced` is 0/1, `gates` JSON text. */
export interface PromotionsTable {
  seq: Generated<number>;
  id: string;
  tenant: string;
  name: string;
  version: number;
  alias: string;
  previous_version: number | null;
  outcome: string;
  forced: number;
  reason: string | null;
  gates: string;
  actor: string;
  created_at: string;
}

/** `overrides`: override rules; removed rules keep their row (`removed_by`, `removed_at`); `hits` is a bigint. */
export interface OverridesTable {
  seq: Generated<number>;
  id: string;
  tenant: string;
  model: string;
  action: string;
  match_type: string;
  pattern: string;
  flags: string;
  target: string;
  label: string;
  note: string | null;
  created_by: string;
  created_at: string;
  removed_by: string | null;
  removed_at: string | null;
  hits: Generated<number | string>;
}

/** `prediction_log`: sampled served predictions; `output` is JSON text, `overridden` 0/1. */
export interface PredictionLogTable {
  tenant: string;
  request_id: string;
  item: number;
  model: string;
  version: number;
  text: string;
  output: string;
  overridden: number;
  latency_ms: number;
  created_at: string;
}

/** `usage_daily`: exact request counts per tenant, model, version and UTC day (bigints). */
export interface UsageDailyTable {
  tenant: string;
  model: string;
  version: number;
  day: string;
  requests: number | string;
  items: number | string;
  overridden: number | string;
  errors: number | string;
}

/** `feedback`: ratings and corrections on served predictions; `correction` is JSON text. */
export interface FeedbackTable {
  seq: Generated<number>;
  id: string;
  tenant: string;
  request_id: string;
  item: number;
  model: string | null;
  version: number | null;
  rating: string | null;
  correction: string | null;
  comment: string | null;
  text: string | null;
  status: string;
  created_at: string;
}

/** `live_sketches`: each server replica's monitoring sketches per model version and time bucket; `state` is JSON. */
export interface LiveSketchesTable {
  tenant: string;
  model: string;
  version: number;
  /** ISO start of the time bucket. */
  bucket: string;
  replica: string;
  items: number | string;
  state: string;
  updated_at: string;
}

/** The store's tables, for kysely's typed queries. */
export interface StoreTables {
  sapphire_schema: SchemaTable;
  settings: SettingsTable;
  dataset_versions: DatasetVersionsTable;
  runs: RunsTable;
  run_metrics: RunMetricsTable;
  run_artifacts: RunArtifactsTable;
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  registered_models: RegisteredModelsTable;
  model_versions: ModelVersionsTable;
  model_aliases: ModelAliasesTable;
  promotions: PromotionsTable;
  overrides: OverridesTable;
  prediction_log: PredictionLogTable;
  usage_daily: UsageDailyTable;
  feedback: FeedbackTable;
  live_sketches: LiveSketchesTable;
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
  /**
   * SQLite only: the better-sqlite3 handle under `db`, for hot-path batch inserts with cached prepared statements.
   * Use it only inside `db.connection().execute(…)`, which holds kysely's connection lock.
   */
  sqlite?: BetterSqlite3.Database;
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
    sqlite: handle,
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
