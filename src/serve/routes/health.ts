import type { RoutePlugin, ServeContext } from '../context.ts';

const statusSchema = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    models: { type: 'integer', description: 'model versions loaded' },
  },
} as const;

/** Whether the server may take traffic: not draining, and its model provider (when it can tell) is ready. */
export function isReady(ctx: ServeContext): boolean {
  if (ctx.draining) return false;
  const models = ctx.models as { isReady?: () => boolean };
  return typeof models.isReady === 'function' ? models.isReady() : true;
}

/**
 * `GET /healthz` (the process answers), `GET /readyz` (200 once every tenant's production model is loaded and
 * warmed up; 503 `loading` before, 503 `draining` while shutting down) and `GET /metrics` (Prometheus text).
 * `/docs` comes from @fastify/swagger-ui, registered by `buildServer`.
 *
 * @example
 * await healthRoutes(app, ctx);
 * // GET /readyz → 503 {"status":"loading"} until the models are warm, then 200 {"status":"ready","models":2}
 */
export const healthRoutes: RoutePlugin = (app, ctx) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        security: [],
        summary: 'Liveness: the process answers',
        response: { 200: statusSchema },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        security: [],
        summary: 'Readiness: production models loaded and warmed up (503 while loading or draining)',
        response: { 200: statusSchema, 503: statusSchema },
      },
    },
    async (_request, reply) => {
      const models = ctx.models.loaded().length;
      if (ctx.draining) return reply.status(503).send({ status: 'draining', models });
      if (!isReady(ctx)) return reply.status(503).send({ status: 'loading', models });
      return { status: 'ready', models };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        security: [],
        summary:
          'Prometheus metrics: requests, latency, errors, batch sizes, labels, confidences, overrides, feedback',
        produces: ['text/plain'],
      },
    },
    async (_request, reply) => {
      const text = await ctx.metrics.render();
      return reply.type(ctx.metrics.contentType).send(text);
    },
  );
};
