import type { Command } from 'commander';
import { SapphireError } from '../../core/errors.ts';
import { renderTable } from '../../core/table.ts';
import type { ApiKeyInfo, ApiKeyScope, Tenant } from '../../store/serving-store.ts';
import { withProject } from '../context.ts';
import { type GlobalFlags, note, printJson, say } from '../output.ts';

const SCOPES: readonly ApiKeyScope[] = ['predict', 'admin'];

/** Shown with a new key: the store keeps only its hash. */
export const KEY_WARNING =
  'Store this key now: it cannot be shown again (only its hash is kept). Lost it? Revoke it and make a new one.';

function when(iso: string | null): string {
  return iso ? iso.replace('T', ' ').slice(0, 16) : '–';
}

function parseRateLimit(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new SapphireError('BAD_INPUT', `--rate-limit ${text} is not a positive whole number`, {
      path: 'rateLimitPerMinute',
      hint: 'give requests per minute over all the tenant’s keys, e.g. --rate-limit 600',
    });
  return n;
}

function parseScope(text: string): ApiKeyScope {
  if (!SCOPES.includes(text as ApiKeyScope))
    throw new SapphireError('BAD_INPUT', `unknown key scope "${text}"`, {
      path: 'scope',
      hint: 'use --scope predict (predict and feedback) or --scope admin (also overrides, promotions, feedback review)',
    });
  return text as ApiKeyScope;
}

function rateLimit(t: Tenant): string {
  return t.rateLimitPerMinute === null ? 'server default' : `${t.rateLimitPerMinute}/min`;
}

function renderKeys(keys: readonly ApiKeyInfo[]): string {
  return renderTable(
    keys.map((k) => [
      k.id,
      k.tenant,
      k.scope,
      `${k.prefix}…`,
      k.label ?? '',
      when(k.createdAt),
      when(k.revokedAt),
    ]),
    { header: ['id', 'tenant', 'scope', 'key', 'label', 'created', 'revoked'] },
  );
}

/** Registers `sapphire tenants …`: add, ls, key, keys, revoke (tenants and their API keys). */
export function registerTenantCommands(program: Command): void {
  const tenants = program
    .command('tenants')
    .description('tenants of the service and their API keys (stored hashed)');

  tenants
    .command('add')
    .description('add a tenant: its own models, overrides, feedback and keys')
    .argument('<id>', 'tenant id: letters, digits, "-" or "_", e.g. acme')
    .option('--rate-limit <n>', "requests per minute over all the tenant's keys (default: the server's)")
    .action(async (id: string, opts: { rateLimit?: string }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const rateLimitPerMinute = opts.rateLimit === undefined ? null : parseRateLimit(opts.rateLimit);
      await withProject(flags, [], async (ctx) => {
        const tenant = await ctx.store.tenants.createTenant({ id, rateLimitPerMinute });
        if (flags.json) return printJson(tenant);
        say(`Added tenant ${tenant.id} (rate limit: ${rateLimit(tenant)}).`);
        note(`Make it an API key: sapphire tenants key ${tenant.id} [--scope admin]`);
      });
    });

  tenants
    .command('ls')
    .description('list tenants with their rate limits and active keys')
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      await withProject(flags, [], async (ctx) => {
        const list = await ctx.store.tenants.listTenants();
        const keys = await ctx.store.tenants.listApiKeys();
        const active = (t: Tenant) => keys.filter((k) => k.tenant === t.id && !k.revokedAt).length;
        if (flags.json) return printJson(list.map((t) => ({ ...t, activeKeys: active(t) })));
        say(
          renderTable(
            list.map((t) => [t.id, rateLimit(t), active(t), when(t.createdAt)]),
            { header: ['tenant', 'rate limit', 'active keys', 'created'] },
          ),
        );
      });
    });

  tenants
    .command('key')
    .description('make a new API key for a tenant (printed once: only its hash is stored)')
    .argument('<tenant>', 'tenant id')
    .option(
      '--scope <scope>',
      'predict (predict, feedback) or admin (also overrides, promotions, review)',
      'predict',
    )
    .option('--label <text>', 'what the key is for, e.g. "web shop"')
    .action(async (tenant: string, opts: { scope: string; label?: string }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const scope = parseScope(opts.scope);
      await withProject(flags, [], async (ctx) => {
        await ctx.store.tenants.getTenant(tenant);
        const { key, info } = await ctx.store.tenants.createApiKey({
          tenant,
          scope,
          label: opts.label ?? null,
        });
        if (flags.json) return printJson({ key, info, warning: KEY_WARNING });
        note(`New ${scope} key ${info.id} for tenant ${tenant}${info.label ? ` (${info.label})` : ''}:`);
        say(key);
        note(`warning: ${KEY_WARNING}`);
        note('Send it as `Authorization: Bearer <key>` or `X-API-Key: <key>`.');
      });
    });

  tenants
    .command('keys')
    .description('list API keys (never the keys themselves: id, prefix, scope, label, revoked)')
    .argument('[tenant]', 'only the keys of this tenant')
    .action(async (tenant: string | undefined, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      await withProject(flags, [], async (ctx) => {
        if (tenant) await ctx.store.tenants.getTenant(tenant);
        const keys = await ctx.store.tenants.listApiKeys(tenant);
        if (flags.json) return printJson(keys);
        if (keys.length === 0)
          return say(
            `No API keys${tenant ? ` for tenant ${tenant}` : ''}. Make one: sapphire tenants key ${tenant ?? '<tenant>'}`,
          );
        say(renderKeys(keys));
      });
    });

  tenants
    .command('revoke')
    .description('revoke an API key (a running server stops accepting it within seconds)')
    .argument('<key>', 'the key id or its prefix, as listed by `sapphire tenants keys`')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      await withProject(flags, [], async (ctx) => {
        const info = await ctx.store.tenants.revokeApiKey(ref.replace(/…$/, ''));
        if (flags.json) return printJson(info);
        say(`Revoked ${info.scope} key ${info.id} (${info.prefix}…) of tenant ${info.tenant}.`);
      });
    });
}
