/**
 * `sapphire worker`: consumes the BullMQ queue. Trainings run in a child process (the local pool's job-worker),
 * so this process's event loop stays free to renew the job lock — the lease that tells the queue the job is
 * alive — while the child computes. A worker killed mid-job stops renewing; after the lock expires the queue
 * hands the job to another worker, whose attempt replaces any half-written run (see `claimMemberRun`).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Job, Worker } from 'bullmq';
import { SapphireError } from '../core/errors.ts';
import type { FromWorker, ToWorker } from '../experiments/job-worker.ts';
import type { JobContext, JobEvent, JobResult, TrainJob } from '../experiments/jobs.ts';
import type { StudyOptions } from '../experiments/study.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import {
  DEFAULT_ATTEMPTS,
  type QueueConnection,
  type QueueProgress,
  queuedRetrainOf,
  queueNames,
  queueRunner,
  type RetrainJobData,
  redisConnection,
  type StudyJobData,
  type TrainJobData,
} from './queue.ts';

const JOB_SCRIPT = fileURLToPath(new URL('../experiments/job-worker.ts', import.meta.url));

/** Options of {@link startQueueWorker}. */
export interface QueueWorkerOptions extends QueueConnection {
  /** The shared store every worker and submitter opens (PostgreSQL for several machines). */
  storeUri: string;
  /** The artifacts root: a shared folder or `s3://bucket/prefix`; default: the one the store records. */
  artifacts?: string;
  /** Working folder for temporary model files and the registry cache (default: the current folder). */
  workDir?: string;
  /** Trainings at a time (default 1: trainings are CPU-bound; run one worker per core or pod). */
  concurrency?: number;
  /** How long a job's lock lasts without renewal before the job counts as stalled (default 30000 ms). */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for (default: half the lock duration). */
  stalledIntervalMs?: number;
  /** A name for this worker in logs and run provenance (default: host-pid-random). */
  id?: string;
  onEvent?: (event: WorkerEvent) => void;
  /** The training child's entry point (tests pass one that crashes on purpose). */
  jobScript?: string;
}

/** What a worker reports about the jobs it runs. */
export type WorkerEvent =
  | { type: 'ready'; worker: string; queue: string }
  | { type: 'active'; worker: string; job: string; name: string; attempt: number }
  | { type: 'progress'; worker: string; job: string; progress: QueueProgress }
  | { type: 'completed'; worker: string; job: string; name: string; status?: string }
  | { type: 'failed'; worker: string; job: string; name: string; error: string; willRetry: boolean }
  | { type: 'error'; worker: string; error: string };

/** A running queue worker. */
export interface QueueWorker {
  readonly id: string;
  /** Stops taking jobs, waits for the running ones, and closes everything. */
  close(): Promise<void>;
}

/** One long-lived training child process speaking the job-worker protocol. */
class TrainingChild {
  private child: ChildProcess | null = null;
  private ready: Promise<void> | null = null;
  private current: {
    resolve: (result: JobResult) => void;
    reject: (error: Error) => void;
    onEvent: (event: JobEvent) => void;
  } | null = null;

  constructor(
    private readonly script: string,
    private readonly context: Omit<JobContext, 'card'>,
  ) {}

  private start(card: JobContext['card']): Promise<void> {
    const child = fork(this.script, [], {
      execArgv: ['--import', import.meta.resolve('tsx')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.child = child;
    let fatal: string | null = null;
    const ready = new Promise<void>((resolveReady, rejectReady) => {
      child.on('message', (message: FromWorker) => {
        if (message.type === 'ready') resolveReady();
        else if (message.type === 'fatal') fatal = message.error;
        else if (message.type === 'finished') {
          const current = this.current;
          this.current = null;
          current?.resolve(message.result);
        } else this.current?.onEvent(message);
      });
      child.on('close', (code, signal) => {
        if (this.child === child) {
          this.child = null;
          this.ready = null;
        }
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const error = new Error(`the training process ${child.pid} ${how}${fatal ? `: ${fatal}` : ''}`);
        rejectReady(error);
        const current = this.current;
        this.current = null;
        current?.reject(error);
      });
    });
    const init: ToWorker = { type: 'init', context: { ...this.context, card } };
    child.send(init);
    return ready;
  }

  /** Trains one job in the child (starting or restarting it as needed). */
  async run(
    job: TrainJob,
    context: JobContext,
    provenance: Record<string, unknown>,
    onEvent: (event: JobEvent) => void,
  ): Promise<JobResult> {
    if (!this.ready) this.ready = this.start(context.card);
    await this.ready;
    const child = this.child;
    if (!child) throw new Error('the training process is not running');
    return new Promise<JobResult>((resolveJob, rejectJob) => {
      this.current = { resolve: resolveJob, reject: rejectJob, onEvent };
      const message: ToWorker = { type: 'job', job, context, provenance };
      child.send(message);
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const closed = new Promise<void>((done) => child.once('close', () => done()));
    if (child.connected) child.send({ type: 'exit' } satisfies ToWorker);
    else child.kill();
    await closed;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Starts a worker on the queue: `train` jobs (study members) run in a training child process, `retrain` jobs
 * run the retraining pipeline, and the coordinators of detached studies (`study` jobs on `<queue>-studies`) plan
 * a study, enqueue its members and finish it. Every run a worker records carries the worker and queue job in its
 * provenance, which is how the abandoned-run check knows the queue's lease, not a local pid, owns it.
 *
 * @example
 * const worker = await startQueueWorker({ url: 'redis://127.0.0.1:6379', storeUri: 'postgres://…/sapphire' });
 * process.on('SIGTERM', () => void worker.close());
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const connection = redisConnection(options.url);
  const names = queueNames(options);
  const id = options.id ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const workDir = resolve(options.workDir ?? process.cwd());
  const lockDuration = options.lockDurationMs ?? 30_000;
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new SapphireError('BAD_INPUT', `--concurrency ${concurrency} must be a whole number ≥ 1`, {
      hint: 'run one training at a time per core: e.g. --concurrency 1',
    });
  const emit = options.onEvent ?? (() => undefined);
  const store: Store = await openStore({
    uri: options.storeUri,
    projectDir: workDir,
    artifactsDir: options.artifacts,
  });
  const baseContext = { projectDir: workDir, storeUri: options.storeUri, artifacts: options.artifacts };
  const children = Array.from(
    { length: concurrency },
    () => new TrainingChild(options.jobScript ?? JOB_SCRIPT, baseContext),
  );
  const idle = [...children];
  const lease = (job: Job) => ({
    lease: { kind: 'bullmq', queue: job.queueName, job: job.id, worker: id, attempt: job.attemptsMade + 1 },
  });
  const progress = (job: Job, value: QueueProgress) => {
    emit({ type: 'progress', worker: id, job: job.id ?? '?', progress: value });
    void job.updateProgress(value as object).catch(() => undefined);
  };

  const processWork = async (job: Job): Promise<unknown> => {
    emit({ type: 'active', worker: id, job: job.id ?? '?', name: job.name, attempt: job.attemptsMade + 1 });
    if (job.name === 'noop') return { ok: true, worker: id };
    if (job.name === 'train') {
      const data = job.data as TrainJobData;
      const child = idle.pop();
      if (!child) throw new Error('no idle training process (concurrency accounting is off)');
      try {
        return await child.run(data.job, { ...baseContext, card: data.card }, lease(job), (event) =>
          progress(job, event),
        );
      } finally {
        idle.push(child);
      }
    }
    if (job.name === 'retrain') {
      // A retry after a worker died: its half-done retrain run is failed first, so none stays running.
      await failEarlierAttempts(store, job);
      const data = job.data as RetrainJobData;
      const { retrainModel } = await import('./retrain.ts');
      const result = await retrainModel({
        store,
        card: data.card,
        projectDir: workDir,
        tenant: data.tenant,
        name: data.name,
        actor: data.actor,
        allowNoFeedback: data.allowNoFeedback,
        command: data.command,
        provenance: lease(job),
        onProgress: (message) => progress(job, { message }),
      });
      return queuedRetrainOf(result);
    }
    throw new Error(`unknown job kind "${job.name}" (a newer sapphire may have queued it)`);
  };

  const processStudy = async (job: Job): Promise<unknown> => {
    emit({ type: 'active', worker: id, job: job.id ?? '?', name: job.name, attempt: job.attemptsMade + 1 });
    const data = job.data as StudyJobData;
    const { runQueuedStudy } = await import('./queued-study.ts');
    const study: StudyOptions = {
      store,
      context: { ...baseContext, card: data.card },
      name: data.name,
      tags: data.tags,
      command: data.command,
      resumeStudyId: data.studyId,
      runner: queueRunner({ url: options.url, name: options.name, card: data.card, attempts: data.attempts }),
      onStudyCreated: async (study) => {
        if (!data.studyId) await job.updateData({ ...data, studyId: study.id });
        progress(job, { studyId: study.id });
      },
      onEvent: (event) => progress(job, event),
    };
    return runQueuedStudy(data.study, study);
  };

  const workerOptions = {
    connection,
    concurrency,
    lockDuration,
    stalledInterval: options.stalledIntervalMs ?? Math.max(500, Math.floor(lockDuration / 2)),
    maxStalledCount: DEFAULT_ATTEMPTS - 1,
  };
  const work = new Worker(names.work, processWork, workerOptions);
  const studies = new Worker(names.studies, processStudy, { ...workerOptions, concurrency: 16 });
  for (const worker of [work, studies]) {
    worker.on('completed', (job, value) =>
      emit({
        type: 'completed',
        worker: id,
        job: job.id ?? '?',
        name: job.name,
        status: (value as { status?: string } | undefined)?.status,
      }),
    );
    worker.on('failed', (job, error) =>
      emit({
        type: 'failed',
        worker: id,
        job: job?.id ?? '?',
        name: job?.name ?? '?',
        error: error.message,
        willRetry: job ? job.attemptsMade < (job.opts.attempts ?? 1) : false,
      }),
    );
    worker.on('error', (error) => emit({ type: 'error', worker: id, error: messageOf(error) }));
  }
  await Promise.all([work.waitUntilReady(), studies.waitUntilReady()]);
  emit({ type: 'ready', worker: id, queue: names.work });
  let closing: Promise<void> | null = null;
  return {
    id,
    close() {
      closing ??= (async () => {
        await Promise.all([studies.close(), work.close()]);
        await Promise.all(children.map((c) => c.stop()));
        await store.close();
      })();
      return closing;
    },
  };
}

/** Fails the runs an earlier attempt of a queue job left running (its worker died mid-job). */
async function failEarlierAttempts(store: Store, job: Job): Promise<void> {
  for (const run of await store.listRuns({ status: 'running' })) {
    const lease = run.provenance.lease as { job?: unknown; queue?: unknown } | undefined;
    if (lease?.job === job.id && lease?.queue === job.queueName)
      await store
        .finishRun(run.id, { status: 'failed', error: 'its worker died; the queue retried the job' })
        .catch(() => undefined);
  }
}
