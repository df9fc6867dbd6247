/** Character class of one UTF-16 code unit: X upper, x lower, d digit, or the character itself. */
function charClass(ch: string, code: number): string {
  if (code >= 65 && code <= 90) return 'X';
  if (code >= 97 && code <= 122) return 'x';
  if (code >= 48 && code <= 57) return 'd';
  if (code < 128) return ch;
  const lower = ch.toLowerCase();
  const upper = ch.toUpperCase();
  if (lower !== upper) return ch === upper ? 'X' : 'x';
  if (/\p{N}/u.test(ch)) return 'd';
  if (/\p{L}/u.test(ch)) return 'x';
  return ch;
}

/**
 * The long word shape: every character mapped to X (upper), x (lower), d (digit) or kept (punctuation),
 * e.g. `McDonald's` → `XxXxxxx'x`; shapes longer than `maxLength` keep their first and last characters.
 */
export function wordShape(word: string, maxLength = 16): string {
  let out = '';
  for (let i = 0; i < word.length; i++) out += charClass(word[i]!, word.charCodeAt(i));
  if (out.length > maxLength) {
    const half = maxLength >> 1;
    out = `${out.slice(0, half)}…${out.slice(out.length - half)}`;
  }
  return out;
}

/** The short word shape: the long shape with runs of the same class collapsed, e.g. `McDonald's` → `XxXx'x`. */
export function shortWordShape(word: string): string {
  let out = '';
  let last = '';
  for (let i = 0; i < word.length; i++) {
    const c = charClass(word[i]!, word.charCodeAt(i));
    if (c !== last) out += c;
    last = c;
  }
  return out;
}

/** Orthographic flags of a token, as the names used in feature strings. */
export function tokenFlags(word: string): string[] {
  const flags: string[] = [];
  let upper = 0;
  let lower = 0;
  let digit = 0;
  let other = 0;
  for (let i = 0; i < word.length; i++) {
    const ch = word[i]!;
    const c = charClass(ch, word.charCodeAt(i));
    if (c === 'X') upper++;
    else if (c === 'x') lower++;
    else if (c === 'd') digit++;
    else other++;
  }
  const letters = upper + lower;
  const first = word.length > 0 ? charClass(word[0]!, word.charCodeAt(0)) : '';
  if (first === 'X') flags.push('initUpper');
  if (first === 'X' && upper === 1 && lower > 0) flags.push('title');
  if (letters > 0 && lower === 0) flags.push('upper');
  if (upper > 0 && lower > 0 && !(first === 'X' && upper === 1)) flags.push('mixedCase');
  if (digit > 0 && digit === word.length) flags.push('digit');
  else if (digit > 0) flags.push('hasDigit');
  if (other === word.length && word.length > 0) flags.push('punct');
  if (word.includes('-')) flags.push('hyphen');
  if (word.length > 1 && word[0] === '@') flags.push('mention');
  if (word.length > 1 && word[0] === '#') flags.push('hashtag');
  if (/^(https?:\/\/|www\.)/i.test(word)) flags.push('url');
  return flags;
}

/** Lowercases a word and maps every digit to 0, e.g. `May-2024` → `may-0000`. */
export function digitNormalised(lowered: string): string {
  return lowered.replace(/\d/g, '0');
}
