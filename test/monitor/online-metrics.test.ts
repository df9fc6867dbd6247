/** Online metrics: usage and feedback per model version per day, thumbs-up rate, override hits. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type OnlineMetrics, onlineMetrics, renderOnlineMetrics } from '../../src/monitor/online-metrics.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';

delete process.env.SAPPHIRE_STORE;
delete process.env.SAPPHIRE_ARTIFACTS;

const DAY_MS = 86_400_000;

function day(offset: number, now = new Date()): string {
  return new Date(now.getTime() + offset * DAY_MS).toISOString().slice(0, 10);
}

describe('renderOnlineMetrics', () => {
  it('renders totals, days and overrides as tables', () => {
    const metrics: OnlineMetrics = {
      tenant: 'acme',
      days: 7,
      since: '2024-05-01',
      rows: [
        {
          model: 'shop',
          version: 2,
          day: '2024-05-06',
          requests: 1200,
          items: 1500,
          overridden: 12,
          errors: 1,
          up: 3,
          down: 1,
          corrections: 1,
          thumbsUpRate: 0.75,
        },
      ],
      totals: [
        {
          model: 'shop',
          version: 2,
          requests: 1200,
          items: 1500,
          overridden: 12,
          errors: 1,
          up: 3,
          down: 1,
          corrections: 1,
          thumbsUpRate: 0.75,
        },
      ],
      overrides: [
        {
          id: 'ov_1',
          model: 'shop',
          action: 'never',
          match: 'phrase',
          target: 'entity',
          label: 'BRAND',
          pattern: 'apple pie',
          hits: 12,
        },
      ],
    };
    const text = renderOnlineMetrics(metrics);
    assert.match(text, /Online metrics of tenant acme, last 7 days since 2024-05-01/);
    assert.match(text, /shop\s+v2\s+1,200\s+1,500\s+12\s+1\s+3\s+1\s+75\.0%\s+1/);
    assert.match(text, /2024-05-06/);
    assert.match(text, /Overrides: 1 active, 12 hits/);
    assert.match(text, /ov_1\s+shop\s+never\s+entity\s+BRAND\s+phrase apple pie\s+12/);
  });

  it('says what to do when nothing was served', () => {
    const text = renderOnlineMetrics({
      tenant: 'default',
      days: 1,
      since: '2024-05-01',
      rows: [],
      totals: [],
      overrides: [],
    });
    assert.match(text, /No requests or feedback for tenant default in the last 1 day since 2024-05-01/);
    assert.match(text, /sapphire serve/);
    assert.match(text, /No active overrides/);
  });
});

describe('onlineMetrics', () => {
  const dirs: string[] = [];
  const stores: Store[] = [];
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('sums usage and feedback per model version and day inside the window, per tenant', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sapphire-monitor-'));
    dirs.push(dir);
    const store = await openStore({ projectDir: dir });
    stores.push(store);
    await store.tenants.createTenant({ id: 'acme' });
    const usage = (tenant: string, model: string, version: number, offset: number, requests: number) => ({
      tenant,
      model,
      version,
      day: day(offset),
      requests,
      items: requests * 2,
      overridden: 1,
      errors: 0,
    });
    await store.feedback.addUsage([
      usage('default', 'shop', 1, 0, 10),
      usage('default', 'shop', 1, -1, 5),
      usage('default', 'shop', 1, -30, 999),
      usage('default', 'shop', 2, 0, 7),
      usage('default', 'other', 1, 0, 3),
      usage('acme', 'shop', 1, 0, 1000),
    ]);
    await store.feedback.addUsage([usage('default', 'shop', 1, 0, 1)]);
    const rate = (
      rating: 'up' | 'down',
      correction: Record<string, unknown> | null = null,
      tenant = 'default',
    ) =>
      store.feedback.addFeedback({
        tenant,
        requestId: `r-${Math.random()}`,
        model: 'shop',
        version: 1,
        rating,
        correction,
      });
    await rate('up');
    await rate('up');
    await rate('up');
    await rate('down', { labels: ['x'] });
    await rate('down', null, 'acme');
    const rule = await store.overrides.addOverride({
      tenant: 'default',
      model: 'shop',
      action: 'never',
      match: 'phrase',
      pattern: 'apple pie',
      target: 'class',
      label: 'food',
      createdBy: 'test',
    });
    const quiet = await store.overrides.addOverride({
      tenant: 'default',
      model: 'other',
      action: 'always',
      match: 'exact',
      pattern: 'hello',
      target: 'class',
      label: 'greeting',
      createdBy: 'test',
    });
    const gone = await store.overrides.addOverride({
      tenant: 'default',
      model: 'shop',
      action: 'always',
      match: 'regex',
      pattern: 'x+',
      target: 'class',
      label: 'x',
      createdBy: 'test',
    });
    await store.overrides.addOverrideHits(
      new Map([
        [rule.id, 5],
        [gone.id, 50],
      ]),
    );
    await store.overrides.removeOverride('default', gone.id, 'test');

    const m = await onlineMetrics(store, { tenant: 'default', days: 7 });
    assert.equal(m.tenant, 'default');
    assert.equal(m.since, day(-6));
    const shop1 = m.totals.find((t) => t.model === 'shop' && t.version === 1);
    assert.deepEqual(shop1, {
      model: 'shop',
      version: 1,
      requests: 16,
      items: 32,
      overridden: 3,
      errors: 0,
      up: 3,
      down: 1,
      corrections: 1,
      thumbsUpRate: 0.75,
    });
    assert.equal(m.totals.find((t) => t.model === 'shop' && t.version === 2)?.thumbsUpRate, null);
    const shopDays = m.rows
      .filter((r) => r.model === 'shop' && r.version === 1)
      .map((r) => [r.day, r.requests]);
    assert.deepEqual(shopDays, [
      [day(-1), 5],
      [day(0), 11],
    ]);
    assert.deepEqual(
      m.overrides.map((o) => [o.id, o.hits]),
      [
        [rule.id, 5],
        [quiet.id, 0],
      ],
      'active rules only, most hits first',
    );

    const one = await onlineMetrics(store, { tenant: 'default', model: 'other', days: 1 });
    assert.deepEqual(
      one.totals.map((t) => [t.model, t.requests]),
      [['other', 3]],
    );
    assert.deepEqual(
      one.overrides.map((o) => o.id),
      [quiet.id],
    );

    const acme = await onlineMetrics(store, { tenant: 'acme' });
    assert.deepEqual(
      acme.totals.map((t) => [t.model, t.requests, t.down]),
      [['shop', 1000, 1]],
    );
    assert.deepEqual(acme.overrides, []);
    assert.match(renderOnlineMetrics(m), /shop\s+v1\s+16/);
  });
});
