/** RequestLog: sampling, exact usage, batched flushes, the recent-items cache, override hits and retention. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RequestLog } from '../../src/serve/request-log.ts';
import type { LoggedPrediction, UsageCount } from '../../src/store/serving-store.ts';
import type { Store } from '../../src/store/store.ts';

/** A store that only records what the request log writes. */
function fakeStore(options: { failLogs?: number } = {}) {
  const written = {
    rows: [] as LoggedPrediction[],
    usage: [] as UsageCount[],
    hits: new Map<string, number>(),
    purges: [] as string[],
    logCalls: 0,
  };
  let failures = options.failLogs ?? 0;
  const store = {
    feedback: {
      logPredictions: async (rows: readonly LoggedPrediction[]) => {
        written.logCalls++;
        if (failures > 0) {
          failures--;
          throw new Error('database is locked');
        }
        written.rows.push(...rows);
      },
      addUsage: async (counts: readonly UsageCount[]) => {
        written.usage.push(...counts.map((c) => ({ ...c })));
      },
      purgePredictions: async (before: string) => {
        written.purges.push(before);
        return 0;
      },
    },
    overrides: {
      addOverrideHits: async (hits: ReadonlyMap<string, number>) => {
        for (const [id, n] of hits) written.hits.set(id, (written.hits.get(id) ?? 0) + n);
      },
    },
  } as unknown as Store;
  return { store, written };
}

function entries(requestId: string, n: number, overrides: { overridden?: boolean; text?: string } = {}) {
  return Array.from(
    { length: n },
    (_, item): LoggedPrediction => ({
      requestId,
      item,
      tenant: 'default',
      model: 'intents',
      version: 2,
      text: overrides.text ?? `text ${requestId}/${item}`,
      output: { labels: [{ label: 'top_up', score: 0.9 }], overrides: [] },
      overridden: overrides.overridden ?? false,
      latencyMs: 1,
      createdAt: '2030-01-02T03:04:05.000Z',
    }),
  );
}

const sum = (usage: UsageCount[], key: 'requests' | 'items' | 'overridden' | 'errors') =>
  usage.reduce((s, u) => s + u[key], 0);

describe('RequestLog', () => {
  test('sample 1 logs every item; usage counts requests, items and overridden items exactly', async () => {
    const { store, written } = fakeStore();
    const log = new RequestLog({ store, sample: 1, retentionDays: 0, flushIntervalMs: 60_000 });
    log.record(entries('r1', 3));
    log.record(entries('r2', 1, { overridden: true }));
    log.countError('default', 'intents', 2);
    await log.close();
    assert.equal(written.rows.length, 4);
    assert.deepEqual(
      written.usage.find((u) => u.day === '2030-01-02'),
      {
        tenant: 'default',
        model: 'intents',
        version: 2,
        day: '2030-01-02',
        requests: 2,
        items: 4,
        overridden: 1,
        errors: 0,
      },
    );
    assert.equal(sum(written.usage, 'errors'), 1, 'the error is counted');
    assert.equal(sum(written.usage, 'requests'), 2);
  });

  test('sampling logs about the share asked for, whole requests at a time, while usage stays exact', async () => {
    const { store, written } = fakeStore();
    const log = new RequestLog({ store, sample: 0.25, seed: 7, retentionDays: 0, flushIntervalMs: 60_000 });
    for (let i = 0; i < 2000; i++) log.record(entries(`r${i}`, 2));
    await log.close();
    const requests = new Set(written.rows.map((r) => r.requestId));
    assert.ok(
      requests.size > 400 && requests.size < 600,
      `sampled ${requests.size} of 2000 requests at 0.25`,
    );
    assert.equal(written.rows.length, requests.size * 2, 'both items of a sampled request are logged');
    assert.equal(sum(written.usage, 'requests'), 2000);
    assert.equal(sum(written.usage, 'items'), 4000);
  });

  test('the same seed samples the same requests; sample 0 logs nothing but still counts', async () => {
    const runs: string[][] = [];
    for (let run = 0; run < 2; run++) {
      const { store, written } = fakeStore();
      const log = new RequestLog({ store, sample: 0.5, seed: 42, retentionDays: 0 });
      for (let i = 0; i < 100; i++) log.record(entries(`r${i}`, 1));
      await log.close();
      runs.push(written.rows.map((r) => r.requestId));
    }
    assert.deepEqual(runs[0], runs[1]);
    const { store, written } = fakeStore();
    const log = new RequestLog({ store, sample: 0, retentionDays: 0 });
    log.record(entries('x', 2));
    await log.close();
    assert.equal(written.rows.length, 0);
    assert.equal(sum(written.usage, 'items'), 2);
  });

  test('a full buffer is flushed without waiting for the timer', async () => {
    const { store, written } = fakeStore();
    const log = new RequestLog({ store, retentionDays: 0, flushIntervalMs: 60_000, flushRows: 10 });
    log.record(entries('big', 12));
    for (let i = 0; i < 50 && written.rows.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(written.rows.length, 12, 'flushed once 10 rows were buffered');
    await log.close();
  });

  test('the timer flushes buffered rows', async () => {
    const { store, written } = fakeStore();
    const log = new RequestLog({ store, retentionDays: 0, flushIntervalMs: 10 });
    log.record(entries('t', 1));
    for (let i = 0; i < 200 && written.rows.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(written.rows.length, 1);
    await log.close();
  });

  test('rows a failing store refused are written by a later flush', async () => {
    const { store, written } = fakeStore({ failLogs: 1 });
    const log = new RequestLog({ store, retentionDays: 0, flushIntervalMs: 60_000 });
    log.record(entries('a', 2));
    await log.flush();
    assert.equal(written.rows.length, 0);
    log.record(entries('b', 1));
    await log.flush();
    assert.deepEqual(
      written.rows.map((r) => `${r.requestId}/${r.item}`),
      ['a/0', 'a/1', 'b/0'],
    );
    await log.close();
  });

  test('recent() finds unsampled items of this tenant only and forgets the oldest beyond its size', async () => {
    const { store } = fakeStore();
    const log = new RequestLog({ store, sample: 0, retentionDays: 0, recentItems: 3 });
    log.record(entries('r1', 2));
    log.record(entries('r2', 2));
    assert.equal(log.recent('default', 'r1', 0), null, 'the oldest item was evicted');
    assert.equal(log.recent('default', 'r1', 1)?.text, 'text r1/1');
    assert.equal(log.recent('default', 'r2', 1)?.item, 1);
    assert.equal(log.recent('acme', 'r2', 1), null, 'another tenant never sees it');
    assert.equal(log.recent('default', 'r2', 5), null);
    await log.close();
  });

  test('recent() also keeps the total characters bounded', async () => {
    const { store } = fakeStore();
    const log = new RequestLog({ store, sample: 0, retentionDays: 0, recentChars: 25 });
    log.record(entries('a', 1, { text: 'x'.repeat(10) }));
    log.record(entries('b', 1, { text: 'y'.repeat(10) }));
    log.record(entries('c', 1, { text: 'z'.repeat(10) }));
    assert.equal(log.recent('default', 'a', 0), null);
    assert.ok(log.recent('default', 'c', 0), 'the newest item is kept');
    await log.close();
  });

  test('override hits are summed in memory and written with the flush', async () => {
    const { store, written } = fakeStore();
    const log = new RequestLog({ store, retentionDays: 0, flushIntervalMs: 60_000 });
    log.overrideHit('ov_1');
    log.overrideHit('ov_1');
    log.overrideHit('ov_2');
    assert.equal(written.hits.size, 0, 'nothing written before the flush');
    await log.flush();
    assert.deepEqual([...written.hits.entries()].sort(), [
      ['ov_1', 2],
      ['ov_2', 1],
    ]);
    await log.close();
  });

  test('logged predictions older than the retention are purged on start', async () => {
    const { store, written } = fakeStore();
    const before = Date.now();
    const log = new RequestLog({ store, retentionDays: 30 });
    await log.close();
    assert.equal(written.purges.length, 1);
    const cutoff = Date.parse(written.purges[0]!);
    const expected = before - 30 * 24 * 3600 * 1000;
    assert.ok(Math.abs(cutoff - expected) < 60_000, `cutoff ${written.purges[0]} is 30 days back`);
  });
});
