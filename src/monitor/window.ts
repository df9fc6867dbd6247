import { SapphireError } from '../core/errors.ts';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A monitoring window as written in flags and sapphire.yaml: a whole number and a unit, e.g. `15m`, `1h`, `7d`. */
export const WINDOW_PATTERN = /^(\d+)(s|m|h|d)$/;

/**
 * Parses a window such as `90s`, `15m`, `1h` or `2d` into milliseconds; BAD_INPUT naming `path` otherwise.
 *
 * @example
 * parseWindow('1h'); // 3600000
 */
export function parseWindow(text: string, path = '--window'): number {
  const match = WINDOW_PATTERN.exec(text.trim());
  const ms = match ? Number(match[1]) * UNITS[match[2]!]! : 0;
  if (!match || ms <= 0)
    throw new SapphireError('BAD_INPUT', `${path} "${text}" is not a window like 15m, 1h or 7d`, {
      path,
      hint: 'write a whole number and one of s, m, h, d, e.g. --window 1h',
    });
  return ms;
}
