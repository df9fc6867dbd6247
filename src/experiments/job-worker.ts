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
  | { type: 'job'; job: TrainJob }
  | { type: 'exit' };
/** Messages a worker sends to its parent. */
export type FromWorker = { type: 'ready' } | { type: 'fatal'; error: string } | JobEvent;

let store: Store | null = null;
let context: JobContext | null = null;

function send(message: FromWorker): void {
  process.send?.(message);
}

process.on('message', async (message: ToWorker) => {
  try {
    if (message.type === 'init') {
      context = message.context;
      store = await openStore({ uri: context.storeUri, projectDir: context.projectDir });
      send({ type: 'ready' });
    } else if (message.type === 'job') {
      if (!store || !context) throw new Error('the worker received a job before init');
      const result = await runTrainJob(store, context, message.job, send);
      send({ type: 'finished', result });
    } else if (message.type === 'exit') {
      await store?.close();
      process.disconnect?.();
    }
  } catch (error) {
    send({ type: 'fatal', error: error instanceof Error ? error.message : String(error) });
    process.exitCode = 1;
    process.disconnect?.();
  }
});
