/**
 * The distributed queue (ADR 0011): study members, retrainings and coordinators travel as BullMQ jobs in Redis;
 * `sapphire worker` processes run them against a shared store. This module holds the names, the job payloads
 * and the submitting side (enqueue and follow).
 */
import { randomBytes } from 'node:crypto';
import { type Job, Queue, QueueEvents } from 'bullmq';
import { SapphireError } from '../core/errors.ts';
import type { ProblemCard } from '../core/project.ts';
import {
  type JobEvent,
  type JobResult,
  memberRuns,
  recordFailedJob,
  type TrainJob,
} from '../experiments/jobs.ts';
import type { JobRunner } from '../experiments/study.ts';
import {
  DEFAULT_ATTEMPTS,
  DEFAULT_QUEUE_NAME,
  type QueueConnection,
  type QueueProgress,
  redactUrl,
  type StudyJobData,
  type TrainJobData,
} from './queue-config.ts';

export * from './queue-config.ts';

/** Checks a Redis URL and returns the BullMQ connection options for it. */
export function redisConnection(url: string) {
  if (!/^rediss?:\/\/[^\s]+$/.test(url)) {
    throw new SapphireError('CONFIG_INVALID', `"${redactUrl(url)}" is not a Redis URL`, {
      hint: 'use --queue redis://host:6379 (or rediss:// for TLS); start a local one with scripts/start-redis.sh',
    });
  }
  // BullMQ's blocking connections need unlimited retries per request.
  return { url, maxRetriesPerRequest: null };
}

/** The work queue's name and the coordinators' queue name of a connection. */
export function queueNames(connection: QueueConnection): { work: string; studies: string } {
  const name = connection.name ?? DEFAULT_QUEUE_NAME;
  if (!/^[A-Za-z0-9_-]+$/.test(name))
    throw new SapphireError('BAD_INPUT', `queue name "${name}" may only use letters, digits, _ and -`, {
      hint: 'e.g. --queue-name sapphire',
    });
  return { work: name, studies: `${name}-studies` };
}

/** How long finished jobs stay in Redis (results are in the store; these are for following and debugging). */
export const KEEP_JOBS = { age: 7 * 24 * 3600, count: 10_000 };

/** BullMQ options of a job: attempts with a short fixed back-off, deterministic id, bounded retention. */
export function jobOptions(jobId: string, attempts: number) {
  if (!Number.isInteger(attempts) || attempts < 1)
    throw new SapphireError('BAD_INPUT', `--attempts ${attempts} must be a whole number ≥ 1`, {
      hint: 'e.g. --attempts 3',
    });
  return {
    jobId: jobId.replaceAll(':', '_'),
    attempts,
    backoff: { type: 'fixed' as const, delay: 500 },
    removeOnComplete: KEEP_JOBS,
    removeOnFail: KEEP_JOBS,
  };
}

/** The queue job id of a study member: stable, so a resubmitted or resumed study never enqueues it twice. */
export function memberJobId(studyId: string, memberId: string): string {
  return `${studyId}~${memberId}`;
}

/** Options of {@link queueRunner}. */
export interface QueueRunnerOptions extends QueueConnection {
  card: ProblemCard;
  /** Attempts per job (default {@link DEFAULT_ATTEMPTS}). */
  attempts?: number;
  /** How often outstanding jobs are polled, besides the queue's events (default 1000 ms). */
  pollMs?: number;
}

/**
 * A study job runner that sends the jobs to `sapphire worker` processes through BullMQ instead of local
 * processes, forwards their progress, and returns one result per job in order. A job whose attempts are all
 * used up (its workers kept dying) gets its member run marked failed with the queue's reason.
 *
 * @example
 * await runSweep(config, search, { store, context, runner: queueRunner({ url: 'redis://127.0.0.1:6379', card }) });
 */
export function queueRunner(options: QueueRunnerOptions): JobRunner {
  return async (jobs, runOptions) => {
    const connection = redisConnection(options.url);
    const { work } = queueNames(options);
    const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
    const onEvent = runOptions.onEvent ?? (() => undefined);
    const queue = new Queue(work, { connection });
    const events = new QueueEvents(work, { connection });
    const batch = randomBytes(4).toString('hex');
    const byQueueId = new Map<string, TrainJob>();
    const results = new Map<string, JobResult>();
    for (const job of jobs) {
      const parent = job.record.parentId ?? `adhoc-${batch}`;
      byQueueId.set(jobOptions(memberJobId(parent, job.id), attempts).jobId, job);
    }
    let wake: () => void = () => undefined;
    const settle = async (queueId: string, outcome: { result?: JobResult; reason?: string }) => {
      const job = byQueueId.get(queueId);
      if (!job || results.has(job.id)) return;
      let result = outcome.result;
      if (!result) result = await failedResult(runOptions.store, runOptions.context, job, outcome.reason);
      if (results.has(job.id)) return;
      results.set(job.id, result);
      onEvent({ type: 'finished', result });
      wake();
    };
    const check = async (queueId: string) => {
      const job = await queue.getJob(queueId);
      if (!job) return settle(queueId, { reason: 'the job disappeared from the queue' });
      const state = await job.getState();
      if (state === 'completed') await settle(queueId, { result: job.returnvalue as JobResult });
      else if (state === 'failed') await settle(queueId, { reason: job.failedReason });
    };
    events.on('progress', ({ jobId, data }) => {
      if (byQueueId.has(jobId) && typeof data === 'object' && data && 'type' in data)
        onEvent(data as JobEvent);
    });
    events.on('completed', ({ jobId }) => {
      if (byQueueId.has(jobId)) void check(jobId).catch(() => undefined);
    });
    events.on('failed', ({ jobId }) => {
      if (byQueueId.has(jobId)) void check(jobId).catch(() => undefined);
    });
    try {
      await events.waitUntilReady();
      await queue.addBulk(
        [...byQueueId].map(([queueId, job]) => ({
          name: 'train',
          data: { card: options.card, job } satisfies TrainJobData,
          opts: { ...jobOptions(queueId, attempts), jobId: queueId },
        })),
      );
      while (results.size < jobs.length) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, options.pollMs ?? 1000).unref();
        });
        for (const [queueId, job] of byQueueId) if (!results.has(job.id)) await check(queueId);
      }
      return jobs.map((job) => results.get(job.id) as JobResult);
    } finally {
      await events.close().catch(() => undefined);
      await queue.close().catch(() => undefined);
    }
  };
}

/** Records a member whose queue job failed for good (every attempt died) and returns its failed result. */
async function failedResult(
  store: import('../store/store.ts').Store,
  context: import('../experiments/jobs.ts').JobContext,
  job: TrainJob,
  reason: string | undefined,
): Promise<JobResult> {
  const error = `the queue gave up on this job: ${reason ?? 'no reason given'}`;
  const parentId = job.record.parentId;
  const existing = parentId ? await memberRuns(store, parentId, job.id) : [];
  const finished = existing.find((run) => run.status === 'finished');
  if (finished)
    return {
      jobId: job.id,
      runId: finished.id,
      status: 'finished',
      metrics: finished.metrics,
      error: null,
      seconds: 0,
    };
  let runId = existing[0]?.id ?? null;
  if (runId) await store.finishRun(runId, { status: 'failed', error }).catch(() => undefined);
  else runId = await recordFailedJob(store, context, job, error);
  return { jobId: job.id, runId, status: 'failed', metrics: {}, error, seconds: 0 };
}

/** Adds one job to the work or studies queue and returns it. */
export async function enqueue(
  connection: QueueConnection,
  which: 'work' | 'studies',
  name: 'retrain' | 'study' | 'noop',
  data: unknown,
  attempts: number,
): Promise<Job> {
  const queue = new Queue(queueNames(connection)[which], { connection: redisConnection(connection.url) });
  try {
    return await queue.add(
      name,
      data,
      jobOptions(`${name}-${Date.now()}-${randomBytes(3).toString('hex')}`, attempts),
    );
  } finally {
    await queue.close();
  }
}

/**
 * Follows one queue job until it completes (returning its value) or fails for good (throwing its reason),
 * forwarding its progress.
 */
export async function followJob<T>(
  connection: QueueConnection,
  which: 'work' | 'studies',
  jobId: string,
  onProgress: (progress: QueueProgress) => void = () => undefined,
  pollMs = 500,
): Promise<T> {
  const conn = redisConnection(connection.url);
  const name = queueNames(connection)[which];
  const queue = new Queue(name, { connection: conn });
  const events = new QueueEvents(name, { connection: conn });
  let wake: () => void = () => undefined;
  events.on('progress', ({ jobId: id, data }) => {
    if (id === jobId) onProgress(data as QueueProgress);
  });
  events.on('completed', ({ jobId: id }) => id === jobId && wake());
  events.on('failed', ({ jobId: id }) => id === jobId && wake());
  try {
    await events.waitUntilReady();
    for (;;) {
      const job = await queue.getJob(jobId);
      if (!job)
        throw new SapphireError('NOT_FOUND', `queue job ${jobId} is not in queue ${name}`, {
          hint: 'check the id and --queue/--queue-name; finished jobs are kept for 7 days',
        });
      const state = await job.getState();
      if (state === 'completed') return job.returnvalue as T;
      if (state === 'failed')
        throw new SapphireError('INTERNAL', `queue job ${jobId} failed: ${job.failedReason}`, {
          hint: `it was tried ${job.attemptsMade} time(s); see the worker logs`,
        });
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, pollMs).unref();
      });
    }
  } finally {
    await events.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
  }
}

/**
 * Waits until a worker has picked up a study coordinator job and created its study run; returns the study id, or
 * null when no worker did within `timeoutMs`.
 */
export async function waitForStudyId(
  connection: QueueConnection,
  jobId: string,
  timeoutMs: number,
): Promise<string | null> {
  const queue = new Queue(queueNames(connection).studies, { connection: redisConnection(connection.url) });
  try {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const job = await queue.getJob(jobId);
      const studyId = (job?.data as StudyJobData | undefined)?.studyId;
      if (studyId) return studyId;
      if (performance.now() > until) return null;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await queue.close();
  }
}
