import type { FastifyRequest } from 'fastify';
import { SapphireError } from '../core/errors.ts';
import { DEFAULT_TENANT } from '../store/serving-store.ts';
import type { Caller, ServeContext } from './context.ts';

/**
 * The caller of a route over project data (datasets, runs, studies, analysis, annotation, the coach): an admin key
 * of the project's own tenant (`default`, or anyone with `--no-auth`). Tenants are the service's customers: they
 * own models, overrides and feedback, never the project's training data, so another tenant's admin gets 403.
 */
export function requireProjectAdmin(ctx: ServeContext, request: FastifyRequest): Caller {
  const caller = ctx.requireAdmin(request);
  if (caller.tenant !== DEFAULT_TENANT) {
    throw new SapphireError(
      'FORBIDDEN',
      `${request.method} ${request.routeOptions.url ?? request.url} reads the project's data, which belongs to tenant "${DEFAULT_TENANT}"; ${caller.actor} is tenant "${caller.tenant}"`,
      {
        hint: `use an admin key of tenant "${DEFAULT_TENANT}": \`sapphire tenants key ${DEFAULT_TENANT} --scope admin\``,
      },
    );
  }
  return caller;
}

/** A JSON object response documented in the OpenAPI without fixing every field (the library's types are the reference). */
export function objectSchema(
  description: string,
  properties: Record<string, unknown> = {},
): Record<string, unknown> {
  return { type: 'object', additionalProperties: true, description, properties };
}
