/*
 * Surface attributes of a token, with the meanings spaCy gives them (`LOWER`, `SHAPE`, `IS_TITLE`,
 * `LIKE_NUM`, …), so token patterns written for spaCy's Matcher / EntityRuler behave the same here.
 * Only attributes computable from the token text are supported: there is no tagger or parser.
 */

/**
 * spaCy's word shape: upper → X, lower → x, digit → d, anything else kept; runs of one class longer than 4 are cut.
 *
 * @example
 * tokenShape('Hello'); // 'Xxxxx'
 * tokenShape('1999-12'); // 'dddd-dd'
 */
export function tokenShape(text: string): string {
  let out = '';
  let last = '';
  let run = 0;
  for (const ch of text) {
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    let c: string;
    if (lower !== upper) c = ch === upper ? 'X' : 'x';
    else if (/\p{Nd}/u.test(ch)) c = 'd';
    else if (/\p{L}/u.test(ch)) c = 'x';
    else c = ch;
    run = c === last ? run + 1 : 0;
    if (run < 4) out += c;
    last = c;
  }
  return out;
}

function isCasedUpper(ch: string): boolean {
  return ch !== ch.toLowerCase() && ch === ch.toUpperCase();
}

function isCasedLower(ch: string): boolean {
  return ch !== ch.toUpperCase() && ch === ch.toLowerCase();
}

/** Python's `str.istitle()`: cased characters only start words in upper case and continue them in lower case. */
export function isTitle(text: string): boolean {
  let cased = false;
  let previousCased = false;
  for (const ch of text) {
    if (isCasedUpper(ch)) {
      if (previousCased) return false;
      previousCased = true;
      cased = true;
    } else if (isCasedLower(ch)) {
      if (!previousCased) return false;
      previousCased = true;
      cased = true;
    } else previousCased = false;
  }
  return cased;
}

/** Python's `str.isupper()`: at least one cased character and no lower-case one. */
export function isUpper(text: string): boolean {
  let cased = false;
  for (const ch of text) {
    if (isCasedLower(ch)) return false;
    if (isCasedUpper(ch)) cased = true;
  }
  return cased;
}

/** Python's `str.islower()`: at least one cased character and no upper-case one. */
export function isLower(text: string): boolean {
  let cased = false;
  for (const ch of text) {
    if (isCasedUpper(ch)) return false;
    if (isCasedLower(ch)) cased = true;
  }
  return cased;
}

const DIGITS = /^\p{Nd}+$/u;
const ALPHA = /^[\p{L}\p{M}]+$/u;
const PUNCT = /^\p{P}+$/u;
const EMAIL = /^[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}$/u;
const URL =
  /^(?:(?:https?|ftp):\/\/|www\.)\S+$|^[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.(?:com|org|net|edu|gov|io|co|uk|de|fr|info|biz)(?:\/\S*)?$/iu;

const NUMBER_WORDS = new Set(
  (
    'zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen ' +
    'seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand ' +
    'million billion trillion quadrillion gajillion bazillion'
  ).split(' '),
);
const ORDINAL_WORDS = new Set(
  (
    'first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth ' +
    'fifteenth sixteenth seventeenth eighteenth nineteenth twentieth thirtieth fortieth fiftieth sixtieth ' +
    'seventieth eightieth ninetieth hundredth thousandth millionth billionth trillionth quadrillionth ' +
    'gajillionth bazillionth'
  ).split(' '),
);

/** True for digits (with signs, `,` and `.`), fractions like `3/4`, English number words and ordinals (spaCy's English `like_num`). */
export function likeNumber(text: string): boolean {
  let t = text.replace(/^[+\-±~]+/, '');
  t = t.replaceAll(',', '').replaceAll('.', '');
  if (DIGITS.test(t)) return true;
  const parts = t.split('/');
  if (parts.length === 2 && DIGITS.test(parts[0]!) && DIGITS.test(parts[1]!)) return true;
  const lower = t.toLowerCase();
  if (NUMBER_WORDS.has(lower) || ORDINAL_WORDS.has(lower)) return true;
  return /^\p{Nd}+(?:st|nd|rd|th)$/u.test(lower);
}

/** The boolean token attributes a pattern can test, by their lower-case spaCy names. */
export const BOOLEAN_ATTRIBUTES: Readonly<Record<string, (text: string) => boolean>> = {
  is_alpha: (t) => ALPHA.test(t),
  is_ascii: (t) => [...t].every((c) => c.charCodeAt(0) < 128),
  is_digit: (t) => DIGITS.test(t),
  is_lower: isLower,
  is_upper: isUpper,
  is_title: isTitle,
  is_punct: (t) => PUNCT.test(t),
  is_space: (t) => t.length > 0 && t.trim() === '',
  like_num: likeNumber,
  like_url: (t) => URL.test(t),
  like_email: (t) => EMAIL.test(t),
};

/** The string (or number) token attributes a pattern can compare, by their lower-case spaCy names. */
export const VALUE_ATTRIBUTES: Readonly<Record<string, (text: string) => string | number>> = {
  orth: (t) => t,
  text: (t) => t,
  lower: (t) => t.toLowerCase(),
  shape: tokenShape,
  length: (t) => [...t].length,
};
