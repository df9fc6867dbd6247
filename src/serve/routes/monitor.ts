import type { FastifyRequest } from 'fastify';
import { SapphireError } from '../../core/errors.ts';
import { liveReport } from '../../monitor/live-report.ts';
import { onlineMetrics } from '../../monitor/online-metrics.ts';
import { type Bucket, monitorSeries } from '../../monitor/time-series.ts';
import { parseWindow } from '../../monitor/window.ts';
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

const countSchema = {
  type: 'object',
  properties: {
    item: { type: 'string' },
    count: { type: 'integer' },
    error: { type: 'integer', description: 'the true count lies in [count − error, count]' },
    share: { type: 'number' },
  },
} as const;

const quantilesSchema = {
  type: 'object',
  properties: {
    count: { type: 'integer' },
    mean: { type: ['number', 'null'] },
    p50: { type: ['number', 'null'] },
    p90: { type: ['number', 'null'] },
    p99: { type: ['number', 'null'] },
  },
} as const;

const liveSchema = {
  type: 'object',
  additionalProperties: true,
  required: ['model', 'version', 'window', 'items', 'bounds', 'drift', 'profile'],
  properties: {
    tenant: { type: 'string' },
    model: { type: 'string' },
    version: { type: 'integer' },
    window: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    buckets: { type: 'integer' },
    replicas: { type: 'array', items: { type: 'string' } },
    items: { type: 'integer', description: 'predictions in the window, every replica (exact)' },
    labels: { type: 'array', items: countSchema, description: 'most frequent predicted labels' },
    entities: { type: 'array', items: countSchema, description: 'NER: most frequent entities (LABEL\ttext)' },
    distinct: {
      type: 'object',
      properties: { texts: { type: 'integer' }, tokens: { type: 'integer' } },
      description: 'HyperLogLog estimates',
    },
    confidence: quantilesSchema,
    length: { ...quantilesSchema, description: 'input length in tokens' },
    oovRate: { type: ['number', 'null'] },
    oovTokens: { type: 'array', items: countSchema },
    bounds: { type: 'object', additionalProperties: true, description: 'the error bound of each figure' },
    drift: {
      type: ['object', 'null'],
      additionalProperties: true,
      description:
        'drift vs the reference profile: status ok | drift | insufficient-data, signals, new tokens',
    },
    profile: { type: 'object', additionalProperties: true },
  },
} as const;

/**
 * Online metrics of the caller's tenant: `GET /v1/monitor?model=&days=` (usage, thumbs-up rate per model version
 * and day, override hits), the same numbers as `sapphire monitor`; `GET /v1/monitor/series` (admin) adds time
 * series per model version: logged traffic, latency p50/p99, override hits and thumbs-up rate per hour or day, and
 * the exact daily requests with error rates.
 * The live view of one model is `GET /v1/models/{name}/live?window=1h` (sketches merged over every replica,
 * drift against the reference profile).
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

  app.get(
    '/v1/models/:name/live',
    {
      schema: {
        tags: ['monitor'],
        summary: 'Live view of a served model: top labels, distinct counts, quantiles, OOV rate and drift',
        description:
          'Streaming sketches of the predictions of `name` (`name@3`, `name@staging`) over the window, merged over ' +
          'every server replica, with the error bound of each figure, and drift against the reference profile saved ' +
          'with the model (thresholds in sapphire.yaml `monitoring.drift`).',
        params: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', description: 'model name, name@version or name@alias' } },
        },
        querystring: {
          type: 'object',
          properties: {
            window: {
              type: 'string',
              description: 'e.g. 15m, 1h, 7d (default: monitoring.window); rounded out to whole buckets',
            },
          },
        },
        response: { 200: liveSchema },
      },
    },
    async (request: FastifyRequest<{ Params: { name: string }; Querystring: { window?: string } }>) => {
      const { tenant } = ctx.caller(request);
      const live = ctx.live;
      if (!live)
        throw new SapphireError('UNAVAILABLE', 'live monitoring is off in this server', {
          hint: 'set monitoring.enabled: true in sapphire.yaml and restart, or read the published sketches with `sapphire monitor <name>`',
        });
      const settings = ctx.card.monitoring;
      const window = request.query.window ?? settings.window;
      const windowMs = parseWindow(window, 'window');
      const { version } = await ctx.models.get(tenant, request.params.name);
      const ref = { tenant, name: version.name, version: version.version };
      const [view, profile] = await Promise.all([live.view(ref, windowMs), live.profileFor(ref)]);
      return liveReport(view, profile, settings, window);
    },
  );
};
