/**
 * Entry point of a local worker process (started by `runJobs`): opens the project's store once, then runs the
 * training jobs its parent sends, one at a time, reporting events over IPC.
 */
import '../models/index.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { type JobContext, type JobEvent, runTrainJob, type TrainJob } from './jobs.ts';

/** Messages a parent sends to a worker. */
export type ToWorker =
  | { type: 'init'; context: JobContext }
  | {
      type: 'job';
      job: TrainJob;
      /** The job's own context (a queue job carries its project's card); default: the one from init. */
      context?: JobContext;
      /** Extra provenance recorded with the run (the queue worker and job). */
      provenance?: Record<string, unknown>;
    }
  | { type: 'exit' };
/** Messages a worker sends to its parent. */
export type FromWorker = { type: 'ready' } | { type: 'fatal'; error: string } | JobEvent;

let store: Store | null = null;
let context: JobContext | null = null;

function send(message: FromWorker): void {
  // With a callback, a failed send (the parent just died) is not an unhandled 'error' event that kills us
  // mid-write; the next progress event notices the parent is gone.
  process.send?.(message, undefined, undefined, () => undefined);
}

/** Sends progress, and stops the training (its run fails) once the parent is gone: nobody would use the result. */
function sendOrAbort(message: FromWorker): void {
  if (process.send && !process.connected) throw new Error('the worker process that started this job is gone');
  send(message);
}

// A parent killed with SIGKILL cannot stop us: leave as soon as the event loop notices.
let leaving = false;
process.on('disconnect', () => {
  if (!leaving) void (store?.close() ?? Promise.resolve()).finally(() => process.exit(1));
});

process.on('message', async (message: ToWorker) => {
  try {
    if (message.type === 'init') {
      context = message.context;
      store = await openStore({
        uri: context.storeUri,
        projectDir: context.projectDir,
        artifactsDir: context.artifacts,
      });
      send({ type: 'ready' });
    } else if (message.type === 'job') {
      if (!store || !context) throw new Error('the worker received a job before init');
      const result = await runTrainJob(
        store,
        message.context ?? context,
        message.job,
        sendOrAbort,
        message.provenance,
      );
      send({ type: 'finished', result });
    } else if (message.type === 'exit') {
      leaving = true;
      await store?.close();
      process.disconnect?.();
    }
  } catch (error) {
    send({ type: 'fatal', error: error instanceof Error ? error.message : String(error) });
    process.exitCode = 1;
    leaving = true;
    process.disconnect?.();
  }
});
