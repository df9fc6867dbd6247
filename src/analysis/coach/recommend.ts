/**
 * `sapphire next`: concrete recommendations computed from a project's runs, in the spirit of the bias/variance
 * recipe — first fit the training data (capacity), then generalise to dev (data, regularisation), then make dev
 * look like test — plus the learning-curve slope, lagging slices, failing earmarks and missing steps. Each
 * recommendation cites the numbers it is based on and the command to act on it.
 */
import { DEFAULT_LAG_THRESHOLD, DEFAULT_MIN_SLICE_EXAMPLES } from '../slice-metrics.ts';
import { type ModelKnobs, modelKnobs } from './knobs.ts';
import type { BestRunFacts, ProjectState } from './project-state.ts';

/** How urgent a recommendation is: 1 first (blocking or the biggest lever), 4 informational. */
export type Priority = 1 | 2 | 3 | 4;

/** One thing to do next. */
export interface Recommendation {
  /** Stable identifier, e.g. `capacity`, `variance`, `dev-test-mismatch`, `slice-short`. */
  id: string;
  priority: Priority;
  title: string;
  /** Why, with the numbers. */
  why: string;
  /** The numbers it is based on, by metric key. */
  evidence: Record<string, number>;
  /** The command to act on it (null when the action is an edit of sapphire.yaml). */
  command: string | null;
  /** Other commands that act on it. */
  alternatives: string[];
}

/** The thresholds the rules use; every one is cited in the recommendation it triggers. */
export interface CoachThresholds {
  /** The training score must reach max(this, acceptance); below it the model underfits (high bias). */
  minTrainScore: number;
  /** train − dev above this is high variance (overfitting). */
  maxTrainDevGap: number;
  /** dev − test above max(this, 2 standard errors of the difference) means dev does not represent test. */
  maxDevTestGap: number;
  /** A learning curve predicting at least this gain from doubling the data makes more data worth it. */
  worthwhileDoublingGain: number;
  /** Below this predicted gain more data of the same kind will barely help. */
  negligibleDoublingGain: number;
  /** A slice whose score is at least this far below the overall score lags (as `sapphire analyze` flags it). */
  laggingSliceDelta: number;
  /** Slices with fewer examples are not judged. */
  minSliceSize: number;
  /** Behavioural tests failing more often than this are reported. */
  maxBehaviourFailureRate: number;
  /** A learned model within this of the best baseline does not beat it. */
  baselineMargin: number;
}

/** The default thresholds. */
export const COACH_THRESHOLDS: Readonly<CoachThresholds> = {
  minTrainScore: 0.8,
  maxTrainDevGap: 0.1,
  maxDevTestGap: 0.05,
  worthwhileDoublingGain: 0.01,
  negligibleDoublingGain: 0.005,
  laggingSliceDelta: DEFAULT_LAG_THRESHOLD,
  minSliceSize: DEFAULT_MIN_SLICE_EXAMPLES,
  maxBehaviourFailureRate: 0.1,
  baselineMargin: 0.01,
};

const CONFIG_PLACEHOLDER = '<config.yaml>';

const f4 = (value: number): string => value.toFixed(4);
const r4 = (value: number): number => Math.round(value * 10_000) / 10_000;

/** Quotes a shell word that holds characters the shell would expand. */
function sh(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

function command(...words: string[]): string {
  return words.map(sh).join(' ');
}

/** Collects recommendations; the numbers in `evidence` are rounded to 4 decimals. */
class Recommendations {
  readonly list: Recommendation[] = [];

  add(
    rec: Omit<Recommendation, 'alternatives' | 'evidence'> & {
      evidence?: Record<string, number | null | undefined>;
      alternatives?: (string | null | undefined)[];
    },
  ): void {
    const evidence: Record<string, number> = {};
    for (const [key, value] of Object.entries(rec.evidence ?? {}))
      if (typeof value === 'number' && Number.isFinite(value)) evidence[key] = r4(value);
    const alternatives = (rec.alternatives ?? []).filter((a): a is string => typeof a === 'string');
    this.list.push({ ...rec, evidence, alternatives });
  }

  has(id: string): boolean {
    return this.list.some((r) => r.id === id);
  }
}

/** The dataset the coach talks about: the best run's, else the first one with splits, else the first. */
function focusDataset(state: ProjectState): string | null {
  return (
    state.best?.dataset ??
    state.datasets.find((d) => d.splitVersion !== null)?.name ??
    state.datasets[0]?.name ??
    null
  );
}

/** A learned architecture for the task, for a first model or the next rung. */
function learnedArchitecture(state: ProjectState): string {
  return state.card.task === 'ner' ? 'crf.v1' : 'linear.v1';
}

/** A command that writes a minimal training config and trains it. */
function trainNewConfig(architecture: string, dataset: string, file: string): string {
  return `printf 'model: { architecture: ${architecture} }\\ndata: { dataset: ${dataset} }\\n' > ${file} && sapphire train ${file}`;
}

function ladderCommand(state: ProjectState, dataset: string | null): string {
  if (state.ladder.source !== null) return 'sapphire ladder';
  return trainNewConfig(learnedArchitecture(state), dataset ?? '<dataset>', 'model.yaml');
}

function setupRules(state: ProjectState, out: Recommendations): void {
  const { card } = state;
  const dataset = focusDataset(state);
  if (state.datasets.length === 0) {
    out.add({
      id: 'import-data',
      priority: 1,
      title: 'Import labelled examples',
      why: 'The store holds no dataset yet: everything else (baselines, models, metrics) needs examples.',
      command: card.sources.length ? 'sapphire data import' : 'sapphire data import <file> --name <dataset>',
    });
    return;
  }
  const splitSets = state.datasets.filter((d) => d.splitVersion !== null);
  if (splitSets.length === 0) {
    const d = state.datasets[0]!;
    out.add({
      id: 'split-data',
      priority: 1,
      title: `Split ${d.name} into train, dev and test`,
      why: `${d.latest} has ${d.examples} examples but no split: models need a train split, and dev/test to be measured.`,
      evidence: { examples: d.examples },
      command: command('sapphire', 'data', 'split', d.name),
    });
  } else {
    const d = state.datasets.find((x) => x.name === dataset && x.splitVersion) ?? splitSets[0]!;
    if ((d.splitCounts.dev ?? 0) === 0) {
      out.add({
        id: 'dev-split',
        priority: 2,
        title: `Give ${d.name} a dev split`,
        why: `${d.splitVersion} has no dev split (${Object.entries(d.splitCounts)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}): without it, model choices are made on test and its score is optimistic.`,
        evidence: Object.fromEntries(Object.entries(d.splitCounts).map(([k, v]) => [`split.${k}`, v])),
        command: command('sapphire', 'data', 'split', d.name, '--ratios', '0.8,0.1,0.1'),
      });
    }
  }
  if (card.threshold === null) {
    const best = state.best?.dev ?? state.best?.test ?? null;
    out.add({
      id: 'acceptance',
      priority: 2,
      title: `Set an acceptance threshold for ${card.primary}`,
      why: `sapphire.yaml has no acceptance.${card.primary}: without a target nobody can tell when the model is good enough${best !== null ? ` (the best run scores ${f4(best)})` : ''}.`,
      evidence: { [`best.${card.primary}`]: best },
      command: null,
      alternatives: [`edit sapphire.yaml: acceptance: { ${card.primary}: <minimum, e.g. 0.8> }`],
    });
  }
  const missingCard = card.missing.filter((m) => m === 'description' || m === 'labels');
  if (missingCard.length) {
    out.add({
      id: 'problem-card',
      priority: 3,
      title: `Complete the problem card (${missingCard.join(', ')})`,
      why: `sapphire.yaml lacks ${missingCard.join(' and ')}: the card documents what the model is for and which labels it predicts.`,
      command: null,
      alternatives: ['edit sapphire.yaml'],
    });
  }
  if (splitSets.length === 0) return;
  const splitDataset = dataset ?? splitSets[0]!.name;
  const baselineCommand = trainNewConfig(
    card.task === 'ner' ? 'token-majority.v1' : 'majority.v1',
    splitDataset,
    'baseline.yaml',
  );
  if (state.modelRuns.length === 0) {
    out.add({
      id: 'first-model',
      priority: 1,
      title: 'Train a baseline and a first model',
      why: 'No model is trained yet: start with the simplest baseline, then a learned model on the same splits.',
      ...firstAndRest([
        state.ladder.source ? 'sapphire ladder' : null,
        baselineCommand,
        trainNewConfig(learnedArchitecture(state), splitDataset, 'model.yaml'),
      ]),
    });
  } else if (state.baselines.length === 0) {
    out.add({
      id: 'baseline',
      priority: 2,
      title: 'Train a baseline',
      why: 'No baseline (majority.v1, token-majority.v1, random.v1 or rules-*) is recorded: without one, no score can be called good.',
      command: baselineCommand,
      alternatives: state.ladder.source ? ['sapphire ladder'] : [],
    });
  }
}

/** The first command as `command`, the others as `alternatives` (nulls dropped). */
function firstAndRest(commands: (string | null)[]): { command: string | null; alternatives: string[] } {
  const [command = null, ...alternatives] = commands.filter((c): c is string => c !== null);
  return { command, alternatives };
}

function trainCommand(best: BestRunFacts, overrides: string[]): string {
  return command('sapphire', 'train', best.configFile ?? CONFIG_PLACEHOLDER, ...overrides);
}

function sweepCommand(best: BestRunFacts, spec: string | null): string | null {
  return spec ? command('sapphire', 'sweep', best.configFile ?? CONFIG_PLACEHOLDER, '--grid', spec) : null;
}

function curveCommand(best: BestRunFacts): string {
  return command(
    'sapphire',
    'curve',
    best.configFile ?? CONFIG_PLACEHOLDER,
    '--fractions',
    '0.1,0.25,0.5,1',
    '--seeds',
    '3',
  );
}

/** The held-out score to compare train with: dev, else test, else held-out folds. */
function heldOut(best: BestRunFacts): { set: string; value: number } | null {
  if (best.dev !== null) return { set: 'dev', value: best.dev };
  if (best.test !== null) return { set: 'test', value: best.test };
  if (best.heldout !== null) return { set: 'heldout', value: best.heldout };
  return null;
}

function capacityRule(
  state: ProjectState,
  best: BestRunFacts,
  knobs: ModelKnobs,
  t: CoachThresholds,
  out: Recommendations,
): boolean {
  const p = state.card.primary;
  const threshold = state.card.threshold;
  const target = Math.max(t.minTrainScore, threshold ?? 0);
  if (best.train === null || best.train >= target) return false;
  const held = heldOut(best);
  const reason =
    threshold !== null && best.train < threshold
      ? `below the acceptance threshold ${threshold}`
      : `below ${target}`;
  const knobText = knobs.capacity.length ? knobs.capacity.join(', ') : 'a richer model';
  out.add({
    id: 'capacity',
    priority: 1,
    title: 'Add capacity: the model underfits its own training data',
    why:
      `train.${p} is ${f4(best.train)}, ${reason}${held ? ` (${held.set} ${f4(held.value)})` : ''}: high training error (bias) ` +
      `caps every other score. Train longer, with more features or a bigger model (${knobText}), or climb to the next rung of the ladder.`,
    evidence: {
      [`train.${p}`]: best.train,
      ...(held ? { [`${held.set}.${p}`]: held.value } : {}),
      [`acceptance.${p}`]: threshold,
      min_train_score: target,
    },
    ...firstAndRest([
      knobs.capacity.length ? trainCommand(best, knobs.capacity) : null,
      sweepCommand(best, knobs.capacitySweep),
      state.ladder.source ? 'sapphire ladder' : null,
      learnedArchitecture(state) !== best.architecture
        ? trainNewConfig(learnedArchitecture(state), best.dataset ?? '<dataset>', 'model.yaml')
        : null,
    ]),
  });
  return true;
}

function varianceRule(
  state: ProjectState,
  best: BestRunFacts,
  knobs: ModelKnobs,
  underfit: boolean,
  t: CoachThresholds,
  out: Recommendations,
): boolean {
  const p = state.card.primary;
  const held = heldOut(best);
  if (best.train === null || held === null) return false;
  const gap = best.train - held.value;
  if (gap <= t.maxTrainDevGap) return false;
  const fraction = best.selection?.fraction ?? null;
  const subsample = fraction !== null && fraction < 1;
  const trendy = state.curves.find((c) => c.gain !== null);
  const commands: (string | null)[] = [];
  if (subsample) commands.push(trainCommand(best, []));
  commands.push(sweepCommand(best, knobs.regularizeSweep));
  if (!trendy) commands.push(curveCommand(best));
  if (state.ladder.source) commands.push('sapphire ladder');
  const size = best.trainExamples !== null ? `${best.trainExamples} training examples` : 'its training data';
  out.add({
    id: 'variance',
    priority: underfit ? 2 : 1,
    title: subsample
      ? `More data: this run trained on ${Math.round((fraction ?? 0) * 1000) / 10}% of the train split and overfits`
      : 'More data or regularisation: the model overfits',
    why:
      `train.${p} ${f4(best.train)} vs ${held.set}.${p} ${f4(held.value)}: a gap of ${f4(gap)} (> ${t.maxTrainDevGap}) is high variance. ` +
      `${subsample ? `It saw only ${size}: train on the whole split; beyond that, ` : `It trained on ${size}: `}` +
      `more labelled data, regularisation${knobs.regularizeSweep ? ` (${knobs.regularizeSweep})` : ''} or a different model close the gap` +
      `${trendy ? '' : '; a learning curve tells whether more data will pay'}.`,
    evidence: {
      [`train.${p}`]: best.train,
      [`${held.set}.${p}`]: held.value,
      train_dev_gap: gap,
      train_examples: best.trainExamples,
      'selection.fraction': fraction,
    },
    ...firstAndRest([...commands, commands.some(Boolean) ? null : curveCommand(best)]),
  });
  return true;
}

function devTestRule(
  state: ProjectState,
  best: BestRunFacts,
  t: CoachThresholds,
  out: Recommendations,
): void {
  const p = state.card.primary;
  if (best.dev === null || best.test === null) return;
  const gap = best.dev - best.test;
  const variance = (score: number, n: number | null) => (n && n > 0 ? (score * (1 - score)) / n : 0);
  const se = Math.sqrt(variance(best.dev, best.devExamples) + variance(best.test, best.testExamples));
  const limit = Math.max(t.maxDevTestGap, 2 * se);
  if (gap <= limit) return;
  const dataset = best.dataset ?? '<dataset>';
  out.add({
    id: 'dev-test-mismatch',
    priority: 2,
    title: 'Make dev look like test: good dev, poor test',
    why:
      `dev.${p} ${f4(best.dev)} vs test.${p} ${f4(best.test)}: a gap of ${f4(gap)} (> ${f4(limit)}, ` +
      `the larger of ${t.maxDevTestGap} and twice its standard error ${f4(se)}). Dev no longer represents test, or the ` +
      'model was tuned to dev: redraw dev and test from the same pool (stratified) and check the splits for drift.',
    evidence: {
      [`dev.${p}`]: best.dev,
      [`test.${p}`]: best.test,
      dev_test_gap: gap,
      standard_error: se,
      dev_examples: best.devExamples,
      test_examples: best.testExamples,
    },
    command: command('sapphire', 'data', 'split', dataset, '--stratify'),
    alternatives: [command('sapphire', 'data', 'stats', dataset)],
  });
}

function baselineRules(
  state: ProjectState,
  best: BestRunFacts,
  t: CoachThresholds,
  out: Recommendations,
): boolean {
  const p = state.card.primary;
  const held = heldOut(best);
  if (best.baseline) {
    out.add({
      id: 'climb-ladder',
      priority: 1,
      title: 'Train a learned model: the best run is a baseline',
      why: `The best run is ${best.architecture}${held ? ` (${held.set}.${p} ${f4(held.value)})` : ''}: climb the ladder to a learned model on the same splits.`,
      evidence: held ? { [`${held.set}.${p}`]: held.value } : {},
      command: ladderCommand(state, best.dataset),
    });
    return true;
  }
  if (!held) return false;
  const key = held.set as 'dev' | 'test' | 'heldout';
  const baselineScores = state.modelRuns
    .filter((r) => r.baseline && r.dataset === best.dataset)
    .map((r) => r[key])
    .filter((v): v is number => v !== null);
  if (baselineScores.length === 0) return false;
  const baseline = Math.max(...baselineScores);
  if (held.value > baseline + t.baselineMargin) return false;
  out.add({
    id: 'beat-baseline',
    priority: 1,
    title: 'The model does not beat the baseline',
    why: `${best.architecture} scores ${held.set}.${p} ${f4(held.value)}, the best baseline ${f4(baseline)}: check the data and labels (\`sapphire data stats\`) before tuning.`,
    evidence: { [`${held.set}.${p}`]: held.value, [`baseline.${held.set}.${p}`]: baseline },
    command: command('sapphire', 'data', 'stats', best.dataset ?? '<dataset>'),
  });
  return false;
}

function curveRules(
  state: ProjectState,
  best: BestRunFacts | null,
  t: CoachThresholds,
  out: Recommendations,
): void {
  const curve = state.curves.find((c) => c.gain !== null);
  if (!curve || curve.gain === null) {
    if (best && !best.baseline && !out.has('variance'))
      out.add({
        id: 'learning-curve',
        priority: 3,
        title: 'Measure a learning curve: is more data worth it?',
        why: 'No learning curve with a fitted trend is recorded: it predicts what doubling the training data would give, so labelling effort goes where it pays.',
        command: curveCommand(best),
      });
    return;
  }
  const sizes =
    curve.largestSize !== null && curve.doubledSize !== null
      ? ` from ${curve.largestSize} to ${curve.doubledSize} examples`
      : '';
  const evidence = {
    'doubling.gain': curve.gain,
    'doubling.predicted': curve.predicted,
    ...(curve.metric ? { [curve.metric]: curve.lastScore } : {}),
    largest_size: curve.largestSize,
  };
  const dataset = best?.dataset ?? focusDataset(state) ?? '<dataset>';
  if (curve.gain >= t.worthwhileDoublingGain) {
    out.add({
      id: 'more-data',
      priority: 2,
      title: 'Label more data: the learning curve is still rising',
      why: `Learning curve ${curve.id}: doubling the training data${sizes} is predicted to give ${curve.predicted !== null ? f4(curve.predicted) : '–'} (+${f4(curve.gain)}, ≥ ${t.worthwhileDoublingGain}).`,
      evidence,
      command: `sapphire data import <files with more labelled examples> --name ${dataset}`,
    });
  } else if (curve.gain < t.negligibleDoublingGain) {
    out.add({
      id: 'data-saturated',
      priority: 3,
      title: 'More of the same data will barely help: improve the model instead',
      why: `Learning curve ${curve.id}: doubling the training data${sizes} is predicted to gain only ${f4(curve.gain)} (< ${t.negligibleDoublingGain}); spend effort on features, a stronger model or examples of lagging slices.`,
      evidence,
      command: state.ladder.source ? 'sapphire ladder' : best ? curveCommand(best) : 'sapphire ladder',
    });
  }
}

function sliceRules(
  state: ProjectState,
  best: BestRunFacts | null,
  t: CoachThresholds,
  out: Recommendations,
): void {
  const p = state.card.primary;
  const analysed = state.analysis?.slices ?? [];
  const ofBest = state.analysis?.sourceRun === null || state.analysis?.sourceRun === best?.id;
  // An analysis of another model is stale: prefer slices scored on the best run's own predictions.
  const fromAnalysis = analysed.length > 0 && (ofBest || state.bestSlices === null);
  const lagging = fromAnalysis
    ? analysed
        .filter((s) => s.delta <= -t.laggingSliceDelta && (s.size === null || s.size >= t.minSliceSize))
        .map((s) => ({ name: s.name, delta: s.delta, size: s.size, score: s.score }))
    : (state.bestSlices?.slices ?? [])
        .filter((s) => s.delta <= -t.laggingSliceDelta && s.size >= t.minSliceSize)
        .map((s) => ({
          name: s.name,
          delta: s.delta,
          size: s.size as number | null,
          score: s.score as number | null,
        }));
  const split = fromAnalysis ? null : (state.bestSlices?.split ?? null);
  const source = fromAnalysis
    ? `analysis ${state.analysis?.id}`
    : `${split} predictions of ${state.bestSlices?.run}`;
  const dataset = best?.dataset ?? focusDataset(state) ?? '<dataset>';
  for (const slice of lagging.sort((a, b) => a.delta - b.delta).slice(0, 3)) {
    out.add({
      id: `slice-${slice.name}`,
      priority: 2,
      title: `Slice "${slice.name}" lags the overall score`,
      why:
        `On ${source}, ${p} on slice "${slice.name}"${slice.size !== null ? ` (${slice.size} examples)` : ''} is ` +
        `${slice.score !== null ? `${f4(slice.score)}, ` : ''}${f4(-slice.delta)} below the overall score (threshold ${t.laggingSliceDelta}): ` +
        'inspect its errors, then label more examples like it or add features or rules for it.',
      evidence: {
        [`slice.${slice.name}.delta`]: slice.delta,
        [`slice.${slice.name}.${p}`]: slice.score,
        [`slice.${slice.name}.size`]: slice.size,
        ...(!fromAnalysis && state.bestSlices ? { [`${split}.${p}`]: state.bestSlices.overall } : {}),
      },
      command: best
        ? command(
            'sapphire',
            'analyze',
            best.id,
            '--data',
            split === 'heldout' ? dataset : `${dataset}:${split ?? 'dev'}`,
          )
        : command('sapphire', 'data', 'stats', dataset),
    });
  }
}

function testRules(
  state: ProjectState,
  best: BestRunFacts | null,
  t: CoachThresholds,
  out: Recommendations,
): void {
  const test = state.test;
  const model = test?.model ?? best?.modelDir ?? best?.id ?? '<model>';
  if (test && test.earmarksFailed !== null && test.earmarksFailed > 0) {
    out.add({
      id: 'earmarks',
      priority: 1,
      title: `Fix the ${test.earmarksFailed} failing earmark${test.earmarksFailed === 1 ? '' : 's'}`,
      why: `Test run ${test.id}: ${test.earmarksFailed} of ${test.earmarksTotal ?? '?'} "can't be wrong" examples fail; a model that gets them wrong must not ship.`,
      evidence: { 'earmarks.failed': test.earmarksFailed, 'earmarks.total': test.earmarksTotal },
      command: command('sapphire', 'test', model),
    });
  }
  for (const behaviour of test?.behaviours ?? []) {
    if (behaviour.failureRate <= t.maxBehaviourFailureRate) continue;
    out.add({
      id: `behaviour-${behaviour.name}`,
      priority: 2,
      title: `Behavioural test "${behaviour.name}" fails too often`,
      why: `Test run ${test?.id}: "${behaviour.name}" fails on ${f4(behaviour.failureRate)} of its cases (> ${t.maxBehaviourFailureRate}): augment the training data with such variations or add features that are invariant to them.`,
      evidence: { [`behaviour.${behaviour.name}.failure_rate`]: behaviour.failureRate },
      command: command('sapphire', 'test', model),
    });
  }
  if (!test && best && !best.baseline) {
    out.add({
      id: 'tests',
      priority: 3,
      title: 'Write earmarks and behavioural tests',
      why: 'No test run is recorded: earmarks.jsonl ("can\'t be wrong" examples) and behavioural tests in sapphire.yaml catch regressions the aggregate score hides.',
      command: command('sapphire', 'test', model),
    });
  }
}

/** Served models whose live traffic drifted from their reference profile: label the drifted slice and retrain. */
function driftRules(state: ProjectState, out: Recommendations): void {
  for (const d of state.drift) {
    const ref = `${d.model}@${d.version}`;
    const tenant = d.tenant === 'default' ? [] : ['--tenant', d.tenant];
    if (d.status === 'no-profile') {
      out.add({
        id: `drift-no-profile-${d.model}`,
        priority: 4,
        title: `Retrain ${d.model} to watch it for drift`,
        why: `${ref} is served but was saved without a reference profile, so its live traffic (${d.items} predictions in the last ${d.window}) cannot be compared with its training data.`,
        evidence: { items: d.items },
        command: command('sapphire', 'retrain', d.model, ...tenant),
      });
      continue;
    }
    if (d.status !== 'drift') continue;
    const file = `drifted-${d.model}.jsonl`;
    const signals = Object.entries(d.signals)
      .map(([k, v]) => `${k} ${f4(v)}`)
      .join(', ');
    out.add({
      id: `drift-${d.model}`,
      priority: 1,
      title: `Label the drifted traffic of ${d.model} and retrain`,
      why: `Live traffic of ${ref} over the last ${d.window} (${d.items} predictions) drifted from its training data: ${signals}${
        d.newItems.length ? `; new frequent tokens or entities: ${d.newItems.slice(0, 5).join(', ')}` : ''
      }. Export the drifted slice from the request log, label it, import it and retrain.`,
      evidence: { items: d.items, ...d.signals },
      command: command(
        'sapphire',
        'requests',
        'export',
        d.model,
        '--drifted',
        '--window',
        d.window,
        '--out',
        file,
        ...tenant,
      ),
      alternatives: [
        command('sapphire', 'monitor', d.model, '--window', d.window, ...tenant),
        command('sapphire', 'data', 'import', file, '--name', `${d.model}-drifted`),
      ],
    });
  }
}

function progressRules(state: ProjectState, best: BestRunFacts | null, out: Recommendations): void {
  if (!best) return;
  const dataset = best.dataset ?? '<dataset>';
  if (state.analysis?.sourceRun !== best.id && !best.baseline) {
    const split = best.dev !== null ? 'dev' : 'test';
    out.add({
      id: 'analyze',
      priority: 3,
      title: 'Analyse the errors of the best run',
      why: `${state.analyses === 0 ? 'No analysis run is recorded' : `No analysis of ${best.id} is recorded`}: its confusion matrix, error taxonomy, slices and howlers show why it is wrong.`,
      evidence: { [best.rankedBy]: best.score },
      command: command('sapphire', 'analyze', best.id, '--data', `${dataset}:${split}`),
    });
  }
  if (!state.experimentsCompared) {
    out.add({
      id: 'compare',
      priority: 3,
      title: 'Compare models on the same splits',
      why: `Only one training run per dataset is recorded (${state.modelRuns.length} model run${state.modelRuns.length === 1 ? '' : 's'}): a ladder or a sweep tells which choices matter.`,
      command: state.ladder.source
        ? 'sapphire ladder'
        : (sweepCommand(best, modelKnobs(best.architecture, best.settings).capacitySweep) ??
          ladderCommand(state, dataset)),
    });
  }
}

function acceptanceRule(
  state: ProjectState,
  best: BestRunFacts | null,
  diagnosed: boolean,
  out: Recommendations,
): void {
  const threshold = state.card.threshold;
  const p = state.card.primary;
  if (threshold === null || !best) return;
  const tested =
    best.test !== null
      ? { set: 'test', value: best.test }
      : best.heldout !== null
        ? { set: 'heldout', value: best.heldout }
        : null;
  if (tested && tested.value >= threshold) {
    const dataset = best.dataset ?? '<dataset>';
    const speed = state.evaluations
      .filter((e) => e.trainingRun === best.id && e.examplesPerSecond !== null)
      .sort((a, b) => (b.examplesPerSecond ?? 0) - (a.examplesPerSecond ?? 0))[0];
    const model = best.modelDir ?? '<model folder>';
    const evidence = {
      [`${tested.set}.${p}`]: tested.value,
      [`acceptance.${p}`]: threshold,
      examples_per_second: speed?.examplesPerSecond,
      train_seconds: best.trainSeconds,
    };
    if (!speed) {
      out.add({
        id: 'productize',
        priority: 4,
        title: 'Meets acceptance: measure its speed before shipping',
        why: `${best.architecture} (${best.id}) reaches ${tested.set}.${p} ${f4(tested.value)} ≥ ${threshold}. Record its throughput with \`sapphire evaluate\`; then register and promote it (\`sapphire models register\`, \`sapphire promote\`).`,
        evidence,
        command: command('sapphire', 'evaluate', model, `${dataset}:test`),
      });
    } else {
      out.add({
        id: 'new-domain',
        priority: 4,
        title: 'Meets acceptance and is measured: try it on a new domain',
        why: `${best.architecture} (${best.id}) reaches ${tested.set}.${p} ${f4(tested.value)} ≥ ${threshold} at ${Math.round(speed.examplesPerSecond ?? 0)} examples/s. Check it on data from another source or domain; then register and promote it (\`sapphire models register\`, \`sapphire promote\`).`,
        evidence,
        command: 'sapphire data import <files from a new domain> --name <new-dataset>',
        alternatives: [command('sapphire', 'evaluate', model, '<new-dataset>:test')],
      });
    }
    return;
  }
  const score = best.test ?? best.dev ?? best.heldout;
  if (diagnosed || score === null) return;
  const set = best.test !== null ? 'test' : best.dev !== null ? 'dev' : 'heldout';
  const knobs = modelKnobs(best.architecture, best.settings);
  out.add({
    id: 'below-acceptance',
    priority: 2,
    title: 'Below acceptance: search the settings or a stronger model',
    why: `${set}.${p} ${f4(score)} is ${f4(threshold - score)} below the acceptance threshold ${threshold}, with no clear bias or variance problem: sweep the settings or climb the ladder.`,
    evidence: { [`${set}.${p}`]: score, [`acceptance.${p}`]: threshold },
    command:
      sweepCommand(best, knobs.capacitySweep ?? knobs.regularizeSweep) ?? ladderCommand(state, best.dataset),
  });
}

/**
 * Recommends what to do next from a project's state, most urgent first (stable within a priority): missing
 * steps (data, splits, acceptance, baseline), failing earmarks, high training error (capacity), a train−dev gap
 * (data, regularisation), a dev−test gap, the learning-curve slope, lagging slices and steps not yet taken.
 *
 * @example
 * const recs = recommend(await gatherProjectState(store, card, dir));
 * recs[0]; // { id: 'capacity', priority: 1, evidence: { 'train.macro_f1': 0.64, … }, command: 'sapphire train …' }
 */
export function recommend(state: ProjectState, thresholds: Partial<CoachThresholds> = {}): Recommendation[] {
  const t = { ...COACH_THRESHOLDS, ...thresholds };
  const out = new Recommendations();
  setupRules(state, out);
  const best = state.best;
  let diagnosed = false;
  if (best) {
    const isBaseline = baselineRules(state, best, t, out);
    if (!isBaseline) {
      const knobs = modelKnobs(best.architecture, best.settings);
      const underfit = capacityRule(state, best, knobs, t, out);
      const overfit = varianceRule(state, best, knobs, underfit, t, out);
      devTestRule(state, best, t, out);
      diagnosed = underfit || overfit || out.has('dev-test-mismatch');
    } else diagnosed = true;
  }
  testRules(state, best, t, out);
  curveRules(state, best, t, out);
  sliceRules(state, best, t, out);
  acceptanceRule(state, best, diagnosed, out);
  driftRules(state, out);
  progressRules(state, best, out);
  return out.list
    .map((rec, index) => ({ rec, index }))
    .sort((a, b) => a.rec.priority - b.rec.priority || a.index - b.index)
    .map(({ rec }) => rec);
}
