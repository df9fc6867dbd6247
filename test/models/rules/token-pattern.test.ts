import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../../src/core/errors.ts';
import { isTitle, likeNumber, tokenShape } from '../../../src/models/rules/token-attributes.ts';
import { type PatternToken, TokenPattern } from '../../../src/models/rules/token-pattern.ts';
import { TokenTrie } from '../../../src/models/rules/token-trie.ts';

const toks = (text: string): PatternToken[] =>
  text.split(' ').map((t) => ({ text: t, lower: t.toLowerCase() }));

/** Every (start, end) token range a pattern matches in a sentence of space-separated tokens. */
function ranges(specs: Record<string, unknown>[], text: string): string[] {
  const pattern = TokenPattern.compile(specs, { path: 'p' });
  const tokens = toks(text);
  const memo = new Map<number, number[]>();
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++)
    for (const e of pattern.matchEnds(tokens, i, memo)) out.push(`${i}-${e}`);
  return out;
}

describe('token attributes', () => {
  test('shape follows spaCy: classes mapped, runs cut after 4', () => {
    assert.equal(tokenShape('Hello'), 'Xxxxx');
    assert.equal(tokenShape('Wonderful'), 'Xxxxx');
    assert.equal(tokenShape('1999-12'), 'dddd-dd');
    assert.equal(tokenShape('McD'), 'XxX');
  });

  test('is_title follows Python str.istitle', () => {
    assert.equal(isTitle('Hello'), true);
    assert.equal(isTitle("O'Neil"), true);
    assert.equal(isTitle('McDonald'), false);
    assert.equal(isTitle('HELLO'), false);
    assert.equal(isTitle('123'), false);
  });

  test('like_num accepts digits, fractions, number words and ordinals', () => {
    for (const yes of ['12', '1,000', '3.5', '-7', '3/4', 'twenty', 'Million', 'third', '21st']) {
      assert.equal(likeNumber(yes), true, yes);
    }
    for (const no of ['abc', 'two-thirds', '', 'th']) assert.equal(likeNumber(no), false, no);
  });
});

describe('token patterns', () => {
  test('exact attributes: lower, orth/text, shape, is_digit, is_upper, is_punct, length', () => {
    assert.deepEqual(ranges([{ lower: 'ann' }, { LOWER: 'taylor' }], 'I like ANN Taylor'), ['2-4']);
    assert.deepEqual(ranges([{ ORTH: 'Ann' }], 'ann Ann ANN'), ['1-2']);
    assert.deepEqual(ranges([{ text: 'Ann' }], 'ann Ann ANN'), ['1-2']);
    assert.deepEqual(ranges([{ shape: 'dddd' }], 'in 1999 or 12'), ['1-2']);
    assert.deepEqual(ranges([{ is_digit: true }], 'a 12 b 3.5'), ['1-2']);
    assert.deepEqual(ranges([{ is_upper: true }], 'NASA and Nike'), ['0-1']);
    assert.deepEqual(ranges([{ is_punct: true }], 'hi , there !'), ['1-2', '3-4']);
    assert.deepEqual(ranges([{ length: { '>=': 5 } }], 'tiny enormous big'), ['1-2']);
    assert.deepEqual(ranges([{ like_num: true }], 'two cats and 3 dogs'), ['0-1', '3-4']);
  });

  test('IN, NOT_IN and REGEX predicates, and per-token regex', () => {
    assert.deepEqual(ranges([{ lower: { IN: ['cm', 'mm'] } }], '5 cm or 6 MM or 7 in'), ['1-2', '4-5']);
    assert.deepEqual(ranges([{ lower: { NOT_IN: ['a', 'the'] } }], 'the cat'), ['1-2']);
    assert.deepEqual(ranges([{ text: { REGEX: '^[A-Z]{2}$' } }], 'US and UK or USA'), ['0-1', '2-3']);
    assert.deepEqual(ranges([{ regex: '^#' }], 'a #tag here'), ['1-2']);
  });

  test('quantifiers: ? * + ! and {n,m}', () => {
    const s = 'very very good day';
    assert.deepEqual(ranges([{ lower: 'very', OP: '?' }, { lower: 'good' }], s), ['1-3', '2-3']);
    assert.deepEqual(ranges([{ lower: 'very', OP: '*' }, { lower: 'good' }], s), ['0-3', '1-3', '2-3']);
    assert.deepEqual(ranges([{ lower: 'very', OP: '+' }], s), ['0-1', '0-2', '1-2']);
    assert.deepEqual(ranges([{ lower: 'very', OP: '{2}' }, { lower: 'good' }], s), ['0-3']);
    assert.deepEqual(ranges([{ lower: 'very', OP: '{1,2}' }], s), ['0-1', '0-2', '1-2']);
    // "!" consumes exactly one token that does not match.
    assert.deepEqual(ranges([{ lower: 'very' }, { lower: 'very', OP: '!' }], s), ['1-3']);
    // A wildcard {} matches any one token.
    assert.deepEqual(ranges([{ lower: 'good' }, {}], s), ['2-4']);
  });

  test('a pattern that only matches the empty sequence produces no match', () => {
    assert.deepEqual(ranges([{ lower: 'zzz', OP: '*' }], 'a b'), []);
  });

  test('unknown attributes, pipeline attributes and bad OPs are config errors naming the place and attribute', () => {
    const where = { file: 'p.jsonl', line: 3 };
    assert.throws(
      () => TokenPattern.compile([{ lower: 'a' }, { colour: 'red' }], where),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message.startsWith('p.jsonl:3') &&
        e.message.includes('"colour"') &&
        e.details.path === 'pattern.1',
    );
    assert.throws(() => TokenPattern.compile([{ POS: 'NOUN' }], where), /"POS".*tagger or parser/);
    assert.throws(() => TokenPattern.compile([{ lower: 'a', OP: '++' }], where), /unknown OP "\+\+"/);
    assert.throws(() => TokenPattern.compile([{ is_digit: 'yes' }], where), /true or false/);
    assert.throws(() => TokenPattern.compile([{ lower: { LIKE: 'x' } }], where), /unknown predicate "LIKE"/);
    assert.throws(() => TokenPattern.compile([{ regex: '([' }], where), /invalid regex/);
  });

  test('literal patterns are recognised for the trie; others are not', () => {
    assert.deepEqual(TokenPattern.literal([{ lower: 'ann' }, { LOWER: 'taylor' }]), {
      caseSensitive: false,
      words: ['ann', 'taylor'],
    });
    assert.deepEqual(TokenPattern.literal([{ ORTH: 'Ann' }]), { caseSensitive: true, words: ['Ann'] });
    assert.equal(TokenPattern.literal([{ lower: 'ann' }, { orth: 'Taylor' }]), undefined);
    assert.equal(TokenPattern.literal([{ lower: 'ann', OP: '?' }]), undefined);
    assert.equal(TokenPattern.literal([{ is_digit: true }]), undefined);
  });

  test('property: a literal pattern matches exactly where the trie finds the same words', () => {
    const word = fc.constantFrom('a', 'b', 'c');
    fc.assert(
      fc.property(
        fc.array(word, { minLength: 1, maxLength: 3 }),
        fc.array(word, { maxLength: 12 }),
        (p, t) => {
          const tokens = t.map((w) => ({ text: w, lower: w }));
          const pattern = TokenPattern.compile(
            p.map((w) => ({ lower: w })),
            { path: 'p' },
          );
          const trie = new TokenTrie<number>();
          trie.add(p, 0);
          for (let i = 0; i < tokens.length; i++) {
            const fromTrie: number[] = [];
            trie.matchesAt(t, i, (end) => fromTrie.push(end));
            assert.deepEqual(pattern.matchEnds(tokens, i), fromTrie);
          }
        },
      ),
    );
  });
});
