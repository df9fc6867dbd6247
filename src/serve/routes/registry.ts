import type { FastifyRequest } from 'fastify';
import { DataError, SapphireError } from '../../core/errors.ts';
import { promoteVersion } from '../../registry/promotion.ts';
import { PRODUCTION_ALIAS, type RegisteredModel } from '../../store/serving-store.ts';
import type { RoutePlugin } from '../context.ts';

/** Promotions shown by `GET /v1/models/{name}` (newest first). */
const RECENT_PROMOTIONS = 20;

const registeredModelSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    tenant: { type: 'string' },
    name: { type: 'string' },
    task: { type: 'string', enum: ['ner', 'classify', 'multilabel'] },
    versionCount: { type: 'integer' },
    latestVersion: { type: 'integer' },
    aliases: { type: 'object', additionalProperties: { type: 'integer' }, description: 'alias → version' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

const modelVersionSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    tenant: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'integer' },
    architecture: { type: 'string' },
    task: { type: 'string' },
    runId: { type: ['string', 'null'] },
    source: { type: 'string' },
    files: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: { name: { type: 'string' }, hash: { type: 'string' }, size: { type: 'integer' } },
      },
    },
    config: { type: 'object', additionalProperties: true },
    metrics: { type: 'object', additionalProperties: { type: 'number' } },
    datasetVersions: { type: 'array', items: { type: 'string' } },
    description: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
    createdBy: { type: 'string' },
    aliases: { type: 'array', items: { type: 'string' } },
  },
} as const;

const gateOutcomeSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    gate: { type: 'string' },
    passed: { type: 'boolean' },
    summary: { type: 'string' },
    details: { type: 'object', additionalProperties: true },
  },
} as const;

const promotionRecordSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    tenant: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'integer' },
    alias: { type: 'string' },
    previousVersion: { type: ['integer', 'null'] },
    outcome: { type: 'string', enum: ['promoted', 'refused'] },
    forced: { type: 'boolean' },
    reason: { type: ['string', 'null'] },
    gates: { type: 'array', items: gateOutcomeSchema },
    actor: { type: 'string' },
    createdAt: { type: 'string' },
  },
} as const;

const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', description: 'registered model name' } },
} as const;

interface NameParams {
  name: string;
}

interface PromoteBody {
  version: number | string;
  to?: string;
  force?: boolean;
  reason?: string | null;
}

/**
 * The tenant's model registry over HTTP: `GET /v1/models`, `GET /v1/models/{name}` (versions, aliases, recent
 * promotions) and `POST /v1/models/{name}/promote` (admin; 200 when promoted, 409 with every gate when refused).
 *
 * @example
 * await app.register((scope) => registryRoutes(scope, ctx));
 */
export const registryRoutes: RoutePlugin = (app, ctx) => {
  const { store } = ctx;

  /** The caller's model by name; NotFoundError (never another tenant's) when it has none of that name. */
  async function modelOf(tenant: string, name: string): Promise<RegisteredModel> {
    const found = (await store.registry.listModels(tenant)).find((m) => m.name === name);
    if (!found) {
      // The registry's own NotFoundError names what this tenant has and what to do.
      await store.registry.listVersions(tenant, name);
      throw new SapphireError('NOT_FOUND', `no model named "${name}"`, {
        hint: 'list the registered models with GET /v1/models',
      });
    }
    return found;
  }

  app.get(
    '/v1/models',
    {
      schema: {
        tags: ['registry'],
        summary: "The caller's registered models with their aliases",
        response: {
          200: {
            type: 'object',
            required: ['models'],
            properties: { models: { type: 'array', items: registeredModelSchema } },
          },
        },
      },
    },
    async (request) => {
      const { tenant } = ctx.caller(request);
      return { models: await store.registry.listModels(tenant) };
    },
  );

  app.get(
    '/v1/models/:name',
    {
      schema: {
        tags: ['registry'],
        summary: 'One model: its versions (newest first), aliases and recent promotions',
        params: nameParams,
        response: {
          200: {
            type: 'object',
            required: ['model', 'versions', 'promotions'],
            properties: {
              model: registeredModelSchema,
              versions: { type: 'array', items: modelVersionSchema },
              promotions: { type: 'array', items: promotionRecordSchema },
            },
          },
        },
      },
    },
    async (request: FastifyRequest<{ Params: NameParams }>) => {
      const { tenant } = ctx.caller(request);
      const { name } = request.params;
      const model = await modelOf(tenant, name);
      const [versions, promotions] = await Promise.all([
        store.registry.listVersions(tenant, name),
        store.registry.listPromotions(tenant, name),
      ]);
      return { model, versions, promotions: promotions.slice(0, RECENT_PROMOTIONS) };
    },
  );

  app.post(
    '/v1/models/:name/promote',
    {
      schema: {
        tags: ['registry'],
        summary: 'Point an alias (default production) at a version once every promotion gate passes (admin)',
        description:
          "Runs the gates of the card's `promotion:` section. 200 `{promoted: true, record, gates}` when promoted; " +
          '409 CONFLICT with `details.gates` (each gate with its numbers) when refused. `force: true` (with a ' +
          '`reason`) promotes anyway and is recorded.',
        params: nameParams,
        body: {
          type: 'object',
          required: ['version'],
          additionalProperties: false,
          properties: {
            version: {
              anyOf: [
                { type: 'integer', minimum: 1 },
                { type: 'string', minLength: 1 },
              ],
              description: 'version number, or an alias such as `staging`',
            },
            to: { type: 'string', default: PRODUCTION_ALIAS, description: 'alias to move' },
            force: { type: 'boolean', default: false, description: 'promote although a gate failed' },
            reason: { type: ['string', 'null'], description: 'why (required with force)' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['promoted', 'record', 'gates'],
            properties: {
              promoted: { type: 'boolean' },
              record: promotionRecordSchema,
              gates: { type: 'array', items: gateOutcomeSchema },
            },
          },
        },
      },
    },
    async (request: FastifyRequest<{ Params: NameParams; Body: PromoteBody }>) => {
      const caller = ctx.requireAdmin(request);
      const { name } = request.params;
      const { version, to = PRODUCTION_ALIAS, force = false } = request.body;
      const reason = request.body.reason?.trim() || null;
      if (force && !reason) {
        throw new DataError('a forced promotion needs a reason', {
          path: 'reason',
          hint: 'say why the gates may be skipped, e.g. "reason": "hotfix for a broken tokenizer"; it is recorded',
        });
      }
      await modelOf(caller.tenant, name);
      const ref = `${name}@${version}`;
      const outcome = await promoteVersion({
        store,
        card: ctx.card,
        projectDir: ctx.options.projectDir,
        tenant: caller.tenant,
        ref,
        alias: to,
        force,
        reason,
        actor: caller.actor,
        ...(ctx.options.cacheDir ? { cacheRoot: ctx.options.cacheDir } : {}),
        onProgress: (message) => request.log.info({ ref, alias: to }, message),
      });
      if (!outcome.promoted) {
        const failed = outcome.gates.filter((g) => !g.passed);
        throw new SapphireError(
          'CONFLICT',
          `promotion of ${ref} to ${to} refused: ${failed.map((g) => `${g.gate}: ${g.summary}`).join('; ') || 'a gate failed'}`,
          {
            hint: 'improve the model and register a new version, or send "force": true with a "reason" (recorded)',
            gates: outcome.gates,
            record: outcome.record,
          },
        );
      }
      return outcome;
    },
  );
};
