/** Entry of a data-parallel training thread (see data-parallel.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { runDataParallelWorker } from './data-parallel.ts';

if (parentPort) await runDataParallelWorker(workerData, parentPort);
