/** The JSON routes of the web UI, in-process: coach, datasets, runs/compare, analysis, annotate, monitor series, /ui. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  call,
  openProject,
  type Project,
  register,
  type Server,
  startServer,
  tenantKey,
  trainRun,
} from './api-fixtures.ts';

describe('web UI routes', () => {
  let project: Project;
  let server: Server;
  let admin: string;
  let predictKey: string;
  let otherAdmin: string;
  let good: string;
  let bad: string;

  before(async () => {
    project = await openProject();
    bad = await trainRun(project, 'majority.v1');
    good = await trainRun(project, 'linear.v1');
    await register(project, 'default', 'intents', good);
    await project.store.registry.setAlias('default', 'intents', 'production', 1);
    admin = await tenantKey(project, 'default', 'admin');
    predictKey = await tenantKey(project, 'default', 'predict');
    otherAdmin = await tenantKey(project, 'acme', 'admin');
    server = await startServer(project);
  });
  after(async () => {
    await server?.close();
    await project?.close();
  });

  test('project data needs an admin key of the default tenant', async () => {
    const routes = [
      '/v1/project',
      '/v1/datasets',
      '/v1/datasets/requests',
      '/v1/runs',
      `/v1/runs/${good}/analysis`,
      '/v1/studies',
      '/v1/annotate/requests/queue?annotator=a',
      '/v1/annotate/requests/agreement',
    ];
    for (const url of routes) {
      assert.equal((await call(server.app, 'GET', url, null)).status, 401, `${url} without a key`);
      assert.equal((await call(server.app, 'GET', url, predictKey)).status, 403, `${url} with a predict key`);
      const other = await call(server.app, 'GET', url, otherAdmin);
      assert.equal(other.status, 403, `${url} with another tenant's admin key`);
      assert.match(other.body.error.message, /belongs to tenant "default"/);
    }
    const saved = await call(server.app, 'POST', '/v1/annotate/requests', otherAdmin, {
      base: 'requests',
      annotator: 'x',
      annotations: [{ id: 'refund-0', labels: ['refund'] }],
    });
    assert.equal(saved.status, 403, 'another tenant cannot write the project data');
    // Monitoring is the caller's own tenant: acme sees none of default's models.
    const series = await call(server.app, 'GET', '/v1/monitor/series', otherAdmin);
    assert.equal(series.status, 200);
    assert.deepEqual(series.body.points, [], 'acme has no traffic');
  });

  test('GET /v1/project: the coach, the card and the production models', async () => {
    const { status, body } = await call(server.app, 'GET', '/v1/project', admin);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.card.name, 'intents');
    assert.equal(body.stages.length, 8, 'the eight steps of the loop');
    const productize = body.stages.find((s: { id: string }) => s.id === 'productize');
    assert.deepEqual([productize.done, productize.detail], [true, 'in production: intents v1']);
    assert.ok(body.milestone.reached >= 1, `milestone ${body.milestone.reached}`);
    assert.ok(Array.isArray(body.recommendations), 'recommendations');
    assert.deepEqual(
      body.models.map((m: { name: string; production: number | null }) => [m.name, m.production]),
      [['intents', 1]],
    );
    assert.equal(body.state.runs.finished, 2);
  });

  test('datasets: versions, lineage, statistics per split', async () => {
    const list = await call(server.app, 'GET', '/v1/datasets', admin);
    assert.equal(list.status, 200);
    assert.ok(
      list.body.versions.some((v: { name: string }) => v.name === 'requests'),
      'requests listed',
    );
    const { body } = await call(server.app, 'GET', '/v1/datasets/requests', admin);
    assert.equal(body.version.name, 'requests');
    assert.equal(body.lineage.length, 1);
    const train = body.stats.splits.find((s: { split: string }) => s.split === 'train');
    assert.equal(train.examples, 108, 'three fifths of 180');
    assert.deepEqual(
      train.labels.map((l: { count: number }) => l.count),
      [36, 36, 36],
    );
    const page = await call(server.app, 'GET', '/v1/datasets/requests/examples?split=dev&limit=5', admin);
    assert.equal(page.body.total, 36);
    assert.equal(page.body.examples.length, 5);
    assert.equal((await call(server.app, 'GET', '/v1/datasets/nope', admin)).status, 404);
  });

  test('runs: list, filter and sort like `runs ls`, and show one with its metric history', async () => {
    const all = await call(server.app, 'GET', '/v1/runs?sort=dev.macro_f1', admin);
    assert.equal(all.status, 200);
    assert.deepEqual(
      all.body.runs.map((r: { id: string }) => r.id),
      [good, bad],
      'best dev score first',
    );
    const filtered = await call(server.app, 'GET', '/v1/runs?filter=dev.macro_f1%3E0.5', admin);
    assert.deepEqual(
      filtered.body.runs.map((r: { id: string }) => r.id),
      [good],
    );
    const wrong = await call(server.app, 'GET', '/v1/runs?filter=dev.macro_f1%3Eabc', admin);
    assert.equal(wrong.status, 400, 'a bad filter is a 400 naming it');
    const one = await call(server.app, 'GET', `/v1/runs/${good}`, admin);
    assert.equal(one.body.details.run.id, good);
    assert.ok(Array.isArray(one.body.history), 'metric history');
  });

  test('runs compare: metric deltas and significance against the first run', async () => {
    const { status, body } = await call(server.app, 'GET', `/v1/runs/compare?ids=${bad},${good}`, admin);
    assert.equal(status, 200, JSON.stringify(body));
    const dev = body.comparison.metrics.find((m: { key: string }) => m.key === 'dev.macro_f1');
    assert.ok(dev.deltas[1] > 0.3, `linear beats majority on dev by ${dev.deltas[1]}`);
    const row = body.significance[1];
    assert.deepEqual(row.runs, [good]);
    assert.ok(row.significance.delta > 0, 'positive delta');
    assert.equal(row.significance.significant, true, 'a large gap on 36 examples is significant');
    assert.ok(row.perLabel.length === 3, 'per-label F1');
    const one = await call(server.app, 'GET', `/v1/runs/compare?ids=${good}`, admin);
    assert.equal(one.status, 400, 'one run is not a comparison');
  });

  test('analysis: confusion, slices and every error, most confident first', async () => {
    const { status, body } = await call(server.app, 'GET', `/v1/runs/${bad}/analysis`, admin);
    assert.equal(status, 200, JSON.stringify(body));
    assert.match(body.data, /^requests@[0-9a-f]{12}:dev$/);
    assert.deepEqual(body.report.confusion.labels.slice(0, 3), ['refund', 'track', 'cancel']);
    assert.equal(body.errors.length, 24, 'majority is wrong on two thirds of 36 dev examples');
    for (let i = 1; i < body.errors.length; i++)
      assert.ok(body.errors[i - 1].confidence >= body.errors[i].confidence, 'sorted by confidence');
    assert.equal(body.errors[0].kind, 'wrong-class');
    const test_ = await call(server.app, 'GET', `/v1/runs/${bad}/analysis?data=requests:test`, admin);
    assert.match(test_.body.data, /:test$/);
    const tests = await call(server.app, 'GET', `/v1/runs/${good}/tests`, admin);
    assert.deepEqual(tests.body, { run: null, report: null }, 'never tested');
  });

  test("earmarks: run them on a run's model through the API and read the newest report back", async () => {
    writeFileSync(
      join(project.dir, 'earmarks.jsonl'),
      `${JSON.stringify({ id: 'r', text: 'please refund my order 7', expect: { class: 'refund' } })}\n${JSON.stringify({ id: 'c', text: 'cancel my plan 3', expect: { class: 'refund' } })}\n`,
    );
    const ran = await call(server.app, 'POST', `/v1/runs/${good}/tests`, admin, {});
    assert.equal(ran.status, 200, JSON.stringify(ran.body));
    assert.equal(ran.body.report.earmarks.total, 2);
    assert.equal(ran.body.report.earmarks.failed.length, 1, 'the cancel text is not a refund');
    assert.equal(ran.body.report.passed, false);
    const read = await call(server.app, 'GET', `/v1/runs/${good}/tests`, admin);
    assert.equal(read.body.run, ran.body.run, 'the newest test run of this model');
    assert.equal(read.body.report.earmarks.total, 2);
    assert.equal((await call(server.app, 'POST', `/v1/runs/${good}/tests`, otherAdmin, {})).status, 403);
  });

  test('annotate: queue by uncertainty with pre-annotations, save as a version, agreement', async () => {
    const q = await call(
      server.app,
      'GET',
      '/v1/annotate/requests/queue?annotator=ann&model=intents&limit=10',
      admin,
    );
    assert.equal(q.status, 200, JSON.stringify(q.body));
    assert.equal(q.body.total, 180);
    assert.equal(q.body.done, 0);
    assert.equal(q.body.items.length, 10);
    for (let i = 1; i < q.body.items.length; i++)
      assert.ok(q.body.items[i - 1].uncertainty >= q.body.items[i].uncertainty, 'most uncertain first');
    assert.equal(q.body.items[0].pre.labels.length, 1, 'the model pre-annotates');
    const picked = q.body.items.slice(0, 3).map((item: { id: string }) => item.id);
    const answer = (labels: string[]) =>
      picked.map((id: string, i: number) => ({ id, labels: [labels[i]!] }));
    const saved = await call(server.app, 'POST', '/v1/annotate/requests', admin, {
      base: q.body.version,
      annotator: 'ann',
      annotations: answer(['refund', 'track', 'cancel']),
    });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.equal(saved.body.created, true);
    assert.equal(saved.body.version.parentId, q.body.version);
    assert.equal(saved.body.version.operation.kind, 'annotate');
    const stale = await call(server.app, 'POST', '/v1/annotate/requests', admin, {
      base: q.body.version,
      annotator: 'bob',
      annotations: answer(['refund', 'track', 'cancel']),
    });
    assert.equal(stale.status, 409, 'a save on an outdated version is refused');
    const unknown = await call(server.app, 'POST', '/v1/annotate/requests', admin, {
      base: saved.body.version.id,
      annotator: 'bob',
      annotations: [{ id: picked[0], labels: ['weather'] }],
    });
    assert.equal(unknown.status, 422);
    assert.equal(unknown.body.error.details.path, 'annotations[0].labels[0]');

    const again = await call(server.app, 'GET', '/v1/annotate/requests/queue?annotator=ann', admin);
    assert.equal(again.body.done, 3);
    assert.ok(
      !again.body.items.some((item: { id: string }) => picked.includes(item.id)),
      'done items leave the queue',
    );
    const bob = await call(server.app, 'POST', '/v1/annotate/requests', admin, {
      base: saved.body.version.id,
      annotator: 'bob',
      annotations: answer(['refund', 'track', 'refund']),
    });
    assert.equal(bob.status, 200);
    assert.equal(bob.body.created, true);
    // Confirming the stored label still records the annotator (a new version, not a deduplicated one).
    const stored = (await project.store.loadExamples(bob.body.version.id)).find((e) => e.id === picked[0])!;
    const confirm = await call(server.app, 'POST', '/v1/annotate/requests', admin, {
      base: bob.body.version.id,
      annotator: 'cy',
      annotations: [{ id: picked[0], labels: stored.labels }],
    });
    assert.equal(confirm.body.created, true, 'a confirming save is a new version');
    assert.deepEqual(
      Object.keys(
        (await project.store.loadExamples(confirm.body.version.id)).find((e) => e.id === picked[0])!.meta
          .annotations as object,
      ),
      ['ann', 'bob', 'cy'],
    );
    const agreement = await call(server.app, 'GET', '/v1/annotate/requests/agreement', admin);
    assert.equal(agreement.body.pairs.length, 3, 'ann × bob, ann × cy, bob × cy');
    const pair = agreement.body.pairs[0];
    assert.deepEqual([pair.a, pair.b, pair.items], ['ann', 'bob', 3]);
    assert.ok(Math.abs(pair.observed - 2 / 3) < 1e-9, `observed ${pair.observed}`);
    // ann: refund, track, cancel; bob: refund, track, refund → po 2/3, pe (1·2 + 1·1 + 1·0)/9 = 1/3 → κ 0.5.
    assert.ok(Math.abs(pair.kappa - 0.5) < 1e-9, `kappa ${pair.kappa}`);
    const newest = await call(server.app, 'GET', '/v1/datasets/requests', admin);
    assert.equal(newest.body.lineage.length, 4, 'import → ann → bob → cy');
  });

  test('monitor series: latency percentiles, traffic, thumbs and errors per model version', async () => {
    const ids: string[] = [];
    for (const text of ['please refund my order', 'track my parcel', 'cancel my plan']) {
      const r = await call(server.app, 'POST', '/v1/models/intents/predict', predictKey, { text });
      assert.equal(r.status, 200);
      ids.push(r.body.requestId);
    }
    await call(server.app, 'POST', '/v1/feedback', predictKey, { requestId: ids[0], rating: 'up' });
    await call(server.app, 'POST', '/v1/feedback', predictKey, { requestId: ids[1], rating: 'down' });
    await server.ctx.log.flush();
    const { status, body } = await call(server.app, 'GET', '/v1/monitor/series?days=1', admin);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.bucket, 'hour');
    const points = body.points.filter((p: { model: string }) => p.model === 'intents');
    const logged = points.reduce((a: number, p: { logged: number }) => a + p.logged, 0);
    assert.ok(logged >= 3, `logged ${logged}`);
    assert.ok(
      points.some((p: { p50: number | null; p99: number | null }) => p.p50 !== null && p.p99! >= p.p50),
      'p50 ≤ p99',
    );
    const up = points.reduce((a: number, p: { up: number }) => a + p.up, 0);
    const down = points.reduce((a: number, p: { down: number }) => a + p.down, 0);
    assert.deepEqual([up, down], [1, 1]);
    assert.ok(
      body.daily.some((d: { errorRate: number | null }) => d.errorRate === 0),
      'an error rate per day',
    );
    assert.equal((await call(server.app, 'GET', '/v1/monitor/series', predictKey)).status, 403, 'admin only');
  });

  test('the web app is served at /ui and every UI route is in the OpenAPI', async () => {
    const redirect = await server.app.inject({ method: 'GET', url: '/ui' });
    assert.equal(redirect.statusCode, 302);
    for (const url of ['/ui/', '/ui/runs', '/ui/annotate?dataset=x']) {
      const page = await server.app.inject({ method: 'GET', url });
      assert.equal(page.statusCode, 200, url);
      assert.match(page.headers['content-type'] as string, /text\/html/);
      assert.match(page.body, /<div id="app">/);
    }
    const missing = await server.app.inject({ method: 'GET', url: '/ui/assets/nope.js' });
    assert.equal(missing.statusCode, 404);
    const spec = (await server.app.inject({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<string, unknown>;
    };
    for (const path of [
      '/v1/project',
      '/v1/datasets',
      '/v1/datasets/{ref}',
      '/v1/runs',
      '/v1/runs/compare',
      '/v1/runs/{id}/analysis',
      '/v1/runs/{id}/tests',
      '/v1/studies',
      '/v1/annotate/{dataset}/queue',
      '/v1/annotate/{dataset}',
      '/v1/annotate/{dataset}/agreement',
      '/v1/monitor/series',
    ])
      assert.ok(spec.paths[path], `${path} is documented`);
    assert.ok(!spec.paths['/ui/*'], 'the static files are not API routes');
  });
});
