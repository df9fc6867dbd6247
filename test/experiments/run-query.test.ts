import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { SapphireError } from '../../src/core/errors.ts';
import {
  describeRun,
  matchesCondition,
  parseRunFilter,
  parseRunSort,
  queryRuns,
  type RunCondition,
  resolveRunId,
  summarizeHistory,
} from '../../src/experiments/run-query.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Run, Store } from '../../src/store/store.ts';

function isCode(code: string, message?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof SapphireError, String(e));
    assert.equal(e.code, code);
    if (message) assert.match(`${e.message}\n${e.hint ?? ''}`, message);
    return true;
  };
}

describe('parseRunFilter', () => {
  it('reads every operator, with two-character operators taking precedence', () => {
    assert.deepEqual(parseRunFilter('dev.macro_f1>0.8'), { key: 'dev.macro_f1', op: '>', value: '0.8' });
    assert.deepEqual(parseRunFilter('dev.macro_f1>=0.8'), { key: 'dev.macro_f1', op: '>=', value: '0.8' });
    assert.deepEqual(parseRunFilter('dev.macro_f1<0.8'), { key: 'dev.macro_f1', op: '<', value: '0.8' });
    assert.deepEqual(parseRunFilter('dev.macro_f1<=0.8'), { key: 'dev.macro_f1', op: '<=', value: '0.8' });
    assert.deepEqual(parseRunFilter('seed=7'), { key: 'seed', op: '=', value: '7' });
    assert.deepEqual(parseRunFilter('status!=failed'), { key: 'status', op: '!=', value: 'failed' });
    assert.deepEqual(parseRunFilter('name~crf'), { key: 'name', op: '~', value: 'crf' });
    assert.deepEqual(parseRunFilter(' config.model.architecture = "crf.v1" '), {
      key: 'config.model.architecture',
      op: '=',
      value: 'crf.v1',
    });
    assert.deepEqual(parseRunFilter('tag=a=b'), { key: 'tag', op: '=', value: 'a=b' });
    assert.deepEqual(parseRunFilter('started>=2024-05'), { key: 'started', op: '>=', value: '2024-05' });
  });

  it('refuses unknown operators and keys with the accepted forms', () => {
    assert.throws(() => parseRunFilter('dev.macro_f1'), isCode('BAD_INPUT', /no operator.*op one of/s));
    assert.throws(() => parseRunFilter('dev.macro_f1>>0.8'), isCode('BAD_INPUT', /unknown operator ">>"/));
    assert.throws(() => parseRunFilter('dev.macro_f1!0.8'), isCode('BAD_INPUT', /unknown operator "!0"/));
    assert.throws(() => parseRunFilter('=3'), isCode('BAD_INPUT', /names no key/));
    assert.throws(() => parseRunFilter('foo bar=1'), isCode('BAD_INPUT', /unknown key "foo bar"/));
    assert.throws(() => parseRunFilter('config.=1'), isCode('BAD_INPUT', /not a config path/));
    assert.throws(() => parseRunFilter('dev.macro_f1=high'), isCode('BAD_INPUT', /must be one too/));
    assert.throws(() => parseRunFilter('dev.macro_f1~0.8'), isCode('BAD_INPUT', /cannot be compared with ~/));
    assert.throws(() => parseRunFilter('tag>a'), isCode('BAD_INPUT', /tag cannot be compared with >/));
    assert.throws(() => parseRunFilter('status=done'), isCode('BAD_INPUT', /running, finished, failed/));
    assert.throws(() => parseRunFilter('seed=x'), isCode('BAD_INPUT', /seed is a number/));
  });
});

describe('parseRunSort', () => {
  it('sorts metrics best first and other keys ascending unless told', () => {
    assert.deepEqual(parseRunSort('dev.macro_f1'), { key: 'dev.macro_f1', direction: 'desc' });
    assert.deepEqual(parseRunSort('dev.macro_f1:asc'), { key: 'dev.macro_f1', direction: 'asc' });
    assert.deepEqual(parseRunSort('name'), { key: 'name', direction: 'asc' });
    assert.deepEqual(parseRunSort('started:DESC'), { key: 'started', direction: 'desc' });
    assert.deepEqual(parseRunSort('config.model.c2'), { key: 'config.model.c2', direction: 'asc' });
  });

  it('refuses empty keys, tags and malformed config paths', () => {
    assert.throws(() => parseRunSort(':asc'), isCode('BAD_INPUT', /names no key/));
    assert.throws(() => parseRunSort('tag'), isCode('BAD_INPUT', /cannot be sorted by tag/));
    assert.throws(() => parseRunSort('config..x'), isCode('BAD_INPUT', /config path/));
  });
});

describe('queryRuns and resolveRunId on a SQLite store', () => {
  let store: Store;
  let study: Run;
  const all: Run[] = [];
  const byName = new Map<string, Run>();

  async function add(
    name: string,
    options: {
      kind?: string;
      arch?: string;
      c2?: number;
      seed?: number;
      tags?: string[];
      metrics?: Record<string, number>;
      fail?: boolean;
      parentId?: string;
      running?: boolean;
    },
  ): Promise<Run> {
    let run = await store.createRun({
      kind: options.kind ?? 'train',
      name,
      config: {
        model: { architecture: options.arch ?? 'crf.v1', c2: options.c2 ?? 0.1 },
        seed: options.seed ?? 13,
      },
      seed: options.seed ?? 13,
      tags: options.tags ?? [],
      parentId: options.parentId ?? null,
    });
    if (!options.running)
      run = await store.finishRun(
        run.id,
        options.fail
          ? { status: 'failed', error: 'boom' }
          : { status: 'finished', metrics: options.metrics ?? {} },
      );
    all.unshift(run); // newest first, like the store
    byName.set(name, run);
    return run;
  }

  before(async () => {
    store = await openStore({ projectDir: mkdtempSync(join(tmpdir(), 'sapphire-run-query-')) });
    await add('base', {
      arch: 'token-majority.v1',
      seed: 1,
      tags: ['baseline'],
      metrics: { 'dev.macro_f1': 0.5 },
    });
    await add('crf-a', {
      c2: 0.1,
      seed: 2,
      tags: ['crf', 'keep'],
      metrics: { 'dev.macro_f1': 0.81, 'test.macro_f1': 0.8 },
    });
    await add('crf-b', {
      c2: 1,
      seed: 3,
      tags: ['crf'],
      metrics: { 'dev.macro_f1': 0.86, 'test.macro_f1': 0.79 },
    });
    await add('broken', { c2: 0.5, seed: 4, fail: true });
    study = await add('sweep-1', { kind: 'sweep', metrics: { 'dev.macro_f1': 0.9 } });
    await add('trial-1', { kind: 'trial', parentId: study.id, c2: 0.01, metrics: { 'dev.macro_f1': 0.9 } });
    await add('trial-2', { kind: 'trial', parentId: study.id, c2: 0.02, metrics: { 'dev.macro_f1': 0.7 } });
    await add('live', { seed: 5, running: true, tags: ['crf'] });
  });

  after(async () => {
    await store.close();
  });

  const names = (runs: Run[]) => runs.map((r) => r.name);

  it('lists top-level runs newest first by default, members only on request', async () => {
    assert.deepEqual(names(await queryRuns(store)), ['live', 'sweep-1', 'broken', 'crf-b', 'crf-a', 'base']);
    assert.equal((await queryRuns(store, { includeMembers: true })).length, 8);
    assert.deepEqual(names(await queryRuns(store, { limit: 2 })), ['live', 'sweep-1']);
  });

  it('filters by metrics, keeping only runs that have the metric', async () => {
    assert.deepEqual(names(await queryRuns(store, { filters: ['dev.macro_f1>0.8'] })), [
      'sweep-1',
      'crf-b',
      'crf-a',
    ]);
    assert.deepEqual(
      names(await queryRuns(store, { filters: ['dev.macro_f1<=0.81', 'dev.macro_f1>=0.5'] })),
      ['crf-a', 'base'],
    );
    assert.deepEqual(names(await queryRuns(store, { filters: ['test.macro_f1!=0.8'] })), [
      'live',
      'sweep-1',
      'broken',
      'crf-b',
      'base',
    ]);
  });

  it('filters by config values, numerically when both sides are numbers', async () => {
    assert.deepEqual(
      names(await queryRuns(store, { filters: ['config.model.architecture=token-majority.v1'] })),
      ['base'],
    );
    assert.deepEqual(names(await queryRuns(store, { filters: ['config.model.c2=1.0'] })), ['crf-b']);
    assert.deepEqual(names(await queryRuns(store, { filters: ['config.model.c2>0.2'] })), [
      'broken',
      'crf-b',
    ]);
    assert.deepEqual(names(await queryRuns(store, { filters: ['config.model.architecture~^CRF'] })), [
      'live',
      'sweep-1',
      'broken',
      'crf-b',
      'crf-a',
    ]);
    assert.deepEqual(names(await queryRuns(store, { filters: ['config.nothing.here=1'] })), []);
  });

  it('filters by status, kind, name, tag, seed and start date', async () => {
    assert.deepEqual(names(await queryRuns(store, { filters: ['status=failed'] })), ['broken']);
    assert.deepEqual(names(await queryRuns(store, { filters: ['status!=finished'] })), ['live', 'broken']);
    assert.deepEqual(names(await queryRuns(store, { filters: ['kind=sweep'] })), ['sweep-1']);
    assert.deepEqual(names(await queryRuns(store, { filters: ['kind=trial'] })), ['trial-2', 'trial-1']);
    assert.deepEqual(names(await queryRuns(store, { filters: ['name~^crf-'] })), ['crf-b', 'crf-a']);
    assert.deepEqual(
      names(await queryRuns(store, { filters: ['name~[unclosed'] })),
      [],
      'bad regex: substring',
    );
    assert.deepEqual(names(await queryRuns(store, { filters: ['tag=crf'] })), ['live', 'crf-b', 'crf-a']);
    assert.deepEqual(names(await queryRuns(store, { filters: ['tag=crf', 'tag!=keep'] })), ['live', 'crf-b']);
    assert.deepEqual(names(await queryRuns(store, { filters: ['tag~^ke'] })), ['crf-a']);
    assert.deepEqual(names(await queryRuns(store, { filters: ['seed>=4'] })), ['live', 'sweep-1', 'broken']);
    const year = all[0]!.startedAt.slice(0, 4);
    assert.equal((await queryRuns(store, { filters: [`started=${year}`] })).length, 6);
    assert.deepEqual(await queryRuns(store, { filters: [`started<${year}`] }), []);
    assert.equal((await queryRuns(store, { filters: ['started>=2000-01-01'] })).length, 6);
    assert.deepEqual(names(await queryRuns(store, { filters: ['ended!=x', 'status=running'] })), ['live']);
  });

  it('lists a study by its id or a unique part of it', async () => {
    assert.deepEqual(names(await queryRuns(store, { filters: [`study=${study.id}`] })), [
      'trial-2',
      'trial-1',
    ]);
    assert.deepEqual(names(await queryRuns(store, { filters: [`study=${study.id.slice(-6)}`] })), [
      'trial-2',
      'trial-1',
    ]);
    assert.deepEqual(
      names(
        await queryRuns(store, { filters: [{ key: 'study', op: '=', value: study.id }, 'dev.macro_f1>0.8'] }),
      ),
      ['trial-1'],
    );
  });

  it('sorts metrics best first with runs lacking the key last, either direction', async () => {
    assert.deepEqual(names(await queryRuns(store, { sort: 'dev.macro_f1' })), [
      'sweep-1',
      'crf-b',
      'crf-a',
      'base',
      'live',
      'broken',
    ]);
    assert.deepEqual(names(await queryRuns(store, { sort: 'dev.macro_f1:asc', limit: 4 })), [
      'base',
      'crf-a',
      'crf-b',
      'sweep-1',
    ]);
    assert.deepEqual(names(await queryRuns(store, { sort: 'name' })), [
      'base',
      'broken',
      'crf-a',
      'crf-b',
      'live',
      'sweep-1',
    ]);
    assert.deepEqual(names(await queryRuns(store, { sort: 'config.model.c2:desc', filters: ['tag=crf'] })), [
      'crf-b',
      'live',
      'crf-a',
    ]);
  });

  it('refuses a metric no run has, suggesting the closest one, and a bad limit', async () => {
    await assert.rejects(
      queryRuns(store, { filters: ['dev.macro_f2>0.5'] }),
      isCode('BAD_INPUT', /unknown key "dev\.macro_f2".*did you mean dev\.macro_f1/s),
    );
    await assert.rejects(queryRuns(store, { sort: 'test.acuracy' }), isCode('BAD_INPUT', /test\.acuracy/));
    await assert.rejects(queryRuns(store, { limit: 0 }), isCode('BAD_INPUT', /limit 0/));
    await assert.rejects(
      queryRuns(store, { filters: [{ key: 'seed', op: '=>' as never, value: '1' }] }),
      isCode('BAD_INPUT', /unknown operator/),
    );
  });

  it('gives the same answer as filtering every run in memory (SQL push-down is only a narrowing)', async () => {
    const condition = fc.oneof(
      fc
        .constantFrom('train', 'sweep', 'trial', 'cv')
        .map((v): RunCondition => ({ key: 'kind', op: '=', value: v })),
      fc
        .constantFrom('running', 'finished', 'failed')
        .map((v): RunCondition => ({ key: 'status', op: '=', value: v })),
      fc
        .constantFrom('crf', 'keep', 'baseline', 'none')
        .chain((v) =>
          fc.constantFrom<RunCondition>(
            { key: 'tag', op: '=', value: v },
            { key: 'tag', op: '!=', value: v },
          ),
        ),
      fc
        .tuple(
          fc.constantFrom<RunCondition['op']>('>', '>=', '<', '<=', '=', '!='),
          fc.constantFrom(0.5, 0.8, 0.9),
        )
        .map(([op, v]): RunCondition => ({ key: 'dev.macro_f1', op, value: String(v) })),
      fc
        .tuple(fc.constantFrom<RunCondition['op']>('>', '<=', '='), fc.integer({ min: 0, max: 6 }))
        .map(([op, v]): RunCondition => ({ key: 'seed', op, value: String(v) })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(condition, { maxLength: 3 }), fc.boolean(), async (conditions, members) => {
        const got = await queryRuns(store, { filters: conditions, includeMembers: members });
        const namesKind = conditions.some((c) => c.key === 'kind');
        const expected = all.filter(
          (r) =>
            (members || namesKind || r.parentId === null) && conditions.every((c) => matchesCondition(r, c)),
        );
        assert.deepEqual(
          got.map((r) => r.id),
          expected.map((r) => r.id),
        );
      }),
      { numRuns: 60 },
    );
  });

  it('resolves exact ids, unique prefixes and suffixes; refuses ambiguous and unknown references', async () => {
    const crf = byName.get('crf-a')!;
    assert.equal(await resolveRunId(store, crf.id), crf.id);
    assert.equal(await resolveRunId(store, crf.id.slice(-6)), crf.id);
    assert.equal(await resolveRunId(store, ` ${crf.id.slice(0, -1)} `), crf.id);
    const trial = byName.get('trial-1')!;
    assert.equal(await resolveRunId(store, trial.id.slice(-6)), trial.id, 'members resolve too');
    await assert.rejects(resolveRunId(store, 'r-'), (e: unknown) => {
      assert.ok(e instanceof SapphireError && e.code === 'BAD_INPUT');
      assert.match(e.message, /ambiguous: 8 runs match/);
      assert.equal((e.details.candidates as string[]).length, 8);
      return true;
    });
    await assert.rejects(resolveRunId(store, 'zzzzzz'), isCode('NOT_FOUND', /runs ls/));
    await assert.rejects(resolveRunId(store, '  '), isCode('BAD_INPUT', /empty run reference/));
  });

  it('describes a run: its study, members, per-step history and artifacts', async () => {
    const run = await store.createRun({ kind: 'trial', name: 'steps', parentId: study.id });
    await store.logMetricPoints(run.id, [
      { key: 'loss', step: 0, value: 3 },
      { key: 'loss', step: 1, value: 1 },
      { key: 'loss', step: 2, value: 2 },
      { key: 'dev_score', step: 0, value: 0.4 },
      { key: 'dev_score', step: 1, value: 0.6 },
    ]);
    const hash = await store.putArtifact(new TextEncoder().encode('{"weights":[1,2]}'));
    await store.addRunArtifacts(run.id, [{ name: 'model/model.json', hash, size: 17 }]);
    await store.finishRun(run.id, { status: 'finished', metrics: { 'dev.macro_f1': 0.6 } });
    const details = await describeRun(store, run.id.slice(-6));
    assert.equal(details.run.id, run.id);
    assert.deepEqual(details.study, { id: study.id, kind: 'sweep', name: 'sweep-1' });
    assert.equal(details.members, 0);
    assert.ok(details.durationSeconds !== null && details.durationSeconds >= 0);
    assert.deepEqual(details.history, [
      { key: 'dev_score', points: 2, first: 0.4, last: 0.6, best: 0.6, bestStep: 1 },
      { key: 'loss', points: 3, first: 3, last: 2, best: 1, bestStep: 1 },
    ]);
    assert.deepEqual(details.artifacts, [{ name: 'model/model.json', size: 17, hash }]);
    const parent = await describeRun(store, study.id);
    assert.equal(parent.members, 3);
    assert.equal(parent.study, null);
    await store.deleteRun(run.id);
  });
});

describe('summarizeHistory', () => {
  it('orders points by step and picks the lowest value of costs, the highest of scores', () => {
    const summary = summarizeHistory([
      { key: 'train_seconds', step: 2, value: 5 },
      { key: 'train_seconds', step: 1, value: 9 },
      { key: 'f1', step: 3, value: 0.2 },
      { key: 'f1', step: 1, value: 0.7 },
    ]);
    assert.deepEqual(summary, [
      { key: 'f1', points: 2, first: 0.7, last: 0.2, best: 0.7, bestStep: 1 },
      { key: 'train_seconds', points: 2, first: 9, last: 5, best: 5, bestStep: 2 },
    ]);
  });
});
