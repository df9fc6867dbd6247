import type { Command } from 'commander';
import { SapphireError } from '../../core/errors.ts';
import { studyMemberCount, watchStudy } from '../../experiments/study-watch.ts';
import { redactUrl } from '../../jobs/queue-config.ts';
import type { WorkerEvent } from '../../jobs/queue-worker.ts';
import { resolveStoreUri } from '../../store/open-store.ts';
import { withProject } from '../context.ts';
import { type GlobalFlags, note, printJson, say } from '../output.ts';
import { type QueueFlags, queueFrom, withQueueFlags } from '../queue-flags.ts';
import { createStudyProgress } from '../render/study-progress.ts';

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new SapphireError('BAD_INPUT', `${name} ${value} must be a whole number ≥ 1`, {
      hint: `e.g. ${name} 1`,
    });
  return n;
}

function describeEvent(event: WorkerEvent): string {
  switch (event.type) {
    case 'ready':
      return `worker ${event.worker} waiting for jobs on queue ${event.queue}`;
    case 'active':
      return `${event.name} ${event.job} started (attempt ${event.attempt})`;
    case 'progress': {
      const p = event.progress;
      if ('message' in p) return `${event.job}: ${p.message}`;
      if ('studyId' in p) return `${event.job}: study ${p.studyId}`;
      return p.type === 'started' ? `${event.job}: run ${p.runId}` : '';
    }
    case 'completed':
      return `${event.name} ${event.job} done${event.status ? ` (${event.status})` : ''}`;
    case 'failed':
      return `${event.name} ${event.job} failed${event.willRetry ? ' (will retry)' : ''}: ${event.error}`;
    case 'error':
      return `error: ${event.error}`;
  }
}

/** Registers `sapphire worker` and `sapphire study watch`. */
export function registerQueueCommands(program: Command): void {
  withQueueFlags(
    program
      .command('worker')
      .description(
        'process queued jobs (sweep trials, CV folds, curve points, retrainings, detached studies) until stopped',
      )
      .option(
        '--artifacts <root>',
        'artifacts folder or s3://bucket/prefix shared with the submitters (or SAPPHIRE_ARTIFACTS)',
      )
      .option('--concurrency <n>', 'trainings at a time (default 1; run one worker per core)')
      .option(
        '--lock-duration <ms>',
        'how long a job stays locked without renewal before another worker may take it',
        '30000',
      )
      .option('--id <name>', 'name of this worker in logs and run provenance (default: host-pid-random)')
      .addHelpText(
        'after',
        '\nNeeds a queue (--queue redis://…) and the shared store (--store postgres://… or SAPPHIRE_STORE). SIGTERM or\n' +
          'SIGINT stops taking jobs and waits for the running one. With --json: one JSON line per event on stdout.',
      ),
  ).action(
    async (
      opts: QueueFlags & { artifacts?: string; concurrency?: string; lockDuration: string; id?: string },
      cmd: Command,
    ) => {
      const flags = cmd.optsWithGlobals<GlobalFlags & QueueFlags>();
      const queue = queueFrom(flags);
      if (!queue)
        throw new SapphireError('BAD_INPUT', 'a worker needs a queue', {
          hint: 'pass --queue redis://host:6379 or set SAPPHIRE_QUEUE',
        });
      const storeUri = flags.store ?? process.env.SAPPHIRE_STORE;
      if (!storeUri)
        throw new SapphireError('BAD_INPUT', 'a worker needs the shared store', {
          hint: 'pass --store postgres://user@host/db (or SAPPHIRE_STORE): the same store the submitters use',
        });
      const { startQueueWorker } = await import('../../jobs/queue-worker.ts');
      const worker = await startQueueWorker({
        ...queue,
        storeUri: resolveStoreUri({ uri: storeUri, projectDir: process.cwd() }),
        artifacts: opts.artifacts ?? (process.env.SAPPHIRE_ARTIFACTS || undefined),
        workDir: flags.project ?? process.cwd(),
        concurrency: positiveInt('--concurrency', opts.concurrency),
        lockDurationMs: positiveInt('--lock-duration', opts.lockDuration),
        id: opts.id,
        onEvent: (event) => {
          if (flags.json) process.stdout.write(`${JSON.stringify(event)}\n`);
          else {
            const line = describeEvent(event);
            if (line) note(line);
          }
        },
      });
      if (!flags.json) note(`Connected to ${redactUrl(queue.url)}. Stop with Ctrl+C (or SIGTERM).`);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      if (!flags.json) note('Stopping: waiting for the running job to finish…');
      await worker.close();
    },
  );

  const study = program.command('study').description('follow studies that run on queue workers');
  withQueueFlags(
    study
      .command('watch')
      .description('follow a study (e.g. one started with --detach) until it ends, with its progress')
      .argument('[study]', 'the study run id')
      .option('--job <id>', 'the queue job id printed by --detach, when the study had not started yet'),
  ).action(async (studyArg: string | undefined, opts: QueueFlags & { job?: string }, cmd: Command) => {
    const flags = cmd.optsWithGlobals<GlobalFlags & QueueFlags>();
    let studyId = studyArg ?? null;
    if (!studyId && opts.job) {
      const queue = queueFrom(flags);
      if (!queue)
        throw new SapphireError('BAD_INPUT', '--job needs the queue it was sent to', {
          hint: 'pass --queue redis://host:6379 (or set SAPPHIRE_QUEUE)',
        });
      if (!flags.json) note(`Waiting for a worker to start queue job ${opts.job}…`);
      const { waitForStudyId } = await import('../../jobs/queue.ts');
      studyId = await waitForStudyId(queue, opts.job, Number.POSITIVE_INFINITY);
    }
    if (!studyId)
      throw new SapphireError('BAD_INPUT', 'name the study to watch', {
        hint: 'sapphire study watch <study id>, or --job <queue job id> --queue redis://…',
      });
    const id = studyId;
    await withProject(flags, [], async (ctx) => {
      const run = await ctx.store.getRun(id);
      const metric = (run.config.study as { metric?: unknown } | undefined)?.metric;
      const progress = flags.json
        ? null
        : createStudyProgress(run.kind, studyMemberCount(run) ?? 0, typeof metric === 'string' ? metric : []);
      let ended: typeof run;
      try {
        ended = await watchStudy(ctx.store, id, { onEvent: (e) => progress?.onEvent(e) });
      } finally {
        progress?.stop();
      }
      const members = await ctx.store.listRuns({ parentId: id });
      const counts = {
        finished: members.filter((m) => m.status === 'finished').length,
        failed: members.filter((m) => m.status === 'failed').length,
      };
      if (flags.json)
        return printJson({
          study: id,
          status: ended.status,
          metrics: ended.metrics,
          members: counts,
          error: ended.error,
        });
      say(
        `Study ${id} ${ended.status}: ${counts.finished} member(s) finished, ${counts.failed} failed` +
          (ended.error ? ` (${ended.error})` : ''),
      );
      say(`See \`sapphire runs show ${id}\` and \`sapphire report ${id} --format md\`.`);
      if (ended.status === 'failed') process.exitCode = 1;
    });
  });
}
