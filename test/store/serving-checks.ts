import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SapphireError } from '../../src/core/errors.ts';
import type { LoggedPrediction, NewModelVersion, SketchBucket } from '../../src/store/serving-store.ts';
import type { Store } from '../../src/store/store.ts';

async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  pattern?: RegExp,
): Promise<SapphireError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof SapphireError, `expected a SapphireError, got ${String(err)}`);
    assert.equal(err.code, code, `code of: ${err.message}`);
    if (pattern) assert.match(err.message, pattern);
    return err;
  }
  assert.fail(`expected an error with code ${code}`);
}

/** A registration input with one model file stored in the store's artifact folder. */
async function newVersion(
  store: Store,
  overrides: Partial<NewModelVersion> & { tenant?: string; name?: string } = {},
): Promise<NewModelVersion> {
  const bytes = new TextEncoder().encode(`model of ${overrides.name ?? 'shop-ner'}`);
  const hash = await store.putArtifact(bytes);
  return {
    tenant: 'default',
    name: 'shop-ner',
    architecture: 'crf.v1',
    task: 'ner',
    runId: 'r-20240501120000-abcdef',
    source: 'run:r-20240501120000-abcdef',
    files: [{ name: 'model.json', hash, size: bytes.length }],
    config: { model: { architecture: 'crf.v1', c2: 0.1 } },
    metrics: { 'dev.f1': 0.8 },
    datasetVersions: ['shop@0123456789ab'],
    description: 'first try',
    createdBy: 'user:test',
    ...overrides,
  };
}

function logged(requestId: string, overrides: Partial<LoggedPrediction> = {}): LoggedPrediction {
  return {
    requestId,
    item: 0,
    tenant: 'default',
    model: 'shop-ner',
    version: 1,
    text: 'Nike shoes',
    output: { entities: [{ start: 0, end: 4, label: 'BRAND', score: 0.9 }] },
    overridden: false,
    latencyMs: 1.5,
    createdAt: '2024-05-01T12:00:00.000Z',
    ...overrides,
  };
}

const passedGate = { gate: 'metric', passed: true, summary: 'f1 0.90 vs none', details: { f1: 0.9 } };

/**
 * The conformance suite of the serving parts of a Store (registry, tenants and keys, overrides, prediction
 * log, usage and feedback): every method, its errors, tenant isolation and concurrent registrations.
 */
export function runServingChecks(name: string, openFreshStore: () => Promise<Store>): void {
  const withStore = (title: string, fn: (store: Store) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const store = await openFreshStore();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });

  withStore('the default tenant exists; tenants are created, listed and updated', async (store) => {
    const [initial] = await store.tenants.listTenants();
    assert.equal(initial?.id, 'default');
    assert.equal(initial?.rateLimitPerMinute, null);
    const acme = await store.tenants.createTenant({ id: 'acme', rateLimitPerMinute: 600 });
    assert.equal(acme.id, 'acme');
    assert.equal(acme.rateLimitPerMinute, 600);
    assert.deepEqual(await store.tenants.getTenant('acme'), acme);
    assert.deepEqual(
      (await store.tenants.listTenants()).map((t) => t.id),
      ['acme', 'default'],
    );
    const dup = await rejectsWith(store.tenants.createTenant({ id: 'acme' }), 'CONFLICT', /already exists/);
    assert.ok(dup.hint, 'a conflict says what to do');
    const bad = await rejectsWith(store.tenants.createTenant({ id: 'Acme Corp' }), 'BAD_INPUT');
    assert.equal(bad.details.path, 'id');
    await rejectsWith(store.tenants.createTenant({ id: 'x'.repeat(41) }), 'BAD_INPUT');
    await rejectsWith(store.tenants.createTenant({ id: 'b', rateLimitPerMinute: 0 }), 'BAD_INPUT');
    const missing = await rejectsWith(store.tenants.getTenant('nope'), 'NOT_FOUND', /acme, default/);
    assert.match(missing.hint ?? '', /tenants add/);
    const updated = await store.tenants.updateTenant('acme', { rateLimitPerMinute: null });
    assert.equal(updated.rateLimitPerMinute, null);
    assert.equal((await store.tenants.getTenant('acme')).rateLimitPerMinute, null);
    await rejectsWith(store.tenants.updateTenant('nope', { rateLimitPerMinute: 5 }), 'NOT_FOUND');
  });

  withStore(
    'API keys are stored hashed, authenticate until revoked, and revoke by id or prefix',
    async (store) => {
      await store.tenants.createTenant({ id: 'acme' });
      const { key, info } = await store.tenants.createApiKey({ tenant: 'acme', scope: 'admin', label: 'ci' });
      assert.match(key, /^sk_acme_[0-9a-f]{32}$/);
      assert.equal(info.prefix, key.slice(0, 12));
      assert.match(info.id, /^key-[0-9a-f]{10}$/);
      assert.deepEqual(
        { tenant: info.tenant, scope: info.scope, label: info.label, revokedAt: info.revokedAt },
        { tenant: 'acme', scope: 'admin', label: 'ci', revokedAt: null },
      );
      assert.deepEqual(await store.tenants.authenticate(key), info);
      assert.equal(await store.tenants.authenticate(`${key}0`), null);
      assert.equal(await store.tenants.authenticate(''), null);
      const second = await store.tenants.createApiKey({ tenant: 'default', scope: 'predict' });
      assert.ok(second.info.prefix.length > 12, 'long tenant ids still show random characters in the prefix');
      assert.match(second.info.prefix, /^sk_default_[0-9a-f]{4}$/);
      assert.deepEqual(
        (await store.tenants.listApiKeys()).map((k) => k.id),
        [second.info.id, info.id],
        'newest first',
      );
      assert.deepEqual(await store.tenants.listApiKeys('acme'), [info]);
      assert.ok(
        !JSON.stringify(await store.tenants.listApiKeys()).includes(key),
        'the key itself is never listed',
      );

      const revoked = await store.tenants.revokeApiKey(info.prefix);
      assert.equal(revoked.id, info.id);
      assert.ok(revoked.revokedAt !== null, 'revokedAt is set');
      assert.equal(await store.tenants.authenticate(key), null, 'a revoked key no longer authenticates');
      assert.deepEqual(await store.tenants.revokeApiKey(info.id), revoked, 'revoking twice changes nothing');
      await store.tenants.revokeApiKey(second.info.id);
      assert.equal(await store.tenants.authenticate(second.key), null);
      const third = await store.tenants.createApiKey({ tenant: 'acme', scope: 'predict' });
      assert.equal(
        (await store.tenants.revokeApiKey(third.key)).id,
        third.info.id,
        'the whole key works too',
      );

      const missing = await rejectsWith(store.tenants.revokeApiKey('sk_nope_1234'), 'NOT_FOUND');
      assert.match(missing.hint ?? '', /tenants keys/);
      await rejectsWith(
        store.tenants.createApiKey({ tenant: 'nope', scope: 'predict' }),
        'NOT_FOUND',
        /nope/,
      );
      const scope = await rejectsWith(
        store.tenants.createApiKey({ tenant: 'acme', scope: 'root' as 'admin' }),
        'BAD_INPUT',
      );
      assert.equal(scope.details.path, 'scope');
    },
  );

  withStore('versions are numbered per name; aliases resolve; promotions are logged', async (store) => {
    const v1 = await store.registry.registerVersion(await newVersion(store));
    assert.equal(v1.version, 1);
    assert.equal(v1.tenant, 'default');
    assert.deepEqual(v1.aliases, []);
    assert.deepEqual(v1.metrics, { 'dev.f1': 0.8 });
    assert.deepEqual(v1.config, { model: { architecture: 'crf.v1', c2: 0.1 } });
    assert.equal(v1.files.length, 1);
    assert.ok(!Number.isNaN(Date.parse(v1.createdAt)), 'createdAt is an ISO timestamp');
    const v2 = await store.registry.registerVersion(
      await newVersion(store, { description: null, runId: null }),
    );
    assert.equal(v2.version, 2);
    assert.equal(v2.runId, null);
    const other = await store.registry.registerVersion(
      await newVersion(store, { name: 'intent', task: 'classify', architecture: 'linear.v1' }),
    );
    assert.equal(other.version, 1, 'each name counts its own versions');

    assert.deepEqual(await store.registry.listVersions('default', 'shop-ner'), [v2, v1], 'newest first');
    assert.deepEqual(await store.registry.resolveVersion('default', 'shop-ner'), v2, 'no production: newest');
    assert.deepEqual(await store.registry.resolveVersion('default', 'shop-ner@1'), v1);
    assert.deepEqual(await store.registry.resolveVersion('default', 'shop-ner@latest'), v2);

    const first = await store.registry.setAlias('default', 'shop-ner', 'production', 1, {
      forced: false,
      reason: null,
      gates: [passedGate],
      actor: 'user:test',
    });
    assert.ok(first !== null, 'a record is returned when one is given');
    assert.match(first.id, /^pr-[0-9a-f]{10}$/);
    assert.deepEqual(
      { ...first, id: undefined, createdAt: undefined },
      {
        id: undefined,
        createdAt: undefined,
        tenant: 'default',
        name: 'shop-ner',
        version: 1,
        alias: 'production',
        previousVersion: null,
        outcome: 'promoted',
        forced: false,
        reason: null,
        gates: [passedGate],
        actor: 'user:test',
      },
    );
    assert.equal(await store.registry.setAlias('default', 'shop-ner', 'staging', 2), null);
    const production = await store.registry.resolveVersion('default', 'shop-ner');
    assert.equal(production.version, 1, 'the production alias wins over the newest version');
    assert.deepEqual(production.aliases, ['production']);
    assert.equal((await store.registry.resolveVersion('default', 'shop-ner@staging')).version, 2);

    const refused = await store.registry.recordPromotion({
      tenant: 'default',
      name: 'shop-ner',
      version: 2,
      alias: 'production',
      outcome: 'refused',
      forced: false,
      reason: null,
      gates: [{ gate: 'significance', passed: false, summary: 'f1 lower', details: { p: Number.NaN } }],
      actor: 'user:test',
    });
    assert.equal(refused.previousVersion, 1);
    assert.equal(
      (await store.registry.resolveVersion('default', 'shop-ner')).version,
      1,
      'a refusal moves nothing',
    );
    const forced = await store.registry.setAlias('default', 'shop-ner', 'production', 2, {
      forced: true,
      reason: 'hotfix',
      gates: [],
      actor: 'user:test',
    });
    assert.equal(forced?.previousVersion, 1);
    assert.equal(forced?.forced, true);
    assert.equal(forced?.reason, 'hotfix');
    const log = await store.registry.listPromotions('default', 'shop-ner');
    assert.deepEqual(
      log.map((p) => [p.outcome, p.version, p.forced]),
      [
        ['promoted', 2, true],
        ['refused', 2, false],
        ['promoted', 1, false],
      ],
      'newest first',
    );
    assert.equal(log[1]!.gates[0]!.details.p, 'NaN', 'non-finite numbers survive as text');
    assert.equal((await store.registry.listPromotions('default', 'intent')).length, 0);
    assert.equal((await store.registry.listPromotions('default')).length, 3);

    const models = await store.registry.listModels('default');
    assert.deepEqual(
      models.map((m) => [m.name, m.task, m.versionCount, m.latestVersion, m.aliases]),
      [
        ['intent', 'classify', 1, 1, {}],
        ['shop-ner', 'ner', 2, 2, { production: 2, staging: 2 }],
      ],
    );
    assert.deepEqual((await store.registry.listVersions('default', 'shop-ner'))[0]!.aliases, [
      'production',
      'staging',
    ]);
    const pointers = await store.registry.listAliases();
    assert.deepEqual(
      pointers.map((p) => [p.tenant, p.name, p.alias, p.version]),
      [
        ['default', 'shop-ner', 'production', 2],
        ['default', 'shop-ner', 'staging', 2],
      ],
    );
    await store.registry.removeAlias('default', 'shop-ner', 'staging');
    const gone = await rejectsWith(
      store.registry.removeAlias('default', 'shop-ner', 'staging'),
      'NOT_FOUND',
      /production → 2/,
    );
    assert.match(gone.hint ?? '', /models show shop-ner/);
    await rejectsWith(
      store.registry.resolveVersion('default', 'shop-ner@staging'),
      'NOT_FOUND',
      /alias "staging"/,
    );
  });

  withStore('registry errors name the field or what exists', async (store) => {
    await store.registry.registerVersion(await newVersion(store));
    const wrongTask = await rejectsWith(
      store.registry.registerVersion(await newVersion(store, { task: 'classify' })),
      'CONFLICT',
      /ner model/,
    );
    assert.ok(wrongTask.hint, 'says what to do');
    assert.equal(
      (await store.registry.registerVersion(await newVersion(store))).version,
      2,
      'a refused registration uses no number',
    );
    const badName = await rejectsWith(
      store.registry.registerVersion(await newVersion(store, { name: 'Shop NER' })),
      'BAD_INPUT',
    );
    assert.equal(badName.details.path, 'name');
    const badFile = await rejectsWith(
      store.registry.registerVersion(
        await newVersion(store, { files: [{ name: '../model.json', hash: 'a'.repeat(64), size: 1 }] }),
      ),
      'BAD_INPUT',
    );
    assert.equal(badFile.details.path, 'files[0].name');
    const badMetric = await rejectsWith(
      store.registry.registerVersion(await newVersion(store, { metrics: { f1: Number.NaN } })),
      'BAD_INPUT',
    );
    assert.equal(badMetric.details.path, 'metrics.f1');
    await rejectsWith(
      store.registry.registerVersion(await newVersion(store, { tenant: 'nope' })),
      'NOT_FOUND',
    );

    const unknownModel = await rejectsWith(
      store.registry.resolveVersion('default', 'shop'),
      'NOT_FOUND',
      /registered: shop-ner/,
    );
    assert.match(unknownModel.hint ?? '', /models ls/);
    await rejectsWith(store.registry.resolveVersion('default', 'shop-ner@7'), 'NOT_FOUND', /versions 1–2/);
    await rejectsWith(store.registry.resolveVersion('default', 'shop-ner@prod'), 'NOT_FOUND', /no aliases/);
    await rejectsWith(store.registry.resolveVersion('default', ''), 'BAD_INPUT');
    await rejectsWith(store.registry.listVersions('default', 'nope'), 'NOT_FOUND', /shop-ner/);
    await rejectsWith(
      store.registry.setAlias('default', 'shop-ner', 'production', 9),
      'NOT_FOUND',
      /version 9/,
    );
    const badAlias = await rejectsWith(store.registry.setAlias('default', 'shop-ner', '3', 1), 'BAD_INPUT');
    assert.equal(badAlias.details.path, 'alias');
    await rejectsWith(
      store.registry.setAlias('default', 'shop-ner', 'production', 1, {
        forced: false,
        reason: null,
        gates: [{ gate: '', passed: true, summary: '', details: {} }],
        actor: 'user:test',
      }),
      'BAD_INPUT',
      /gates\[0\]\.gate/,
    );
    assert.deepEqual(await store.registry.listAliases(), [], 'a rejected promotion changes nothing');
    assert.deepEqual(await store.registry.listModels('acme'), []);
  });

  withStore('concurrent registrations of one name get consecutive version numbers', async (store) => {
    const input = await newVersion(store, { name: 'raced' });
    const versions = await Promise.all(
      Array.from({ length: 6 }, () => store.registry.registerVersion(input)),
    );
    assert.deepEqual(
      versions.map((v) => v.version).sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6],
    );
    assert.equal((await store.registry.listVersions('default', 'raced')).length, 6);
    const [model] = await store.registry.listModels('default');
    assert.equal(model?.latestVersion, 6);
  });

  withStore(
    'overrides are validated, listed, removed with who/when, counted and revisioned',
    async (store) => {
      const base = {
        tenant: 'default',
        model: 'shop-ner',
        target: 'entity' as const,
        label: 'BRAND',
        createdBy: 'user:test',
      };
      assert.equal(await store.overrides.overrideRevision('default', 'shop-ner'), 0);
      const always = await store.overrides.addOverride({
        ...base,
        action: 'always',
        match: 'phrase',
        pattern: 'Nike',
      });
      assert.match(always.id, /^ov-[0-9a-f]{10}$/);
      assert.deepEqual(
        { ...always, id: undefined, createdAt: undefined },
        {
          id: undefined,
          createdAt: undefined,
          tenant: 'default',
          model: 'shop-ner',
          action: 'always',
          match: 'phrase',
          pattern: 'Nike',
          flags: '',
          target: 'entity',
          label: 'BRAND',
          note: null,
          createdBy: 'user:test',
          removedBy: null,
          removedAt: null,
          hits: 0,
        },
      );
      const never = await store.overrides.addOverride({
        ...base,
        action: 'never',
        match: 'regex',
        pattern: '^acme\\b',
        flags: 'iu',
        note: 'not a brand',
      });
      await store.overrides.addOverride({
        ...base,
        model: 'intent',
        target: 'class',
        label: 'spam',
        action: 'never',
        match: 'exact',
        pattern: 'hi',
      });
      assert.equal(await store.overrides.overrideRevision('default', 'shop-ner'), 2);
      assert.deepEqual(
        (await store.overrides.listOverrides('default', { model: 'shop-ner' })).map((o) => o.id),
        [always.id, never.id],
        'oldest first',
      );
      assert.equal((await store.overrides.listOverrides('default')).length, 3);

      const removed = await store.overrides.removeOverride('default', never.id, 'user:other');
      assert.equal(removed.removedBy, 'user:other');
      assert.ok(removed.removedAt !== null, 'removedAt is set');
      assert.equal(
        await store.overrides.overrideRevision('default', 'shop-ner'),
        3,
        'a removal bumps the revision',
      );
      assert.deepEqual(
        (await store.overrides.listOverrides('default', { model: 'shop-ner' })).map((o) => o.id),
        [always.id],
      );
      const all = await store.overrides.listOverrides('default', { model: 'shop-ner', includeRemoved: true });
      assert.deepEqual(all[1], removed);
      const again = await rejectsWith(
        store.overrides.removeOverride('default', never.id, 'user:test'),
        'CONFLICT',
        /already removed by user:other/,
      );
      assert.match(again.hint ?? '', /overrides ls/);
      await rejectsWith(store.overrides.removeOverride('default', 'ov-0000000000', 'user:test'), 'NOT_FOUND');

      await store.overrides.addOverrideHits(
        new Map([
          [always.id, 3],
          ['ov-unknown00', 5],
        ]),
      );
      await store.overrides.addOverrideHits(
        new Map([
          [always.id, 2],
          [never.id, 1],
        ]),
      );
      await store.overrides.addOverrideHits(new Map());
      const hits = await store.overrides.listOverrides('default', {
        includeRemoved: true,
        model: 'shop-ner',
      });
      assert.deepEqual(
        hits.map((o) => o.hits),
        [5, 1],
      );

      const cases: [Record<string, unknown>, string][] = [
        [{ pattern: '(', match: 'regex' }, 'pattern'],
        [{ pattern: 'x', match: 'regex', flags: 'g' }, 'flags'],
        [{ pattern: 'x', match: 'regex', flags: 'ii' }, 'flags'],
        [{ pattern: 'x', match: 'phrase', flags: 'i' }, 'flags'],
        [{ pattern: '  ', match: 'exact' }, 'pattern'],
        [{ pattern: 'x', match: 'fuzzy' }, 'match'],
        [{ pattern: 'x', match: 'exact', action: 'sometimes' }, 'action'],
        [{ pattern: 'x', match: 'exact', target: 'token' }, 'target'],
        [{ pattern: 'x', match: 'exact', label: '' }, 'label'],
        [{ pattern: 'x', match: 'exact', model: 'Bad Name' }, 'model'],
      ];
      for (const [change, path] of cases) {
        const err = await rejectsWith(
          store.overrides.addOverride({
            ...base,
            action: 'always',
            match: 'exact',
            pattern: 'x',
            ...change,
          } as never),
          'BAD_INPUT',
        );
        assert.equal(err.details.path, path, `${JSON.stringify(change)} is reported at ${path}`);
        assert.ok(err.hint, `${JSON.stringify(change)} has a hint`);
      }
      await rejectsWith(
        store.overrides.addOverride({
          ...base,
          tenant: 'nope',
          action: 'always',
          match: 'exact',
          pattern: 'x',
        }),
        'NOT_FOUND',
      );
      assert.equal(
        await store.overrides.overrideRevision('default', 'shop-ner'),
        3,
        'rejected rules count for nothing',
      );
    },
  );

  withStore('predictions are logged in batches, first write wins, and purged by age', async (store) => {
    const rows: LoggedPrediction[] = [];
    for (let i = 0; i < 1200; i++)
      rows.push(
        logged(`req-${Math.floor(i / 3)}`, {
          item: i % 3,
          text: `text ${i}`,
          createdAt: i < 600 ? '2024-01-01T00:00:00.000Z' : '2024-06-01T00:00:00.000Z',
        }),
      );
    rows.push(logged('req-0', { text: 'a duplicate' }));
    await store.feedback.logPredictions(rows);
    await store.feedback.logPredictions([
      logged('req-0', { text: 'logged again' }),
      logged('req-new', { overridden: true }),
    ]);
    const first = await store.feedback.getLoggedPrediction('default', 'req-0');
    assert.deepEqual(first, rows[0], 'the first write of (request, item) is kept');
    assert.equal((await store.feedback.getLoggedPrediction('default', 'req-1', 2))?.text, 'text 5');
    assert.equal((await store.feedback.getLoggedPrediction('default', 'req-new'))?.overridden, true);
    assert.equal(await store.feedback.getLoggedPrediction('default', 'req-0', 7), null);
    assert.equal(await store.feedback.getLoggedPrediction('default', 'nope'), null);
    await store.feedback.logPredictions([]);
    const timings = await store.feedback.loggedTimings({
      tenant: 'default',
      since: '2024-05-01T00:00:00.000Z',
    });
    assert.equal(timings.length, 601, 'the rows since May: 600 + req-new');
    assert.ok(
      timings.every((t, i) => i === 0 || t.createdAt >= timings[i - 1]!.createdAt),
      'timings come oldest first',
    );
    assert.equal((await store.feedback.loggedTimings({ tenant: 'default', limit: 5 })).length, 5, 'limit');
    assert.equal(
      (await store.feedback.loggedTimings({ tenant: 'other' })).length,
      0,
      'another tenant sees none',
    );

    const bad = await rejectsWith(
      store.feedback.logPredictions([logged('ok'), logged('bad', { version: 0 })]),
      'BAD_INPUT',
    );
    assert.equal(bad.details.path, 'rows[1].version');
    assert.equal(
      await store.feedback.getLoggedPrediction('default', 'ok'),
      null,
      'a bad batch writes nothing',
    );

    assert.equal(await store.feedback.purgePredictions('2024-03-01T00:00:00.000Z'), 600);
    assert.equal(await store.feedback.getLoggedPrediction('default', 'req-0'), null);
    assert.ok(await store.feedback.getLoggedPrediction('default', 'req-399', 2), 'newer rows stay');
    assert.equal(await store.feedback.purgePredictions('2024-03-01T00:00:00.000Z'), 0);
    await rejectsWith(store.feedback.purgePredictions('yesterday'), 'BAD_INPUT');
  });

  withStore(
    'a prediction logged with its output as JSON text reads back like one logged as an object',
    async (store) => {
      const { output, ...rest } = logged('req-json', { item: 1 });
      await store.feedback.logPredictions([{ ...rest, outputJson: JSON.stringify(output) }]);
      assert.deepEqual(await store.feedback.getLoggedPrediction('default', 'req-json', 1), {
        ...rest,
        output,
      });
      const bad = await rejectsWith(
        store.feedback.logPredictions([
          { ...rest, requestId: 'req-bad', outputJson: 42 as unknown as string },
        ]),
        'BAD_INPUT',
      );
      assert.equal(bad.details.path, 'rows[0].outputJson');
    },
  );

  withStore('usage counts add up per tenant, model, version and day', async (store) => {
    const count = {
      tenant: 'default',
      model: 'shop-ner',
      version: 1,
      day: '2024-05-01',
      requests: 2,
      items: 5,
      overridden: 1,
      errors: 0,
    };
    await store.feedback.addUsage([count, { ...count, requests: 1, items: 1, errors: 1 }]);
    await store.feedback.addUsage([
      { ...count, requests: 10, items: 10, overridden: 0 },
      { ...count, day: '2024-05-02' },
      { ...count, version: 2 },
      { ...count, model: 'intent' },
    ]);
    await store.feedback.addUsage([]);
    const all = await store.feedback.usage({ tenant: 'default' });
    assert.deepEqual(all[0], { ...count, model: 'intent' });
    assert.deepEqual(
      all.find((u) => u.model === 'shop-ner' && u.version === 1 && u.day === '2024-05-01'),
      { ...count, requests: 13, items: 16, overridden: 2, errors: 1 },
    );
    assert.equal(all.length, 4);
    assert.deepEqual(
      (await store.feedback.usage({ model: 'shop-ner', since: '2024-05-02T08:00:00.000Z' })).map(
        (u) => u.day,
      ),
      ['2024-05-02'],
    );
    const bad = await rejectsWith(store.feedback.addUsage([{ ...count, day: '1 May' }]), 'BAD_INPUT');
    assert.equal(bad.details.path, 'counts[0].day');
  });

  withStore('feedback is stored, filtered, reviewed and counted per day', async (store) => {
    const up = await store.feedback.addFeedback({
      tenant: 'default',
      requestId: 'req-1',
      model: 'shop-ner',
      version: 1,
      rating: 'up',
      text: 'Nike shoes',
    });
    assert.match(up.id, /^fb-[0-9a-f]{10}$/);
    assert.deepEqual(
      { ...up, id: undefined, createdAt: undefined },
      {
        id: undefined,
        createdAt: undefined,
        tenant: 'default',
        requestId: 'req-1',
        item: 0,
        model: 'shop-ner',
        version: 1,
        rating: 'up',
        correction: null,
        comment: null,
        text: 'Nike shoes',
        status: 'new',
      },
    );
    const corrected = await store.feedback.addFeedback({
      tenant: 'default',
      requestId: 'req-2',
      item: 1,
      model: 'shop-ner',
      version: 2,
      rating: 'down',
      correction: { spans: [{ start: 0, end: 4, label: 'BRAND' }] },
      comment: 'missed the brand',
    });
    const unlogged = await store.feedback.addFeedback({
      tenant: 'default',
      requestId: 'req-3',
      rating: 'down',
    });
    assert.equal(unlogged.model, null);
    await store.feedback.addFeedback({
      tenant: 'default',
      requestId: 'req-4',
      model: 'intent',
      version: 1,
      rating: 'up',
    });

    const listed = await store.feedback.listFeedback({ tenant: 'default', model: 'shop-ner' });
    assert.deepEqual(
      listed.map((f) => f.id),
      [corrected.id, up.id],
      'newest first',
    );
    assert.deepEqual(listed[0], corrected);
    assert.deepEqual(
      (await store.feedback.listFeedback({ tenant: 'default', withCorrection: true })).map((f) => f.id),
      [corrected.id],
    );
    assert.equal((await store.feedback.listFeedback({ tenant: 'default', limit: 2 })).length, 2);
    assert.equal(
      (await store.feedback.listFeedback({ tenant: 'default', since: '2999-01-01T00:00:00Z' })).length,
      0,
    );

    assert.equal(
      await store.feedback.setFeedbackStatus('default', [corrected.id, up.id, 'fb-unknown000'], 'accepted'),
      2,
    );
    assert.equal(
      await store.feedback.setFeedbackStatus('default', [corrected.id], 'accepted'),
      0,
      'no change',
    );
    assert.equal(await store.feedback.setFeedbackStatus('default', [], 'rejected'), 0);
    assert.deepEqual(
      (await store.feedback.listFeedback({ tenant: 'default', status: 'accepted' })).map((f) => f.id),
      [corrected.id, up.id],
    );
    await rejectsWith(store.feedback.setFeedbackStatus('default', [up.id], 'done' as 'new'), 'BAD_INPUT');

    const today = up.createdAt.slice(0, 10);
    assert.deepEqual(await store.feedback.feedbackCounts({ tenant: 'default' }), [
      { tenant: 'default', model: 'intent', version: 1, day: today, up: 1, down: 0, corrections: 0 },
      { tenant: 'default', model: 'shop-ner', version: 1, day: today, up: 1, down: 0, corrections: 0 },
      { tenant: 'default', model: 'shop-ner', version: 2, day: today, up: 0, down: 1, corrections: 1 },
    ]);
    assert.equal((await store.feedback.feedbackCounts({ model: 'intent' })).length, 1);
    assert.deepEqual(await store.feedback.feedbackCounts({ since: '2999-01-01T00:00:00Z' }), []);

    const rating = await rejectsWith(
      store.feedback.addFeedback({ tenant: 'default', requestId: 'r', rating: 'meh' as 'up' }),
      'BAD_INPUT',
    );
    assert.equal(rating.details.path, 'rating');
    await rejectsWith(store.feedback.addFeedback({ tenant: 'default', requestId: '' }), 'BAD_INPUT');
  });

  withStore(
    "tenant B never sees or changes tenant A's models, overrides, predictions or feedback",
    async (store) => {
      await store.tenants.createTenant({ id: 'tenant-a' });
      await store.tenants.createTenant({ id: 'tenant-b' });
      const version = await store.registry.registerVersion(await newVersion(store, { tenant: 'tenant-a' }));
      await store.registry.setAlias('tenant-a', 'shop-ner', 'production', 1, {
        forced: false,
        reason: null,
        gates: [],
        actor: 'user:a',
      });
      const rule = await store.overrides.addOverride({
        tenant: 'tenant-a',
        model: 'shop-ner',
        action: 'never',
        match: 'exact',
        pattern: 'x',
        target: 'entity',
        label: 'BRAND',
        createdBy: 'user:a',
      });
      await store.feedback.logPredictions([logged('req-a', { tenant: 'tenant-a' })]);
      const fb = await store.feedback.addFeedback({
        tenant: 'tenant-a',
        requestId: 'req-a',
        model: 'shop-ner',
        version: 1,
        rating: 'up',
      });
      await store.feedback.addUsage([
        {
          tenant: 'tenant-a',
          model: 'shop-ner',
          version: 1,
          day: '2024-05-01',
          requests: 1,
          items: 1,
          overridden: 0,
          errors: 0,
        },
      ]);

      // Tenant B registers its own model under the same name: numbering is its own.
      const own = await store.registry.registerVersion(await newVersion(store, { tenant: 'tenant-b' }));
      assert.equal(own.version, 1);
      assert.deepEqual(
        (await store.registry.listModels('tenant-b')).map((m) => [m.name, m.aliases]),
        [['shop-ner', {}]],
      );
      assert.equal((await store.registry.resolveVersion('tenant-b', 'shop-ner')).tenant, 'tenant-b');
      await rejectsWith(store.registry.resolveVersion('tenant-b', 'shop-ner@production'), 'NOT_FOUND');
      await rejectsWith(
        store.registry.resolveVersion('default', 'shop-ner'),
        'NOT_FOUND',
        /none registered yet/,
      );
      assert.deepEqual(await store.registry.listPromotions('tenant-b'), []);
      assert.deepEqual(await store.overrides.listOverrides('tenant-b', { includeRemoved: true }), []);
      assert.equal(await store.overrides.overrideRevision('tenant-b', 'shop-ner'), 0);
      await rejectsWith(store.overrides.removeOverride('tenant-b', rule.id, 'user:b'), 'NOT_FOUND');
      assert.equal(await store.feedback.getLoggedPrediction('tenant-b', 'req-a'), null);
      assert.deepEqual(await store.feedback.listFeedback({ tenant: 'tenant-b' }), []);
      assert.equal(await store.feedback.setFeedbackStatus('tenant-b', [fb.id], 'rejected'), 0);
      assert.deepEqual(await store.feedback.usage({ tenant: 'tenant-b' }), []);
      assert.deepEqual(await store.feedback.feedbackCounts({ tenant: 'tenant-b' }), []);

      // Tenant A's data is untouched.
      assert.deepEqual(await store.registry.resolveVersion('tenant-a', 'shop-ner'), {
        ...version,
        aliases: ['production'],
      });
      assert.equal((await store.overrides.listOverrides('tenant-a'))[0]?.removedAt, null);
      assert.equal((await store.feedback.listFeedback({ tenant: 'tenant-a' }))[0]?.status, 'new');
      assert.ok(
        await store.feedback.getLoggedPrediction('tenant-a', 'req-a'),
        'A still finds its prediction',
      );
    },
  );

  withStore('deleting a run keeps the files of model versions registered from it', async (store) => {
    const bytes = new TextEncoder().encode('weights of a registered model');
    const hash = await store.putArtifact(bytes);
    const run = await store.createRun({ kind: 'train' });
    await store.addRunArtifacts(run.id, [{ name: 'model/model.json', hash, size: bytes.length }]);
    await store.registry.registerVersion(
      await newVersion(store, { runId: run.id, files: [{ name: 'model.json', hash, size: bytes.length }] }),
    );
    const deleted = await store.deleteRun(run.id);
    assert.equal(deleted.freedArtifacts, 0);
    assert.deepEqual(await store.getArtifact(hash), bytes);
    assert.equal((await store.registry.resolveVersion('default', 'shop-ner')).runId, run.id);
  });

  withStore('logged predictions of a model are listed newest first, by version and age', async (store) => {
    await store.feedback.logPredictions([
      logged('r1', { createdAt: '2024-05-01T10:00:00.000Z' }),
      logged('r2', { createdAt: '2024-05-01T11:00:00.000Z', version: 2 }),
      logged('r3', { createdAt: '2024-05-01T12:00:00.000Z' }),
      logged('r4', { createdAt: '2024-05-01T12:30:00.000Z', model: 'other' }),
      logged('r5', { createdAt: '2024-05-01T12:40:00.000Z', tenant: 'acme' }),
    ]);
    const ids = (rows: LoggedPrediction[]) => rows.map((r) => r.requestId);
    assert.deepEqual(ids(await store.feedback.listPredictions({ tenant: 'default', model: 'shop-ner' })), [
      'r3',
      'r2',
      'r1',
    ]);
    assert.deepEqual(
      ids(
        await store.feedback.listPredictions({ tenant: 'default', model: 'shop-ner', version: 1, limit: 1 }),
      ),
      ['r3'],
    );
    assert.deepEqual(
      ids(
        await store.feedback.listPredictions({
          tenant: 'default',
          model: 'shop-ner',
          since: '2024-05-01T10:30:00.000Z',
        }),
      ),
      ['r3', 'r2'],
    );
    assert.deepEqual(await store.feedback.listPredictions({ tenant: 'acme', model: 'shop-ner' }).then(ids), [
      'r5',
    ]);
  });

  withStore(
    'monitoring sketches: replicas upsert buckets, listed by window, purged by age',
    async (store) => {
      const bucket = (replica: string, start: string, items: number, extra: Partial<SketchBucket> = {}) => ({
        tenant: 'default',
        model: 'shop-ner',
        version: 1,
        bucket: start,
        replica,
        items,
        state: { format: 1, items },
        updatedAt: '2024-05-01T12:00:00.000Z',
        ...extra,
      });
      await store.monitoring.putSketches([
        bucket('a', '2024-05-01T11:00:00.000Z', 3),
        bucket('a', '2024-05-01T12:00:00.000Z', 5),
        bucket('b', '2024-05-01T12:00:00.000Z', 7),
        bucket('a', '2024-05-01T12:00:00.000Z', 1, { version: 2 }),
        bucket('a', '2024-05-01T12:00:00.000Z', 1, { tenant: 'acme' }),
      ]);
      await store.monitoring.putSketches([bucket('a', '2024-05-01T12:00:00.000Z', 9)]);
      const rows = await store.monitoring.listSketches({
        tenant: 'default',
        model: 'shop-ner',
        version: 1,
        since: '2024-05-01T11:30:00.000Z',
      });
      assert.deepEqual(
        rows.map((r) => [r.replica, r.items, r.state.items]),
        [
          ['a', 9, 9],
          ['b', 7, 7],
        ],
        'a replica replaces its own bucket; other replicas keep theirs',
      );
      const all = await store.monitoring.listSketches({
        tenant: 'default',
        model: 'shop-ner',
        since: '2024-01-01T00:00:00Z',
      });
      assert.equal(all.length, 4, 'every version without a version filter, never another tenant');
      await rejectsWith(store.monitoring.putSketches([bucket('a', 'yesterday', 1)]), 'BAD_INPUT');
      assert.equal(await store.monitoring.purgeSketches('2024-05-01T11:30:00.000Z'), 1);
      assert.equal(
        (
          await store.monitoring.listSketches({
            tenant: 'default',
            model: 'shop-ner',
            since: '2024-01-01T00:00:00Z',
          })
        ).length,
        3,
      );
    },
  );

  test(`${name}: the serving parts of a closed store refuse work`, async () => {
    const store = await openFreshStore();
    await store.close();
    await rejectsWith(store.registry.listModels('default'), 'STORE_ERROR', /closed/);
    await rejectsWith(store.tenants.listTenants(), 'STORE_ERROR', /closed/);
    await rejectsWith(store.overrides.listOverrides('default'), 'STORE_ERROR', /closed/);
    await rejectsWith(store.feedback.listFeedback({ tenant: 'default' }), 'STORE_ERROR', /closed/);
  });
}
