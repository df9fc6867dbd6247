/** The HTTP error mapping: every failure answers {error: {code, message, details: {hint}}} with its status. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fastify from 'fastify';
import { NotFoundError, SapphireError } from '../../src/core/errors.ts';
import { errorResponse, fieldPath, installErrorHandler } from '../../src/serve/errors.ts';
import { ServeMetrics } from '../../src/serve/metrics.ts';

const limits = { bodyBytes: 64, textChars: 100, batchSize: 4 };

/** A bare app with the error handler and a few routes that fail in known ways. */
async function app() {
  const metrics = new ServeMetrics({ defaultMetrics: false });
  const server = fastify({
    bodyLimit: limits.bodyBytes,
    logger: false,
    ajv: { customOptions: { removeAdditional: false } },
  });
  installErrorHandler(server, { limits, metrics });
  server.post(
    '/echo',
    {
      schema: {
        body: {
          type: 'object',
          required: ['texts'],
          additionalProperties: false,
          properties: { texts: { type: 'array', items: { type: 'string' } }, mode: { enum: ['a', 'b'] } },
        },
      },
    },
    async (request) => request.body,
  );
  server.get('/boom', async () => {
    throw new Error('secret database detail');
  });
  server.get('/missing', async () => {
    throw new NotFoundError('no model "x" for tenant "default"', { hint: 'list models with GET /v1/models' });
  });
  server.get('/limited', async (_request, reply) => {
    reply.header('retry-after', '7');
    throw Object.assign(new Error('Rate limit exceeded, retry in 7 seconds'), { statusCode: 429 });
  });
  await server.ready();
  return { server, metrics };
}

const post = (
  server: Awaited<ReturnType<typeof app>>['server'],
  payload: string,
  type = 'application/json',
) => server.inject({ method: 'POST', url: '/echo', payload, headers: { 'content-type': type } });

describe('fieldPath', () => {
  test('turns JSON pointers into field paths', () => {
    assert.equal(fieldPath(''), '');
    assert.equal(fieldPath('/texts/3'), 'texts[3]');
    assert.equal(fieldPath('/a/b~1c/0/d'), 'a.b/c[0].d');
    assert.equal(fieldPath('', 'text'), 'text');
    assert.equal(fieldPath('/items/2', 'label'), 'items[2].label');
  });
});

describe('errorResponse', () => {
  test('a SapphireError keeps its code, status and details', () => {
    const r = errorResponse(
      new SapphireError('CONFLICT', 'already there', { hint: 'pick another name' }),
      limits,
      'r1',
    );
    assert.equal(r.status, 409);
    assert.deepEqual(r.body, {
      error: { code: 'CONFLICT', message: 'already there', details: { hint: 'pick another name' } },
    });
  });

  test('an unknown error is a generic 500 that names the request id, never the message', () => {
    const r = errorResponse(new Error('password=hunter2'), limits, 'req-42');
    assert.equal(r.status, 500);
    assert.equal(r.body.error.code, 'INTERNAL');
    assert.equal(r.body.error.details.requestId, 'req-42');
    assert.ok(!JSON.stringify(r.body).includes('hunter2'), 'the internal message is not leaked');
  });
});

describe('installErrorHandler', () => {
  test('a body over the limit is 413 PAYLOAD_TOO_LARGE naming the limit', async () => {
    const { server } = await app();
    const res = await post(server, JSON.stringify({ texts: ['x'.repeat(100)] }));
    assert.equal(res.statusCode, 413);
    const body = res.json();
    assert.equal(body.error.code, 'PAYLOAD_TOO_LARGE');
    assert.match(body.error.message, /limit of 64 bytes/);
    assert.match(body.error.details.hint, /serve\.limits\.bodyBytes/);
  });

  test('schema errors are 422 DATA_INVALID with the field path', async () => {
    const { server, metrics } = await app();
    const cases: [unknown, string, RegExp][] = [
      [{}, 'texts', /body field texts is missing/],
      [{ texts: ['a'], extra: 1 }, 'extra', /body field extra is not allowed here/],
      [{ texts: ['a', { no: 1 }] }, 'texts[1]', /body field texts\[1\] must be string/],
      [{ texts: ['a'], mode: 'c' }, 'mode', /body field mode must be one of a, b/],
      [[1], '', /body must be object/],
    ];
    for (const [payload, path, message] of cases) {
      const res = await post(server, JSON.stringify(payload));
      assert.equal(res.statusCode, 422, JSON.stringify(payload));
      const body = res.json();
      assert.equal(body.error.code, 'DATA_INVALID');
      assert.equal(body.error.details.path, path);
      assert.match(body.error.message, message);
      assert.ok(body.error.details.hint, 'a hint');
    }
    assert.ok(
      (await metrics.render()).includes(
        'sapphire_errors_total{route="/echo",code="DATA_INVALID",status="422"} 5',
      ),
    );
  });

  test('bad JSON is 400, an empty JSON body is 400, another content type is 415, each with a hint', async () => {
    const { server } = await app();
    const bad = await post(server, '{"texts": [');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'BAD_INPUT');
    assert.match(bad.json().error.message, /not valid JSON/);
    const empty = await post(server, '');
    assert.equal(empty.statusCode, 400);
    assert.match(empty.json().error.message, /empty/);
    const xml = await post(server, '<texts/>', 'application/xml');
    assert.equal(xml.statusCode, 415);
    assert.equal(xml.json().error.code, 'BAD_INPUT');
    assert.match(xml.json().error.details.hint, /application\/json/);
  });

  test('thrown errors: NotFoundError is 404, unknown is 500 INTERNAL, 429 keeps Retry-After', async () => {
    const { server } = await app();
    const missing = await server.inject({ method: 'GET', url: '/missing' });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), {
      error: {
        code: 'NOT_FOUND',
        message: 'no model "x" for tenant "default"',
        details: { hint: 'list models with GET /v1/models' },
      },
    });
    const boom = await server.inject({ method: 'GET', url: '/boom' });
    assert.equal(boom.statusCode, 500);
    assert.equal(boom.json().error.code, 'INTERNAL');
    assert.ok(!boom.body.includes('secret'), 'no internal detail in the body');
    const limited = await server.inject({ method: 'GET', url: '/limited' });
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().error.code, 'TOO_MANY_REQUESTS');
    assert.equal(limited.headers['retry-after'], '7');
  });

  test('an unknown route is 404 NOT_FOUND naming the method and path', async () => {
    const { server } = await app();
    const res = await server.inject({ method: 'GET', url: '/nope?x=1' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.message, 'no route GET /nope');
  });
});
