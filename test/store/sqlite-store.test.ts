import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { SapphireError } from '../../src/core/errors.ts';
import { openStore } from '../../src/store/open-store.ts';
import { runServingChecks } from './serving-checks.ts';
import { runStoreChecks, sampleExamples } from './store-checks.ts';

// The tests choose their own locations; the caller's environment must not redirect them.
delete process.env.SAPPHIRE_STORE;
delete process.env.SAPPHIRE_ARTIFACTS;

const dirs: string[] = [];
async function tempProject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sapphire-store-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

runStoreChecks('sqlite', async () => openStore({ projectDir: await tempProject() }), {
  emptyDatabase: async () => ({ projectDir: await tempProject() }),
});
runServingChecks('sqlite', async () => openStore({ projectDir: await tempProject() }));

const operation = { kind: 'import', params: {} };

async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  pattern?: RegExp,
): Promise<SapphireError> {
  const err = await promise.then(
    () => assert.fail(`expected an error with code ${code}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SapphireError, String(err));
  assert.equal(err.code, code, err.message);
  if (pattern) assert.match(err.message, pattern);
  return err;
}

test('sqlite: a failed blob write leaves no version', async () => {
  const dir = await tempProject();
  const blocked = join(dir, 'artifacts-is-a-file');
  await writeFile(blocked, 'not a folder');
  const store = await openStore({ projectDir: dir, artifactsDir: blocked });
  try {
    const err = await rejectsWith(
      store.putDatasetVersion({ name: 'd', examples: sampleExamples(), operation }),
      'STORE_ERROR',
      /cannot write artifact/,
    );
    assert.match(err.hint ?? '', /writable/);
    assert.deepEqual(await store.listDatasetVersions(), []);
  } finally {
    await store.close();
  }
});

test('sqlite: a failed row insert after the blob is written leaves no version', async () => {
  const dir = await tempProject();
  const store = await openStore({ projectDir: dir });
  const db = new BetterSqlite3(join(dir, '.sapphire', 'sapphire.db'));
  try {
    db.exec(
      `create trigger fail_insert before insert on dataset_versions begin select raise(abort, 'simulated crash'); end`,
    );
    const err = await rejectsWith(
      store.putDatasetVersion({ name: 'd', examples: sampleExamples(), operation }),
      'STORE_ERROR',
      /simulated crash/,
    );
    assert.match(err.hint ?? '', /nothing was recorded/);
    assert.deepEqual(await store.listDatasetVersions(), []);
    // The blob may stay behind (documented); a retry reuses it.
    const artifacts = join(dir, '.sapphire', 'artifacts');
    const orphans = (await readdir(artifacts, { recursive: true })).filter((f) => /[0-9a-f]{64}$/.test(f));
    assert.equal(orphans.length, 1);
    db.exec('drop trigger fail_insert');
    const { version, created } = await store.putDatasetVersion({
      name: 'd',
      examples: sampleExamples(),
      operation,
    });
    assert.equal(created, true);
    assert.ok(orphans[0]!.endsWith(version.blob));
    assert.deepEqual(await store.loadExamples(version.id), sampleExamples());
  } finally {
    db.close();
    await store.close();
  }
});

test('sqlite: a corrupted or missing blob is reported, not returned', async () => {
  const dir = await tempProject();
  const store = await openStore({ projectDir: dir });
  try {
    const { version } = await store.putDatasetVersion({ name: 'd', examples: sampleExamples(), operation });
    const path = join(dir, '.sapphire', 'artifacts', version.blob.slice(0, 2), version.blob);
    await writeFile(path, 'garbage');
    const corrupted = await rejectsWith(store.loadExamples('d'), 'STORE_ERROR', /corrupted/);
    assert.equal(corrupted.details.file, path);
    assert.match(corrupted.hint ?? '', /backup/);
    await rm(path);
    await rejectsWith(store.loadExamples('d'), 'NOT_FOUND', /missing/);
  } finally {
    await store.close();
  }
});

test('sqlite: the default store lives in <project>/.sapphire', async () => {
  const dir = await tempProject();
  const store = await openStore({ projectDir: dir });
  try {
    assert.equal(store.location, join(dir, '.sapphire', 'sapphire.db'));
    assert.equal(store.artifacts.root, join(dir, '.sapphire', 'artifacts'));
    assert.equal(await store.getSetting('artifacts_root'), '.sapphire/artifacts');
    await store.putArtifact(new Uint8Array([1, 2, 3]));
  } finally {
    await store.close();
  }
  assert.ok(existsSync(join(dir, '.sapphire', 'sapphire.db')));
});

test('sqlite: a file that is not a database is a clear error', async () => {
  const dir = await tempProject();
  const path = join(dir, 'not-a.db');
  await writeFile(path, 'hello, I am text and not SQLite at all '.repeat(20));
  const err = await rejectsWith(
    openStore({ projectDir: dir, uri: `sqlite:${path}` }),
    'STORE_ERROR',
    /not-a\.db/,
  );
  assert.ok(err.hint);
});
