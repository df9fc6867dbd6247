import type { Command } from 'commander';
import { SapphireError } from '../../core/errors.ts';
import { deleteRuns, planRunDeletion } from '../../experiments/delete-runs.ts';
import { compareRuns } from '../../experiments/run-compare.ts';
import {
  describeRun,
  parseRunFilter,
  parseRunSort,
  queryRuns,
  type RunCondition,
  resolveRunId,
} from '../../experiments/run-query.ts';
import { withProject } from '../context.ts';
import { type GlobalFlags, note, printJson, say } from '../output.ts';
import {
  renderComparison,
  renderDeletion,
  renderDeletionPlan,
  renderRunDetails,
  renderRunList,
} from '../render/runs.ts';

interface LsFlags {
  filter?: string[];
  sort?: string;
  tag?: string;
  kind?: string;
  status?: string;
  study?: string;
  all?: boolean;
  limit: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function parseLimit(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new SapphireError('BAD_INPUT', `--limit ${text} is not a positive integer`, {
      hint: 'e.g. --limit 200',
    });
  return n;
}

/** Metric keys a filter or sort names (shown as columns of `runs ls`). */
function metricKeys(conditions: RunCondition[], sort: string | undefined): string[] {
  const keys = conditions.map((c) => c.key);
  if (sort) keys.push(parseRunSort(sort).key);
  return keys.filter((k) => /\./.test(k) && !k.startsWith('config.'));
}

/** Registers `sapphire runs …`: ls, show, tag, note, delete, compare. */
export function registerRunCommands(program: Command): void {
  const runs = program
    .command('runs')
    .description('list, inspect, tag, annotate, compare and delete tracked runs');

  runs
    .command('ls')
    .description('list runs, newest first: filter by metrics, config, tags and more, and sort')
    .option(
      '--filter <expr>',
      'repeatable: <key><op><value>, op > >= < <= = != ~, e.g. dev.macro_f1>0.8, config.model.architecture=crf.v1',
      collect,
    )
    .option('--sort <key>', 'key[:asc|desc], e.g. dev.macro_f1 (metrics: best first) or started:desc')
    .option('--tag <tag>', 'only runs with this tag')
    .option('--kind <kind>', 'only runs of this kind (train, sweep, cv, trial, fold, …)')
    .option('--status <status>', 'only runs with this status (running, finished, failed)')
    .option('--study <id>', 'only the members of this study')
    .option('--all', 'include the members of studies (trials, folds, curve points, rungs)')
    .option('--limit <n>', 'show at most this many runs', '50')
    .action(async (opts: LsFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const limit = parseLimit(opts.limit);
      const conditions = (opts.filter ?? []).map(parseRunFilter);
      if (opts.tag !== undefined) conditions.push({ key: 'tag', op: '=', value: opts.tag });
      if (opts.kind !== undefined) conditions.push({ key: 'kind', op: '=', value: opts.kind });
      if (opts.status !== undefined) conditions.push({ key: 'status', op: '=', value: opts.status });
      if (opts.study !== undefined) conditions.push({ key: 'study', op: '=', value: opts.study });
      await withProject(flags, [], async (ctx) => {
        const found = await queryRuns(ctx.store, {
          filters: conditions,
          sort: opts.sort,
          limit,
          includeMembers: opts.all === true,
        });
        if (flags.json) return printJson(found);
        const primary = ctx.card.metrics.primary;
        const columns = [...metricKeys(conditions, opts.sort), `dev.${primary}`, `test.${primary}`];
        say(renderRunList(found, columns));
        if (found.length === limit) note(`(showing ${limit} runs; pass --limit to see more)`);
      });
    });

  runs
    .command('show')
    .description('everything about a run: status, provenance, metrics, per-step history, artifacts, config')
    .argument('<run>', 'run id, or a unique part of it (e.g. its last 6 characters)')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      await withProject(flags, [], async (ctx) => {
        const details = await describeRun(ctx.store, ref);
        if (flags.json) return printJson(details);
        say(renderRunDetails(details));
      });
    });

  runs
    .command('tag')
    .description('add tags to a run (or remove them with --remove)')
    .argument('<run>', 'run id, or a unique part of it')
    .argument('<tags...>', 'tags without spaces or commas')
    .option('--remove', 'remove the tags instead of adding them')
    .action(async (ref: string, tags: string[], opts: { remove?: boolean }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      await withProject(flags, [], async (ctx) => {
        const id = await resolveRunId(ctx.store, ref);
        const run = await ctx.store.updateRun(id, opts.remove ? { removeTags: tags } : { addTags: tags });
        if (flags.json) return printJson(run);
        say(
          `${opts.remove ? 'Removed tags from' : 'Tagged'} ${run.id}; its tags: ${run.tags.join(', ') || 'none'}`,
        );
      });
    });

  runs
    .command('note')
    .description("set a run's notes (or add a line to them with --append)")
    .argument('<run>', 'run id, or a unique part of it')
    .argument('<text>', 'the note (quote it); an empty text clears the notes')
    .option('--append', 'add the text as a new line after the existing notes')
    .action(async (ref: string, text: string, opts: { append?: boolean }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      await withProject(flags, [], async (ctx) => {
        const id = await resolveRunId(ctx.store, ref);
        const before = await ctx.store.getRun(id);
        const notes = opts.append && before.notes ? `${before.notes}\n${text}` : text === '' ? null : text;
        const run = await ctx.store.updateRun(id, { notes });
        if (flags.json) return printJson(run);
        say(run.notes ? `Notes of ${run.id}:\n${run.notes}` : `Cleared the notes of ${run.id}.`);
      });
    });

  runs
    .command('delete')
    .description('delete runs (a study with its members), their stored files and their model folders')
    .argument('<runs...>', 'run ids, or unique parts of them')
    .option('--yes', 'really delete (without it, print what would be deleted and exit 1)')
    .action(async (refs: string[], opts: { yes?: boolean }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      await withProject(flags, [], async (ctx) => {
        if (!opts.yes) {
          const plan = await planRunDeletion(ctx.store, ctx.dir, refs);
          if (flags.json)
            printJson({
              deleted: false,
              runs: plan.runs.map((r) => r.id),
              modelDirs: plan.modelDirs,
            });
          else say(renderDeletionPlan(plan));
          throw new SapphireError('BAD_INPUT', `nothing deleted: ${plan.runs.length} run(s) would go`, {
            hint: 'add --yes to delete them',
          });
        }
        const result = await deleteRuns(ctx.store, ctx.dir, refs);
        if (flags.json) return printJson({ deleted: true, ...result });
        say(renderDeletion(result));
      });
    });

  runs
    .command('compare')
    .description('compare runs: config differences, metrics with deltas against the first, data/seed/code')
    .argument('<runs...>', 'two or more run ids, or unique parts of them')
    .action(async (refs: string[], _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      await withProject(flags, [], async (ctx) => {
        const found = [];
        for (const ref of refs) found.push(await ctx.store.getRun(await resolveRunId(ctx.store, ref)));
        const comparison = compareRuns(found);
        if (flags.json)
          return printJson({
            ...comparison,
            config: comparison.config.map((d) => ({ ...d, values: d.values.map((v) => v ?? null) })),
            differences: comparison.differences.map((d) => ({
              ...d,
              values: d.values.map((v) => v ?? null),
            })),
          });
        say(renderComparison(comparison));
      });
    });
}
