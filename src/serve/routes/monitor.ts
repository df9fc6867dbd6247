import type { FastifyRequest } from 'fastify';
import { onlineMetrics } from '../../monitor/online-metrics.ts';
import { type Bucket, monitorSeries } from '../../monitor/time-series.ts';
import type { RoutePlugin } from '../context.ts';

const countsProperties = {
  model: { type: 'string' },
  version: { type: 'integer' },
  requests: { type: 'integer' },
  items: { type: 'integer' },
  overridden: { type: 'integer' },
  errors: { type: 'integer' },
  up: { type: 'integer' },
  down: { type: 'integer' },
  corrections: { type: 'integer' },
  thumbsUpRate: { type: ['number', 'null'], description: 'up / (up + down); null without ratings' },
} as const;

const onlineMetricsSchema = {
  type: 'object',
  additionalProperties: true,
  required: ['since', 'rows', 'totals', 'overrides'],
  properties: {
    since: { type: 'string', description: 'first UTC day counted' },
    rows: {
      type: 'array',
      description: 'per model, version and UTC day',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: { ...countsProperties, day: { type: 'string' } },
      },
    },
    totals: {
      type: 'array',
      description: 'per model and version over the whole period',
      items: { type: 'object', additionalProperties: true, properties: countsProperties },
    },
    overrides: {
      type: 'array',
      description: 'active override rules, most hits first',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: {
          id: { type: 'string' },
          model: { type: 'string' },
          action: { type: 'string' },
          target: { type: 'string' },
          label: { type: 'string' },
          pattern: { type: 'string' },
          hits: { type: 'integer' },
        },
      },
    },
  },
} as const;

interface MonitorQuery {
  model?: string;
  days?: number;
}

/**
 * Online metrics of the caller's tenant: `GET /v1/monitor?model=&days=` (usage, thumbs-up rate per model version
 * and day, override hits), the same numbers as `sapphire monitor`; `GET /v1/monitor/series` (admin) adds time
 * series per model version: logged traffic, latency p50/p99, override hits and thumbs-up rate per hour or day, and
 * the exact daily requests with error rates.
 *
 * @example
 * await app.register((scope) => monitorRoutes(scope, ctx));
 */
export const monitorRoutes: RoutePlugin = (app, ctx) => {
  app.get(
    '/v1/monitor',
    {
      schema: {
        tags: ['monitor'],
        summary: 'Usage, thumbs-up rate and override hits per model version and day',
        querystring: {
          type: 'object',
          properties: {
            model: { type: 'string', description: 'one registered model (default: all)' },
            days: {
              type: 'integer',
              minimum: 1,
              maximum: 366,
              default: 7,
              description: 'days back from today',
            },
          },
        },
        response: { 200: onlineMetricsSchema },
      },
    },
    async (request: FastifyRequest<{ Querystring: MonitorQuery }>) => {
      const { tenant } = ctx.caller(request);
      const { model, days = 7 } = request.query;
      // An unknown model (or another tenant's) is a 404, like everywhere else.
      if (model) await ctx.store.registry.listVersions(tenant, model);
      return onlineMetrics(ctx.store, { tenant, days, ...(model ? { model } : {}) });
    },
  );

  app.get(
    '/v1/monitor/series',
    {
      schema: {
        tags: ['monitor'],
        summary:
          'Time series per model version: traffic, latency p50/p99, errors, thumbs-up rate, override hits',
        querystring: {
          type: 'object',
          properties: {
            model: { type: 'string', description: 'one registered model (default: all)' },
            days: { type: 'integer', minimum: 1, maximum: 366, default: 7 },
            bucket: {
              type: 'string',
              enum: ['hour', 'day'],
              description: 'default: hour up to 2 days, else day',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            additionalProperties: true,
            properties: {
              tenant: { type: 'string' },
              bucket: { type: 'string' },
              since: { type: 'string' },
              points: { type: 'array', items: { type: 'object', additionalProperties: true } },
              daily: { type: 'array', items: { type: 'object', additionalProperties: true } },
            },
          },
        },
      },
    },
    async (request: FastifyRequest<{ Querystring: MonitorQuery & { bucket?: Bucket } }>) => {
      const { tenant } = ctx.requireAdmin(request);
      const { model, days = 7, bucket } = request.query;
      if (model) await ctx.store.registry.listVersions(tenant, model);
      return monitorSeries(ctx.store, {
        tenant,
        days,
        ...(model ? { model } : {}),
        ...(bucket ? { bucket } : {}),
      });
    },
  );
};
