import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fastify, { type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { liveGaugeRows } from '../monitor/live-gauges.ts';
import { LiveMonitor } from '../monitor/live-monitor.ts';
import { defaultCacheRoot, materializeVersion } from '../registry/materialize.ts';
import type { ModelVersion } from '../store/serving-store.ts';
import { loadReferenceProfile } from '../train/reference-profile.ts';
import { installAuth, makeCallerAccessors } from './auth.ts';
import type { ServeContext, ServeLimits, ServeOptions } from './context.ts';
import { errorResponse, installErrorHandler } from './errors.ts';
import { ServeMetrics } from './metrics.ts';
import { ModelPool } from './model-pool.ts';
import { timeOrderedUuid } from './request-id.ts';
import { RequestLog } from './request-log.ts';
import { analysisRoutes } from './routes/analysis.ts';
import { annotateRoutes } from './routes/annotate.ts';
import { datasetRoutes } from './routes/datasets.ts';
import { feedbackRoutes } from './routes/feedback.ts';
import { healthRoutes, isReady } from './routes/health.ts';
import { monitorRoutes } from './routes/monitor.ts';
import { overrideRoutes } from './routes/overrides.ts';
import { predictRoutes } from './routes/predict.ts';
import { projectRoutes } from './routes/project.ts';
import { registryRoutes } from './routes/registry.ts';
import { runRoutes } from './routes/runs.ts';
import { installUi } from './ui-static.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
  description?: string;
};

/** Request ids a client may choose (sent as `x-request-id`); anything else gets a new time-ordered UUID (v7). */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** A built server: the fastify app (not yet listening), its context, readiness and a draining close. */
export interface BuiltServer {
  app: FastifyInstance;
  ctx: ServeContext;
  /** Resolves once every tenant's production model is loaded and warmed up; rejects naming the ones that failed. */
  ready: Promise<void>;
  /** Drains: `/readyz` answers 503, in-flight requests finish, polling stops, the request log is flushed. */
  close(): Promise<void>;
}

/** Every option of {@link ServeOptions} with the card's `serve:` section and the built-in defaults filled in. */
export function resolveServeOptions(options: ServeOptions): ServeOptions & { limits: ServeLimits } {
  const serve = options.card.serve;
  return {
    ...options,
    auth: options.auth ?? serve.auth,
    limits: { ...serve.limits, ...options.limits },
    rateLimitPerMinute: options.rateLimitPerMinute ?? serve.rateLimitPerMinute,
    logSample: options.logSample ?? serve.log.sample,
    retentionDays: options.retentionDays ?? serve.log.retentionDays,
    pollIntervalMs: options.pollIntervalMs ?? serve.pollIntervalMs,
    runtime: options.runtime ?? serve.runtime,
    onnxThreads: options.onnxThreads ?? serve.onnxThreads,
    onnxWorkers: options.onnxWorkers ?? serve.onnxWorkers,
    monitoring: options.monitoring ?? options.card.monitoring.enabled,
    cacheDir: options.cacheDir ?? defaultCacheRoot(resolve(options.projectDir)),
  };
}

/**
 * Builds the HTTP service: fastify with the body limit, request ids (`x-request-id`), the JSON error bodies,
 * API-key auth with per-tenant rate limits, OpenAPI at `/docs`, the routes (health, predict, registry,
 * overrides, feedback, monitor, and the project routes of the web UI: project, datasets, runs, analysis,
 * annotate) and the web app at `/ui`. Production models start loading at once (`ready`); the caller listens and
 * owns the store (`close` does not close it).
 *
 * @example
 * const { app, ready, close } = await buildServer({ store, card, projectDir, auth: false });
 * await app.listen({ port: 8080 });
 * await ready; // /readyz answers 200
 * process.once('SIGTERM', () => void close());
 */
export async function buildServer(options: ServeOptions): Promise<BuiltServer> {
  const resolved = resolveServeOptions(options);
  const limits = resolved.limits;
  const app = fastify({
    logger: resolved.logger ?? false,
    bodyLimit: limits.bodyBytes,
    // The request log (sampled, in the store) is the access log; pino logs errors and model swaps only.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : timeOrderedUuid();
    },
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
    // Errors fastify answers before routing (a malformed URL) get the same JSON error body as everything else.
    frameworkErrors: (error, request, reply) => {
      const { status, body } = errorResponse(error, limits, String(request.id));
      void (reply as FastifyReply).status(status).type('application/json; charset=utf-8').send(body);
    },
  });

  // The request log and live sketches write from the event loop: their SQLite commits must not run checkpoints.
  await resolved.store.checkpointInBackground?.(app.log);
  const metrics = new ServeMetrics();
  const log = new RequestLog({
    store: resolved.store,
    sample: resolved.logSample,
    retentionDays: resolved.retentionDays,
    logger: app.log,
  });
  const monitoring = resolved.card.monitoring;
  const live = resolved.monitoring
    ? new LiveMonitor({
        store: resolved.store,
        bucketSeconds: monitoring.bucketSeconds,
        retentionHours: monitoring.retentionHours,
        publishIntervalMs: monitoring.publishIntervalMs,
        logger: app.log,
        profiles: async (ref) => {
          const version = await resolved.store.registry.resolveVersion(
            ref.tenant,
            `${ref.name}@${ref.version}`,
          );
          return loadReferenceProfile(await materializeVersion(resolved.store, version, resolved.cacheDir!));
        },
      })
    : null;
  const models = new ModelPool({
    store: resolved.store,
    cacheRoot: resolved.cacheDir!,
    runtime: {
      kind: resolved.runtime ?? 'native',
      threads: resolved.onnxThreads,
      workers: resolved.onnxWorkers,
    },
    pollIntervalMs: resolved.pollIntervalMs,
    metrics,
    logger: app.log,
    // The reference profile loads with the model, so monitoring checks tokens from the first request on.
    ...(live ? { alongside: (version: ModelVersion) => live.profileFor(version) } : {}),
  });
  const accessors = makeCallerAccessors();
  const ctx: ServeContext = {
    options: resolved,
    limits,
    store: resolved.store,
    card: resolved.card,
    models,
    metrics,
    log,
    live,
    caller: accessors.caller,
    requireAdmin: accessors.requireAdmin,
    draining: false,
  };

  metrics.setReadySource(() => isReady(ctx));
  if (live)
    metrics.setLiveSource(
      () => liveGaugeRows(live, models.loaded(), monitoring),
      () => live.bucketCount,
    );
  installErrorHandler(app, { limits, metrics });
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  installAuth(app, ctx);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Sapphire',
        version: pkg.version,
        description: `${pkg.description ?? 'Sapphire'} Errors answer {"error": {"code", "message", "details": {"hint", …}}}.`,
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'an API key from `sapphire tenants key`' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  for (const routes of [
    healthRoutes,
    predictRoutes,
    registryRoutes,
    overrideRoutes,
    feedbackRoutes,
    monitorRoutes,
    projectRoutes,
    datasetRoutes,
    runRoutes,
    analysisRoutes,
    annotateRoutes,
  ])
    await app.register(async (scope) => routes(scope, ctx));
  installUi(app);

  const ready = models.start();
  // Callers that never await `ready` must not crash the process with an unhandled rejection.
  ready.catch(() => {});

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      ctx.draining = true;
      try {
        await app.close();
      } finally {
        await models.close();
        await log.close();
        await live?.close();
      }
    })();
    return closing;
  };
  return { app, ctx, ready, close };
}
