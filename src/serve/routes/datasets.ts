import type { FastifyRequest } from 'fastify';
import { lineage } from '../../data/dataset-ops.ts';
import { sliceMembership } from '../../data/slices.ts';
import { computeStats } from '../../data/stats.ts';
import type { RoutePlugin } from '../context.ts';
import { objectSchema, requireProjectAdmin } from '../project-access.ts';

/** Examples one `GET /v1/datasets/{ref}/examples` page holds at most. */
const MAX_PAGE = 200;

/**
 * Datasets for the UI: `GET /v1/datasets` (every version, newest first), `GET /v1/datasets/{ref}` (a version with
 * its lineage, statistics per split with label distributions, and the card's slices) and
 * `GET /v1/datasets/{ref}/examples` (a page of examples, optionally of one split).
 *
 * @example
 * await app.register((scope) => datasetRoutes(scope, ctx));
 */
export const datasetRoutes: RoutePlugin = (app, ctx) => {
  const { store } = ctx;
  app.get(
    '/v1/datasets',
    {
      schema: {
        tags: ['datasets'],
        summary: 'Every dataset version, newest first',
        response: {
          200: objectSchema('dataset versions', {
            versions: { type: 'array', items: { type: 'object', additionalProperties: true } },
          }),
        },
      },
    },
    async (request) => {
      requireProjectAdmin(ctx, request);
      return { versions: await store.listDatasetVersions() };
    },
  );

  app.get(
    '/v1/datasets/:ref',
    {
      schema: {
        tags: ['datasets'],
        summary: 'One dataset version (name = newest): lineage, statistics per split, slices',
        params: {
          type: 'object',
          properties: { ref: { type: 'string', description: 'name, name@hash or id' } },
        },
        response: {
          200: objectSchema('the version, its lineage (newest first) and `sapphire data stats --slices`', {
            version: { type: 'object', additionalProperties: true },
            lineage: { type: 'array', items: { type: 'object', additionalProperties: true } },
            stats: { type: 'object', additionalProperties: true },
          }),
        },
      },
    },
    async (request: FastifyRequest<{ Params: { ref: string } }>) => {
      requireProjectAdmin(ctx, request);
      const version = await store.getDatasetVersion(request.params.ref);
      const examples = await store.loadExamples(version.id);
      const slices = sliceMembership(examples, ctx.card.slices);
      return {
        version,
        lineage: await lineage(store, version.id),
        stats: computeStats(examples, { task: ctx.card.task, slices }),
      };
    },
  );

  app.get(
    '/v1/datasets/:ref/examples',
    {
      schema: {
        tags: ['datasets'],
        summary: 'A page of the examples of a dataset version',
        params: { type: 'object', properties: { ref: { type: 'string' } } },
        querystring: {
          type: 'object',
          properties: {
            split: { type: 'string' },
            offset: { type: 'integer', minimum: 0, default: 0 },
            limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 50 },
          },
        },
        response: {
          200: objectSchema('examples', {
            total: { type: 'integer' },
            examples: { type: 'array', items: { type: 'object', additionalProperties: true } },
          }),
        },
      },
    },
    async (
      request: FastifyRequest<{
        Params: { ref: string };
        Querystring: { split?: string; offset?: number; limit?: number };
      }>,
    ) => {
      requireProjectAdmin(ctx, request);
      const { split, offset = 0, limit = 50 } = request.query;
      const all = await store.loadExamples((await store.getDatasetVersion(request.params.ref)).id);
      const picked = split === undefined ? all : all.filter((e) => e.split === split);
      return { total: picked.length, examples: picked.slice(offset, offset + limit) };
    },
  );
};
