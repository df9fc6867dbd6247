/**
 * Promotion gates: the checks a model version must pass before an alias (usually `production`) moves to it —
 * the gate metric against the alias's current version with paired significance tests, the card's acceptance
 * minimums, the project's earmarks and a latency budget. Each gate reports one line with its numbers.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EARMARKS_FILE, loadEarmarks, runEarmarks } from '../analysis/earmarks.ts';
import { parseDataRef } from '../analysis/model-tests.ts';
import { ConfigError, NotFoundError, SapphireError } from '../core/errors.ts';
import type { ProblemCard } from '../core/project.ts';
import type { Example } from '../data/types.ts';
import { evaluatePredictions } from '../metrics/evaluate.ts';
import { compareSystems } from '../metrics/significance.ts';
import { type Model, type Prediction, predictMany } from '../models/model.ts';
import type { GateOutcome, ModelVersion } from '../store/serving-store.ts';
import type { Store } from '../store/store.ts';
import { loadRegisteredModel } from './materialize.ts';

/** Resamples and permutations of the gate's significance tests (enough to tell p < 0.001 apart). */
export const GATE_SAMPLES = 2000;

/** The card's `promotion:` section with every default resolved against the card. */
export interface GateSettings {
  /** `dataset[:split]`, or null when the card has no data source to default to. */
  dataset: string | null;
  metric: string;
  alpha: number;
  require: 'not-worse' | 'better';
  earmarks: boolean;
  latency: { p99Ms: number; samples: number };
}

/**
 * Resolves the gate settings of a card: the dataset defaults to the first data source's `test` split and the
 * metric to `metrics.primary`.
 *
 * @example
 * gateSettings(card).metric; // 'span_f1_micro'
 */
export function gateSettings(card: ProblemCard): GateSettings {
  const p = card.promotion;
  const first = card.data.sources[0];
  return {
    dataset: p.dataset ?? (first ? `${first.name}:test` : null),
    metric: p.metric ?? card.metrics.primary,
    alpha: p.alpha,
    require: p.require,
    earmarks: p.earmarks,
    latency: { ...p.latency },
  };
}

/** The examples a gate is judged on. */
export interface GateData {
  /** As written: `dataset[:split]`. */
  ref: string;
  /** The dataset version id. */
  dataset: string;
  split: string | null;
  examples: Example[];
}

/** Loads the gate dataset (`dataset[:split]`) from the store, with clear errors for a missing or empty one. */
export async function loadGateData(store: Store, settings: GateSettings): Promise<GateData> {
  if (settings.dataset === null)
    throw new ConfigError('no gate dataset: the card has no data source to default to', {
      path: 'promotion.dataset',
      hint: 'set promotion.dataset in sapphire.yaml to a dataset with a test split, e.g. shop-titles:test',
    });
  const { dataset, split } = parseDataRef(settings.dataset);
  const version = await store.getDatasetVersion(dataset);
  const examples = (await store.loadExamples(version.id)).filter((e) => split === null || e.split === split);
  if (examples.length === 0)
    throw new NotFoundError(`${version.id} has no examples${split ? ` in split "${split}"` : ''}`, {
      path: 'promotion.dataset',
      hint: `its splits are: ${Object.keys(version.splitCounts).join(', ') || 'none'}; set promotion.dataset in sapphire.yaml`,
    });
  return { ref: settings.dataset, dataset: version.id, split, examples };
}

/** Everything the gates need. */
export interface GateInputs {
  store: Store;
  card: ProblemCard;
  projectDir: string;
  candidate: ModelVersion;
  candidateModel: Model;
  /** The version the alias points at now, or null when it is unset. */
  current: ModelVersion | null;
  alias: string;
  cacheRoot: string;
  onProgress?: (message: string) => void;
}

const num = (x: number): string => x.toFixed(3);
const signed = (x: number): string => `${x < 0 ? '−' : '+'}${Math.abs(x).toFixed(3)}`;
const pText = (p: number): string => (p < 0.001 ? '< 0.001' : `= ${p.toFixed(3)}`);
const ms = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1));

function predict(model: Model, examples: readonly Example[]): Promise<Prediction[]> {
  return predictMany(
    model,
    examples.map((e) => ({ text: e.text, tokens: e.tokens })),
  );
}

function failure(gate: string, error: unknown, what: string): GateOutcome {
  const message = error instanceof Error ? error.message : String(error);
  const hint = error instanceof SapphireError ? error.hint : undefined;
  return {
    gate,
    passed: false,
    summary: `${what}: ${message}`,
    details: { error: message, ...(hint ? { hint } : {}) },
  };
}

/**
 * Runs every gate of the card for a candidate version and returns their outcomes (a gate that cannot be
 * evaluated — missing data, a current version that does not load — fails with the reason).
 *
 * @example
 * const gates = await runGates({ store, card, projectDir, candidate, candidateModel, current, alias: 'production', cacheRoot });
 * gates.every((g) => g.passed);
 */
export async function runGates(inputs: GateInputs): Promise<GateOutcome[]> {
  const { card } = inputs;
  const settings = gateSettings(card);
  const progress = inputs.onProgress ?? (() => undefined);
  const gates: GateOutcome[] = [];
  let data: GateData | null = null;
  try {
    progress(`loading the gate dataset ${settings.dataset ?? '(none)'}`);
    data = await loadGateData(inputs.store, settings);
  } catch (error) {
    gates.push(failure('metric', error, 'gate dataset'));
    for (const metric of Object.keys(card.acceptance))
      gates.push({
        gate: `acceptance.${metric}`,
        passed: false,
        summary: `${metric}: not evaluated (no gate data)`,
        details: { metric, minimum: card.acceptance[metric] },
      });
  }
  if (data) {
    progress(
      `predicting ${data.examples.length} gate examples with ${inputs.candidate.name}@${inputs.candidate.version}`,
    );
    const candidatePredictions = await predict(inputs.candidateModel, data.examples);
    gates.push(await metricGate(inputs, settings, data, candidatePredictions));
    gates.push(...acceptanceGates(card, data, candidatePredictions));
  }
  if (settings.earmarks) gates.push(await earmarksGate(inputs));
  progress(`timing ${settings.latency.samples} single-text predictions`);
  gates.push(await latencyGate(inputs.candidateModel, settings, data));
  return gates;
}

async function metricGate(
  inputs: GateInputs,
  settings: GateSettings,
  data: GateData,
  candidatePredictions: Prediction[],
): Promise<GateOutcome> {
  const { card, candidate, current, alias } = inputs;
  const labels = card.labels.length ? card.labels : undefined;
  const on = `${data.dataset}${data.split ? `:${data.split}` : ''}`;
  const base = {
    metric: settings.metric,
    dataset: data.dataset,
    split: data.split,
    examples: data.examples.length,
    alpha: settings.alpha,
    require: settings.require,
  };
  if (current === null) {
    const value = evaluatePredictions(candidate.task, data.examples, candidatePredictions, { labels })
      .metrics[settings.metric];
    return {
      gate: 'metric',
      passed: true,
      summary: `${settings.metric} ${num(value ?? Number.NaN)} on ${on}; no ${alias} version yet, nothing to compare with`,
      details: { ...base, candidate: value ?? null, current: null, currentVersion: null },
    };
  }
  let currentPredictions: Prediction[];
  try {
    inputs.onProgress?.(`predicting the gate examples with ${alias} (${current.name}@${current.version})`);
    const model = await loadRegisteredModel(inputs.store, current, inputs.cacheRoot);
    currentPredictions = await predict(model, data.examples);
  } catch (error) {
    return failure('metric', error, `could not run ${alias} (v${current.version}) for comparison`);
  }
  inputs.onProgress?.(`significance tests (${GATE_SAMPLES} resamples and permutations)`);
  const { bootstrap, randomization, significant } = compareSystems(
    candidate.task,
    data.examples,
    currentPredictions,
    candidatePredictions,
    { metric: settings.metric, labels, samples: GATE_SAMPLES, confidence: 1 - settings.alpha },
  );
  const delta = bootstrap.delta;
  const verdict = significant
    ? delta > 0
      ? 'significantly better'
      : delta < 0
        ? 'significantly worse'
        : 'no difference'
    : 'no significant difference';
  const passed = settings.require === 'better' ? significant && delta > 0 : !(significant && delta < 0);
  const level = Math.round((1 - settings.alpha) * 1000) / 10;
  const summary =
    `${settings.metric} ${num(bootstrap.b)} vs ${alias} v${current.version} ${num(bootstrap.a)} on ${on} ` +
    `(Δ ${signed(delta)}, ${level}% CI [${signed(bootstrap.ci[0])}, ${signed(bootstrap.ci[1])}], ` +
    `p ${pText(bootstrap.pValue)} bootstrap, p ${pText(randomization.pValue)} randomization, ` +
    `${data.examples.length} examples): ${verdict}` +
    (settings.require === 'better' && !passed ? ' (promotion.require: better)' : '');
  return {
    gate: 'metric',
    passed,
    summary,
    details: {
      ...base,
      candidate: bootstrap.b,
      current: bootstrap.a,
      currentVersion: current.version,
      delta,
      ci: bootstrap.ci,
      confidence: 1 - settings.alpha,
      pBootstrap: bootstrap.pValue,
      pRandomization: randomization.pValue,
      samples: GATE_SAMPLES,
      significant,
      verdict,
    },
  };
}

function acceptanceGates(card: ProblemCard, data: GateData, predictions: Prediction[]): GateOutcome[] {
  const entries = Object.entries(card.acceptance);
  if (entries.length === 0) return [];
  const labels = card.labels.length ? card.labels : undefined;
  const metrics = evaluatePredictions(card.task, data.examples, predictions, { labels }).metrics;
  return entries.map(([metric, minimum]) => {
    const value = metrics[metric] ?? Number.NaN;
    const passed = value >= minimum;
    return {
      gate: `acceptance.${metric}`,
      passed,
      summary: passed
        ? `${metric} ${num(value)} meets the ${num(minimum)} minimum`
        : `${metric} ${num(value)} is below the ${num(minimum)} minimum (short by ${num(minimum - value)})`,
      details: { metric, value, minimum, dataset: data.dataset, split: data.split },
    };
  });
}

async function earmarksGate(inputs: GateInputs): Promise<GateOutcome> {
  const file = join(inputs.projectDir, EARMARKS_FILE);
  if (!existsSync(file))
    return {
      gate: 'earmarks',
      passed: true,
      summary: `no ${EARMARKS_FILE} in the project: nothing to check`,
      details: { file: null, total: 0, failed: [] },
    };
  try {
    inputs.onProgress?.(`checking ${EARMARKS_FILE}`);
    const earmarks = loadEarmarks(file, { task: inputs.card.task, labels: inputs.card.labels });
    const report = await runEarmarks(inputs.candidateModel, earmarks);
    const failed = report.failed.map((f) => ({
      id: f.id,
      line: f.line,
      failures: f.failures.map((x) => `${x.path}: ${x.expectation} (actual: ${x.actual})`),
    }));
    const shown = failed
      .slice(0, 5)
      .map((f) => `${f.id} (line ${f.line})`)
      .join(', ');
    return {
      gate: 'earmarks',
      passed: failed.length === 0,
      summary:
        failed.length === 0
          ? `${report.passed} of ${report.total} earmarks pass`
          : `${failed.length} of ${report.total} earmarks fail: ${shown}${failed.length > 5 ? ', …' : ''}`,
      details: { file, total: report.total, passed: report.passed, failed },
    };
  } catch (error) {
    return failure('earmarks', error, EARMARKS_FILE);
  }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

const FALLBACK_TEXTS = [
  'The quick brown fox jumps over the lazy dog.',
  'hello world',
  'Nike Air Max 90 white',
];

async function latencyGate(
  model: Model,
  settings: GateSettings,
  data: GateData | null,
): Promise<GateOutcome> {
  const pool = data?.examples.map((e) => e.text) ?? FALLBACK_TEXTS;
  const texts = pool.length > 0 ? pool : FALLBACK_TEXTS;
  const n = settings.latency.samples;
  try {
    for (let i = 0; i < Math.min(10, n); i++) await predictMany(model, [{ text: texts[i % texts.length]! }]);
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const text = texts[i % texts.length]!;
      const start = process.hrtime.bigint();
      await predictMany(model, [{ text }]);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    const p50 = percentile(times, 0.5);
    const p99 = percentile(times, 0.99);
    const budget = settings.latency.p99Ms;
    const passed = p99 <= budget;
    return {
      gate: 'latency',
      passed,
      summary: `p99 ${ms(p99)} ms ${passed ? '≤' : '>'} ${budget} ms budget (p50 ${ms(p50)} ms, ${n} single-text predictions)`,
      details: { p50Ms: p50, p99Ms: p99, maxMs: times[times.length - 1], budgetMs: budget, samples: n },
    };
  } catch (error) {
    return failure('latency', error, 'timing predictions');
  }
}
