import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SapphireError } from '../../src/core/errors.ts';
import { compareRuns, flattenConfig } from '../../src/experiments/run-compare.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Run } from '../../src/store/store.ts';

function run(id: string, fields: Partial<Run> = {}): Run {
  return {
    id,
    kind: 'train',
    name: null,
    status: 'finished',
    config: {},
    datasetVersions: ['shop@aaaaaaaaaaaa'],
    seed: 13,
    metrics: {},
    tags: [],
    error: null,
    startedAt: '2024-05-01T12:00:00.000Z',
    endedAt: '2024-05-01T12:00:05.000Z',
    parentId: null,
    notes: null,
    provenance: { git: { commit: 'abc', branch: 'main', dirty: false }, packages: { sapphire: '0.1.0' } },
    ...fields,
  };
}

describe('flattenConfig', () => {
  it('writes nested mappings as dotted keys and keeps lists and empty mappings as values', () => {
    assert.deepEqual(
      flattenConfig({
        model: { architecture: 'crf.v1', features: { window: 2 } },
        tags: ['a'],
        extra: {},
        seed: 1,
      }),
      { 'model.architecture': 'crf.v1', 'model.features.window': 2, tags: ['a'], extra: {}, seed: 1 },
    );
  });
});

describe('compareRuns', () => {
  it('lists only the config keys that differ, with each run’s value (undefined where missing)', () => {
    const a = run('r-a', {
      config: { model: { architecture: 'crf.v1', c2: 0.1, opts: { b: 1, a: 2 } }, data: { dataset: 'shop' } },
    });
    const b = run('r-b', {
      config: {
        model: { architecture: 'crf.v1', c2: 1, opts: { a: 2, b: 1 }, c1: 0.5 },
        data: { dataset: 'shop' },
      },
    });
    const diff = compareRuns([a, b]);
    assert.deepEqual(diff.config, [
      { key: 'model.c1', values: [undefined, 0.5] },
      { key: 'model.c2', values: [0.1, 1] },
    ]);
    assert.equal(diff.sameConfigKeys, 4, 'architecture, opts.a, opts.b and dataset');
  });

  it('compares lists by content', () => {
    const diff = compareRuns([
      run('r-a', { config: { tags: ['x', 'y'], w: [1, 2] } }),
      run('r-b', { config: { tags: ['x', 'y'], w: [2, 1] } }),
    ]);
    assert.deepEqual(diff.config, [
      {
        key: 'w',
        values: [
          [1, 2],
          [2, 1],
        ],
      },
    ]);
  });

  it('tables every metric any run has, grouped by set, with deltas against the first run', () => {
    const diff = compareRuns([
      run('r-a', { metrics: { 'dev.macro_f1': 0.8, 'test.macro_f1': 0.7, train_seconds: 2, 'x.m': 1 } }),
      run('r-b', { metrics: { 'dev.macro_f1': 0.85, 'test.macro_f1': 0.65, 'train.macro_f1': 0.99 } }),
      run('r-c', { metrics: { 'dev.macro_f1': 0.8 } }),
    ]);
    assert.deepEqual(
      diff.metrics.map((m) => m.key),
      ['train.macro_f1', 'dev.macro_f1', 'test.macro_f1', 'x.m', 'train_seconds'],
    );
    const dev = diff.metrics.find((m) => m.key === 'dev.macro_f1')!;
    assert.equal(dev.set, 'dev');
    assert.equal(dev.metric, 'macro_f1');
    assert.deepEqual(dev.values, [0.8, 0.85, 0.8]);
    assert.equal(dev.deltas[0], 0);
    assert.ok(Math.abs(dev.deltas[1]! - 0.05) < 1e-12);
    assert.equal(dev.deltas[2], 0);
    const train = diff.metrics.find((m) => m.key === 'train.macro_f1')!;
    assert.deepEqual(train.values, [null, 0.99, null]);
    assert.deepEqual(train.deltas, [null, null, null], 'no delta without the first run’s value');
    const seconds = diff.metrics.find((m) => m.key === 'train_seconds')!;
    assert.equal(seconds.set, '');
    assert.deepEqual(seconds.deltas, [0, null, null]);
  });

  it('reports dataset, seed, kind, code and package differences, and nothing that is equal', () => {
    const same = compareRuns([run('r-a'), run('r-b')]);
    assert.deepEqual(same.differences, []);
    assert.deepEqual(same.config, []);
    const diff = compareRuns([
      run('r-a'),
      run('r-b', {
        kind: 'trial',
        seed: 7,
        datasetVersions: ['shop@bbbbbbbbbbbb'],
        provenance: {
          git: { commit: 'def', branch: 'main', dirty: true },
          packages: { sapphire: '0.2.0', kysely: '1.0.0' },
        },
      }),
    ]);
    assert.deepEqual(diff.differences, [
      { field: 'kind', values: ['train', 'trial'] },
      { field: 'datasets', values: [['shop@aaaaaaaaaaaa'], ['shop@bbbbbbbbbbbb']] },
      { field: 'seed', values: [13, 7] },
      { field: 'git.commit', values: ['abc', 'def'] },
      { field: 'git.dirty', values: [false, true] },
      { field: 'packages.kysely', values: [undefined, '1.0.0'] },
      { field: 'packages.sapphire', values: ['0.1.0', '0.2.0'] },
    ]);
    assert.deepEqual(
      diff.runs.map((r) => [r.id, r.commit, r.dirty, r.seed]),
      [
        ['r-a', 'abc', false, 13],
        ['r-b', 'def', true, 7],
      ],
    );
  });

  it('needs two or more different runs', () => {
    const bad = (e: unknown) => e instanceof SapphireError && e.code === 'BAD_INPUT';
    assert.throws(() => compareRuns([run('r-a')]), bad);
    assert.throws(() => compareRuns([run('r-a'), run('r-a')]), bad);
  });

  it('finds no config difference between a run and a copy with shuffled keys (property)', () => {
    const leaf = fc.oneof(fc.integer(), fc.boolean(), fc.string({ maxLength: 4 }), fc.constant(null));
    const tree = fc.letrec<{ node: Record<string, unknown> }>((tie) => ({
      node: fc.dictionary(fc.stringMatching(/^[a-z]{1,3}$/), fc.oneof(leaf, tie('node')), { maxKeys: 4 }),
    })).node;
    const reversed = (value: unknown): unknown =>
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(
            Object.entries(value)
              .reverse()
              .map(([k, v]) => [k, reversed(v)]),
          )
        : value;
    fc.assert(
      fc.property(tree, (config) => {
        const diff = compareRuns([
          run('r-a', { config }),
          run('r-b', { config: reversed(config) as Record<string, unknown> }),
        ]);
        assert.deepEqual(diff.config, []);
        assert.equal(diff.sameConfigKeys, Object.keys(flattenConfig(config)).length);
      }),
    );
  });

  it('compares runs recorded in a SQLite store', async () => {
    const store = await openStore({ projectDir: mkdtempSync(join(tmpdir(), 'sapphire-run-compare-')) });
    try {
      const a = await store.createRun({
        kind: 'train',
        config: { model: { architecture: 'crf.v1' } },
        seed: 1,
      });
      const b = await store.createRun({
        kind: 'train',
        config: { model: { architecture: 'linear.v1' } },
        seed: 1,
      });
      await store.finishRun(a.id, { status: 'finished', metrics: { 'dev.macro_f1': 0.7 } });
      await store.finishRun(b.id, { status: 'finished', metrics: { 'dev.macro_f1': 0.75 } });
      const diff = compareRuns([await store.getRun(a.id), await store.getRun(b.id)]);
      assert.deepEqual(diff.config, [{ key: 'model.architecture', values: ['crf.v1', 'linear.v1'] }]);
      assert.ok(Math.abs(diff.metrics[0]!.deltas[1]! - 0.05) < 1e-12);
      assert.deepEqual(diff.differences, []);
    } finally {
      await store.close();
    }
  });
});
