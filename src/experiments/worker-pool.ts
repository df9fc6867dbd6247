import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { SapphireError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import type { FromWorker, ToWorker } from './job-worker.ts';
import {
  type JobContext,
  type JobEvent,
  type JobResult,
  recordFailedJob,
  runTrainJob,
  type TrainJob,
} from './jobs.ts';

/** Options for {@link runJobs}. */
export interface RunJobsOptions {
  context: JobContext;
  /** The parent's store: records jobs whose worker died. */
  store: Store;
  /** Worker processes (default: one per core, at most one per job); 0 runs the jobs one by one in this process. */
  workers?: number;
  onEvent?: (event: JobEvent) => void;
  /** The worker entry point (tests use a stand-in that crashes on purpose). */
  workerScript?: string;
}

const WORKER_SCRIPT = fileURLToPath(new URL('./job-worker.ts', import.meta.url));

/** How many local workers to start for a number of jobs: `requested`, else one per core, never more than jobs. */
export function workerCount(jobs: number, requested?: number): number {
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 0)) {
    throw new SapphireError('BAD_INPUT', `--workers ${requested} is not a whole number ≥ 0`, {
      hint: 'use 0 to run in this process, or e.g. 2 for two worker processes',
    });
  }
  return Math.min(requested ?? availableParallelism(), jobs);
}

/**
 * Runs training jobs on local worker processes (both cores by default) and returns one result per job, in job
 * order. A job that fails is a failed result; a worker that dies mid-job (killed, out of memory) fails that job's
 * run with the reason and is replaced, so the rest of the study still finishes.
 *
 * @example
 * const results = await runJobs(jobs, { context, store, onEvent: (e) => render(e) });
 */
export async function runJobs(jobs: TrainJob[], options: RunJobsOptions): Promise<JobResult[]> {
  const ids = new Set<string>();
  for (const job of jobs) {
    if (ids.has(job.id))
      throw new SapphireError('BAD_INPUT', `two jobs share the id "${job.id}"`, {
        hint: 'give every job its own id',
      });
    ids.add(job.id);
  }
  const workers = workerCount(jobs.length, options.workers);
  const onEvent = options.onEvent ?? (() => undefined);
  if (workers === 0) {
    const results: JobResult[] = [];
    for (const job of jobs) {
      const result = await runTrainJob(options.store, options.context, job, onEvent);
      onEvent({ type: 'finished', result });
      results.push(result);
    }
    return results;
  }
  return new LocalPool(jobs, workers, options, onEvent).run();
}

/** Dispatches jobs to child processes and replaces workers that die. */
class LocalPool {
  private readonly pending: TrainJob[];
  private readonly results = new Map<string, JobResult>();
  private respawns = 0;
  private live = 0;
  private resolve!: (results: JobResult[]) => void;
  private reject!: (error: unknown) => void;
  private settled = false;

  constructor(
    private readonly jobs: TrainJob[],
    private readonly size: number,
    private readonly options: RunJobsOptions,
    private readonly onEvent: (event: JobEvent) => void,
  ) {
    this.pending = [...jobs];
  }

  run(): Promise<JobResult[]> {
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      for (let i = 0; i < this.size; i++) this.spawn();
    });
  }

  private spawn(): void {
    const tsx = import.meta.resolve('tsx');
    const child = fork(this.options.workerScript ?? WORKER_SCRIPT, [], {
      execArgv: ['--import', tsx],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.live++;
    let current: { job: TrainJob; runId: string | null } | null = null;
    let fatal: string | null = null;
    const send = (message: ToWorker) => child.connected && child.send(message);
    const next = () => {
      const job = this.pending.shift();
      if (!job) {
        current = null;
        send({ type: 'exit' });
        return;
      }
      current = { job, runId: null };
      send({ type: 'job', job });
    };
    child.on('message', (message: FromWorker) => {
      if (message.type === 'ready') next();
      else if (message.type === 'fatal') fatal = message.error;
      else {
        if (message.type === 'started' && current) current.runId = message.runId;
        if (message.type === 'finished') this.results.set(message.result.jobId, message.result);
        this.onEvent(message);
        if (message.type === 'finished') next();
      }
    });
    child.on('error', (error) => {
      fatal ??= error.message;
    });
    child.on('close', (code, signal) => {
      this.live--;
      void this.afterExit(child, current, fatal, code, signal);
      current = null;
    });
    send({ type: 'init', context: this.options.context });
  }

  private async afterExit(
    child: ChildProcess,
    current: { job: TrainJob; runId: string | null } | null,
    fatal: string | null,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): Promise<void> {
    try {
      if (current) {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const error = `worker process ${child.pid} ${how} while running this job${fatal ? `: ${fatal}` : ''}`;
        const { store, context } = this.options;
        let runId = current.runId;
        if (runId) await store.finishRun(runId, { status: 'failed', error }).catch(() => undefined);
        else runId = await recordFailedJob(store, context, current.job, error);
        const result: JobResult = {
          jobId: current.job.id,
          runId,
          status: 'failed',
          metrics: {},
          error,
          seconds: 0,
        };
        this.results.set(result.jobId, result);
        this.onEvent({ type: 'finished', result });
      } else if (fatal && this.results.size === 0 && this.respawns === 0 && this.live === 0) {
        throw new SapphireError('INTERNAL', `the worker processes could not start: ${fatal}`, {
          hint: 'rerun with --workers 0 to run in this process and see the full error',
        });
      }
      if (this.pending.length > 0 && this.live < this.size) {
        if (this.respawns++ > this.jobs.length) {
          throw new SapphireError('INTERNAL', `worker processes keep dying (${this.respawns} restarts)`, {
            hint: 'rerun with --workers 0 to run in this process and see the error',
          });
        }
        this.spawn();
      }
      this.finishIfDone();
    } catch (error) {
      if (!this.settled) {
        this.settled = true;
        this.reject(error);
      }
    }
  }

  private finishIfDone(): void {
    if (this.settled || this.live > 0) return;
    if (this.pending.length > 0) return;
    this.settled = true;
    this.resolve(this.jobs.map((job) => this.results.get(job.id) as JobResult));
  }
}
