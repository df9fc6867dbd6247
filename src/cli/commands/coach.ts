import type { Command } from 'commander';
import { gatherProjectState } from '../../analysis/coach/project-state.ts';
import { recommend } from '../../analysis/coach/recommend.ts';
import { renderRecommendations, renderStatus } from '../../analysis/coach/render.ts';
import { assessMilestone, loopStages } from '../../analysis/coach/stage.ts';
import { cliTenant } from '../../core/actor.ts';
import { resolveRunId } from '../../experiments/run-query.ts';
import { driftFacts } from '../../monitor/drift-facts.ts';
import { defaultCacheRoot } from '../../registry/materialize.ts';
import { withProject } from '../context.ts';
import { type GlobalFlags, printJson, say } from '../output.ts';

/** Registers the coach: `sapphire status` and `sapphire next`. */
export function registerCoachCommands(program: Command): void {
  program
    .command('status')
    .description(
      'where the project stands in the loop (problem → … → productize) and the milestone it has reached',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      await withProject(flags, [], async (ctx) => {
        const state = await gatherProjectState(ctx.store, ctx.card, ctx.dir);
        const stages = loopStages(state);
        const milestone = assessMilestone(state);
        if (flags.json) return printJson({ stages, milestone, state });
        say(renderStatus(state, stages, milestone));
      });
    });

  program
    .command('next')
    .description(
      'what to do next, computed from the runs: capacity, data, regularisation, dev/test, slices, tests',
    )
    .option('--run <run>', 'diagnose this run instead of the best one by dev score')
    .action(async (opts: { run?: string }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      await withProject(flags, [], async (ctx) => {
        const focusRun = opts.run === undefined ? undefined : await resolveRunId(ctx.store, opts.run);
        const drift = await driftFacts(ctx.store, ctx.card, cliTenant(undefined), defaultCacheRoot(ctx.dir));
        const state = await gatherProjectState(ctx.store, ctx.card, ctx.dir, { focusRun, drift });
        const recs = recommend(state);
        if (flags.json) return printJson(recs);
        say(renderRecommendations(recs, state));
      });
    });
}
