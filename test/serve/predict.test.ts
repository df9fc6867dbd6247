/** POST /v1/models/{name}/predict in-process (app.inject): texts, batches, HTML, limits, overrides, logging. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildServer } from '../../src/serve/server.ts';
import { createTestProject, matchGolden, registerTiny, sleep, type TestProject } from './helpers.ts';

let classify: TestProject;
let ner: TestProject;
type Server = Awaited<ReturnType<typeof buildServer>>;
let intents: Server;
let shop: Server;

before(async () => {
  classify = await createTestProject('classify');
  await registerTiny(classify, { name: 'intents', alias: 'production' });
  ner = await createTestProject('ner');
  await registerTiny(ner, { name: 'shop', alias: 'production' });
  intents = await buildServer({
    store: classify.store,
    card: classify.card,
    projectDir: classify.dir,
    auth: false,
    limits: { textChars: 40, batchSize: 3, bodyBytes: 2000 },
    pollIntervalMs: 50,
  });
  shop = await buildServer({
    store: ner.store,
    card: ner.card,
    projectDir: ner.dir,
    auth: false,
    pollIntervalMs: 50,
  });
  await Promise.all([intents.ready, shop.ready]);
});

after(async () => {
  await intents.close();
  await shop.close();
  await classify.cleanup();
  await ner.cleanup();
});

const predict = (server: Server, name: string, payload: unknown, headers: Record<string, string> = {}) =>
  server.app.inject({
    method: 'POST',
    url: `/v1/models/${name}/predict`,
    payload: payload as object,
    headers,
  });

describe('predict', () => {
  test('one text: labels and scores with the model name, version, architecture and request id', async () => {
    const res = await predict(intents, 'intents', { text: 'my card has not arrived' });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(body.model, { name: 'intents', version: 1, architecture: 'linear.v1' });
    assert.equal(body.result.labels[0].label, 'card_arrival');
    assert.ok(body.result.labels[0].score > 0 && body.result.labels[0].score <= 1, 'a confidence');
    assert.equal(body.result.scores.length, 3);
    assert.deepEqual(body.result.overrides, []);
    assert.equal(typeof body.requestId, 'string');
    assert.equal(res.headers['x-request-id'], body.requestId);
  });

  test('a batch answers one result per text, in order', async () => {
    const res = await predict(intents, 'intents', { texts: ['top up my account', 'exchange rate today'] });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.result, undefined);
    assert.deepEqual(
      body.results.map((r: { labels: { label: string }[] }) => r.labels[0]!.label),
      ['top_up', 'exchange_rate'],
    );
  });

  test('a client request id is kept; name@version and name@production resolve', async () => {
    const res = await predict(
      intents,
      'intents@1',
      { text: 'top up' },
      { 'x-request-id': 'client-req-0001' },
    );
    assert.equal(res.json().requestId, 'client-req-0001');
    assert.equal(res.headers['x-request-id'], 'client-req-0001');
    const odd = await predict(
      intents,
      'intents@production',
      { text: 'top up' },
      { 'x-request-id': 'bad id!' },
    );
    assert.equal(odd.statusCode, 200);
    assert.notEqual(odd.json().requestId, 'bad id!', 'an unusable id is replaced');
  });

  test('NER entities carry offsets, text and score; HTML input maps them back into the page', async () => {
    const plain = await predict(shop, 'shop', { text: 'I love Nike in Paris' });
    assert.equal(plain.statusCode, 200);
    const entities = plain.json().result.entities as {
      start: number;
      end: number;
      text: string;
      label: string;
    }[];
    assert.deepEqual(
      entities.map((e) => [e.text, e.label, e.start, e.end]),
      [
        ['Nike', 'BRAND', 7, 11],
        ['Paris', 'LOC', 15, 20],
      ],
    );
    const html =
      '<html><body><p>Fish &amp; chips &mdash; I love <b>Nike</b> in <i>Paris</i></p></body></html>';
    const res = await predict(shop, 'shop', { html });
    assert.equal(res.statusCode, 200);
    const result = res.json().result;
    assert.match(result.text, /Fish & chips — I love Nike in Paris/);
    for (const e of result.entities as {
      text: string;
      start: number;
      end: number;
      htmlStart: number;
      htmlEnd: number;
    }[]) {
      assert.equal(result.text.slice(e.start, e.end), e.text);
      assert.equal(html.slice(e.htmlStart, e.htmlEnd), e.text, `${e.text} maps back into the HTML`);
    }
    assert.equal(result.entities.length, 2);
    const batch = await predict(shop, 'shop', { htmls: [html, '<p>Adidas</p>'] });
    assert.equal(batch.json().results.length, 2);
    assert.equal(batch.json().results[1].entities[0].htmlStart, 3);
  });

  test('limits: a long text, a big batch and a big body answer 422/413 with clear messages (goldens)', async () => {
    const long = await predict(intents, 'intents', { texts: ['ok', 'x'.repeat(41)] });
    assert.equal(long.statusCode, 422);
    const longGolden = matchGolden('422-text-too-long.json', long.json());
    assert.deepEqual(longGolden.actual, longGolden.expected);
    assert.equal(long.json().error.message, 'texts[1] has 41 characters; the limit is 40');

    const batch = await predict(intents, 'intents', { texts: ['a', 'b', 'c', 'd'] });
    assert.equal(batch.statusCode, 422);
    assert.equal(batch.json().error.message, 'texts has 4 items; the limit is 3 per request');
    assert.equal(batch.json().error.details.path, 'texts');

    const body = await predict(intents, 'intents', { text: 'y'.repeat(3000) });
    assert.equal(body.statusCode, 413);
    const bodyGolden = matchGolden('413-body-too-large.json', body.json());
    assert.deepEqual(bodyGolden.actual, bodyGolden.expected);
  });

  test('bad bodies: none or two inputs, an unknown field, a wrong type are 422 naming the field (golden)', async () => {
    const none = await predict(intents, 'intents', {});
    assert.equal(none.statusCode, 422);
    assert.match(none.json().error.message, /none of text, texts, html or htmls/);
    const two = await predict(intents, 'intents', { text: 'a', html: '<p>b</p>' });
    assert.equal(two.statusCode, 422);
    assert.match(two.json().error.message, /text and html; send exactly one/);
    const unknown = await predict(intents, 'intents', { txt: 'a' });
    assert.equal(unknown.statusCode, 422);
    const golden = matchGolden('422-unknown-field.json', unknown.json());
    assert.deepEqual(golden.actual, golden.expected);
    const wrong = await predict(intents, 'intents', { texts: ['a', { t: 1 }] });
    assert.equal(wrong.statusCode, 422);
    assert.equal(wrong.json().error.details.path, 'texts[1]');
    const empty = await predict(intents, 'intents', { texts: [] });
    assert.equal(empty.statusCode, 422);
  });

  test('an unknown model is 404 NOT_FOUND with a hint (golden)', async () => {
    const res = await predict(intents, 'nope', { text: 'x' });
    assert.equal(res.statusCode, 404);
    const golden = matchGolden('404-unknown-model.json', res.json());
    assert.deepEqual(golden.actual, golden.expected);
    assert.ok(res.json().error.details.hint, 'a hint');
    const route = await intents.app.inject({ method: 'GET', url: '/v1/nothing' });
    assert.equal(route.statusCode, 404);
    const routeGolden = matchGolden('404-unknown-route.json', route.json());
    assert.deepEqual(routeGolden.actual, routeGolden.expected);
  });

  test('a malformed URL is 400 BAD_INPUT in the JSON error body, with a hint', async () => {
    const res = await intents.app.inject({
      method: 'POST',
      url: '/v1/models/%E0%A4%A/predict',
      payload: { text: 'x' },
    });
    assert.equal(res.statusCode, 400);
    const body = res.json();
    assert.equal(body.error?.code, 'BAD_INPUT', `the house error body: ${res.body}`);
    assert.match(body.error.message, /not a valid url/, 'the message says what is wrong');
    assert.ok(body.error.details?.hint, 'a hint');
  });

  test('override rules apply after the model, are marked, counted in metrics and flushed as hits', async () => {
    const rule = await classify.store.overrides.addOverride({
      tenant: 'default',
      model: 'intents',
      action: 'always',
      match: 'phrase',
      pattern: 'lost wallet',
      target: 'class',
      label: 'card_arrival',
      createdBy: 'test',
    });
    // The cache re-reads rules when the override revision changes (polled every 50 ms here).
    let body: {
      result: { labels: { label: string; override?: string }[]; overrides: { id: string }[] };
    } | null = null;
    for (let i = 0; i < 100; i++) {
      body = (await predict(intents, 'intents', { text: 'top up after a lost wallet' })).json();
      if (body!.result.overrides.length > 0) break;
      await sleep(20);
    }
    assert.deepEqual(body!.result.labels, [{ label: 'card_arrival', score: 1, override: rule.id }]);
    assert.deepEqual(body!.result.overrides, [
      { id: rule.id, action: 'always', label: 'card_arrival', target: 'class' },
    ]);
    const untouched = (await predict(intents, 'intents', { text: 'top up my account' })).json();
    assert.deepEqual(untouched.result.overrides, []);
    const metrics = await intents.app.inject({ method: 'GET', url: '/metrics' });
    assert.ok(
      metrics.body.includes(
        `sapphire_override_hits_total{model="intents",rule="${rule.id}",action="always"} 1`,
      ),
      'the hit is in /metrics',
    );
    await intents.ctx.log.flush();
    const [stored] = await classify.store.overrides.listOverrides('default', { model: 'intents' });
    assert.equal(stored!.hits, 1);
    await classify.store.overrides.removeOverride('default', rule.id, 'test');
  });

  test('predictions are logged (flushed in batches) and usage is counted', async () => {
    const res = await predict(intents, 'intents', { texts: ['top up', 'card'] });
    const requestId = res.json().requestId as string;
    assert.equal(
      intents.ctx.log.recent('default', requestId, 1)?.text,
      'card',
      'in the recent cache at once',
    );
    await intents.ctx.log.flush();
    const logged = await classify.store.feedback.getLoggedPrediction('default', requestId, 1);
    assert.equal(logged?.text, 'card');
    assert.equal(logged?.model, 'intents');
    assert.equal(logged?.version, 1);
    const usage = await classify.store.feedback.usage({ tenant: 'default', model: 'intents' });
    assert.ok((usage[0]?.requests ?? 0) >= 1, 'usage counted');
    assert.ok((usage[0]?.errors ?? 0) >= 1, 'the 422s above counted as errors');
  });

  test('/metrics has the request, latency, batch, label and confidence series', async () => {
    await predict(intents, 'intents', { text: 'exchange rate' });
    const res = await intents.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain/);
    for (const series of [
      'sapphire_requests_total{tenant="default",model="intents",version="1"}',
      'sapphire_request_duration_seconds_bucket{le="0.005",model="intents",version="1"}',
      'sapphire_batch_size_count{model="intents",version="1"}',
      'sapphire_predicted_labels_total{model="intents",version="1",label="exchange_rate"}',
      'sapphire_prediction_confidence_count{model="intents",version="1"}',
      'sapphire_errors_total{route="/v1/models/:name/predict",code="DATA_INVALID",status="422"}',
      'sapphire_models_loaded 1',
    ])
      assert.ok(res.body.includes(series), `missing ${series}`);
  });

  test('OpenAPI at /docs/json documents predict; the UI answers at /docs', async () => {
    const spec = await intents.app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(spec.statusCode, 200);
    const doc = spec.json();
    assert.equal(doc.info.title, 'Sapphire');
    assert.ok(doc.paths['/v1/models/{name}/predict']?.post, 'predict is documented');
    assert.ok(doc.paths['/healthz']?.get, 'healthz is documented');
    const ui = await intents.app.inject({ method: 'GET', url: '/docs' });
    assert.ok(ui.statusCode === 200 || ui.statusCode === 302, `docs UI answered ${ui.statusCode}`);
  });
});

describe('predict with API keys', () => {
  test('no key is 401 UNAUTHORIZED (golden); a key of the tenant predicts', async () => {
    const server = await buildServer({
      store: classify.store,
      card: classify.card,
      projectDir: classify.dir,
    });
    try {
      await server.ready;
      const res = await predict(server, 'intents', { text: 'top up' });
      assert.equal(res.statusCode, 401);
      const golden = matchGolden('401-missing-key.json', res.json());
      assert.deepEqual(golden.actual, golden.expected);
      const { key } = await classify.store.tenants.createApiKey({ tenant: 'default', scope: 'predict' });
      const ok = await predict(server, 'intents', { text: 'top up' }, { authorization: `Bearer ${key}` });
      assert.equal(ok.statusCode, 200);
      const health = await server.app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(health.statusCode, 200, '/healthz needs no key');
    } finally {
      await server.close();
    }
  });
});
