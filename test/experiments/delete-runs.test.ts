import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SapphireError } from '../../src/core/errors.ts';
import { deleteRuns, planRunDeletion } from '../../src/experiments/delete-runs.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Run, Store } from '../../src/store/store.ts';

/** Writes a model folder like `sapphire train` does: a model file and training.json naming the run. */
function writeModelDir(dir: string, runId: string, modelBytes = 'weights'): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), modelBytes);
  writeFileSync(join(dir, 'training.json'), JSON.stringify({ run: runId, dataset: 'shop@aaaaaaaaaaaa' }));
}

describe('deleteRuns', () => {
  let project: string;
  let store: Store;

  beforeEach(async () => {
    project = mkdtempSync(join(tmpdir(), 'sapphire-delete-runs-'));
    store = await openStore({ projectDir: project });
  });

  afterEach(async () => {
    await store.close();
  });

  /** A finished run with one stored artifact of its own content. */
  async function trained(
    config: Record<string, unknown> = {},
    parentId?: string,
    content?: string,
  ): Promise<Run> {
    const run = await store.createRun({
      kind: parentId ? 'trial' : 'train',
      config,
      parentId: parentId ?? null,
    });
    const bytes = new TextEncoder().encode(content ?? `model of ${run.id}`);
    const hash = await store.putArtifact(bytes);
    await store.addRunArtifacts(run.id, [{ name: 'model/model.json', hash, size: bytes.length }]);
    return store.finishRun(run.id, { status: 'finished', metrics: { 'dev.macro_f1': 0.5 } });
  }

  it('deletes the run, frees its blobs and removes its models/<run id> folder', async () => {
    const keep = await trained();
    const gone = await trained();
    writeModelDir(join(project, 'models', gone.id), gone.id, 'x'.repeat(100));
    writeModelDir(join(project, 'models', keep.id), keep.id);
    const result = await deleteRuns(store, project, [gone.id.slice(-6)]);
    assert.deepEqual(result.runs, [gone.id]);
    assert.equal(result.freedArtifacts, 1);
    assert.equal(result.freedBytes, `model of ${gone.id}`.length);
    assert.deepEqual(
      result.modelDirs.map((d) => [d.runId, d.path]),
      [[gone.id, join(project, 'models', gone.id)]],
    );
    assert.ok(result.freedModelBytes > 100);
    assert.equal(result.freedModelBytes, result.modelDirs[0]!.bytes);
    assert.ok(!existsSync(join(project, 'models', gone.id)));
    assert.ok(existsSync(join(project, 'models', keep.id, 'model.json')), 'other runs keep their folder');
    await assert.rejects(
      store.getRun(gone.id),
      (e: unknown) => e instanceof SapphireError && e.code === 'NOT_FOUND',
    );
    assert.equal((await store.getRun(keep.id)).id, keep.id);
  });

  it('removes the config output folder only when its training.json names the deleted run', async () => {
    const a = await trained({ output: 'out/shared' });
    const b = await trained({ output: 'out/shared' });
    writeModelDir(join(project, 'out', 'shared'), b.id); // b overwrote a's folder
    const first = await deleteRuns(store, project, [a.id]);
    assert.deepEqual(first.modelDirs, [], "b's folder is not a's");
    assert.ok(existsSync(join(project, 'out', 'shared', 'model.json')));
    const second = await deleteRuns(store, project, [b.id]);
    assert.deepEqual(
      second.modelDirs.map((d) => d.path),
      [join(project, 'out', 'shared')],
    );
    assert.ok(!existsSync(join(project, 'out', 'shared')));
    assert.ok(existsSync(join(project, 'out')), 'only the model folder itself goes');
  });

  it('never touches folders outside the project, links, the project itself or folders without training.json', async () => {
    const outsideDir = mkdtempSync(join(tmpdir(), 'sapphire-outside-'));
    const outside = await trained({ output: outsideDir });
    writeModelDir(outsideDir, outside.id);
    const escapeName = `${basename(project)}-escape`;
    const escaping = await trained({ output: `../${escapeName}` });
    writeModelDir(join(project, '..', escapeName), escaping.id);
    const root = await trained({ output: '.' });
    writeFileSync(join(project, 'training.json'), JSON.stringify({ run: root.id }));
    const linked = await trained();
    const target = mkdtempSync(join(tmpdir(), 'sapphire-link-target-'));
    writeModelDir(target, linked.id);
    mkdirSync(join(project, 'models'), { recursive: true });
    symlinkSync(target, join(project, 'models', linked.id));
    const bare = await trained();
    mkdirSync(join(project, 'models', bare.id), { recursive: true });
    writeFileSync(join(project, 'models', bare.id, 'notes.txt'), 'mine');
    const broken = await trained();
    mkdirSync(join(project, 'models', broken.id), { recursive: true });
    writeFileSync(join(project, 'models', broken.id, 'training.json'), '{ not json');

    const result = await deleteRuns(store, project, [
      outside.id,
      escaping.id,
      root.id,
      linked.id,
      bare.id,
      broken.id,
    ]);
    assert.equal(result.runs.length, 6);
    assert.deepEqual(result.modelDirs, []);
    assert.ok(existsSync(join(outsideDir, 'model.json')));
    assert.ok(existsSync(join(project, '..', escapeName, 'model.json')));
    assert.ok(existsSync(join(project, 'training.json')));
    assert.ok(existsSync(join(target, 'model.json')));
    assert.ok(existsSync(join(project, 'models', linked.id)));
    assert.ok(existsSync(join(project, 'models', bare.id, 'notes.txt')));
    assert.ok(existsSync(join(project, 'models', broken.id, 'training.json')));
  });

  it('deletes a study with its members and their model folders; naming a member too is harmless', async () => {
    const study = await store.createRun({ kind: 'sweep', name: 'sweep' });
    const t1 = await trained({}, study.id);
    const t2 = await trained({}, study.id);
    await store.finishRun(study.id, { status: 'finished' });
    writeModelDir(join(project, 'models', t1.id), t1.id);
    const other = await trained();

    const plan = await planRunDeletion(store, project, [study.id, t2.id]);
    assert.deepEqual(
      plan.requested.map((r) => r.id),
      [study.id, t2.id],
    );
    assert.deepEqual(new Set(plan.runs.map((r) => r.id)), new Set([study.id, t1.id, t2.id]));
    assert.deepEqual(
      plan.modelDirs.map((d) => d.runId),
      [t1.id],
    );
    assert.equal((await store.listRuns()).length, 4, 'planning changes nothing');
    assert.ok(existsSync(join(project, 'models', t1.id)));

    const result = await deleteRuns(store, project, [study.id, t2.id]);
    assert.deepEqual(new Set(result.runs), new Set([study.id, t1.id, t2.id]));
    assert.equal(result.freedArtifacts, 2);
    assert.ok(!existsSync(join(project, 'models', t1.id)));
    assert.deepEqual(
      (await store.listRuns()).map((r) => r.id),
      [other.id],
    );
  });

  it('keeps blobs another run still uses', async () => {
    const a = await trained({}, undefined, 'same weights');
    const b = await trained({}, undefined, 'same weights');
    const result = await deleteRuns(store, project, [a.id]);
    assert.equal(result.freedArtifacts, 0);
    assert.equal(result.freedBytes, 0);
    const [artifact] = await store.listRunArtifacts(b.id);
    assert.equal(new TextDecoder().decode(await store.getArtifact(artifact!.hash)), 'same weights');
  });

  it('resolves every reference before deleting anything', async () => {
    const a = await trained();
    writeModelDir(join(project, 'models', a.id), a.id);
    await assert.rejects(
      deleteRuns(store, project, [a.id, 'no-such-run']),
      (e: unknown) => e instanceof SapphireError && e.code === 'NOT_FOUND',
    );
    assert.equal((await store.getRun(a.id)).id, a.id);
    assert.ok(existsSync(join(project, 'models', a.id, 'model.json')));
  });
});
