/**
 * The facts the coach reasons from, gathered from the problem card, the tracking store and the project folder:
 * nothing is assumed, every number comes from a recorded dataset version or run.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SapphireError } from '../../core/errors.ts';
import type { ProblemCard } from '../../core/project.ts';
import type { TaskKind } from '../../data/types.ts';
import { LADDER_CONFIGS_DIR } from '../../experiments/ladder.ts';
import { DEFAULT_TENANT, PRODUCTION_ALIAS } from '../../store/serving-store.ts';
import type { DatasetVersion, Run, Store } from '../../store/store.ts';
import { findRunConfigFile } from './config-file.ts';
import {
  datasetName,
  firstScore,
  isBaselineArchitecture,
  MODEL_RUN_KINDS,
  metric,
  runArchitecture,
  runDatasetVersion,
  runSelection,
  runSettings,
  STUDY_KINDS,
} from './run-facts.ts';
import { changedSettings } from './settings-diff.ts';
import { type RunSliceScores, sliceScoresOfRun } from './slice-scores.ts';

/** How complete the problem card is. */
export interface CardFacts {
  name: string;
  task: TaskKind;
  hasDescription: boolean;
  labels: string[];
  primary: string;
  secondary: string[];
  acceptance: Record<string, number>;
  /** The acceptance threshold of the primary metric, or null when none is set. */
  threshold: number | null;
  slices: string[];
  sources: string[];
  /** What the card still lacks: `description`, `labels`, `acceptance.<primary>`, `slices`. */
  missing: string[];
}

/** One named dataset: its versions and the newest version that has splits. */
export interface DatasetFacts {
  name: string;
  versions: number;
  /** The newest version. */
  latest: string;
  /** Examples in the newest version. */
  examples: number;
  /** The newest version with a split assignment, or null when no version is split. */
  splitVersion: string | null;
  /** Example count per split of `splitVersion` (`{}` when unsplit). */
  splitCounts: Record<string, number>;
}

/** A model run in brief: what it trained on and its primary-metric scores. */
export interface ModelRunFacts {
  id: string;
  kind: string;
  name: string | null;
  architecture: string;
  baseline: boolean;
  /** The dataset version it used. */
  datasetVersion: string | null;
  dataset: string | null;
  train: number | null;
  dev: number | null;
  test: number | null;
  heldout: number | null;
  trainSeconds: number | null;
}

/** The best model run, with everything the recommendations cite. */
export interface BestRunFacts extends ModelRunFacts {
  /** The metric key it was chosen by: `dev.<primary>`, else `test.<primary>`, else `heldout.<primary>`. */
  rankedBy: string;
  score: number;
  /** The filled model settings (without the architecture). */
  settings: Record<string, unknown>;
  /** The settings that differ from the architecture's defaults, flattened (`{ 'trainer.epochs': 1 }`). */
  changedSettings: Record<string, unknown>;
  /** The share of the training split it trained on when a study subsampled it (a learning-curve point). */
  selection: { fraction: number | null; size: number | null } | null;
  /** Training examples: the subsample size, else the train split of its dataset version. */
  trainExamples: number | null;
  /** Dev and test examples of its dataset version. */
  devExamples: number | null;
  testExamples: number | null;
  /** The training config file in the project that made it (relative), or null when not found. */
  configFile: string | null;
  /** Its model folder in the project (`config.output` or `models/<run id>`), or null when none was written. */
  modelDir: string | null;
}

/** A learning-curve study: what doubling the training data is predicted to give. */
export interface CurveFacts {
  id: string;
  architecture: string | null;
  /** The metric the curve is measured with (`dev.<primary>`). */
  metric: string | null;
  /** Score at the largest training size. */
  lastScore: number | null;
  /** `doubling.gain`: predicted score at twice the largest size minus the fitted score at the largest size. */
  gain: number | null;
  /** `doubling.predicted`: the predicted score at twice the largest size. */
  predicted: number | null;
  /** The largest training size measured and the doubled size, from the study's summary. */
  largestSize: number | null;
  doubledSize: number | null;
}

/** A slice as an analysis run scored it (`slice.<name>.delta`, `slice.<name>.score`, `slice.<name>.size`). */
export interface AnalyzedSlice {
  name: string;
  delta: number;
  size: number | null;
  score: number | null;
}

/** An analysis run (`sapphire analyze`): the newest of the best run, else the newest of any. */
export interface AnalysisFacts {
  id: string;
  /** The training run whose model it analysed (`config.sourceRun`), when known. */
  sourceRun: string | null;
  /** Its slices, most lagging first. */
  slices: AnalyzedSlice[];
}

/** A test run (`sapphire test`): the newest of the best run's model, else the newest of any. */
export interface TestFacts {
  id: string;
  /** The model it tested: its folder (`config.modelDir`), else the training run (`config.trainingRun`). */
  model: string | null;
  /** The training run whose model it tested, when known. */
  trainingRun: string | null;
  earmarksFailed: number | null;
  earmarksTotal: number | null;
  /** Behavioural tests by name with their failure rates (`behaviour.<name>.failure_rate`). */
  behaviours: { name: string; failureRate: number }[];
}

/** One recorded evaluation (`sapphire evaluate`). */
export interface EvaluationFacts {
  id: string;
  trainingRun: string | null;
  dataset: string | null;
  split: string;
  score: number | null;
  examplesPerSecond: number | null;
}

/** Drift of one served model's production version over the monitoring window (from the published live sketches). */
export interface DriftFacts {
  tenant: string;
  model: string;
  version: number;
  window: string;
  /** `drift`, `ok`, `insufficient-data`, or `no-profile` (saved without a reference profile). */
  status: 'ok' | 'drift' | 'insufficient-data' | 'no-profile';
  items: number;
  /** Drifted signal → its value. */
  signals: Record<string, number>;
  /** New frequent tokens and entities, most frequent first. */
  newItems: string[];
}

/** Everything the coach knows about a project. */
export interface ProjectState {
  projectDir: string;
  card: CardFacts;
  datasets: DatasetFacts[];
  runs: { total: number; finished: number; failed: number; running: number; byKind: Record<string, number> };
  /** Finished model runs (train, trial, rung, curve-point, fold). */
  modelRuns: ModelRunFacts[];
  /** Finished top-level training runs of a baseline architecture (or rungs of one). */
  baselines: ModelRunFacts[];
  /** At least two finished training runs on the same dataset, or a finished study. */
  experimentsCompared: boolean;
  /** Finished studies by kind. */
  studies: Record<string, number>;
  analyses: number;
  analysis: AnalysisFacts | null;
  tests: number;
  test: TestFacts | null;
  curves: CurveFacts[];
  evaluations: EvaluationFacts[];
  /** Where `sapphire ladder` finds its rungs: the card's `ladder` section, the `configs/` folder, or nowhere. */
  ladder: { source: 'sapphire.yaml' | 'configs' | null; rungs: number };
  /** The default tenant's registered models: any registered, any with a production version, and in words. */
  registry: { registered: boolean; served: boolean; note: string };
  best: BestRunFacts | null;
  /** Slices of the card scored on the best run's stored predictions (null without slices or predictions). */
  bestSlices: RunSliceScores | null;
  /** Drift of served production models (empty when nothing is served or monitored). */
  drift: DriftFacts[];
}

async function registryFacts(store: Store): Promise<ProjectState['registry']> {
  const models = await store.registry.listModels(DEFAULT_TENANT);
  const production = models.filter((m) => m.aliases[PRODUCTION_ALIAS] !== undefined);
  const note =
    models.length === 0
      ? 'no registered model yet: `sapphire models register`, then `sapphire promote`'
      : production.length === 0
        ? `${models.length} registered model(s), none in production yet: \`sapphire promote <name>@<version>\``
        : `in production: ${production.map((m) => `${m.name} v${m.aliases[PRODUCTION_ALIAS]}`).join(', ')}`;
  return { registered: models.length > 0, served: production.length > 0, note };
}

/** Options for {@link gatherProjectState}. */
export interface GatherOptions {
  /** Describe this run as `best` instead of the best one by dev score (e.g. `sapphire next --run <id>`). */
  focusRun?: string;
  /** Score the card's slices on the best run's stored predictions (default true). */
  sliceScores?: boolean;
  /** Drift of served models, gathered by the caller from the live sketches (monitor sits above the coach). */
  drift?: DriftFacts[];
}

function cardFacts(card: ProblemCard): CardFacts {
  const threshold = card.acceptance[card.metrics.primary] ?? null;
  const missing: string[] = [];
  if (!card.description?.trim()) missing.push('description');
  if (card.labels.length === 0) missing.push('labels');
  if (threshold === null) missing.push(`acceptance.${card.metrics.primary}`);
  if (card.slices.length === 0) missing.push('slices');
  return {
    name: card.name,
    task: card.task,
    hasDescription: Boolean(card.description?.trim()),
    labels: card.labels,
    primary: card.metrics.primary,
    secondary: card.metrics.secondary,
    acceptance: card.acceptance,
    threshold,
    slices: card.slices.map((s) => s.name),
    sources: card.data.sources.map((s) => s.name),
    missing,
  };
}

function datasetFacts(versions: DatasetVersion[]): DatasetFacts[] {
  const byName = new Map<string, DatasetVersion[]>();
  for (const v of versions) byName.set(v.name, [...(byName.get(v.name) ?? []), v]);
  return [...byName.entries()].map(([name, list]) => {
    const latest = list[0] as DatasetVersion;
    const split = list.find((v) => Object.keys(v.splitCounts).length > 0) ?? null;
    return {
      name,
      versions: list.length,
      latest: latest.id,
      examples: latest.exampleCount,
      splitVersion: split?.id ?? null,
      splitCounts: split?.splitCounts ?? {},
    };
  });
}

function modelRunFacts(run: Run, primary: string): ModelRunFacts | null {
  const architecture = runArchitecture(run);
  if (!architecture) return null;
  const version = runDatasetVersion(run);
  return {
    id: run.id,
    kind: run.kind,
    name: run.name,
    architecture,
    baseline: isBaselineArchitecture(architecture),
    datasetVersion: version,
    dataset: version ? datasetName(version) : null,
    train: metric(run, `train.${primary}`),
    dev: metric(run, `dev.${primary}`),
    test: metric(run, `test.${primary}`),
    heldout: metric(run, `heldout.${primary}`),
    trainSeconds: metric(run, 'train_seconds'),
  };
}

/** The best run by `dev.<primary>`; without dev scores by test, then heldout. */
function pickBest(runs: Run[], primary: string): { run: Run; key: string; value: number } | null {
  for (const set of ['dev', 'test', 'heldout']) {
    let best: { run: Run; key: string; value: number } | null = null;
    for (const run of runs) {
      const score = firstScore(run, primary, [set]);
      if (score && (!best || score.value > best.value)) best = { run, ...score };
    }
    if (best) return best;
  }
  return null;
}

function bestRunFacts(
  run: Run,
  task: TaskKind,
  ranked: { key: string; value: number } | null,
  primary: string,
  versions: Map<string, DatasetVersion>,
  projectDir: string,
): BestRunFacts | null {
  const facts = modelRunFacts(run, primary);
  if (!facts) return null;
  const version = facts.datasetVersion ? versions.get(facts.datasetVersion) : undefined;
  const data = (run.config.data ?? {}) as { train?: unknown; dev?: unknown; test?: unknown };
  const count = (split: unknown) =>
    typeof split === 'string' && version ? (version.splitCounts[split] ?? null) : null;
  const selection = runSelection(run);
  const modelDir = typeof run.config.output === 'string' ? run.config.output : `models/${run.id}`;
  const score = ranked ?? firstScore(run, primary, ['dev', 'test', 'heldout', 'train']);
  return {
    ...facts,
    rankedBy: score?.key ?? `dev.${primary}`,
    score: score?.value ?? Number.NaN,
    settings: runSettings(run),
    changedSettings: changedSettings(facts.architecture, task, runSettings(run)),
    selection,
    trainExamples: selection?.size ?? count(data.train ?? 'train'),
    devExamples: count(data.dev),
    testExamples: count(data.test),
    configFile: findRunConfigFile(run, projectDir),
    modelDir: existsSync(resolve(projectDir, modelDir)) ? modelDir : null,
  };
}

async function curveFacts(store: Store, run: Run): Promise<CurveFacts> {
  const study = (run.config.study ?? {}) as { metric?: unknown };
  const metricKey = typeof study.metric === 'string' ? study.metric : null;
  let largestSize: number | null = null;
  let doubledSize: number | null = null;
  const summary = (await store.listRunArtifacts(run.id)).find((a) => a.name === 'study/summary.json');
  if (summary) {
    try {
      const parsed = JSON.parse(Buffer.from(await store.getArtifact(summary.hash)).toString('utf8')) as {
        curves?: { points?: { size?: number }[]; doubling?: { size?: number } | null }[];
      };
      const first = parsed.curves?.[0];
      const sizes = (first?.points ?? [])
        .map((p) => p.size)
        .filter((s): s is number => typeof s === 'number');
      largestSize = sizes.length ? Math.max(...sizes) : null;
      doubledSize = typeof first?.doubling?.size === 'number' ? first.doubling.size : null;
    } catch {
      // an unreadable summary only loses the sizes
    }
  }
  return {
    id: run.id,
    architecture: runArchitecture(run),
    metric: metricKey,
    lastScore: metricKey ? metric(run, metricKey) : null,
    gain: metric(run, 'doubling.gain'),
    predicted: metric(run, 'doubling.predicted'),
    largestSize,
    doubledSize,
  };
}

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

function analysisFacts(run: Run): AnalysisFacts {
  const slices: AnalyzedSlice[] = [];
  for (const key of Object.keys(run.metrics)) {
    const match = /^slice\.(.+)\.delta$/.exec(key);
    if (!match) continue;
    const name = match[1] as string;
    slices.push({
      name,
      delta: metric(run, key) ?? 0,
      size: metric(run, `slice.${name}.size`),
      score: metric(run, `slice.${name}.score`),
    });
  }
  return {
    id: run.id,
    sourceRun: stringOrNull(run.config.sourceRun),
    slices: slices.sort((a, b) => a.delta - b.delta),
  };
}

function testFacts(run: Run): TestFacts {
  const behaviours: { name: string; failureRate: number }[] = [];
  for (const key of Object.keys(run.metrics)) {
    const match = /^behaviour\.(.+)\.failure_rate$/.exec(key);
    if (match) behaviours.push({ name: match[1] as string, failureRate: metric(run, key) ?? 0 });
  }
  const trainingRun = stringOrNull(run.config.trainingRun);
  return {
    id: run.id,
    model: stringOrNull(run.config.modelDir) ?? trainingRun,
    trainingRun,
    earmarksFailed: metric(run, 'earmarks.failed'),
    earmarksTotal: metric(run, 'earmarks.total'),
    behaviours: behaviours.sort((a, b) => b.failureRate - a.failureRate),
  };
}

function evaluationFacts(run: Run, primary: string): EvaluationFacts {
  const data = (run.config.data ?? {}) as { split?: unknown };
  const split = typeof data.split === 'string' ? data.split : 'all';
  const version = runDatasetVersion(run);
  return {
    id: run.id,
    trainingRun: typeof run.config.trainingRun === 'string' ? run.config.trainingRun : null,
    dataset: version ? datasetName(version) : null,
    split,
    score: metric(run, `${split}.${primary}`),
    examplesPerSecond: metric(run, 'examples_per_second'),
  };
}

function ladderFacts(card: ProblemCard, projectDir: string): ProjectState['ladder'] {
  if (card.ladder) return { source: 'sapphire.yaml', rungs: card.ladder.rungs.length };
  const dir = join(projectDir, LADDER_CONFIGS_DIR);
  const files =
    existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir).filter((f) => /\.ya?ml$/i.test(f)) : [];
  return files.length ? { source: 'configs', rungs: files.length } : { source: null, rungs: 0 };
}

/** True when at least two finished top-level training runs used the same dataset. */
function twoRunsOnOneDataset(runs: ModelRunFacts[]): boolean {
  const counts = new Map<string, number>();
  for (const r of runs) {
    if (r.kind !== 'train' || !r.dataset) continue;
    counts.set(r.dataset, (counts.get(r.dataset) ?? 0) + 1);
  }
  return [...counts.values()].some((n) => n >= 2);
}

/**
 * Gathers the project's state from the problem card, the store and the project folder: card completeness,
 * datasets and their splits, baselines, studies, analyses, tests, learning curves, evaluations and the best run
 * with its train/dev/test scores, settings and config file.
 *
 * @example
 * const state = await gatherProjectState(store, card, '/work/bank');
 * state.best?.dev; // 0.61
 */
export async function gatherProjectState(
  store: Store,
  card: ProblemCard,
  projectDir: string,
  options: GatherOptions = {},
): Promise<ProjectState> {
  const primary = card.metrics.primary;
  const versions = await store.listDatasetVersions();
  const all = await store.listRuns();
  const finished = all.filter((r) => r.status === 'finished');
  const byKind: Record<string, number> = {};
  for (const r of all) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
  const modelRunsRaw = finished.filter((r) => MODEL_RUN_KINDS.includes(r.kind) && runArchitecture(r));
  const modelRuns = modelRunsRaw
    .map((r) => modelRunFacts(r, primary))
    .filter((r): r is ModelRunFacts => r !== null);
  const studies: Record<string, number> = {};
  for (const r of finished) if (STUDY_KINDS.includes(r.kind)) studies[r.kind] = (studies[r.kind] ?? 0) + 1;
  const analyses = finished.filter((r) => r.kind === 'analyze');
  const tests = finished.filter((r) => r.kind === 'test');
  const curves = await Promise.all(
    finished.filter((r) => r.kind === 'curve').map((r) => curveFacts(store, r)),
  );

  let best: BestRunFacts | null = null;
  const versionById = new Map(versions.map((v) => [v.id, v]));
  if (options.focusRun !== undefined) {
    const run = await store.getRun(options.focusRun);
    if (!MODEL_RUN_KINDS.includes(run.kind) || !runArchitecture(run))
      throw new SapphireError('BAD_INPUT', `run ${run.id} is a ${run.kind} run, not a trained model`, {
        hint: STUDY_KINDS.includes(run.kind)
          ? `pick one of its members: \`sapphire runs ls --study ${run.id}\``
          : `pick a run of kind ${MODEL_RUN_KINDS.join(', ')} (\`sapphire runs ls --all\`)`,
      });
    best = bestRunFacts(run, card.task, null, primary, versionById, projectDir);
  } else {
    const picked = pickBest(modelRunsRaw, primary);
    if (picked) best = bestRunFacts(picked.run, card.task, picked, primary, versionById, projectDir);
  }
  const about = (run: Run, key: string) => best !== null && run.config[key] === best.id;
  const analysis = analyses.find((r) => about(r, 'sourceRun')) ?? analyses[0];
  const test = tests.find((r) => about(r, 'trainingRun')) ?? tests[0];
  const bestRun = best ? finished.find((r) => r.id === best.id) : undefined;
  const bestSlices =
    bestRun && options.sliceScores !== false ? await sliceScoresOfRun(store, card, bestRun) : null;

  return {
    projectDir,
    card: cardFacts(card),
    datasets: datasetFacts(versions),
    runs: {
      total: all.length,
      finished: finished.length,
      failed: all.filter((r) => r.status === 'failed').length,
      running: all.filter((r) => r.status === 'running').length,
      byKind,
    },
    modelRuns,
    baselines: modelRuns.filter((r) => r.baseline && (r.kind === 'train' || r.kind === 'rung')),
    experimentsCompared: twoRunsOnOneDataset(modelRuns) || Object.keys(studies).length > 0,
    studies,
    analyses: analyses.length,
    analysis: analysis ? analysisFacts(analysis) : null,
    tests: tests.length,
    test: test ? testFacts(test) : null,
    curves,
    evaluations: finished.filter((r) => r.kind === 'evaluate').map((r) => evaluationFacts(r, primary)),
    ladder: ladderFacts(card, projectDir),
    registry: await registryFacts(store),
    best,
    bestSlices,
    drift: options.drift ?? [],
  };
}
