import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SapphireError } from '../../src/core/errors.ts';
import type { Example } from '../../src/data/types.ts';
import { buildReport, formatCell, type ReportOptions } from '../../src/experiments/report.ts';
import { summarize } from '../../src/experiments/summary.ts';
import { evaluatePredictions } from '../../src/metrics/evaluate.ts';
import type { Prediction } from '../../src/models/model.ts';
import { openStore } from '../../src/store/open-store.ts';
import { savePredictions } from '../../src/store/run-artifacts.ts';
import type { Run, Store } from '../../src/store/store.ts';

const LABELS = ['neg', 'pos'];
const examples: Example[] = Array.from({ length: 40 }, (_, i) => ({
  id: `t${String(i).padStart(2, '0')}`,
  text: `example number ${i}`,
  labels: [LABELS[i % 2]!],
  split: 'test',
  meta: {},
}));

/** Predicts the gold label except where `wrong(i)` holds. */
function predict(gold: readonly Example[], wrong: (i: number) => boolean): Prediction[] {
  return gold.map((e, i) => {
    const label = wrong(i) ? (e.labels![0] === 'pos' ? 'neg' : 'pos') : e.labels![0]!;
    return { labels: [label], scores: [{ label, score: 0.9 }] };
  });
}

const weak = (seed: number) => (i: number) => (i + seed) % 5 < 2; // 60% correct
const strong = (seed: number) => (i: number) => (i + seed) % 20 === 0; // 95% correct

const OPTIONS: ReportOptions = {
  task: 'classify',
  labels: LABELS,
  primary: 'macro_f1',
  samples: 400,
  seed: 3,
};

let dir: string;
let store: Store;
let datasetId: string;

interface RunSpec {
  kind?: string;
  name?: string;
  parentId?: string | null;
  seed: number;
  config?: Record<string, unknown>;
  /** Evaluated set → [its examples, wrong-predicate]; metrics are computed from the predictions. */
  sets?: Record<string, [Example[], (i: number) => boolean]>;
  metrics?: Record<string, number>;
  seconds?: number;
  fail?: string;
}

async function addRun(spec: RunSpec): Promise<Run> {
  const run = await store.createRun({
    kind: spec.kind ?? 'train',
    name: spec.name ?? 'linear',
    config: {
      model: { architecture: 'linear.v1', c2: 0.1 },
      data: { dataset: 'shop' },
      seed: spec.seed,
      name: null,
      tags: [],
      output: null,
      ...spec.config,
    },
    datasetVersions: [datasetId],
    seed: spec.seed,
    parentId: spec.parentId ?? null,
  });
  if (spec.fail) return store.finishRun(run.id, { status: 'failed', error: spec.fail });
  const metrics: Record<string, number> = { ...spec.metrics };
  for (const [set, [gold, wrong]] of Object.entries(spec.sets ?? {})) {
    const predictions = predict(gold, wrong);
    await savePredictions(store, run.id, set, gold, predictions);
    const report = evaluatePredictions('classify', gold, predictions, { labels: LABELS });
    for (const [k, v] of Object.entries(report.metrics)) metrics[`${set}.${k}`] = v;
  }
  if (spec.seconds !== undefined) metrics.train_seconds = spec.seconds;
  return store.finishRun(run.id, { status: 'finished', metrics });
}

async function addStudy(kind: string, name: string, study: Record<string, unknown> = {}): Promise<Run> {
  const run = await store.createRun({
    kind,
    name,
    config: { study: { kind, ...study } },
    datasetVersions: [datasetId],
  });
  return store.finishRun(run.id, { status: 'finished', metrics: {} });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sapphire-report-'));
  store = await openStore({ projectDir: dir });
  const { version } = await store.putDatasetVersion({
    name: 'shop',
    examples,
    operation: { kind: 'import', params: {} },
  });
  datasetId = version.id;
});

after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('buildReport on runs given directly', () => {
  let runs: Run[];
  before(async () => {
    runs = [
      await addRun({ seed: 1, sets: { test: [examples, weak(1)] }, seconds: 1 }),
      await addRun({ seed: 2, sets: { test: [examples, weak(2)] }, seconds: 1.2 }),
      await addRun({
        seed: 1,
        config: { model: { architecture: 'linear.v1', c2: 1 } },
        sets: { test: [examples, strong(1)] },
        seconds: 3,
      }),
      await addRun({
        seed: 2,
        config: { model: { architecture: 'linear.v1', c2: 1 } },
        sets: { test: [examples, strong(2)] },
        seconds: 3.5,
      }),
    ];
  });

  it('groups runs that differ only by seed into one row with mean ± std per column', async () => {
    const report = await buildReport(store, runs, OPTIONS);
    assert.equal(report.rows.length, 2);
    assert.deepEqual(report.rows[0]!.runs, [runs[0]!.id, runs[1]!.id]);
    assert.deepEqual(report.rows[0]!.seeds, [1, 2]);
    assert.deepEqual(report.rows[1]!.runs, [runs[2]!.id, runs[3]!.id]);
    const expected = summarize([runs[0]!.metrics['test.macro_f1']!, runs[1]!.metrics['test.macro_f1']!]);
    assert.deepEqual(report.rows[0]!.cells['test.macro_f1'], expected);
    assert.equal(
      formatCell('test.macro_f1', report.rows[0]!.cells['test.macro_f1']!),
      `${expected.mean.toFixed(3)} ± ${expected.std.toFixed(3)}`,
    );
    // Same run name, different configs: the label says what differs.
    assert.deepEqual(
      report.rows.map((r) => r.label),
      ['linear (model.c2=0.1)', 'linear (model.c2=1)'],
    );
  });

  it('chooses the default columns: primary and secondary metrics per evaluated set, then train_seconds', async () => {
    const report = await buildReport(store, runs, OPTIONS);
    assert.deepEqual(
      report.columns.map((c) => c.key),
      ['test.macro_f1', 'test.accuracy', 'test.weighted_f1', 'train_seconds'],
    );
    const explicit = await buildReport(store, runs, { ...OPTIONS, metrics: ['accuracy', 'train_seconds'] });
    assert.deepEqual(
      explicit.columns.map((c) => c.key),
      ['test.accuracy', 'train_seconds'],
    );
  });

  it('marks the best row per column, lower being better for times', async () => {
    const report = await buildReport(store, runs, OPTIONS);
    const column = (key: string) => report.columns.find((c) => c.key === key)!;
    assert.deepEqual(column('test.macro_f1').best, [1]);
    assert.equal(column('test.macro_f1').lowerIsBetter, false);
    assert.deepEqual(column('train_seconds').best, [0]);
    assert.equal(column('train_seconds').lowerIsBetter, true);
  });

  it('tests every row against the baseline and marks a clearly better system', async () => {
    const report = await buildReport(store, runs, OPTIONS);
    assert.equal(report.baseline, 0);
    assert.deepEqual(report.significance, {
      split: 'test',
      metric: 'macro_f1',
      column: 'test.macro_f1',
      samples: 400,
      seed: 3,
      confidence: 0.95,
    });
    assert.equal(report.rows[0]!.significance, null);
    const s = report.rows[1]!.significance!;
    assert.equal(s.examples, 40);
    assert.ok(s.delta > 0.2, `delta ${s.delta}`);
    assert.ok(s.ci[0] > 0, `interval ${s.ci}`);
    assert.equal(s.significant, true);
    assert.notEqual(s.marker, '');
    assert.equal(s.pValue, Math.max(s.pBootstrap, s.pRandomization));
    // Pooled predictions use the first run of the row (seed 1): 60% vs 95% correct.
    assert.equal(s.a, evaluatePredictions('classify', examples, predict(examples, weak(1))).metrics.macro_f1);
    assert.equal(
      s.b,
      evaluatePredictions('classify', examples, predict(examples, strong(1))).metrics.macro_f1,
    );
  });

  it('collects per-label F1 per row for the plots', async () => {
    const report = await buildReport(store, runs, OPTIONS);
    assert.deepEqual(report.labels, LABELS);
    const perLabel = report.rows[1]!.perLabel!;
    assert.deepEqual(
      perLabel.map((l) => l.label),
      LABELS,
    );
    assert.ok(perLabel.every((l) => l.support === 20 && l.f1 > 0.9));
    assert.equal(report.rows[1]!.examples, 40);
  });

  it('takes the baseline from a run id or a row label, and refuses an unknown one', async () => {
    const byId = await buildReport(store, runs, { ...OPTIONS, baseline: runs[3]!.id });
    assert.equal(byId.baseline, 1);
    assert.ok(byId.rows[0]!.significance!.delta < 0);
    const byLabel = await buildReport(store, runs, { ...OPTIONS, baseline: 'linear (model.c2=1)' });
    assert.equal(byLabel.baseline, 1);
    await assert.rejects(
      buildReport(store, runs, { ...OPTIONS, baseline: 'nope' }),
      (error: SapphireError) =>
        error.code === 'NOT_FOUND' && /linear \(model\.c2=0\.1\)/.test(error.hint ?? ''),
    );
  });

  it('produces a plain JSON object', async () => {
    const report = await buildReport(store, runs, OPTIONS);
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  });
});

describe('buildReport on studies', () => {
  it('uses a sweep’s members, labels rows by trial values and notes failed members', async () => {
    const sweep = await addStudy('sweep', 'c2 sweep');
    const trial = (index: number, c2: number) => ({
      model: { architecture: 'linear.v1', c2 },
      trial: { index, values: { 'model.c2': c2 } },
    });
    const a = await addRun({
      kind: 'trial',
      parentId: sweep.id,
      seed: 1,
      config: trial(0, 0.1),
      sets: { test: [examples, weak(1)] },
    });
    const failed = await addRun({
      kind: 'trial',
      parentId: sweep.id,
      seed: 1,
      config: trial(1, 0.5),
      fail: 'out of memory',
    });
    const b = await addRun({
      kind: 'trial',
      parentId: sweep.id,
      seed: 1,
      config: trial(2, 1),
      sets: { test: [examples, strong(1)] },
    });
    const report = await buildReport(store, [sweep], OPTIONS);
    assert.equal(report.title, `Sweep: c2 sweep (${sweep.id})`);
    assert.deepEqual(report.sources, [{ id: sweep.id, kind: 'sweep', name: 'c2 sweep', members: 3 }]);
    assert.deepEqual(
      report.rows.map((r) => [r.label, r.runs, r.source, r.kind]),
      [
        ['model.c2=0.1', [a.id], sweep.id, 'trial'],
        ['model.c2=1', [b.id], sweep.id, 'trial'],
      ],
    );
    const note = report.notes.find((n) => n.includes(failed.id));
    assert.ok(note, `notes: ${report.notes.join(' | ')}`);
    assert.match(note, /failed.*out of memory/);
    assert.ok(report.rows.every((r) => !r.runs.includes(failed.id)));
  });

  it('concatenates the held-out folds of a cross-validation into one prediction per example', async () => {
    const first = examples.slice(0, 20);
    const second = examples.slice(20);
    const cv = async (c2: number, wrong: (seed: number) => (i: number) => boolean) => {
      const study = await addStudy('cv', `cv c2=${c2}`);
      for (const [index, part] of [first, second].entries()) {
        await addRun({
          kind: 'fold',
          name: `fold ${index + 1}`,
          parentId: study.id,
          seed: 13,
          config: {
            model: { architecture: 'linear.v1', c2 },
            selection: { kind: 'fold', pool: [], k: 2, index, repeat: 0, seed: 13, stratify: true },
          },
          sets: { heldout: [part, wrong(index)] },
        });
      }
      return study;
    };
    const base = await cv(0.1, weak);
    const better = await cv(1, strong);
    const report = await buildReport(store, [base, better], OPTIONS);
    assert.deepEqual(
      report.rows.map((r) => [r.label, r.runs.length]),
      [
        ['cv c2=0.1', 2],
        ['cv c2=1', 2],
      ],
    );
    assert.deepEqual(
      report.columns.map((c) => c.key),
      ['heldout.macro_f1', 'heldout.accuracy', 'heldout.weighted_f1'],
    );
    assert.equal(report.significance?.split, 'heldout');
    assert.equal(report.rows[0]!.examples, 40);
    const s = report.rows[1]!.significance!;
    assert.equal(s.examples, 40);
    assert.equal(s.significant, true);
  });

  it('builds the learning curve of a curve study with its doubling estimate', async () => {
    const curve = await addStudy('curve', 'curve', { metric: 'dev.macro_f1' });
    const scores: Record<number, number[]> = { 10: [0.6, 0.62], 20: [0.7, 0.71], 40: [0.78, 0.8] };
    for (const [size, values] of Object.entries(scores)) {
      for (const [s, score] of values.entries()) {
        await addRun({
          kind: 'curve-point',
          parentId: curve.id,
          seed: s,
          config: {
            selection: {
              kind: 'subsample',
              fraction: Number(size) / 40,
              seed: s,
              stratify: true,
              size: Number(size),
            },
          },
          metrics: { 'dev.macro_f1': score, 'test.macro_f1': score - 0.1 },
        });
      }
    }
    const report = await buildReport(store, [curve], OPTIONS);
    assert.deepEqual(
      report.rows.map((r) => r.label),
      ['n=10 (25%)', 'n=20 (50%)', 'n=40 (100%)'],
    );
    assert.equal(report.curves.length, 1);
    const c = report.curves[0]!;
    assert.equal(c.metric, 'dev.macro_f1', 'the study’s own metric');
    assert.deepEqual(
      c.points.map((p) => [p.size, p.fraction, p.summary.n]),
      [
        [10, 0.25, 2],
        [20, 0.5, 2],
        [40, 1, 2],
      ],
    );
    assert.equal(c.points[0]!.summary.mean, 0.61);
    assert.equal(c.doubling?.size, 80);
    assert.ok(c.doubling!.predicted > 0.79 && c.doubling!.gain > 0);
    assert.ok(c.fit && c.fit.b > 0);
    assert.ok(c.trend.length > 2);
    assert.equal(c.trend.at(-1)!.size, 80);
    assert.match(report.notes.join('\n'), /no stored predictions/);
  });

  it('reports nothing but a note for a study without finished members', async () => {
    const sweep = await addStudy('sweep', 'empty');
    const report = await buildReport(store, [sweep], OPTIONS);
    assert.deepEqual(report.rows, []);
    assert.equal(report.baseline, null);
    assert.match(report.notes.join('\n'), /has no member runs/);
  });
});
