import type { Token } from '../../data/types.ts';

/** How a regex match that cuts through a token is handled: widened to whole tokens, or dropped. */
export type SnapMode = 'expand' | 'drop';

/** Index of the first token whose end is after `offset` (tokens.length when none). */
function firstTokenEndingAfter(tokens: readonly Token[], offset: number): number {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid]!.end > offset) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Index of the last token whose start is before `offset` (-1 when none). */
function lastTokenStartingBefore(tokens: readonly Token[], offset: number): number {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid]!.start < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * Snaps a character range to token boundaries: the token range `[first, last + 1)` it touches, or undefined
 * when it covers no token, or (with `drop`) when it does not start and end exactly on token boundaries.
 */
export function snapToTokens(
  tokens: readonly Token[],
  start: number,
  end: number,
  snap: SnapMode,
): [number, number] | undefined {
  if (end <= start) return undefined;
  const first = firstTokenEndingAfter(tokens, start);
  const last = lastTokenStartingBefore(tokens, end);
  if (first > last) return undefined;
  if (snap === 'drop' && (tokens[first]!.start !== start || tokens[last]!.end !== end)) return undefined;
  return [first, last + 1];
}

/**
 * Token ranges of every match of a global regex over `text` (or of its capture `group`), snapped to tokens.
 * Empty matches are skipped.
 */
export function regexTokenRanges(
  re: RegExp,
  text: string,
  tokens: readonly Token[],
  snap: SnapMode,
  group?: number | string,
): [number, number][] {
  const out: [number, number][] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) re.lastIndex++;
    let range: [number, number] | undefined;
    if (group === undefined) range = [m.index, m.index + m[0].length];
    else if (typeof group === 'number') range = m.indices?.[group];
    else range = m.indices?.groups?.[group];
    if (!range) continue;
    const snapped = snapToTokens(tokens, range[0], range[1], snap);
    if (snapped) out.push(snapped);
  }
  re.lastIndex = 0;
  return out;
}
