import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configFromCommand, findRunConfigFile } from '../../../src/analysis/coach/config-file.ts';
import { modelKnobs } from '../../../src/analysis/coach/knobs.ts';
import { gatherProjectState, type ProjectState } from '../../../src/analysis/coach/project-state.ts';
import { changedSettings } from '../../../src/analysis/coach/settings-diff.ts';
import { SapphireError } from '../../../src/core/errors.ts';
import { problemCardSchema } from '../../../src/core/project.ts';
import type { Example } from '../../../src/data/types.ts';
import { openStore } from '../../../src/store/open-store.ts';
import { savePredictions } from '../../../src/store/run-artifacts.ts';
import type { NewRun, Run, Store } from '../../../src/store/store.ts';

const card = problemCardSchema.parse({
  name: 'bank',
  task: 'classify',
  description: 'route banking questions',
  labels: ['card', 'cash'],
  acceptance: { macro_f1: 0.8 },
  slices: [{ name: 'short', where: { tokens: { max: 2 } } }],
});

/** Ten examples: short ones (≤ 2 tokens) and long ones, in train, dev and test. */
function examples(): Example[] {
  const out: Example[] = [];
  for (let i = 0; i < 10; i++) {
    const short = i % 2 === 0;
    out.push({
      id: `e${i}`,
      text: short ? `card ${i}` : `where is my cash number ${i} please`,
      labels: [short ? 'card' : 'cash'],
      split: i < 4 ? 'train' : i < 8 ? 'dev' : 'test',
      meta: {},
    });
  }
  return out;
}

async function finished(store: Store, run: NewRun, metrics: Record<string, number>): Promise<Run> {
  const created = await store.createRun(run);
  return store.finishRun(created.id, { status: 'finished', metrics });
}

describe('gatherProjectState on a SQLite store', () => {
  let dir: string;
  let store: Store;
  let state: ProjectState;
  let linear: Run;
  let baseline: Run;
  let curve: Run;
  let version: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sapphire-coach-'));
    store = await openStore({ projectDir: dir });
    await store.putDatasetVersion({
      name: 'bank',
      examples: examples().map(({ split: _s, ...e }) => e),
      operation: { kind: 'import', params: {} },
    });
    version = (
      await store.putDatasetVersion({
        name: 'bank',
        examples: examples(),
        operation: { kind: 'split', params: {} },
      })
    ).version.id;
    const data = { dataset: 'bank', train: 'train', dev: 'dev', test: 'test' };
    baseline = await finished(
      store,
      { kind: 'train', config: { model: { architecture: 'majority.v1' }, data }, datasetVersions: [version] },
      { 'train.macro_f1': 0.33, 'dev.macro_f1': 0.33, 'test.macro_f1': 0.33 },
    );
    linear = await finished(
      store,
      {
        kind: 'train',
        config: {
          model: { architecture: 'linear.v1', loss: 'logistic', trainer: { epochs: 1 } },
          data,
          output: 'models/linear',
        },
        datasetVersions: [version],
      },
      { 'train.macro_f1': 0.7, 'dev.macro_f1': 0.6, 'test.macro_f1': 0.55, train_seconds: 0.5 },
    );
    // The linear run predicted the dev split: right on the long examples, wrong on the short ones.
    const dev = examples().filter((e) => e.split === 'dev');
    await savePredictions(
      store,
      linear.id,
      'dev',
      dev,
      dev.map(() => ({ labels: ['cash'] })),
    );
    await store.createRun({ kind: 'train', config: { model: { architecture: 'crf.v1' } } }); // still running
    curve = await finished(
      store,
      { kind: 'curve', config: { model: { architecture: 'linear.v1' }, study: { metric: 'dev.macro_f1' } } },
      { 'dev.macro_f1': 0.6, 'doubling.gain': 0.04, 'doubling.predicted': 0.64 },
    );
    const summary = Buffer.from(
      JSON.stringify({ curves: [{ points: [{ size: 2 }, { size: 4 }], doubling: { size: 8 } }] }),
    );
    await store.addRunArtifacts(curve.id, [
      { name: 'study/summary.json', hash: await store.putArtifact(summary), size: summary.length },
    ]);
    await finished(
      store,
      { kind: 'analyze', config: { sourceRun: 'r-older' }, datasetVersions: [version] },
      { 'slice.short.delta': -0.3, 'slice.short.size': 2, 'slice.short.score': 0.3 },
    );
    await finished(
      store,
      { kind: 'test', config: { modelDir: 'models/linear' } },
      { 'earmarks.failed': 1, 'earmarks.total': 4, 'behaviour.casing.failure_rate': 0.2 },
    );
    await finished(
      store,
      {
        kind: 'evaluate',
        config: { trainingRun: linear.id, data: { dataset: version, split: 'test' } },
        datasetVersions: [version],
      },
      { 'test.macro_f1': 0.55, examples_per_second: 900 },
    );
    mkdirSync(join(dir, 'models', 'linear'), { recursive: true });
    mkdirSync(join(dir, 'configs'));
    writeFileSync(
      join(dir, 'configs', 'plain.yaml'),
      'model: { architecture: linear.v1 }\ndata: { dataset: bank }\n',
    );
    writeFileSync(
      join(dir, 'configs', 'under.yaml'),
      'model: { architecture: linear.v1, loss: logistic, trainer: { epochs: 1 } }\ndata: { dataset: bank }\n',
    );
    state = await gatherProjectState(store, card, dir);
  });

  after(async () => {
    await store.close();
  });

  it('reads the card, the datasets with their newest split and the run counts', () => {
    assert.equal(state.card.threshold, 0.8);
    assert.deepEqual(state.card.missing, []);
    assert.deepEqual(state.datasets, [
      {
        name: 'bank',
        versions: 2,
        latest: version,
        examples: 10,
        splitVersion: version,
        splitCounts: { train: 4, dev: 4, test: 2 },
      },
    ]);
    assert.equal(state.runs.total, 7);
    assert.equal(state.runs.running, 1);
    assert.equal(state.runs.byKind.train, 3);
    assert.deepEqual(
      state.baselines.map((b) => b.id),
      [baseline.id],
    );
    assert.equal(state.experimentsCompared, true);
    assert.deepEqual(state.studies, { curve: 1 });
    assert.deepEqual(state.ladder, { source: 'configs', rungs: 2 });
    assert.equal(state.registry.registered, false);
  });

  it('picks the best run by dev score, with its scores, settings, split sizes, model folder and config file', () => {
    const best = state.best;
    assert.equal(best?.id, linear.id);
    assert.equal(best?.rankedBy, 'dev.macro_f1');
    assert.deepEqual([best?.train, best?.dev, best?.test], [0.7, 0.6, 0.55]);
    assert.deepEqual([best?.trainExamples, best?.devExamples, best?.testExamples], [4, 4, 2]);
    assert.equal(best?.modelDir, 'models/linear');
    assert.equal(best?.configFile, 'configs/under.yaml', 'the most specific matching config');
    assert.deepEqual(best?.settings, { loss: 'logistic', trainer: { epochs: 1 } });
  });

  it('reads the learning curve, the analysis slices, the tests and the evaluations', () => {
    assert.deepEqual(state.curves, [
      {
        id: curve.id,
        architecture: 'linear.v1',
        metric: 'dev.macro_f1',
        lastScore: 0.6,
        gain: 0.04,
        predicted: 0.64,
        largestSize: 4,
        doubledSize: 8,
      },
    ]);
    assert.deepEqual(state.analysis?.slices, [{ name: 'short', delta: -0.3, size: 2, score: 0.3 }]);
    assert.equal(state.analysis?.sourceRun, 'r-older');
    assert.deepEqual(state.test?.behaviours, [{ name: 'casing', failureRate: 0.2 }]);
    assert.equal(state.test?.earmarksFailed, 1);
    assert.equal(state.test?.model, 'models/linear');
    assert.equal(state.evaluations[0]?.examplesPerSecond, 900);
    assert.equal(state.evaluations[0]?.score, 0.55);
    assert.equal(state.evaluations[0]?.dataset, 'bank');
  });

  it("scores the card's slices on the best run's stored dev predictions", () => {
    const scores = state.bestSlices;
    assert.equal(scores?.split, 'dev');
    // dev: e4 (short, card), e5 (cash), e6 (short, card), e7 (cash); everything predicted cash.
    assert.equal(scores?.slices.length, 1);
    const short = scores?.slices[0];
    assert.equal(short?.name, 'short');
    assert.equal(short?.size, 2);
    assert.equal(short?.score, 0, 'no short example is right');
    assert.ok((short?.delta ?? 0) < 0, 'the short slice lags the overall score');
    assert.equal(short?.delta, (short?.score ?? 0) - (scores?.overall ?? 0));
  });

  it('describes a chosen run instead of the best one', async () => {
    const focused = await gatherProjectState(store, card, dir, { focusRun: baseline.id, sliceScores: false });
    assert.equal(focused.best?.id, baseline.id);
    assert.equal(focused.best?.baseline, true);
    assert.equal(focused.bestSlices, null);
    await assert.rejects(
      gatherProjectState(store, card, dir, { focusRun: curve.id }),
      (e: unknown) =>
        e instanceof SapphireError &&
        e.code === 'BAD_INPUT' &&
        /--study/.test(e.hint ?? '') &&
        /curve run/.test(e.message),
    );
  });
});

describe('config files, knobs and settings', () => {
  it('finds the config named on a recorded command line', () => {
    assert.equal(configFromCommand('sapphire --json curve lin.yaml --fractions 0.05 --seeds 1'), 'lin.yaml');
    assert.equal(
      configFromCommand('sapphire --project x train configs/crf.yml model.c2=1'),
      'configs/crf.yml',
    );
    assert.equal(configFromCommand('sapphire ladder'), null);
    assert.equal(configFromCommand(null), null);
  });

  it('prefers the recorded command line when its file exists in the project', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sapphire-coach-cfg-'));
    writeFileSync(join(dir, 'mine.yaml'), 'model: { architecture: crf.v1 }\n');
    const run = {
      provenance: { command: 'sapphire train mine.yaml model.c2=2' },
      config: { model: { architecture: 'crf.v1', c2: 2 } },
    } as unknown as Run;
    assert.equal(findRunConfigFile(run, dir), 'mine.yaml');
    const elsewhere = { ...run, provenance: { command: 'sapphire train ../gone.yaml' } } as unknown as Run;
    assert.equal(findRunConfigFile(elsewhere, dir), 'mine.yaml', 'found by its settings instead');
  });

  it('knobs read the filled settings of each architecture', () => {
    assert.deepEqual(modelKnobs('crf.v1', { c2: 0.05, maxIterations: 100 }), {
      capacity: [],
      capacitySweep: 'model.c2=[0.005,0.0167,0.05]',
      regularizeSweep: 'model.c2=[0.05,0.15,0.5]',
    });
    assert.deepEqual(modelKnobs('perceptron.v1', { epochs: 2 }).capacity, ['model.epochs=20']);
    assert.deepEqual(modelKnobs('rules-ner.v1', {}), {
      capacity: [],
      capacitySweep: null,
      regularizeSweep: null,
    });
  });

  it('changed settings are the ones that differ from the architecture defaults', async () => {
    await import('../../../src/models/index.ts');
    assert.deepEqual(
      changedSettings('crf.v1', 'ner', { task: 'ner', c2: 0.5, maxIterations: 1, features: {} }),
      { maxIterations: 1 },
      'c2 0.5 is the default; an empty features object adds nothing',
    );
    assert.deepEqual(changedSettings('nothing.v1', 'ner', { a: { b: 1 } }), { 'a.b': 1 });
  });
});
