/** Promotion gates with tiny mock models: worse refused with numbers, equal/better promoted, force recorded. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SapphireError } from '../../src/core/errors.ts';
import { promoteVersion } from '../../src/registry/promotion.ts';
import { registerModelVersion } from '../../src/registry/register.ts';
import type { Store } from '../../src/store/store.ts';
import { classifyCard, mockModelDir, tempProject, writeEarmarks } from './helpers.ts';

describe('promoteVersion', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  let store: Store;
  const card = classifyCard();

  /** Registers a mock model answering `correct` of the 60 test texts right; returns its version number. */
  async function register(correct: number): Promise<number> {
    const dir = await mockModelDir(
      project.dir,
      `m${correct}-${Math.random().toString(36).slice(2)}`,
      correct,
    );
    const v = await registerModelVersion(store, {
      tenant: 'default',
      source: dir,
      name: 'shop',
      actor: 'user:test',
      cwd: project.dir,
    });
    return v.version;
  }

  const promote = (version: number, extra: Partial<Parameters<typeof promoteVersion>[0]> = {}) =>
    promoteVersion({
      store,
      card,
      projectDir: project.dir,
      tenant: 'default',
      ref: `shop@${version}`,
      actor: 'user:test',
      ...extra,
    });

  before(async () => {
    project = await tempProject();
    store = project.store;
  });
  after(async () => project.close());

  test('the first version is promoted: nothing to compare with', async () => {
    const v1 = await register(60);
    const messages: string[] = [];
    const result = await promote(v1, { onProgress: (m) => messages.push(m) });
    assert.equal(result.promoted, true);
    assert.equal(result.record.outcome, 'promoted');
    assert.equal(result.record.forced, false);
    assert.equal(result.record.previousVersion, null);
    const metric = result.gates.find((g) => g.gate === 'metric');
    assert.ok(metric?.passed, 'metric gate passes');
    assert.match(metric.summary, /macro_f1 1\.000 on gold@\w+:test; no production version yet/);
    assert.deepEqual(
      result.gates.map((g) => g.gate),
      ['metric', 'earmarks', 'latency'],
    );
    assert.ok(messages.length > 0, 'progress is reported');
    assert.equal((await store.registry.resolveVersion('default', 'shop@production')).version, v1);
  });

  test('a worse version is refused with the numbers and logged; production stays', async () => {
    const v2 = await register(0);
    const result = await promote(v2);
    assert.equal(result.promoted, false);
    assert.equal(result.record.outcome, 'refused');
    const metric = result.gates.find((g) => g.gate === 'metric')!;
    assert.equal(metric.passed, false);
    assert.match(
      metric.summary,
      /^macro_f1 0\.333 vs production v1 1\.000 on gold@\w+:test \(Δ −0\.667, 95% CI \[−\d\.\d{3}, −\d\.\d{3}\], p < 0\.001 bootstrap, p < 0\.001 randomization, 60 examples\): significantly worse$/,
    );
    assert.equal(metric.details.significant, true);
    assert.ok((metric.details.pBootstrap as number) < 0.001, 'both p-values are reported');
    assert.ok((metric.details.pRandomization as number) < 0.001, 'both p-values are reported');
    assert.equal((await store.registry.resolveVersion('default', 'shop@production')).version, 1);
    const log = await store.registry.listPromotions('default', 'shop');
    assert.equal(log[0]?.outcome, 'refused');
    assert.equal(log[0]?.version, v2);
    assert.equal(log[0]?.gates.length, result.gates.length);
  });

  test('an equal version passes not-worse, but not require: better', async () => {
    const v3 = await register(60);
    const strict = await promote(v3, { card: classifyCard({ promotion: { require: 'better' } }) });
    assert.equal(strict.promoted, false);
    assert.match(strict.gates[0]!.summary, /no significant difference \(promotion\.require: better\)$/);
    const result = await promote(v3);
    assert.equal(result.promoted, true);
    assert.match(result.gates[0]!.summary, /Δ \+0\.000.*no significant difference$/);
    assert.equal(result.record.previousVersion, 1);
  });

  test('a slightly worse version (not significant) passes not-worse', async () => {
    const v = await register(58);
    const result = await promote(v);
    assert.equal(result.promoted, true, result.gates[0]?.summary);
    assert.match(result.gates[0]!.summary, /no significant difference/);
  });

  test('--force promotes past failed gates and is recorded with the reason', async () => {
    const bad = await register(0);
    const result = await promote(bad, { force: true, reason: 'demo' });
    assert.equal(result.promoted, true);
    assert.equal(result.record.forced, true);
    assert.equal(result.record.reason, 'demo');
    assert.ok(
      result.gates.some((g) => !g.passed),
      'the failed gates are recorded',
    );
    assert.equal((await store.registry.resolveVersion('default', 'shop@production')).version, bad);
  });

  test('acceptance, earmarks and latency gates fail with their numbers', async () => {
    const v = await register(60);
    writeEarmarks(project.dir, [
      { id: 'b-item', text: 'item 1', expect: { class: 'B' } },
      { id: 'must-be-b', text: 'anything', expect: { class: 'B' } },
    ]);
    const strict = classifyCard({
      acceptance: { macro_f1: 0.9, accuracy: 1 },
      promotion: { latency: { p99Ms: 0.000001, samples: 20 } },
    });
    const result = await promote(v, { card: strict, alias: 'staging' });
    const byGate = Object.fromEntries(result.gates.map((g) => [g.gate, g]));
    assert.equal(result.promoted, false);
    assert.ok(byGate.metric?.passed, 'no staging version yet');
    assert.match(byGate['acceptance.macro_f1']!.summary, /^macro_f1 1\.000 meets the 0\.900 minimum$/);
    assert.equal(byGate.earmarks?.passed, false);
    assert.match(byGate.earmarks!.summary, /^1 of 2 earmarks fail: must-be-b \(line 2\)$/);
    assert.equal(byGate.latency?.passed, false);
    assert.match(
      byGate.latency!.summary,
      /^p99 \d+\.\d+ ms > 0\.000001 ms budget \(p50 .* ms, 20 single-text predictions\)$/,
    );

    const worse = await register(30);
    const acceptance = await promote(worse, {
      card: classifyCard({ acceptance: { accuracy: 0.9 } }),
      alias: 'canary',
    });
    const gate = acceptance.gates.find((g) => g.gate === 'acceptance.accuracy')!;
    assert.equal(gate.passed, false);
    assert.match(gate.summary, /^accuracy 0\.750 is below the 0\.900 minimum \(short by 0\.150\)$/);
  });

  test('bad references are refused before any gate runs', async () => {
    const codeOf = async (ref: string, alias?: string) => {
      try {
        await promote(0, { ref, alias });
      } catch (e) {
        assert.ok(e instanceof SapphireError, String(e));
        return e.code;
      }
      return 'none';
    };
    assert.equal(await codeOf('shop'), 'BAD_INPUT');
    assert.equal(await codeOf('shop@99'), 'NOT_FOUND');
    assert.equal(await codeOf('shop@1', 'Not An Alias'), 'BAD_INPUT');
    const production = (await store.registry.resolveVersion('default', 'shop@production')).version;
    assert.equal(await codeOf(`shop@${production}`), 'CONFLICT');
  });
});
