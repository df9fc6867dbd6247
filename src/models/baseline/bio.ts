import type { Span, Token } from '../../data/types.ts';
import type { PredictedSpan } from '../model.ts';

/** The tag outside every entity. */
export const OUTSIDE = 'O';

/**
 * BIO tags for `tokens` from character-offset `spans`: a token overlapping a span is inside it (`B-` for the
 * first such token, `I-` after); where spans overlap, the earlier-starting one wins.
 */
export function spansToBio(tokens: Token[], spans: Span[]): string[] {
  const tags = tokens.map(() => OUTSIDE);
  const ordered = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  for (const span of ordered) {
    let first = true;
    tokens.forEach((t, i) => {
      if (t.start >= span.end || t.end <= span.start || tags[i] !== OUTSIDE) return;
      tags[i] = `${first ? 'B' : 'I'}-${span.label}`;
      first = false;
    });
  }
  return tags;
}

/**
 * Entity spans from BIO tags (lenient like conlleval: an `I-X` after something other than `X` starts a new
 * entity); each span's score is the mean of its tokens' `confidences`.
 */
export function bioToSpans(tokens: Token[], tags: string[], confidences: number[]): PredictedSpan[] {
  const spans: PredictedSpan[] = [];
  let open: { label: string; first: number; last: number } | null = null;
  const close = () => {
    if (!open) return;
    let sum = 0;
    for (let i = open.first; i <= open.last; i++) sum += confidences[i]!;
    spans.push({
      start: tokens[open.first]!.start,
      end: tokens[open.last]!.end,
      label: open.label,
      score: sum / (open.last - open.first + 1),
    });
    open = null;
  };
  tags.forEach((tag, i) => {
    if (tag === OUTSIDE || tag.length < 3 || tag[1] !== '-') {
      close();
      return;
    }
    const prefix = tag[0];
    const label = tag.slice(2);
    if (prefix === 'I' && open && open.label === label) {
      open.last = i;
      return;
    }
    close();
    open = { label, first: i, last: i };
  });
  close();
  return spans;
}
