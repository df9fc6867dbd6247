import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { tokenize } from '../../src/text/tokenizer.ts';

const texts = (s: string) => tokenize(s).map((t) => t.text);

describe('tokenize', () => {
  it('splits words and punctuation with offsets', () => {
    assert.deepEqual(tokenize('Hi, you!'), [
      { text: 'Hi', start: 0, end: 2 },
      { text: ',', start: 2, end: 3 },
      { text: 'you', start: 4, end: 7 },
      { text: '!', start: 7, end: 8 },
    ]);
    assert.deepEqual(tokenize(''), []);
    assert.deepEqual(tokenize(' \n\t '), []);
  });

  it('splits English clitics like spaCy', () => {
    assert.deepEqual(texts("don't"), ['do', "n't"]);
    assert.deepEqual(texts("It's"), ['It', "'s"]);
    assert.deepEqual(texts("I'm we're they've she'll he'd can't"), [
      'I',
      "'m",
      'we',
      "'re",
      'they',
      "'ve",
      'she',
      "'ll",
      'he',
      "'d",
      'ca',
      "n't",
    ]);
    assert.deepEqual(texts('It’s'), ['It', '’s'], 'curly apostrophe');
    assert.deepEqual(texts("It 's"), ['It', "'s"], 'pre-tokenized clitic stays whole');
    assert.deepEqual(texts("O'Neil rock'n'roll y'all"), ["O'Neil", "rock'n'roll", "y'all"]);
    assert.deepEqual(texts("dogs' 'quoted'"), ['dogs', "'", "'", 'quoted', "'"]);
  });

  it('keeps numbers, prices and percentages sensible', () => {
    assert.deepEqual(texts('1,000.50 3.5 10% $12.99 -5'), [
      '1,000.50',
      '3.5',
      '10',
      '%',
      '$',
      '12.99',
      '-',
      '5',
    ]);
    assert.deepEqual(texts('2019-10-12 at 12:30, 1/2 cup'), ['2019-10-12', 'at', '12:30', ',', '1/2', 'cup']);
    assert.deepEqual(texts('in 2019.The end.'), ['in', '2019', '.', 'The', 'end', '.']);
  });

  it('keeps URLs and e-mails whole but not their trailing punctuation', () => {
    assert.deepEqual(texts('see https://en.wikipedia.org/wiki/Foo_(bar)).'), [
      'see',
      'https://en.wikipedia.org/wiki/Foo_(bar)',
      ')',
      '.',
    ]);
    assert.deepEqual(texts('(www.example.com/a?b=1)'), ['(', 'www.example.com/a?b=1', ')']);
    assert.deepEqual(texts('mail john.doe+x@mail.co.uk, now'), ['mail', 'john.doe+x@mail.co.uk', ',', 'now']);
  });

  it('keeps emoticons, hashtags, mentions and emoji whole', () => {
    assert.deepEqual(texts(':) :-( ;) <3 :D xD ^_^ -_- great:)'), [
      ':)',
      ':-(',
      ';)',
      '<3',
      ':D',
      'xD',
      '^_^',
      '-_-',
      'great',
      ':)',
    ]);
    assert.deepEqual(texts('@paulwalk loves #NLP2024!'), ['@paulwalk', 'loves', '#NLP2024', '!']);
    assert.deepEqual(texts('ok 👍🏽🇺🇸 ❤️'), ['ok', '👍🏽', '🇺🇸', '❤️']);
    assert.deepEqual(texts('Note:Do it'), ['Note', ':', 'Do', 'it'], 'no emoticon inside words');
  });

  it('keeps abbreviations and splits hyphenated words', () => {
    assert.deepEqual(texts('Dr. Smith visited the U.S. e.g. Boston'), [
      'Dr.',
      'Smith',
      'visited',
      'the',
      'U.S.',
      'e.g.',
      'Boston',
    ]);
    assert.deepEqual(texts('state-of-the-art'), ['state', '-', 'of', '-', 'the', '-', 'art']);
    assert.deepEqual(texts('Wait... what?!'), ['Wait', '...', 'what', '?', '!']);
  });

  it('segments scripts written without spaces with Intl.Segmenter', () => {
    assert.deepEqual(texts('我喜欢北京。'), ['我', '喜欢', '北京', '。']);
    assert.deepEqual(texts('ภาษาไทยง่าย'), ['ภาษา', 'ไทย', 'ง่าย']);
    assert.deepEqual(texts('Ça coûte 5€ à Zürich'), ['Ça', 'coûte', '5', '€', 'à', 'Zürich']);
  });

  it('keeps combining marks with their base character', () => {
    const decomposed = 'cafe\u0301 !\u0301';
    assert.deepEqual(texts(decomposed), ['cafe\u0301', '!\u0301']);
  });

  const pieces = fc.constantFrom(
    ' ',
    '\n',
    '\t',
    '\u00a0',
    'word',
    'Nike',
    "don't",
    "'s",
    '.',
    '...',
    ',',
    '(',
    ')',
    ':)',
    ':',
    ';',
    '<3',
    '#tag',
    '@user',
    'http://x.com/a_(b)',
    'a@b.co',
    '1,000.50',
    '$',
    '%',
    '-',
    '中文字',
    'ไทย',
    '😍',
    '👍🏽',
    '\u0301',
    "'",
    'U.S.',
    'Dr.',
    'xD',
    '\ud83d',
  );
  const mixed = fc.array(pieces, { maxLength: 30 }).map((p) => p.join(''));

  for (const [name, arb] of [
    ['random strings', fc.string({ unit: 'grapheme', maxLength: 60 })],
    ['random code points', fc.string({ unit: 'binary', maxLength: 60 })],
    ['tricky pieces', mixed],
  ] as const) {
    it(`covers every non-whitespace character exactly once, in order (${name})`, () => {
      fc.assert(
        fc.property(arb, (text) => {
          const tokens = tokenize(text);
          let prevEnd = 0;
          const covered = new Array<boolean>(text.length).fill(false);
          for (const t of tokens) {
            assert.ok(t.start >= prevEnd, 'in order, no overlap');
            assert.ok(t.end > t.start, 'not empty');
            assert.equal(text.slice(t.start, t.end), t.text);
            assert.ok(!/\s/u.test(t.text), `no whitespace in ${JSON.stringify(t.text)}`);
            for (let i = t.start; i < t.end; i++) covered[i] = true;
            prevEnd = t.end;
          }
          for (let i = 0; i < text.length; i++) {
            if (!/\s/.test(text[i]!))
              assert.ok(covered[i], `character ${i} of ${JSON.stringify(text)} is covered`);
          }
        }),
        { numRuns: 300 },
      );
    });
  }
});
