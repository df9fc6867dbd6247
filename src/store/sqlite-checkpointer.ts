import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

const WORKER_URL = new URL('./sqlite-checkpoint-worker.mjs', import.meta.url);

/** Failed checkpoints in a row after which automatic checkpoints are turned back on. */
const MAX_FAILURES = 5;

/** Where the checkpointer reports trouble (a pino/fastify logger fits). */
export interface CheckpointLog {
  warn(obj: unknown, msg?: string): void;
  info?(obj: unknown, msg?: string): void;
}

/** Settings of {@link SqliteCheckpointer.start}. */
export interface CheckpointOptions {
  /** How often the worker checkpoints, in ms (default 1,000). */
  intervalMs?: number;
  /** WAL pages beyond which a passive checkpoint is followed by a RESTART one (default 4,096: 16 MiB). */
  restartPages?: number;
  logger?: CheckpointLog;
}

/**
 * Moves the WAL checkpoints of an SQLite database off the calling thread: automatic checkpoints are turned off on
 * `handle` and a worker thread with its own connection runs a passive checkpoint every `intervalMs` (a RESTART one
 * when the WAL outgrows `restartPages`, so it cannot grow without bound under steady writes). A server that writes
 * its request log from the event loop thus never stalls for a checkpoint. If the worker exits, fails or fails to
 * checkpoint {@link MAX_FAILURES} times in a row, automatic checkpoints are turned back on.
 *
 * @example
 * const checkpointer = await SqliteCheckpointer.start(handle, '/srv/project/.sapphire/sapphire.db');
 * // … serve …
 * await checkpointer?.stop();
 */
export class SqliteCheckpointer {
  private restored = false;
  private exited = false;
  private failures = 0;
  private readonly exit: Promise<void>;

  private constructor(
    private readonly handle: BetterSqlite3.Database,
    private readonly worker: Worker,
    private readonly defaultPages: number,
    private readonly logger: CheckpointLog | undefined,
  ) {
    this.exit = new Promise((resolve) =>
      worker.once('exit', () => {
        this.exited = true;
        this.restore();
        resolve();
      }),
    );
    worker.on('message', (message: { type: string; message?: string; mode?: string; log?: number }) => {
      if (message.type === 'checkpoint') {
        this.failures = 0;
        if (message.mode === 'RESTART')
          logger?.info?.(
            { walPages: message.log },
            'SQLite WAL outgrew the passive checkpoints; restarted it',
          );
      } else if (message.type === 'error') this.failed(message.message);
    });
    worker.on('error', (error) => {
      logger?.warn({ err: error }, 'SQLite checkpoint worker failed; automatic checkpoints are back on');
      this.restore();
    });
    // After the listeners: a 'message' listener refs the worker again, which would keep a process alive.
    worker.unref();
  }

  /**
   * Starts the worker once it has opened the file and turns automatic checkpoints off on `handle`; resolves null
   * (automatic checkpoints kept) if the worker cannot open the database.
   */
  static async start(
    handle: BetterSqlite3.Database,
    path: string,
    options: CheckpointOptions = {},
  ): Promise<SqliteCheckpointer | null> {
    const worker = new Worker(WORKER_URL, {
      workerData: {
        path,
        intervalMs: options.intervalMs ?? 1000,
        restartPages: options.restartPages ?? 4096,
      },
    });
    const ready = await new Promise<boolean>((resolve) => {
      const onError = (error: Error) => {
        options.logger?.warn({ err: error }, 'SQLite checkpoints stay on the serving thread');
        resolve(false);
      };
      worker.once('error', onError);
      worker.once('message', (message: { type: string }) => {
        worker.off('error', onError);
        resolve(message.type === 'ready');
      });
    });
    if (!ready) {
      await worker.terminate();
      return null;
    }
    let defaultPages: number;
    try {
      defaultPages = Number(handle.pragma('wal_autocheckpoint', { simple: true }));
      handle.pragma('wal_autocheckpoint = 0');
    } catch (error) {
      await worker.terminate(); // e.g. the handle was closed meanwhile
      throw error;
    }
    return new SqliteCheckpointer(handle, worker, defaultPages, options.logger);
  }

  /** Stops the worker (after a last checkpoint) and turns automatic checkpoints back on. */
  async stop(): Promise<void> {
    if (!this.exited) {
      this.worker.ref(); // an unreferenced worker would let the process end before it says it has exited
      this.worker.postMessage('stop');
    }
    await this.exit;
  }

  private failed(reason: string | undefined): void {
    this.failures++;
    this.logger?.warn({ reason, failures: this.failures }, 'SQLite checkpoint failed');
    if (this.failures >= MAX_FAILURES && !this.restored) {
      this.logger?.warn(
        {},
        'SQLite checkpoints keep failing on the worker; automatic checkpoints are back on',
      );
      this.restore();
    }
  }

  private restore(): void {
    if (this.restored) return;
    this.restored = true;
    if (this.handle.open) this.handle.pragma(`wal_autocheckpoint = ${this.defaultPages}`);
  }
}
