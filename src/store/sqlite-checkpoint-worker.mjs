// Worker thread of SqliteCheckpointer (sqlite-checkpointer.ts): its own connection to the database file runs a
// PASSIVE WAL checkpoint every `intervalMs`, so the serving thread's commits never do one themselves (an automatic
// checkpoint copies the WAL into the database file and syncs it: 10 ms and more inside an ordinary insert).
// A passive checkpoint lets the WAL start over only if no commit lands while it copies; under steady writes it
// never does, so once the WAL holds more than `restartPages` pages the worker runs a RESTART checkpoint, which
// waits for the writer's current transaction, copies what the passive one left (little) and makes the next
// commit write from the start of the WAL again.
// Plain JavaScript: a worker does not inherit the tsx loader of a `node --import tsx` parent.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, intervalMs, restartPages } = workerData;
const db = new Database(path, { fileMustExist: true });
db.pragma('busy_timeout = 10000');

function checkpoint(mode) {
  try {
    const [result] = db.pragma(`wal_checkpoint(${mode})`);
    if (mode === 'PASSIVE' && result.log > restartPages) return checkpoint('RESTART');
    parentPort.postMessage({ type: 'checkpoint', mode, ...result });
  } catch (error) {
    parentPort.postMessage({
      type: 'error',
      message: error instanceof Error ? error.message : String(error),
    });
  }
}

const timer = setInterval(() => checkpoint('PASSIVE'), intervalMs);
parentPort.on('message', (message) => {
  if (message === 'stop') {
    clearInterval(timer);
    checkpoint('PASSIVE');
    db.close();
    parentPort.close();
  }
});
parentPort.postMessage({ type: 'ready' });
