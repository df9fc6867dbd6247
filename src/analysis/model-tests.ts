/**
 * The tests a model must pass before it is trusted: the project's earmarks and its behavioural tests, run together
 * and recorded as a run of kind `test` that the coach and the promotion gate read.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { didYouMean, formatPath } from '../core/config.ts';
import { ConfigError, NotFoundError, type Problem, SapphireError } from '../core/errors.ts';
import type { ProblemCard } from '../core/project.ts';
import type { Example } from '../data/types.ts';
import { resolveRunId } from '../experiments/run-query.ts';
// Through the index, so every built-in architecture is registered before a model is loaded.
import { loadModel } from '../models/index.ts';
import type { Model } from '../models/model.ts';
import { MODEL_MANIFEST } from '../models/registry.ts';
import { sha256Hex } from '../store/artifacts.ts';
import { collectProvenance } from '../store/provenance.ts';
import { materializeModel } from '../store/run-artifacts.ts';
import type { Run, Store } from '../store/store.ts';
import { type BehaviouralTestResult, type BehaviourTest, runBehaviouralTests } from './behavioural.ts';
import {
  checkExpectationsAgainstText,
  EARMARKS_FILE,
  type EarmarkReport,
  loadEarmarks,
  runEarmarks,
} from './earmarks.ts';

/** Name of the artifact holding the full report of a `test` run. */
export const TEST_REPORT_ARTIFACT = 'test/report.json';

/** Options for {@link runModelTests}. */
export interface ModelTestsOptions {
  store: Store;
  card: ProblemCard;
  model: Model;
  /** The model folder under test (recorded with the run) … */
  modelDir?: string | null;
  /** … or the run whose stored model is under test. */
  runId?: string | null;
  projectDir: string;
  /**
   * The earmarks file (relative to the project). Default: `earmarks.jsonl` in the project, skipped when absent;
   * a file named here must exist.
   */
  earmarksFile?: string;
  /** Behavioural tests to run (default: the card's `behaviour`); `false` skips them. */
  behaviour?: readonly BehaviourTest[] | false;
  /** Failures kept as examples per behavioural test (default 5). */
  examplesPerTest?: number;
  /** The command line, recorded in the run's provenance. */
  command?: string | null;
}

/** The earmarks part of a test report: where they came from and how they went. */
export interface EarmarksOutcome extends EarmarkReport {
  /** The earmarks file, as given or resolved in the project. */
  file: string;
  /** sha256 of the file's bytes. */
  hash: string;
}

/** What {@link runModelTests} found, as stored in `test/report.json`. */
export interface ModelTestsReport {
  model: { architecture: string; modelDir: string | null; runId: string | null };
  /** Null when the project has no earmarks file. */
  earmarks: EarmarksOutcome | null;
  behaviour: BehaviouralTestResult[];
  /** No earmark failed and no behavioural test went over its maxFailureRate. */
  passed: boolean;
}

/** The report and the recorded `test` run. */
export interface ModelTestsResult extends ModelTestsReport {
  run: Run;
}

/** Splits `dataset[:split]` (dataset ids never contain ":"). */
export function parseDataRef(ref: string): { dataset: string; split: string | null } {
  const i = ref.lastIndexOf(':');
  return i > 0 ? { dataset: ref.slice(0, i), split: ref.slice(i + 1) } : { dataset: ref, split: null };
}

/** Problems of behavioural tests that only show against the project: the task and the label set. */
function checkBehaviourAgainstCard(tests: readonly BehaviourTest[], card: ProblemCard): Problem[] {
  const problems: Problem[] = [];
  const labels = card.labels;
  tests.forEach((test, i) => {
    const at = (...path: (string | number)[]) => formatPath(['behaviour', i, ...path]);
    if (test.type === 'mft') {
      // Entities are located once the template is filled (per case); the task and the labels are checked here.
      problems.push(
        ...checkExpectationsAgainstText(null, test.expect, { task: card.task, labels }, [
          'behaviour',
          i,
          'expect',
        ]),
      );
      return;
    }
    for (const label of Object.keys(test.perturb.swapEntities ?? {}))
      if (labels.length > 0 && !labels.includes(label))
        problems.push({
          path: at('perturb', 'swapEntities', label),
          message: `label "${label}" is not one of the project's labels (${labels.join(', ')})${didYouMean(label, labels)}`,
        });
    if (test.type !== 'directional') return;
    const expect = test.expect;
    if (card.task === 'ner' && expect.class !== undefined)
      problems.push({
        path: at('expect', 'class'),
        message: "the project's task is ner: use entities or confidence",
      });
    if (card.task !== 'ner' && expect.entities !== undefined)
      problems.push({
        path: at('expect', 'entities'),
        message: `the project's task is ${card.task}: use class or confidence`,
      });
    const label = expect.confidence?.label;
    if (label !== undefined && labels.length > 0 && !labels.includes(label))
      problems.push({
        path: at('expect', 'confidence', 'label'),
        message: `label "${label}" is not one of the project's labels (${labels.join(', ')})${didYouMean(label, labels)}`,
      });
  });
  return problems;
}

function throwConfigProblems(problems: Problem[], hint: string): void {
  if (problems.length === 0) return;
  const lines = problems.map((p) => `field ${p.path}: ${p.message}`);
  const error = new ConfigError(
    lines.length === 1
      ? lines[0]!
      : `${lines.length} problems in the behaviour tests:\n  ${lines.join('\n  ')}`,
    { problems, hint },
  );
  error.details.path = problems[0]!.path;
  throw error;
}

/** Loads the examples of `dataset[:split]` from the store, once per reference, remembering the versions used. */
function datasetLoader(store: Store): { load: (ref: string) => Promise<Example[]>; versions: Set<string> } {
  const cache = new Map<string, Promise<Example[]>>();
  const versions = new Set<string>();
  const load = (ref: string) => {
    let pending = cache.get(ref);
    if (!pending) {
      pending = (async () => {
        const { dataset, split } = parseDataRef(ref);
        const version = await store.getDatasetVersion(dataset);
        versions.add(version.id);
        const examples = (await store.loadExamples(version.id)).filter(
          (e) => split === null || e.split === split,
        );
        if (examples.length === 0)
          throw new NotFoundError(`${version.id} has no examples${split ? ` in split "${split}"` : ''}`, {
            hint: `its splits are: ${Object.keys(version.splitCounts).join(', ') || 'none'}; fix data: in the behaviour test`,
          });
        return examples;
      })();
      cache.set(ref, pending);
    }
    return pending;
  };
  return { load, versions };
}

/** The earmarks file to use: the one given (must exist), else the project's `earmarks.jsonl` when present. */
function earmarksPath(projectDir: string, given: string | undefined): string | null {
  if (given !== undefined) return isAbsolute(given) ? given : resolve(projectDir, given);
  const file = join(projectDir, EARMARKS_FILE);
  return existsSync(file) ? file : null;
}

/**
 * Runs a model's earmarks and behavioural tests and records a run of kind `test` (config: the model, the earmarks
 * file and its hash, the behavioural tests; metrics `earmarks.total`, `earmarks.failed`, `earmarks.pass_rate` and
 * `behaviour.<name>.failure_rate`; artifact `test/report.json`).
 *
 * @example
 * const result = await runModelTests({ store, card, model, modelDir: 'models/r-1', projectDir: '.' });
 * process.exitCode = result.passed ? 0 : 1;
 */
export async function runModelTests(options: ModelTestsOptions): Promise<ModelTestsResult> {
  const { store, card, model, projectDir } = options;
  const file = earmarksPath(projectDir, options.earmarksFile);
  const earmarks = file ? loadEarmarks(file, { task: card.task, labels: card.labels }) : null;
  const tests = options.behaviour === false ? [] : [...(options.behaviour ?? card.behaviour)];
  throwConfigProblems(
    checkBehaviourAgainstCard(tests, card),
    'fix the behaviour tests in sapphire.yaml (see the comment above the behaviour section)',
  );
  if (earmarks === null && tests.length === 0)
    throw new NotFoundError(`nothing to test: no ${EARMARKS_FILE} in ${projectDir} and no behaviour tests`, {
      hint: `write "can't be wrong" examples to ${EARMARKS_FILE} (one JSON object per line: {"text", "expect": {…}}) or declare behaviour: tests in sapphire.yaml`,
    });
  const data = datasetLoader(store);
  // Load every data source before the run starts, so a wrong reference fails without leaving a failed run.
  for (const test of tests) if (test.type !== 'mft' && test.data !== undefined) await data.load(test.data);
  const hash = file ? sha256Hex(readFileSync(file)) : null;
  const modelDir = options.modelDir ? resolve(options.modelDir) : null;
  const runId = options.runId ?? null;
  const run = await store.createRun({
    kind: 'test',
    name: `test ${model.name}${runId ? ` of ${runId}` : ''}`,
    config: {
      model: { architecture: model.name, ...model.config() },
      modelDir,
      trainingRun: runId ?? trainingRunOf(modelDir),
      earmarks: file ? { file, hash, count: earmarks?.length ?? 0 } : null,
      behaviour: tests,
    },
    datasetVersions: [...data.versions],
    provenance: { ...collectProvenance(projectDir, options.command ?? null) },
  });
  try {
    const earmarkReport = earmarks ? await runEarmarks(model, earmarks) : null;
    const behaviour = await runBehaviouralTests(model, tests, data.load, {
      examplesPerTest: options.examplesPerTest,
    });
    const report: ModelTestsReport = {
      model: { architecture: model.name, modelDir, runId },
      earmarks: earmarkReport && file && hash ? { file, hash, ...earmarkReport } : null,
      behaviour,
      passed: (earmarkReport?.failed.length ?? 0) === 0 && behaviour.every((b) => !b.exceeded),
    };
    const bytes = Buffer.from(`${JSON.stringify(report, null, 2)}\n`, 'utf8');
    await store.addRunArtifacts(run.id, [
      { name: TEST_REPORT_ARTIFACT, hash: await store.putArtifact(bytes), size: bytes.length },
    ]);
    const finished = await store.finishRun(run.id, { status: 'finished', metrics: testMetrics(report) });
    return { ...report, run: finished };
  } catch (error) {
    await store
      .finishRun(run.id, { status: 'failed', error: error instanceof Error ? error.message : String(error) })
      .catch(() => undefined);
    throw error;
  }
}

/** The metrics of a `test` run: earmark counts and pass rate, each behavioural test's failure rate and cases. */
export function testMetrics(report: ModelTestsReport): Record<string, number> {
  const metrics: Record<string, number> = {};
  if (report.earmarks) {
    const { total, failed } = report.earmarks;
    metrics['earmarks.total'] = total;
    metrics['earmarks.failed'] = failed.length;
    metrics['earmarks.pass_rate'] = total === 0 ? 1 : (total - failed.length) / total;
  }
  for (const b of report.behaviour) {
    metrics[`behaviour.${b.name}.failure_rate`] = b.failureRate;
    metrics[`behaviour.${b.name}.cases`] = b.cases;
  }
  metrics.passed = report.passed ? 1 : 0;
  return metrics;
}

function trainingRunOf(modelDir: string | null): string | null {
  if (!modelDir) return null;
  try {
    const run = (JSON.parse(readFileSync(join(modelDir, 'training.json'), 'utf8')) as { run?: unknown }).run;
    return typeof run === 'string' ? run : null;
  } catch {
    return null;
  }
}

/** A model loaded for testing, from a folder or a run's stored files; `dispose` removes any temporary copy. */
export interface ModelUnderTest {
  model: Model;
  modelDir: string | null;
  runId: string | null;
  dispose(): Promise<void>;
}

/**
 * Loads the model a `sapphire test` argument names: a model folder (holding `model.json`), else a run id (or a
 * unique part of one) whose stored model is written to a temporary folder.
 *
 * @example
 * const target = await loadModelUnderTest(store, 'a1b2c3', process.cwd());
 * try { … } finally { await target.dispose(); }
 */
export async function loadModelUnderTest(store: Store, ref: string, cwd: string): Promise<ModelUnderTest> {
  const dir = resolve(cwd, ref);
  if (existsSync(dir) && statSync(dir).isDirectory()) {
    if (!existsSync(join(dir, MODEL_MANIFEST)))
      throw new SapphireError('NOT_FOUND', `${dir} is not a saved model (no ${MODEL_MANIFEST})`, {
        hint: 'pass a model folder written by `sapphire train`, or a run id from `sapphire runs ls`',
      });
    return { model: await loadModel(dir), modelDir: dir, runId: null, dispose: async () => undefined };
  }
  let runId: string;
  try {
    runId = await resolveRunId(store, ref);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    throw new NotFoundError(`"${ref}" is neither a model folder nor a run`, {
      hint: 'pass a model folder written by `sapphire train`, or a run id from `sapphire runs ls`',
    });
  }
  const temp = await mkdtemp(join(tmpdir(), 'sapphire-test-model-'));
  const dispose = () => rm(temp, { recursive: true, force: true });
  try {
    await materializeModel(store, runId, temp);
    return { model: await loadModel(temp), modelDir: null, runId, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
