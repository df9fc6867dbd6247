import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

const WORKER_URL = new URL('./sqlite-checkpoint-worker.mjs', import.meta.url);

/** Where the checkpointer reports that it fell back to automatic checkpoints (a pino/fastify logger fits). */
export interface CheckpointLog {
  warn(obj: unknown, msg?: string): void;
}

/**
 * Moves the WAL checkpoints of an SQLite database off the calling thread: automatic checkpoints are turned off on
 * `handle` and a worker thread with its own connection runs a passive checkpoint every `intervalMs` (default 1 s).
 * A server that writes its request log from the event loop thus never stalls for a checkpoint. If the worker
 * fails, automatic checkpoints are turned back on, so the WAL never grows without bound.
 *
 * @example
 * const checkpointer = await SqliteCheckpointer.start(handle, '/srv/project/.sapphire/sapphire.db');
 * // … serve …
 * await checkpointer.stop();
 */
export class SqliteCheckpointer {
  private stopped = false;

  private constructor(
    private readonly handle: BetterSqlite3.Database,
    private readonly worker: Worker,
    private readonly defaultPages: number,
  ) {}

  /** Starts the worker once it has opened the file; resolves null (automatic checkpoints kept) if it cannot. */
  static async start(
    handle: BetterSqlite3.Database,
    path: string,
    options: { intervalMs?: number; logger?: CheckpointLog } = {},
  ): Promise<SqliteCheckpointer | null> {
    const worker = new Worker(WORKER_URL, { workerData: { path, intervalMs: options.intervalMs ?? 1000 } });
    const ready = await new Promise<boolean>((resolve) => {
      worker.once('message', (message: { type: string }) => resolve(message.type === 'ready'));
      worker.once('error', (error) => {
        options.logger?.warn({ err: error }, 'SQLite checkpoints stay on the serving thread');
        resolve(false);
      });
    });
    if (!ready) {
      await worker.terminate();
      return null;
    }
    const defaultPages = Number(handle.pragma('wal_autocheckpoint', { simple: true }));
    handle.pragma('wal_autocheckpoint = 0');
    const checkpointer = new SqliteCheckpointer(handle, worker, defaultPages);
    worker.on('message', (message: { type: string; message?: string }) => {
      if (message.type === 'error')
        options.logger?.warn({ reason: message.message }, 'SQLite checkpoint failed');
    });
    worker.on('error', (error) => {
      options.logger?.warn(
        { err: error },
        'SQLite checkpoint worker failed; automatic checkpoints are back on',
      );
      checkpointer.restore();
    });
    worker.unref();
    return checkpointer;
  }

  /** Stops the worker (after a last checkpoint) and turns automatic checkpoints back on. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.ref(); // an unreferenced worker would let the process end before it says it has exited
    this.worker.postMessage('stop');
    await exited;
    this.restore();
  }

  private restore(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.handle.open) this.handle.pragma(`wal_autocheckpoint = ${this.defaultPages}`);
  }
}
