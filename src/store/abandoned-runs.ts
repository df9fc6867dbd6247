import { hostname } from 'node:os';
import type { Run, Store } from './store.ts';

/** Whether a process with this id is alive on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a run belongs to a queue job (a `lease` in its provenance, written by `sapphire worker`): its liveness is
 * the queue's job lock, which the worker renews while it runs (a heartbeat), not a local process id. When the lock
 * expires the queue retries the job and the retry replaces the run; when the attempts run out, whoever follows
 * the job fails the run.
 */
export function leasedRun(run: Run): boolean {
  const lease = run.provenance.lease as { kind?: unknown } | undefined;
  return typeof lease === 'object' && lease !== null && typeof lease.kind === 'string';
}

/**
 * Marks `running` runs whose process on this host has died (killed, crashed, machine restarted) as failed, so
 * no run stays "running" forever; runs of other hosts are left to those hosts, and runs of queue workers to the
 * queue's leases (see {@link leasedRun}). Returns the runs it failed.
 *
 * @example
 * const abandoned = await failAbandonedRuns(store); // called when the CLI opens a project
 */
export async function failAbandonedRuns(
  store: Store,
  isAlive: (pid: number) => boolean = processAlive,
): Promise<Run[]> {
  const host = hostname();
  const failed: Run[] = [];
  for (const run of await store.listRuns({ status: 'running' })) {
    if (leasedRun(run)) continue;
    const { host: runHost, pid } = run.provenance as { host?: unknown; pid?: unknown };
    if (runHost !== host || typeof pid !== 'number' || pid === process.pid || isAlive(pid)) continue;
    try {
      failed.push(
        await store.finishRun(run.id, {
          status: 'failed',
          error: `process ${pid} on ${host} ended without finishing the run (killed or crashed)`,
        }),
      );
    } catch {
      // another process finished or failed it first
    }
  }
  return failed;
}
