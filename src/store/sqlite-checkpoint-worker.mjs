// Worker thread of SqliteCheckpointer (sqlite-checkpointer.ts): its own connection to the database file runs a
// PASSIVE WAL checkpoint every `intervalMs`, so the serving thread's commits never do one themselves (an automatic
// checkpoint copies the WAL into the database file and syncs it: 10 ms and more inside an ordinary insert).
// Plain JavaScript: a worker does not inherit the tsx loader of a `node --import tsx` parent.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, intervalMs } = workerData;
const db = new Database(path, { fileMustExist: true });
db.pragma('busy_timeout = 10000');

function checkpoint() {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ type: 'checkpoint', ...result });
  } catch (error) {
    parentPort.postMessage({
      type: 'error',
      message: error instanceof Error ? error.message : String(error),
    });
  }
}

const timer = setInterval(checkpoint, intervalMs);
parentPort.on('message', (message) => {
  if (message === 'stop') {
    clearInterval(timer);
    checkpoint();
    db.close();
    parentPort.close();
  }
});
parentPort.postMessage({ type: 'ready' });
