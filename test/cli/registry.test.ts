/** `sapphire models …`, `promote` and `retrain` end to end on a tiny project with mock models. */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { goldExamples, mockModelDir } from '../registry/helpers.ts';
import { sapphire, sapphireJson, tempDir } from './helpers.ts';

describe('sapphire models / promote / retrain', () => {
  let dir: string;

  before(async () => {
    dir = tempDir('sapphire-registry-cli-');
    const init = sapphire(dir, 'init', '--task', 'classify', '--labels', 'A,B');
    assert.equal(init.code, 0, init.stderr);
    const card = readFileSync(join(dir, 'sapphire.yaml'), 'utf8');
    assert.match(card, /^promotion:\n {2}dataset: null$/m, 'init writes the promotion section');
    writeFileSync(join(dir, 'sapphire.yaml'), card.replace(/^( {2}dataset:) null$/m, '$1 gold:test'));
    const store = await openStore({ projectDir: dir });
    await store.putDatasetVersion({
      name: 'gold',
      examples: goldExamples(),
      operation: { kind: 'import', params: {} },
    });
    await store.close();
    await mockModelDir(dir, 'good', 60);
    await mockModelDir(dir, 'bad', 0);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('register, promote, refuse a worse version with the numbers, list and show', () => {
    const first = sapphire(dir, 'models', 'register', 'good', '--name', 'shop', '--description', 'all right');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Registered shop@1 \(mock\.v1\) from dir:/);
    const second = sapphireJson<{ version: number }>(dir, 'models', 'register', 'bad', '--name', 'shop');
    assert.equal(second.version, 2);

    const promoted = sapphire(dir, 'promote', 'shop@1');
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.match(promoted.stdout, /^✓ metric: macro_f1 1\.000 on gold@\w+:test; no production version yet/m);
    assert.match(promoted.stdout, /^✓ latency: p99 /m);
    assert.match(promoted.stdout, /Promoted shop@1 to production\./);
    assert.match(promoted.stderr, /… loading shop@1/, 'progress goes to stderr');

    const refused = sapphire(dir, 'promote', 'shop@2');
    assert.equal(refused.code, 1, 'a refused promotion exits 1');
    assert.match(
      refused.stdout,
      /^✗ metric: macro_f1 0\.333 vs production v1 1\.000 on gold@\w+:test \(Δ −0\.667, 95% CI \[.+\], p < 0\.001 bootstrap, p < 0\.001 randomization, 60 examples\): significantly worse$/m,
    );
    assert.match(refused.stdout, /Refused: 1 gate\(s\) failed; production stays v1/);

    const json = sapphire(dir, '--json', 'promote', 'shop@2');
    assert.equal(json.code, 1);
    const body = JSON.parse(json.stdout) as { promoted: boolean; gates: { gate: string; passed: boolean }[] };
    assert.equal(body.promoted, false);
    assert.deepEqual(
      body.gates.filter((g) => !g.passed).map((g) => g.gate),
      ['metric'],
    );

    const ls = sapphire(dir, 'models', 'ls');
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /shop\s+classify\s+2\s+v2\s+production=v1/);

    const show = sapphire(dir, 'models', 'show', 'shop');
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /v1\s+production\s+mock\.v1/);
    assert.match(show.stdout, /v2 → production\s+refused/);
    const shown = sapphireJson<{
      aliases: Record<string, number>;
      versions: unknown[];
      promotions: unknown[];
    }>(dir, 'models', 'show', 'shop');
    assert.deepEqual(shown.aliases, { production: 1 });
    assert.equal(shown.versions.length, 2);
    assert.equal(shown.promotions.length, 3);
    const one = sapphire(dir, 'models', 'show', 'shop@2');
    assert.match(one.stdout, /^shop@2$/m);
    assert.match(one.stdout, /✗ metric: macro_f1 0\.333/);
  });

  test('aliases: staging moves freely, production only through promote', () => {
    const staging = sapphire(dir, 'models', 'alias', 'shop@2', 'staging');
    assert.equal(staging.code, 0, staging.stderr);
    assert.match(staging.stdout, /shop@staging → v2/);
    const production = sapphire(dir, 'models', 'alias', 'shop@2', 'production');
    assert.equal(production.code, 1);
    assert.match(production.stderr, /error\[BAD_INPUT\].*promotion gates/);
    assert.equal(sapphire(dir, 'models', 'unalias', 'shop', 'staging').code, 0);
    const unalias = sapphire(dir, 'models', 'unalias', 'shop', 'production');
    assert.equal(unalias.code, 1, 'removing production would serve the newest, ungated version');
    assert.match(unalias.stderr, /error\[BAD_INPUT\].*promotion gates/);
    assert.deepEqual(
      sapphireJson<{ aliases: Record<string, number> }>(dir, 'models', 'show', 'shop').aliases,
      { production: 1 },
      'production stays',
    );
    const forced = sapphire(dir, 'promote', 'shop@2', '--force');
    assert.equal(forced.code, 1);
    assert.match(forced.stderr, /--force needs a --reason/);
  });

  test('architectures moved under models; retrain explains what is missing', () => {
    const list = sapphireJson<{ name: string }[]>(dir, 'models', 'architectures');
    assert.ok(
      list.some((m) => m.name === 'linear.v1'),
      'linear.v1 is listed',
    );
    const retrain = sapphire(dir, 'retrain', 'shop');
    assert.equal(retrain.code, 1);
    assert.match(retrain.stderr, /error\[CONFLICT\]: shop@1 was not registered from a training run/);
  });
});
