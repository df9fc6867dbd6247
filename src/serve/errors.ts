import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, type ErrorDetails, SapphireError } from '../core/errors.ts';
import type { ServeLimits } from './context.ts';
import type { ServeMetrics } from './metrics.ts';

/** The JSON body of every error response: `{ error: { code, message, details: { hint, … } } }`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: ErrorDetails };
}

/** An error response: HTTP status and body. */
export interface ErrorResponse {
  status: number;
  body: ErrorBody;
}

/** One failure reported by the JSON-schema validator (ajv). */
interface SchemaProblem {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

const bytes = (n: number): string => n.toLocaleString('en-US');

/** `/texts/3/x` → `texts[3].x`; the empty path is the whole value. */
export function fieldPath(instancePath: string, extra?: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  return out;
}

function describeProblem(p: SchemaProblem, where: string): { path: string; message: string } {
  const context =
    where === 'querystring' ? 'query parameter' : where === 'params' ? 'path parameter' : `${where} field`;
  if (p.keyword === 'required') {
    const path = fieldPath(p.instancePath, String(p.params.missingProperty));
    return { path, message: `${context} ${path} is missing` };
  }
  if (p.keyword === 'additionalProperties') {
    const path = fieldPath(p.instancePath, String(p.params.additionalProperty));
    return { path, message: `${context} ${path} is not allowed here` };
  }
  const path = fieldPath(p.instancePath);
  const subject = path === '' ? where : `${context} ${path}`;
  if (p.keyword === 'enum' && Array.isArray(p.params.allowedValues))
    return { path, message: `${subject} must be one of ${p.params.allowedValues.join(', ')}` };
  return { path, message: `${subject} ${p.message ?? `fails ${p.keyword}`}` };
}

function body(code: ErrorCode, message: string, details: ErrorDetails): ErrorBody {
  return { error: { code, message, details } };
}

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 429) return 'TOO_MANY_REQUESTS';
  if (status === 503) return 'UNAVAILABLE';
  return 'BAD_INPUT';
}

/**
 * Turns anything a route or fastify throws into the HTTP status and JSON body the API answers with: a
 * SapphireError keeps its code and details; fastify's body-size, content-type, JSON and schema errors become
 * PAYLOAD_TOO_LARGE, BAD_INPUT and DATA_INVALID with the field path and a hint; anything else is INTERNAL
 * with a generic message (the caller logs the real one).
 *
 * @example
 * const { status, body } = errorResponse(new NotFoundError('no model "x"'), limits, 'req-1'); // 404
 */
export function errorResponse(error: unknown, limits: ServeLimits, requestId: string): ErrorResponse {
  if (error instanceof SapphireError) return { status: error.status, body: error.toJSON() };
  const e = (error ?? {}) as Partial<FastifyError> & { validation?: SchemaProblem[]; status?: number };
  const code = typeof e.code === 'string' ? e.code : '';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) {
    return {
      status: 413,
      body: body(
        'PAYLOAD_TOO_LARGE',
        `the request body is larger than the limit of ${bytes(limits.bodyBytes)} bytes`,
        {
          limitBytes: limits.bodyBytes,
          hint: 'send fewer or shorter texts per request (split a batch into several requests), or raise serve.limits.bodyBytes in sapphire.yaml',
        },
      ),
    };
  }
  if (Array.isArray(e.validation) && e.validation.length > 0) {
    const where = String((e as { validationContext?: string }).validationContext ?? 'body');
    const problems = e.validation.map((p) => describeProblem(p, where));
    const first = problems[0]!;
    return {
      status: 422,
      body: body('DATA_INVALID', first.message, {
        path: first.path,
        ...(problems.length > 1 ? { problems } : {}),
        hint: 'fix the request to match the schema of this route (see /docs)',
      }),
    };
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return {
      status: 415,
      body: body('BAD_INPUT', e.message ?? 'unsupported content type', {
        hint: 'send a JSON body with the header Content-Type: application/json',
      }),
    };
  }
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return {
      status: 400,
      body: body('BAD_INPUT', 'the request body is empty but its Content-Type is application/json', {
        hint: 'send a JSON object, e.g. {"text": "…"}, or leave out the Content-Type header',
      }),
    };
  }
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (error instanceof SyntaxError && e.statusCode === 400)) {
    return {
      status: 400,
      body: body('BAD_INPUT', 'the request body is not valid JSON', {
        hint: 'check the JSON (quotes, commas, escapes) and send it with Content-Type: application/json',
      }),
    };
  }
  const status = e.statusCode ?? e.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const errorCode = codeForStatus(status);
    const hint =
      errorCode === 'TOO_MANY_REQUESTS'
        ? 'wait for the time in Retry-After, then send again (batch texts to send fewer requests)'
        : status === 415
          ? 'send a JSON body with the header Content-Type: application/json'
          : 'check the request against the API description at /docs';
    return { status, body: body(errorCode, e.message ?? 'bad request', { hint }) };
  }
  return {
    status: 500,
    body: body('INTERNAL', 'internal error while answering the request', {
      requestId,
      hint: 'the server logged the details under this request id; report it if it keeps happening',
    }),
  };
}

/**
 * Installs the error handler (every error answers the JSON error body with its mapped status, is counted in
 * `sapphire_errors_total`, and 5xx errors are logged) and the handler for unknown routes (404 NOT_FOUND).
 *
 * @example
 * installErrorHandler(app, { limits, metrics });
 */
export function installErrorHandler(
  app: FastifyInstance,
  options: { limits: ServeLimits; metrics: ServeMetrics },
): void {
  const { limits, metrics } = options;
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = errorResponse(error, limits, String(request.id));
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    metrics.observeError(request.routeOptions.url ?? '(none)', body.error.code, status);
    return reply.status(status).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const status = 404;
    metrics.observeError('(none)', 'NOT_FOUND', status);
    const path = request.url.split('?')[0] ?? request.url;
    return reply
      .status(status)
      .type('application/json; charset=utf-8')
      .send(
        body('NOT_FOUND', `no route ${request.method} ${path}`, {
          hint: 'see the API description at /docs (predict is POST /v1/models/{name}/predict)',
        }),
      );
  });
}
