import { tokenize } from './tokenizer.ts';

/** A sentence as character offsets into the text (`end` exclusive), trimmed of surrounding whitespace. */
export interface SentenceSpan {
  start: number;
  end: number;
}

const TERMINAL = /^(?:[.!?。！？]+|\.{2,}|…+)$/u;
const FULL_WIDTH_TERMINAL = /[。！？]$/u;
const CLOSING = /^["'”’»)\]}]+$/u;
const PARAGRAPH_BREAK = /\n[^\S\n]*\n/;

/**
 * Splits text into sentences with simple rules: a sentence ends after `.`, `!`, `?` (or runs
 * like `?!`, `...`) plus any closing quotes/brackets, when the next token starts with an
 * upper-case letter, a digit or an opening quote; a blank line always ends a sentence.
 * Full-width terminals (`。！？`) always end a sentence. Abbreviations such as "Dr." or
 * "U.S." are single tokens, so they do not end sentences.
 *
 * @example
 * splitSentences('Hi there. How are you?'); // [{ start: 0, end: 9 }, { start: 10, end: 22 }]
 */
export function splitSentences(text: string): SentenceSpan[] {
  const tokens = tokenize(text);
  const sentences: SentenceSpan[] = [];
  let first = 0;
  for (let i = 0; i < tokens.length; i++) {
    const next = tokens[i + 1];
    if (next === undefined) break;
    const gap = text.slice(tokens[i]!.end, next.start);
    let boundary = PARAGRAPH_BREAK.test(gap);
    if (!boundary && TERMINAL.test(tokens[i]!.text)) {
      // Swallow closing quotes/brackets that directly follow the terminal punctuation.
      let last = i;
      while (
        tokens[last + 1] !== undefined &&
        tokens[last + 1]!.start === tokens[last]!.end &&
        CLOSING.test(tokens[last + 1]!.text)
      ) {
        last++;
      }
      const after = tokens[last + 1];
      if (after === undefined) break;
      const fullWidth = FULL_WIDTH_TERMINAL.test(tokens[i]!.text);
      if (fullWidth || (after.start > tokens[last]!.end && startsSentence(after.text))) {
        i = last;
        boundary = true;
      }
    }
    if (boundary) {
      sentences.push({ start: tokens[first]!.start, end: tokens[i]!.end });
      first = i + 1;
    }
  }
  if (first < tokens.length) sentences.push({ start: tokens[first]!.start, end: tokens.at(-1)!.end });
  return sentences;
}

function startsSentence(token: string): boolean {
  return /^[\p{Lu}\p{Lt}\p{N}"'“‘«([¿¡]|^[\p{Lo}]/u.test(token);
}
