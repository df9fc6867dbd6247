/** Registering versions from runs and folders, resolving references, and materializing versions. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SapphireError } from '../../src/core/errors.ts';
import {
  defaultCacheRoot,
  loadRegisteredModel,
  MATERIALIZED_MARKER,
  materializeVersion,
} from '../../src/registry/materialize.ts';
import { registerModelVersion } from '../../src/registry/register.ts';
import type { ModelVersion } from '../../src/store/serving-store.ts';
import type { Run, Store } from '../../src/store/store.ts';
import { trainModel } from '../../src/train/train.ts';
import { trainConfigSchema } from '../../src/train/train-config.ts';
import { classifyCard, mockModelDir, tempProject } from './helpers.ts';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof SapphireError, `a SapphireError, got ${e}`);
    return e.code;
  }
  assert.fail('expected an error');
}

describe('registerModelVersion', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  let store: Store;
  let trained: Run;
  const base = { tenant: 'default', actor: 'user:test' };

  before(async () => {
    project = await tempProject();
    store = project.store;
    const result = await trainModel({
      store,
      card: classifyCard(),
      config: trainConfigSchema.parse({ model: { architecture: 'majority.v1' }, data: { dataset: 'gold' } }),
      projectDir: project.dir,
      writeModelDir: false,
    });
    trained = result.run;
  });
  after(async () => project.close());

  test('from a run: its model files (without the prefix), config, metrics and dataset versions', async () => {
    const v = await registerModelVersion(store, {
      ...base,
      source: trained.id.slice(-6),
      name: 'shop',
      description: 'first',
      cwd: project.dir,
    });
    assert.equal(v.version, 1);
    assert.equal(v.name, 'shop');
    assert.equal(v.architecture, 'majority.v1');
    assert.equal(v.task, 'classify');
    assert.equal(v.runId, trained.id);
    assert.equal(v.source, `run:${trained.id}`);
    assert.equal(v.description, 'first');
    assert.equal(v.createdBy, 'user:test');
    assert.deepEqual(v.datasetVersions, trained.datasetVersions);
    assert.ok(
      v.files.some((f) => f.name === 'model.json'),
      'model.json is stored without the model/ prefix',
    );
    assert.ok(!v.files.some((f) => f.name.startsWith('model/')), 'no prefix left');
    assert.equal(v.metrics['test.macro_f1'], trained.metrics['test.macro_f1']);
    assert.ok(!('train_seconds' in v.metrics), 'only dev/test metrics are kept');
    assert.deepEqual((v.config.model as { architecture: string }).architecture, 'majority.v1');
  });

  test('from a folder: every file, next version number; references resolve', async () => {
    const dir = await mockModelDir(project.dir, 'good', 60);
    writeFileSync(join(dir, MATERIALIZED_MARKER), 'ignored');
    const v = await registerModelVersion(store, { ...base, source: 'good', name: 'shop', cwd: project.dir });
    assert.equal(v.version, 2);
    assert.equal(v.architecture, 'mock.v1');
    assert.equal(v.runId, null);
    assert.equal(v.source, `dir:${dir}`);
    assert.deepEqual(
      v.files.map((f) => f.name),
      ['model.json'],
    );
    assert.deepEqual(v.metrics, {});
    assert.equal((await store.registry.resolveVersion('default', 'shop@1')).version, 1);
    assert.equal(
      (await store.registry.resolveVersion('default', 'shop')).version,
      2,
      'newest without production',
    );
    await store.registry.setAlias('default', 'shop', 'staging', 1);
    assert.equal((await store.registry.resolveVersion('default', 'shop@staging')).version, 1);
  });

  test('bad names, unknown sources and unfinished runs are refused with codes', async () => {
    assert.equal(
      await codeOf(
        registerModelVersion(store, { ...base, source: 'good', name: 'Bad Name', cwd: project.dir }),
      ),
      'BAD_INPUT',
    );
    assert.equal(
      await codeOf(registerModelVersion(store, { ...base, source: 'nope', name: 'shop', cwd: project.dir })),
      'NOT_FOUND',
    );
    const running = await store.createRun({ kind: 'train' });
    assert.equal(
      await codeOf(
        registerModelVersion(store, { ...base, source: running.id, name: 'shop', cwd: project.dir }),
      ),
      'CONFLICT',
    );
    const noModel = await store.createRun({ kind: 'evaluate' });
    await store.finishRun(noModel.id, { status: 'finished' });
    assert.equal(
      await codeOf(
        registerModelVersion(store, { ...base, source: noModel.id, name: 'shop', cwd: project.dir }),
      ),
      'NOT_FOUND',
    );
    assert.equal((await store.registry.listVersions('default', 'shop')).length, 2, 'nothing half-registered');
  });

  test('materialize: complete folder, reused, stale folder replaced, loads the same model', async () => {
    const root = defaultCacheRoot(project.dir);
    const v2 = await store.registry.resolveVersion('default', 'shop@2');
    const dir = await materializeVersion(store, v2, root);
    assert.equal(dir, join(root, 'default', 'shop', '2'));
    assert.ok(existsSync(join(dir, 'model.json')), 'the files are written');
    assert.ok(existsSync(join(dir, MATERIALIZED_MARKER)), 'the marker is written last');
    const before = statSync(join(dir, 'model.json')).mtimeMs;
    assert.equal(await materializeVersion(store, v2, root), dir);
    assert.equal(statSync(join(dir, 'model.json')).mtimeMs, before, 'a complete folder is reused');
    // A folder of another store's shop@2 (different files) is replaced, not trusted.
    const other: ModelVersion = { ...v2, files: [] };
    await materializeVersion(store, other, root);
    assert.ok(!existsSync(join(dir, 'model.json')), 'the stale folder was replaced');
    await materializeVersion(store, v2, root);
    const leftovers = readdirSync(join(root, 'default', 'shop')).filter((n) => n !== '2');
    assert.deepEqual(leftovers, [], 'no temp or stale folders are left');
    const model = await loadRegisteredModel(store, v2, root);
    assert.deepEqual(model.predict([{ text: 'item 1' }])[0]?.labels, ['B']);
    assert.match(readFileSync(join(dir, MATERIALIZED_MARKER), 'utf8'), /"version":2/);
  });

  test('materialize refuses file names that leave the folder and leaves nothing behind', async () => {
    const v1 = await store.registry.resolveVersion('default', 'shop@1');
    const evil: ModelVersion = { ...v1, version: 99, files: [{ ...v1.files[0]!, name: '../escape.json' }] };
    const root = join(project.dir, 'cache2');
    assert.equal(await codeOf(materializeVersion(store, evil, root)), 'DATA_INVALID');
    assert.deepEqual(readdirSync(join(root, 'default', 'shop')), [], 'no half-written folder');
  });
});
