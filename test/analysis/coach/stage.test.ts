import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recommend } from '../../../src/analysis/coach/recommend.ts';
import { renderRecommendations, renderStatus } from '../../../src/analysis/coach/render.ts';
import {
  assessMilestone,
  FAST_EXAMPLES_PER_SECOND,
  LOOP_STAGES,
  loopStages,
  MILESTONE_CRITERIA,
} from '../../../src/analysis/coach/stage.ts';
import { bestRun, modelRun, projectState } from './state-fixture.ts';

const empty = () =>
  projectState({
    datasets: [],
    best: null,
    modelRuns: [],
    baselines: [],
    experimentsCompared: false,
    studies: {},
    analyses: 0,
    analysis: null,
    tests: 0,
    test: null,
    curves: [],
  });

describe('loopStages', () => {
  it('lists every step of the loop in order, with what is done and the numbers', () => {
    const stages = loopStages(projectState());
    assert.deepEqual(
      stages.map((s) => s.id),
      [...LOOP_STAGES],
    );
    const byId = Object.fromEntries(stages.map((s) => [s.id, s]));
    assert.equal(byId.data?.done, true);
    assert.equal(byId.data?.detail, 'bank@aaaaaaaaaaaa: train 1,200 · dev 150 · test 150');
    assert.equal(byId.metrics?.detail, 'primary macro_f1 (also accuracy); acceptance macro_f1 ≥ 0.8');
    assert.match(byId.models?.detail ?? '', /baseline majority\.v1; 1 learned model run \(linear\.v1\)/);
    assert.match(byId.prioritize?.detail ?? '', /doubling the data → 0\.9030 \(\+0\.0030\)/);
    assert.equal(byId.productize?.done, false);
    assert.equal(byId.productize?.detail, 'not yet');
  });

  it('an empty project has nothing done but the problem card', () => {
    const stages = loopStages(empty());
    assert.deepEqual(
      stages.filter((s) => s.done).map((s) => s.id),
      ['problem', 'metrics'],
    );
    assert.equal(stages.find((s) => s.id === 'data')?.detail, 'no dataset imported');
  });
});

describe('assessMilestone', () => {
  it('reaches nothing without data, and level 1 with examples only', () => {
    assert.equal(assessMilestone(empty()).reached, 0);
    const withData = empty();
    withData.datasets = projectState().datasets;
    const m = assessMilestone(withData);
    assert.equal(m.reached, 1);
    assert.equal(m.name, 'by-hand examples');
    assert.equal(m.checks.length, MILESTONE_CRITERIA.length);
  });

  it('climbs level by level: baseline (2), a learned model above it (3), measured and inspected (4)', () => {
    const state = projectState({ analyses: 0, analysis: null, evaluations: [] });
    state.best = bestRun({ test: 0.7 });
    state.modelRuns = [state.best, ...state.baselines];
    let m = assessMilestone(state);
    assert.equal(m.reached, 3, 'no analysis or evaluation yet');
    assert.match(m.checks[2]?.evidence ?? '', /linear\.v1 dev\.macro_f1 0\.9000 > baseline 0\.0200/);
    state.analyses = 1;
    m = assessMilestone(state);
    assert.equal(m.reached, 4, 'test 0.7 is below the acceptance threshold 0.8');
    assert.match(m.checks[4]?.evidence ?? '', /no model reaches macro_f1 ≥ 0\.8 on test/);
  });

  it('level 5 needs the acceptance threshold met on test and a description', () => {
    const state = projectState();
    assert.equal(assessMilestone(state).reached, 5);
    state.card.hasDescription = false;
    assert.equal(assessMilestone(state).reached, 4);
  });

  it('level 6 needs a recorded throughput of an accepted model; level 7 a second dataset above acceptance', () => {
    const state = projectState({
      evaluations: [
        {
          id: 'r-eval',
          trainingRun: 'r-model',
          dataset: 'bank',
          split: 'test',
          score: 0.89,
          examplesPerSecond: FAST_EXAMPLES_PER_SECOND * 20,
        },
      ],
    });
    let m = assessMilestone(state);
    assert.equal(m.reached, 6);
    assert.match(m.checks[5]?.evidence ?? '', /2000 examples\/s, trained in 1\.5 s/);
    state.evaluations.push({
      id: 'r-eval-2',
      trainingRun: 'r-model',
      dataset: 'other-bank',
      split: 'test',
      score: 0.82,
      examplesPerSecond: 1500,
    });
    m = assessMilestone(state);
    assert.equal(m.reached, 7);
    assert.match(m.checks[6]?.evidence ?? '', /bank \(0\.8900\), other-bank \(0\.8200\)/);
  });

  it('a slow model is not "simple and fast"', () => {
    const state = projectState({
      evaluations: [
        {
          id: 'e',
          trainingRun: 'r-model',
          dataset: 'bank',
          split: 'test',
          score: 0.89,
          examplesPerSecond: 5,
        },
      ],
    });
    assert.equal(assessMilestone(state).reached, 5);
  });

  it('a learned model without a baseline meets level 3 but the milestone stays at 1', () => {
    const state = projectState({ baselines: [] });
    state.modelRuns = [modelRun()];
    const m = assessMilestone(state);
    assert.equal(m.reached, 1);
    assert.equal(m.checks[1]?.met, false);
    assert.equal(m.checks[2]?.met, true);
  });
});

describe('render', () => {
  it('status shows the checklist, the best run and the milestone with unmet criteria', () => {
    const state = projectState({ analyses: 0, analysis: null });
    state.best = bestRun({ test: 0.7, changedSettings: { loss: 'logistic', 'trainer.epochs': 1 } });
    const text = renderStatus(state, loopStages(state), assessMilestone(state));
    assert.match(text, /^Project bank \(classify\) · primary metric macro_f1 · acceptance ≥ 0\.8/);
    assert.match(text, /✓ {2}data {8}bank@aaaaaaaaaaaa: train 1,200/);
    assert.match(text, /✗ {2}analyze/);
    assert.match(text, /macro_f1: train 0\.9500 · dev 0\.9000 · test 0\.7000 · trained in 1\.5 s/);
    assert.match(text, /settings \(changed from defaults\): loss=logistic trainer\.epochs=1/);
    assert.match(text, /Milestone 3 of 7: works on some data/);
    assert.match(text, /✗ 4 measurable and inspectable: .*\n {6}needs: the best run has dev and test/);
  });

  it('next shows each recommendation with its numbers and commands', () => {
    const state = projectState({ best: bestRun({ train: 0.6, dev: 0.58, test: 0.57 }) });
    const text = renderRecommendations(recommend(state), state);
    assert.match(text, /^Based on r-model \(linear\.v1, dev\.macro_f1 0\.5800\) and 4 finished runs\./);
    assert.match(text, /1\. \[P1\] Add capacity/);
    assert.match(text, /numbers: train\.macro_f1 0\.6000 · dev\.macro_f1 0\.5800/);
    assert.match(text, /run: sapphire sweep linear\.yaml --grid 'model\.C=\[1,3,10\]'/);
  });
});
