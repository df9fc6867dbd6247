/**
 * Drift on a real stream: linear.v1 trained on 10 Banking77 intents; replaying the whole Banking77 test set (77
 * intents) raises the drift signal, replaying its own dev set or the test texts of its 10 intents does not.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { problemCardSchema } from '../../src/core/project.ts';
import { parseCsv } from '../../src/data/formats/csv.ts';
import type { Example } from '../../src/data/types.ts';
import { createModel } from '../../src/models/index.ts';
import type { Model } from '../../src/models/model.ts';
import { computeDrift, jensenShannon, lengthEdges, psi } from '../../src/monitor/drift.ts';
import { LiveMonitor } from '../../src/monitor/live-monitor.ts';
import { buildReferenceProfile, type ReferenceProfile } from '../../src/train/reference-profile.ts';
import { SHARED } from '../cli/helpers.ts';

const BANKING = join(SHARED, 'classify', 'banking77');
const HAVE_BANKING = existsSync(join(BANKING, 'train.csv'));
const settings = problemCardSchema.parse({ name: 'bank', task: 'classify' }).monitoring;

function banking(file: string): Example[] {
  return parseCsv(readFileSync(join(BANKING, file), 'utf8'), file, {
    textColumn: 'text',
    labelColumn: 'category',
  }).examples;
}

describe('divergences', () => {
  test('PSI and Jensen–Shannon are 0 for equal distributions and grow with the shift', () => {
    assert.ok(psi([10, 20, 70], [1, 2, 7]) < 1e-9, 'same shares');
    assert.ok(Math.abs(psi([50, 50], [90, 10]) - 0.879) < 0.01, `psi ${psi([50, 50], [90, 10])}`);
    assert.ok(jensenShannon([5, 5], [5, 5]) < 1e-9, 'js same');
    assert.ok(jensenShannon([1, 0], [0, 1]) > 0.99, 'js disjoint ≈ 1 bit');
    assert.ok(psi([50, 50], [60, 40]) < psi([50, 50], [80, 20]), 'monotone');
  });

  test('length bins are the reference deciles', () => {
    const lengths: Record<string, number> = {};
    for (let n = 1; n <= 100; n++) lengths[String(n)] = 1;
    assert.deepEqual(lengthEdges(lengths), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    assert.deepEqual(lengthEdges({ '3': 5 }), [3], 'one length, one bin');
  });
});

describe('drift on Banking77', { skip: !HAVE_BANKING }, () => {
  let model: Model;
  let profile: ReferenceProfile;
  let dev: Example[];
  let testKnown: Example[];
  let testAll: Example[];

  before(async () => {
    const train = banking('train.csv');
    const intents = [...new Set(train.map((e) => e.labels![0]!))].sort().slice(0, 10);
    const known = new Set(intents);
    const mine = train.filter((e) => known.has(e.labels![0]!));
    // Every fifth example of the 10 intents is the dev set.
    dev = mine.filter((_, i) => i % 5 === 0);
    const fit = mine.filter((_, i) => i % 5 !== 0);
    testAll = banking('test.csv');
    testKnown = testAll.filter((e) => known.has(e.labels![0]!));
    model = createModel('linear.v1', { task: 'classify', trainer: { epochs: 10 } });
    await model.fit(fit, dev, { seed: 1 });
    const predictions = model.predict(dev.map((e) => ({ text: e.text })));
    profile = buildReferenceProfile({
      task: 'classify',
      architecture: model.name,
      train: fit,
      reference: { name: 'dev', examples: dev, predictions },
    });
  });

  /** Replays texts through the model and a live monitor, like the server does, and judges drift. */
  function replay(examples: Example[]) {
    const live = new LiveMonitor({ profiles: async () => profile });
    const version = { tenant: 'default', name: 'bank', version: 1 };
    return live.profileFor(version).then(async () => {
      const predictions = model.predict(examples.map((e) => ({ text: e.text })));
      examples.forEach((e, i) => {
        const p = predictions[i]!;
        const labels = (p.labels ?? []).map((label) => ({
          label,
          score: p.scores!.find((s) => s.label === label)!.score,
        }));
        live.observe(version, e.text, { labels });
      });
      const view = await live.view(version, 3_600_000);
      return computeDrift(profile, view.sketch, settings.drift, settings.minSamples);
    });
  }

  test('the whole test set (77 intents) raises the drift signal', async () => {
    const report = await replay(testAll);
    assert.equal(report.status, 'drift', JSON.stringify(report.signals));
    assert.ok(report.drifted.includes('oov_shift'), `oov_shift drifted: ${report.drifted}`);
    assert.ok(report.drifted.includes('new_tokens'), `new_tokens drifted: ${report.drifted}`);
    assert.ok(report.newTokens.length > 0, 'new frequent tokens are listed');
  });

  test('its own dev set and the test texts of its 10 intents do not', async () => {
    for (const [name, examples] of [
      ['dev', dev],
      ['test of the 10 intents', testKnown],
    ] as const) {
      const report = await replay(examples);
      assert.ok(
        report.items >= settings.minSamples,
        `${name}: ${report.items} predictions are enough to judge`,
      );
      assert.equal(report.status, 'ok', `${name}: ${JSON.stringify(report.signals)}`);
    }
  });
});
