/** Feedback corrections → training examples → a dataset version. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SapphireError } from '../../src/core/errors.ts';
import { correctionsToExamples, exportCorrections } from '../../src/jobs/feedback-dataset.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Feedback } from '../../src/store/serving-store.ts';
import type { Store } from '../../src/store/store.ts';

delete process.env.SAPPHIRE_STORE;
delete process.env.SAPPHIRE_ARTIFACTS;

function fb(id: string, text: string | null, correction: Record<string, unknown> | null): Feedback {
  return {
    id,
    tenant: 'default',
    requestId: `req-${id}`,
    item: 0,
    model: 'shop',
    version: 1,
    rating: correction ? 'down' : 'up',
    correction,
    comment: null,
    text,
    status: 'accepted',
    createdAt: '2024-05-01T10:00:00.000Z',
  };
}

describe('correctionsToExamples', () => {
  it('makes one classify example per correction, and skips ratings without one', () => {
    const { examples, problems } = correctionsToExamples(
      [fb('a', 'where is my card?', { labels: ['card_arrival'] }), fb('b', 'thanks', null)],
      'classify',
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(examples, [
      {
        id: 'fb-a',
        text: 'where is my card?',
        labels: ['card_arrival'],
        split: 'train',
        meta: { feedback: 'a', requestId: 'req-a', item: 0, model: 'shop', version: 1 },
      },
    ]);
  });

  it('multilabel accepts any number of labels; classify needs exactly one', () => {
    const items = [fb('m', 'red shoes', { labels: ['shoes', 'red'] }), fb('e', 'nothing', { labels: [] })];
    assert.equal(correctionsToExamples(items, 'multilabel').examples.length, 2);
    const single = correctionsToExamples(items, 'classify');
    assert.equal(single.examples.length, 0);
    assert.equal(single.problems.length, 2);
    assert.match(single.problems[0]!.message, /^feedback m: .*exactly one label/);
  });

  it('makes ner examples with spans and tokens', () => {
    const text = 'Nike red shoes';
    const { examples, problems } = correctionsToExamples(
      [
        fb('n', text, {
          spans: [
            { start: 5, end: 8, label: 'COLOR' },
            { start: 0, end: 4, label: 'BRAND' },
          ],
        }),
      ],
      'ner',
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(examples[0]!.spans, [
      { start: 0, end: 4, label: 'BRAND' },
      { start: 5, end: 8, label: 'COLOR' },
    ]);
    assert.deepEqual(
      examples[0]!.tokens?.map((t) => t.text),
      ['Nike', 'red', 'shoes'],
    );
    assert.equal(examples[0]!.meta.feedback, 'n');
  });

  it('names the feedback id of every correction it cannot use', () => {
    const text = 'Nike red shoes';
    const { examples, problems } = correctionsToExamples(
      [
        fb('no-text', null, { spans: [] }),
        fb('out', text, { spans: [{ start: 10, end: 40, label: 'BRAND' }] }),
        fb('empty', text, { spans: [{ start: 3, end: 3, label: 'BRAND' }] }),
        fb('overlap', text, {
          spans: [
            { start: 0, end: 8, label: 'BRAND' },
            { start: 5, end: 8, label: 'COLOR' },
          ],
        }),
        fb('shape', text, { labels: ['BRAND'] }),
        fb('nolabel', text, { spans: [{ start: 0, end: 4 }] }),
        fb('boundary', text, { spans: [{ start: 0, end: 2, label: 'BRAND' }] }),
        fb('ok', text, { spans: [{ start: 0, end: 4, label: 'BRAND' }] }),
      ],
      'ner',
    );
    assert.deepEqual(
      examples.map((e) => e.id),
      ['fb-ok'],
    );
    const ids = problems.map((p) => /^feedback ([\w-]+):/.exec(p.message)?.[1]);
    assert.deepEqual(ids, ['no-text', 'out', 'empty', 'overlap', 'shape', 'nolabel', 'boundary']);
    assert.match(problems.find((p) => p.message.startsWith('feedback boundary'))!.message, /token boundary/);
  });
});

describe('exportCorrections', () => {
  const dirs: string[] = [];
  const stores: Store[] = [];
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  async function freshStore(): Promise<Store> {
    const dir = await mkdtemp(join(tmpdir(), 'sapphire-feedback-'));
    dirs.push(dir);
    const store = await openStore({ projectDir: dir });
    stores.push(store);
    return store;
  }

  it('stores accepted corrections of a model as a dataset version, and is idempotent', async () => {
    const store = await freshStore();
    const add = (requestId: string, text: string, label: string | null, model = 'shop') =>
      store.feedback.addFeedback({
        tenant: 'default',
        requestId,
        model,
        version: 1,
        text,
        rating: 'down',
        correction: label ? { labels: [label] } : null,
      });
    const a = await add('r1', 'where is my card?', 'card_arrival');
    const b = await add('r2', 'refund please', 'refund');
    await add('r3', 'ok thanks', null);
    const other = await add('r4', 'another model', 'refund', 'other');
    const pending = await add('r5', 'not reviewed', 'refund');
    assert.equal(await store.feedback.setFeedbackStatus('default', [a.id, b.id, other.id], 'accepted'), 3);

    const first = await exportCorrections({ store, tenant: 'default', model: 'shop', task: 'classify' });
    assert.equal(first.created, true);
    assert.equal(first.count, 2);
    assert.deepEqual(first.problems, []);
    assert.equal(first.version.name, 'shop-feedback');
    assert.equal(first.version.operation.kind, 'feedback');
    assert.deepEqual(first.version.splitCounts, { train: 2 });
    const examples = await store.loadExamples(first.version.id);
    assert.deepEqual(examples.map((e) => e.meta.feedback).sort(), [a.id, b.id].sort());
    assert.ok(!examples.some((e) => e.meta.feedback === pending.id), 'new feedback is not exported');

    const again = await exportCorrections({ store, tenant: 'default', model: 'shop', task: 'classify' });
    assert.equal(again.created, false);
    assert.equal(again.version.id, first.version.id);

    await store.feedback.setFeedbackStatus('default', [pending.id], 'accepted');
    const more = await exportCorrections({
      store,
      tenant: 'default',
      model: 'shop',
      task: 'classify',
      name: 'shop-fb',
    });
    assert.equal(more.count, 3);
    assert.equal(more.version.name, 'shop-fb');
    const next = await exportCorrections({ store, tenant: 'default', model: 'shop', task: 'classify' });
    assert.equal(next.version.parentId, first.version.id, 'a new export descends from the previous one');

    await assert.rejects(
      exportCorrections({ store, tenant: 'default', model: 'shop', task: 'classify', status: 'new' }),
      (err: unknown) => err instanceof SapphireError && err.code === 'NOT_FOUND',
      'no new corrections are left',
    );
    await store.tenants.createTenant({ id: 'acme' });
    await assert.rejects(
      exportCorrections({ store, tenant: 'acme', model: 'shop', task: 'classify' }),
      (err: unknown) => err instanceof SapphireError && err.code === 'NOT_FOUND',
      "another tenant's feedback is never exported",
    );
    const acme = await store.feedback.addFeedback({
      tenant: 'acme',
      requestId: 'r9',
      model: 'shop',
      version: 1,
      text: 'where is my card?',
      correction: { labels: ['card_arrival'] },
    });
    await store.feedback.setFeedbackStatus('acme', [acme.id], 'accepted');
    const acmeExport = await exportCorrections({ store, tenant: 'acme', model: 'shop', task: 'classify' });
    assert.equal(
      acmeExport.version.name,
      'acme-shop-feedback',
      "another tenant's export never shares a dataset",
    );
  });

  it('says NOT_FOUND with a hint when there is nothing to export, DATA_INVALID when nothing is usable', async () => {
    const store = await freshStore();
    await assert.rejects(
      exportCorrections({ store, tenant: 'default', model: 'shop', task: 'ner' }),
      (err: unknown) =>
        err instanceof SapphireError && err.code === 'NOT_FOUND' && /feedback accept/.test(err.hint ?? ''),
    );
    const f = await store.feedback.addFeedback({
      tenant: 'default',
      requestId: 'r1',
      model: 'shop',
      version: 1,
      text: 'Nike shoes',
      correction: { spans: [{ start: 0, end: 99, label: 'BRAND' }] },
    });
    await store.feedback.setFeedbackStatus('default', [f.id], 'accepted');
    await assert.rejects(
      exportCorrections({ store, tenant: 'default', model: 'shop', task: 'ner' }),
      (err: unknown) =>
        err instanceof SapphireError &&
        err.code === 'DATA_INVALID' &&
        err.message.includes(`feedback ${f.id}`) &&
        Array.isArray(err.details.problems),
    );
  });
});
