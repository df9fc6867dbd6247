/** Number formatting shared by the pages. */

/** A score with 3 decimals, `–` for none. */
export const score = (x: number | null | undefined): string =>
  x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(3);

/** A signed delta with 3 decimals. */
export const signed = (x: number | null | undefined): string =>
  x === null || x === undefined || Number.isNaN(x)
    ? '–'
    : `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(x).toFixed(3)}`;

/** A share as a percentage with one decimal. */
export const percent = (x: number | null | undefined): string =>
  x === null || x === undefined || Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)}%`;

/** A count with thousands separators. */
export const count = (n: number | null | undefined): string =>
  n === null || n === undefined ? '–' : n.toLocaleString('en-US');

/** A timestamp as `YYYY-MM-DD HH:MM` (UTC). */
export const when = (iso: string | null | undefined): string =>
  iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : '–';

/** A milliseconds value with a sensible number of digits. */
export const ms = (x: number | null | undefined): string =>
  x === null || x === undefined ? '–' : x < 10 ? `${x.toFixed(2)} ms` : `${x.toFixed(0)} ms`;
