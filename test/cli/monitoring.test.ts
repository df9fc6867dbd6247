/**
 * `sapphire monitor <name> [--window]`, `sapphire requests export --drifted` and `sapphire next` through the real
 * CLI, reading the sketches a server replica published to the project's store (no server running).
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { problemCardSchema, writeProblemCard } from '../../src/core/project.ts';
import { LiveMonitor } from '../../src/monitor/live-monitor.ts';
import type { LiveReport } from '../../src/monitor/live-report.ts';
import { versionProfile } from '../../src/monitor/stored-live.ts';
import {
  createTestProject,
  INTENTS,
  registerTiny,
  registerWithProfile,
  type TestProject,
} from '../serve/helpers.ts';
import { sapphire, sapphireJson } from './helpers.ts';

describe('sapphire monitor <name> and requests export', () => {
  let project: TestProject;

  before(async () => {
    project = await createTestProject('classify', 'cli-monitoring');
    rmSync(join(project.dir, 'sapphire.yaml'));
    writeProblemCard(
      project.dir,
      problemCardSchema.parse({ ...project.card, monitoring: { minSamples: 20, window: '2h' } }),
    );
    const version = await registerWithProfile(project, { name: 'shop', alias: 'production' });
    await registerTiny(project, { name: 'bare', alias: 'production' });
    // One replica's traffic: the intents, then texts the model never saw; published and logged.
    const cacheRoot = join(project.dir, 'replica-cache');
    const live = new LiveMonitor({
      store: project.store,
      replica: 'replica-a',
      profiles: async () => versionProfile(project.store, version, cacheRoot),
    });
    await live.profileFor(version);
    const texts = [
      ...INTENTS.map((e) => e.text),
      ...Array.from({ length: 30 }, (_, i) => `zorblax quantum refund ${i}`),
    ];
    const now = new Date().toISOString();
    for (const text of texts) live.observe(version, text, { labels: [{ label: 'top_up', score: 0.5 }] });
    live.observe({ tenant: 'default', name: 'bare', version: 1 }, 'where is my card', {
      labels: [{ label: 'card_arrival', score: 0.9 }],
    });
    await live.close();
    await project.store.feedback.logPredictions(
      texts.map((text, i) => ({
        requestId: `req-${i}`,
        item: 0,
        tenant: 'default',
        model: 'shop',
        version: version.version,
        text,
        output: { labels: [{ label: 'top_up', score: 0.5 }] },
        overridden: false,
        latencyMs: 1,
        createdAt: now,
      })),
    );
    await project.store.close();
  });

  after(async () => project.cleanup().catch(() => {}));

  test('monitor <name> shows the live view, the drift and the bounds; --json has both views', () => {
    const run = sapphire(project.dir, 'monitor', 'shop', '--window', '1h');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /shop@1 \(tenant default\), last 1h: 39 predictions from 1 replica/);
    assert.match(run.stdout, /Drift: YES — .*oov_shift/);
    assert.match(run.stdout, /New frequent tokens \(unseen in training\): .*zorblax/);
    assert.match(run.stdout, /sapphire requests export shop --drifted --out drifted.jsonl/);
    assert.match(run.stdout, /HyperLogLog/);
    assert.match(run.stdout, /No requests or feedback for tenant default/, 'the online metrics follow');
    const json = sapphireJson<{ live: LiveReport; online: unknown }>(project.dir, 'monitor', 'shop');
    assert.equal(json.live.window, '2h', 'monitoring.window from sapphire.yaml');
    assert.equal(json.live.items, 39);
    assert.ok(json.online, 'the online metrics come along');
  });

  test('a model without a profile says so; bad input is explained', () => {
    const bare = sapphire(project.dir, 'monitor', 'bare');
    assert.equal(bare.code, 0, bare.stderr);
    assert.match(bare.stdout, /no reference profile: retrain/);
    const unknown = sapphire(project.dir, 'monitor', 'nope');
    assert.notEqual(unknown.code, 0, 'an unknown model fails');
    assert.match(unknown.stderr, /nope/);
    const window = sapphire(project.dir, 'monitor', 'shop', '--window', 'ages');
    assert.notEqual(window.code, 0);
    assert.match(window.stderr, /--window "ages" is not a window like 15m, 1h or 7d/);
    const noName = sapphire(project.dir, 'monitor', '--window', '1h');
    assert.match(noName.stderr, /--window needs a model name/);
  });

  test('requests export --drifted writes the drifted slice as JSONL; next recommends it', () => {
    const out = join(project.dir, 'drifted.jsonl');
    const run = sapphire(project.dir, 'requests', 'export', 'shop', '--drifted', '--out', out);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Exported 30 of 39 logged predictions of shop@1/);
    const records = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; text: string; meta: { driftReasons: string[] } });
    assert.equal(records.length, 30);
    assert.ok(
      records.every((r) => r.text.startsWith('zorblax')),
      'only the unseen texts',
    );
    assert.ok(records[0]!.meta.driftReasons.length > 0, 'each record says why');
    const all = sapphireJson<{ exported: number; records: unknown[] }>(
      project.dir,
      'requests',
      'export',
      'shop',
    );
    assert.equal(all.exported, 39, 'without --drifted: every logged prediction');

    const next = sapphireJson<{ id: string; command: string }[]>(project.dir, 'next');
    const drift = next.find((r) => r.id === 'drift-shop');
    assert.ok(drift, `a drift recommendation: ${next.map((r) => r.id)}`);
    assert.equal(
      drift.command,
      'sapphire requests export shop --drifted --window 2h --out drifted-shop.jsonl',
    );
    assert.ok(
      next.some((r) => r.id === 'drift-no-profile-bare'),
      'bare is told to retrain',
    );
  });
});
