import type { FastifyRequest } from 'fastify';
import { DataError, NotFoundError } from '../../core/errors.ts';
import type { TaskKind } from '../../data/types.ts';
import type { FeedbackStatus, LoggedPrediction } from '../../store/serving-store.ts';
import type { RoutePlugin, ServeContext } from '../context.ts';

/** Most feedback items one `GET /v1/feedback` returns. */
const MAX_LIST = 1000;

const feedbackSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    tenant: { type: 'string' },
    requestId: { type: 'string' },
    item: { type: 'integer' },
    model: { type: ['string', 'null'] },
    version: { type: ['integer', 'null'] },
    rating: { type: ['string', 'null'], enum: ['up', 'down', null] },
    correction: { type: ['object', 'null'], additionalProperties: true },
    comment: { type: ['string', 'null'] },
    text: { type: ['string', 'null'] },
    status: { type: 'string', enum: ['new', 'accepted', 'rejected'] },
    createdAt: { type: 'string' },
  },
} as const;

interface FeedbackBody {
  requestId: string;
  item?: number;
  rating?: 'up' | 'down' | null;
  correction?: Record<string, unknown> | null;
  comment?: string | null;
}

interface FeedbackQuery {
  model?: string;
  status?: FeedbackStatus;
  limit?: number;
}

const SPAN_HINT =
  'a span is {"start", "end", "label"} with character offsets into the text the model saw (the extracted text for HTML input)';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function checkLabels(labels: unknown, path: string, known: readonly string[]): string[] {
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string' && l !== '')) {
    throw new DataError('labels must be an array of label names', {
      path,
      hint: 'e.g. {"labels": ["refund"]}',
    });
  }
  labels.forEach((label, i) => {
    if (known.length > 0 && !known.includes(label)) {
      throw new DataError(`unknown label "${label}"`, {
        path: `${path}[${i}]`,
        hint: `use one of: ${known.join(', ')}`,
      });
    }
  });
  if (new Set(labels).size !== labels.length) {
    throw new DataError('a label is listed twice', { path, hint: 'list each label once' });
  }
  return labels;
}

/**
 * Checks a correction against the task and the predicted text: `{labels: [...]}` (exactly one for classify) or
 * `{spans: [{start, end, label}]}` within the text, non-overlapping, for ner; DataError (422) naming the field
 * (`correction.spans[0].end`, the same path style as the schema errors of `src/serve/errors.ts`).
 */
export function checkCorrection(
  correction: unknown,
  task: TaskKind,
  text: string | null,
  labels: readonly string[],
): Record<string, unknown> {
  if (!isRecord(correction)) {
    throw new DataError('the correction must be an object', {
      path: 'correction',
      hint: task === 'ner' ? 'send {"spans": [{"start", "end", "label"}]}' : 'send {"labels": ["<label>"]}',
    });
  }
  const extra = Object.keys(correction).filter((k) => k !== (task === 'ner' ? 'spans' : 'labels'));
  if (task !== 'ner') {
    if (!('labels' in correction) || extra.length > 0) {
      throw new DataError(`a ${task} correction is {"labels": [...]}`, {
        path: extra.length > 0 ? `correction.${extra[0]}` : 'correction.labels',
        hint: 'send {"labels": ["<the right label>"]}',
      });
    }
    const checked = checkLabels(correction.labels, 'correction.labels', labels);
    if (task === 'classify' && checked.length !== 1) {
      throw new DataError(`a classify correction has exactly one label, not ${checked.length}`, {
        path: 'correction.labels',
        hint: 'send the one right class, e.g. {"labels": ["refund"]}',
      });
    }
    return { labels: checked };
  }
  if (!('spans' in correction) || extra.length > 0) {
    throw new DataError('a ner correction is {"spans": [{"start", "end", "label"}]}', {
      path: extra.length > 0 ? `correction.${extra[0]}` : 'correction.spans',
      hint: 'character offsets into the predicted text; an empty list means "no entities"',
    });
  }
  const spans = correction.spans;
  if (!Array.isArray(spans)) {
    throw new DataError('spans must be an array', {
      path: 'correction.spans',
      hint: 'send [] for no entities',
    });
  }
  const length = text?.length ?? Number.POSITIVE_INFINITY;
  const checked = spans.map((span, i) => {
    const path = `correction.spans[${i}]`;
    if (!isRecord(span)) throw new DataError('a span is {start, end, label}', { path, hint: SPAN_HINT });
    const { start, end, label } = span;
    if (!Number.isInteger(start) || (start as number) < 0) {
      throw new DataError('start must be a character offset (an integer ≥ 0)', {
        path: `${path}.start`,
        hint: SPAN_HINT,
      });
    }
    if (!Number.isInteger(end) || (end as number) <= (start as number) || (end as number) > length) {
      throw new DataError(`end must be an integer after start and at most the text length (${length})`, {
        path: `${path}.end`,
        hint: 'offsets count characters of the text the model saw (the extracted text for HTML input)',
      });
    }
    if (typeof label !== 'string' || label === '')
      throw new DataError('label must be a name', { path: `${path}.label`, hint: SPAN_HINT });
    if (labels.length > 0 && !labels.includes(label)) {
      throw new DataError(`unknown label "${label}"`, {
        path: `${path}.label`,
        hint: `use one of: ${labels.join(', ')}`,
      });
    }
    return { start: start as number, end: end as number, label };
  });
  const order = checked.map((s, i) => ({ ...s, i })).sort((a, b) => a.start - b.start || a.end - b.end);
  for (let k = 1; k < order.length; k++) {
    if (order[k]!.start < order[k - 1]!.end) {
      throw new DataError(`span overlaps span ${order[k - 1]!.i}`, {
        path: `correction.spans[${order[k]!.i}]`,
        hint: 'entities do not overlap; keep one of them',
      });
    }
  }
  return { spans: checked };
}

/** The prediction the feedback is about: from the prediction log, else the server's recent cache (then logged). */
async function findPrediction(
  ctx: ServeContext,
  tenant: string,
  requestId: string,
  item: number,
): Promise<LoggedPrediction | null> {
  const logged = await ctx.store.feedback.getLoggedPrediction(tenant, requestId, item);
  if (logged) return logged;
  const recent = ctx.log.recent(tenant, requestId, item);
  if (!recent || recent.tenant !== tenant) return null;
  // An unsampled prediction: log it now so the feedback is stored with what it rates.
  await ctx.store.feedback.logPredictions([recent]);
  return recent;
}

/** The task of the model that answered (from the registry), else the project's task. */
async function taskOf(ctx: ServeContext, prediction: LoggedPrediction): Promise<TaskKind> {
  try {
    return (
      await ctx.store.registry.resolveVersion(prediction.tenant, `${prediction.model}@${prediction.version}`)
    ).task;
  } catch {
    return ctx.card.task;
  }
}

/**
 * Feedback on served predictions: `POST /v1/feedback` (any key of the tenant; 201 `{id, status}`, 404 for a request
 * id this tenant did not make) and `GET /v1/feedback` (admin).
 *
 * @example
 * await app.register((scope) => feedbackRoutes(scope, ctx));
 */
export const feedbackRoutes: RoutePlugin = (app, ctx) => {
  const { store } = ctx;

  app.post(
    '/v1/feedback',
    {
      schema: {
        tags: ['feedback'],
        summary: 'Rate a served prediction and/or correct it',
        description:
          'requestId is the x-request-id (or `requestId`) of a predict response; item is the index in a batch. ' +
          'Send a rating, a correction or both. Corrections: {"labels": [...]} (classify: exactly one; ' +
          'multilabel) or {"spans": [{"start", "end", "label"}]} (ner; character offsets into the predicted text).',
        body: {
          type: 'object',
          required: ['requestId'],
          additionalProperties: false,
          properties: {
            requestId: { type: 'string', minLength: 1 },
            item: { type: 'integer', minimum: 0, default: 0 },
            rating: { type: ['string', 'null'], enum: ['up', 'down', null] },
            correction: {
              type: ['object', 'null'],
              additionalProperties: true,
              description: '{"labels": [...]} or {"spans": [{"start", "end", "label"}]}',
            },
            comment: { type: ['string', 'null'], maxLength: 10_000 },
          },
        },
        response: {
          201: {
            type: 'object',
            required: ['id', 'status'],
            properties: {
              id: { type: 'string' },
              status: { type: 'string', enum: ['new', 'accepted', 'rejected'] },
            },
          },
        },
      },
    },
    async (request: FastifyRequest<{ Body: FeedbackBody }>, reply) => {
      const { tenant } = ctx.caller(request);
      const body = request.body;
      const rating = body.rating ?? null;
      const hasCorrection = body.correction !== undefined && body.correction !== null;
      if (rating === null && !hasCorrection) {
        throw new DataError('feedback needs a rating or a correction', {
          path: 'rating',
          hint: 'send "rating": "up" or "down", and/or a "correction"',
        });
      }
      const item = body.item ?? 0;
      const prediction = await findPrediction(ctx, tenant, body.requestId, item);
      if (!prediction) {
        throw new NotFoundError(`no prediction with request id "${body.requestId}" (item ${item})`, {
          path: 'requestId',
          hint: 'send the requestId (x-request-id) of a predict response of this tenant; old predictions are purged after the retention period',
        });
      }
      const correction = hasCorrection
        ? checkCorrection(body.correction, await taskOf(ctx, prediction), prediction.text, ctx.card.labels)
        : null;
      const saved = await store.feedback.addFeedback({
        tenant,
        requestId: body.requestId,
        item,
        model: prediction.model,
        version: prediction.version,
        rating,
        correction,
        comment: body.comment?.trim() || null,
        text: prediction.text,
      });
      ctx.metrics.feedback(prediction.model, prediction.version, rating ?? 'none');
      return reply.code(201).send({ id: saved.id, status: saved.status });
    },
  );

  app.get(
    '/v1/feedback',
    {
      schema: {
        tags: ['feedback'],
        summary: "The tenant's feedback, newest first (admin)",
        querystring: {
          type: 'object',
          properties: {
            model: { type: 'string' },
            status: { type: 'string', enum: ['new', 'accepted', 'rejected'] },
            limit: { type: 'integer', minimum: 1, maximum: MAX_LIST, default: 100 },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['feedback'],
            properties: { feedback: { type: 'array', items: feedbackSchema } },
          },
        },
      },
    },
    async (request: FastifyRequest<{ Querystring: FeedbackQuery }>) => {
      const { tenant } = ctx.requireAdmin(request);
      const { model, status, limit = 100 } = request.query;
      const feedback = await store.feedback.listFeedback({
        tenant,
        ...(model ? { model } : {}),
        ...(status ? { status } : {}),
        limit,
      });
      return { feedback };
    },
  );
};
