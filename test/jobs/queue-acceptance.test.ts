/**
 * Acceptance test of the distributed queue on real services: two `sapphire worker` processes, a 12-trial sweep,
 * one worker SIGKILLed mid-trial; every trial must end exactly once, with its results in PostgreSQL.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { MEMBER_KEY } from '../../src/experiments/jobs.ts';
import { parseGridSpec } from '../../src/experiments/search-space.ts';
import { runSweep } from '../../src/experiments/sweep.ts';
import { queueRunner } from '../../src/jobs/queue.ts';
import { openStore } from '../../src/store/open-store.ts';
import {
  freshPgStore,
  freshQueueName,
  REDIS_URL,
  SKIP_SERVICES,
  startWorkerProcess,
  tempFolder,
  topicCard,
  topicConfig,
  topicExamples,
  type WorkerProcess,
} from './scale-out-helpers.ts';

test('a 12-trial sweep on two worker processes survives one SIGKILLed mid-trial: every trial recorded exactly once in PostgreSQL', {
  skip: SKIP_SERVICES,
  timeout: 240_000,
}, async () => {
  const pgStore = await freshPgStore();
  const project = await tempFolder('sapphire-queue-');
  const artifacts = join(project.dir, 'shared-artifacts');
  const queueName = freshQueueName();
  const workers: WorkerProcess[] = [];
  const store = await openStore({ uri: pgStore.uri, projectDir: project.dir, artifactsDir: artifacts });
  try {
    await store.putDatasetVersion({
      name: 'topics',
      examples: topicExamples(300),
      operation: { kind: 'import', params: {} },
    });
    const common = {
      queueUrl: REDIS_URL as string,
      queueName,
      storeUri: pgStore.uri,
      artifacts,
      workDir: project.dir,
      lockDurationMs: 2000,
    };
    workers.push(await startWorkerProcess({ ...common, id: 'worker-a' }));
    workers.push(await startWorkerProcess({ ...common, id: 'worker-b' }));
    const [a, b] = workers as [WorkerProcess, WorkerProcess];

    // Kill worker A (and its training process) as soon as it reports epoch progress of a trial: mid-trial.
    let killedJob: string | null = null;
    const killer = a
      .waitFor(
        (e) => e.type === 'progress' && 'type' in e.progress && e.progress.type === 'progress',
        120_000,
      )
      .then((event) => {
        killedJob = (event as { job: string }).job;
        a.kill();
      });

    const seeds = Array.from({ length: 12 }, (_, i) => i + 1);
    const sweep = await runSweep(
      topicConfig(40),
      { mode: 'grid', dimensions: [parseGridSpec(`seed=[${seeds.join(',')}]`)] },
      {
        store,
        context: { projectDir: project.dir, storeUri: pgStore.uri, card: topicCard },
        runner: queueRunner({ url: REDIS_URL as string, name: queueName, card: topicCard, pollMs: 250 }),
      },
    );
    await killer;
    assert.ok(killedJob, 'worker A was killed while it trained a trial');

    assert.equal(sweep.trials.length, 12, 'one result per trial');
    const failed = sweep.trials.filter((t) => t.result.status !== 'finished');
    assert.deepEqual(
      failed.map((t) => t.result.error),
      [],
      'every trial finished',
    );
    assert.equal(sweep.study.status, 'finished', `study: ${sweep.study.error}`);

    // Exactly once, in PostgreSQL: 12 member runs, one per trial, all finished with metrics and a stored model.
    const members = await store.listRuns({ parentId: sweep.study.id });
    assert.equal(members.length, 12, `12 member runs, got ${members.map((m) => m.provenance[MEMBER_KEY])}`);
    const keys = new Set(members.map((m) => m.provenance[MEMBER_KEY]));
    assert.equal(keys.size, 12, 'no trial recorded twice');
    for (const run of members) {
      assert.equal(run.status, 'finished', `${run.id}: ${run.error}`);
      assert.ok(typeof run.metrics['dev.macro_f1'] === 'number', `${run.id} has its dev score`);
      const files = await store.listRunArtifacts(run.id);
      assert.ok(
        files.some((f) => f.name.startsWith('model/')),
        `${run.id} has its model files`,
      );
    }
    // The killed trial was finished by worker B after A's lock expired.
    const killedMember = (killedJob as unknown as string).split('~')[1];
    const redone = members.find((m) => m.provenance[MEMBER_KEY] === killedMember);
    assert.equal(
      (redone?.provenance.lease as { worker?: string } | undefined)?.worker,
      b.id,
      `the killed trial ${killedMember} was rerun by worker B`,
    );
    assert.ok(sweep.bestModelDir, 'the best model was materialized from the shared artifacts');
  } finally {
    for (const w of workers) {
      w.kill();
      await w.stop();
    }
    await store.close();
    await pgStore.cleanup();
    await project.cleanup();
  }
});
