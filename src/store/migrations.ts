import { type CreateTableBuilder, type Kysely, sql } from 'kysely';
import { SapphireError } from '../core/errors.ts';
import type { SqlDialectName } from './database.ts';

// Migrations receive an untyped Kysely: they describe the schema as it was at their version, not as it is now.
// biome-ignore lint/suspicious/noExplicitAny: see above.
type AnyDb = Kysely<any>;

/** One numbered step of the schema; shipped migrations never change (add a new one instead). */
export interface Migration {
  version: number;
  name: string;
  /** Applies the step inside the migration transaction; written with kysely's schema builder for both dialects. */
  up(db: AnyDb, dialect: SqlDialectName): Promise<void>;
}

/** An auto-incremented `seq` primary key: the insertion order, used for "newest first". */
function withSeq<T extends string>(table: CreateTableBuilder<T, never>, dialect: SqlDialectName) {
  return dialect === 'postgres'
    ? table.addColumn('seq', 'serial', (c) => c.primaryKey())
    : table.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
}

/** Every migration, in order; {@link SCHEMA_VERSION} is the last one's number. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'settings, dataset versions, runs and run metrics',
    async up(db, dialect) {
      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await withSeq(db.schema.createTable('dataset_versions'), dialect)
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('parent_id', 'text', (c) => c.references('dataset_versions.id'))
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('example_count', 'integer', (c) => c.notNull())
        .addColumn('split_counts', 'text', (c) => c.notNull())
        .addColumn('blob', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('dataset_versions_name_hash_unique', ['name', 'hash'])
        .execute();
      await withSeq(db.schema.createTable('runs'), dialect)
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('dataset_versions', 'text', (c) => c.notNull())
        .addColumn('seed', 'bigint')
        .addColumn('metrics', 'text', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('ended_at', 'text')
        .execute();
      await db.schema
        .createTable('run_metrics')
        .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('step', 'integer', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_metrics_pk', ['run_id', 'key', 'step'])
        .execute();
    },
  },
  {
    version: 2,
    name: 'indexes for listing versions and runs',
    async up(db) {
      await db.schema
        .createIndex('dataset_versions_name_seq')
        .on('dataset_versions')
        .columns(['name', 'seq'])
        .execute();
      await db.schema.createIndex('runs_kind_seq').on('runs').columns(['kind', 'seq']).execute();
      await db.schema.createIndex('runs_status_seq').on('runs').columns(['status', 'seq']).execute();
    },
  },
  {
    version: 3,
    name: 'studies, notes, provenance and run artifacts',
    async up(db) {
      await db.schema.alterTable('runs').addColumn('parent_id', 'text').execute();
      await db.schema.alterTable('runs').addColumn('notes', 'text').execute();
      await db.schema
        .alterTable('runs')
        .addColumn('provenance', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema.createIndex('runs_parent_seq').on('runs').columns(['parent_id', 'seq']).execute();
      await db.schema
        .createTable('run_artifacts')
        .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_artifacts_pk', ['run_id', 'name'])
        .execute();
      await db.schema.createIndex('run_artifacts_hash').on('run_artifacts').column('hash').execute();
      await db.schema.createIndex('dataset_versions_blob').on('dataset_versions').column('blob').execute();
    },
  },
  {
    version: 4,
    name: 'model registry, tenants, overrides, prediction log and feedback',
    async up(db, dialect) {
      await db.schema
        .createTable('tenants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('rate_limit_per_minute', 'integer')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db
        .insertInto('tenants')
        .values({ id: 'default', rate_limit_per_minute: null, created_at: new Date().toISOString() })
        .execute();
      await withSeq(db.schema.createTable('api_keys'), dialect)
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('tenant', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('label', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema.createIndex('api_keys_prefix').on('api_keys').column('prefix').execute();
      await db.schema.createIndex('api_keys_tenant_seq').on('api_keys').columns(['tenant', 'seq']).execute();

      // One row per model name: `last_version` is the counter a registration locks and bumps.
      await db.schema
        .createTable('registered_models')
        .addColumn('tenant', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('task', 'text', (c) => c.notNull())
        .addColumn('last_version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('registered_models_pk', ['tenant', 'name'])
        .execute();
      await db.schema
        .createTable('model_versions')
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('architecture', 'text', (c) => c.notNull())
        .addColumn('task', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('files', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('metrics', 'text', (c) => c.notNull())
        .addColumn('dataset_versions', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('model_versions_pk', ['tenant', 'name', 'version'])
        .addForeignKeyConstraint('model_versions_model_fk', ['tenant', 'name'], 'registered_models', [
          'tenant',
          'name',
        ])
        .execute();
      await db.schema
        .createTable('model_aliases')
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('alias', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('model_aliases_pk', ['tenant', 'name', 'alias'])
        .addForeignKeyConstraint(
          'model_aliases_version_fk',
          ['tenant', 'name', 'version'],
          'model_versions',
          ['tenant', 'name', 'version'],
        )
        .execute();
      await withSeq(db.schema.createTable('promotions'), dialect)
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('alias', 'text', (c) => c.notNull())
        .addColumn('previous_version', 'integer')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('forced', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('gates', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('promotions_tenant_name_seq')
        .on('promotions')
        .columns(['tenant', 'name', 'seq'])
        .execute();

      await withSeq(db.schema.createTable('overrides'), dialect)
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('tenant', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('match_type', 'text', (c) => c.notNull())
        .addColumn('pattern', 'text', (c) => c.notNull())
        .addColumn('flags', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('note', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('removed_by', 'text')
        .addColumn('removed_at', 'text')
        .addColumn('hits', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex('overrides_tenant_model_seq')
        .on('overrides')
        .columns(['tenant', 'model', 'seq'])
        .execute();

      await db.schema
        .createTable('prediction_log')
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('item', 'integer', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('output', 'text', (c) => c.notNull())
        .addColumn('overridden', 'integer', (c) => c.notNull())
        .addColumn('latency_ms', 'double precision', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('prediction_log_pk', ['tenant', 'request_id', 'item'])
        .execute();
      await db.schema
        .createIndex('prediction_log_created')
        .on('prediction_log')
        .column('created_at')
        .execute();
      await db.schema
        .createTable('usage_daily')
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('requests', 'bigint', (c) => c.notNull())
        .addColumn('items', 'bigint', (c) => c.notNull())
        .addColumn('overridden', 'bigint', (c) => c.notNull())
        .addColumn('errors', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('usage_daily_pk', ['tenant', 'model', 'version', 'day'])
        .execute();
      await db.schema.createIndex('usage_daily_day').on('usage_daily').column('day').execute();
      await withSeq(db.schema.createTable('feedback'), dialect)
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('item', 'integer', (c) => c.notNull())
        .addColumn('model', 'text')
        .addColumn('version', 'integer')
        .addColumn('rating', 'text')
        .addColumn('correction', 'text')
        .addColumn('comment', 'text')
        .addColumn('text', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('feedback_tenant_model_created')
        .on('feedback')
        .columns(['tenant', 'model', 'created_at'])
        .execute();
      await db.schema
        .createIndex('feedback_tenant_created')
        .on('feedback')
        .columns(['tenant', 'created_at'])
        .execute();
    },
  },
  {
    version: 5,
    name: 'live monitoring sketches per replica and time bucket',
    async up(db) {
      await db.schema
        .createTable('live_sketches')
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('replica', 'text', (c) => c.notNull())
        .addColumn('items', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('live_sketches_pk', ['tenant', 'model', 'version', 'bucket', 'replica'])
        .execute();
      await db.schema.createIndex('live_sketches_bucket').on('live_sketches').column('bucket').execute();
    },
  },
];

/** The schema version this code reads and writes. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]!.version;

const SCHEMA_TABLE = 'sapphire_schema';
/** Arbitrary constant naming the PostgreSQL advisory lock that serialises concurrent migrations. */
const MIGRATION_LOCK_ID = 7_370_221;

async function schemaTableExists(db: AnyDb, dialect: SqlDialectName): Promise<boolean> {
  if (dialect === 'sqlite') {
    const { rows } = await sql<{
      name: string;
    }>`select name from sqlite_master where type = 'table' and name = ${SCHEMA_TABLE}`.execute(db);
    return rows.length > 0;
  }
  const { rows } = await sql<{ t: string | null }>`select to_regclass(${SCHEMA_TABLE})::text as t`.execute(
    db,
  );
  return rows[0]?.t != null;
}

async function recordedVersion(db: AnyDb): Promise<number> {
  const row = await db
    .selectFrom(SCHEMA_TABLE)
    .select((eb) => eb.fn.max('version').as('version'))
    .executeTakeFirst();
  return row?.version == null ? 0 : Number(row.version);
}

/** The schema version recorded in a database: 0 for a database Sapphire has never migrated. */
export async function readSchemaVersion(db: AnyDb, dialect: SqlDialectName): Promise<number> {
  return (await schemaTableExists(db, dialect)) ? recordedVersion(db) : 0;
}

/** The error for a database written by a newer Sapphire. */
export function newerSchemaError(location: string, version: number): SapphireError {
  return new SapphireError(
    'INCOMPATIBLE_VERSION',
    `the store at ${location} has schema version ${version}, newer than this sapphire understands (${SCHEMA_VERSION})`,
    { hint: 'upgrade sapphire (npm install sapphire@latest) or point SAPPHIRE_STORE at another store' },
  );
}

/** Runs `fn` in one transaction that only one migrator (process or connection) can hold at a time. */
async function withMigrationLock<T>(
  db: AnyDb,
  dialect: SqlDialectName,
  fn: (db: AnyDb) => Promise<T>,
): Promise<T> {
  if (dialect === 'postgres') {
    return db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_ID})`.execute(trx);
      return fn(trx);
    });
  }
  // SQLite: BEGIN IMMEDIATE takes the write lock before the version is read.
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      await sql`rollback`.execute(conn);
      throw err;
    }
  });
}

/**
 * Brings a database from its recorded schema version up to `to` (default {@link SCHEMA_VERSION}) in one
 * transaction: either every step is applied or none is.
 *
 * @example
 * const { from, to } = await migrateDatabase(db, 'sqlite');
 */
export async function migrateDatabase(
  db: AnyDb,
  dialect: SqlDialectName,
  options: { to?: number; location?: string } = {},
): Promise<{ from: number; to: number }> {
  const target = options.to ?? SCHEMA_VERSION;
  if (!Number.isInteger(target) || target < 0 || target > SCHEMA_VERSION) {
    throw new SapphireError('BAD_INPUT', `cannot migrate to schema version ${target}`, {
      hint: `choose a version between 0 and ${SCHEMA_VERSION}`,
    });
  }
  return withMigrationLock(db, dialect, async (trx) => {
    await trx.schema
      .createTable(SCHEMA_TABLE)
      .ifNotExists()
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('applied_at', 'text', (c) => c.notNull())
      .execute();
    const from = await recordedVersion(trx);
    if (from > SCHEMA_VERSION) throw newerSchemaError(options.location ?? 'this database', from);
    for (const migration of MIGRATIONS) {
      if (migration.version <= from || migration.version > target) continue;
      await migration.up(trx, dialect);
      await trx
        .insertInto(SCHEMA_TABLE)
        .values({ version: migration.version, name: migration.name, applied_at: new Date().toISOString() })
        .execute();
    }
    return { from, to: Math.max(from, target) };
  });
}

/**
 * Records `version` as applied without changing any table: for tests that simulate a database written
 * by a newer Sapphire, and for recovery tools. Never use it to skip a migration.
 */
export async function recordSchemaVersion(db: AnyDb, version: number): Promise<void> {
  await db
    .insertInto(SCHEMA_TABLE)
    .values({ version, name: 'recorded by hand', applied_at: new Date().toISOString() })
    .execute();
}
