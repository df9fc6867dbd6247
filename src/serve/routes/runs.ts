import type { FastifyRequest } from 'fastify';
import { SapphireError } from '../../core/errors.ts';
import { buildReport, STUDY_KINDS } from '../../experiments/report.ts';
import { compareRuns } from '../../experiments/run-compare.ts';
import { describeRun, queryRuns, resolveRunId } from '../../experiments/run-query.ts';
import type { RoutePlugin } from '../context.ts';
import { objectSchema, requireProjectAdmin } from '../project-access.ts';

/** Most runs one comparison takes. */
const MAX_COMPARED = 8;

/** Bootstrap resamples and permutations of the comparison's significance tests (the CLI report uses 10,000). */
const COMPARE_SAMPLES = 2000;

const anyObjects = { type: 'array', items: { type: 'object', additionalProperties: true } } as const;

interface RunsQuery {
  filter?: string | string[];
  sort?: string;
  limit?: number;
  members?: boolean;
}

/**
 * Runs and studies for the UI: `GET /v1/runs` (filter and sort like `sapphire runs ls`), `GET /v1/runs/{id}`
 * (`runs show` with every logged metric point for learning and loss curves), `GET /v1/runs/compare?ids=a,b`
 * (config diff, metric deltas, significance of each run against the first on the primary metric, per-label F1)
 * and `GET /v1/studies` (sweeps, cross-validations, curves and ladders with their members).
 *
 * @example
 * await app.register((scope) => runRoutes(scope, ctx));
 */
export const runRoutes: RoutePlugin = (app, ctx) => {
  const { store, card } = ctx;
  app.get(
    '/v1/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'Tracked runs, filtered and sorted like `sapphire runs ls`',
        querystring: {
          type: 'object',
          properties: {
            filter: {
              anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
              description: 'e.g. dev.macro_f1>0.8, kind=train, tag=baseline (repeatable)',
            },
            sort: { type: 'string', description: 'key[:asc|desc], e.g. dev.macro_f1' },
            limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 500 },
            members: { type: 'boolean', default: false, description: 'also list the members of studies' },
          },
        },
        response: { 200: objectSchema('runs, newest first unless sorted', { runs: anyObjects }) },
      },
    },
    async (request: FastifyRequest<{ Querystring: RunsQuery }>) => {
      requireProjectAdmin(ctx, request);
      const { filter, sort, limit = 500, members = false } = request.query;
      const filters = filter === undefined ? [] : Array.isArray(filter) ? filter : [filter];
      return {
        runs: await queryRuns(store, { filters, ...(sort ? { sort } : {}), limit, includeMembers: members }),
      };
    },
  );

  app.get(
    '/v1/runs/compare',
    {
      schema: {
        tags: ['runs'],
        summary: 'Compare runs: config diff, metric deltas with significance, per-label F1, metric histories',
        querystring: {
          type: 'object',
          required: ['ids'],
          properties: {
            ids: {
              type: 'string',
              description: `2 to ${MAX_COMPARED} run ids (or unique prefixes), comma-separated; the first is the baseline`,
            },
          },
        },
        response: {
          200: objectSchema(
            '`sapphire runs compare` + the report significance of each run against the first',
            {
              comparison: { type: 'object', additionalProperties: true },
              significance: anyObjects,
              report: { type: 'object', additionalProperties: true },
              histories: { type: 'object', additionalProperties: true },
            },
          ),
        },
      },
    },
    async (request: FastifyRequest<{ Querystring: { ids: string } }>) => {
      requireProjectAdmin(ctx, request);
      const refs = request.query.ids
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (refs.length < 2 || refs.length > MAX_COMPARED)
        throw new SapphireError('BAD_INPUT', `compare takes 2 to ${MAX_COMPARED} runs, got ${refs.length}`, {
          path: 'ids',
          hint: 'pass ids=<baseline>,<other>[,…]',
        });
      const runs = await Promise.all(refs.map(async (ref) => store.getRun(await resolveRunId(store, ref))));
      const comparison = compareRuns(runs);
      // Each run its own report row: the rows are tested against the first on the primary metric.
      const report = await buildReport(store, runs, {
        task: card.task,
        labels: card.labels,
        primary: card.metrics.primary,
        samples: COMPARE_SAMPLES,
      });
      const histories: Record<string, unknown> = {};
      for (const run of runs) histories[run.id] = await store.metricHistory(run.id);
      const significance = report.rows.map((row) => ({
        label: row.label,
        runs: row.runs,
        significance: row.significance,
        perLabel: row.perLabel,
      }));
      return { comparison, significance, report, histories };
    },
  );

  app.get(
    '/v1/runs/:id',
    {
      schema: {
        tags: ['runs'],
        summary: 'One run (`sapphire runs show`) with every logged metric point',
        params: { type: 'object', properties: { id: { type: 'string' } } },
        response: {
          200: objectSchema('the run details', {
            details: { type: 'object', additionalProperties: true },
            history: anyObjects,
          }),
        },
      },
    },
    async (request: FastifyRequest<{ Params: { id: string } }>) => {
      requireProjectAdmin(ctx, request);
      const details = await describeRun(store, request.params.id);
      return { details, history: await store.metricHistory(details.run.id) };
    },
  );

  app.get(
    '/v1/studies',
    {
      schema: {
        tags: ['runs'],
        summary: 'Studies (sweeps, cross-validations, learning curves, ladders) with their member runs',
        response: { 200: objectSchema('studies, newest first', { studies: anyObjects }) },
      },
    },
    async (request) => {
      requireProjectAdmin(ctx, request);
      const studies = await store.listRuns({ kind: [...STUDY_KINDS], parentId: null });
      return {
        studies: await Promise.all(
          studies.map(async (study) => ({ study, members: await store.listRuns({ parentId: study.id }) })),
        ),
      };
    },
  );
};
