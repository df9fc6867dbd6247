import type { ProblemCard } from '../core/project.ts';
// Jobs create models by name: in-process runs (`--workers 0`) need the registry filled like the workers have it.
import '../models/index.ts';
import type { TrainProgress } from '../models/model.ts';
import { collectProvenance } from '../store/provenance.ts';
import type { Run, Store } from '../store/store.ts';
import { type RunRecordOptions, trainModel } from '../train/train.ts';
import type { TrainConfig } from '../train/train-config.ts';
import { type SelectionSpec, selectionFor } from './selection.ts';

/** One training job of a study (a sweep trial, a fold, a curve point, a ladder rung), as plain JSON. */
export interface TrainJob {
  /** Unique within its study; names the job in progress events and results. */
  id: string;
  /** The filled training config of this job (overrides already applied). */
  config: TrainConfig;
  selection?: SelectionSpec;
  record: RunRecordOptions;
  /** Extra JSON for the run's config, e.g. `{ trial: { index, values } }`. */
  annotations?: Record<string, unknown>;
  /** Write the model folder to the config's output (default false: the store keeps the model files). */
  writeModelDir?: boolean;
}

/** What became of a job: its run and final metrics, or its error. Every job gets a run, failed ones included. */
export interface JobResult {
  jobId: string;
  runId: string;
  status: 'finished' | 'failed';
  metrics: Record<string, number>;
  error: string | null;
  seconds: number;
}

/** Where jobs run: the project and store every worker opens. */
export interface JobContext {
  projectDir: string;
  /** The store URI (SQLite path or postgres://…) every worker opens. */
  storeUri: string;
  /** The artifacts root (folder or `s3://bucket/prefix`) workers open; default: the one the store records. */
  artifacts?: string;
  /** The project's problem card, already loaded with any overrides. */
  card: ProblemCard;
}

/** Progress of a job while it runs. */
export type JobEvent =
  | { type: 'started'; jobId: string; runId: string }
  | { type: 'progress'; jobId: string; progress: TrainProgress }
  | { type: 'finished'; result: JobResult };

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs one job in this process and never throws: a failure is returned (and recorded) as a failed run, even
 * when it happened before training could start (an invalid model setting, say).
 *
 * @example
 * const result = await runTrainJob(store, context, job, (event) => console.log(event.type));
 */
export async function runTrainJob(
  store: Store,
  context: JobContext,
  job: TrainJob,
  onEvent: (event: JobEvent) => void = () => undefined,
  extraProvenance: Record<string, unknown> = {},
): Promise<JobResult> {
  const started = performance.now();
  let runId: string | null = null;
  const record = memberRecord(job, extraProvenance);
  try {
    const done = await claimMemberRun(store, job);
    if (done) {
      const result = resultOf(job.id, done, 0);
      onEvent({ type: 'started', jobId: job.id, runId: done.id });
      return result;
    }
    const result = await trainModel({
      store,
      card: context.card,
      config: job.config,
      projectDir: context.projectDir,
      selection: job.selection ? selectionFor(job.selection, context.card.task) : undefined,
      record,
      annotations: job.annotations,
      writeModelDir: job.writeModelDir ?? false,
      onRunCreated: (run) => {
        runId = run.id;
        onEvent({ type: 'started', jobId: job.id, runId: run.id });
      },
      onProgress: (progress) => onEvent({ type: 'progress', jobId: job.id, progress }),
    });
    return {
      jobId: job.id,
      runId: result.run.id,
      status: 'finished',
      metrics: result.run.metrics,
      error: null,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    const message = messageOf(error);
    if (runId === null) runId = await recordFailedJob(store, context, { ...job, record }, message);
    return {
      jobId: job.id,
      runId,
      status: 'failed',
      metrics: {},
      error: message,
      seconds: (performance.now() - started) / 1000,
    };
  }
}

/** Records a job that failed before its run existed (e.g. an invalid setting), so no trial goes missing. */
export async function recordFailedJob(
  store: Store,
  context: JobContext,
  job: TrainJob,
  error: string,
): Promise<string> {
  const run = await store.createRun({
    kind: job.record.kind ?? 'train',
    name: job.record.name ?? job.config.name ?? job.config.model.architecture,
    config: { ...job.config, ...(job.selection ? { selection: job.selection } : {}), ...job.annotations },
    seed: job.config.seed,
    tags: [...new Set([...job.config.tags, ...(job.record.tags ?? [])])],
    parentId: job.record.parentId ?? null,
    provenance: {
      ...collectProvenance(context.projectDir, job.record.command ?? null),
      ...memberRecord(job).provenance,
    },
  });
  await store.finishRun(run.id, { status: 'failed', error });
  return run.id;
}

/** Provenance key naming a study member's run: the job id, unique within its study. */
export const MEMBER_KEY = 'member';

/** The job's record options with its member key (and any extra provenance) added, for runs of a study. */
function memberRecord(job: TrainJob, extra: Record<string, unknown> = {}): RunRecordOptions {
  const member = job.record.parentId ? { [MEMBER_KEY]: job.id } : {};
  return { ...job.record, provenance: { ...job.record.provenance, ...member, ...extra } };
}

/** A job result read back from its recorded run. */
export function resultOf(jobId: string, run: Run, seconds: number): JobResult {
  return {
    jobId,
    runId: run.id,
    status: run.status === 'finished' ? 'finished' : 'failed',
    metrics: run.metrics,
    error: run.error,
    seconds,
  };
}

/** The runs recorded for one member of a study (normally at most one). */
export async function memberRuns(store: Store, parentId: string, member: string): Promise<Run[]> {
  const runs = await store.listRuns({ parentId });
  return runs.filter((run) => run.provenance[MEMBER_KEY] === member);
}

/**
 * Makes running a study member idempotent: when an earlier attempt already finished the member's run it is
 * returned (and nothing is trained again); runs that an earlier attempt left running or failed (a worker killed
 * mid-job, whose queue lock expired) are deleted with their artifacts, so the retry records the member once.
 */
export async function claimMemberRun(store: Store, job: TrainJob): Promise<Run | null> {
  const parentId = job.record.parentId;
  if (!parentId) return null;
  const runs = await memberRuns(store, parentId, job.id);
  const finished = runs.find((run) => run.status === 'finished');
  for (const run of runs) {
    if (run === finished) continue;
    await store.deleteRun(run.id).catch(() => undefined);
  }
  return finished ?? null;
}
