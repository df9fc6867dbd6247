import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { problemCardSchema } from '../../src/core/project.ts';
import type { Example } from '../../src/data/types.ts';
import { runCrossValidation, runNestedCrossValidation } from '../../src/experiments/cross-validation.ts';
import type { JobContext, TrainJob } from '../../src/experiments/jobs.ts';
import { resolveLadder, runLadderStudy } from '../../src/experiments/ladder.ts';
import { runLearningCurve } from '../../src/experiments/learning-curve.ts';
import { parseGridSpec } from '../../src/experiments/search-space.ts';
import { runSweep } from '../../src/experiments/sweep.ts';
import { runJobs } from '../../src/experiments/worker-pool.ts';
import '../../src/models/index.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { trainConfigSchema } from '../../src/train/train-config.ts';

const TOPICS: Record<string, string[]> = {
  fruit: ['apple', 'banana', 'cherry', 'mango', 'pear', 'plum'],
  vehicle: ['car', 'truck', 'bus', 'bike', 'train', 'tram'],
  color: ['red', 'blue', 'green', 'yellow', 'purple', 'orange'],
};
const FILLERS = ['i like the', 'look at that', 'we saw a', 'there is one', 'my favourite is the'];

/** 120 short texts in three classes, with train/dev/test splits. */
function examples(): Example[] {
  const out: Example[] = [];
  let n = 0;
  for (const [label, words] of Object.entries(TOPICS)) {
    for (let i = 0; i < 40; i++) {
      const text = `${FILLERS[i % FILLERS.length]} ${words[i % words.length]} ${words[(i * 7 + 3) % words.length]}`;
      const split = i % 10 < 6 ? 'train' : i % 10 < 8 ? 'dev' : 'test';
      out.push({ id: `x${n++}`, text, labels: [label], split, meta: {} });
    }
  }
  return out;
}

const card = problemCardSchema.parse({
  name: 'topics',
  task: 'classify',
  labels: ['color', 'fruit', 'vehicle'],
});
const base = trainConfigSchema.parse({
  model: { architecture: 'linear.v1', features: { hashBits: 12 } },
  data: { dataset: 'topics' },
});

async function setup(): Promise<{ store: Store; context: JobContext; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sapphire-studies-'));
  const storeUri = `sqlite:${join(dir, '.sapphire', 'sapphire.db')}`;
  const store = await openStore({ uri: storeUri, projectDir: dir });
  await store.putDatasetVersion({
    name: 'topics',
    examples: examples(),
    operation: { kind: 'import', params: {} },
  });
  return { store, dir, context: { projectDir: dir, storeUri, card } };
}

describe('studies', () => {
  test('a grid sweep on two worker processes records every trial, a crashing one as failed, and picks the best', async () => {
    const { store, context, dir } = await setup();
    try {
      const events: string[] = [];
      const sweep = await runSweep(
        base,
        { mode: 'grid', dimensions: [parseGridSpec('model.C=[0.1,1,-1]')] },
        { store, context, workers: 2, onEvent: (e) => events.push(e.type) },
      );
      assert.equal(sweep.trials.length, 3);
      const failed = sweep.trials.filter((t) => t.result.status === 'failed');
      assert.equal(failed.length, 1, 'C=-1 is invalid');
      assert.match(failed[0]?.result.error ?? '', /C/);
      assert.equal((await store.getRun(failed[0]?.result.runId ?? '')).status, 'failed');
      assert.ok(sweep.best && sweep.best.score !== null);
      assert.equal(sweep.metric, 'dev.macro_f1');
      const members = await store.listRuns({ parentId: sweep.study.id });
      assert.equal(members.length, 3);
      assert.ok(members.every((m) => m.kind === 'trial'));
      assert.equal(sweep.study.status, 'finished');
      assert.equal(sweep.study.metrics.failed, 1);
      assert.equal(sweep.bestModelDir, join(dir, 'models', sweep.study.id));
      assert.ok(existsSync(join(sweep.bestModelDir, 'training.json')), 'the best model is written out');
      assert.ok(events.includes('started') && events.includes('finished'));
      assert.ok(
        members.some((m) => (m.provenance as { pid: number }).pid !== process.pid),
        'trials ran in workers',
      );
      assert.ok((await store.listRunArtifacts(sweep.study.id)).some((a) => a.name === 'study/summary.json'));
    } finally {
      await store.close();
    }
  });

  test('a worker that dies mid-job fails that job only; the pool replaces it and finishes the rest', async () => {
    const { store, context } = await setup();
    try {
      const job = (id: string): TrainJob => ({ id, config: base, record: { kind: 'trial' } });
      const results = await runJobs([job('a'), job('crash-before'), job('b'), job('crash-after'), job('c')], {
        store,
        context,
        workers: 2,
        workerScript: fileURLToPath(new URL('../fixtures/workers/crashing-worker.ts', import.meta.url)),
      });
      assert.deepEqual(
        results.map((r) => [r.jobId, r.status]),
        [
          ['a', 'finished'],
          ['crash-before', 'failed'],
          ['b', 'finished'],
          ['crash-after', 'failed'],
          ['c', 'finished'],
        ],
      );
      assert.match(results[1]?.error ?? '', /exited with code 3/);
      assert.match(results[3]?.error ?? '', /killed by SIGKILL/);
      const runs = await store.listRuns();
      assert.equal(runs.length, 5, 'every job has exactly one run');
      assert.ok(runs.every((r) => r.status !== 'running'));
    } finally {
      await store.close();
    }
  });

  test('stratified 3-fold cross-validation reports every fold and mean ± std', async () => {
    const { store, context } = await setup();
    try {
      const cv = await runCrossValidation(
        base,
        { k: 3, repeats: 2, stratify: true, seed: 5, pool: ['train', 'dev'] },
        { store, context, workers: 0 },
      );
      assert.equal(cv.folds.length, 6);
      assert.ok(cv.folds.every((f) => f.result.status === 'finished'));
      const summary = cv.summary['heldout.macro_f1'];
      assert.equal(summary?.n, 6);
      assert.ok(summary && summary.mean > 0.5 && summary.mean <= 1);
      assert.equal(cv.study.metrics['heldout.macro_f1'], summary?.mean);
      const first = await store.getRun(cv.folds[0]?.result.runId ?? '');
      const selection = first.config.selection as { kind: string; size: number; k: number };
      assert.equal(selection.kind, 'fold');
      assert.equal(selection.size, 64, 'two thirds of the 96 pooled train+dev examples');
    } finally {
      await store.close();
    }
  });

  test('nested cross-validation chooses settings in the inner loop and scores them in the outer loop', async () => {
    const { store, context } = await setup();
    try {
      const nested = await runNestedCrossValidation(
        base,
        { k: 2, repeats: 1, stratify: true, seed: 1, pool: [] },
        2,
        [parseGridSpec('model.C=[0.01,1]')],
        { store, context, workers: 0 },
      );
      assert.equal(nested.outer.length, 2);
      for (const fold of nested.outer) {
        assert.equal(fold.candidates.length, 2);
        assert.ok(fold.chosen, 'a candidate was chosen');
        const best = Math.max(...fold.candidates.map((c) => c.score ?? -1));
        assert.equal(fold.candidates[fold.chosen.index]?.score, best);
        assert.equal(fold.result?.status, 'finished');
      }
      assert.equal(nested.summary['heldout.macro_f1']?.n, 2);
      assert.ok(nested.innerBest);
      const members = await store.listRuns({ parentId: nested.study.id });
      assert.equal(members.filter((m) => m.kind === 'inner-fold').length, 2 * 2 * 2);
      assert.equal(members.filter((m) => m.kind === 'fold').length, 2);
    } finally {
      await store.close();
    }
  });

  test('a learning curve trains on growing subsamples and estimates the gain of doubling the data', async () => {
    const { store, context } = await setup();
    try {
      const curve = await runLearningCurve(
        base,
        { fractions: [0.25, 0.5, 1], seeds: 2, stratify: true },
        { store, context, workers: 0 },
      );
      const [only] = curve.curves;
      assert.deepEqual(
        only?.points.map((p) => p.size),
        [18, 36, 72],
      );
      assert.ok(only?.points.every((p) => p.score?.n === 2));
      assert.ok(only?.doubling && only.doubling.size === 144 && only.doubling.gain >= 0);
      assert.equal(curve.metric, 'dev.macro_f1');
      assert.equal((await store.listRuns({ parentId: curve.study.id })).length, 6);
    } finally {
      await store.close();
    }
  });

  test('the ladder from sapphire.yaml trains every rung with every seed and tabulates them', async () => {
    const { store, context, dir } = await setup();
    try {
      mkdirSync(join(dir, 'configs'));
      writeFileSync(
        join(dir, 'configs', 'linear.yaml'),
        'model:\n  architecture: linear.v1\n  features: { hashBits: 12 }\ndata:\n  dataset: other\n',
      );
      const withLadder = problemCardSchema.parse({
        name: 'topics',
        task: 'classify',
        ladder: {
          dataset: 'topics',
          seeds: 2,
          rungs: [
            { name: 'majority', model: { architecture: 'majority.v1' } },
            { name: 'linear', config: 'configs/linear.yaml' },
          ],
        },
      });
      const { rungs, seeds } = await resolveLadder(withLadder, dir);
      assert.deepEqual(seeds, [13, 14]);
      assert.equal(rungs[1]?.config.data.dataset, 'topics', 'every rung uses the ladder dataset');
      const ladder = await runLadderStudy(rungs, seeds, { store, context, workers: 0 });
      assert.deepEqual(
        ladder.rows.map((r) => [r.name, r.architecture, r.runs.length]),
        [
          ['majority', 'majority.v1', 2],
          ['linear', 'linear.v1', 2],
        ],
      );
      const majority = ladder.rows[0]?.summary['test.macro_f1']?.mean ?? 1;
      const linear = ladder.rows[1]?.summary['test.macro_f1']?.mean ?? 0;
      assert.ok(linear > majority, `linear ${linear} beats majority ${majority}`);
      assert.equal(ladder.metric, 'test.macro_f1');
    } finally {
      await store.close();
    }
  });
});
