import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../src/core/errors.ts';
import {
  compileSlices,
  examplesInSlice,
  forEachCondition,
  type SliceCondition,
  type SliceDefinition,
  sliceMembership,
} from '../../src/data/slices.ts';
import type { Example } from '../../src/data/types.ts';

const examples: Example[] = [
  {
    id: 'e1',
    text: 'Nike red running shoes',
    spans: [
      { start: 0, end: 4, label: 'BRAND' },
      { start: 5, end: 8, label: 'COLOR' },
    ],
    meta: { marketplace: 'a', year: '2021', tags: ['sale', 'new'] },
  },
  {
    id: 'e2',
    text: 'Blue cotton shirt, size 42, slim fit for men and women',
    spans: [{ start: 0, end: 4, label: 'COLOR' }],
    meta: { marketplace: 'b', seller: { country: 'fr' } },
  },
  { id: 'e3', text: 'ADIDAS cap', labels: ['BRAND'], meta: { marketplace: null } },
  {
    id: 'e4',
    text: 'one two three four five six seven',
    // Pre-tokenized examples keep their own tokens (here deliberately only two).
    tokens: [
      { text: 'one', start: 0, end: 3 },
      { text: 'two', start: 4, end: 7 },
    ],
    meta: { year: 2021 },
  },
];

/** Ids of the examples matching `where`. */
function ids(where: SliceCondition): string[] {
  return sliceMembership(examples, [{ name: 's', where }]).get('s')!;
}

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

describe('slice conditions', () => {
  test('tokens counts the tokenizer tokens, or the example own tokens when present', () => {
    assert.deepEqual(ids({ tokens: { max: 4 } }), ['e1', 'e3', 'e4']);
    assert.deepEqual(ids({ tokens: { min: 5 } }), ['e2']);
    assert.deepEqual(ids({ tokens: { min: 2, max: 2 } }), ['e3', 'e4']);
  });

  test('chars counts characters (code points), bounds inclusive', () => {
    assert.deepEqual(ids({ chars: { max: 10 } }), ['e3']);
    assert.deepEqual(ids({ chars: { min: 22, max: 33 } }), ['e1', 'e4']);
    const emoji: Example = { id: 'x', text: '👟👟', meta: {} };
    assert.deepEqual(sliceMembership([emoji], [{ name: 's', where: { chars: { max: 2 } } }]).get('s'), ['x']);
  });

  test('label matches span labels and class labels', () => {
    assert.deepEqual(ids({ label: 'BRAND' }), ['e1', 'e3']);
    assert.deepEqual(ids({ label: 'COLOR' }), ['e1', 'e2']);
    assert.deepEqual(ids({ label: 'SIZE' }), []);
  });

  test('meta equals / in / exists, with nested fields, lists and text-vs-number equality', () => {
    assert.deepEqual(ids({ meta: { field: 'marketplace', equals: 'a' } }), ['e1']);
    assert.deepEqual(ids({ meta: { field: 'marketplace', in: ['a', 'b'] } }), ['e1', 'e2']);
    assert.deepEqual(ids({ meta: { field: 'marketplace', exists: true } }), ['e1', 'e2']);
    assert.deepEqual(ids({ meta: { field: 'marketplace', exists: false } }), ['e3', 'e4']);
    assert.deepEqual(ids({ meta: { field: 'seller.country', equals: 'fr' } }), ['e2']);
    assert.deepEqual(ids({ meta: { field: 'tags', equals: 'sale' } }), ['e1']);
    assert.deepEqual(ids({ meta: { field: 'year', equals: 2021 } }), ['e1', 'e4']);
    assert.deepEqual(
      ids({ meta: { field: 'marketplace', equals: null } }),
      ['e3'],
      'null matches null, not a missing field',
    );
  });

  test('regex searches the text, with optional flags', () => {
    assert.deepEqual(ids({ regex: '\\d' }), ['e2']);
    assert.deepEqual(ids({ regex: '^adidas' }), []);
    assert.deepEqual(ids({ regex: '^adidas', flags: 'i' }), ['e3']);
  });

  test('all / any / not combine conditions, and several keys in one condition must all hold', () => {
    assert.deepEqual(ids({ all: [{ label: 'BRAND' }, { label: 'COLOR' }] }), ['e1']);
    assert.deepEqual(ids({ any: [{ regex: 'cap' }, { meta: { field: 'marketplace', equals: 'b' } }] }), [
      'e2',
      'e3',
    ]);
    assert.deepEqual(ids({ not: { label: 'BRAND' } }), ['e2', 'e4']);
    assert.deepEqual(ids({ label: 'BRAND', tokens: { max: 2 } }), ['e3']);
    assert.deepEqual(ids({ not: { any: [{ label: 'BRAND' }, { chars: { min: 40 } }] } }), ['e4']);
  });

  test('a condition and its negation split the examples exactly (property)', () => {
    const leaf: fc.Arbitrary<SliceCondition> = fc.oneof(
      fc.record({ tokens: fc.record({ max: fc.nat(8) }) }),
      fc.record({ chars: fc.record({ min: fc.nat(40) }) }),
      fc.record({ label: fc.constantFrom('BRAND', 'COLOR') }),
      fc.record({ regex: fc.constantFrom('\\d', '^[A-Z]', 's$') }),
      fc.record({ meta: fc.record({ field: fc.constantFrom('marketplace', 'year'), exists: fc.boolean() }) }),
    );
    const cond = fc.letrec<{ c: SliceCondition }>((tie) => ({
      c: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.record({ all: fc.array(tie('c'), { minLength: 1, maxLength: 3 }) }),
        fc.record({ any: fc.array(tie('c'), { minLength: 1, maxLength: 3 }) }),
        fc.record({ not: tie('c') }),
      ),
    })).c;
    fc.assert(
      fc.property(cond, (c) => {
        const m = sliceMembership(examples, [
          { name: 'in', where: c },
          { name: 'out', where: { not: c } },
        ]);
        const inside = m.get('in')!;
        const outside = m.get('out')!;
        assert.equal(inside.length + outside.length, examples.length);
        assert.deepEqual([...inside, ...outside].sort(), examples.map((e) => e.id).sort());
      }),
      { numRuns: 200 },
    );
  });
});

describe('sliceMembership / examplesInSlice', () => {
  const defs: SliceDefinition[] = [
    { name: 'short', description: 'at most 4 tokens', where: { tokens: { max: 4 } } },
    { name: 'has-brand', where: { label: 'BRAND' } },
    { name: 'none', where: { regex: 'zzz' } },
  ];

  test('maps every slice name to its example ids in input order, empty slices included', () => {
    const m = sliceMembership(examples, defs);
    assert.deepEqual([...m.keys()], ['short', 'has-brand', 'none']);
    assert.deepEqual(m.get('short'), ['e1', 'e3', 'e4']);
    assert.deepEqual(m.get('has-brand'), ['e1', 'e3']);
    assert.deepEqual(m.get('none'), []);
  });

  test('compiled slices can be reused and give the same answer', () => {
    const compiled = compileSlices(defs);
    assert.deepEqual(sliceMembership(examples, compiled), sliceMembership(examples, defs));
    assert.equal(compiled[0]!.description, 'at most 4 tokens');
    assert.equal(compiled[1]!.test(examples[2]!), true);
    assert.equal(compiled[1]!.test(examples[1]!), false);
  });

  test('examplesInSlice returns the examples themselves', () => {
    assert.deepEqual(
      examplesInSlice(examples, defs[1]!).map((e) => e.id),
      ['e1', 'e3'],
    );
    assert.equal(examplesInSlice(examples, compileSlices(defs)[0]!)[0], examples[0]);
  });
});

describe('slice definition checks', () => {
  const check = (defs: unknown[]) => configErrorOf(() => compileSlices(defs as SliceDefinition[]));

  test('a bad regex names the slice path and the regex error', () => {
    const err = check([
      { name: 'ok', where: { label: 'A' } },
      { name: 'bad', where: { any: [{ regex: '(' }] } },
    ]);
    assert.match(
      err.message,
      /^field slices\.1\.where\.any\.0\.regex: invalid regular expression \/\(\/: Unterminated group/,
    );
  });

  test('flags must go with a regex and be supported', () => {
    assert.match(
      check([{ name: 's', where: { label: 'A', flags: 'i' } }]).message,
      /slices\.0\.where\.flags: flags only apply to a regex/,
    );
    assert.match(
      check([{ name: 's', where: { regex: 'a', flags: 'g' } }]).message,
      /unsupported regex flags "g"/,
    );
  });

  test('empty conditions, bad ranges and ambiguous meta tests are refused', () => {
    assert.match(check([{ name: 's', where: {} }]).message, /field slices\.0\.where: an empty condition/);
    assert.match(
      check([{ name: 's', where: { tokens: {} } }]).message,
      /slices\.0\.where\.tokens: give min, max or both/,
    );
    assert.match(
      check([{ name: 's', where: { chars: { min: 5, max: 2 } } }]).message,
      /slices\.0\.where\.chars\.min: min \(5\) is larger than max \(2\)/,
    );
    assert.match(
      check([{ name: 's', where: { tokens: { max: -1 } } }]).message,
      /slices\.0\.where\.tokens\.max: must be ≥ 0, got -1/,
    );
    assert.match(
      check([{ name: 's', where: { meta: { field: 'm', equals: 'a', exists: true } } }]).message,
      /slices\.0\.where\.meta: give only one of equals, in or exists \(found equals, exists\)/,
    );
    assert.match(
      check([{ name: 's', where: { all: [] } }]).message,
      /slices\.0\.where\.all: needs at least 1 item/,
    );
  });

  test('unknown keys get suggestions, and names must be unique and well formed', () => {
    assert.match(
      check([{ name: 's', where: { lable: 'A' } }]).message,
      /slices\.0\.where\.lable: unknown key "lable" \(did you mean "label"\?\)/,
    );
    assert.match(
      check([
        { name: 's', where: { label: 'A' } },
        { name: 's', where: { label: 'B' } },
      ]).message,
      /slices\.1\.name: duplicate slice name "s"/,
    );
    assert.match(
      check([{ name: 'has brand', where: { label: 'A' } }]).message,
      /slices\.0\.name: slice names use letters/,
    );
  });

  test('forEachCondition visits nested conditions with their paths', () => {
    const seen: string[] = [];
    forEachCondition({ all: [{ label: 'A' }, { not: { any: [{ regex: 'x' }] } }] }, (_c, path) => {
      seen.push(path.join('.'));
    });
    assert.deepEqual(seen, ['', 'all.0', 'all.1', 'all.1.not', 'all.1.not.any.0']);
  });
});
