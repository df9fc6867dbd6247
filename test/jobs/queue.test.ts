/** The BullMQ queue on a real Redis: failing jobs, detached studies followed with `study watch`, queued retraining. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writeProblemCard } from '../../src/core/project.ts';
import { MEMBER_KEY, type TrainJob } from '../../src/experiments/jobs.ts';
import {
  enqueue,
  followJob,
  type QueuedRetrain,
  queueRunner,
  type RetrainJobData,
} from '../../src/jobs/queue.ts';
import { startQueueWorker, type WorkerEvent } from '../../src/jobs/queue-worker.ts';
import { promoteVersion } from '../../src/registry/promotion.ts';
import { registerModelVersion } from '../../src/registry/register.ts';
import { openStore } from '../../src/store/open-store.ts';
import { trainModel } from '../../src/train/train.ts';
import { REPO } from '../cli/helpers.ts';
import {
  freshQueueName,
  REDIS_URL,
  tempFolder,
  topicCard,
  topicConfig,
  topicExamples,
} from './scale-out-helpers.ts';

const SKIP = REDIS_URL
  ? false
  : 'set SAPPHIRE_TEST_REDIS_URL to run it: export SAPPHIRE_TEST_REDIS_URL=$(bash scripts/start-redis.sh)';
/** Runs the CLI with --json without blocking this process (whose in-process worker must keep working). */
async function sapphireJson<T>(cwd: string, ...args: string[]): Promise<T> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(REPO, 'bin', 'sapphire.js'), '--json', ...args],
    {
      cwd,
      env: { ...process.env, SAPPHIRE_STORE: '' },
      timeout: 120_000,
    },
  );
  return JSON.parse(stdout) as T;
}

const CRASHING = fileURLToPath(new URL('../fixtures/workers/crashing-worker.ts', import.meta.url));

/** A project folder with the topic dataset in its SQLite store (shared with in-process workers by file). */
async function topicProject() {
  const folder = await tempFolder('sapphire-queue-lib-');
  writeProblemCard(folder.dir, topicCard);
  const storeUri = `sqlite:${join(folder.dir, '.sapphire', 'sapphire.db')}`;
  const store = await openStore({ uri: storeUri, projectDir: folder.dir });
  await store.putDatasetVersion({
    name: 'topics',
    examples: topicExamples(20),
    operation: { kind: 'import', params: {} },
  });
  return {
    ...folder,
    store,
    storeUri,
    async close() {
      await store.close();
      await folder.cleanup();
    },
  };
}

/** A fresh project and a queue worker on a fresh queue (with `extra` settings) for `run`; both closed after it. */
async function withQueueWorker(
  run: (project: Awaited<ReturnType<typeof topicProject>>, name: string) => Promise<void>,
  extra: Partial<Parameters<typeof startQueueWorker>[0]> = {},
): Promise<void> {
  const project = await topicProject();
  const name = freshQueueName();
  const worker = await startQueueWorker({
    url: REDIS_URL as string,
    name,
    storeUri: project.storeUri,
    workDir: project.dir,
    ...extra,
  });
  try {
    await run(project, name);
  } finally {
    await worker.close();
    await project.close();
  }
}

describe('queue', { skip: SKIP }, () => {
  test('a job whose training process dies on every attempt is marked failed with the reason after N attempts', async () => {
    const events: string[] = [];
    const onEvent = (e: WorkerEvent) =>
      events.push(`${e.type}${e.type === 'failed' ? `:${e.willRetry}` : ''}`);
    await withQueueWorker(
      async (project, name) => {
        const study = await project.store.createRun({ kind: 'sweep' });
        const job: TrainJob = {
          id: 'trial-crash-before',
          config: topicConfig(),
          record: { kind: 'trial', parentId: study.id },
        };
        const context = { projectDir: project.dir, storeUri: project.storeUri, card: topicCard };
        const [result] = await queueRunner({
          url: REDIS_URL as string,
          name,
          card: topicCard,
          attempts: 2,
          pollMs: 200,
        })([job], { store: project.store, context });
        assert.equal(result?.status, 'failed');
        assert.match(result?.error ?? '', /queue gave up.*training process \d+ exited with code 3/);
        assert.deepEqual(
          events.filter((e) => e.startsWith('failed')),
          ['failed:true', 'failed:false'],
          'retried once, then failed for good',
        );
        const members = await project.store.listRuns({ parentId: study.id });
        assert.equal(members.length, 1, 'the failed job is recorded once');
        assert.equal(members[0]?.status, 'failed');
        assert.equal(members[0]?.provenance[MEMBER_KEY], 'trial-crash-before');
      },
      { jobScript: CRASHING, onEvent },
    );
  });

  test('sweep --queue --detach returns at once; study watch follows it to the end; cv --queue waits for its folds', async () => {
    await withQueueWorker(async (project, name) => {
      await import('node:fs/promises').then((fs) =>
        fs.writeFile(
          join(project.dir, 'topics.yaml'),
          'model:\n  architecture: linear.v1\n  features: { hashBits: 12 }\ndata:\n  dataset: topics\n',
        ),
      );
      const queueArgs = ['--queue', REDIS_URL as string, '--queue-name', name];
      const detached = await sapphireJson<{ job: string; study: string | null }>(
        project.dir,
        'sweep',
        'topics.yaml',
        '--grid',
        'model.C=[0.1,1,10]',
        ...queueArgs,
        '--detach',
      );
      assert.ok(detached.study, `a worker started the study (job ${detached.job})`);
      const watched = await sapphireJson<{ status: string; members: { finished: number; failed: number } }>(
        project.dir,
        'study',
        'watch',
        detached.study as string,
      );
      assert.equal(watched.status, 'finished');
      assert.deepEqual(watched.members, { finished: 3, failed: 0 });
      const study = await project.store.getRun(detached.study as string);
      assert.equal(study.metrics.members, 3);

      // Attached: `cv --queue` sends the folds to the worker and prints the result when they are done.
      const cv = await sapphireJson<{ status: string; folds: { status: string; run: string }[] }>(
        project.dir,
        'cv',
        'topics.yaml',
        '--folds',
        '2',
        ...queueArgs,
      );
      assert.equal(cv.status, 'finished');
      assert.deepEqual(
        cv.folds.map((f) => f.status),
        ['finished', 'finished'],
      );
      const fold = await project.store.getRun(cv.folds[0]?.run as string);
      assert.equal(
        (fold.provenance.lease as { kind?: string } | undefined)?.kind,
        'bullmq',
        'trained by the worker',
      );
    });
  });

  test('a retraining runs on a worker and its outcome comes back to the submitter', async () => {
    await withQueueWorker(async (project, name) => {
      const base = { tenant: 'default', name: 'topics', actor: 'user:test' };
      const trained = await trainModel({
        store: project.store,
        card: topicCard,
        config: topicConfig(),
        projectDir: project.dir,
        writeModelDir: false,
      });
      await registerModelVersion(project.store, { ...base, source: trained.run.id, cwd: project.dir });
      const first = await promoteVersion({
        ...base,
        card: topicCard,
        store: project.store,
        projectDir: project.dir,
        ref: 'topics@1',
        force: true,
        reason: 'test setup',
      });
      assert.ok(first.promoted, 'v1 is production');
      const data: RetrainJobData = { card: topicCard, ...base, allowNoFeedback: true, command: null };
      const job = await enqueue({ url: REDIS_URL as string, name }, 'work', 'retrain', data, 2);
      const messages: string[] = [];
      const outcome = await followJob<QueuedRetrain>(
        { url: REDIS_URL as string, name },
        'work',
        job.id as string,
        (p) => {
          if ('message' in p) messages.push(p.message);
        },
      );
      assert.equal(outcome.from, 1);
      assert.equal(outcome.version, 2);
      const run = await project.store.getRun(outcome.run);
      assert.equal(run.kind, 'retrain');
      assert.equal((run.provenance.lease as { job?: string }).job, job.id, 'the run names its queue job');
      assert.ok(messages.length > 0, 'progress messages reached the submitter');
    });
  });
});
