/** /healthz, /readyz (503 while loading or draining) and a hot swap through HTTP while requests run. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fastify from 'fastify';
import type { ServeContext } from '../../src/serve/context.ts';
import { ServeMetrics } from '../../src/serve/metrics.ts';
import { healthRoutes } from '../../src/serve/routes/health.ts';
import { buildServer } from '../../src/serve/server.ts';
import { createTestProject, INTENTS, registerTiny, sleep, type TestProject } from './helpers.ts';

let project: TestProject;

before(async () => {
  project = await createTestProject('classify');
  await registerTiny(project, { name: 'intents', alias: 'production' });
  // v2 answers top_up for everything: the swap is visible in the answers.
  await registerTiny(project, {
    name: 'intents',
    examples: INTENTS.map((e) => ({ ...e, labels: ['top_up'] })).concat({
      id: 'x',
      text: 'zzz',
      labels: ['exchange_rate'],
      meta: {},
    }),
  });
});

after(async () => {
  await project.cleanup();
});

/** A health app over a stand-in context whose readiness the test controls. */
async function healthApp(state: { ready: boolean; draining: boolean }) {
  const app = fastify({ logger: false });
  const ctx = {
    metrics: new ServeMetrics({ defaultMetrics: false }),
    models: { get: async () => assert.fail('unused'), loaded: () => [], isReady: () => state.ready },
    get draining() {
      return state.draining;
    },
  } as unknown as ServeContext;
  await healthRoutes(app, ctx);
  return app;
}

describe('health routes', () => {
  test('/readyz is 503 loading before warm-up, 200 after, 503 draining; /healthz is always 200', async () => {
    const state = { ready: false, draining: false };
    const app = await healthApp(state);
    const loading = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(loading.statusCode, 503);
    assert.equal(loading.json().status, 'loading');
    assert.deepEqual((await app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' });
    state.ready = true;
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json().status, 'ready');
    state.draining = true;
    const draining = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(draining.statusCode, 503);
    assert.equal(draining.json().status, 'draining');
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  });

  test('a real server is ready once its production models are warm, and draining after close()', async () => {
    const server = await buildServer({
      store: project.store,
      card: project.card,
      projectDir: project.dir,
      auth: false,
    });
    await server.ready;
    const ready = await server.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready', models: 1 });
    server.ctx.draining = true;
    assert.equal((await server.app.inject({ method: 'GET', url: '/readyz' })).json().status, 'draining');
    await server.close();
  });

  test('a promotion is picked up while requests run: every request succeeds, later ones answer v2', async () => {
    await project.store.registry.setAlias('default', 'intents', 'production', 1);
    const server = await buildServer({
      store: project.store,
      card: project.card,
      projectDir: project.dir,
      auth: false,
      pollIntervalMs: 20,
    });
    try {
      await server.ready;
      const versions: number[] = [];
      const statuses: number[] = [];
      let promoted = false;
      const worker = async () => {
        for (let i = 0; i < 400; i++) {
          const res = await server.app.inject({
            method: 'POST',
            url: '/v1/models/intents/predict',
            payload: { text: 'where is my new card' },
          });
          statuses.push(res.statusCode);
          if (res.statusCode === 200) versions.push(res.json().model.version);
          if (promoted && versions.at(-1) === 2 && i > 20) return;
          if (i % 10 === 0) await sleep(1);
        }
      };
      const workers = Promise.all([worker(), worker(), worker(), worker()]);
      await sleep(30);
      await project.store.registry.setAlias('default', 'intents', 'production', 2);
      promoted = true;
      await workers;
      assert.ok(
        statuses.every((s) => s === 200),
        `every request succeeded: ${[...new Set(statuses)].join(', ')}`,
      );
      assert.ok(versions.includes(1), 'v1 answered before the promotion');
      const firstV2 = versions.indexOf(2);
      assert.ok(firstV2 > 0, 'v2 answered after the promotion');
      const last = await server.app.inject({
        method: 'POST',
        url: '/v1/models/intents/predict',
        payload: { text: 'where is my new card' },
      });
      assert.equal(last.json().model.version, 2);
      assert.equal(last.json().result.labels[0].label, 'top_up', 'the new model answers');
    } finally {
      await server.close();
    }
  });
});
