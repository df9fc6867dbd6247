/** ModelPool: start-up loading with warm-up, shared first loads, and hot swaps when an alias moves. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NotFoundError } from '../../src/core/errors.ts';
import type { Model, ModelInput, Prediction } from '../../src/models/model.ts';
import { ServeMetrics } from '../../src/serve/metrics.ts';
import { ModelPool, WARM_UP_TEXT } from '../../src/serve/model-pool.ts';
import type { ModelVersion } from '../../src/store/serving-store.ts';
import { createTestProject, registerTiny, sleep, type TestProject } from './helpers.ts';

/** A stand-in model answering `v<version>` so tests see which version served a request. */
function fakeModel(version: ModelVersion, seen: string[]): Model {
  return {
    name: 'fake.v1',
    task: 'classify',
    fit: async () => ({ epochs: 0 }),
    predict: (inputs: ModelInput[]): Prediction[] => {
      for (const input of inputs) seen.push(`${version.name}@${version.version}:${input.text}`);
      return inputs.map(() => ({
        labels: [`v${version.version}`],
        scores: [{ label: `v${version.version}`, score: 1 }],
      }));
    },
    explain: () => [],
    config: () => ({}),
    save: async () => {},
  };
}

/** A loader whose loads can be held open and made to fail, counting calls per version. */
function controlledLoader() {
  const calls = new Map<string, number>();
  const seen: string[] = [];
  const failing = new Set<string>();
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => {};
  return {
    calls,
    seen,
    failing,
    hold() {
      gate = new Promise((r) => {
        open = r;
      });
    },
    release() {
      open();
    },
    load: async (version: ModelVersion): Promise<Model> => {
      const k = `${version.tenant}/${version.name}@${version.version}`;
      calls.set(k, (calls.get(k) ?? 0) + 1);
      await gate;
      if (failing.has(k)) throw new Error(`cannot load ${k}`);
      return fakeModel(version, seen);
    },
  };
}

let project: TestProject;

before(async () => {
  project = await createTestProject('classify');
  // default/intents: v1 (production), v2, v3; acme/intents: v1 (production); default/other: v1 (no alias).
  await registerTiny(project, { name: 'intents', alias: 'production' });
  await registerTiny(project, { name: 'intents' });
  await registerTiny(project, { name: 'intents' });
  await registerTiny(project, { name: 'intents', tenant: 'acme', alias: 'production' });
  await registerTiny(project, { name: 'other' });
});

after(async () => {
  await project.cleanup();
});

async function resetAliases() {
  await project.store.registry.setAlias('default', 'intents', 'production', 1);
  const staging = (await project.store.registry.listAliases()).find((a) => a.alias === 'staging');
  if (staging) await project.store.registry.removeAlias('default', 'intents', 'staging');
}

describe('ModelPool', () => {
  test('start loads and warms up every tenant production model; ready only once all are loaded', async () => {
    await resetAliases();
    const loader = controlledLoader();
    loader.hold();
    const pool = new ModelPool({
      store: project.store,
      cacheRoot: '/unused',
      pollIntervalMs: 60_000,
      load: loader.load,
    });
    const started = pool.start();
    await sleep(20);
    assert.equal(pool.isReady(), false, 'not ready while loading');
    loader.release();
    await started;
    assert.equal(pool.isReady(), true);
    assert.deepEqual(
      pool
        .loaded()
        .map((m) => `${m.version.tenant}/${m.version.name}@${m.version.version}`)
        .sort(),
      ['acme/intents@1', 'default/intents@1'],
    );
    assert.ok(loader.seen.includes(`intents@1:${WARM_UP_TEXT}`), 'a warm-up prediction ran');
    const served = await pool.get('acme', 'intents');
    assert.equal(served.version.tenant, 'acme');
    assert.equal((await pool.get('default', 'intents@production')).version.version, 1);
    await pool.close();
    assert.equal(pool.isReady(), false, 'a closed pool is not ready');
  });

  test('work given as `alongside` runs with each load, and a version is served only once it has finished', async () => {
    await resetAliases();
    const loader = controlledLoader();
    const alongside: string[] = [];
    let releaseProfile: () => void = () => {};
    const profileDone = new Promise<void>((resolve) => {
      releaseProfile = resolve;
    });
    const pool = new ModelPool({
      store: project.store,
      cacheRoot: '/unused',
      pollIntervalMs: 60_000,
      load: loader.load,
      alongside: async (version) => {
        alongside.push(`${version.tenant}/${version.name}@${version.version}`);
        await profileDone;
      },
    });
    const started = pool.start();
    await sleep(20);
    assert.equal(pool.isReady(), false, 'not ready while the alongside work runs');
    releaseProfile();
    await started;
    assert.equal(pool.isReady(), true, 'ready once loads and alongside work finished');
    assert.deepEqual(
      alongside.sort(),
      ['acme/intents@1', 'default/intents@1'],
      'alongside ran for each load',
    );
    await pool.close();
  });

  test('concurrent first requests for one model share one load; pinned and newest references resolve', async () => {
    await resetAliases();
    const loader = controlledLoader();
    const pool = new ModelPool({
      store: project.store,
      cacheRoot: '/unused',
      pollIntervalMs: 60_000,
      load: loader.load,
    });
    await pool.start();
    loader.hold();
    const many = Array.from({ length: 20 }, () => pool.get('default', 'intents@3'));
    await sleep(10);
    loader.release();
    const served = await Promise.all(many);
    assert.equal(loader.calls.get('default/intents@3'), 1, 'loaded once');
    assert.ok(
      served.every((s) => s === served[0]),
      'every request got the same object',
    );
    assert.equal((await pool.get('default', 'other')).version.version, 1, 'no production alias: the newest');
    assert.equal(loader.calls.get('default/intents@1'), 1, 'production loaded once at start');
    await pool.close();
  });

  test('unknown models and other tenants models are NotFoundError', async () => {
    const pool = new ModelPool({
      store: project.store,
      cacheRoot: '/unused',
      pollIntervalMs: 60_000,
      load: controlledLoader().load,
    });
    await pool.start();
    await assert.rejects(pool.get('default', 'nope'), NotFoundError);
    await assert.rejects(pool.get('acme', 'other'), NotFoundError);
    await assert.rejects(pool.get('default', 'intents@9'), NotFoundError);
    await pool.close();
  });

  test('a promotion is swapped in while requests run: none fails, later ones answer the new version', async () => {
    await resetAliases();
    const loader = controlledLoader();
    const pool = new ModelPool({
      store: project.store,
      cacheRoot: '/unused',
      pollIntervalMs: 60_000,
      load: loader.load,
    });
    await pool.start();
    const held = await pool.get('default', 'intents');
    loader.hold();
    await project.store.registry.setAlias('default', 'intents', 'production', 2);
    const polled = pool.poll();
    // While v2 loads, requests keep answering v1.
    const during = await Promise.all(
      Array.from(
        { length: 50 },
        async () => (await pool.get('default', 'intents')).model.predict([{ text: 'x' }])[0]!,
      ),
    );
    assert.ok(
      during.every((p) => p.labels![0] === 'v1'),
      'v1 serves while v2 loads',
    );
    loader.release();
    await polled;
    const afterSwap = await pool.get('default', 'intents');
    assert.equal(afterSwap.version.version, 2);
    assert.equal((await pool.get('default', 'intents@production')).version.version, 2);
    assert.equal(
      held.model.predict([{ text: 'y' }])[0]!.labels![0],
      'v1',
      'a request holding v1 finishes with v1',
    );
    assert.ok(loader.seen.includes(`intents@2:${WARM_UP_TEXT}`), 'v2 was warmed up before serving');
    await pool.close();
  });

  test('a version that fails to load keeps the old one serving and is counted', async () => {
    await resetAliases();
    const loader = controlledLoader();
    const metrics = new ServeMetrics({ defaultMetrics: false });
    const pool = new ModelPool({
      store: project.store,
      cacheRoot: '/unused',
      pollIntervalMs: 60_000,
      load: loader.load,
      metrics,
    });
    await pool.start();
    loader.failing.add('default/intents@3');
    await project.store.registry.setAlias('default', 'intents', 'production', 3);
    await pool.poll();
    assert.equal((await pool.get('default', 'intents')).version.version, 1, 'still v1');
    assert.equal(pool.isReady(), true, 'still ready: a production model is loaded');
    await pool.poll();
    assert.equal(loader.calls.get('default/intents@3'), 1, 'a failed version is not retried every poll');
    assert.ok(
      (await metrics.render()).includes(
        'sapphire_model_load_errors_total{tenant="default",model="intents",version="3"} 1',
      ),
    );
    await pool.close();
  });

  test('name@alias follows its alias; a removed alias is forgotten; name@version never moves', async () => {
    await resetAliases();
    const loader = controlledLoader();
    const pool = new ModelPool({
      store: project.store,
      cacheRoot: '/unused',
      pollIntervalMs: 60_000,
      load: loader.load,
    });
    await pool.start();
    await project.store.registry.setAlias('default', 'intents', 'staging', 2);
    await pool.poll();
    assert.equal((await pool.get('default', 'intents@staging')).version.version, 2);
    assert.equal((await pool.get('default', 'intents@2')).version.version, 2);
    await project.store.registry.setAlias('default', 'intents', 'staging', 3);
    await pool.poll();
    assert.equal((await pool.get('default', 'intents@staging')).version.version, 3);
    assert.equal((await pool.get('default', 'intents@2')).version.version, 2, 'pinned');
    await project.store.registry.removeAlias('default', 'intents', 'staging');
    await pool.poll();
    assert.equal(pool.peek('default', 'intents@staging'), undefined);
    await assert.rejects(pool.get('default', 'intents@staging'), NotFoundError);
    await pool.close();
  });

  test('the timer polls by itself', async () => {
    await resetAliases();
    const loader = controlledLoader();
    const pool = new ModelPool({
      store: project.store,
      cacheRoot: '/unused',
      pollIntervalMs: 20,
      load: loader.load,
    });
    await pool.start();
    await project.store.registry.setAlias('default', 'intents', 'production', 2);
    for (let i = 0; i < 200 && (await pool.get('default', 'intents')).version.version !== 2; i++)
      await sleep(10);
    assert.equal((await pool.get('default', 'intents')).version.version, 2);
    await pool.close();
  });
});
