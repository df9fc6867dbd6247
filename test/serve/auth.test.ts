import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KeyCache, TenantRateLimiter } from '../../src/serve/auth.ts';
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

const KEY_HINT = 'send Authorization: Bearer <key>; create one with `sapphire tenants key <tenant>`';

describe('TenantRateLimiter', () => {
  test('counts each tenant in its own one-minute window and says when the window resets', () => {
    const limiter = new TenantRateLimiter();
    const t0 = 1_000_000;
    assert.deepEqual(
      [1, 2, 3].map(() => limiter.take('acme', 3, t0)),
      [0, 0, 0],
      'three requests fit a limit of 3',
    );
    assert.equal(limiter.take('acme', 3, t0 + 15_000), 45, 'the 4th waits until the window ends, 45 s later');
    assert.equal(limiter.take('beta', 3, t0 + 15_000), 0, 'another tenant has its own window');
    assert.equal(limiter.take('acme', 3, t0 + 59_999), 1, 'never less than one second');
    assert.equal(limiter.take('acme', 3, t0 + 60_000), 0, 'a new window starts at the reset time');
  });
});

describe('KeyCache', () => {
  test('answers from memory while fresh, for found and unknown keys alike', async () => {
    let lookups = 0;
    const cache = new KeyCache(async (key) => {
      lookups++;
      return key === 'good'
        ? { caller: { tenant: 'acme', scope: 'admin', actor: 'key:good' }, rateLimit: 5 }
        : null;
    }, 60_000);
    assert.equal((await cache.get('h-good', 'good'))?.caller.tenant, 'acme', 'a known key resolves');
    assert.equal((await cache.get('h-bad', 'bad')) ?? null, null, 'an unknown key resolves to null');
    const again = cache.get('h-good', 'good');
    assert.ok(!(again instanceof Promise), 'a fresh answer comes back synchronously');
    assert.equal(cache.get('h-bad', 'bad'), null, 'a negative answer is cached too');
    assert.equal(lookups, 2, 'one store lookup per key');
  });

  test('concurrent first requests with one key share a single lookup', async () => {
    let lookups = 0;
    const cache = new KeyCache(async () => {
      lookups++;
      await new Promise((r) => setTimeout(r, 5));
      return null;
    }, 60_000);
    await Promise.all([cache.get('h', 'k'), cache.get('h', 'k'), cache.get('h', 'k')]);
    assert.equal(lookups, 1, 'the pending lookup is shared');
  });

  test('asks again once an answer is older than the ttl, and after a failed lookup', async () => {
    let lookups = 0;
    let fail = true;
    const cache = new KeyCache(async () => {
      lookups++;
      if (fail) throw new Error('store down');
      return null;
    }, 1);
    await assert.rejects(async () => cache.get('h', 'k'), /store down/, 'a failed lookup is reported');
    fail = false;
    await cache.get('h', 'k');
    await new Promise((r) => setTimeout(r, 10));
    await cache.get('h', 'k');
    assert.equal(lookups, 3, 'failures are not cached and stale answers are refreshed');
  });

  test('keeps at most maxEntries lookups', async () => {
    const cache = new KeyCache(async () => null, 60_000, 3);
    for (let i = 0; i < 10; i++) await cache.get(`h${i}`, `k${i}`);
    assert.equal(cache.size, 3, 'the oldest entries are dropped');
  });
});

describe('API keys on /v1', () => {
  let project: Project;
  let server: Server;
  let admin = '';
  let predictOnly = '';
  let revoked = '';
  let limitedA = '';
  let otherB = '';

  before(async () => {
    project = await openProject();
    const run = await trainRun(project, 'majority.v1');
    await register(project, 'default', 'intents', run);
    admin = await tenantKey(project, 'default', 'admin');
    predictOnly = await tenantKey(project, 'default', 'predict');
    const doomed = await project.store.tenants.createApiKey({ tenant: 'default', scope: 'admin' });
    revoked = doomed.key;
    await project.store.tenants.revokeApiKey(doomed.info.id);
    limitedA = await tenantKey(project, 'acme', 'admin', 3);
    otherB = await tenantKey(project, 'bravo', 'admin');
    server = await startServer(project);
  });

  after(async () => {
    await server?.close();
    await project?.close();
  });

  test('a request without a key is refused with 401 and a hint', async () => {
    const reply = await call(server.app, 'GET', '/v1/models', null);
    assert.equal(reply.status, 401, 'no key, no access');
    assert.deepEqual(reply.body, {
      error: { code: 'UNAUTHORIZED', message: 'missing API key', details: { hint: KEY_HINT } },
    });
  });

  test('unknown and revoked keys are refused with 401', async () => {
    const expected = {
      error: { code: 'UNAUTHORIZED', message: 'unknown or revoked API key', details: { hint: KEY_HINT } },
    };
    const unknown = await call(server.app, 'GET', '/v1/models', 'sk_default_0000000000000000000000000000000');
    assert.equal(unknown.status, 401, 'an unknown key is refused');
    assert.deepEqual(unknown.body, expected);
    const gone = await call(server.app, 'GET', '/v1/models', revoked);
    assert.equal(gone.status, 401, 'a revoked key is refused');
    assert.deepEqual(gone.body, expected);
    const notBearer = await server.app.inject({
      url: '/v1/models',
      headers: { authorization: `Basic ${admin}` },
    });
    assert.equal(notBearer.statusCode, 401, 'only Bearer authorization carries a key');
  });

  test('a key works as Bearer token and as X-API-Key; routes outside /v1 need none', async () => {
    assert.equal((await call(server.app, 'GET', '/v1/models', admin)).status, 200, 'Bearer works');
    const header = await server.app.inject({ url: '/v1/models', headers: { 'x-api-key': admin } });
    assert.equal(header.statusCode, 200, 'X-API-Key works');
    assert.equal((await server.app.inject({ url: '/healthz' })).statusCode, 200, '/healthz is open');
  });

  test('a predict-scope key may read and predict but not administer (403)', async () => {
    assert.equal(
      (await call(server.app, 'GET', '/v1/models', predictOnly)).status,
      200,
      'reading is allowed',
    );
    const predicted = await call(server.app, 'POST', '/v1/models/intents/predict', predictOnly, {
      text: 'track my parcel',
    });
    assert.equal(predicted.status, 200, `predicting is allowed: ${JSON.stringify(predicted.body)}`);
    const refused = [
      await call(server.app, 'POST', '/v1/models/intents/overrides', predictOnly, {
        action: 'never',
        match: 'exact',
        pattern: 'x',
        label: 'refund',
      }),
      await call(server.app, 'POST', '/v1/models/intents/promote', predictOnly, { version: 1 }),
      await call(server.app, 'GET', '/v1/feedback', predictOnly),
    ];
    for (const reply of refused) {
      assert.equal(reply.status, 403, `admin routes refuse a predict key: ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body.error.code, 'FORBIDDEN', 'the code says forbidden');
      assert.match(reply.body.error.details.hint, /--scope admin/, 'the hint says how to get an admin key');
    }
    assert.deepEqual(
      await project.store.overrides.listOverrides('default', { model: 'intents' }),
      [],
      'nothing was changed',
    );
  });

  test("a tenant over its rate limit gets 429 with Retry-After while another tenant's requests go on", async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal(
        (await call(server.app, 'GET', '/v1/models', limitedA)).status,
        200,
        `request ${i + 1} of 3`,
      );
    }
    const limited = await call(server.app, 'GET', '/v1/models', limitedA);
    assert.equal(limited.status, 429, 'the 4th request in a minute is refused');
    assert.equal(limited.body.error.code, 'TOO_MANY_REQUESTS', 'the code says too many requests');
    assert.equal(limited.body.error.message, 'tenant "acme" sent more than 3 requests in a minute');
    assert.ok(limited.body.error.details.hint, 'a hint says what to do');
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(
      Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 60,
      `Retry-After: ${retryAfter}`,
    );
    assert.equal(
      (await call(server.app, 'GET', '/v1/models', otherB)).status,
      200,
      'bravo is not limited by acme',
    );
    assert.equal(
      (await call(server.app, 'GET', '/v1/models', admin)).status,
      200,
      'nor is the default tenant',
    );
  });
});

describe('auth off', () => {
  let project: Project;
  let server: Server;

  before(async () => {
    project = await openProject();
    await register(project, 'default', 'intents', await trainRun(project, 'majority.v1'));
    await project.store.tenants.createTenant({ id: 'acme' });
    await register(project, 'acme', 'secret', await trainRun(project, 'majority.v1'));
    server = await startServer(project, { auth: false });
  });

  after(async () => {
    await server?.close();
    await project?.close();
  });

  test('every request is the default tenant with admin scope, recorded as local', async () => {
    const models = await call(server.app, 'GET', '/v1/models', null);
    assert.equal(models.status, 200, 'no key needed');
    assert.deepEqual(
      models.body.models.map((m: { name: string }) => m.name),
      ['intents'],
      "only the default tenant's models",
    );
    const rule = await call(server.app, 'POST', '/v1/models/intents/overrides', null, {
      action: 'always',
      match: 'exact',
      pattern: 'where is it',
      label: 'track',
    });
    assert.equal(rule.status, 201, `admin routes are open: ${JSON.stringify(rule.body)}`);
    assert.equal(rule.body.createdBy, 'local', 'the actor is local');
    assert.equal(
      (await call(server.app, 'GET', '/v1/models/secret', null)).status,
      404,
      "acme's model is not served",
    );
  });
});
