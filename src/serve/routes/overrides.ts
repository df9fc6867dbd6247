import type { FastifyRequest } from 'fastify';
import { NotFoundError, SapphireError } from '../../core/errors.ts';
import type {
  NewOverride,
  OverrideAction,
  OverrideMatch,
  OverrideTarget,
} from '../../store/serving-store.ts';
import type { RoutePlugin } from '../context.ts';
import { overridesCacheOf } from '../overrides-cache.ts';
import { validateOverride } from '../overrides-engine.ts';

const overrideSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    tenant: { type: 'string' },
    model: { type: 'string' },
    action: { type: 'string', enum: ['always', 'never'] },
    match: { type: 'string', enum: ['exact', 'phrase', 'regex'] },
    pattern: { type: 'string' },
    flags: { type: 'string' },
    target: { type: 'string', enum: ['class', 'entity'] },
    label: { type: 'string' },
    note: { type: ['string', 'null'] },
    createdBy: { type: 'string' },
    createdAt: { type: 'string' },
    removedBy: { type: ['string', 'null'] },
    removedAt: { type: ['string', 'null'] },
    hits: { type: 'integer', description: 'times the rule changed a served answer' },
  },
} as const;

interface NameParams {
  name: string;
}

interface RuleParams extends NameParams {
  id: string;
}

interface OverrideBody {
  action: OverrideAction;
  match: OverrideMatch;
  pattern: string;
  flags?: string;
  target?: OverrideTarget;
  label: string;
  note?: string | null;
}

/**
 * Override rules of the caller's models: `GET /v1/models/{name}/overrides`, `POST …/overrides` (admin, 201) and
 * `DELETE …/overrides/{id}` (admin). The predict route picks changes up through the store's override revision.
 *
 * @example
 * await app.register((scope) => overrideRoutes(scope, ctx));
 */
export const overrideRoutes: RoutePlugin = (app, ctx) => {
  const { store, card } = ctx;

  /** The task of the caller's model (NotFoundError for an unknown name or another tenant's model). */
  async function taskOf(tenant: string, name: string) {
    const version = await store.registry.resolveVersion(tenant, name);
    return version.task;
  }

  app.get(
    '/v1/models/:name/overrides',
    {
      schema: {
        tags: ['overrides'],
        summary: "A model's active override rules (oldest first), with their hit counts",
        params: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', description: 'registered model name' } },
        },
        querystring: {
          type: 'object',
          properties: { all: { type: 'boolean', default: false, description: 'include removed rules' } },
        },
        response: {
          200: {
            type: 'object',
            required: ['overrides'],
            properties: { overrides: { type: 'array', items: overrideSchema } },
          },
        },
      },
    },
    async (request: FastifyRequest<{ Params: NameParams; Querystring: { all?: boolean } }>) => {
      const { tenant } = ctx.caller(request);
      const { name } = request.params;
      await taskOf(tenant, name);
      const overrides = await store.overrides.listOverrides(tenant, {
        model: name,
        includeRemoved: request.query.all === true,
      });
      return { overrides };
    },
  );

  app.post(
    '/v1/models/:name/overrides',
    {
      schema: {
        tags: ['overrides'],
        summary: 'Add an "always" or "never" rule to a model, applied after it (admin)',
        description:
          'exact: the whole text equals the pattern; phrase: whole words, any case; regex: a JavaScript regular ' +
          'expression with optional flags (imsu). target defaults to the model task: entity for ner, class otherwise.',
        params: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', description: 'registered model name' } },
        },
        body: {
          type: 'object',
          required: ['action', 'match', 'pattern', 'label'],
          additionalProperties: false,
          properties: {
            action: { type: 'string', enum: ['always', 'never'] },
            match: { type: 'string', enum: ['exact', 'phrase', 'regex'] },
            pattern: { type: 'string', minLength: 1 },
            flags: { type: 'string', default: '' },
            target: { type: 'string', enum: ['class', 'entity'] },
            label: { type: 'string', minLength: 1 },
            note: { type: ['string', 'null'] },
          },
        },
        response: { 201: overrideSchema },
      },
    },
    async (request: FastifyRequest<{ Params: NameParams; Body: OverrideBody }>, reply) => {
      const caller = ctx.requireAdmin(request);
      const { name } = request.params;
      const task = await taskOf(caller.tenant, name);
      const body = request.body;
      const input: NewOverride = {
        tenant: caller.tenant,
        model: name,
        action: body.action,
        match: body.match,
        pattern: body.pattern,
        flags: body.flags ?? '',
        target: body.target ?? (task === 'ner' ? 'entity' : 'class'),
        label: body.label,
        note: body.note?.trim() || null,
        createdBy: caller.actor,
      };
      validateOverride(input, task);
      if (card.labels.length > 0 && !card.labels.includes(input.label)) {
        throw new SapphireError('BAD_INPUT', `label "${input.label}" is not one of the project's labels`, {
          path: 'label',
          hint: `use one of: ${card.labels.join(', ')}`,
        });
      }
      const created = await store.overrides.addOverride(input);
      // The very next predict request applies it (otherwise the cache picks it up within one poll interval).
      await overridesCacheOf(ctx)?.invalidate(caller.tenant, name);
      return reply.code(201).send(created);
    },
  );

  app.delete(
    '/v1/models/:name/overrides/:id',
    {
      schema: {
        tags: ['overrides'],
        summary: 'Remove an override rule (admin); it is kept with who removed it and when',
        params: {
          type: 'object',
          required: ['name', 'id'],
          properties: {
            name: { type: 'string', description: 'registered model name' },
            id: { type: 'string', description: 'override id' },
          },
        },
        response: { 200: overrideSchema },
      },
    },
    async (request: FastifyRequest<{ Params: RuleParams }>) => {
      const caller = ctx.requireAdmin(request);
      const { name, id } = request.params;
      await taskOf(caller.tenant, name);
      const rules = await store.overrides.listOverrides(caller.tenant, { model: name, includeRemoved: true });
      const rule = rules.find((r) => r.id === id);
      if (!rule) {
        throw new NotFoundError(`model "${name}" has no override "${id}"`, {
          hint: `list its rules with GET /v1/models/${name}/overrides`,
        });
      }
      if (rule.removedAt) {
        throw new SapphireError(
          'CONFLICT',
          `override "${id}" was already removed by ${rule.removedBy ?? 'someone'} at ${rule.removedAt}`,
          { hint: 'nothing to do; add a new rule to bring it back' },
        );
      }
      const removed = await store.overrides.removeOverride(caller.tenant, id, caller.actor);
      await overridesCacheOf(ctx)?.invalidate(caller.tenant, name);
      return removed;
    },
  );
};
