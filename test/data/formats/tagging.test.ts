import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  checkTags,
  convertTags,
  detectScheme,
  parseTag,
  spansToTags,
  TAG_SCHEMES,
  type TokenSpan,
  tagsToSpans,
} from '../../../src/data/formats/tagging.ts';

describe('parseTag', () => {
  it('splits prefix and type at the first hyphen', () => {
    assert.deepEqual(parseTag('O'), { prefix: 'O', type: '' });
    assert.deepEqual(parseTag('B-creative-work'), { prefix: 'B', type: 'creative-work' });
    assert.deepEqual(parseTag('I'), { prefix: 'I', type: '' });
    assert.equal(parseTag('B-'), null);
    assert.equal(parseTag('PER'), null);
    assert.equal(parseTag('o'), null);
  });
});

describe('detectScheme', () => {
  it('recognises each scheme', () => {
    assert.equal(detectScheme([['B-PER', 'I-PER', 'O', 'B-LOC']]), 'IOB2');
    assert.equal(detectScheme([['I-PER', 'I-PER', 'O', 'I-LOC', 'B-LOC']]), 'IOB1');
    assert.equal(detectScheme([['B-PER', 'E-PER', 'S-LOC']]), 'BIOES');
    assert.equal(detectScheme([['B-PER', 'L-PER', 'U-LOC']]), 'BILOU');
    assert.equal(detectScheme([['O', 'O']]), 'IOB2');
    assert.equal(detectScheme([]), 'IOB2');
  });

  it('prefers IOB2 when an IOB2 file only has a few I- starts', () => {
    assert.equal(detectScheme([['B-X', 'O', 'B-Y', 'O', 'I-Z']]), 'IOB2');
  });
});

describe('tagsToSpans (conlleval semantics)', () => {
  it('decodes IOB2', () => {
    assert.deepEqual(tagsToSpans(['B-PER', 'I-PER', 'O', 'B-LOC', 'B-LOC'], 'IOB2'), [
      { start: 0, end: 2, label: 'PER' },
      { start: 3, end: 4, label: 'LOC' },
      { start: 4, end: 5, label: 'LOC' },
    ]);
  });

  it('decodes IOB1: I- starts a chunk, B- separates adjacent chunks of one type', () => {
    assert.deepEqual(tagsToSpans(['I-PER', 'I-PER', 'B-PER', 'O', 'I-LOC'], 'IOB1'), [
      { start: 0, end: 2, label: 'PER' },
      { start: 2, end: 3, label: 'PER' },
      { start: 4, end: 5, label: 'LOC' },
    ]);
  });

  it('starts a chunk at I- after O or another type, like conlleval', () => {
    assert.deepEqual(tagsToSpans(['O', 'I-X', 'I-Y', 'B-Y', 'I-X'], 'IOB2'), [
      { start: 1, end: 2, label: 'X' },
      { start: 2, end: 3, label: 'Y' },
      { start: 3, end: 4, label: 'Y' },
      { start: 4, end: 5, label: 'X' },
    ]);
  });

  it('decodes BIOES and BILOU', () => {
    const expected = [
      { start: 0, end: 3, label: 'ORG' },
      { start: 3, end: 4, label: 'PER' },
      { start: 5, end: 6, label: 'PER' },
    ];
    assert.deepEqual(tagsToSpans(['B-ORG', 'I-ORG', 'E-ORG', 'S-PER', 'O', 'S-PER'], 'BIOES'), expected);
    assert.deepEqual(tagsToSpans(['B-ORG', 'I-ORG', 'L-ORG', 'U-PER', 'O', 'U-PER'], 'BILOU'), expected);
  });

  it('treats unparseable tags as O', () => {
    assert.deepEqual(tagsToSpans(['B-X', '???', 'I-X'], 'IOB2'), [
      { start: 0, end: 1, label: 'X' },
      { start: 2, end: 3, label: 'X' },
    ]);
  });
});

describe('spansToTags', () => {
  const spans: TokenSpan[] = [
    { start: 0, end: 2, label: 'PER' },
    { start: 2, end: 3, label: 'PER' },
    { start: 4, end: 5, label: 'LOC' },
  ];
  it('encodes every scheme', () => {
    assert.deepEqual(spansToTags(spans, 6, 'IOB2'), ['B-PER', 'I-PER', 'B-PER', 'O', 'B-LOC', 'O']);
    assert.deepEqual(spansToTags(spans, 6, 'IOB1'), ['I-PER', 'I-PER', 'B-PER', 'O', 'I-LOC', 'O']);
    assert.deepEqual(spansToTags(spans, 6, 'BIOES'), ['B-PER', 'E-PER', 'S-PER', 'O', 'S-LOC', 'O']);
    assert.deepEqual(spansToTags(spans, 6, 'BILOU'), ['B-PER', 'L-PER', 'U-PER', 'O', 'U-LOC', 'O']);
  });

  it('rejects overlapping or out-of-range spans with a hint', () => {
    assert.throws(
      () =>
        spansToTags(
          [
            { start: 0, end: 2, label: 'A' },
            { start: 1, end: 3, label: 'B' },
          ],
          3,
          'IOB2',
        ),
      (e: Error & { hint?: string }) => /overlaps/.test(e.message) && Boolean(e.hint),
    );
    assert.throws(() => spansToTags([{ start: 0, end: 4, label: 'A' }], 3, 'IOB2'), /outside/);
    assert.throws(() => spansToTags([{ start: 1, end: 1, label: 'A' }], 3, 'IOB2'), /empty/);
  });

  it('converts between schemes', () => {
    assert.deepEqual(convertTags(['I-PER', 'I-PER', 'B-PER'], 'IOB1', 'BIOES'), ['B-PER', 'E-PER', 'S-PER']);
  });

  it('round-trips spans → tags → spans in every scheme', () => {
    const arbSpans = fc
      .array(
        fc.tuple(fc.nat(3), fc.integer({ min: 1, max: 4 }), fc.constantFrom('PER', 'LOC', 'creative-work')),
        {
          maxLength: 8,
        },
      )
      .map((parts) => {
        const out: TokenSpan[] = [];
        let pos = 0;
        for (const [gap, len, label] of parts) {
          pos += gap;
          out.push({ start: pos, end: pos + len, label });
          pos += len;
        }
        return { spans: out, n: pos + 2 };
      });
    for (const scheme of TAG_SCHEMES) {
      fc.assert(
        fc.property(arbSpans, ({ spans: s, n }) => {
          const tags = spansToTags(s, n, scheme);
          assert.deepEqual(tagsToSpans(tags, scheme), s);
          assert.deepEqual(checkTags(tags, scheme), [], `${scheme} tags are valid: ${tags.join(' ')}`);
        }),
        { numRuns: 200 },
      );
    }
  });
});

describe('checkTags', () => {
  it('flags I-X after O, at the start, and after B-Y in IOB2', () => {
    const problems = checkTags(['O', 'I-LOC', 'B-PER', 'I-LOC'], 'IOB2');
    assert.deepEqual(
      problems.map((p) => p.index),
      [1, 3],
    );
    assert.match(problems[0]!.message, /I-LOC after O: in IOB2 an entity starts with B-LOC/);
    assert.match(problems[1]!.message, /I-LOC after B-PER/);
    assert.match(checkTags(['I-LOC'], 'IOB2')[0]!.message, /at the start of the sentence/);
  });

  it('accepts I- starts in IOB1', () => {
    assert.deepEqual(checkTags(['O', 'I-LOC', 'B-LOC', 'I-PER'], 'IOB1'), []);
  });

  it('flags L-/E- without a start and unclosed chunks in BILOU and BIOES', () => {
    assert.match(checkTags(['O', 'L-PER'], 'BILOU')[0]!.message, /L-PER after O/);
    assert.match(checkTags(['B-PER', 'O'], 'BILOU')[0]!.message, /not followed by I-PER or L-PER/);
    assert.match(checkTags(['B-PER', 'I-PER'], 'BIOES')[0]!.message, /ends with E-/);
    assert.deepEqual(checkTags(['B-PER', 'I-PER', 'E-PER', 'S-LOC'], 'BIOES'), []);
  });

  it('flags prefixes from another scheme and non-tags', () => {
    assert.match(checkTags(['S-PER'], 'IOB2')[0]!.message, /prefix S- which IOB2 does not use/);
    assert.match(checkTags(['PER'], 'IOB2')[0]!.message, /'PER' is not a tag/);
  });
});
