import type { Command } from 'commander';
import { cliTenant } from '../../core/actor.ts';
import { formatProblem, SapphireError } from '../../core/errors.ts';
import { renderTable } from '../../core/table.ts';
import { exportCorrections } from '../../jobs/feedback-dataset.ts';
import { renderLiveReport } from '../../monitor/live-report.ts';
import { onlineMetrics, renderOnlineMetrics } from '../../monitor/online-metrics.ts';
import { storedLiveReport } from '../../monitor/stored-live.ts';
import { defaultCacheRoot } from '../../registry/materialize.ts';
import type { Feedback, FeedbackStatus } from '../../store/serving-store.ts';
import { withProject } from '../context.ts';
import { type GlobalFlags, note, printJson, say } from '../output.ts';

const TENANT_HELP = 'tenant (default: $SAPPHIRE_TENANT, else "default")';
const STATUSES: readonly FeedbackStatus[] = ['new', 'accepted', 'rejected'];

function when(iso: string): string {
  return iso.replace('T', ' ').slice(0, 16);
}

function positiveInt(flag: string, text: string, example: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new SapphireError('BAD_INPUT', `${flag} ${text} is not a positive whole number`, {
      hint: `e.g. ${flag} ${example}`,
    });
  return n;
}

function parseStatus(text: string): FeedbackStatus {
  if (!STATUSES.includes(text as FeedbackStatus))
    throw new SapphireError('BAD_INPUT', `unknown feedback status "${text}"`, {
      path: 'status',
      hint: `use one of ${STATUSES.join(', ')}`,
    });
  return text as FeedbackStatus;
}

/** A correction in a few characters: `labels: a, b` or `3 spans: Nike/BRAND, …`. */
function describeCorrection(f: Feedback): string {
  const c = f.correction;
  if (!c) return '';
  if (Array.isArray(c.labels)) return `labels: ${c.labels.join(', ') || '(none)'}`;
  if (Array.isArray(c.spans)) {
    const spans = c.spans as { start?: number; end?: number; label?: string }[];
    const shown = spans.map((s) =>
      f.text && typeof s.start === 'number' && typeof s.end === 'number'
        ? `${f.text.slice(s.start, s.end)}/${s.label}`
        : String(s.label),
    );
    return `${spans.length} span${spans.length === 1 ? '' : 's'}${shown.length ? `: ${shown.join(', ')}` : ''}`;
  }
  return JSON.stringify(c);
}

function renderFeedback(items: readonly Feedback[]): string {
  return renderTable(
    items.map((f) => [
      f.id,
      when(f.createdAt),
      f.model ? `${f.model}@${f.version ?? '?'}` : '–',
      f.rating ?? '–',
      describeCorrection(f) || '–',
      f.status,
      (f.text ?? '').replace(/\s+/g, ' '),
      f.comment ?? '',
    ]),
    {
      header: ['id', 'created', 'model', 'rating', 'correction', 'status', 'text', 'comment'],
      maxWidth: [undefined, undefined, undefined, undefined, 40, undefined, 40, 30],
    },
  );
}

interface ReviewFlags {
  tenant?: string;
  all?: boolean;
  model?: string;
}

async function review(
  ids: string[],
  opts: ReviewFlags,
  status: FeedbackStatus,
  cmd: Command,
  verb: string,
): Promise<void> {
  const flags = cmd.optsWithGlobals<GlobalFlags>();
  const tenant = cliTenant(opts.tenant);
  if (opts.all && ids.length > 0)
    throw new SapphireError('BAD_INPUT', `give feedback ids or --all, not both`, {
      hint: `e.g. sapphire feedback ${verb} --all --model <name>`,
    });
  if (!opts.all && ids.length === 0)
    throw new SapphireError('BAD_INPUT', `name the feedback to ${verb}: ids, or --all for every new item`, {
      hint: 'list new feedback with `sapphire feedback ls --status new`',
    });
  await withProject(flags, [], async (ctx) => {
    const chosen = opts.all
      ? (
          await ctx.store.feedback.listFeedback({
            tenant,
            status: 'new',
            ...(opts.model ? { model: opts.model } : {}),
          })
        ).map((f) => f.id)
      : ids;
    const changed =
      chosen.length === 0 ? 0 : await ctx.store.feedback.setFeedbackStatus(tenant, chosen, status);
    if (flags.json) return printJson({ status, requested: chosen.length, changed });
    const past = status === 'accepted' ? 'Accepted' : 'Rejected';
    say(`${past} ${changed} feedback item${changed === 1 ? '' : 's'} (tenant ${tenant}).`);
    if (changed < chosen.length)
      note(
        `${chosen.length - changed} of the ${chosen.length} ids were unknown for tenant ${tenant} or already ${status} (see \`sapphire feedback ls\`)`,
      );
    if (status === 'accepted' && changed > 0)
      note(
        'Accepted corrections are used by `sapphire feedback export <model>` and `sapphire retrain <model>`.',
      );
  });
}

/** Registers `sapphire feedback …` (ls, accept, reject, export) and `sapphire monitor` (online metrics). */
export function registerFeedbackCommands(program: Command): void {
  const feedback = program
    .command('feedback')
    .description('feedback on served predictions: review corrections and export them for retraining');

  feedback
    .command('ls')
    .description('list feedback, newest first: ratings, corrections, review status')
    .option('--model <name>', 'only feedback on this registered model')
    .option('--status <status>', 'only new, accepted or rejected feedback')
    .option('--corrections', 'only feedback with a correction')
    .option('--limit <n>', 'show at most this many items', '50')
    .option('--tenant <id>', TENANT_HELP)
    .action(
      async (
        opts: { model?: string; status?: string; corrections?: boolean; limit: string; tenant?: string },
        cmd: Command,
      ) => {
        const flags = cmd.optsWithGlobals<GlobalFlags>();
        const tenant = cliTenant(opts.tenant);
        const limit = positiveInt('--limit', opts.limit, '200');
        const status = opts.status === undefined ? undefined : parseStatus(opts.status);
        await withProject(flags, [], async (ctx) => {
          const items = await ctx.store.feedback.listFeedback({
            tenant,
            limit,
            ...(opts.model ? { model: opts.model } : {}),
            ...(status ? { status } : {}),
            ...(opts.corrections ? { withCorrection: true } : {}),
          });
          if (flags.json) return printJson(items);
          if (items.length === 0)
            return say(`No feedback for tenant ${tenant}${opts.model ? ` on ${opts.model}` : ''}.`);
          say(renderFeedback(items));
          if (items.length === limit) note(`(showing ${limit} items; pass --limit to see more)`);
        });
      },
    );

  feedback
    .command('accept')
    .description('accept corrections for retraining (by id, or --all new feedback)')
    .argument('[ids...]', 'feedback ids, as listed by `sapphire feedback ls`')
    .option('--all', 'accept every new feedback item (of --model, when given)')
    .option('--model <name>', 'with --all: only feedback on this model')
    .option('--tenant <id>', TENANT_HELP)
    .action(async (ids: string[], opts: ReviewFlags, cmd: Command) =>
      review(ids, opts, 'accepted', cmd, 'accept'),
    );

  feedback
    .command('reject')
    .description('reject feedback: its corrections are never used for retraining')
    .argument('<ids...>', 'feedback ids, as listed by `sapphire feedback ls`')
    .option('--tenant <id>', TENANT_HELP)
    .action(async (ids: string[], opts: ReviewFlags, cmd: Command) =>
      review(ids, { tenant: opts.tenant }, 'rejected', cmd, 'reject'),
    );

  feedback
    .command('export')
    .description("store a model's corrections as a new dataset version (for retraining)")
    .argument('<model>', 'registered model name')
    .option(
      '--name <dataset>',
      'dataset name (default: <model>-feedback; <tenant>-<model>-feedback for other tenants)',
    )
    .option('--status <status>', 'export feedback with this review status', 'accepted')
    .option('--tenant <id>', TENANT_HELP)
    .action(async (model: string, opts: { name?: string; status: string; tenant?: string }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const tenant = cliTenant(opts.tenant);
      const status = parseStatus(opts.status);
      await withProject(flags, [], async (ctx) => {
        const result = await exportCorrections({
          store: ctx.store,
          tenant,
          model,
          task: ctx.card.task,
          status,
          ...(opts.name ? { name: opts.name } : {}),
        });
        if (flags.json) return printJson(result);
        say(
          `${result.created ? 'Stored' : 'Already stored:'} ${result.version.id} with ${result.count} correction${
            result.count === 1 ? '' : 's'
          } of ${model} (${status} feedback, tenant ${tenant}).`,
        );
        if (result.problems.length > 0) {
          note(`Left out ${result.problems.length} correction(s) that cannot be used:`);
          for (const p of result.problems.slice(0, 20)) note(`  ${formatProblem(p)}`);
          if (result.problems.length > 20) note(`  … and ${result.problems.length - 20} more (see --json)`);
        }
      });
    });

  program
    .command('monitor')
    .description(
      'online metrics of served models (usage per version per day, thumbs-up rate, override hits); with a model name, also its live view and drift',
    )
    .argument(
      '[name]',
      'a registered model (name, name@version or name@alias): show its live sketches and drift',
    )
    .option('--window <window>', 'with a name: live window, e.g. 15m, 1h, 7d (default: monitoring.window)')
    .option('--model <name>', 'only this registered model')
    .option('--days <n>', 'days to look back, today included', '7')
    .option('--tenant <id>', TENANT_HELP)
    .addHelpText(
      'after',
      '\nThe live view merges the sketches every `sapphire serve` replica publishes to the store (monitoring.publishIntervalMs),\n' +
        'states the error bound of each figure, and judges drift against the reference profile saved with the model.',
    )
    .action(
      async (
        name: string | undefined,
        opts: { model?: string; days: string; tenant?: string; window?: string },
        cmd: Command,
      ) => {
        const flags = cmd.optsWithGlobals<GlobalFlags>();
        const tenant = cliTenant(opts.tenant);
        const days = positiveInt('--days', opts.days, '30');
        if (opts.window !== undefined && name === undefined)
          throw new SapphireError('BAD_INPUT', '--window needs a model name', {
            hint: 'e.g. sapphire monitor intents --window 1h',
          });
        await withProject(flags, [], async (ctx) => {
          const model = name ? name.split('@')[0]! : opts.model;
          const metrics = await onlineMetrics(ctx.store, {
            tenant,
            days,
            ...(model ? { model } : {}),
          });
          if (!name) {
            if (flags.json) return printJson(metrics);
            return say(renderOnlineMetrics(metrics));
          }
          const version = await ctx.store.registry.resolveVersion(tenant, name);
          const { report } = await storedLiveReport({
            store: ctx.store,
            version,
            settings: ctx.card.monitoring,
            cacheRoot: defaultCacheRoot(ctx.dir),
            ...(opts.window ? { window: opts.window } : {}),
          });
          if (flags.json) return printJson({ live: report, online: metrics });
          say(renderLiveReport(report));
          say('');
          say(renderOnlineMetrics(metrics));
        });
      },
    );
}
