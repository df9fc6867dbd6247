const WORD_CHAR = /[\p{L}\p{N}_]/u;

/**
 * Start offsets of the whole-word, non-overlapping occurrences of `surface` in `text` ("Nike" matches in
 * "Nike shoes", not in "Nikes"; a surface that starts or ends with punctuation needs no boundary there).
 *
 * @example
 * wholeWordOccurrences('Nike and Nikes, Nike', 'Nike'); // [0, 16]
 */
export function wholeWordOccurrences(text: string, surface: string): number[] {
  const found: number[] = [];
  if (surface === '') return found;
  const startsWord = WORD_CHAR.test(surface[0]!);
  const endsWord = WORD_CHAR.test(surface[surface.length - 1]!);
  let from = 0;
  for (;;) {
    const at = text.indexOf(surface, from);
    if (at < 0) return found;
    const end = at + surface.length;
    const leftOk = !startsWord || at === 0 || !WORD_CHAR.test(text[at - 1]!);
    const rightOk = !endsWord || end === text.length || !WORD_CHAR.test(text[end]!);
    if (leftOk && rightOk) {
      found.push(at);
      from = end;
    } else from = at + 1;
  }
}
