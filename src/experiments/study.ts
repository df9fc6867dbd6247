import { applyOverrides, validateConfig } from '../core/config.ts';
import { SapphireError } from '../core/errors.ts';
import { collectProvenance } from '../store/provenance.ts';
import type { Run, Store } from '../store/store.ts';
import { type TrainConfig, trainConfigSchema } from '../train/train-config.ts';
import type { JobContext, JobEvent, JobResult, TrainJob } from './jobs.ts';
import type { RunJobsOptions } from './worker-pool.ts';

/** Runs a study's jobs and returns one result per job, in job order: local processes, or a queue's workers. */
export type JobRunner = (jobs: TrainJob[], options: RunJobsOptions) => Promise<JobResult[]>;

/** What every study (sweep, cross-validation, learning curve, ladder) needs to run. */
export interface StudyOptions {
  store: Store;
  context: JobContext;
  /** Local worker processes (default one per core); 0 runs every job in this process. */
  workers?: number;
  onEvent?: (event: JobEvent) => void;
  /** Name of the study run. */
  name?: string;
  tags?: string[];
  /** The command line that started the study, recorded with every run. */
  command?: string | null;
  /** Where the jobs run (default: local worker processes, `runJobs`); `queueRunner` sends them to BullMQ workers. */
  runner?: JobRunner;
  /** Continue this study run instead of creating one (a coordinator retried after its process died). */
  resumeStudyId?: string;
  /** Called once the study run exists, before any job runs. */
  onStudyCreated?: (study: Run) => void | Promise<void>;
}

/** Records the run that groups a study's members; members point at it with `parentId`. */
export async function createStudyRun(
  options: StudyOptions,
  kind: string,
  config: Record<string, unknown>,
  datasetVersions: string[],
  seed: number | null,
): Promise<Run> {
  const study = options.resumeStudyId
    ? await options.store.getRun(options.resumeStudyId)
    : await options.store.createRun({
        kind,
        name: options.name ?? kind,
        config,
        datasetVersions,
        seed,
        tags: options.tags ?? [],
        provenance: { ...collectProvenance(options.context.projectDir, options.command ?? null) },
      });
  await options.onStudyCreated?.(study);
  return study;
}

/**
 * Finishes a study run with summary metrics and its full summary as the `study/summary.json` artifact; a study
 * whose members all failed is marked failed with the first error.
 */
export async function finishStudyRun(
  options: StudyOptions,
  study: Run,
  results: JobResult[],
  metrics: Record<string, number>,
  summary: Record<string, unknown>,
): Promise<Run> {
  const { store } = options;
  const bytes = Buffer.from(`${JSON.stringify(summary, null, 2)}\n`, 'utf8');
  await store.addRunArtifacts(study.id, [
    { name: 'study/summary.json', hash: await store.putArtifact(bytes), size: bytes.length },
  ]);
  const failed = results.filter((r) => r.status === 'failed');
  const counts = { members: results.length, failed: failed.length };
  if (results.length > 0 && failed.length === results.length) {
    return store.finishRun(study.id, {
      status: 'failed',
      metrics: counts,
      error: `all ${results.length} runs failed; the first error: ${failed[0]?.error}`,
    });
  }
  return store.finishRun(study.id, { status: 'finished', metrics: { ...metrics, ...counts } });
}

/** Marks a study failed when it stops on an error of its own (not of a member), then rethrows. */
export async function failStudy(store: Store, study: Run, error: unknown): Promise<never> {
  await store
    .finishRun(study.id, { status: 'failed', error: error instanceof Error ? error.message : String(error) })
    .catch(() => undefined);
  throw error;
}

/** Applies `key=value` overrides to a filled training config and validates the result, naming the trial. */
export function withOverrides(base: TrainConfig, overrides: string[], what: string): TrainConfig {
  if (overrides.length === 0) return base;
  const raw = applyOverrides(structuredClone(base) as Record<string, unknown>, overrides);
  try {
    return validateConfig(trainConfigSchema, raw, { overrides });
  } catch (error) {
    if (error instanceof SapphireError) {
      throw new SapphireError(error.code, `${what}: ${error.message}`, error.details);
    }
    throw error;
  }
}

/** The metric a study ranks or scores by: `<set>.<primary metric>`. */
export function studyMetric(set: string, context: JobContext): string {
  return `${set}.${context.card.metrics.primary}`;
}

/** Checks that a dataset version has examples in a split before a study relies on it. */
export function requireSplit(
  splitCounts: Record<string, number>,
  split: string | null,
  datasetId: string,
  why: string,
): string {
  if (split && (splitCounts[split] ?? 0) > 0) return split;
  throw new SapphireError('DATA_INVALID', `${datasetId} has no ${split ?? 'dev'} split, which ${why}`, {
    path: 'data.dev',
    hint: `its splits are: ${Object.keys(splitCounts).join(', ') || 'none'}; split it with a dev part (\`sapphire data split\`) or use \`sapphire cv\``,
  });
}
