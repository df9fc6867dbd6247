import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { failAbandonedRuns, processAlive } from '../../src/store/abandoned-runs.ts';
import { openStore } from '../../src/store/open-store.ts';
import { collectProvenance, gitVersion } from '../../src/store/provenance.ts';

test('runs whose process died on this host are marked failed; others are left alone', async () => {
  const store = await openStore({ projectDir: mkdtempSync(join(tmpdir(), 'sapphire-abandoned-')) });
  try {
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
    assert.equal(processAlive(dead), false);
    assert.equal(processAlive(process.pid), true);
    const killed = await store.createRun({ kind: 'train', provenance: { host: hostname(), pid: dead } });
    const alive = await store.createRun({
      kind: 'train',
      provenance: { host: hostname(), pid: process.pid },
    });
    const elsewhere = await store.createRun({
      kind: 'train',
      provenance: { host: 'another-host', pid: dead },
    });
    // A queue worker's run is owned by its job lease, even when that worker ran on this host and its pid is gone.
    const leased = await store.createRun({
      kind: 'trial',
      provenance: { host: hostname(), pid: dead, lease: { kind: 'bullmq', queue: 'sapphire', job: 'j1' } },
    });
    const failed = await failAbandonedRuns(store);
    assert.deepEqual(
      failed.map((r) => r.id),
      [killed.id],
    );
    const run = await store.getRun(killed.id);
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', new RegExp(`process ${dead} on .* ended without finishing`));
    assert.equal((await store.getRun(alive.id)).status, 'running');
    assert.equal((await store.getRun(elsewhere.id)).status, 'running');
    assert.equal((await store.getRun(leased.id)).status, 'running', 'the queue lease owns it');
    assert.deepEqual(await failAbandonedRuns(store), [], 'a second pass finds nothing new');
  } finally {
    await store.close();
  }
});

test('provenance names the code version, packages and host', () => {
  const here = collectProvenance(process.cwd(), 'sapphire train x.yaml');
  assert.equal(here.pid, process.pid);
  assert.equal(here.host, hostname());
  assert.equal(here.command, 'sapphire train x.yaml');
  assert.equal(here.packages.node, process.versions.node);
  assert.match(here.packages.sapphire ?? '', /^\d+\.\d+\.\d+/);
  assert.deepEqual(gitVersion(mkdtempSync(join(tmpdir(), 'sapphire-nogit-'))), {
    commit: null,
    branch: null,
    dirty: null,
  });
});
