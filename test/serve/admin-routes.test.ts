import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SapphireError } from '../../src/core/errors.ts';
import { checkCorrection } from '../../src/serve/routes/feedback.ts';
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

let project: Project;
let key = '';
let goodRun = '';
let badRun = '';

before(async () => {
  project = await openProject();
  key = await tenantKey(project, 'default', 'admin');
  goodRun = await trainRun(project, 'linear.v1');
  badRun = await trainRun(project, 'majority.v1');
  await register(project, 'default', 'intents', goodRun);
  await register(project, 'default', 'intents', badRun);
});

after(async () => {
  await project?.close();
});

describe('registry and overrides', () => {
  let server: Server;
  before(async () => {
    server = await startServer(project);
  });
  after(async () => {
    await server?.close();
  });

  test('lists the models and shows one with its versions, aliases and promotions', async () => {
    const list = await call(server.app, 'GET', '/v1/models', key);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.models.length, 1, 'one model');
    assert.equal(list.body.models[0].name, 'intents', 'by name');
    assert.equal(list.body.models[0].versionCount, 2, 'with two versions');
    const shown = await call(server.app, 'GET', '/v1/models/intents', key);
    assert.equal(shown.status, 200, JSON.stringify(shown.body));
    assert.deepEqual(
      shown.body.versions.map((v: { version: number; architecture: string }) => [v.version, v.architecture]),
      [
        [2, 'majority.v1'],
        [1, 'linear.v1'],
      ],
      'versions newest first',
    );
    assert.equal(shown.body.versions[1].runId, goodRun, 'each version names its run');
    assert.deepEqual(shown.body.promotions, [], 'no promotion yet');
    const missing = await call(server.app, 'GET', '/v1/models/nope', key);
    assert.equal(missing.status, 404, 'an unknown model is 404');
    assert.ok(missing.body.error.details.hint, 'with a hint');
  });

  test('promotes a good version (200) and refuses a worse one (409 with the gates)', async () => {
    const promoted = await call(server.app, 'POST', '/v1/models/intents/promote', key, { version: 1 });
    assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
    assert.equal(promoted.body.promoted, true, 'promoted');
    assert.equal(promoted.body.record.alias, 'production', 'to production by default');
    assert.equal(promoted.body.record.actor.startsWith('key:'), true, 'the key is recorded as the actor');
    assert.ok(promoted.body.gates.length > 0, 'the gates are listed');

    const refused = await call(server.app, 'POST', '/v1/models/intents/promote', key, {
      version: 2,
      to: 'production',
    });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'CONFLICT', 'a refusal is a conflict');
    const failed = refused.body.error.details.gates.filter((g: { passed: boolean }) => !g.passed);
    assert.ok(failed.length > 0, 'the failed gates are in the details');
    assert.match(refused.body.error.message, /macro_f1/, 'the message names the failed metric');
    assert.match(refused.body.error.message, /\d\.\d{3}/, 'with its numbers');
    assert.ok(refused.body.error.details.hint, 'and says what to do');

    const shown = await call(server.app, 'GET', '/v1/models/intents', key);
    assert.deepEqual(shown.body.model.aliases, { production: 1 }, 'production still points at version 1');
    assert.deepEqual(
      shown.body.promotions.map((p: { version: number; outcome: string }) => [p.version, p.outcome]),
      [
        [2, 'refused'],
        [1, 'promoted'],
      ],
      'both attempts are recorded, newest first',
    );
  });

  test('a forced promotion needs a reason, which is recorded', async () => {
    const noReason = await call(server.app, 'POST', '/v1/models/intents/promote', key, {
      version: 2,
      to: 'staging',
      force: true,
    });
    assert.equal(noReason.status, 422, JSON.stringify(noReason.body));
    assert.equal(noReason.body.error.details.path, 'reason', 'the field is named');
    const forced = await call(server.app, 'POST', '/v1/models/intents/promote', key, {
      version: 2,
      to: 'staging',
      force: true,
      reason: 'try it in staging',
    });
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    assert.equal(forced.body.record.alias, 'staging', 'to the named alias');
    assert.equal(forced.body.record.reason, 'try it in staging', 'with the reason');
    const unknown = await call(server.app, 'POST', '/v1/models/intents/promote', key, { version: 9 });
    assert.equal(unknown.status, 404, 'an unknown version is 404');
  });

  test('overrides: add (201), list, remove (200), list removed; bad rules are refused with the field', async () => {
    const badRegex = await call(server.app, 'POST', '/v1/models/intents/overrides', key, {
      action: 'never',
      match: 'regex',
      pattern: '(unclosed',
      label: 'refund',
    });
    assert.equal(badRegex.status, 400, JSON.stringify(badRegex.body));
    assert.equal(badRegex.body.error.details.path, 'pattern', 'the bad field is named');
    const badLabel = await call(server.app, 'POST', '/v1/models/intents/overrides', key, {
      action: 'never',
      match: 'exact',
      pattern: 'x',
      label: 'refnud',
    });
    assert.equal(badLabel.status, 400, JSON.stringify(badLabel.body));
    assert.equal(badLabel.body.error.details.path, 'label', 'an unknown label is named');
    const wrongTarget = await call(server.app, 'POST', '/v1/models/intents/overrides', key, {
      action: 'never',
      match: 'exact',
      pattern: 'x',
      target: 'entity',
      label: 'refund',
    });
    assert.equal(wrongTarget.status, 400, 'a classify model takes class rules only');

    const added = await call(server.app, 'POST', '/v1/models/intents/overrides', key, {
      action: 'never',
      match: 'phrase',
      pattern: 'refund my order',
      label: 'refund',
      note: 'refunds go to a human',
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(added.body.target, 'class', 'the target defaults from the task');
    assert.equal(added.body.note, 'refunds go to a human', 'the note is kept');
    assert.equal(added.body.hits, 0, 'no hits yet');
    const id = added.body.id as string;

    const listed = await call(server.app, 'GET', '/v1/models/intents/overrides', key);
    assert.deepEqual(
      listed.body.overrides.map((o: { id: string }) => o.id),
      [id],
      'the rule is listed',
    );
    const removed = await call(server.app, 'DELETE', `/v1/models/intents/overrides/${id}`, key);
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.ok(removed.body.removedAt, 'the removal time is recorded');
    assert.ok(removed.body.removedBy?.startsWith('key:'), 'and who removed it');
    assert.deepEqual(
      (await call(server.app, 'GET', '/v1/models/intents/overrides', key)).body.overrides,
      [],
      'gone',
    );
    const all = await call(server.app, 'GET', '/v1/models/intents/overrides?all=true', key);
    assert.deepEqual(
      all.body.overrides.map((o: { id: string }) => o.id),
      [id],
      'kept as removed',
    );
    const again = await call(server.app, 'DELETE', `/v1/models/intents/overrides/${id}`, key);
    assert.equal(again.status, 409, 'removing twice is a conflict');
    const unknown = await call(server.app, 'DELETE', '/v1/models/intents/overrides/nope', key);
    assert.equal(unknown.status, 404, 'an unknown rule is 404');
  });

  test('the OpenAPI document lists every admin route', async () => {
    const doc = await server.app.inject({ url: '/docs/json' });
    assert.equal(doc.statusCode, 200, 'the OpenAPI document is served');
    const paths = Object.keys(JSON.parse(doc.body).paths);
    for (const path of [
      '/v1/models',
      '/v1/models/{name}',
      '/v1/models/{name}/promote',
      '/v1/models/{name}/overrides',
      '/v1/models/{name}/overrides/{id}',
      '/v1/feedback',
      '/v1/monitor',
    ]) {
      assert.ok(paths.includes(path), `${path} is documented (${paths.join(', ')})`);
    }
  });
});

describe('feedback and monitor', () => {
  let server: Server;
  before(async () => {
    server = await startServer(project);
  });
  after(async () => {
    await server?.close();
  });

  async function predict(text: string): Promise<string> {
    const reply = await call(server.app, 'POST', '/v1/models/intents/predict', key, { text });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    return reply.body.requestId;
  }

  test('feedback is stored with its prediction, listed and counted', async () => {
    const text = 'please track my parcel 3';
    const requestId = await predict(text);
    const posted = await call(server.app, 'POST', '/v1/feedback', key, {
      requestId,
      rating: 'down',
      correction: { labels: ['cancel'] },
      comment: 'it was a cancellation',
    });
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    assert.deepEqual(Object.keys(posted.body).sort(), ['id', 'status'], 'the id and status come back');
    assert.equal(posted.body.status, 'new', 'new feedback awaits review');

    const listed = await call(server.app, 'GET', '/v1/feedback?model=intents', key);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const [stored] = listed.body.feedback;
    assert.equal(stored.id, posted.body.id, 'the feedback is listed');
    assert.equal(stored.model, 'intents', 'with the model that answered');
    assert.equal(stored.version, 1, 'and its version');
    assert.equal(stored.text, text, 'and the text');
    assert.deepEqual(stored.correction, { labels: ['cancel'] }, 'and the correction');
    assert.equal(stored.comment, 'it was a cancellation', 'and the comment');
    assert.deepEqual(
      (await call(server.app, 'GET', '/v1/feedback?status=accepted', key)).body.feedback,
      [],
      'filtered by status',
    );

    const metrics = await server.app.inject({ url: '/metrics' });
    assert.match(
      metrics.body,
      /sapphire_feedback_total\{[^}]*rating="down"[^}]*\} 1/,
      'the feedback is counted',
    );
  });

  test('bad feedback answers 422 naming the field, an unknown request 404', async () => {
    const requestId = await predict('cancel my plan 4');
    const cases: [unknown, string][] = [
      [{ requestId }, 'rating'],
      [{ requestId, rating: 'meh' }, 'rating'],
      [{ requestId, correction: { labels: ['cancel', 'track'] } }, 'correction.labels'],
      [{ requestId, correction: { labels: ['cancle'] } }, 'correction.labels[0]'],
      [{ requestId, correction: { spans: [] } }, 'correction.spans'],
      [{ requestId, correction: [1] }, 'correction'],
      [{ rating: 'up' }, 'requestId'],
    ];
    for (const [body, path] of cases) {
      const reply = await call(server.app, 'POST', '/v1/feedback', key, body);
      assert.equal(reply.status, 422, `${JSON.stringify(body)} → ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body.error.code, 'DATA_INVALID', 'the code says invalid data');
      assert.equal(reply.body.error.details.path, path, `${JSON.stringify(body)} names ${path}`);
      assert.ok(reply.body.error.details.hint, 'with a hint');
    }
    const unknown = await call(server.app, 'POST', '/v1/feedback', key, {
      requestId: 'no-such-request',
      rating: 'up',
    });
    assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
    const wrongItem = await call(server.app, 'POST', '/v1/feedback', key, {
      requestId,
      item: 5,
      rating: 'up',
    });
    assert.equal(wrongItem.status, 404, 'an item the request did not have is 404');
    assert.equal(
      (
        await project.store.feedback.listFeedback({ tenant: 'default', since: new Date(0).toISOString() })
      ).filter((f) => f.requestId === requestId).length,
      0,
      'nothing was stored',
    );
  });

  test('monitor reports usage and ratings per model version', async () => {
    const requestId = await predict('where is my package 5');
    assert.equal(
      (await call(server.app, 'POST', '/v1/feedback', key, { requestId, rating: 'up' })).status,
      201,
    );
    await server.ctx.log.flush();
    const reply = await call(server.app, 'GET', '/v1/monitor?model=intents&days=7', key);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const total = reply.body.totals.find(
      (t: { model: string; version: number }) => t.model === 'intents' && t.version === 1,
    );
    assert.ok(total, `a total for intents@1: ${JSON.stringify(reply.body.totals)}`);
    assert.ok(total.requests >= 1, 'requests are counted');
    assert.ok(total.up >= 1, 'thumbs up are counted');
    assert.equal(
      (await call(server.app, 'GET', '/v1/monitor?model=nope', key)).status,
      404,
      'an unknown model is 404',
    );
  });
});

describe('feedback on an unsampled prediction', () => {
  let server: Server;
  before(async () => {
    server = await startServer(project, { logSample: 0 });
  });
  after(async () => {
    await server?.close();
  });

  test('is found in the recent cache and logged with the feedback', async () => {
    const predicted = await call(server.app, 'POST', '/v1/models/intents/predict', key, {
      texts: ['track the delivery 7', 'refund the jacket 8'],
    });
    assert.equal(predicted.status, 200, JSON.stringify(predicted.body));
    const requestId = predicted.body.requestId as string;
    await server.ctx.log.flush();
    assert.equal(
      await project.store.feedback.getLoggedPrediction('default', requestId, 1),
      null,
      'the prediction was not sampled into the log',
    );
    const posted = await call(server.app, 'POST', '/v1/feedback', key, { requestId, item: 1, rating: 'up' });
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    const logged = await project.store.feedback.getLoggedPrediction('default', requestId, 1);
    assert.equal(logged?.text, 'refund the jacket 8', 'the prediction is now logged with the feedback');
  });
});

describe('checkCorrection', () => {
  const text = 'Nike red shoes';
  const labels = ['BRAND', 'COLOR'];

  function pathOf(fn: () => unknown): string | undefined {
    try {
      fn();
    } catch (error) {
      return (error as SapphireError).details.path;
    }
    return undefined;
  }

  test('accepts spans within the text and labels of the project', () => {
    assert.deepEqual(
      checkCorrection(
        {
          spans: [
            { start: 5, end: 8, label: 'COLOR' },
            { start: 0, end: 4, label: 'BRAND' },
          ],
        },
        'ner',
        text,
        labels,
      ),
      {
        spans: [
          { start: 5, end: 8, label: 'COLOR' },
          { start: 0, end: 4, label: 'BRAND' },
        ],
      },
    );
    assert.deepEqual(
      checkCorrection({ spans: [] }, 'ner', text, labels),
      { spans: [] },
      'no entities is a correction',
    );
    assert.deepEqual(checkCorrection({ labels: ['a', 'b'] }, 'multilabel', null, []), { labels: ['a', 'b'] });
  });

  test('names the field of every problem', () => {
    const ner = (correction: unknown) => pathOf(() => checkCorrection(correction, 'ner', text, labels));
    assert.equal(ner({ labels: ['BRAND'] }), 'correction.labels', 'ner takes spans');
    assert.equal(ner({ spans: [{ start: 0, end: 40, label: 'BRAND' }] }), 'correction.spans[0].end');
    assert.equal(ner({ spans: [{ start: -1, end: 4, label: 'BRAND' }] }), 'correction.spans[0].start');
    assert.equal(ner({ spans: [{ start: 0, end: 4, label: 'SIZE' }] }), 'correction.spans[0].label');
    assert.equal(
      ner({
        spans: [
          { start: 0, end: 8, label: 'BRAND' },
          { start: 5, end: 8, label: 'COLOR' },
        ],
      }),
      'correction.spans[1]',
      'overlapping spans',
    );
    assert.equal(
      pathOf(() => checkCorrection({ labels: [] }, 'classify', text, [])),
      'correction.labels',
    );
    assert.equal(
      pathOf(() => checkCorrection({ labels: ['x', 'x'] }, 'multilabel', text, [])),
      'correction.labels',
    );
  });
});
