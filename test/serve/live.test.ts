/**
 * Live monitoring in the server: predictions feed the sketches, `GET /v1/models/{name}/live` merges this replica
 * with another one through the store, drift is judged against the reference profile (or a clear message without
 * one), the drift gauges are in /metrics, and `requests export --drifted` picks the drifted slice.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { problemCardSchema } from '../../src/core/project.ts';
import { exportRequests } from '../../src/monitor/export-requests.ts';
import { LiveMonitor } from '../../src/monitor/live-monitor.ts';
import type { LiveReport } from '../../src/monitor/live-report.ts';
import { storedLiveReport } from '../../src/monitor/stored-live.ts';
import { defaultCacheRoot } from '../../src/registry/materialize.ts';
import { type BuiltServer, buildServer } from '../../src/serve/server.ts';
import {
  createTestProject,
  INTENTS,
  registerTiny,
  registerWithProfile,
  type TestProject,
} from './helpers.ts';

describe('live monitoring', () => {
  let project: TestProject;
  let server: BuiltServer;

  before(async () => {
    project = await createTestProject('classify', 'live-test');
    // A lower minSamples so that a few dozen requests are judged.
    project.card = problemCardSchema.parse({ ...project.card, monitoring: { minSamples: 20 } });
    // v1: no reference profile (saved by model.save alone).
    await registerTiny(project, { name: 'bare', alias: 'production' });
    // v1 of "shop": saved with a reference profile made from the intents themselves.
    await registerWithProfile(project, { name: 'shop', alias: 'production' });
    server = await buildServer({
      store: project.store,
      card: project.card,
      projectDir: project.dir,
      auth: false,
      pollIntervalMs: 60_000,
    });
    await server.ready;
  });

  after(async () => {
    await server.close();
    await project.cleanup();
  });

  const predict = async (model: string, texts: string[]) => {
    const response = await server.app.inject({
      method: 'POST',
      url: `/v1/models/${model}/predict`,
      payload: { texts },
    });
    assert.equal(response.statusCode, 200, response.body);
  };

  const live = async (model: string, query = ''): Promise<LiveReport> => {
    const response = await server.app.inject({ method: 'GET', url: `/v1/models/${model}/live${query}` });
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as LiveReport;
  };

  test('in-distribution traffic: counts, bounds, no drift', async () => {
    for (let i = 0; i < 4; i++)
      await predict(
        'shop',
        INTENTS.map((e) => e.text),
      );
    const report = await live('shop', '?window=1h');
    assert.equal(report.items, 36, 'every text observed once');
    assert.equal(report.version, 1);
    assert.equal(report.distinct.texts, 9, 'nine distinct texts');
    assert.equal(
      report.labels.reduce((s, l) => s + l.count, 0),
      36,
      'labels sum to the items',
    );
    assert.ok(
      report.labels.every((l) => l.error === 0),
      'three labels: exact counts',
    );
    assert.equal(report.oovRate, 0, 'every token was seen in training');
    assert.match(report.bounds.distinct, /HyperLogLog/);
    assert.equal(report.drift?.status, 'ok', JSON.stringify(report.drift?.signals));
  });

  test('unseen traffic drifts; another replica merges through the store; the gauges show it', async () => {
    const odd = Array.from({ length: 40 }, (_, i) => `zorblax quantum refund number ${i} frobnicate`);
    await predict('shop', odd);
    // A second replica publishes its own sketches of the same version to the shared store.
    const other = new LiveMonitor({ store: project.store, replica: 'replica-b' });
    const version = { tenant: 'default', name: 'shop', version: 1 };
    for (let i = 0; i < 5; i++)
      other.observe(version, 'where is my new card', { labels: [{ label: 'card_arrival', score: 0.9 }] });
    await other.close();

    const report = await live('shop');
    assert.equal(report.items, 36 + 40 + 5, 'this replica and replica-b');
    assert.ok(
      report.replicas.includes('replica-b') && report.replicas.length === 2,
      `replicas ${report.replicas}`,
    );
    assert.equal(report.drift?.status, 'drift', JSON.stringify(report.drift?.signals));
    assert.ok(report.drift?.drifted.includes('oov_shift'), `${report.drift?.drifted}`);
    assert.ok(
      report.drift?.newTokens.some((t) => t.item === 'zorblax'),
      'zorblax is a new frequent token',
    );

    const metrics = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(
      metrics,
      /sapphire_drift_detected\{tenant="default",model="shop",version="1",signal="oov_shift"\} 1/,
    );
    assert.match(
      metrics,
      /sapphire_drift_score\{tenant="default",model="shop",version="1",signal="label_psi"\} [\d.e-]+/,
    );
    assert.match(metrics, /sapphire_live_predictions\{tenant="default",model="shop",version="1"\} 81/);
    assert.match(metrics, /sapphire_ready 1/);
  });

  test('the published state reads back without a server; --drifted exports the drifted slice', async () => {
    await server.ctx.live!.publish();
    await server.ctx.log.flush();
    const version = await project.store.registry.resolveVersion('default', 'shop');
    const cacheRoot = join(project.dir, 'cli-cache');
    const { report } = await storedLiveReport({
      store: project.store,
      version,
      settings: project.card.monitoring,
      cacheRoot,
    });
    assert.equal(report.items, 81, 'both replicas from the store');
    assert.equal(report.drift?.status, 'drift');
    const exported = await exportRequests({
      store: project.store,
      version,
      settings: project.card.monitoring,
      cacheRoot: defaultCacheRoot(project.dir),
      drifted: true,
      limit: 1000,
    });
    assert.equal(exported.read, 76, 'this server logged 36 + 40 predictions');
    assert.equal(
      exported.records.length,
      40,
      `only the unseen texts are in the drifted slice: ${JSON.stringify(exported.records.filter((r) => !String(r.text).includes('zorblax')))}`,
    );
    const first = exported.records[0] as {
      text: string;
      meta: { driftReasons: string[]; predicted: unknown };
    };
    assert.match(first.text, /zorblax/);
    assert.ok(
      first.meta.driftReasons.some((r) => r.startsWith('new_tokens: ')),
      `${first.meta.driftReasons}`,
    );
    assert.ok(first.meta.predicted, 'the prediction comes along for annotators');
  });

  test('a model without a reference profile gets a clear message, not a crash', async () => {
    await predict('bare', ['where is my card']);
    const report = await live('bare');
    assert.equal(report.items, 1);
    assert.equal(report.drift, null);
    assert.match((report.profile as { missing: string }).missing, /no reference profile: retrain/);
    const metrics = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(
      metrics,
      /sapphire_reference_profile_missing\{tenant="default",model="bare",version="1"\} 1/,
    );
  });

  test('a bad window is a 400 naming the parameter', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/v1/models/shop/live?window=soon' });
    assert.equal(response.statusCode, 400, response.body);
    const { error } = response.json() as { error: { message: string; details: { path: string } } };
    assert.match(error.message, /window "soon" is not a window like 15m, 1h or 7d/);
    assert.equal(error.details.path, 'window');
  });
});
