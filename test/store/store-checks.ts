import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { NotFoundError, SapphireError } from '../../src/core/errors.ts';
import type { Example } from '../../src/data/types.ts';
import { hashExamples } from '../../src/store/canonical.ts';
import { connectDatabase } from '../../src/store/database.ts';
import { recordSchemaVersion } from '../../src/store/migrations.ts';
import {
  migrateStore,
  type OpenStoreOptions,
  openStore,
  resolveStoreUri,
  SCHEMA_VERSION,
} from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';

/** Optional capabilities of a store under test that enable the schema-version checks. */
export interface StoreCheckOptions {
  /** Returns open options naming a fresh, empty database (and project folder) on every call. */
  emptyDatabase?: () => Promise<OpenStoreOptions>;
}

/** A small fixture using every example field. */
export function sampleExamples(): Example[] {
  return [
    {
      id: 'ex1',
      text: 'Nike shoes in Paris',
      tokens: [
        { text: 'Nike', start: 0, end: 4 },
        { text: 'shoes', start: 5, end: 10 },
        { text: 'in', start: 11, end: 13 },
        { text: 'Paris', start: 14, end: 19 },
      ],
      spans: [
        { start: 0, end: 4, label: 'BRAND' },
        { start: 14, end: 19, label: 'LOC' },
      ],
      split: 'train',
      meta: { source: 'hand', nested: { b: [1, 2, { c: null }], a: true } },
    },
    { id: 'ex2', text: 'Great product, é ✓ 😀', labels: ['positive'], split: 'dev', meta: {} },
    { id: 'ex3', text: 'No entities here', spans: [], split: 'train', meta: { score: 0.5 } },
  ];
}

const operation = { kind: 'import', params: { path: 'data/train.conll', format: 'conll' } };

function examplesWithText(texts: string[]): Example[] {
  return texts.map((text, i) => ({ id: `e${i}`, text, meta: {} }));
}

/** Two different example lists whose content hashes share their first 4 hex characters. */
function twoContentsSharingAPrefix(): [Example[], Example[]] {
  const seen = new Map<string, number>();
  for (let i = 0; ; i++) {
    const prefix = hashExamples(examplesWithText([`text ${i}`])).slice(0, 4);
    const j = seen.get(prefix);
    if (j !== undefined) return [examplesWithText([`text ${j}`]), examplesWithText([`text ${i}`])];
    seen.set(prefix, i);
  }
}

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

/**
 * The conformance suite every Store passes (see DESIGN.md, Testing): datasets, lineage, atomic puts,
 * runs and metrics, artifacts, closing, and (with `emptyDatabase`) schema versions and persistence.
 */
export function runStoreChecks(
  name: string,
  makeStore: () => Promise<Store>,
  options: StoreCheckOptions = {},
): void {
  const withStore = (title: string, fn: (store: Store) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const store = await makeStore();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });

  withStore('put, get, list and load round trip', async (store) => {
    const examples = sampleExamples();
    const { version, created } = await store.putDatasetVersion({ name: 'shop', examples, operation });
    assert.equal(created, true);
    assert.equal(version.hash, hashExamples(examples));
    assert.match(version.hash, /^[0-9a-f]{64}$/);
    assert.equal(version.id, `shop@${version.hash.slice(0, 12)}`);
    assert.equal(version.name, 'shop');
    assert.equal(version.parentId, null);
    assert.deepEqual(version.operation, operation);
    assert.equal(version.exampleCount, 3);
    assert.deepEqual(version.splitCounts, { train: 2, dev: 1 });
    assert.match(version.blob, /^[0-9a-f]{64}$/);
    assert.ok(!Number.isNaN(Date.parse(version.createdAt)), 'createdAt is an ISO timestamp');

    for (const ref of [
      'shop',
      version.id,
      `shop@${version.hash.slice(0, 4)}`,
      `shop@${version.hash}`,
      `shop@${version.hash.slice(0, 8).toUpperCase()}`,
    ]) {
      assert.deepEqual(await store.getDatasetVersion(ref), version, `resolving ${ref}`);
    }
    assert.deepEqual(await store.listDatasetVersions(), [version]);
    assert.deepEqual(await store.listDatasetVersions('shop'), [version]);
    assert.deepEqual(await store.listDatasetVersions('other'), []);
    assert.deepEqual(await store.loadExamples('shop'), examples);
    assert.deepEqual(await store.loadExamples(version.id), examples);
  });

  withStore('an empty dataset round-trips', async (store) => {
    const { version } = await store.putDatasetVersion({ name: 'empty', examples: [], operation });
    assert.equal(version.exampleCount, 0);
    assert.deepEqual(await store.loadExamples(version.id), []);
  });

  withStore('putting identical content again returns the existing version', async (store) => {
    const first = await store.putDatasetVersion({ name: 'shop', examples: sampleExamples(), operation });
    // Same content with other key order and undefined fields: same canonical form.
    const reordered = sampleExamples().map((e) => ({
      meta: { ...e.meta },
      split: e.split,
      labels: e.labels,
      spans: e.spans,
      tokens: e.tokens,
      text: e.text,
      id: e.id,
    }));
    const again = await store.putDatasetVersion({
      name: 'shop',
      examples: reordered,
      operation: { kind: 'other', params: {} },
    });
    assert.equal(again.created, false);
    assert.deepEqual(again.version, first.version);
    assert.equal((await store.listDatasetVersions('shop')).length, 1);
  });

  withStore('concurrent puts of the same content create one version', async (store) => {
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        store.putDatasetVersion({ name: 'same', examples: sampleExamples(), operation }),
      ),
    );
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal(new Set(results.map((r) => r.version.id)).size, 1);
    assert.equal((await store.listDatasetVersions()).length, 1);
  });

  withStore('two names with the same content are separate versions', async (store) => {
    const a = await store.putDatasetVersion({ name: 'a', examples: sampleExamples(), operation });
    const b = await store.putDatasetVersion({ name: 'b', examples: sampleExamples(), operation });
    assert.equal(b.created, true);
    assert.equal(a.version.hash, b.version.hash);
    assert.notEqual(a.version.id, b.version.id);
    assert.deepEqual(await store.listDatasetVersions('a'), [a.version]);
    assert.deepEqual(await store.listDatasetVersions('b'), [b.version]);
    assert.deepEqual(await store.listDatasetVersions(), [b.version, a.version]);
  });

  withStore('a name resolves to its newest version; lists are newest first', async (store) => {
    const v1 = await store.putDatasetVersion({ name: 'd', examples: examplesWithText(['one']), operation });
    const v2 = await store.putDatasetVersion({ name: 'd', examples: examplesWithText(['two']), operation });
    const v3 = await store.putDatasetVersion({ name: 'd', examples: examplesWithText(['three']), operation });
    assert.equal((await store.getDatasetVersion('d')).id, v3.version.id);
    assert.deepEqual(
      (await store.listDatasetVersions('d')).map((v) => v.id),
      [v3.version.id, v2.version.id, v1.version.id],
    );
    assert.deepEqual(await store.loadExamples(v1.version.id), examplesWithText(['one']));
  });

  withStore('hash prefixes resolve uniquely; ambiguity and unknown refs are clear errors', async (store) => {
    const [first, second] = twoContentsSharingAPrefix();
    const a = (await store.putDatasetVersion({ name: 'p', examples: first, operation })).version;
    const b = (await store.putDatasetVersion({ name: 'p', examples: second, operation })).version;
    const shared = a.hash.slice(0, 4);
    assert.equal(b.hash.slice(0, 4), shared);

    const ambiguous = await rejectsWith(store.getDatasetVersion(`p@${shared}`), 'BAD_INPUT', /ambiguous/);
    assert.ok(ambiguous.message.includes(a.id) && ambiguous.message.includes(b.id), ambiguous.message);
    assert.deepEqual([...(ambiguous.details.candidates as string[])].sort(), [a.id, b.id].sort());
    assert.match(ambiguous.hint ?? '', /more characters/);

    let k = 5;
    while (a.hash.slice(0, k) === b.hash.slice(0, k)) k++;
    assert.equal((await store.getDatasetVersion(`p@${a.hash.slice(0, k)}`)).id, a.id);
    assert.equal((await store.getDatasetVersion(`p@${b.hash.slice(0, k)}`)).id, b.id);

    for (const ref of ['nosuch', 'nosuch@abcd', `p@${a.hash[0] === '0' ? '1' : '0'}${a.hash.slice(1, 8)}`]) {
      const err = await rejectsWith(store.getDatasetVersion(ref), 'NOT_FOUND');
      assert.ok(err instanceof NotFoundError);
      assert.match(err.hint ?? '', /sapphire data ls/);
    }
    await rejectsWith(store.getDatasetVersion('p@abc'), 'BAD_INPUT', /4 to 64 hex/);
    await rejectsWith(store.getDatasetVersion('p@zzzz'), 'BAD_INPUT');
    await rejectsWith(store.loadExamples('nosuch'), 'NOT_FOUND');
  });

  withStore('lineage: a derived version points to its parent', async (store) => {
    const parent = (await store.putDatasetVersion({ name: 'base', examples: sampleExamples(), operation }))
      .version;
    const split = { kind: 'split', params: { seed: 7, ratios: { train: 0.8, dev: 0.2 } } };
    const child = (
      await store.putDatasetVersion({
        name: 'base',
        examples: sampleExamples().map((e) => ({ ...e, split: 'test' })),
        parentId: parent.id,
        operation: split,
      })
    ).version;
    assert.equal(child.parentId, parent.id);
    assert.deepEqual(child.operation, split);
    assert.deepEqual(child.splitCounts, { test: 3 });
    // A parent given by name is recorded as the exact version it named.
    const grandchild = (
      await store.putDatasetVersion({
        name: 'small',
        examples: sampleExamples().slice(0, 1),
        parentId: 'base',
        operation,
      })
    ).version;
    assert.equal(grandchild.parentId, child.id);
    const chain: string[] = [];
    for (
      let v: typeof grandchild | null = grandchild;
      v;
      v = v.parentId ? await store.getDatasetVersion(v.parentId) : null
    )
      chain.push(v.id);
    assert.deepEqual(chain, [grandchild.id, child.id, parent.id]);
  });

  withStore('a failing put leaves no version behind', async (store) => {
    await rejectsWith(
      store.putDatasetVersion({
        name: 'x',
        examples: sampleExamples(),
        parentId: 'missing@abcdef',
        operation,
      }),
      'NOT_FOUND',
      /parent/,
    );
    const bad: Example[] = [
      { id: 'a', text: 'short', spans: [{ start: 2, end: 40, label: 'X' }], meta: {} },
      { id: 'a', text: 'dup id', meta: {} },
      { id: 'c', text: 'nan', meta: { score: Number.NaN } },
    ];
    const err = await rejectsWith(
      store.putDatasetVersion({ name: 'x', examples: bad, operation }),
      'DATA_INVALID',
    );
    assert.equal(err.details.problems?.length, 3, err.message);
    assert.match(err.message, /examples\[0\]\.spans\[0\]/);
    assert.match(err.message, /duplicates the id/);
    assert.match(err.message, /meta\.score/);
    await rejectsWith(
      store.putDatasetVersion({ name: 'bad name!', examples: [], operation }),
      'BAD_INPUT',
      /dataset name/,
    );
    await rejectsWith(
      store.putDatasetVersion({
        name: 'x',
        examples: [],
        operation: { kind: 'import', params: { when: new Date() } },
      }),
      'DATA_INVALID',
      /operation\.params\.when/,
    );
    assert.deepEqual(await store.listDatasetVersions(), []);
    await rejectsWith(store.getDatasetVersion('x'), 'NOT_FOUND');
    // The store is still usable afterwards.
    assert.equal(
      (await store.putDatasetVersion({ name: 'x', examples: sampleExamples(), operation })).created,
      true,
    );
  });

  withStore('runs: create, log metrics, finish, list', async (store) => {
    const data = (await store.putDatasetVersion({ name: 'shop', examples: sampleExamples(), operation }))
      .version;
    const run = await store.createRun({
      kind: 'train',
      name: 'baseline',
      config: { model: { name: 'crf.v1', c1: 0.1 }, seed: 3 },
      datasetVersions: ['shop'],
      seed: 3,
      tags: ['baseline', 'crf'],
    });
    assert.match(run.id, /^r-\d{14}-[0-9a-f]{6}$/);
    assert.equal(run.status, 'running');
    assert.equal(run.kind, 'train');
    assert.equal(run.name, 'baseline');
    assert.deepEqual(run.config, { model: { name: 'crf.v1', c1: 0.1 }, seed: 3 });
    assert.deepEqual(run.datasetVersions, [data.id], 'dataset refs are stored as exact version ids');
    assert.equal(run.seed, 3);
    assert.deepEqual(run.tags, ['baseline', 'crf']);
    assert.deepEqual(run.metrics, {});
    assert.equal(run.error, null);
    assert.equal(run.endedAt, null);
    assert.deepEqual(await store.getRun(run.id), run);

    await store.logMetrics(run.id, 0, { loss: 2.5, f1: 0.1 });
    await store.logMetrics(run.id, 1, { loss: 1.25 });
    await store.logMetrics(run.id, 2, { loss: 0.75, f1: 0.6 });
    await store.logMetrics(run.id, 2, { loss: 0.5 }); // the last value at a step wins
    await store.logMetrics(run.id, 3, {});
    assert.deepEqual(await store.metricHistory(run.id, 'loss'), [
      { key: 'loss', step: 0, value: 2.5 },
      { key: 'loss', step: 1, value: 1.25 },
      { key: 'loss', step: 2, value: 0.5 },
    ]);
    assert.deepEqual(await store.metricHistory(run.id), [
      { key: 'f1', step: 0, value: 0.1 },
      { key: 'f1', step: 2, value: 0.6 },
      { key: 'loss', step: 0, value: 2.5 },
      { key: 'loss', step: 1, value: 1.25 },
      { key: 'loss', step: 2, value: 0.5 },
    ]);
    await rejectsWith(store.logMetrics(run.id, 4, { loss: Number.NaN }), 'BAD_INPUT', /finite/);
    await rejectsWith(store.logMetrics(run.id, -1, { loss: 1 }), 'BAD_INPUT', /step/);

    const finished = await store.finishRun(run.id, {
      status: 'finished',
      metrics: { f1: 0.61, precision: 0.7 },
    });
    assert.equal(finished.status, 'finished');
    assert.deepEqual(finished.metrics, { f1: 0.61, precision: 0.7 });
    assert.ok(finished.endedAt !== null && finished.endedAt >= finished.startedAt);
    await rejectsWith(store.logMetrics(run.id, 5, { loss: 0.1 }), 'CONFLICT', /already finished/);
    await rejectsWith(store.finishRun(run.id, { status: 'failed', error: 'late' }), 'CONFLICT');

    const failed = await store.createRun({ kind: 'eval' });
    assert.equal(failed.name, null);
    assert.equal(failed.seed, null);
    assert.deepEqual(failed.datasetVersions, []);
    const failedDone = await store.finishRun(failed.id, { status: 'failed', error: 'out of memory' });
    assert.equal(failedDone.status, 'failed');
    assert.equal(failedDone.error, 'out of memory');
    const running = await store.createRun({ kind: 'train', seed: 2 ** 40 });
    assert.equal(running.seed, 2 ** 40, 'large seeds survive');

    assert.deepEqual(
      (await store.listRuns()).map((r) => r.id),
      [running.id, failed.id, run.id],
    );
    assert.deepEqual(
      (await store.listRuns({ kind: 'train' })).map((r) => r.id),
      [running.id, run.id],
    );
    assert.deepEqual(
      (await store.listRuns({ status: 'failed' })).map((r) => r.id),
      [failed.id],
    );
    assert.deepEqual(await store.listRuns({ kind: 'train', status: 'running' }), [
      await store.getRun(running.id),
    ]);

    // Thunks, not promises: each call starts only when awaited, so no rejection is ever left unhandled.
    for (const call of [
      () => store.getRun('r-nope'),
      () => store.metricHistory('r-nope'),
      () => store.logMetrics('r-nope', 0, { a: 1 }),
    ]) {
      const err = await rejectsWith(call(), 'NOT_FOUND');
      assert.match(err.hint ?? '', /sapphire runs ls/);
    }
    await rejectsWith(store.createRun({ kind: 'train', datasetVersions: ['nosuch'] }), 'NOT_FOUND');
    await rejectsWith(store.createRun({ kind: '' }), 'BAD_INPUT');
    assert.equal((await store.listRuns()).length, 3, 'rejected runs are not recorded');
  });

  withStore('artifacts round trip by content hash', async (store) => {
    const bytes = new TextEncoder().encode('weights: [0.1, 0.2]\n');
    const hash = await store.putArtifact(bytes);
    assert.equal(hash, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(await store.putArtifact(bytes), hash, 'putting again is a no-op with the same hash');
    assert.deepEqual(Buffer.from(await store.getArtifact(hash)), Buffer.from(bytes));
    const empty = await store.putArtifact(new Uint8Array());
    assert.equal((await store.getArtifact(empty)).length, 0);
    const binary = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) % 256);
    assert.deepEqual(
      Buffer.from(await store.getArtifact(await store.putArtifact(binary))),
      Buffer.from(binary),
    );
    await rejectsWith(store.getArtifact('0'.repeat(64)), 'NOT_FOUND');
    await rejectsWith(store.getArtifact('../etc/passwd'), 'BAD_INPUT');
  });

  withStore('studies: members point at their study and list by parent', async (store) => {
    const study = await store.createRun({
      kind: 'sweep',
      name: 'c2 sweep',
      provenance: { host: 'h', pid: 1 },
    });
    assert.deepEqual(study.provenance, { host: 'h', pid: 1 });
    assert.equal(study.parentId, null);
    const a = await store.createRun({ kind: 'trial', parentId: study.id, tags: ['t1'] });
    const b = await store.createRun({ kind: 'trial', parentId: study.id });
    await store.createRun({ kind: 'train' });
    assert.equal(a.parentId, study.id);
    assert.deepEqual(
      (await store.listRuns({ parentId: study.id })).map((r) => r.id),
      [b.id, a.id],
    );
    const topLevel = await store.listRuns({ parentId: null });
    assert.ok(topLevel.every((r) => r.parentId === null));
    assert.ok(topLevel.some((r) => r.id === study.id));
    assert.deepEqual((await store.listRuns({ kind: ['sweep', 'trial'] })).map((r) => r.kind).sort(), [
      'sweep',
      'trial',
      'trial',
    ]);
    assert.equal((await store.listRuns({ limit: 2 })).length, 2);
    await rejectsWith(store.createRun({ kind: 'trial', parentId: 'r-missing' }), 'NOT_FOUND');
    await rejectsWith(store.listRuns({ limit: 0 }), 'BAD_INPUT');
  });

  withStore('tags and notes change; results do not', async (store) => {
    const run = await store.createRun({ kind: 'train', tags: ['baseline'] });
    await store.createRun({ kind: 'train', tags: ['baseline_x'] });
    const tagged = await store.updateRun(run.id, { addTags: ['paper', 'baseline'], notes: 'first try' });
    assert.deepEqual(tagged.tags, ['baseline', 'paper']);
    assert.equal(tagged.notes, 'first try');
    assert.deepEqual(
      (await store.listRuns({ tag: 'paper' })).map((r) => r.id),
      [run.id],
    );
    assert.deepEqual(
      (await store.listRuns({ tag: 'baseline' })).map((r) => r.id),
      [run.id],
      'a tag matches whole, not as a prefix of another tag',
    );
    assert.equal((await store.listRuns({ tag: 'base%' })).length, 0, 'LIKE wildcards are literal');
    const renamed = await store.updateRun(run.id, { removeTags: ['baseline'], name: 'renamed', notes: null });
    assert.deepEqual(renamed.tags, ['paper']);
    assert.equal(renamed.name, 'renamed');
    assert.equal(renamed.notes, null);
    await rejectsWith(store.updateRun(run.id, { addTags: ['has space'] }), 'BAD_INPUT');
    await rejectsWith(store.updateRun('r-missing', { notes: 'x' }), 'NOT_FOUND');
  });

  withStore('metric points are written in batches; the last value of a point wins', async (store) => {
    const run = await store.createRun({ kind: 'train' });
    const points = Array.from({ length: 5000 }, (_, i) => ({
      key: i % 2 ? 'loss' : 'acc',
      step: i >> 1,
      value: i / 10,
    }));
    points.push({ key: 'loss', step: 0, value: 42 });
    await store.logMetricPoints(run.id, points);
    const loss = await store.metricHistory(run.id, 'loss');
    assert.equal(loss.length, 2500);
    assert.deepEqual(loss[0], { key: 'loss', step: 0, value: 42 });
    assert.equal((await store.metricHistory(run.id)).length, 5000);
    await rejectsWith(
      store.logMetricPoints(run.id, [{ key: 'x', step: -1, value: 1 }]),
      'BAD_INPUT',
      /points\[0\]/,
    );
    await rejectsWith(store.logMetricPoints(run.id, [{ key: 'x', step: 1, value: Number.NaN }]), 'BAD_INPUT');
    await store.finishRun(run.id, { status: 'finished' });
    await rejectsWith(store.logMetricPoints(run.id, [{ key: 'x', step: 1, value: 1 }]), 'CONFLICT');
  });

  withStore('deleting a study deletes its members and frees only unshared artifacts', async (store) => {
    const { version } = await store.putDatasetVersion({
      name: 'shared',
      examples: sampleExamples(),
      operation,
    });
    const study = await store.createRun({ kind: 'cv' });
    const fold = await store.createRun({ kind: 'fold', parentId: study.id });
    const other = await store.createRun({ kind: 'train' });
    const own = new TextEncoder().encode('only the fold has this');
    const shared = new TextEncoder().encode('both runs have this');
    const ownHash = await store.putArtifact(own);
    const sharedHash = await store.putArtifact(shared);
    await store.addRunArtifacts(fold.id, [
      { name: 'model/weights.bin', hash: ownHash, size: own.length },
      { name: 'predictions/test.jsonl', hash: sharedHash, size: shared.length },
      { name: 'dataset', hash: version.blob, size: 1 },
    ]);
    await store.addRunArtifacts(other.id, [
      { name: 'predictions/test.jsonl', hash: sharedHash, size: shared.length },
    ]);
    await store.logMetrics(fold.id, 0, { loss: 1 });
    assert.deepEqual(
      (await store.listRunArtifacts(fold.id)).map((a) => a.name),
      ['dataset', 'model/weights.bin', 'predictions/test.jsonl'],
    );
    const deleted = await store.deleteRun(study.id);
    assert.deepEqual(deleted.runs.sort(), [fold.id, study.id].sort());
    assert.equal(deleted.freedArtifacts, 1);
    assert.equal(deleted.freedBytes, own.length);
    await rejectsWith(store.getRun(fold.id), 'NOT_FOUND');
    await rejectsWith(store.getArtifact(ownHash), 'NOT_FOUND');
    assert.equal((await store.getArtifact(sharedHash)).length, shared.length, 'still used by another run');
    assert.equal((await store.loadExamples(version.id)).length, 3, 'dataset blobs are never freed by runs');
    await rejectsWith(store.deleteRun(study.id), 'NOT_FOUND');
    await rejectsWith(
      store.addRunArtifacts(other.id, [{ name: '../x', hash: sharedHash, size: 1 }]),
      'BAD_INPUT',
    );
  });

  test(`${name}: a closed store refuses work; closing twice is fine`, async () => {
    const store = await makeStore();
    await store.close();
    await store.close();
    await rejectsWith(store.listDatasetVersions(), 'STORE_ERROR', /closed/);
  });

  const emptyDatabase = options.emptyDatabase;
  const schemaTest = (title: string, fn: (makeLocation: () => Promise<OpenStoreOptions>) => Promise<void>) =>
    emptyDatabase
      ? test(`${name}: ${title}`, () => fn(emptyDatabase))
      : test(`${name}: ${title}`, { skip: 'needs the emptyDatabase option' }, () => undefined);

  schemaTest('data survives closing and reopening', async (makeLocation) => {
    const location = await makeLocation();
    const first = await openStore(location);
    const { version } = await first.putDatasetVersion({
      name: 'keep',
      examples: sampleExamples(),
      operation,
    });
    const run = await first.createRun({ kind: 'train' });
    await first.logMetrics(run.id, 0, { loss: 1 });
    await first.close();
    const second = await openStore(location);
    try {
      assert.deepEqual(await second.getDatasetVersion('keep'), version);
      assert.deepEqual(await second.loadExamples('keep'), sampleExamples());
      assert.deepEqual(await second.metricHistory(run.id), [{ key: 'loss', step: 0, value: 1 }]);
    } finally {
      await second.close();
    }
  });

  schemaTest('a database at an older schema is refused until migrated', async (makeLocation) => {
    const location = await makeLocation();
    const older = SCHEMA_VERSION - 1;
    assert.deepEqual(await migrateStore({ ...location, to: older }), { from: 0, to: older });
    const refused = await rejectsWith(
      openStore(location),
      'STORE_OUTDATED',
      new RegExp(`schema version ${older}`),
    );
    assert.match(refused.hint ?? '', /sapphire store migrate/);
    assert.deepEqual(await migrateStore(location), { from: older, to: SCHEMA_VERSION });
    assert.deepEqual(
      await migrateStore(location),
      { from: SCHEMA_VERSION, to: SCHEMA_VERSION },
      'migrating twice is a no-op',
    );
    const store = await openStore(location);
    try {
      assert.equal(
        (await store.putDatasetVersion({ name: 'after', examples: sampleExamples(), operation })).created,
        true,
      );
    } finally {
      await store.close();
    }

    const other = await makeLocation();
    await migrateStore({ ...other, to: older });
    const migrated = await openStore({ ...other, migrate: true });
    try {
      assert.deepEqual(await migrated.listDatasetVersions(), []);
    } finally {
      await migrated.close();
    }
    await (await openStore(other)).close(); // now current: opens without the flag
  });

  schemaTest('a database written by a newer sapphire is refused', async (makeLocation) => {
    const location = await makeLocation();
    await (await openStore(location)).close();
    const { db } = await connectDatabase(resolveStoreUri(location), location.projectDir);
    try {
      await recordSchemaVersion(db, SCHEMA_VERSION + 1);
    } finally {
      await db.destroy();
    }
    const err = await rejectsWith(openStore(location), 'INCOMPATIBLE_VERSION', /newer/);
    assert.match(err.hint ?? '', /upgrade sapphire/);
    await rejectsWith(migrateStore(location), 'INCOMPATIBLE_VERSION');
    await rejectsWith(openStore({ ...location, migrate: true }), 'INCOMPATIBLE_VERSION');
  });
}
