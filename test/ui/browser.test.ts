/**
 * The web UI in a real browser: playwright-core drives Debian's chromium against a real server (127.0.0.1, keys
 * off like `sapphire ui`) over a tiny NER project built here. Every page loads without console errors; Try it
 * highlights entities and records thumbs-down feedback; run comparison shows the metric delta; annotating three
 * examples makes a new dataset version. Screenshots of each page go to test-artifacts/ui/ (git-ignored).
 * Skipped when no chromium is installed (`.ci/run` installs it).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { problemCardSchema } from '../../src/core/project.ts';
import type { Example } from '../../src/data/types.ts';
import '../../src/models/index.ts';
import { registerModelVersion } from '../../src/registry/register.ts';
import { type BuiltServer, buildServer } from '../../src/serve/server.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { trainModel } from '../../src/train/train.ts';
import { trainConfigSchema } from '../../src/train/train-config.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'ui');

const BRANDS = ['Nike', 'Adidas', 'Puma', 'Reebok', 'Asics'];
const PLACES = ['Paris', 'London', 'Berlin', 'Madrid', 'Rome'];
// Names only in dev and test: the token-majority baseline cannot know them, a feature-based tagger can.
const NEW_BRANDS = ['Fila', 'Vans', 'Lacoste'];
const NEW_PLACES = ['Oslo', 'Vienna', 'Lisbon'];
const TEMPLATES = [
  'I bought {b} shoes in {p}',
  '{b} opened a store in {p}',
  'cheap {b} trainers near {p}',
  'is {b} cheaper in {p}',
];

/** 60 short shop texts with BRAND and LOC spans, split 40/10/10 (dev and test with some unseen names). */
function shopExamples(): Example[] {
  const out: Example[] = [];
  for (let i = 0; i < 60; i++) {
    const split = i % 6 === 4 ? 'dev' : i % 6 === 5 ? 'test' : 'train';
    const unseen = split !== 'train' && i % 12 < 6;
    const brand = unseen ? NEW_BRANDS[i % 3]! : BRANDS[i % 5]!;
    const place = unseen ? NEW_PLACES[i % 3]! : PLACES[(i * 3) % 5]!;
    const template = TEMPLATES[i % 4]!;
    const text = template.replace('{b}', brand).replace('{p}', place);
    const b = text.indexOf(brand);
    const p = text.indexOf(place);
    out.push({
      id: `s${i}`,
      text,
      spans: [
        { start: b, end: b + brand.length, label: 'BRAND' },
        { start: p, end: p + place.length, label: 'LOC' },
      ].sort((x, y) => x.start - y.start),
      split,
      meta: {},
    });
  }
  return out;
}

describe('web UI in chromium', { skip: CHROMIUM ? false : 'no chromium (apt-get install chromium)' }, () => {
  let dir: string;
  let store: Store;
  let server: BuiltServer;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  const runs: string[] = [];
  const problems: string[] = [];

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'sapphire-ui-'));
    store = await openStore({ projectDir: dir });
    await store.putDatasetVersion({
      name: 'shop',
      examples: shopExamples(),
      operation: { kind: 'import', params: {} },
    });
    const card = problemCardSchema.parse({
      name: 'shop',
      task: 'ner',
      labels: ['BRAND', 'LOC'],
      description: 'Brands and places in shop texts.',
      metrics: { primary: 'span_f1_micro' },
    });
    for (const architecture of ['token-majority.v1', 'perceptron.v1']) {
      const config = trainConfigSchema.parse({ model: { architecture }, data: { dataset: 'shop' }, seed: 3 });
      const result = await trainModel({
        store,
        card,
        config,
        projectDir: dir,
        writeModelDir: false,
        evaluateTrain: false,
      });
      runs.push(result.run.id);
    }
    await registerModelVersion(store, {
      tenant: 'default',
      source: runs[1]!,
      name: 'shop-ner',
      actor: 'test',
      cwd: dir,
    });
    await store.registry.setAlias('default', 'shop-ner', 'production', 1);
    server = await buildServer({
      store,
      card,
      projectDir: dir,
      auth: false,
      logger: false,
      pollIntervalMs: 200,
    });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    await server.ready;
    base = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a page of the app, collecting console errors and failed API calls into `problems`. */
  async function open(path: string, into: Page | null = null): Promise<Page> {
    const page = into ?? (await context.newPage());
    if (!into) {
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`${path}: console: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`${path}: ${e.message}`));
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`${path}: ${r.status()} ${r.url()}`);
      });
    }
    await page.goto(`${base}/ui/${path}`);
    await page.waitForSelector('main h1');
    await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'), null, {
      timeout: 20_000,
    });
    return page;
  }

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  test('every page loads without console errors (screenshots in test-artifacts/ui)', async () => {
    const pages: [string, string][] = [
      ['', 'overview'],
      ['datasets', 'datasets'],
      ['runs', 'runs'],
      [`analysis?run=${runs[0]}`, 'analysis'],
      ['try', 'try'],
      ['monitoring', 'monitoring'],
      ['annotate', 'annotate'],
    ];
    for (const [path, name] of pages) {
      const page = await open(path);
      assert.equal(
        await page.locator('.error').count(),
        0,
        `${name}: ${await page.locator('.error').allTextContents()}`,
      );
      await shot(page, name);
      await page.close();
    }
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await open('', phone);
    await shot(phone, 'overview-phone');
    await phone.close();
    assert.deepEqual(problems, [], 'no console errors or failed API calls');
  });

  test('try it: highlighted entities and a thumbs-down recorded as feedback', async () => {
    const page = await open('try');
    await page.fill('#try-input', 'I bought Nike shoes in Paris');
    await page.getByRole('button', { name: 'Predict' }).click();
    await page.waitForSelector('mark.ent');
    const marks = await page.locator('.highlighted mark.ent').allTextContents();
    assert.ok(
      marks.some((m) => m.includes('Nike')),
      `highlighted: ${marks.join(' | ')}`,
    );
    const requestId = (await page.locator('text=/request [0-9a-f-]{36}/').textContent())!
      .replace('request ', '')
      .trim();
    await page.getByRole('button', { name: 'Thumbs down' }).click();
    await page.waitForSelector('text=recorded (thumbs down)');
    await shot(page, 'try-answer');
    const listed = (await (await fetch(`${base}/v1/feedback?limit=10`)).json()) as {
      feedback: { requestId: string; rating: string }[];
    };
    assert.ok(
      listed.feedback.some((f) => f.requestId === requestId && f.rating === 'down'),
      `feedback for ${requestId}: ${JSON.stringify(listed.feedback)}`,
    );
    // HTML input: the entities are found in the page's text.
    await page.getByLabel('HTML').check();
    await page.fill(
      '#try-input',
      '<html><body><article><p>Cheap <b>Adidas</b> trainers near Rome</p></article></body></html>',
    );
    await page.getByRole('button', { name: 'Predict' }).click();
    await page.waitForSelector('.highlighted mark.ent >> text=Adidas');
    await page.close();
    // The traffic and the rating show on the monitoring page's charts.
    await server.ctx.log.flush();
    const monitoring = await open('monitoring');
    await monitoring.waitForSelector('.chart canvas');
    assert.ok(
      (await monitoring.locator('.chart canvas').count()) >= 5,
      'traffic, latency, errors, thumbs, overrides',
    );
    await shot(monitoring, 'monitoring-traffic');
    await monitoring.close();
    assert.deepEqual(problems, []);
  });

  test('runs: ticking two runs and comparing shows the metric delta', async () => {
    const page = await open('runs');
    await page.getByLabel(`select run ${runs[0]}`).check();
    await page.getByLabel(`select run ${runs[1]}`).check();
    await page.getByRole('button', { name: /^Compare/ }).click();
    await page.waitForSelector('table[aria-label="Metric deltas"]');
    const row = page.locator('table[aria-label="Metric deltas"] tr', { hasText: 'dev.span_f1_micro' });
    const delta = await row.locator('.delta').first().textContent();
    assert.match(delta ?? '', /\([+−]\d\.\d{3}\)/, `delta cell: ${delta}`);
    assert.ok((await page.locator('text=/significan/').count()) > 0, 'significance shown');
    await shot(page, 'runs-compare');
    await page.close();
    assert.deepEqual(problems, []);
  });

  test('annotate: three examples by keyboard make a new dataset version', async () => {
    const before_ = await store.getDatasetVersion('shop');
    const page = await open('annotate?dataset=shop&model=shop-ner');
    await page.getByLabel('Your name').fill('pm');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForSelector('#annotate-text');
    for (let i = 0; i < 3; i++) {
      const text = page.locator('#annotate-text');
      await text.focus();
      if (i === 0) {
        // Label the first word by keyboard: → selects it, 1 gives it the first label.
        await page.keyboard.press('ArrowRight');
        await page.keyboard.press('1');
      }
      await page.keyboard.press('Enter');
      await page.waitForSelector(`text=/Example ${i + 2} of/`);
    }
    await page.getByRole('button', { name: /Save 3 annotations/ }).click();
    await page.waitForSelector('text=/Saved 3 annotations as shop@/');
    await shot(page, 'annotate-saved');
    const after_ = await store.getDatasetVersion('shop');
    assert.notEqual(after_.id, before_.id, 'a new version');
    assert.equal(after_.parentId, before_.id);
    assert.equal(after_.operation.kind, 'annotate');
    assert.equal((after_.operation.params.annotations as unknown[]).length, 3);
    await page.goto(`${base}/ui/datasets`);
    await page.waitForSelector(`text=${after_.id}`);
    await page.close();
    assert.deepEqual(problems, []);
  });

  test('with API keys on, the page asks for a key once and then works', async () => {
    const keyed = await buildServer({
      store,
      card: server.ctx.card,
      projectDir: dir,
      logger: false,
      pollIntervalMs: 200,
    });
    try {
      await keyed.app.listen({ port: 0, host: '127.0.0.1' });
      await keyed.ready;
      const url = `http://127.0.0.1:${(keyed.app.server.address() as AddressInfo).port}/ui/`;
      const { key } = await store.tenants.createApiKey({
        tenant: 'default',
        scope: 'admin',
        label: 'ui test',
      });
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(url);
      await page.waitForSelector('.error >> text=needs an API key');
      await page.getByRole('button', { name: 'API key' }).click();
      await page.getByLabel('API key').fill(key);
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForSelector('text=Where you are in the loop');
      assert.equal(await page.locator('.error').count(), 0, 'no error once the key is given');
      await page.close();
    } finally {
      await keyed.close();
    }
  });
});
