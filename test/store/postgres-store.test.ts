import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { type OpenStoreOptions, openStore } from '../../src/store/open-store.ts';
import { runServingChecks } from './serving-checks.ts';
import { runStoreChecks } from './store-checks.ts';

const url = process.env.SAPPHIRE_TEST_PG_URL;
delete process.env.SAPPHIRE_STORE;
delete process.env.SAPPHIRE_ARTIFACTS;

if (!url) {
  test(
    'postgres store checks',
    {
      skip: 'set SAPPHIRE_TEST_PG_URL to run them: export SAPPHIRE_TEST_PG_URL=$(bash scripts/start-postgres.sh)',
    },
    () => undefined,
  );
} else {
  // Each store gets its own PostgreSQL schema (selected through search_path) and project folder.
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  const schemas: string[] = [];
  const dirs: string[] = [];
  let counter = 0;

  const freshLocation = async (): Promise<OpenStoreOptions> => {
    const schema = `sapphire_test_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
    await admin.query(`create schema "${schema}"`);
    schemas.push(schema);
    const dir = await mkdtemp(join(tmpdir(), 'sapphire-pg-store-'));
    dirs.push(dir);
    const separator = url.includes('?') ? '&' : '?';
    return {
      uri: `${url}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      projectDir: dir,
    };
  };

  after(async () => {
    for (const schema of schemas) await admin.query(`drop schema if exists "${schema}" cascade`);
    await admin.end();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  runStoreChecks('postgres', async () => openStore(await freshLocation()), { emptyDatabase: freshLocation });
  runServingChecks('postgres', async () => openStore(await freshLocation()));

  test('postgres: the location hides the password and the tables live in the chosen schema', async () => {
    const location = await freshLocation();
    const withPassword = location.uri!.replace('postgres://postgres@', 'postgres://postgres:secret@');
    const store = await openStore({ ...location, uri: withPassword });
    try {
      assert.ok(!store.location.includes('secret'), store.location);
      assert.equal(store.dialect, 'postgres');
      const schema = schemas[schemas.length - 1]!;
      const { rows } = await admin.query(
        `select table_name from information_schema.tables where table_schema = $1 order by table_name`,
        [schema],
      );
      assert.deepEqual(
        rows.map((r) => r.table_name),
        [
          'api_keys',
          'dataset_versions',
          'feedback',
          'live_sketches',
          'model_aliases',
          'model_versions',
          'overrides',
          'prediction_log',
          'promotions',
          'registered_models',
          'run_artifacts',
          'run_metrics',
          'runs',
          'sapphire_schema',
          'settings',
          'tenants',
          'usage_daily',
        ],
      );
    } finally {
      await store.close();
    }
  });

  test('postgres: an unreachable server is a clear error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sapphire-pg-store-'));
    dirs.push(dir);
    await assert.rejects(
      openStore({ uri: 'postgres://postgres@127.0.0.1:1/nothing', projectDir: dir }),
      (err: Error) => {
        assert.match(
          err.message,
          /cannot connect to PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/nothing/,
        );
        return true;
      },
    );
  });
}
