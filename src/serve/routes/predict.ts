import { performance } from 'node:perf_hooks';
import type { FastifyRequest } from 'fastify';
import { SapphireError } from '../../core/errors.ts';
import { type ModelInput, predictMany } from '../../models/model.ts';
import type { LoggedPrediction } from '../../store/serving-store.ts';
import { htmlToText } from '../../text/html-to-text.ts';
import type { OffsetMap } from '../../text/offset-map.ts';
import type { RoutePlugin, ServeContext } from '../context.ts';
import { attachOverridesCache, OverridesCache } from '../overrides-cache.ts';
import { applyOverrides, type CompiledOverrides, type ServedResult } from '../overrides-engine.ts';

/** The body of a predict request: exactly one of the four fields. */
export interface PredictBody {
  text?: string;
  texts?: string[];
  html?: string;
  htmls?: string[];
}

/** A served answer as the API returns it: HTML input adds the extracted text and source offsets of entities. */
export type PredictResult = ServedResult & { text?: string };

const INPUT_FIELDS = ['text', 'texts', 'html', 'htmls'] as const;

/** Class scores returned (and logged) per answer: the best few, not all of a 77-class model's. */
export const MAX_SCORES = 10;

const labelSchema = {
  type: 'object',
  properties: {
    label: { type: 'string' },
    score: { type: 'number' },
    override: { type: 'string', description: 'id of the always-rule that set this label' },
  },
} as const;

const resultSchema = {
  type: 'object',
  properties: {
    labels: { type: 'array', items: labelSchema, description: 'classify/multilabel: the chosen labels' },
    scores: {
      type: 'array',
      description: `classify/multilabel: the best classes (at most ${MAX_SCORES}) with their probabilities, best first`,
      items: { type: 'object', properties: { label: { type: 'string' }, score: { type: 'number' } } },
    },
    entities: {
      type: 'array',
      description: 'ner: entities in character offsets into the text (and the HTML for HTML input)',
      items: {
        type: 'object',
        properties: {
          start: { type: 'integer' },
          end: { type: 'integer' },
          text: { type: 'string' },
          label: { type: 'string' },
          score: { type: 'number' },
          override: { type: 'string', description: 'id of the always-rule that made this entity' },
          htmlStart: { type: 'integer', description: 'HTML input: start offset in the source HTML' },
          htmlEnd: { type: 'integer', description: 'HTML input: end offset in the source HTML' },
        },
      },
    },
    overrides: {
      type: 'array',
      description: 'every override rule that changed this answer',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          action: { type: 'string', enum: ['always', 'never'] },
          label: { type: 'string' },
          target: { type: 'string', enum: ['class', 'entity'] },
        },
      },
    },
    text: { type: 'string', description: 'HTML input: the text extracted from the page' },
  },
} as const;

const modelSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: 'integer' },
    architecture: { type: 'string' },
  },
} as const;

/** A count with thousands separators, for messages. */
const int = (n: number): string => n.toLocaleString('en-US');

interface Item {
  text: string;
  map: OffsetMap | null;
}

/** Turns the body into the texts to predict, checking the limits; throws DATA_INVALID naming the field. */
function itemsOf(body: PredictBody, ctx: ServeContext): { items: Item[]; batch: boolean } {
  const given = INPUT_FIELDS.filter((f) => body[f] !== undefined);
  if (given.length !== 1) {
    throw new SapphireError(
      'DATA_INVALID',
      given.length === 0
        ? 'the body has none of text, texts, html or htmls'
        : `the body has ${given.join(' and ')}; send exactly one of text, texts, html or htmls`,
      { path: given.length === 0 ? '' : given[1]!, hint: 'send e.g. {"text": "…"} or {"texts": ["…", "…"]}' },
    );
  }
  const field = given[0]!;
  const { textChars, batchSize } = ctx.limits;
  const html = field === 'html' || field === 'htmls';
  const raw = field === 'text' || field === 'html' ? [body[field] as string] : (body[field] as string[]);
  const batch = field === 'texts' || field === 'htmls';
  if (batch && raw.length > batchSize) {
    throw new SapphireError(
      'DATA_INVALID',
      `${field} has ${int(raw.length)} items; the limit is ${int(batchSize)} per request`,
      {
        path: field,
        limit: batchSize,
        hint: `send the texts in several requests of at most ${int(batchSize)}, or raise serve.limits.batchSize in sapphire.yaml`,
      },
    );
  }
  const items: Item[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const value = raw[i]!;
    if (value.length > textChars) {
      const path = batch ? `${field}[${i}]` : field;
      throw new SapphireError(
        'DATA_INVALID',
        `${path} has ${int(value.length)} characters; the limit is ${int(textChars)}`,
        {
          path,
          limit: textChars,
          hint: `split it into parts of at most ${int(textChars)} characters (e.g. by paragraph) and send them in texts, or raise serve.limits.textChars in sapphire.yaml`,
        },
      );
    }
    if (html) {
      const page = htmlToText(value);
      items[i] = { text: page.text, map: page.map };
    } else items[i] = { text: value, map: null };
  }
  return { items, batch };
}

/** Adds the extracted text and the entities' source offsets to the answer for an HTML input. */
function withHtmlOffsets(result: ServedResult, item: Item): PredictResult {
  const map = item.map;
  if (!map) return result;
  const out: PredictResult = { ...result, text: item.text };
  if (result.entities) {
    out.entities = result.entities.map((e) => {
      const [htmlStart, htmlEnd] = map.toSourceRange(e.start, e.end);
      return { ...e, htmlStart, htmlEnd };
    });
  }
  return out;
}

/**
 * `POST /v1/models/{name}/predict`: one text or a batch, as plain text or HTML, predicted by the caller's model
 * (`name`, `name@3` or `name@staging`), with override rules applied after the model; counted in the metrics and
 * the request log. The hot path reads nothing from the store: models and compiled rules are cached.
 *
 * @example
 * await predictRoutes(app, ctx);
 * // POST /v1/models/intents/predict {"text": "where is my card?"}
 * //  → { requestId, model: { name: 'intents', version: 3, architecture: 'linear.v1' }, result: { labels, scores, overrides } }
 */
export const predictRoutes: RoutePlugin = (app, ctx) => {
  const { pollIntervalMs = 1000 } = ctx.options;
  const overrides = new OverridesCache(ctx.store, pollIntervalMs, app.log);
  attachOverridesCache(ctx, overrides);
  app.addHook('onClose', async () => overrides.close());

  app.post(
    '/v1/models/:name/predict',
    {
      schema: {
        tags: ['predict'],
        summary: 'Predict labels or entities for one text or a batch, as plain text or HTML',
        description:
          'Send exactly one of `text`, `texts`, `html` or `htmls`. `name` is a registered model: `name` (its production ' +
          'version, else the newest), `name@3` (a version) or `name@staging` (an alias). Override rules are applied ' +
          'after the model; `overrides` lists the rules that changed an answer. Limits: body size, characters per ' +
          'text and texts per batch (413/422).',
        params: {
          type: 'object',
          required: ['name'],
          properties: {
            name: { type: 'string', description: 'model name, name@version or name@alias' },
          },
        },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            text: { type: 'string', description: 'one plain text' },
            texts: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'a batch of texts' },
            html: { type: 'string', description: 'one HTML page (entities get htmlStart/htmlEnd)' },
            htmls: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'a batch of pages' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              requestId: { type: 'string' },
              model: modelSchema,
              result: { ...resultSchema, description: 'the answer, for text or html' },
              results: { type: 'array', items: resultSchema, description: 'the answers, for texts or htmls' },
            },
          },
        },
      },
    },
    async (request: FastifyRequest<{ Params: { name: string }; Body: PredictBody }>) => {
      const started = performance.now();
      const caller = ctx.caller(request);
      const served = await ctx.models.get(caller.tenant, request.params.name);
      const { version, model } = served;
      try {
        const { items, batch } = itemsOf(request.body, ctx);
        const inputs: ModelInput[] = items.map((item) => ({ text: item.text }));
        const predictions = await predictMany(model, inputs);
        const cached = overrides.get(caller.tenant, version.name);
        const compiled: CompiledOverrides = cached instanceof Promise ? await cached : cached;
        const results: PredictResult[] = new Array(items.length);
        for (let i = 0; i < items.length; i++) {
          const item = items[i]!;
          const result = applyOverrides(compiled, version.task, item.text, predictions[i]!, MAX_SCORES);
          results[i] = withHtmlOffsets(result, item);
        }
        const requestId = String(request.id);
        const latencyMs = performance.now() - started;
        const createdAt = new Date().toISOString();
        const logged: LoggedPrediction[] = new Array(items.length);
        const live = ctx.live;
        for (let i = 0; i < results.length; i++) {
          const result = results[i]!;
          ctx.metrics.observeResult(version.name, version.version, result);
          live?.observe(version, items[i]!.text, result);
          for (const hit of result.overrides) {
            ctx.metrics.overrideHit(version.name, hit.id, hit.action);
            ctx.log.overrideHit(hit.id);
          }
          logged[i] = {
            requestId,
            item: i,
            tenant: caller.tenant,
            model: version.name,
            version: version.version,
            text: items[i]!.text,
            output: result as unknown as Record<string, unknown>,
            overridden: result.overrides.length > 0,
            latencyMs,
            createdAt,
          };
        }
        ctx.log.record(logged);
        ctx.metrics.observeRequest(
          { tenant: caller.tenant, model: version.name, version: version.version },
          latencyMs / 1000,
          items.length,
        );
        const answer = {
          requestId,
          model: { name: version.name, version: version.version, architecture: version.architecture },
        };
        return batch ? { ...answer, results } : { ...answer, result: results[0] };
      } catch (error) {
        ctx.log.countError(caller.tenant, version.name, version.version);
        throw error;
      }
    },
  );
};
