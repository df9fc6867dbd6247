import type { FastifyRequest } from 'fastify';
import { DataError } from '../../core/errors.ts';
import { type Annotation, annotatorAgreement, buildQueue, saveAnnotations } from '../../data/annotation.ts';
import type { RoutePlugin } from '../context.ts';
import { objectSchema, requireProjectAdmin } from '../project-access.ts';

interface QueueQuery {
  annotator: string;
  model?: string;
  split?: string;
  limit?: number;
}

interface SaveBody {
  base: string;
  annotator: string;
  annotations: Annotation[];
}

const spanSchema = {
  type: 'object',
  required: ['start', 'end', 'label'],
  additionalProperties: false,
  properties: { start: { type: 'integer' }, end: { type: 'integer' }, label: { type: 'string' } },
} as const;

/**
 * Annotation for the UI: `GET /v1/annotate/{dataset}/queue` (the annotator's open examples, most uncertain first
 * for the served model, with its answers as pre-annotations), `POST /v1/annotate/{dataset}` (saves a batch as a
 * new dataset version) and `GET /v1/annotate/{dataset}/agreement` (Cohen's kappa / span F1 between annotators).
 *
 * @example
 * await app.register((scope) => annotateRoutes(scope, ctx));
 */
export const annotateRoutes: RoutePlugin = (app, ctx) => {
  const { store, card } = ctx;
  app.get(
    '/v1/annotate/:dataset/queue',
    {
      schema: {
        tags: ['annotate'],
        summary:
          "An annotator's queue: unlabelled-by-them examples, most uncertain first, with pre-annotations",
        params: { type: 'object', properties: { dataset: { type: 'string' } } },
        querystring: {
          type: 'object',
          required: ['annotator'],
          properties: {
            annotator: { type: 'string', minLength: 1, maxLength: 100 },
            model: {
              type: 'string',
              description:
                'registered model (or name@version) for pre-annotations and uncertainty; none: stored order',
            },
            split: { type: 'string' },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
          },
        },
        response: {
          200: objectSchema('the queue', {
            version: { type: 'string' },
            task: { type: 'string' },
            labels: { type: 'array', items: { type: 'string' } },
            annotator: { type: 'string' },
            total: { type: 'integer' },
            done: { type: 'integer' },
            items: { type: 'array', items: { type: 'object', additionalProperties: true } },
          }),
        },
      },
    },
    async (request: FastifyRequest<{ Params: { dataset: string }; Querystring: QueueQuery }>) => {
      const caller = requireProjectAdmin(ctx, request);
      const { annotator, model, split, limit } = request.query;
      const served = model ? await ctx.models.get(caller.tenant, model) : null;
      return buildQueue(store, request.params.dataset, {
        task: card.task,
        labels: card.labels,
        annotator,
        ...(served
          ? { predict: (texts: string[]) => served.model.predict(texts.map((text) => ({ text }))) }
          : {}),
        ...(split !== undefined ? { split } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
    },
  );

  app.post(
    '/v1/annotate/:dataset',
    {
      schema: {
        tags: ['annotate'],
        summary: 'Saves annotations as a new version of the dataset (operation `annotate`)',
        params: { type: 'object', properties: { dataset: { type: 'string' } } },
        body: {
          type: 'object',
          required: ['base', 'annotator', 'annotations'],
          additionalProperties: false,
          properties: {
            base: { type: 'string', description: "the queue's version (must still be the newest)" },
            annotator: { type: 'string', minLength: 1, maxLength: 100 },
            annotations: {
              type: 'array',
              minItems: 1,
              maxItems: 5000,
              items: {
                type: 'object',
                required: ['id'],
                additionalProperties: false,
                properties: {
                  id: { type: 'string' },
                  labels: { type: 'array', items: { type: 'string' } },
                  spans: { type: 'array', items: spanSchema },
                },
              },
            },
          },
        },
        response: {
          200: objectSchema('the new version', {
            version: { type: 'object', additionalProperties: true },
            created: { type: 'boolean' },
          }),
        },
      },
    },
    async (request: FastifyRequest<{ Params: { dataset: string }; Body: SaveBody }>) => {
      requireProjectAdmin(ctx, request);
      const { base, annotator, annotations } = request.body;
      const baseVersion = await store.getDatasetVersion(base);
      const named = await store.getDatasetVersion(request.params.dataset);
      if (named.name !== baseVersion.name) {
        throw new DataError(`base ${base} is not a version of ${named.name}`, {
          path: 'base',
          hint: "send the queue's version",
        });
      }
      return saveAnnotations(store, { base, annotator, task: card.task, labels: card.labels, annotations });
    },
  );

  app.get(
    '/v1/annotate/:dataset/agreement',
    {
      schema: {
        tags: ['annotate'],
        summary:
          "Agreement between annotators on shared items: Cohen's kappa (classes) or span F1 (entities)",
        params: { type: 'object', properties: { dataset: { type: 'string' } } },
        response: {
          200: objectSchema('one entry per pair of annotators', {
            pairs: { type: 'array', items: { type: 'object', additionalProperties: true } },
          }),
        },
      },
    },
    async (request: FastifyRequest<{ Params: { dataset: string } }>) => {
      requireProjectAdmin(ctx, request);
      return { pairs: await annotatorAgreement(store, request.params.dataset, card.task) };
    },
  );
};
