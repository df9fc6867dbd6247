/**
 * Data-parallel ONNX Runtime scoring: one session per worker thread, batches of a scoring job sent to the
 * workers round robin. onnxruntime-node runs a session on the calling thread, so two sessions on one thread
 * never overlap; on worker threads, two single-threaded sessions use two cores on two batches at once, where
 * one session with two intra-op threads gains little on small batches.
 *
 * @example
 * const pool = await OrtWorkerPool.create(graph.bytes, graph.output, { workers: 2, threads: 1 });
 * const scores = await pool.score(job); // one Float32Array per batch, in order
 * await pool.close();
 */
import { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { SapphireError } from '../../core/errors.ts';
import type { OnnxFeeds, OnnxScoringJob } from './scoring.ts';

const WORKER_URL = new URL('./ort-worker.mjs', import.meta.url);

/**
 * The options of every Sapphire-made ORT session (here and on the worker threads): `threads` intra-op threads,
 * sequential execution, all graph optimisations, idle threads not spinning unless `spin`.
 */
export function ortSessionOptions(threads: number, spin = false): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: spin ? '1' : '0' } } },
  };
}

interface Pending {
  resolve: (data: Float32Array) => void;
  reject: (error: Error) => void;
}

/** A pool of worker threads, each holding one ORT session of the same graph. */
export class OrtWorkerPool {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private nextWorker = 0;

  private closing = false;

  private constructor(private readonly workers: Worker[]) {
    for (const worker of workers) {
      worker.on('message', (message: { id: number; data?: Float32Array; error?: string }) => {
        const waiting = this.pending.get(message.id);
        if (!waiting) return;
        this.pending.delete(message.id);
        if (message.error !== undefined || !message.data)
          waiting.reject(
            new SapphireError('INTERNAL', `ONNX Runtime worker: ${message.error ?? 'no output'}`),
          );
        else waiting.resolve(message.data);
      });
      worker.on('error', (error) => this.failAll(error));
      worker.on('exit', (code) => {
        if (!this.closing)
          this.failAll(new SapphireError('INTERNAL', `an ONNX Runtime worker thread exited (code ${code})`));
      });
    }
  }

  /** Starts `workers` threads, each opening a session with `threads` intra-op threads; resolves once all are ready. */
  static async create(
    bytes: Uint8Array,
    output: string,
    options: { workers: number; threads?: number },
  ): Promise<OrtWorkerPool> {
    if (!Number.isInteger(options.workers) || options.workers < 1 || options.workers > 64) {
      throw new SapphireError(
        'BAD_INPUT',
        `ONNX Runtime workers must be an integer from 1 to 64, got ${options.workers}`,
        {
          hint: 'use one worker per core the scoring may take, e.g. 2',
        },
      );
    }
    const workers = Array.from(
      { length: options.workers },
      () =>
        new Worker(WORKER_URL, {
          workerData: { bytes, output, options: ortSessionOptions(options.threads ?? 1) },
        }),
    );
    try {
      await Promise.all(
        workers.map(
          (worker) =>
            new Promise<void>((resolve, reject) => {
              worker.once('message', () => resolve());
              worker.once('error', reject);
              worker.once('exit', (code) =>
                reject(new Error(`exited with code ${code} before it was ready`)),
              );
            }),
        ),
      );
    } catch (cause) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw new SapphireError(
        'DATA_INVALID',
        `ONNX Runtime worker could not load the graph: ${String(cause)}`,
        {
          hint: 'export the model again with `sapphire models export-onnx`',
        },
      );
    }
    for (const worker of workers) worker.removeAllListeners('exit').removeAllListeners('error');
    return new OrtWorkerPool(workers);
  }

  /** Number of worker threads. */
  get size(): number {
    return this.workers.length;
  }

  /** Scores one batch's feeds on the next worker. */
  run(feeds: OnnxFeeds): Promise<Float32Array> {
    const worker = this.workers[this.nextWorker]!;
    this.nextWorker = (this.nextWorker + 1) % this.workers.length;
    const id = this.nextId++;
    return new Promise<Float32Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, feeds });
    });
  }

  /** Scores every batch of a job, the batches spread over the workers; scores come back in batch order. */
  score(job: OnnxScoringJob): Promise<Float32Array[]> {
    const runs: Promise<Float32Array>[] = [];
    for (let i = 0; i < job.batches; i++) runs.push(this.run(job.feeds(i)));
    return Promise.all(runs);
  }

  /** Stops the worker threads; batches still waiting are rejected. */
  async close(): Promise<void> {
    this.closing = true;
    this.failAll(new SapphireError('UNAVAILABLE', 'the ONNX Runtime worker pool was closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private failAll(error: Error): void {
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }
}
