import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import type { SqlDialectName } from '../../src/store/database.ts';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/migrations.ts';

const GOLDEN_DIR = join(import.meta.dirname, 'golden');

/** The SQL every migration runs on a dialect, compiled without a database. */
async function migrationSql(dialect: SqlDialectName): Promise<string> {
  const statements: string[] = [];
  // biome-ignore lint/suspicious/noExplicitAny: migrations take an untyped Kysely.
  const db = new Kysely<any>({
    dialect: {
      createAdapter: () => (dialect === 'postgres' ? new PostgresAdapter() : new SqliteAdapter()),
      createDriver: () => new DummyDriver(),
      createIntrospector: (k) =>
        dialect === 'postgres' ? new PostgresIntrospector(k) : new SqliteIntrospector(k),
      createQueryCompiler: () =>
        dialect === 'postgres' ? new PostgresQueryCompiler() : new SqliteQueryCompiler(),
    },
    log: (event) => {
      statements.push(`${event.query.sql};`);
    },
  });
  let text = '';
  for (const migration of MIGRATIONS) {
    statements.length = 0;
    await migration.up(db, dialect);
    text += `-- ${migration.version}: ${migration.name}\n${statements.join('\n')}\n\n`;
  }
  await db.destroy();
  return text;
}

test('migrations are numbered 1..SCHEMA_VERSION without gaps', () => {
  assert.deepEqual(
    MIGRATIONS.map((m) => m.version),
    Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
  );
});

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`the ${dialect} schema matches its golden file (shipped migrations never change; add a new one)`, async () => {
    const path = join(GOLDEN_DIR, `schema.${dialect}.sql`);
    const actual = await migrationSql(dialect);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, actual);
    assert.ok(existsSync(path), `missing ${path}: run with UPDATE_GOLDEN=1 to create it`);
    assert.equal(
      actual,
      readFileSync(path, 'utf8'),
      `run with UPDATE_GOLDEN=1 to accept a deliberate change to ${path}`,
    );
  });
}
