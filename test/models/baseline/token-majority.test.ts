import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ConfigError, SapphireError } from '../../../src/core/errors.ts';
import type { Example, Span } from '../../../src/data/types.ts';
import { bioToSpans, spansToBio, TokenMajorityModel } from '../../../src/models/baseline/index.ts';
import { createModel } from '../../../src/models/registry.ts';
import { tokenize } from '../../../src/text/tokenizer.ts';
import { runModelChecks } from '../model-checks.ts';

const ner = (id: string, text: string, entities: [string, string][]): Example => {
  const spans: Span[] = entities.map(([surface, label]) => {
    const start = text.indexOf(surface);
    return { start, end: start + surface.length, label };
  });
  return { id, text, spans, meta: {} };
};

const train = [
  ner('1', 'I love Nike shoes', [['Nike', 'BRAND']]),
  ner('2', 'New York has great Adidas stores', [
    ['New York', 'LOC'],
    ['Adidas', 'BRAND'],
  ]),
  ner('3', 'Paris London trip', [
    ['Paris', 'LOC'],
    ['London', 'LOC'],
  ]),
  ner('4', 'nothing to see here', []),
];

runModelChecks('token-majority.v1', () => createModel('token-majority.v1'), {
  train,
  probe: [...train, ner('p1', 'nike in new york', []), ner('p2', 'unknown words only', [])],
});

describe('token-majority.v1', () => {
  test('tags each token with its most frequent training tag, case-insensitively; unknown tokens are O', async () => {
    const model = new TokenMajorityModel();
    await model.fit(train);
    const [p] = model.predict([{ text: 'nike stores in NEW YORK and Berlin' }]);
    assert.deepEqual(
      p!.spans!.map((s) => [s.start, s.end, s.label]),
      [
        [0, 4, 'BRAND'],
        [15, 23, 'LOC'],
      ],
    );
  });

  test('the majority wins and the score is the tag share', async () => {
    const model = new TokenMajorityModel();
    await model.fit([
      ner('a', 'Apple pie', []),
      ner('b', 'Apple phone', [['Apple', 'BRAND']]),
      ner('c', 'Apple store', [['Apple', 'BRAND']]),
    ]);
    const [p] = model.predict([{ text: 'apple' }]);
    assert.equal(p!.spans!.length, 1);
    assert.equal(p!.spans![0]!.label, 'BRAND');
    assert.ok(Math.abs(p!.spans![0]!.score - 2 / 3) < 1e-12);
  });

  test('explains an entity by its tokens', async () => {
    const model = new TokenMajorityModel();
    await model.fit(train);
    const [e] = model.explain({ text: 'new york' });
    assert.equal(e!.target, 'LOC "new york" [0, 8)');
    assert.deepEqual(
      e!.contributions.map((c) => c.feature),
      ['token:new → B-LOC', 'token:york → I-LOC'],
    );
  });

  test('config: case-sensitive lookups when lowercase is false; other tasks are refused', async () => {
    const model = new TokenMajorityModel({ lowercase: false });
    await model.fit(train);
    assert.deepEqual(model.predict([{ text: 'nike' }])[0]!.spans, []);
    assert.throws(() => new TokenMajorityModel({ task: 'classify' }), ConfigError);
  });

  test('rejects examples without spans or with spans outside the text', async () => {
    await assert.rejects(
      new TokenMajorityModel().fit([
        { id: 'x', text: 'abc', meta: {} },
        { id: 'y', text: 'abc', spans: [{ start: 1, end: 9, label: 'L' }], meta: {} },
      ]),
      (e: unknown) =>
        e instanceof SapphireError &&
        /example x: train example has no spans/.test(e.message) &&
        /example y/.test(e.message),
    );
  });
});

describe('BIO helpers', () => {
  test('round trip: spans aligned to tokens survive spans → BIO → spans', () => {
    const labels = ['A', 'B'];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('ab', 'c', 'de', 'fgh'), { minLength: 1, maxLength: 12 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.nat(1)), { maxLength: 4 }),
        (words, picks) => {
          const text = words.join(' ');
          const tokens = tokenize(text);
          // Non-overlapping token-aligned spans, in order.
          const spans: Span[] = [];
          let next = 0;
          for (const [at, len, label] of picks) {
            const first = next + (at % 3);
            const last = first + len;
            if (last >= tokens.length) break;
            spans.push({ start: tokens[first]!.start, end: tokens[last]!.end, label: labels[label]! });
            next = last + 1;
          }
          const tags = spansToBio(tokens, spans);
          const back = bioToSpans(
            tokens,
            tags,
            tags.map(() => 1),
          ).map(({ start, end, label }) => ({ start, end, label }));
          assert.deepEqual(back, spans);
        },
      ),
    );
  });

  test('an I- tag after O or another type starts a new entity', () => {
    const tokens = tokenize('a b c d');
    const spans = bioToSpans(tokens, ['I-X', 'I-Y', 'O', 'I-Y'], [1, 1, 1, 1]);
    assert.deepEqual(
      spans.map((s) => `${s.start}:${s.end}:${s.label}`),
      ['0:1:X', '2:3:Y', '6:7:Y'],
    );
  });
});
