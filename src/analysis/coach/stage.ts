/**
 * Where a project stands: the loop (problem → metrics → data → models → experiment → analyze → prioritize →
 * productize) as a checklist, and the milestone reached on the way from a few examples to a model that handles
 * new domains. Every check is computed from a {@link ProjectState}; the criteria are spelled out in
 * {@link MILESTONE_CRITERIA} and shown by `sapphire status`.
 */
import type { EvaluationFacts, ModelRunFacts, ProjectState } from './project-state.ts';

/** The steps of the loop, in order. */
export const LOOP_STAGES = [
  'problem',
  'metrics',
  'data',
  'models',
  'experiment',
  'analyze',
  'prioritize',
  'productize',
] as const;

/** One step of the loop. */
export type LoopStageId = (typeof LOOP_STAGES)[number];

/** A step of the loop with whether it is done and the numbers behind that. */
export interface LoopStage {
  id: LoopStageId;
  done: boolean;
  detail: string;
}

/** Throughput (examples per second, from a `sapphire evaluate` run) a model needs to count as fast. */
export const FAST_EXAMPLES_PER_SECOND = 100;
/** Training time (seconds) a model must stay under to count as simple and fast to retrain. */
export const FAST_TRAIN_SECONDS = 3600;

/** Name and exact criterion of each milestone (index 0 is milestone 1). */
export const MILESTONE_CRITERIA: readonly { name: string; criterion: string }[] = [
  { name: 'by-hand examples', criterion: 'a dataset with at least one example is imported' },
  {
    name: 'rules prototype',
    criterion:
      'a baseline or rules model (majority.v1, random.v1, token-majority.v1, rules-*) is trained and scored on dev, test or held-out folds',
  },
  {
    name: 'works on some data',
    criterion:
      'a learned model scores above 0 on dev, test or held-out folds, and above the best baseline on the same set when a baseline exists',
  },
  {
    name: 'measurable and inspectable',
    criterion:
      'the best run has dev and test (or held-out) scores, and an analysis (`sapphire analyze`) or evaluation (`sapphire evaluate`) is recorded',
  },
  {
    name: 'accurate, documented, configurable',
    criterion:
      'an acceptance threshold is set for the primary metric, a model meets it on test (held-out folds without a test split), and the card has a description (every run keeps its filled config)',
  },
  {
    name: 'simple and fast',
    criterion: `a model that meets acceptance trains in under ${FAST_TRAIN_SECONDS} s and predicts at least ${FAST_EXAMPLES_PER_SECOND} examples/s in a recorded \`sapphire evaluate\` run`,
  },
  {
    name: 'handles new domains',
    criterion:
      'the primary metric meets acceptance on test (or held-out, or a `sapphire evaluate` run) of at least two different datasets',
  },
];

/** One milestone checked: met or not, with the evidence. */
export interface MilestoneCheck {
  level: number;
  name: string;
  criterion: string;
  met: boolean;
  evidence: string;
}

/** The milestone reached: the highest level whose own and every earlier criterion is met (0 for none). */
export interface MilestoneAssessment {
  reached: number;
  name: string | null;
  checks: MilestoneCheck[];
}

const fmt = (value: number | null | undefined): string =>
  typeof value === 'number' && Number.isFinite(value) ? value.toFixed(4) : '–';

const count = (n: number): string => n.toLocaleString('en-US');

function heldOutScore(run: ModelRunFacts): { set: string; value: number } | null {
  if (run.dev !== null) return { set: 'dev', value: run.dev };
  if (run.test !== null) return { set: 'test', value: run.test };
  if (run.heldout !== null) return { set: 'heldout', value: run.heldout };
  return null;
}

const SPLIT_ORDER = ['train', 'dev', 'test'];

function splitRank(name: string): number {
  const i = SPLIT_ORDER.indexOf(name);
  return i < 0 ? SPLIT_ORDER.length : i;
}

function splitSummary(splitCounts: Record<string, number>): string {
  return Object.entries(splitCounts)
    .sort(([a], [b]) => splitRank(a) - splitRank(b) || a.localeCompare(b))
    .map(([name, n]) => `${name} ${count(n)}`)
    .join(' · ');
}

function problemStage(state: ProjectState): LoopStage {
  const { card } = state;
  const done = card.hasDescription && card.labels.length > 0;
  const parts = [
    card.hasDescription ? 'description' : 'no description',
    `${card.labels.length} label${card.labels.length === 1 ? '' : 's'}`,
    `${card.slices.length} slice${card.slices.length === 1 ? '' : 's'}`,
  ];
  return { id: 'problem', done, detail: parts.join(', ') };
}

function metricsStage(state: ProjectState): LoopStage {
  const { card } = state;
  const secondary = card.secondary.length ? ` (also ${card.secondary.join(', ')})` : '';
  const acceptance =
    card.threshold === null
      ? `no acceptance threshold for ${card.primary}`
      : `acceptance ${card.primary} ≥ ${card.threshold}`;
  return {
    id: 'metrics',
    done: card.threshold !== null,
    detail: `primary ${card.primary}${secondary}; ${acceptance}`,
  };
}

function dataStage(state: ProjectState): LoopStage {
  if (state.datasets.length === 0) return { id: 'data', done: false, detail: 'no dataset imported' };
  const done = state.datasets.some(
    (d) => (d.splitCounts.train ?? 0) > 0 && ((d.splitCounts.dev ?? 0) > 0 || (d.splitCounts.test ?? 0) > 0),
  );
  const detail = state.datasets
    .map((d) =>
      d.splitVersion
        ? `${d.splitVersion}: ${splitSummary(d.splitCounts)}`
        : `${d.latest}: ${count(d.examples)} examples, not split`,
    )
    .join('; ');
  return { id: 'data', done, detail };
}

function modelsStage(state: ProjectState): LoopStage {
  const learned = state.modelRuns.filter((r) => !r.baseline);
  const architectures = (runs: ModelRunFacts[]) => [...new Set(runs.map((r) => r.architecture))].join(', ');
  const baseline = state.baselines.length ? `baseline ${architectures(state.baselines)}` : 'no baseline yet';
  const models = learned.length
    ? `${learned.length} learned model run${learned.length === 1 ? '' : 's'} (${architectures(learned)})`
    : 'no learned model yet';
  return {
    id: 'models',
    done: state.baselines.length > 0 && learned.length > 0,
    detail: `${baseline}; ${models}`,
  };
}

function experimentStage(state: ProjectState): LoopStage {
  const training = state.modelRuns.filter((r) => r.kind === 'train').length;
  const studies = Object.entries(state.studies).map(([kind, n]) => `${kind} ${n}`);
  return {
    id: 'experiment',
    done: state.experimentsCompared,
    detail: `${training} training run${training === 1 ? '' : 's'}; ${studies.length ? `studies: ${studies.join(', ')}` : 'no studies'}`,
  };
}

function analyzeStage(state: ProjectState): LoopStage {
  const earmarks =
    state.test?.earmarksTotal !== null && state.test?.earmarksTotal !== undefined
      ? ` (earmarks ${state.test.earmarksTotal - (state.test.earmarksFailed ?? 0)}/${state.test.earmarksTotal} pass)`
      : '';
  return {
    id: 'analyze',
    done: state.analyses > 0,
    detail: `${state.analyses} analysis run${state.analyses === 1 ? '' : 's'}, ${state.evaluations.length} evaluation${state.evaluations.length === 1 ? '' : 's'}, ${state.tests} test run${state.tests === 1 ? '' : 's'}${earmarks}`,
  };
}

function prioritizeStage(state: ProjectState): LoopStage {
  const curve = state.curves.find((c) => c.gain !== null);
  return {
    id: 'prioritize',
    done: curve !== undefined,
    detail: curve
      ? `learning curve ${curve.id}: doubling the data → ${fmt(curve.predicted)} (${(curve.gain ?? 0) >= 0 ? '+' : ''}${fmt(curve.gain)})`
      : 'no learning curve with a trend yet (is more data worth it?)',
  };
}

/**
 * The loop as a checklist: each step done or not, with the numbers behind it.
 *
 * @example
 * loopStages(state).find((s) => s.id === 'data'); // { id: 'data', done: true, detail: 'bank@…: train 1,197 · dev 150 · test 149' }
 */
export function loopStages(state: ProjectState): LoopStage[] {
  return [
    problemStage(state),
    metricsStage(state),
    dataStage(state),
    modelsStage(state),
    experimentStage(state),
    analyzeStage(state),
    prioritizeStage(state),
    {
      id: 'productize',
      done: state.registry.registered || state.registry.served,
      detail: state.registry.note,
    },
  ];
}

/** Model runs whose test score (held-out without one) meets the acceptance threshold. */
export function acceptedRuns(state: ProjectState): { run: ModelRunFacts; set: string; value: number }[] {
  const threshold = state.card.threshold;
  if (threshold === null) return [];
  const out: { run: ModelRunFacts; set: string; value: number }[] = [];
  for (const run of state.modelRuns) {
    const value = run.test ?? run.heldout;
    if (value !== null && value >= threshold)
      out.push({ run, set: run.test !== null ? 'test' : 'heldout', value });
  }
  return out.sort((a, b) => b.value - a.value);
}

function fastest(state: ProjectState, runId: string): EvaluationFacts | null {
  const measured = state.evaluations.filter((e) => e.trainingRun === runId && e.examplesPerSecond !== null);
  return measured.sort((a, b) => (b.examplesPerSecond ?? 0) - (a.examplesPerSecond ?? 0))[0] ?? null;
}

function domainsMeetingAcceptance(state: ProjectState): Map<string, number> {
  const threshold = state.card.threshold;
  const best = new Map<string, number>();
  if (threshold === null) return best;
  const note = (dataset: string | null, value: number | null) => {
    if (dataset === null || value === null || value < threshold) return;
    best.set(dataset, Math.max(best.get(dataset) ?? value, value));
  };
  for (const run of state.modelRuns) note(run.dataset, run.test ?? run.heldout);
  for (const e of state.evaluations) if (e.split !== 'train' && e.split !== 'dev') note(e.dataset, e.score);
  return best;
}

function check(level: number, met: boolean, evidence: string): MilestoneCheck {
  const { name, criterion } = MILESTONE_CRITERIA[level - 1] as { name: string; criterion: string };
  return { level, name, criterion, met, evidence };
}

/**
 * Checks every milestone against the project's state (criteria in {@link MILESTONE_CRITERIA}) and reports the one
 * reached: the highest level whose criterion, and every earlier one, is met.
 *
 * @example
 * assessMilestone(state).reached; // 3
 */
export function assessMilestone(state: ProjectState): MilestoneAssessment {
  const checks: MilestoneCheck[] = [];
  const withExamples = state.datasets.filter((d) => d.examples > 0);
  checks.push(
    check(
      1,
      withExamples.length > 0,
      withExamples.length
        ? withExamples.map((d) => `${d.name}: ${count(d.examples)} examples`).join(', ')
        : 'no dataset yet',
    ),
  );

  const scoredBaselines = state.modelRuns
    .filter((r) => r.baseline)
    .map((run) => ({ run, score: heldOutScore(run) }))
    .filter((x) => x.score !== null);
  const bestBaseline = scoredBaselines.sort((a, b) => (b.score?.value ?? 0) - (a.score?.value ?? 0))[0];
  checks.push(
    check(
      2,
      bestBaseline !== undefined,
      bestBaseline
        ? `${bestBaseline.run.architecture} ${bestBaseline.score?.set}.${state.card.primary} ${fmt(bestBaseline.score?.value)}`
        : 'no baseline or rules model scored yet',
    ),
  );

  const baselineOn = (set: string): number | null => {
    const values = state.modelRuns
      .filter((r) => r.baseline)
      .map((r) => r[set as 'dev' | 'test' | 'heldout'])
      .filter((v): v is number => v !== null);
    return values.length ? Math.max(...values) : null;
  };
  const learned = state.modelRuns
    .filter((r) => !r.baseline)
    .map((run) => ({ run, score: heldOutScore(run) }))
    .filter((x): x is { run: ModelRunFacts; score: { set: string; value: number } } => x.score !== null)
    .map((x) => ({ ...x, baseline: baselineOn(x.score.set) }))
    .sort((a, b) => b.score.value - a.score.value);
  const working = learned.find((x) => x.score.value > (x.baseline ?? 0));
  const topLearned = learned[0];
  checks.push(
    check(
      3,
      working !== undefined,
      working
        ? `${working.run.architecture} ${working.score.set}.${state.card.primary} ${fmt(working.score.value)}${working.baseline !== null ? ` > baseline ${fmt(working.baseline)}` : ''}`
        : topLearned
          ? `best learned model ${topLearned.run.architecture} ${fmt(topLearned.score.value)} does not beat the baseline ${fmt(topLearned.baseline)}`
          : 'no learned model scored yet',
    ),
  );

  const best = state.best;
  const measured = best !== null && best.dev !== null && (best.test !== null || best.heldout !== null);
  const inspected = state.analyses > 0 || state.evaluations.length > 0;
  checks.push(
    check(
      4,
      measured && inspected,
      `${best ? `best run dev ${fmt(best.dev)}, test ${fmt(best.test ?? best.heldout)}` : 'no best run'}; ${state.analyses} analysis, ${state.evaluations.length} evaluation run(s)`,
    ),
  );

  const accepted = acceptedRuns(state);
  const threshold = state.card.threshold;
  const topAccepted = accepted[0];
  const evidence5 =
    threshold === null
      ? `no acceptance threshold for ${state.card.primary}`
      : topAccepted
        ? `${topAccepted.run.architecture} ${topAccepted.set}.${state.card.primary} ${fmt(topAccepted.value)} ≥ ${threshold}${state.card.hasDescription ? '' : '; the card has no description'}`
        : `no model reaches ${state.card.primary} ≥ ${threshold} on test (best test ${fmt(best?.test ?? best?.heldout)})`;
  checks.push(check(5, topAccepted !== undefined && state.card.hasDescription, evidence5));

  const fast = accepted
    .map(({ run }) => ({ run, evaluation: fastest(state, run.id) }))
    .find(
      ({ run, evaluation }) =>
        evaluation !== null &&
        (evaluation.examplesPerSecond ?? 0) >= FAST_EXAMPLES_PER_SECOND &&
        run.trainSeconds !== null &&
        run.trainSeconds <= FAST_TRAIN_SECONDS,
    );
  checks.push(
    check(
      6,
      fast !== undefined,
      fast
        ? `${fast.run.architecture}: ${Math.round(fast.evaluation?.examplesPerSecond ?? 0)} examples/s, trained in ${fast.run.trainSeconds?.toFixed(1)} s`
        : accepted.length
          ? 'no accepted model has a recorded `sapphire evaluate` throughput within budget'
          : 'no model meets acceptance yet',
    ),
  );

  const domains = domainsMeetingAcceptance(state);
  checks.push(
    check(
      7,
      domains.size >= 2,
      domains.size
        ? `meets acceptance on ${[...domains.entries()].map(([d, v]) => `${d} (${fmt(v)})`).join(', ')}`
        : 'no dataset where a model meets acceptance',
    ),
  );

  let reached = 0;
  while (reached < checks.length && checks[reached]?.met) reached++;
  return { reached, name: reached ? (MILESTONE_CRITERIA[reached - 1]?.name ?? null) : null, checks };
}
