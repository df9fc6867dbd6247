/** `sapphire tenants …`, `overrides …`, `feedback …` and `monitor` end to end through the real CLI. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import type { ApiKeyInfo, Feedback, Override, Tenant } from '../../src/store/serving-store.ts';
import type { Store } from '../../src/store/store.ts';
import { type CliResult, sapphire, sapphireJson, tempDir } from './helpers.ts';

process.env.SAPPHIRE_USER = 'user:tester';
delete process.env.SAPPHIRE_TENANT;

let dir = '';

async function withStore<T>(work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ projectDir: dir });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** Registers a model version with a placeholder file: enough for overrides and feedback (it is never loaded). */
async function registerModel(store: Store, tenant: string, name: string): Promise<void> {
  const bytes = new TextEncoder().encode('{"architecture":"crf.v1"}');
  const hash = await store.putArtifact(bytes);
  await store.registry.registerVersion({
    tenant,
    name,
    architecture: 'crf.v1',
    task: 'ner',
    source: 'dir:/nowhere',
    files: [{ name: 'model.json', hash, size: bytes.length }],
    createdBy: 'test',
  });
}

function fails(run: CliResult, code: string, hint?: RegExp): void {
  assert.equal(run.code, 1, `expected exit 1, got ${run.code}: ${run.stdout}${run.stderr}`);
  assert.match(run.stderr, new RegExp(`error\\[${code}\\]`), run.stderr);
  if (hint) assert.match(run.stderr, hint);
}

before(async () => {
  dir = tempDir('sapphire-serving-admin-');
  const init = sapphire(dir, 'init', '--task', 'ner', '--labels', 'BRAND,COLOR');
  assert.equal(init.code, 0, init.stderr);
  await withStore((store) => registerModel(store, 'default', 'shop'));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('sapphire tenants', () => {
  test('add, ls, key (shown once), keys, revoke', async () => {
    const added = sapphireJson<Tenant>(dir, 'tenants', 'add', 'acme', '--rate-limit', '600');
    assert.equal(added.id, 'acme');
    assert.equal(added.rateLimitPerMinute, 600);
    fails(sapphire(dir, 'tenants', 'add', 'acme'), 'CONFLICT');

    const ls = sapphire(dir, 'tenants', 'ls');
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /acme\s+600\/min\s+0/);
    assert.match(ls.stdout, /default\s+server default/);

    const made = sapphire(dir, 'tenants', 'key', 'acme', '--scope', 'admin', '--label', 'ci');
    assert.equal(made.code, 0, made.stderr);
    const key = made.stdout.trim();
    assert.match(key, /^sk_acme_[0-9a-f]{32}$/);
    assert.match(made.stderr, /cannot be shown again/);
    const json = sapphireJson<{ key: string; info: ApiKeyInfo; warning: string }>(
      dir,
      'tenants',
      'key',
      'acme',
    );
    assert.equal(json.info.scope, 'predict');
    assert.match(json.warning, /cannot be shown again/);
    fails(sapphire(dir, 'tenants', 'key', 'nosuch'), 'NOT_FOUND');
    fails(sapphire(dir, 'tenants', 'key', 'acme', '--scope', 'root'), 'BAD_INPUT', /--scope admin/);

    const keys = sapphire(dir, 'tenants', 'keys', 'acme');
    assert.equal(keys.code, 0, keys.stderr);
    assert.ok(!keys.stdout.includes(key), 'a listing never shows the key');
    assert.match(keys.stdout, new RegExp(`${key.slice(0, 12)}…\\s+ci`));
    const listed = sapphireJson<ApiKeyInfo[]>(dir, 'tenants', 'keys');
    assert.equal(listed.length, 2);
    assert.equal(sapphireJson<ApiKeyInfo[]>(dir, 'tenants', 'keys', 'default').length, 0);

    const admin = listed.find((k) => k.scope === 'admin')!;
    assert.ok(await withStore((s) => s.tenants.authenticate(key)), 'the key works before revoking');
    const revoked = sapphire(dir, 'tenants', 'revoke', admin.prefix);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /Revoked admin key .* of tenant acme/);
    assert.equal(await withStore((s) => s.tenants.authenticate(key)), null);
    const after = sapphireJson<ApiKeyInfo[]>(dir, 'tenants', 'keys', 'acme');
    assert.ok(after.find((k) => k.id === admin.id)?.revokedAt, 'revokedAt is set');
  });
});

describe('sapphire overrides', () => {
  test('add validates against the task and the registry; ls and rm per tenant', async () => {
    const added = sapphireJson<Override>(
      dir,
      'overrides',
      'add',
      'shop',
      '--never',
      '--label',
      'BRAND',
      '--phrase',
      'apple pie',
      '--note',
      'food, not a brand',
    );
    assert.equal(added.action, 'never');
    assert.equal(added.match, 'phrase');
    assert.equal(added.target, 'entity', 'ner projects default to entity rules');
    assert.equal(added.createdBy, 'user:tester');
    assert.equal(added.note, 'food, not a brand');

    const human = sapphire(
      dir,
      'overrides',
      'add',
      'shop',
      '--always',
      '--label',
      'COLOR',
      '--regex',
      'r[e]d',
      '--flags',
      'i',
    );
    assert.equal(human.code, 0, human.stderr);
    assert.match(
      human.stdout,
      /Added override \S+ to shop \(tenant default\): always COLOR \(entity\) when the regex \/r\[e\]d\/i matches/,
    );
    const warned = sapphire(dir, 'overrides', 'add', 'shop', '--never', '--label', 'FOOD', '--exact', 'pie');
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /label FOOD is not in the project's labels/);

    fails(
      sapphire(dir, 'overrides', 'add', 'nosuch', '--never', '--label', 'BRAND', '--phrase', 'x'),
      'NOT_FOUND',
      /registered models: shop/,
    );
    fails(
      sapphire(
        dir,
        'overrides',
        'add',
        'shop',
        '--never',
        '--label',
        'BRAND',
        '--phrase',
        'x',
        '--tenant',
        'acme',
      ),
      'NOT_FOUND',
      /models register/,
    );
    fails(
      sapphire(dir, 'overrides', 'add', 'shop', '--never', '--class', '--label', 'B', '--phrase', 'x'),
      'BAD_INPUT',
      /--entity/,
    );
    fails(sapphire(dir, 'overrides', 'add', 'shop', '--never', '--label', 'B'), 'BAD_INPUT', /--phrase/);
    fails(
      sapphire(dir, 'overrides', 'add', 'shop', '--never', '--label', 'B', '--regex', '('),
      'BAD_INPUT',
      /regular expression/,
    );

    const ls = sapphire(dir, 'overrides', 'ls');
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(
      ls.stdout,
      new RegExp(`${added.id}\\s+shop\\s+never\\s+phrase\\s+"apple pie"\\s+entity\\s+BRAND\\s+0`),
    );
    assert.equal(sapphireJson<Override[]>(dir, 'overrides', 'ls', 'shop').length, 3);
    assert.match(
      sapphire(dir, 'overrides', 'ls', '--tenant', 'acme').stdout,
      /No active overrides for tenant acme/,
    );

    fails(sapphire(dir, 'overrides', 'rm', added.id, '--tenant', 'acme'), 'NOT_FOUND');
    const rm = sapphire(dir, 'overrides', 'rm', added.id);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(
      rm.stdout,
      /Removed override .* never BRAND \(entity\) when the phrase "apple pie" matches \(0 hits\)/,
    );
    assert.equal(sapphireJson<Override[]>(dir, 'overrides', 'ls').length, 2);
    const all = sapphire(dir, 'overrides', 'ls', '--all');
    assert.match(all.stdout, /removed/);
    assert.match(all.stdout, /by user:tester/);
  });
});

describe('sapphire feedback and monitor', () => {
  test('ls, reject, accept, export; monitor shows usage, thumbs-up rate and override hits', async () => {
    const text = 'Nike red shoes';
    const [good, other, ratingOnly] = await withStore(async (store) => {
      const add = (requestId: string, correction: Record<string, unknown> | null, rating: 'up' | 'down') =>
        store.feedback.addFeedback({
          tenant: 'default',
          requestId,
          model: 'shop',
          version: 1,
          text,
          rating,
          correction,
        });
      const items = [
        await add('r1', { spans: [{ start: 0, end: 4, label: 'BRAND' }] }, 'down'),
        await add('r2', { spans: [{ start: 5, end: 8, label: 'COLOR' }] }, 'down'),
        await add('r3', null, 'up'),
      ];
      await store.feedback.addFeedback({ tenant: 'acme', requestId: 'r9', rating: 'down', text: 'secret' });
      const day = new Date().toISOString().slice(0, 10);
      await store.feedback.addUsage([
        {
          tenant: 'default',
          model: 'shop',
          version: 1,
          day,
          requests: 40,
          items: 50,
          overridden: 2,
          errors: 1,
        },
      ]);
      const rules = await store.overrides.listOverrides('default', { model: 'shop' });
      await store.overrides.addOverrideHits(new Map([[rules[0]!.id, 7]]));
      return items as [Feedback, Feedback, Feedback];
    });

    const ls = sapphire(dir, 'feedback', 'ls');
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(
      ls.stdout,
      new RegExp(`${good.id}\\s+.*shop@1\\s+down\\s+1 span: Nike/BRAND\\s+new\\s+Nike red shoes`),
    );
    assert.ok(!ls.stdout.includes('secret'), "another tenant's feedback is not listed");
    assert.equal(sapphireJson<Feedback[]>(dir, 'feedback', 'ls', '--corrections').length, 2);
    assert.equal(sapphireJson<Feedback[]>(dir, 'feedback', 'ls', '--tenant', 'acme').length, 1);

    fails(sapphire(dir, 'feedback', 'accept'), 'BAD_INPUT', /feedback ls/);
    fails(sapphire(dir, 'feedback', 'export', 'shop'), 'NOT_FOUND', /feedback accept/);

    const rejected = sapphire(dir, 'feedback', 'reject', ratingOnly.id);
    assert.match(rejected.stdout, /Rejected 1 feedback item/);
    const accepted = sapphire(dir, 'feedback', 'accept', good.id, 'fb_unknown');
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stdout, /Accepted 1 feedback item \(tenant default\)/);
    assert.match(accepted.stderr, /1 of the 2 ids were unknown/);
    const rest = sapphireJson<{ changed: number }>(dir, 'feedback', 'accept', '--all', '--model', 'shop');
    assert.equal(rest.changed, 1, 'only the remaining new item');
    assert.equal(sapphireJson<Feedback[]>(dir, 'feedback', 'ls', '--status', 'accepted').length, 2);
    assert.ok(
      sapphireJson<Feedback[]>(dir, 'feedback', 'ls', '--status', 'accepted').some((f) => f.id === other.id),
      'accepted by --all',
    );

    const exported = sapphire(dir, 'feedback', 'export', 'shop');
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /Stored shop-feedback@[0-9a-f]{12} with 2 corrections of shop/);
    const again = sapphireJson<{ created: boolean; count: number; version: { id: string } }>(
      dir,
      'feedback',
      'export',
      'shop',
    );
    assert.equal(again.created, false);
    assert.equal(again.count, 2);

    const monitor = sapphire(dir, 'monitor');
    assert.equal(monitor.code, 0, monitor.stderr);
    assert.match(monitor.stdout, /Online metrics of tenant default, last 7 days/);
    assert.match(monitor.stdout, /shop\s+v1\s+40\s+50\s+2\s+1\s+1\s+2\s+33\.3%\s+2/);
    assert.match(monitor.stdout, /Overrides: 2 active, 7 hits/);
    const json = sapphireJson<{ totals: { model: string; requests: number }[]; days: number }>(
      dir,
      'monitor',
      '--model',
      'shop',
      '--days',
      '3',
    );
    assert.equal(json.days, 3);
    assert.deepEqual(
      json.totals.map((t) => [t.model, t.requests]),
      [['shop', 40]],
    );
    assert.match(sapphire(dir, 'monitor', '--tenant', 'acme').stdout, /acme/);
  });
});
