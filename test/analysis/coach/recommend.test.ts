import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { COACH_THRESHOLDS, type Recommendation, recommend } from '../../../src/analysis/coach/recommend.ts';
import { bestRun, projectState } from './state-fixture.ts';

function ids(recs: Recommendation[]): string[] {
  return recs.map((r) => r.id);
}

function find(recs: Recommendation[], id: string): Recommendation {
  const rec = recs.find((r) => r.id === id);
  assert.ok(rec, `expected a "${id}" recommendation, got ${ids(recs).join(', ')}`);
  return rec;
}

describe('recommend: bias, variance and dev/test', () => {
  it('a project in good shape only gets low-priority advice', () => {
    const recs = recommend(projectState());
    assert.deepEqual(ids(recs), ['data-saturated', 'productize']);
    assert.ok(
      recs.every((r) => r.priority >= 3),
      'nothing urgent',
    );
    assert.equal(find(recs, 'productize').command, 'sapphire evaluate models/r-model bank:test');
  });

  it('high training error recommends capacity first, with the numbers and a runnable command', () => {
    const best = bestRun({
      train: 0.64,
      dev: 0.61,
      test: 0.56,
      settings: {
        loss: 'logistic',
        C: 30,
        features: { hashBits: 10, wordNgrams: null, charNgrams: [1, 1] },
        trainer: { epochs: 1 },
      },
      configFile: 'under.yaml',
    });
    const recs = recommend(projectState({ best }));
    const capacity = recs[0];
    assert.equal(capacity?.id, 'capacity');
    assert.equal(capacity?.priority, 1);
    assert.deepEqual(capacity?.evidence, {
      'train.macro_f1': 0.64,
      'dev.macro_f1': 0.61,
      'acceptance.macro_f1': 0.8,
      min_train_score: 0.8,
    });
    assert.equal(
      capacity?.command,
      "sapphire train under.yaml model.trainer.epochs=20 model.features.hashBits=20 'model.features.wordNgrams=[1,2]' 'model.features.charNgrams=[2,5]'",
    );
    assert.deepEqual(capacity?.alternatives, ["sapphire sweep under.yaml --grid 'model.C=[30,90,300]'"]);
    assert.match(
      capacity?.why ?? '',
      /train\.macro_f1 is 0\.6400, below the acceptance threshold 0\.8 \(dev 0\.6100\)/,
    );
    assert.ok(!ids(recs).includes('variance'), 'a 0.03 gap is no variance problem');
  });

  it('a train score above 0.8 but below a higher acceptance threshold is still underfitting', () => {
    const state = projectState({ best: bestRun({ train: 0.88, dev: 0.86, test: 0.86 }) });
    state.card.threshold = 0.9;
    state.card.acceptance = { macro_f1: 0.9 };
    const capacity = find(recommend(state), 'capacity');
    assert.match(capacity.why, /below the acceptance threshold 0\.9/);
    assert.equal(capacity.evidence.min_train_score, 0.9);
  });

  it('a large train−dev gap recommends data and regularisation, with a learning curve when none has a trend', () => {
    const best = bestRun({ train: 1, dev: 0.7, test: 0.69, configFile: 'linear.yaml' });
    const recs = recommend(projectState({ best, curves: [] }));
    const variance = recs[0];
    assert.equal(variance?.id, 'variance');
    assert.equal(variance?.priority, 1);
    assert.equal(variance?.evidence.train_dev_gap, 0.3);
    assert.equal(variance?.command, "sapphire sweep linear.yaml --grid 'model.C=[0.1,0.333,1]'");
    assert.deepEqual(variance?.alternatives, [
      'sapphire curve linear.yaml --fractions 0.1,0.25,0.5,1 --seeds 3',
    ]);
    assert.ok(!ids(recs).includes('capacity'), 'train is perfect');
  });

  it('a run on a subsample of the train split is told to train on all of it first', () => {
    const best = bestRun({
      kind: 'curve-point',
      train: 1,
      dev: 0.63,
      test: 0.59,
      selection: { fraction: 0.05, size: 60 },
      trainExamples: 60,
    });
    const variance = find(recommend(projectState({ best })), 'variance');
    assert.equal(variance.command, 'sapphire train linear.yaml');
    assert.match(variance.title, /5% of the train split/);
    assert.equal(variance.evidence['selection.fraction'], 0.05);
    assert.equal(variance.evidence.train_examples, 60);
  });

  it('CRF knobs: fewer iterations add capacity, a larger c2 regularises', () => {
    const settings = { c1: 0.1, c2: 0.5, maxIterations: 1 };
    const under = find(
      recommend(
        projectState({
          best: bestRun({ architecture: 'crf.v1', settings, train: 0.001, dev: 0, test: 0 }),
        }),
      ),
      'capacity',
    );
    assert.equal(under.command, 'sapphire train linear.yaml model.maxIterations=200');
    const over = find(
      recommend(
        projectState({
          best: bestRun({ architecture: 'crf.v1', settings: { c2: 0.5 }, train: 1, dev: 0.5, test: 0.5 }),
        }),
      ),
      'variance',
    );
    assert.equal(over.command, "sapphire sweep linear.yaml --grid 'model.c2=[0.5,1.5,5]'");
  });

  it('both problems: capacity comes before variance', () => {
    const recs = recommend(projectState({ best: bestRun({ train: 0.7, dev: 0.45, test: 0.45 }) }));
    assert.deepEqual(ids(recs).slice(0, 2), ['capacity', 'variance']);
    assert.equal(find(recs, 'variance').priority, 2);
  });

  it('good dev but poor test recommends redrawing dev and test, beyond twice the standard error', () => {
    const best = bestRun({ train: 0.95, dev: 0.9, test: 0.8, devExamples: 1000, testExamples: 1000 });
    const mismatch = find(recommend(projectState({ best })), 'dev-test-mismatch');
    assert.equal(mismatch.command, 'sapphire data split bank --stratify');
    assert.equal(mismatch.evidence.dev_test_gap, 0.1);
    const se = Math.sqrt((0.9 * 0.1) / 1000 + (0.8 * 0.2) / 1000);
    assert.equal(mismatch.evidence.standard_error, Math.round(se * 10_000) / 10_000);
  });

  it('a dev/test gap within noise on small splits is not reported', () => {
    const best = bestRun({ train: 0.95, dev: 0.9, test: 0.83, devExamples: 40, testExamples: 40 });
    assert.ok(
      !ids(recommend(projectState({ best }))).includes('dev-test-mismatch'),
      '0.07 < 2 SE on 40 examples',
    );
  });

  it('a best run that is a baseline is told to climb the ladder, not to tune', () => {
    const best = bestRun({ architecture: 'majority.v1', baseline: true, train: 0.02, dev: 0.02, test: 0.02 });
    const recs = recommend(projectState({ best, ladder: { source: 'configs', rungs: 4 } }));
    assert.equal(recs[0]?.id, 'climb-ladder');
    assert.equal(recs[0]?.command, 'sapphire ladder');
    assert.ok(!ids(recs).includes('capacity'), 'no capacity advice for a baseline');
  });

  it('a learned model that does not beat the baseline is flagged', () => {
    const state = projectState({ best: bestRun({ train: 0.95, dev: 0.025, test: 0.02 }) });
    assert.equal(find(recommend(state), 'beat-baseline').priority, 1);
  });
});

describe('recommend: learning curves, slices and tests', () => {
  it('a rising learning curve recommends more data with the predicted gain', () => {
    const state = projectState();
    state.curves = [{ ...(state.curves[0] as (typeof state.curves)[0]), gain: 0.03, predicted: 0.93 }];
    const more = find(recommend(state), 'more-data');
    assert.equal(more.evidence['doubling.gain'], 0.03);
    assert.match(more.why, /from 1200 to 2400 examples is predicted to give 0\.9300 \(\+0\.0300/);
  });

  it('a flat curve says more of the same data will barely help', () => {
    const saturated = find(recommend(projectState()), 'data-saturated');
    assert.equal(saturated.evidence['doubling.gain'], 0.003);
  });

  it('lagging slices come from the analysis run, worst first, ignoring tiny slices', () => {
    const state = projectState({
      analysis: {
        id: 'r-analysis',
        sourceRun: 'r-model',
        slices: [
          { name: 'long', delta: -0.12, size: 40, score: 0.78 },
          { name: 'short', delta: -0.3, size: 30, score: 0.6 },
          { name: 'tiny', delta: -0.5, size: 3, score: 0.4 },
          { name: 'fine', delta: -0.02, size: 100, score: 0.88 },
        ],
      },
    });
    const slices = recommend(state).filter((r) => r.id.startsWith('slice-'));
    assert.deepEqual(ids(slices), ['slice-short', 'slice-long']);
    assert.equal(slices[0]?.evidence['slice.short.delta'], -0.3);
    assert.equal(slices[0]?.command, 'sapphire analyze r-model --data bank:dev');
  });

  it('without an analysis, lagging slices are computed from the best run’s predictions', () => {
    const state = projectState({
      analysis: null,
      analyses: 0,
      bestSlices: {
        run: 'r-model',
        split: 'dev',
        overall: 0.9,
        slices: [{ name: 'short', size: 20, score: 0.7, delta: -0.2 }],
      },
    });
    const slice = find(recommend(state), 'slice-short');
    assert.equal(slice.evidence['dev.macro_f1'], 0.9);
    assert.match(slice.why, /dev predictions of r-model/);
  });

  it("an analysis of another model is stale: the best run's own slice scores win", () => {
    const state = projectState({
      analysis: {
        id: 'r-old',
        sourceRun: 'r-older',
        slices: [{ name: 'long', delta: -0.4, size: 50, score: 0.5 }],
      },
      bestSlices: {
        run: 'r-model',
        split: 'dev',
        overall: 0.9,
        slices: [{ name: 'short', size: 20, score: 0.7, delta: -0.2 }],
      },
    });
    const recs = recommend(state);
    assert.deepEqual(
      ids(recs).filter((id) => id.startsWith('slice-')),
      ['slice-short'],
    );
    assert.match(find(recs, 'analyze').why, /No analysis of r-model is recorded/);
  });

  it('failing earmarks come first; failing behavioural tests are reported with their rates', () => {
    const state = projectState({
      test: {
        id: 'r-test',
        model: 'models/r-model',
        trainingRun: 'r-model',
        earmarksFailed: 2,
        earmarksTotal: 9,
        behaviours: [
          { name: 'casing', failureRate: 0.25 },
          { name: 'punctuation', failureRate: 0.05 },
        ],
      },
    });
    const recs = recommend(state);
    assert.equal(recs[0]?.id, 'earmarks');
    assert.deepEqual(recs[0]?.evidence, { 'earmarks.failed': 2, 'earmarks.total': 9 });
    assert.equal(recs[0]?.command, 'sapphire test models/r-model');
    assert.ok(ids(recs).includes('behaviour-casing'), 'casing fails 25%');
    assert.ok(!ids(recs).includes('behaviour-punctuation'), '5% is under the threshold');
  });
});

describe('recommend: missing steps', () => {
  it('an empty project is told to import data', () => {
    const recs = recommend(projectState({ datasets: [], best: null, modelRuns: [], baselines: [] }));
    assert.equal(recs[0]?.id, 'import-data');
    assert.equal(recs[0]?.command, 'sapphire data import');
  });

  it('unsplit data, a missing dev split, no acceptance and no baseline are each reported', () => {
    const unsplit = projectState({ best: null, modelRuns: [], baselines: [] });
    unsplit.datasets = [
      { ...(unsplit.datasets[0] as (typeof unsplit.datasets)[0]), splitVersion: null, splitCounts: {} },
    ];
    assert.equal(recommend(unsplit)[0]?.command, 'sapphire data split bank');

    const noDev = projectState();
    noDev.datasets = [
      { ...(noDev.datasets[0] as (typeof noDev.datasets)[0]), splitCounts: { train: 1350, test: 150 } },
    ];
    assert.equal(
      find(recommend(noDev), 'dev-split').command,
      'sapphire data split bank --ratios 0.8,0.1,0.1',
    );

    const noAcceptance = projectState();
    noAcceptance.card = {
      ...noAcceptance.card,
      threshold: null,
      acceptance: {},
      missing: ['acceptance.macro_f1'],
    };
    const acceptance = find(recommend(noAcceptance), 'acceptance');
    assert.equal(acceptance.command, null);
    assert.match(acceptance.alternatives[0] ?? '', /acceptance: \{ macro_f1:/);

    const noBaseline = projectState({ baselines: [] });
    noBaseline.modelRuns = noBaseline.modelRuns.filter((r) => !r.baseline);
    assert.match(
      find(recommend(noBaseline), 'baseline').command ?? '',
      /majority\.v1.*sapphire train baseline\.yaml/,
    );
  });

  it('split data without any model asks for a first model, through the ladder when there is one', () => {
    const state = projectState({
      best: null,
      modelRuns: [],
      baselines: [],
      ladder: { source: 'configs', rungs: 4 },
    });
    const first = find(recommend(state), 'first-model');
    assert.equal(first.command, 'sapphire ladder');
    assert.equal(first.priority, 1);
  });

  it('for any train and dev scores, capacity and variance fire exactly by their thresholds, sorted by priority', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.option(fc.double({ min: 0.5, max: 0.99, noNaN: true }), { nil: null }),
        (train, dev, threshold) => {
          const state = projectState({ best: bestRun({ train, dev, test: dev }) });
          state.card.threshold = threshold;
          state.card.acceptance = threshold === null ? {} : { macro_f1: threshold };
          const recs = recommend(state);
          const got = ids(recs);
          const underfit = train < Math.max(COACH_THRESHOLDS.minTrainScore, threshold ?? 0);
          const overfit = train - dev > COACH_THRESHOLDS.maxTrainDevGap;
          const beaten = dev <= 0.02 + COACH_THRESHOLDS.baselineMargin;
          assert.equal(got.includes('capacity'), underfit, `capacity for train ${train}`);
          assert.equal(got.includes('variance'), overfit, `variance for train ${train}, dev ${dev}`);
          assert.equal(got.includes('beat-baseline'), beaten, `baseline check for dev ${dev}`);
          for (let i = 1; i < recs.length; i++)
            assert.ok((recs[i - 1]?.priority ?? 0) <= (recs[i]?.priority ?? 0), 'sorted by priority');
          for (const rec of recs)
            for (const value of Object.values(rec.evidence))
              assert.ok(Number.isFinite(value), `finite evidence in ${rec.id}`);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('recommend: drift of served models', () => {
  const drifted = {
    tenant: 'default',
    model: 'intents',
    version: 3,
    window: '1h',
    status: 'drift' as const,
    items: 3080,
    signals: { oov_shift: 0.21, new_tokens: 0.08 },
    newItems: ['refund', 'pin'],
  };

  it('a drifted production model comes first, with the export command for the drifted slice', () => {
    const recs = recommend(projectState({ drift: [drifted] }));
    const rec = find(recs, 'drift-intents');
    assert.equal(recs[0]?.id, 'drift-intents', 'priority 1');
    assert.equal(
      rec.command,
      'sapphire requests export intents --drifted --window 1h --out drifted-intents.jsonl',
    );
    assert.match(rec.why, /oov_shift 0\.2100/);
    assert.match(rec.why, /refund, pin/);
    assert.deepEqual(rec.evidence, { items: 3080, oov_shift: 0.21, new_tokens: 0.08 });
    assert.ok(rec.alternatives.includes('sapphire monitor intents --window 1h'), `${rec.alternatives}`);
  });

  it('no drift says nothing; a model without a profile is told to retrain; other tenants get --tenant', () => {
    assert.ok(
      !ids(recommend(projectState({ drift: [{ ...drifted, status: 'ok' }] }))).some((id) =>
        id.startsWith('drift'),
      ),
    );
    const recs = recommend(
      projectState({
        drift: [
          { ...drifted, status: 'no-profile', signals: {} },
          { ...drifted, tenant: 'acme', model: 'shop' },
        ],
      }),
    );
    assert.equal(find(recs, 'drift-no-profile-intents').command, 'sapphire retrain intents');
    assert.match(find(recs, 'drift-shop').command ?? '', /--tenant acme$/);
  });
});
