import type { Command } from 'commander';
import type { QueueConnection } from '../jobs/queue-config.ts';

/** Flags of the commands that talk to the queue. */
export interface QueueFlags {
  queue?: string;
  queueName?: string;
}

/** The queue a command uses: `--queue`, else `SAPPHIRE_QUEUE`; null when neither is set. */
export function queueFrom(flags: QueueFlags): QueueConnection | null {
  const url = flags.queue ?? (process.env.SAPPHIRE_QUEUE || undefined);
  return url ? { url, name: flags.queueName ?? (process.env.SAPPHIRE_QUEUE_NAME || undefined) } : null;
}

/** Adds `--queue` and `--queue-name` to a command. */
export function withQueueFlags(command: Command): Command {
  return command
    .option(
      '--queue <redis-url>',
      'run on `sapphire worker` processes through this Redis queue (or SAPPHIRE_QUEUE)',
    )
    .option('--queue-name <name>', 'queue name shared by workers and submitters (default: sapphire)');
}
