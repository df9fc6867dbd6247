import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Span, Token } from '../../../src/data/types.ts';
import { TagSet, tagSetFromTags } from '../../../src/models/features/tag-scheme.ts';

const TYPES = ['LOC', 'ORG', 'PER'];

/** Tokens "w0 w1 …" with character offsets. */
function tokensOf(n: number): Token[] {
  const out: Token[] = [];
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const text = `w${i}`;
    out.push({ text, start: pos, end: pos + text.length });
    pos += text.length + 1;
  }
  return out;
}

/** Non-overlapping token-aligned spans from (start, length, type) triples. */
const spansArb = (n: number) =>
  fc
    .array(
      fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(...TYPES)),
    )
    .map((triples) => {
      const tokens = tokensOf(n);
      const used = new Array(n).fill(false);
      const spans: Span[] = [];
      for (const [first, len, label] of triples) {
        const last = Math.min(n - 1, first + len - 1);
        if (used.slice(first, last + 1).some(Boolean)) continue;
        for (let i = first; i <= last; i++) used[i] = true;
        spans.push({ start: tokens[first]!.start, end: tokens[last]!.end, label });
      }
      return spans.sort((a, b) => a.start - b.start);
    });

for (const scheme of ['BIO', 'BILOU'] as const) {
  test(`${scheme}: spans → tags → spans round trip, and encoded tags are valid`, () => {
    const tagSet = new TagSet(TYPES, scheme);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }).chain((n) => fc.tuple(fc.constant(n), spansArb(n))),
        ([n, spans]) => {
          const tokens = tokensOf(n);
          const { tags, skipped } = tagSet.encode(tokens, spans);
          assert.deepEqual(skipped, []);
          assert.ok(tagSet.allowedStart(tags[0]!));
          for (let i = 1; i < n; i++) assert.ok(tagSet.allowedTransition(tags[i - 1]!, tags[i]!));
          assert.ok(tagSet.allowedEnd(tags[n - 1]!));
          const back = tagSet
            .decode(tags)
            .map((e) => ({ start: tokens[e.first]!.start, end: tokens[e.last]!.end, label: TYPES[e.type]! }));
          assert.deepEqual(back, spans);
        },
      ),
    );
  });
}

test('tag sets list O first, then each type with its prefixes', () => {
  assert.deepEqual(new TagSet(['LOC'], 'BIO').tags, ['O', 'B-LOC', 'I-LOC']);
  assert.deepEqual(new TagSet(['LOC'], 'BILOU').tags, ['O', 'B-LOC', 'I-LOC', 'L-LOC', 'U-LOC']);
});

test('BIO constraints forbid O → I-X and I-X → I-Y', () => {
  const t = new TagSet(['A', 'B'], 'BIO');
  const id = (s: string) => t.tagId(s);
  assert.equal(t.allowedTransition(id('O'), id('I-A')), false);
  assert.equal(t.allowedTransition(id('I-A'), id('I-B')), false);
  assert.equal(t.allowedTransition(id('B-A'), id('I-A')), true);
  assert.equal(t.allowedStart(id('I-A')), false);
});

test('BILOU constraints close every entity with L or U', () => {
  const t = new TagSet(['A'], 'BILOU');
  const id = (s: string) => t.tagId(s);
  assert.equal(t.allowedTransition(id('B-A'), id('O')), false);
  assert.equal(t.allowedTransition(id('L-A'), id('I-A')), false);
  assert.equal(t.allowedTransition(id('U-A'), id('B-A')), true);
  assert.equal(t.allowedEnd(id('I-A')), false);
});

test('decoding follows conlleval: a stray I- starts an entity, a type change splits it', () => {
  const t = new TagSet(['A', 'B'], 'BIO');
  const ids = ['I-A', 'I-A', 'I-B', 'O', 'B-A', 'B-A'].map((s) => t.tagId(s));
  assert.deepEqual(t.decode(ids), [
    { first: 0, last: 1, type: 0 },
    { first: 2, last: 2, type: 1 },
    { first: 4, last: 4, type: 0 },
    { first: 5, last: 5, type: 0 },
  ]);
});

test('encoding maps partial token overlaps to whole tokens and skips overlapping spans', () => {
  const t = new TagSet(['A'], 'BIO');
  const tokens = tokensOf(3); // w0 w1 w2 at 0-2, 3-5, 6-8
  const { tags, skipped } = t.encode(tokens, [
    { start: 1, end: 4, label: 'A' },
    { start: 3, end: 8, label: 'A' },
    { start: 20, end: 30, label: 'A' },
  ]);
  assert.deepEqual(
    Array.from(tags, (y) => t.tags[y]),
    ['B-A', 'I-A', 'O'],
  );
  assert.equal(skipped.length, 2);
});

test('saved tag lists are checked against the scheme', () => {
  assert.deepEqual(tagSetFromTags(['O', 'B-X', 'I-X'], 'BIO', 'm.json').types, ['X']);
  assert.throws(() => tagSetFromTags(['O', 'B-X'], 'BIO', 'm.json'), /not a BIO tag set/);
});
