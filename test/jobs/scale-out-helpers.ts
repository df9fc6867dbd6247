/** Shared setup of the scale-out tests: real Redis and PostgreSQL (from env URLs), worker processes, a topic dataset. */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { problemCardSchema } from '../../src/core/project.ts';
import type { Example } from '../../src/data/types.ts';
import type { WorkerEvent } from '../../src/jobs/queue-worker.ts';
import { trainConfigSchema } from '../../src/train/train-config.ts';
import { REPO } from '../cli/helpers.ts';

/** The Redis and PostgreSQL URLs of the test services, or the reason the tests skip. */
export const REDIS_URL = process.env.SAPPHIRE_TEST_REDIS_URL;
export const PG_URL = process.env.SAPPHIRE_TEST_PG_URL;
export const SKIP_SERVICES =
  !REDIS_URL || !PG_URL
    ? 'set SAPPHIRE_TEST_REDIS_URL and SAPPHIRE_TEST_PG_URL to run it: export SAPPHIRE_TEST_REDIS_URL=$(bash scripts/start-redis.sh) SAPPHIRE_TEST_PG_URL=$(bash scripts/start-postgres.sh)'
    : false;

const TOPICS: Record<string, string[]> = {
  fruit: ['apple', 'banana', 'cherry', 'mango', 'pear', 'plum', 'grape', 'lime'],
  vehicle: ['car', 'truck', 'bus', 'bike', 'train', 'tram', 'ferry', 'scooter'],
  color: ['red', 'blue', 'green', 'yellow', 'purple', 'orange', 'cyan', 'pink'],
};
const FILLERS = ['i like the', 'look at that', 'we saw a', 'there is one', 'my favourite is the', 'near the'];

/** `perClass` short texts per class in three classes with train/dev/test splits (deterministic). */
export function topicExamples(perClass = 40): Example[] {
  const out: Example[] = [];
  let n = 0;
  for (const [label, words] of Object.entries(TOPICS)) {
    for (let i = 0; i < perClass; i++) {
      const text = `${FILLERS[i % FILLERS.length]} ${words[i % words.length]} and ${words[(i * 7 + 3) % words.length]} ${i}`;
      const split = i % 10 < 6 ? 'train' : i % 10 < 8 ? 'dev' : 'test';
      out.push({ id: `x${n++}`, text, labels: [label], split, meta: {} });
    }
  }
  return out;
}

/** The problem card of the topic dataset. */
export const topicCard = problemCardSchema.parse({
  name: 'topics',
  task: 'classify',
  labels: ['color', 'fruit', 'vehicle'],
});

/** A linear.v1 config on the topic dataset; `epochs` SGD passes make each training last a little while. */
export function topicConfig(epochs = 5) {
  return trainConfigSchema.parse({
    model: {
      architecture: 'linear.v1',
      loss: 'logistic',
      features: { hashBits: 14 },
      trainer: { epochs, patience: epochs },
    },
    data: { dataset: 'topics' },
  });
}

/** A PostgreSQL schema of its own (through search_path) for one test; drop it with `cleanup`. */
export async function freshPgStore(): Promise<{ uri: string; cleanup: () => Promise<void> }> {
  const url = PG_URL as string;
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  const schema = `sapphire_scale_${process.pid}_${randomBytes(3).toString('hex')}`;
  await admin.query(`create schema "${schema}"`);
  const separator = url.includes('?') ? '&' : '?';
  return {
    uri: `${url}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    cleanup: async () => {
      await admin.query(`drop schema if exists "${schema}" cascade`);
      await admin.end();
    },
  };
}

/** A queue name no other test uses. */
export function freshQueueName(): string {
  return `t${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** A temporary folder removed by `cleanup`. */
export async function tempFolder(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A `sapphire worker --json` process with its events. */
export interface WorkerProcess {
  child: ChildProcess;
  id: string;
  events: WorkerEvent[];
  /** Resolves with the first event that matches. */
  waitFor(match: (event: WorkerEvent) => boolean, timeoutMs?: number): Promise<WorkerEvent>;
  /** SIGKILLs the worker and its training process (its whole process group, as a dying pod). */
  kill(): void;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/** Starts `sapphire worker` as a separate process (its own process group) and waits until it listens. */
export async function startWorkerProcess(options: {
  queueUrl: string;
  queueName: string;
  storeUri: string;
  artifacts: string;
  workDir: string;
  id: string;
  lockDurationMs?: number;
}): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    [
      join(REPO, 'bin', 'sapphire.js'),
      '--json',
      '--store',
      options.storeUri,
      'worker',
      '--queue',
      options.queueUrl,
      '--queue-name',
      options.queueName,
      '--artifacts',
      options.artifacts,
      '--lock-duration',
      String(options.lockDurationMs ?? 2000),
      '--id',
      options.id,
    ],
    { cwd: options.workDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } },
  );
  const events: WorkerEvent[] = [];
  const waiters: { match: (e: WorkerEvent) => boolean; resolve: (e: WorkerEvent) => void }[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    let event: WorkerEvent;
    try {
      event = JSON.parse(line) as WorkerEvent;
    } catch {
      return;
    }
    events.push(event);
    for (const waiter of [...waiters])
      if (waiter.match(event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waitFor = (match: (e: WorkerEvent) => boolean, timeoutMs = 60_000) =>
    new Promise<WorkerEvent>((resolve, reject) => {
      const found = events.find(match);
      if (found) return resolve(found);
      const timer = setTimeout(
        () =>
          reject(new Error(`worker ${options.id}: no matching event in ${timeoutMs} ms; stderr: ${stderr}`)),
        timeoutMs,
      );
      timer.unref();
      waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`worker ${options.id} exited; stderr: ${stderr}`));
      });
    });
  const worker: WorkerProcess = {
    child,
    id: options.id,
    events,
    waitFor,
    kill() {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  await waitFor((e) => e.type === 'ready');
  return worker;
}
