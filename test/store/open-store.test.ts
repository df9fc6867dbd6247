import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SapphireError } from '../../src/core/errors.ts';
import { parseStoreUri } from '../../src/store/database.ts';
import { openStore, resolveStoreUri } from '../../src/store/open-store.ts';

delete process.env.SAPPHIRE_STORE;
delete process.env.SAPPHIRE_ARTIFACTS;

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempProject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sapphire-open-'));
  dirs.push(dir);
  return dir;
}

test('store URIs: sqlite paths, .db paths, postgres URLs; others are refused', () => {
  assert.deepEqual(parseStoreUri('sqlite:data/x.db', '/p'), {
    dialect: 'sqlite',
    path: '/p/data/x.db',
    location: '/p/data/x.db',
  });
  assert.deepEqual(parseStoreUri('sqlite:///abs/x.sqlite', '/p'), {
    dialect: 'sqlite',
    path: '/abs/x.sqlite',
    location: '/abs/x.sqlite',
  });
  assert.deepEqual(parseStoreUri('runs.db', '/p'), {
    dialect: 'sqlite',
    path: '/p/runs.db',
    location: '/p/runs.db',
  });
  assert.equal(parseStoreUri('sqlite::memory:', '/p').location, 'sqlite::memory:');
  const pg = parseStoreUri('postgresql://me:s3cret@db.local:5432/sapphire?sslmode=disable', '/p');
  assert.equal(pg.dialect, 'postgres');
  assert.ok(!pg.location.includes('s3cret'), pg.location);
  assert.match(pg.location, /^postgresql:\/\/me:\*\*\*@db\.local:5432\/sapphire/);
  for (const bad of ['mysql://x/y', 'notes.txt', 'sqlite:', 'postgres://me:pw@[bad']) {
    assert.throws(
      () => parseStoreUri(bad, '/p'),
      (err: unknown) =>
        err instanceof SapphireError &&
        err.code === 'CONFIG_INVALID' &&
        !err.message.includes(':pw@') &&
        !!err.hint,
      bad,
    );
  }
});

test('the store URI comes from the option, then SAPPHIRE_STORE, then the project folder', () => {
  assert.equal(resolveStoreUri({ projectDir: '/p' }), 'sqlite:/p/.sapphire/sapphire.db');
  process.env.SAPPHIRE_STORE = 'postgres://h/db';
  try {
    assert.equal(resolveStoreUri({ projectDir: '/p' }), 'postgres://h/db');
    assert.equal(resolveStoreUri({ projectDir: '/p', uri: 'sqlite:x.db' }), 'sqlite:x.db');
  } finally {
    delete process.env.SAPPHIRE_STORE;
  }
});

test('the store records the artifact folder it points to', async () => {
  const dir = await tempProject();
  const uri = `sqlite:${join(dir, 'db', 'store.db')}`;
  const first = await openStore({ projectDir: dir, uri, artifactsDir: 'blobs' });
  let hash: string;
  try {
    assert.equal(first.artifacts.root, join(dir, 'blobs'));
    assert.equal(
      await first.getSetting('artifacts_root'),
      'blobs',
      'inside the project: recorded relative to it',
    );
    hash = await first.putArtifact(new TextEncoder().encode('model'));
  } finally {
    await first.close();
  }
  // Reopened without saying where: the recorded folder is used.
  const second = await openStore({ projectDir: dir, uri });
  try {
    assert.equal(second.artifacts.root, join(dir, 'blobs'));
    assert.equal(new TextDecoder().decode(await second.getArtifact(hash)), 'model');
  } finally {
    await second.close();
  }
  // SAPPHIRE_ARTIFACTS overrides the record for this process without rewriting it.
  const elsewhere = join(await tempProject(), 'shared-artifacts');
  process.env.SAPPHIRE_ARTIFACTS = elsewhere;
  try {
    const third = await openStore({ projectDir: dir, uri });
    try {
      assert.equal(third.artifacts.root, elsewhere);
      assert.equal(await third.getSetting('artifacts_root'), 'blobs');
    } finally {
      await third.close();
    }
  } finally {
    delete process.env.SAPPHIRE_ARTIFACTS;
  }
});

test('an artifact folder outside the project is recorded as an absolute path', async () => {
  const dir = await tempProject();
  const outside = join(await tempProject(), 'artifacts');
  const store = await openStore({ projectDir: dir, artifactsDir: outside });
  try {
    assert.equal(await store.getSetting('artifacts_root'), outside);
  } finally {
    await store.close();
  }
});
