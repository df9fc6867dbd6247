import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteCheckpointer } from '../../src/store/sqlite-checkpointer.ts';

const dir = mkdtempSync(join(tmpdir(), 'sapphire-checkpoint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('checkpoints run on the worker: the writing handle never does one, and stop turns them back on', {
  timeout: 30_000,
}, async () => {
  const path = join(dir, 'wal.db');
  const handle = new BetterSqlite3(path);
  handle.pragma('journal_mode = WAL');
  handle.exec('create table t (x text)');
  const checkpointer = await SqliteCheckpointer.start(handle, path, { intervalMs: 300 });
  assert.ok(checkpointer, 'the worker started');
  assert.equal(handle.pragma('wal_autocheckpoint', { simple: true }), 0, 'automatic checkpoints are off');
  const insert = handle.prepare('insert into t values (?)');
  // 6 MB in one commit: past the 1,000 pages (4 MB) at which an automatic checkpoint would run inside it.
  handle.transaction(() => {
    for (let i = 0; i < 6000; i++) insert.run('x'.repeat(1000));
  })();
  assert.ok(statSync(`${path}-wal`).size > 6_000_000, 'the commit went to the WAL');
  assert.ok(statSync(path).size < 1_000_000, 'and was not checkpointed into the database file by the commit');
  for (let i = 0; i < 1000 && statSync(path).size < 6_000_000; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.ok(statSync(path).size >= 6_000_000, 'the worker copied the WAL into the database file');
  await checkpointer.stop();
  assert.equal(handle.pragma('wal_autocheckpoint', { simple: true }), 1000, 'back to the default');
  assert.equal((handle.prepare('select count(*) as n from t').get() as { n: number }).n, 6000);
  handle.close();
});

test('a database the worker cannot open keeps its automatic checkpoints', { timeout: 30_000 }, async () => {
  const handle = new BetterSqlite3(join(dir, 'other.db'));
  const checkpointer = await SqliteCheckpointer.start(handle, join(dir, 'missing', 'nope.db'));
  assert.equal(checkpointer, null);
  assert.equal(handle.pragma('wal_autocheckpoint', { simple: true }), 1000);
  handle.close();
});

test('under steady writes the WAL stays bounded: past restartPages the worker restarts it', {
  timeout: 30_000,
}, async () => {
  const path = join(dir, 'steady.db');
  const handle = new BetterSqlite3(path);
  handle.pragma('journal_mode = WAL');
  handle.exec('create table t (x text)');
  const checkpointer = await SqliteCheckpointer.start(handle, path, { intervalMs: 10, restartPages: 250 });
  assert.ok(checkpointer);
  const insert = handle.prepare('insert into t values (?)');
  const commit = handle.transaction(() => {
    for (let i = 0; i < 32; i++) insert.run('y'.repeat(1000));
  });
  let written = 0;
  let largestWal = 0;
  // ~16 MB/s of rows for 2 s (32 rows of 1 kB every 2 ms): a heavily loaded server's request log, many times over.
  const until = Date.now() + 2000;
  while (Date.now() < until) {
    commit();
    written += 32_000;
    largestWal = Math.max(largestWal, statSync(`${path}-wal`).size);
    await new Promise((r) => setTimeout(r, 2));
  }
  await checkpointer.stop();
  handle.close();
  assert.ok(written > 5 * largestWal, `wrote ${written} bytes; the WAL peaked at ${largestWal}`);
});
