import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Kysely } from 'kysely';
import { SapphireError } from '../core/errors.ts';
import { ArtifactFolder, type ArtifactStore, isS3Uri } from './artifacts.ts';
import { connectDatabase, type StoreDatabase, type StoreTables } from './database.ts';
import { migrateDatabase, newerSchemaError, readSchemaVersion, SCHEMA_VERSION } from './migrations.ts';
import { SqlStore } from './sql-store.ts';

export { SCHEMA_VERSION } from './migrations.ts';

/** Options for {@link openStore} and {@link migrateStore}. */
export interface OpenStoreOptions {
  /**
   * `sqlite:<path>`, a path ending in `.db`, or `postgres://…`; default: `SAPPHIRE_STORE`, else
   * `<projectDir>/.sapphire/sapphire.db`. Relative SQLite paths resolve against `projectDir`.
   */
  uri?: string;
  /** The project folder: home of the default database and artifact folder. */
  projectDir: string;
  /** Upgrade a database at an older schema version instead of refusing it. */
  migrate?: boolean;
  /**
   * The artifact folder or `s3://bucket/prefix`; default: `SAPPHIRE_ARTIFACTS`, else the root recorded in the
   * store, else `<projectDir>/.sapphire/artifacts`. The first root used is recorded in the store's settings.
   * S3 endpoints come from `SAPPHIRE_S3_ENDPOINT` (path-style addressing unless `SAPPHIRE_S3_PATH_STYLE=false`).
   */
  artifactsDir?: string;
}

/** Settings key under which a store records the artifact folder it points to. */
export const ARTIFACTS_ROOT_SETTING = 'artifacts_root';

/** The store URI that options resolve to: explicit `uri`, else `SAPPHIRE_STORE`, else the project's SQLite file. */
export function resolveStoreUri(options: { uri?: string; projectDir: string }): string {
  const uri = options.uri ?? process.env.SAPPHIRE_STORE;
  if (uri !== undefined && uri.trim() !== '') return uri;
  return `sqlite:${join(resolve(options.projectDir), '.sapphire', 'sapphire.db')}`;
}

/** Stores a folder inside the project relative to it, so a moved project still finds its artifacts. */
function recordablePath(dir: string, projectDir: string): string {
  const rel = relative(projectDir, dir);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : dir;
}

async function resolveArtifactsRoot(db: Kysely<StoreTables>, options: OpenStoreOptions): Promise<string> {
  const projectDir = resolve(options.projectDir);
  const row = await db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', ARTIFACTS_ROOT_SETTING)
    .executeTakeFirst();
  const recorded = row?.value ?? null;
  const explicit = options.artifactsDir ?? (process.env.SAPPHIRE_ARTIFACTS || undefined);
  const chosen = explicit ?? recorded ?? join('.sapphire', 'artifacts');
  const root = isS3Uri(chosen) ? chosen : resolve(projectDir, chosen);
  if (recorded === null) {
    await db
      .insertInto('settings')
      .values({ key: ARTIFACTS_ROOT_SETTING, value: isS3Uri(root) ? root : recordablePath(root, projectDir) })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
  }
  return root;
}

/**
 * Opens the tracking store: connects, creates the schema in a brand-new database, refuses a database at
 * another schema version (an older one is upgraded only with `migrate: true`), and resolves the artifact folder.
 *
 * @example
 * const store = await openStore({ projectDir: '.' }); // .sapphire/sapphire.db + .sapphire/artifacts
 * try { console.log(await store.listDatasetVersions()); } finally { await store.close(); }
 */
export async function openStore(options: OpenStoreOptions): Promise<SqlStore> {
  const database = await connectDatabase(resolveStoreUri(options), options.projectDir);
  try {
    await ensureSchema(database, options.migrate === true);
    return new SqlStore(database, await openArtifacts(await resolveArtifactsRoot(database.db, options)));
  } catch (err) {
    await database.db.destroy().catch(() => undefined);
    throw err;
  }
}

/** The artifact store a root names: a folder, or an S3-compatible bucket for `s3://bucket/prefix` (SDK loaded only then). */
export async function openArtifacts(root: string): Promise<ArtifactStore> {
  if (!isS3Uri(root)) return new ArtifactFolder(root);
  const { S3Artifacts } = await import('./s3-artifacts.ts');
  return new S3Artifacts(root);
}

async function ensureSchema(database: StoreDatabase, migrate: boolean): Promise<void> {
  const { db, dialect, location } = database;
  const version = await readSchemaVersion(db, dialect);
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION) throw newerSchemaError(location, version);
  if (version > 0 && !migrate) {
    throw new SapphireError(
      'STORE_OUTDATED',
      `the store at ${location} has schema version ${version}; this sapphire needs version ${SCHEMA_VERSION}`,
      { hint: 'run `sapphire store migrate` to upgrade it' },
    );
  }
  await runMigrations(database, version);
}

/** Runs the migrations, turning a database failure into an error that says what to do. */
async function runMigrations(
  database: StoreDatabase,
  version: number,
  to?: number,
): Promise<{ from: number; to: number }> {
  const { db, dialect, location } = database;
  try {
    return await migrateDatabase(db, dialect, { location, to });
  } catch (err) {
    if (err instanceof SapphireError) throw err;
    throw new SapphireError(
      'STORE_ERROR',
      `could not ${version === 0 ? 'create' : 'upgrade'} the schema of ${location}: ${(err as Error).message}`,
      {
        hint:
          version === 0
            ? 'point the store at an empty database (or PostgreSQL schema) that no other application uses'
            : 'nothing was changed; fix the cause and run `sapphire store migrate` again',
        cause: err,
      },
    );
  }
}

/**
 * Upgrades a store's schema to {@link SCHEMA_VERSION} (or to `to`), all steps in one transaction, and
 * returns the versions before and after; a database newer than this code is refused.
 *
 * @example
 * const { from, to } = await migrateStore({ projectDir: '.' }); // e.g. { from: 1, to: 2 }
 */
export async function migrateStore(
  options: Omit<OpenStoreOptions, 'migrate'> & { to?: number },
): Promise<{ from: number; to: number }> {
  const database = await connectDatabase(resolveStoreUri(options), options.projectDir);
  try {
    return await runMigrations(database, await readSchemaVersion(database.db, database.dialect), options.to);
  } finally {
    await database.db.destroy();
  }
}
