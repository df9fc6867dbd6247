import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { splitSentences } from '../../src/text/sentences.ts';

const split = (text: string) => splitSentences(text).map((s) => text.slice(s.start, s.end));

describe('splitSentences', () => {
  it('splits after terminal punctuation followed by a capital, digit or quote', () => {
    assert.deepEqual(splitSentences('Hi there. How are you?'), [
      { start: 0, end: 9 },
      { start: 10, end: 22 },
    ]);
    assert.deepEqual(split('Wait... what?! OK. 3 more. "Quoted" too'), [
      'Wait... what?!',
      'OK.',
      '3 more.',
      '"Quoted" too',
    ]);
  });

  it('keeps closing quotes and brackets with the sentence they end', () => {
    assert.deepEqual(split('He said "Stop!" Then he left.) Next one.'), [
      'He said "Stop!"',
      'Then he left.)',
      'Next one.',
    ]);
  });

  it('does not split after abbreviations, decimals or before lower case', () => {
    assert.deepEqual(split('Dr. Smith paid 3.5 dollars. e.g. this stays. but so does this'), [
      'Dr. Smith paid 3.5 dollars. e.g. this stays. but so does this',
    ]);
  });

  it('always splits at blank lines and after full-width terminals', () => {
    assert.deepEqual(split('First line\nstill first\n\nSecond paragraph'), [
      'First line\nstill first',
      'Second paragraph',
    ]);
    assert.deepEqual(split('我喜欢北京。你呢？好'), ['我喜欢北京。', '你呢？', '好']);
  });

  it('returns nothing for empty or blank text', () => {
    assert.deepEqual(splitSentences(''), []);
    assert.deepEqual(splitSentences(' \n '), []);
  });

  it('returns ordered, disjoint, trimmed sentences that cover all non-whitespace text', () => {
    const piece = fc.constantFrom(
      'Hello',
      'world',
      '.',
      '!',
      '?',
      ' ',
      '\n',
      '\n\n',
      'Dr.',
      '"',
      ')',
      '3.5',
      'A',
      'b',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
        const text = pieces.join('');
        const sentences = splitSentences(text);
        let prevEnd = 0;
        let covered = '';
        for (const s of sentences) {
          assert.ok(s.start >= prevEnd && s.end > s.start);
          const body = text.slice(s.start, s.end);
          assert.equal(body, body.trim());
          covered += body;
          prevEnd = s.end;
        }
        assert.equal(covered.replace(/\s/g, ''), text.replace(/\s/g, ''));
      }),
      { numRuns: 200 },
    );
  });
});
