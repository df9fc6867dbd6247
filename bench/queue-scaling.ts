/**
 * Scale-out speed: a 24-trial sweep (linear.v1, logistic loss, a synthetic 3-class topic set) on 1 and on 2
 * `sapphire worker` processes through Redis/BullMQ with a PostgreSQL store, side by side with the same sweep on the
 * local process pool (`--workers 1` and `--workers 2`, the reference in the same run); then the queue's overhead per
 * job with no-op jobs on one worker: bulk (200 jobs enqueued at once, wall ÷ jobs) and sequential round trip (add →
 * completed event, one at a time).
 *
 * Needs Redis and PostgreSQL:
 *   export SAPPHIRE_TEST_REDIS_URL=$(bash scripts/start-redis.sh) SAPPHIRE_TEST_PG_URL=$(bash scripts/start-postgres.sh)
 *   node --import tsx bench/queue-scaling.ts [--trials 24] [--epochs 30] [--per-class 200]
 * Writes bench/results/queue-scaling.json and prints a markdown table.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import type { JobContext } from '../src/experiments/jobs.ts';
import { parseGridSpec } from '../src/experiments/search-space.ts';
import { runSweep } from '../src/experiments/sweep.ts';
import { queueRunner, redisConnection } from '../src/jobs/queue.ts';
import { openStore } from '../src/store/open-store.ts';
import {
  freshPgStore,
  freshQueueName,
  PG_URL,
  REDIS_URL,
  startWorkerProcess,
  tempFolder,
  topicCard,
  topicConfig,
  topicExamples,
  type WorkerProcess,
} from '../test/jobs/scale-out-helpers.ts';

const REPO = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
function flag(name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] as string) : fallback;
}
const TRIALS = Number(flag('--trials', '24'));
const EPOCHS = Number(flag('--epochs', '30'));
const PER_CLASS = Number(flag('--per-class', '200'));
const NOOPS = Number(flag('--noops', '200'));
const ROUND_TRIPS = Number(flag('--round-trips', '30'));

if (!REDIS_URL || !PG_URL) {
  console.error(
    'set SAPPHIRE_TEST_REDIS_URL and SAPPHIRE_TEST_PG_URL: export SAPPHIRE_TEST_REDIS_URL=$(bash scripts/start-redis.sh) SAPPHIRE_TEST_PG_URL=$(bash scripts/start-postgres.sh)',
  );
  process.exit(2);
}

const pgStore = await freshPgStore();
const project = await tempFolder('sapphire-bench-queue-');
const artifacts = join(project.dir, 'artifacts');
const store = await openStore({ uri: pgStore.uri, projectDir: project.dir, artifactsDir: artifacts });
const context: JobContext = { projectDir: project.dir, storeUri: pgStore.uri, artifacts, card: topicCard };
const seeds = Array.from({ length: TRIALS }, (_, i) => i + 1);
const search = { mode: 'grid' as const, dimensions: [parseGridSpec(`seed=[${seeds.join(',')}]`)] };
const results: Record<string, number> = {};
const load: Record<string, number[]> = {};

async function timed(label: string, work: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  await work();
  results[label] = (performance.now() - started) / 1000;
  load[label] = loadavg().map((l) => Math.round(l * 10) / 10);
  console.error(`${label}: ${results[label].toFixed(2)} s (load ${load[label].join(' ')})`);
}

async function withWorkers(count: number, work: (queueName: string) => Promise<void>): Promise<void> {
  const queueName = freshQueueName();
  const workers: WorkerProcess[] = [];
  try {
    for (let i = 0; i < count; i++)
      workers.push(
        await startWorkerProcess({
          queueUrl: REDIS_URL as string,
          queueName,
          storeUri: pgStore.uri,
          artifacts,
          workDir: project.dir,
          id: `bench-${i + 1}`,
          lockDurationMs: 30_000,
        }),
      );
    await work(queueName);
  } finally {
    for (const w of workers) await w.stop();
  }
}

try {
  await store.putDatasetVersion({
    name: 'topics',
    examples: topicExamples(PER_CLASS),
    operation: { kind: 'import', params: {} },
  });
  const config = topicConfig(EPOCHS);
  for (const workers of [1, 2]) {
    await timed(`local pool, ${workers} process(es)`, () =>
      runSweep(config, search, { store, context, workers }),
    );
    await withWorkers(workers, (queueName) =>
      timed(`queue, ${workers} worker(s)`, () =>
        runSweep(config, search, {
          store,
          context,
          runner: queueRunner({ url: REDIS_URL as string, name: queueName, card: topicCard, pollMs: 250 }),
        }),
      ),
    );
  }

  await withWorkers(1, async (queueName) => {
    const connection = redisConnection(REDIS_URL as string);
    const queue = new Queue(queueName, { connection });
    const events = new QueueEvents(queueName, { connection });
    await events.waitUntilReady();
    try {
      const done = new Set<string>();
      let all: () => void = () => undefined;
      events.on('completed', ({ jobId }) => {
        done.add(jobId);
        if (done.size >= NOOPS) all();
      });
      await timed(`${NOOPS} no-op jobs, bulk`, async () => {
        const finished = new Promise<void>((r) => {
          all = r;
        });
        await queue.addBulk(
          Array.from({ length: NOOPS }, (_, i) => ({ name: 'noop', data: {}, opts: { jobId: `bulk-${i}` } })),
        );
        await finished;
      });
      events.removeAllListeners('completed');
      await timed(`${ROUND_TRIPS} no-op round trips`, async () => {
        for (let i = 0; i < ROUND_TRIPS; i++) {
          const job = await queue.add('noop', {}, { jobId: `trip-${i}` });
          await job.waitUntilFinished(events);
        }
      });
    } finally {
      await events.close();
      await queue.close();
    }
  });

  const perJobBulk = ((results[`${NOOPS} no-op jobs, bulk`] as number) * 1000) / NOOPS;
  const perTrip = ((results[`${ROUND_TRIPS} no-op round trips`] as number) * 1000) / ROUND_TRIPS;
  const q1 = results['queue, 1 worker(s)'] as number;
  const q2 = results['queue, 2 worker(s)'] as number;
  const l1 = results['local pool, 1 process(es)'] as number;
  const l2 = results['local pool, 2 process(es)'] as number;
  const summary = {
    trials: TRIALS,
    epochs: EPOCHS,
    examples: PER_CLASS * 3,
    seconds: results,
    loadAverage: load,
    ratios: {
      queueSpeedup2vs1: q1 / q2,
      localSpeedup2vs1: l1 / l2,
      queueVsLocal1: q1 / l1,
      queueVsLocal2: q2 / l2,
    },
    overheadMs: { perJobBulk, perRoundTrip: perTrip },
  };
  writeFileSync(
    join(REPO, 'bench', 'results', 'queue-scaling.json'),
    `${JSON.stringify(summary, null, 2)}\n`,
  );
  console.log(`| setup | wall (s) | load avg (1/5/15 min) |\n|---|---:|---|`);
  for (const [label, seconds] of Object.entries(results))
    console.log(`| ${label} | ${seconds.toFixed(2)} | ${load[label]?.join(' / ')} |`);
  console.log(
    `\nqueue 2 vs 1 worker: ×${summary.ratios.queueSpeedup2vs1.toFixed(2)}; local 2 vs 1: ×${summary.ratios.localSpeedup2vs1.toFixed(2)}; ` +
      `queue ÷ local: ${summary.ratios.queueVsLocal1.toFixed(2)} (1), ${summary.ratios.queueVsLocal2.toFixed(2)} (2); ` +
      `no-op overhead: ${perJobBulk.toFixed(2)} ms/job in bulk, ${perTrip.toFixed(1)} ms per round trip`,
  );
} finally {
  await store.close();
  await pgStore.cleanup();
  await project.cleanup();
}
