import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { applyOverrides } from '../../src/core/config.ts';
import { SapphireError } from '../../src/core/errors.ts';
import {
  expandGrid,
  MAX_GRID_TRIALS,
  parseGridSpec,
  parseRandomSpec,
  type SearchDimension,
  sampleRandom,
} from '../../src/experiments/search-space.ts';

/** Asserts `fn` throws BAD_INPUT whose message matches `message` and whose hint matches `hint`. */
function throwsBadInput(fn: () => unknown, message: RegExp, hint: RegExp = /./): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SapphireError, `expected a SapphireError, got ${String(e)}`);
    assert.equal(e.code, 'BAD_INPUT');
    assert.match(e.message, message);
    assert.match(e.hint ?? '', hint);
    return true;
  });
}

const choice = (key: string, values: unknown[]): SearchDimension => ({
  key,
  distribution: { kind: 'choice', values },
});

/** Applies a trial's overrides to an empty config and reads each key's value back. */
function readBack(overrides: string[], keys: string[]): unknown[] {
  const config = applyOverrides({}, overrides);
  return keys.map((key) =>
    key.split('.').reduce<unknown>((v, seg) => (v as Record<string, unknown>)[seg], config),
  );
}

describe('parseGridSpec', () => {
  it('reads numbers, bare words, booleans, null and quoted strings like override values', () => {
    assert.deepEqual(parseGridSpec('model.c2=[0.01,0.1,1]'), {
      key: 'model.c2',
      distribution: { kind: 'choice', values: [0.01, 0.1, 1] },
    });
    assert.deepEqual(parseGridSpec('model.features=[a,b]').distribution, {
      kind: 'choice',
      values: ['a', 'b'],
    });
    assert.deepEqual(parseGridSpec(' x = [1e-3, true, null, "a, b", [1, 2]] ').distribution, {
      kind: 'choice',
      values: [0.001, true, null, 'a, b', [1, 2]],
    });
  });

  it('rejects a missing "=", an empty list and values outside brackets, showing the accepted form', () => {
    throwsBadInput(() => parseGridSpec('model.c2'), /no "="/, /key\.path=\[v1,v2,…\]/);
    throwsBadInput(() => parseGridSpec('model.c2=[]'), /empty/, /model\.c2=\[0\.01,0\.1,1\]/);
    throwsBadInput(() => parseGridSpec('x=a,b'), /did you mean x=\[a,b\]/);
    throwsBadInput(() => parseGridSpec('x=[1,2'), /not a valid list/);
    throwsBadInput(() => parseGridSpec('a..b=[1]'), /dot-separated/);
  });
});

describe('parseRandomSpec', () => {
  it('reads each distribution', () => {
    assert.deepEqual(parseRandomSpec('model.c2=loguniform(1e-3,1)'), {
      key: 'model.c2',
      distribution: { kind: 'loguniform', low: 0.001, high: 1 },
    });
    assert.deepEqual(parseRandomSpec('model.epochs=int(5, 20)').distribution, {
      kind: 'int',
      low: 5,
      high: 20,
    });
    assert.deepEqual(parseRandomSpec('x=uniform(0,1)').distribution, { kind: 'uniform', low: 0, high: 1 });
    assert.deepEqual(parseRandomSpec('y=choice(a, "b c", 3)').distribution, {
      kind: 'choice',
      values: ['a', 'b c', 3],
    });
    assert.deepEqual(parseRandomSpec('y=[a,b]').distribution, { kind: 'choice', values: ['a', 'b'] });
  });

  it('rejects bad ranges and unknown distributions with a hint listing the accepted forms', () => {
    throwsBadInput(() => parseRandomSpec('x=uniform(1,1)'), /needs low < high/, /loguniform\(low,high\)/);
    throwsBadInput(() => parseRandomSpec('x=int(20,5)'), /needs low < high/);
    throwsBadInput(() => parseRandomSpec('x=loguniform(0,1)'), /needs low > 0/, /uniform\(\)/);
    throwsBadInput(() => parseRandomSpec('x=loguniform(-1,1)'), /needs low > 0/);
    throwsBadInput(() => parseRandomSpec('x=int(1.5,3)'), /whole-number/);
    throwsBadInput(() => parseRandomSpec('x=uniform(1)'), /two numbers/);
    throwsBadInput(() => parseRandomSpec('x=uniform(a,b)'), /two numbers/);
    throwsBadInput(() => parseRandomSpec('x=choice()'), /empty/);
    throwsBadInput(
      () => parseRandomSpec('x=logunifrom(1e-3,1)'),
      /unknown distribution "logunifrom" \(did you mean "loguniform"\?\)/,
    );
    throwsBadInput(
      () => parseRandomSpec('x=normal(0,1)'),
      /unknown distribution "normal"; use one of choice, uniform/,
    );
    throwsBadInput(() => parseRandomSpec('x=int'), /needs arguments in parentheses/);
    throwsBadInput(() => parseRandomSpec('x=0.5'), /expected a distribution/);
    throwsBadInput(() => parseRandomSpec('x'), /no "="/, /int\(low,high\)/);
  });
});

describe('expandGrid', () => {
  it('gives the Cartesian product with the first dimension varying slowest', () => {
    const trials = expandGrid([parseGridSpec('a=[1,2]'), parseGridSpec('model.b=[x,y,z]')]);
    assert.equal(trials.length, 6);
    assert.deepEqual(
      trials.map((t) => t.overrides),
      [
        ['a=1', 'model.b=x'],
        ['a=1', 'model.b=y'],
        ['a=1', 'model.b=z'],
        ['a=2', 'model.b=x'],
        ['a=2', 'model.b=y'],
        ['a=2', 'model.b=z'],
      ],
    );
    assert.deepEqual(
      trials.map((t) => t.index),
      [0, 1, 2, 3, 4, 5],
    );
    assert.deepEqual(trials[4]!.values, { a: 2, 'model.b': 'y' });
  });

  it('gives one empty trial (the base config) for no dimensions', () => {
    assert.deepEqual(expandGrid([]), [{ index: 0, values: {}, overrides: [] }]);
  });

  it('rejects duplicate or nested keys, ranges and grids over the trial limit', () => {
    throwsBadInput(() => expandGrid([parseGridSpec('x=[1]'), parseGridSpec('x=[2]')]), /"x" is given twice/);
    throwsBadInput(
      () => expandGrid([parseGridSpec('model=[{c2: 1}]'), parseGridSpec('model.c2=[2]')]),
      /"model" and "model\.c2" overlap/,
    );
    throwsBadInput(
      () => expandGrid([parseRandomSpec('x=uniform(0,1)')]),
      /grid cannot enumerate/,
      /random search/,
    );
    const big = ['a', 'b', 'c', 'd', 'e'].map((k) => parseGridSpec(`${k}=[1,2,3,4,5,6,7]`));
    throwsBadInput(() => expandGrid(big), /16807 trials, more than the limit of 10000/, /random search/);
    assert.equal(expandGrid(big.slice(0, 4)).length, 2401);
    assert.equal(
      expandGrid([
        choice(
          'x',
          Array.from({ length: MAX_GRID_TRIALS }, (_, i) => i),
        ),
      ]).length,
      10_000,
    );
  });

  it('writes overrides that applyOverrides reads back to the same values', () => {
    const tricky = [
      'a b',
      'a, b',
      'x,y',
      '1',
      'true',
      'null',
      ' lead',
      'a: b',
      '#c',
      '[x]',
      '',
      "don't",
      '"q"',
    ];
    const values = [...tricky, 0.1, 1e-7, -3, 0, 2 ** 40, true, false, null, [1, 'a b'], { k: 'v, w' }];
    const trials = expandGrid([choice('model.v', values)]);
    for (const [i, t] of trials.entries()) {
      assert.deepEqual(readBack(t.overrides, ['model.v']), [values[i]], t.overrides[0]);
    }
  });

  it('round-trips arbitrary strings, numbers, booleans and null (property)', () => {
    const scalar = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
    );
    fc.assert(
      fc.property(fc.array(scalar, { minLength: 1, maxLength: 5 }), scalar, (xs, y) => {
        for (const t of expandGrid([choice('a.x', xs), choice('b', [y])])) {
          assert.deepEqual(readBack(t.overrides, ['a.x', 'b']), [t.values['a.x'], t.values.b]);
        }
      }),
    );
  });
});

describe('sampleRandom', () => {
  const dims = [
    parseRandomSpec('model.c2=loguniform(1e-3,1)'),
    parseRandomSpec('model.epochs=int(5,20)'),
    parseRandomSpec('x=uniform(-1,1)'),
    parseRandomSpec('model.features=choice(words, "words, shapes")'),
  ];

  it('draws values inside each distribution, and their overrides read back exactly', () => {
    const trials = sampleRandom(dims, 300, 7);
    assert.equal(trials.length, 300);
    const epochs = new Set<number>();
    let lowDecade = 0;
    for (const [i, t] of trials.entries()) {
      assert.equal(t.index, i);
      const c2 = t.values['model.c2'] as number;
      const e = t.values['model.epochs'] as number;
      const x = t.values.x as number;
      assert.ok(c2 >= 1e-3 && c2 <= 1, `c2 ${c2}`);
      assert.ok(Number.isInteger(e) && e >= 5 && e <= 20, `epochs ${e}`);
      assert.ok(x >= -1 && x < 1, `x ${x}`);
      assert.ok(['words', 'words, shapes'].includes(t.values['model.features'] as string));
      epochs.add(e);
      if (c2 < 1e-2) lowDecade++;
      assert.deepEqual(
        readBack(t.overrides, ['model.c2', 'model.epochs', 'x', 'model.features']),
        dims.map((d) => t.values[d.key]),
      );
    }
    assert.equal(epochs.size, 16, 'both int bounds are reachable');
    // Log-uniform: each of the three decades gets about a third of the draws (uniform would give ~1%).
    assert.ok(lowDecade > 60 && lowDecade < 140, `draws below 0.01: ${lowDecade}`);
  });

  it('is deterministic per seed, differs between seeds, and keeps a dimension stable when others are added', () => {
    assert.deepEqual(sampleRandom(dims, 10, 3), sampleRandom(dims, 10, 3));
    assert.notDeepEqual(sampleRandom(dims, 10, 3), sampleRandom(dims, 10, 4));
    const alone = sampleRandom([dims[0]!], 10, 3).map((t) => t.values['model.c2']);
    const together = sampleRandom(dims, 10, 3).map((t) => t.values['model.c2']);
    assert.deepEqual(alone, together);
  });

  it('rejects bad trial counts, duplicate keys and invalid hand-built dimensions', () => {
    throwsBadInput(() => sampleRandom(dims, 0, 1), /positive integer, got 0/);
    throwsBadInput(() => sampleRandom(dims, 2.5, 1), /positive integer/);
    throwsBadInput(() => sampleRandom([dims[0]!, dims[0]!], 5, 1), /given twice/);
    throwsBadInput(
      () => sampleRandom([{ key: 'lr', distribution: { kind: 'loguniform', low: 0, high: 1 } }], 5, 1),
      /needs low > 0/,
    );
    throwsBadInput(() => sampleRandom([choice('x', [])], 5, 1), /empty/);
  });
});
