import { userInfo } from 'node:os';

/**
 * Who is acting from this machine, recorded with registrations, promotions and override changes:
 * `SAPPHIRE_USER` when set, else `user:<login name>`.
 *
 * @example
 * localActor(); // 'user:alice'
 */
export function localActor(): string {
  const fromEnv = process.env.SAPPHIRE_USER?.trim();
  if (fromEnv) return fromEnv;
  try {
    return `user:${userInfo().username}`;
  } catch {
    return 'user:unknown';
  }
}

/** The tenant CLI commands act for: `--tenant`, else `SAPPHIRE_TENANT`, else `default`. */
export function cliTenant(flag?: string): string {
  return flag?.trim() || process.env.SAPPHIRE_TENANT?.trim() || 'default';
}
