import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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

/**
 * Two tenants with their own keys, models, overrides and feedback: every attempt of one to read or change the
 * other's data answers 404 (never 403, which would reveal that it exists) and changes nothing.
 */
let project: Project;
let server: Server;
let acme = '';
let bravo = '';
let acmeRule = '';
let acmeRequest = '';
let acmeFeedback = '';

/** Everything both tenants own, read straight from the store. */
async function snapshot() {
  const { store } = project;
  return {
    models: [await store.registry.listModels('acme'), await store.registry.listModels('bravo')],
    overrides: [
      await store.overrides.listOverrides('acme', { includeRemoved: true }),
      await store.overrides.listOverrides('bravo', { includeRemoved: true }),
    ],
    feedback: [
      await store.feedback.listFeedback({ tenant: 'acme' }),
      await store.feedback.listFeedback({ tenant: 'bravo' }),
    ],
    promotions: [await store.registry.listPromotions('acme'), await store.registry.listPromotions('bravo')],
  };
}

before(async () => {
  project = await openProject();
  const run = await trainRun(project, 'linear.v1');
  acme = await tenantKey(project, 'acme', 'admin');
  bravo = await tenantKey(project, 'bravo', 'admin');
  await register(project, 'acme', 'intents', run);
  await register(project, 'bravo', 'triage', run);
  server = await startServer(project);

  const rule = await call(server.app, 'POST', '/v1/models/intents/overrides', acme, {
    action: 'never',
    match: 'phrase',
    pattern: 'refund my order',
    label: 'refund',
  });
  assert.equal(rule.status, 201, JSON.stringify(rule.body));
  acmeRule = rule.body.id;
  const predicted = await call(server.app, 'POST', '/v1/models/intents/predict', acme, {
    text: 'track my parcel',
  });
  assert.equal(predicted.status, 200, JSON.stringify(predicted.body));
  acmeRequest = predicted.body.requestId;
  const feedback = await call(server.app, 'POST', '/v1/feedback', acme, {
    requestId: acmeRequest,
    rating: 'up',
  });
  assert.equal(feedback.status, 201, JSON.stringify(feedback.body));
  acmeFeedback = feedback.body.id;
  const own = await call(server.app, 'POST', '/v1/models/triage/overrides', bravo, {
    action: 'always',
    match: 'exact',
    pattern: 'where is it',
    label: 'track',
  });
  assert.equal(own.status, 201, JSON.stringify(own.body));
});

after(async () => {
  await server?.close();
  await project?.close();
});

test('each tenant lists only its own models, overrides and feedback', async () => {
  const acmeModels = await call(server.app, 'GET', '/v1/models', acme);
  const bravoModels = await call(server.app, 'GET', '/v1/models', bravo);
  assert.deepEqual(
    acmeModels.body.models.map((m: { name: string }) => m.name),
    ['intents'],
    'acme sees its model',
  );
  assert.deepEqual(
    bravoModels.body.models.map((m: { name: string }) => m.name),
    ['triage'],
    'bravo sees its model',
  );
  const acmeList = await call(server.app, 'GET', '/v1/feedback', acme);
  assert.deepEqual(
    acmeList.body.feedback.map((f: { id: string }) => f.id),
    [acmeFeedback],
    "acme's feedback",
  );
  const bravoList = await call(server.app, 'GET', '/v1/feedback', bravo);
  assert.deepEqual(bravoList.body.feedback, [], 'bravo has no feedback and sees none of acme');
  const bravoRules = await call(server.app, 'GET', '/v1/models/triage/overrides', bravo);
  assert.ok(
    bravoRules.body.overrides.every((o: { id: string }) => o.id !== acmeRule),
    "acme's rule is not among bravo's",
  );
});

test('every cross-tenant read or write answers 404 and changes nothing', async () => {
  const before = await snapshot();
  const attempts: [string, 'GET' | 'POST' | 'DELETE', string, unknown?][] = [
    ['show the model', 'GET', '/v1/models/intents'],
    ['predict with it', 'POST', '/v1/models/intents/predict', { text: 'refund my order' }],
    ['predict a pinned version', 'POST', '/v1/models/intents@1/predict', { text: 'refund my order' }],
    ['promote it', 'POST', '/v1/models/intents/promote', { version: 1, force: true, reason: 'hostile' }],
    ['list its overrides', 'GET', '/v1/models/intents/overrides'],
    [
      'add an override',
      'POST',
      '/v1/models/intents/overrides',
      { action: 'always', match: 'exact', pattern: 'x', label: 'track' },
    ],
    ['remove its override', 'DELETE', `/v1/models/intents/overrides/${acmeRule}`],
    ['remove its override through an own model', 'DELETE', `/v1/models/triage/overrides/${acmeRule}`],
    ['rate its prediction', 'POST', '/v1/feedback', { requestId: acmeRequest, rating: 'down' }],
    [
      'correct its prediction',
      'POST',
      '/v1/feedback',
      { requestId: acmeRequest, correction: { labels: ['refund'] } },
    ],
    ['monitor its model', 'GET', '/v1/monitor?model=intents'],
  ];
  for (const [what, method, url, body] of attempts) {
    const reply = await call(server.app, method, url, bravo, body);
    assert.equal(reply.status, 404, `bravo cannot ${what}: ${reply.status} ${JSON.stringify(reply.body)}`);
    assert.equal(reply.body.error?.code, 'NOT_FOUND', `${what}: the code is NOT_FOUND`);
  }
  assert.deepEqual(await snapshot(), before, 'no data of either tenant changed');
});

test("bravo's view of monitoring holds none of acme's traffic", async () => {
  const reply = await call(server.app, 'GET', '/v1/monitor', bravo);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  assert.ok(
    [...reply.body.rows, ...reply.body.totals, ...reply.body.overrides].every(
      (r: { model: string }) => r.model !== 'intents',
    ),
    'no rows of acme',
  );
});
