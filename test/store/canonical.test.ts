import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SapphireError } from '../../src/core/errors.ts';
import type { Example } from '../../src/data/types.ts';
import {
  canonicalJson,
  hashExamples,
  parseExamplesJsonl,
  serialiseExamples,
} from '../../src/store/canonical.ts';

/** Arbitrary valid examples (spans and tokens inside the text), with unique ids. */
const exampleArb: fc.Arbitrary<Example> = fc
  .record(
    {
      id: fc.string({ minLength: 1, maxLength: 8 }),
      text: fc.string({ maxLength: 30 }),
      labels: fc.array(fc.string({ minLength: 1, maxLength: 5 }), { maxLength: 3 }),
      split: fc.constantFrom('train', 'dev', 'test'),
      meta: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
      cuts: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 3 }),
    },
    { requiredKeys: ['id', 'text', 'meta', 'cuts'] },
  )
  .map(({ cuts, ...ex }) => {
    const n = ex.text.length;
    const spans = cuts
      .map(([a, b]) => [Math.min(a % (n + 1), b % (n + 1)), Math.max(a % (n + 1), b % (n + 1))] as const)
      .filter(([s, e]) => s < e)
      .map(([start, end]) => ({ start, end, label: 'X' }));
    // JSON has no -0: normalise meta the way a JSON round trip would.
    return { ...ex, meta: JSON.parse(JSON.stringify(ex.meta)), ...(n > 0 ? { spans } : {}) } as Example;
  });

const examplesArb = fc
  .uniqueArray(exampleArb, { selector: (e) => e.id, maxLength: 6 })
  .map((list) => list.map((e) => ({ ...e })));

function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => shuffleKeys(v, seed + i));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  entries.sort(
    (a, b) => ((a[0].length * 31 + seed) % 7) - ((b[0].length * 31 + seed) % 7) || (seed % 2 ? 1 : -1),
  );
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries)
    Object.defineProperty(out, k, {
      value: shuffleKeys(v, seed + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

test('serialised examples parse back to the same examples', () => {
  fc.assert(
    fc.property(examplesArb, (examples) => {
      const { jsonl, splitCounts } = serialiseExamples(examples);
      assert.deepEqual(parseExamplesJsonl(jsonl, 'test'), examples);
      assert.equal(
        Object.values(splitCounts).reduce((a, b) => a + b, 0),
        examples.filter((e) => e.split !== undefined).length,
      );
    }),
    { numRuns: 200 },
  );
});

test('the hash ignores key order and undefined fields, but not content or example order', () => {
  fc.assert(
    fc.property(examplesArb, fc.nat(), (examples, seed) => {
      const hash = hashExamples(examples);
      assert.match(hash, /^[0-9a-f]{64}$/);
      const reordered = examples.map((e) => ({ ...(shuffleKeys(e, seed) as Example), tokens: undefined }));
      assert.equal(hashExamples(reordered), hash);
      if (examples.length >= 2) {
        const swapped = [examples[1]!, examples[0]!, ...examples.slice(2)];
        assert.notEqual(hashExamples(swapped), hash);
      }
      if (examples.length >= 1) {
        const changed = [{ ...examples[0]!, text: `${examples[0]!.text}!` }, ...examples.slice(1)];
        assert.notEqual(hashExamples(changed), hash);
      }
    }),
    { numRuns: 200 },
  );
});

test('the canonical form is pinned: changing it would change every stored version id', () => {
  const examples: Example[] = [
    {
      id: 'a',
      text: 'Nike shoes',
      tokens: [{ text: 'Nike', start: 0, end: 4 }],
      spans: [{ start: 0, end: 4, label: 'BRAND' }],
      labels: ['retail'],
      split: 'train',
      meta: { z: 1, a: [true, null, 'é'] },
    },
    { id: 'b', text: '', meta: {} },
  ];
  const { jsonl, hash } = serialiseExamples(examples);
  assert.equal(
    jsonl,
    '{"id":"a","text":"Nike shoes","tokens":[{"text":"Nike","start":0,"end":4}],"spans":[{"start":0,"end":4,"label":"BRAND"}],"labels":["retail"],"split":"train","meta":{"a":[true,null,"é"],"z":1}}\n' +
      '{"id":"b","text":"","meta":{}}\n',
  );
  assert.equal(hash, '22abcec4cc680870b0421ba90875b67510b879f8b47ce3c6340745bea759788e');
});

test('missing meta counts as empty meta', () => {
  assert.equal(
    hashExamples([{ id: 'a', text: 'x' } as Example]),
    hashExamples([{ id: 'a', text: 'x', meta: {} }]),
  );
});

test('values JSON cannot carry are rejected with their path', () => {
  const cases: Array<[unknown, RegExp]> = [
    [Number.NaN, /meta\.v, example a: is NaN/],
    [Number.POSITIVE_INFINITY, /meta\.v, example a: is Infinity/],
    [new Date(0), /meta\.v, example a: is a Date/],
    [new Map(), /meta\.v, example a: is a Map/],
    [10n, /meta\.v, example a: is a bigint/],
    [[1, undefined], /meta\.v\[1\], example a: is undefined/],
    [() => 1, /meta\.v, example a: is a function/],
  ];
  for (const [value, pattern] of cases) {
    assert.throws(
      () => hashExamples([{ id: 'a', text: 't', meta: { v: value } }]),
      (err: unknown) =>
        err instanceof SapphireError && err.code === 'DATA_INVALID' && pattern.test(err.message),
      String(pattern),
    );
  }
  assert.throws(() => canonicalJson({ when: new Date() }, 'config'), /config\.when is a Date/);
});

test('structural problems are all reported at once with example ids', () => {
  const bad = [
    { id: '', text: 'x', meta: {} },
    { id: 'b', text: 42, meta: {} },
    { id: 'c', text: 'abc', tokens: [{ text: 'abcd', start: 0, end: 4 }], meta: {} },
    { id: 'd', text: 'abc', spans: [{ start: 1, end: 1, label: 'X' }], meta: {} },
    { id: 'e', text: 'abc', labels: [''], meta: {} },
    { id: 'f', text: 'abc', meta: [] },
    { id: 'g', text: 'abc', extra: 1, meta: {} },
    { id: 'g', text: 'again', meta: {} },
    'not an example',
  ] as unknown as Example[];
  try {
    serialiseExamples(bad, 'dataset "t"');
    assert.fail('expected a DataError');
  } catch (err) {
    assert.ok(err instanceof SapphireError);
    assert.equal(err.code, 'DATA_INVALID');
    const problems = err.details.problems ?? [];
    assert.deepEqual(
      problems.map((p) => p.path),
      [
        'examples[0].id',
        'examples[1].text',
        'examples[2].tokens[0]',
        'examples[3].spans[0]',
        'examples[4].labels',
        'examples[5].meta',
        'examples[6].extra',
        'examples[7].id',
        'examples[8]',
      ],
    );
    assert.equal(problems[3]!.exampleId, 'd');
    assert.match(err.message, /9 problems in dataset "t"/);
  }
});

test('damaged JSONL names its line', () => {
  assert.throws(
    () => parseExamplesJsonl('{"id":"a","text":"x","meta":{}}\n{oops\n', 'blob'),
    (err: unknown) => err instanceof SapphireError && err.details.line === 2 && err.details.file === 'blob',
  );
});
