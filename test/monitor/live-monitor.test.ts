/** Time buckets of the live monitor: windows pick whole buckets, retention bounds memory, publish failures retry. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LiveMonitor } from '../../src/monitor/live-monitor.ts';
import type { SketchBucket } from '../../src/store/serving-store.ts';
import type { Store } from '../../src/store/store.ts';

const version = { tenant: 'default', name: 'shop', version: 1 };
const answer = { labels: [{ label: 'a', score: 0.8 }] };
const MINUTE = 60_000;

describe('LiveMonitor', () => {
  test('a window merges the buckets it covers (rounded out to whole buckets)', async () => {
    let clock = Date.UTC(2026, 0, 1, 12, 0, 0);
    const live = new LiveMonitor({ bucketSeconds: 60, now: () => clock });
    for (let minute = 0; minute < 10; minute++) {
      for (let i = 0; i <= minute; i++) live.observe(version, `text ${i}`, answer);
      clock += MINUTE;
    }
    clock -= 1; // still inside minute 9
    // Minutes 7, 8 and 9 (8 + 9 + 10 predictions): a 2-minute window rounds out to 3 buckets.
    assert.equal((await live.view(version, 2 * MINUTE)).sketch.items, 27);
    assert.equal((await live.view(version, 60 * MINUTE)).sketch.items, 55, 'everything');
    assert.equal(
      (await live.view({ ...version, version: 2 }, 60 * MINUTE)).sketch.items,
      0,
      'another version',
    );
  });

  test('memory is bounded: buckets older than the retention are dropped, for every version', () => {
    let clock = Date.UTC(2026, 0, 1);
    const live = new LiveMonitor({ bucketSeconds: 60, retentionHours: 1, now: () => clock });
    for (let minute = 0; minute < 300; minute++) {
      live.observe(minute < 10 ? { ...version, version: 2 } : version, 'x', answer);
      clock += MINUTE;
    }
    assert.ok(live.bucketCount <= 61, `${live.bucketCount} buckets for one hour of one-minute buckets`);
    assert.deepEqual(
      live.versions().map((v) => v.version),
      [1],
      'the version no longer served has no buckets left',
    );
  });

  test('publish writes changed buckets once, and retries after a store failure', async () => {
    const written: SketchBucket[] = [];
    let fail = true;
    const store = {
      monitoring: {
        putSketches: async (rows: readonly SketchBucket[]) => {
          if (fail) {
            fail = false;
            throw new Error('database is locked');
          }
          written.push(...rows);
        },
        purgeSketches: async () => 0,
        listSketches: async () => [],
      },
    } as unknown as Store;
    const warnings: unknown[] = [];
    const live = new LiveMonitor({ store, replica: 'r1', logger: { warn: (o) => warnings.push(o) } });
    live.observe(version, 'x', answer);
    await live.publish();
    assert.equal(written.length, 0);
    assert.equal(warnings.length, 1, 'the failure is logged');
    await live.publish();
    assert.equal(written.length, 1, 'retried');
    assert.equal(written[0]!.replica, 'r1');
    assert.equal(written[0]!.items, 1);
    await live.publish();
    assert.equal(written.length, 1, 'nothing changed, nothing written');
    await live.close();
  });
});
