/** Hand-made project states for the coach's rule tests: a classification project with one split dataset. */
import type { BestRunFacts, ModelRunFacts, ProjectState } from '../../../src/analysis/coach/project-state.ts';

/** A model run in brief, with scores given. */
export function modelRun(overrides: Partial<ModelRunFacts> = {}): ModelRunFacts {
  return {
    id: 'r-model',
    kind: 'train',
    name: 'linear.v1',
    architecture: 'linear.v1',
    baseline: false,
    datasetVersion: 'bank@aaaaaaaaaaaa',
    dataset: 'bank',
    train: 0.95,
    dev: 0.9,
    test: 0.89,
    heldout: null,
    trainSeconds: 1.5,
    ...overrides,
  };
}

/** A best run (linear.v1, hinge, defaults) with scores given. */
export function bestRun(overrides: Partial<BestRunFacts> = {}): BestRunFacts {
  const base = modelRun(overrides);
  return {
    ...base,
    rankedBy: 'dev.macro_f1',
    score: base.dev ?? 0,
    settings: {
      loss: 'hinge',
      C: 1,
      features: { hashBits: 20, wordNgrams: [1, 2], charNgrams: [2, 5] },
      trainer: { epochs: 5, maxIterations: 1000 },
    },
    changedSettings: {},
    selection: null,
    trainExamples: 1200,
    devExamples: 150,
    testExamples: 150,
    configFile: 'linear.yaml',
    modelDir: `models/${base.id}`,
    ...overrides,
  };
}

/**
 * A project that has done everything but the thing under test: complete card (acceptance macro_f1 ≥ 0.8), a split
 * dataset, a baseline, two compared runs, an analysis, a passing test run and a rising learning curve.
 */
export function projectState(overrides: Partial<ProjectState> = {}): ProjectState {
  const best = overrides.best === undefined ? bestRun() : overrides.best;
  const baseline = modelRun({
    id: 'r-baseline',
    name: 'majority.v1',
    architecture: 'majority.v1',
    baseline: true,
    train: 0.02,
    dev: 0.02,
    test: 0.02,
  });
  return {
    projectDir: '/tmp/project',
    card: {
      name: 'bank',
      task: 'classify',
      hasDescription: true,
      labels: ['a', 'b'],
      primary: 'macro_f1',
      secondary: ['accuracy'],
      acceptance: { macro_f1: 0.8 },
      threshold: 0.8,
      slices: ['short'],
      sources: ['bank'],
      missing: [],
    },
    datasets: [
      {
        name: 'bank',
        versions: 2,
        latest: 'bank@aaaaaaaaaaaa',
        examples: 1500,
        splitVersion: 'bank@aaaaaaaaaaaa',
        splitCounts: { train: 1200, dev: 150, test: 150 },
      },
    ],
    runs: { total: 4, finished: 4, failed: 0, running: 0, byKind: { train: 3, curve: 1 } },
    modelRuns: best ? [best, baseline] : [baseline],
    baselines: [baseline],
    experimentsCompared: true,
    studies: { curve: 1 },
    analyses: 1,
    analysis: { id: 'r-analysis', sourceRun: 'r-model', slices: [] },
    tests: 1,
    test: {
      id: 'r-test',
      model: 'models/r-model',
      trainingRun: 'r-model',
      earmarksFailed: 0,
      earmarksTotal: 5,
      behaviours: [],
    },
    curves: [
      {
        id: 'r-curve',
        architecture: 'linear.v1',
        metric: 'dev.macro_f1',
        lastScore: 0.9,
        gain: 0.003,
        predicted: 0.903,
        largestSize: 1200,
        doubledSize: 2400,
      },
    ],
    evaluations: [],
    ladder: { source: null, rungs: 0 },
    registry: { registered: false, served: false, note: 'not yet' },
    bestSlices: null,
    drift: [],
    ...overrides,
    best,
  };
}
