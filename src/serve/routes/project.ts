import { gatherProjectState } from '../../analysis/coach/project-state.ts';
import { recommend } from '../../analysis/coach/recommend.ts';
import { assessMilestone, loopStages } from '../../analysis/coach/stage.ts';
import { PRODUCTION_ALIAS } from '../../store/serving-store.ts';
import type { RoutePlugin } from '../context.ts';
import { objectSchema, requireProjectAdmin } from '../project-access.ts';

/**
 * The coach's view of the project for the UI's overview: `GET /v1/project` answers the problem card, the loop
 * stages, the milestone, the recommended next steps (`sapphire status` + `sapphire next`) and the caller's
 * registered models with their production versions.
 *
 * @example
 * await app.register((scope) => projectRoutes(scope, ctx));
 */
export const projectRoutes: RoutePlugin = (app, ctx) => {
  app.get(
    '/v1/project',
    {
      schema: {
        tags: ['project'],
        summary: 'Problem card, loop stage, milestone, next steps and production models (the coach)',
        response: {
          200: objectSchema('the coach: `sapphire status` and `sapphire next` as JSON', {
            card: { type: 'object', additionalProperties: true },
            stages: { type: 'array', items: { type: 'object', additionalProperties: true } },
            milestone: { type: 'object', additionalProperties: true },
            recommendations: { type: 'array', items: { type: 'object', additionalProperties: true } },
            models: { type: 'array', items: { type: 'object', additionalProperties: true } },
            state: { type: 'object', additionalProperties: true },
          }),
        },
      },
    },
    async (request) => {
      const caller = requireProjectAdmin(ctx, request);
      const state = await gatherProjectState(ctx.store, ctx.card, ctx.options.projectDir);
      const models = await ctx.store.registry.listModels(caller.tenant);
      return {
        card: ctx.card,
        stages: loopStages(state),
        milestone: assessMilestone(state),
        recommendations: recommend(state),
        models: models.map((m) => ({ ...m, production: m.aliases[PRODUCTION_ALIAS] ?? null })),
        state: {
          runs: state.runs,
          datasets: state.datasets,
          best: state.best,
          studies: state.studies,
          analyses: state.analyses,
          tests: state.tests,
        },
      };
    },
  );
};
