/**
 * Retraining from feedback: the production version's base dataset plus accepted corrections becomes a new
 * dataset version, trained with the production model's config, registered, and promoted through the gates.
 * Every step is recorded on a `retrain` run; re-running after a crash reuses what finished (the dataset
 * version is content-addressed, a finished training run and its registered version are found again) and never
 * leaves a half-registered model (registration is one transaction).
 */
import { NotFoundError, type Problem, SapphireError } from '../core/errors.ts';
import type { ProblemCard } from '../core/project.ts';
import type { Example } from '../data/types.ts';
import type { TrainProgress } from '../models/model.ts';
import { defaultCacheRoot } from '../registry/materialize.ts';
import { aliasTarget, promoteVersion } from '../registry/promotion.ts';
import { registerModelVersion } from '../registry/register.ts';
import { failAbandonedRuns } from '../store/abandoned-runs.ts';
import { canonicalJson } from '../store/canonical.ts';
import { collectProvenance } from '../store/provenance.ts';
import {
  type GateOutcome,
  type ModelVersion,
  PRODUCTION_ALIAS,
  type PromotionRecord,
} from '../store/serving-store.ts';
import type { DatasetVersion, Run, Store } from '../store/store.ts';
import { trainModel } from '../train/train.ts';
import { type TrainConfig, trainConfigSchema } from '../train/train-config.ts';
import { correctionsToExamples } from './feedback-dataset.ts';

/** Run kind of a retraining. */
export const RETRAIN_KIND = 'retrain';
/** Artifact of a retrain run holding its report (steps and outcome). */
export const RETRAIN_REPORT_ARTIFACT = 'retrain/report.json';
/** Operation kind of the dataset versions retraining makes. */
export const FEEDBACK_MERGE = 'feedback-merge';

/** Options of {@link retrainModel}. */
export interface RetrainOptions {
  store: Store;
  card: ProblemCard;
  projectDir: string;
  tenant: string;
  /** Registered model name; its `production` version is retrained. */
  name: string;
  actor: string;
  onProgress?: (message: string) => void;
  /** Where versions are materialized for the gates (default `<projectDir>/.sapphire/cache/registry`). */
  cacheRoot?: string;
  /** Retrain even without accepted corrections (e.g. after the base dataset grew). */
  allowNoFeedback?: boolean;
  /** The command line, recorded in the runs' provenance. */
  command?: string | null;
  /** Extra provenance for the runs (a queue worker records its job lease here). */
  provenance?: Record<string, unknown>;
}

/** One recorded step of a retraining. */
export interface RetrainStep {
  step: 'start' | 'dataset' | 'train' | 'register' | 'promote' | 'done' | 'failed';
  at: string;
  message: string;
  details?: Record<string, unknown>;
}

/** What {@link retrainModel} did. */
export interface RetrainResult {
  /** The `retrain` run recording the steps. */
  run: Run;
  promoted: boolean;
  /** The production version retrained. */
  from: ModelVersion;
  /** The new version (registered now, or found from an earlier attempt). */
  version: ModelVersion;
  dataset: DatasetVersion;
  trainRun: Run;
  /** Accepted corrections merged into the dataset. */
  corrections: number;
  /** Feedback that could not become an example (skipped). */
  problems: Problem[];
  gates: GateOutcome[];
  /** The promotion record (promoted or refused); null when the version already was production. */
  promotion: PromotionRecord | null;
  steps: RetrainStep[];
}

/** The training config a version was trained with, or null when it was not registered from a training. */
export function trainingConfigOf(version: ModelVersion): TrainConfig | null {
  const c = version.config;
  const picked = Object.fromEntries(
    ['model', 'data', 'seed', 'output', 'name', 'tags']
      .filter((k) => c[k] !== undefined)
      .map((k) => [k, c[k]]),
  );
  const parsed = trainConfigSchema.safeParse(picked);
  return parsed.success ? parsed.data : null;
}

/**
 * Merges corrections into a dataset's examples: a corrected text replaces every example with the same text, and
 * the corrections go to the `train` split.
 *
 * @example
 * const { examples, replaced } = mergeCorrections(base, corrections);
 */
export function mergeCorrections(
  base: readonly Example[],
  corrections: readonly Example[],
): { examples: Example[]; replaced: number } {
  const corrected = new Set(corrections.map((c) => c.text));
  const ids = new Set(corrections.map((c) => c.id));
  const kept = base.filter((e) => !corrected.has(e.text) && !ids.has(e.id));
  return {
    examples: [...kept, ...corrections.map((c) => ({ ...c, split: 'train' }))],
    replaced: base.length - kept.length,
  };
}

/** The parts of a training config that decide the model, for finding an equal finished training. */
function trainingKey(config: Record<string, unknown>): string {
  const data = (config.data ?? {}) as Record<string, unknown>;
  return canonicalJson({
    model: config.model ?? null,
    seed: config.seed ?? null,
    data: { train: data.train ?? null, dev: data.dev ?? null, test: data.test ?? null },
  });
}

/** A finished training run on `dataset` with the same config, made by an earlier retraining of the model. */
async function earlierTraining(
  store: Store,
  options: RetrainOptions,
  dataset: string,
  config: TrainConfig,
  currentRun: string,
): Promise<Run | null> {
  const key = trainingKey(config as unknown as Record<string, unknown>);
  const retrains = (await store.listRuns({ kind: RETRAIN_KIND })).filter(
    (r) => r.id !== currentRun && r.config.model === options.name && r.config.tenant === options.tenant,
  );
  for (const retrain of retrains) {
    const trained = await store.listRuns({ parentId: retrain.id, kind: 'train', status: 'finished' });
    const match = trained.find((t) => t.datasetVersions.includes(dataset) && trainingKey(t.config) === key);
    if (match) return match;
  }
  return null;
}

function throttled(report: (message: string) => void): (event: TrainProgress) => void {
  let last = 0;
  return (event) => {
    const now = performance.now();
    if (now - last < 1000 && event.epoch < event.epochs) return;
    last = now;
    report(
      `training: epoch ${event.epoch}/${event.epochs}` +
        (event.loss !== undefined ? `, loss ${event.loss.toFixed(4)}` : '') +
        (event.devScore !== undefined ? `, dev ${event.devScore.toFixed(3)}` : ''),
    );
  };
}

/**
 * Retrains a registered model from its accepted feedback corrections and promotes the result through the
 * card's gates: production version → base dataset + corrections → new dataset version → training with the
 * production config → new registered version → promotion (or a report of the gates that refused it).
 *
 * @example
 * const result = await retrainModel({ store, card, projectDir: '.', tenant: 'default', name: 'shop', actor: 'user:ann' });
 * result.promoted ? `now serving v${result.version.version}` : result.gates.filter((g) => !g.passed);
 */
export async function retrainModel(options: RetrainOptions): Promise<RetrainResult> {
  const { store, card, tenant, name } = options;
  const progress = options.onProgress ?? (() => undefined);
  await failAbandonedRuns(store);
  const from = await aliasTarget(store, tenant, name, PRODUCTION_ALIAS);
  if (!from)
    throw new NotFoundError(`${name} has no ${PRODUCTION_ALIAS} version to retrain`, {
      hint: `promote a version first: sapphire promote ${name}@<version>`,
    });
  const config = trainingConfigOf(from);
  if (!config)
    throw new SapphireError(
      'CONFLICT',
      `${name}@${from.version} was not registered from a training run, so there is no training config to retrain with`,
      {
        hint: `register a version from a training run (sapphire models register <run> --name ${name}), promote it, then retrain`,
      },
    );
  const baseRef = from.datasetVersions[0] ?? config.data.dataset;
  const base = await store.getDatasetVersion(baseRef);
  const feedback = await store.feedback.listFeedback({
    tenant,
    model: name,
    status: 'accepted',
    withCorrection: true,
  });
  const { examples: corrections, problems } = correctionsToExamples(feedback, card.task);
  if (corrections.length === 0 && !options.allowNoFeedback)
    throw new NotFoundError(`no accepted feedback corrections for ${name}: nothing to retrain on`, {
      hint:
        `review feedback with \`sapphire feedback ls --model ${name}\` and accept corrections with ` +
        '`sapphire feedback accept <id…>`, or pass --allow-no-feedback to retrain on the base data alone',
      ...(problems.length ? { problems } : {}),
    });

  const run = await store.createRun({
    kind: RETRAIN_KIND,
    name: `retrain ${name}`,
    config: {
      model: name,
      tenant,
      from: { version: from.version, runId: from.runId },
      base: base.id,
      train: config,
    },
    datasetVersions: [base.id],
    seed: config.seed,
    provenance: { ...collectProvenance(options.projectDir, options.command ?? null), ...options.provenance },
  });
  const steps: RetrainStep[] = [];
  const metrics: Record<string, number> = { corrections: corrections.length, problems: problems.length };
  const log = async (step: RetrainStep['step'], message: string, details?: Record<string, unknown>) => {
    steps.push({ step, at: new Date().toISOString(), message, ...(details ? { details } : {}) });
    progress(message);
    await store.updateRun(run.id, { notes: steps.map((s) => `${s.at} ${s.step}: ${s.message}`).join('\n') });
  };
  const saveReport = async (outcome: Record<string, unknown>) => {
    const bytes = Buffer.from(
      `${JSON.stringify({ model: name, tenant, ...outcome, steps }, null, 2)}\n`,
      'utf8',
    );
    await store.addRunArtifacts(run.id, [
      { name: RETRAIN_REPORT_ARTIFACT, hash: await store.putArtifact(bytes), size: bytes.length },
    ]);
  };

  try {
    await log(
      'start',
      `retraining ${name}@${from.version} (${from.architecture}) on ${base.id} with ${corrections.length} accepted correction(s)`,
      {
        from: from.version,
        base: base.id,
        feedback: feedback.map((f) => f.id),
        problems,
      },
    );

    const merged = mergeCorrections(await store.loadExamples(base.id), corrections);
    const feedbackIds = corrections.map((c) => String(c.meta.feedback ?? c.id));
    const { version: dataset, created } = await store.putDatasetVersion({
      name: base.name,
      examples: merged.examples,
      parentId: base.id,
      operation: {
        kind: FEEDBACK_MERGE,
        params: { base: base.id, model: name, tenant, feedback: feedbackIds, replaced: merged.replaced },
      },
    });
    metrics.replaced = merged.replaced;
    metrics.examples = dataset.exampleCount;
    await log(
      'dataset',
      `${created ? 'made' : 'reused'} dataset version ${dataset.id}: ${corrections.length} correction(s) into train, ` +
        `${merged.replaced} base example(s) replaced, ${dataset.exampleCount} examples`,
      { dataset: dataset.id, created, replaced: merged.replaced },
    );

    const trainConfig: TrainConfig = {
      ...config,
      data: { ...config.data, dataset: dataset.id },
      output: null,
    };
    const earlier = await earlierTraining(store, options, dataset.id, trainConfig, run.id);
    metrics.reused_training = earlier ? 1 : 0;
    let trainRun: Run;
    if (earlier) {
      trainRun = earlier;
      await log('train', `reusing finished training run ${earlier.id} of an earlier attempt`, {
        run: earlier.id,
        reused: true,
      });
    } else {
      progress(`training ${config.model.architecture} on ${dataset.id}`);
      const trained = await trainModel({
        store,
        card,
        config: trainConfig,
        projectDir: options.projectDir,
        record: {
          kind: 'train',
          parentId: run.id,
          name: `retrain ${name}`,
          command: options.command ?? null,
          provenance: options.provenance,
        },
        writeModelDir: false,
        onProgress: throttled(progress),
      });
      trainRun = trained.run;
      const primary = `test.${card.metrics.primary}`;
      await log(
        'train',
        `trained run ${trainRun.id} in ${trained.seconds.toFixed(1)} s` +
          (trainRun.metrics[primary] !== undefined
            ? ` (${primary} ${trainRun.metrics[primary].toFixed(3)})`
            : ''),
        { run: trainRun.id, reused: false, metrics: trainRun.metrics },
      );
    }

    const trainedBy = trainRun.id;
    let version = (await store.registry.listVersions(tenant, name)).find((v) => v.runId === trainedBy);
    if (version) {
      await log('register', `reusing ${name}@${version.version}, registered from ${trainRun.id} earlier`, {
        version: version.version,
        reused: true,
      });
    } else {
      version = await registerModelVersion(store, {
        tenant,
        source: trainRun.id,
        name,
        description: `retrained from ${name}@${from.version} with ${corrections.length} feedback correction(s) (run ${run.id})`,
        actor: options.actor,
        cwd: options.projectDir,
      });
      await log('register', `registered ${name}@${version.version}`, {
        version: version.version,
        reused: false,
      });
    }
    metrics.version = version.version;

    let promoted: boolean;
    let gates: GateOutcome[] = [];
    let promotion: PromotionRecord | null = null;
    if (version.aliases.includes(PRODUCTION_ALIAS)) {
      promoted = true;
      await log('promote', `${name}@${version.version} already is ${PRODUCTION_ALIAS}`, { already: true });
    } else {
      const result = await promoteVersion({
        store,
        card,
        projectDir: options.projectDir,
        tenant,
        ref: `${name}@${version.version}`,
        alias: PRODUCTION_ALIAS,
        reason: `retrain run ${run.id}: ${corrections.length} feedback correction(s)`,
        actor: options.actor,
        cacheRoot: options.cacheRoot ?? defaultCacheRoot(options.projectDir),
        onProgress: progress,
      });
      promoted = result.promoted;
      gates = result.gates;
      promotion = result.record;
      const failed = gates.filter((g) => !g.passed);
      await log(
        'promote',
        promoted
          ? `promoted ${name}@${version.version} to ${PRODUCTION_ALIAS} (was v${from.version})`
          : `refused: ${failed.map((g) => `${g.gate}: ${g.summary}`).join('; ')}`,
        { promoted, promotion: promotion.id, gates },
      );
    }
    metrics.promoted = promoted ? 1 : 0;
    metrics.gates_failed = gates.filter((g) => !g.passed).length;
    await log(
      'done',
      promoted
        ? `${name}@${version.version} is ${PRODUCTION_ALIAS}`
        : `${name}@${version.version} registered but not promoted; ${PRODUCTION_ALIAS} stays v${from.version}`,
    );
    await saveReport({
      promoted,
      from: from.version,
      version: version.version,
      dataset: dataset.id,
      trainRun: trainRun.id,
      corrections: corrections.length,
      gates,
    });
    const finished = await store.finishRun(run.id, { status: 'finished', metrics });
    return {
      run: finished,
      promoted,
      from,
      version,
      dataset,
      trainRun,
      corrections: corrections.length,
      problems,
      gates,
      promotion,
      steps,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await log('failed', message).catch(() => undefined);
    await saveReport({ promoted: false, error: message }).catch(() => undefined);
    await store.finishRun(run.id, { status: 'failed', error: message }).catch(() => undefined);
    throw error;
  }
}
