import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../src/core/errors.ts';
import { createRng } from '../../src/core/rng.ts';

describe('createRng', () => {
  it('produces a fixed sequence for a seed (golden values guard cross-platform determinism)', () => {
    const rng = createRng(42);
    assert.deepEqual([rng.uint32(), rng.uint32(), rng.uint32()], [2194957519, 309418165, 788542459]);
    assert.equal(createRng(42).next(), 2194957519 / 2 ** 32);
    assert.deepEqual(createRng(42).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), [8, 7, 5, 6, 4, 0, 2, 3, 1, 9]);
    assert.equal(createRng(42).fork('a').uint32(), 1897548347);
  });

  it('gives different streams for different seeds, including large, negative and fractional ones', () => {
    const firsts = [0, 1, -1, 42, 2 ** 32, 2 ** 40, 0.5, 1.5].map((s) => createRng(s).uint32());
    assert.equal(new Set(firsts).size, firsts.length);
  });

  it('rejects non-finite seeds with a ConfigError', () => {
    assert.throws(() => createRng(Number.NaN), ConfigError);
    assert.throws(() => createRng(Number.POSITIVE_INFINITY), /seed must be a finite number/);
  });

  it('next() stays in [0, 1) and is roughly uniform', () => {
    const rng = createRng(7);
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 20000; i++) {
      const x = rng.next();
      assert.ok(x >= 0 && x < 1);
      buckets[Math.floor(x * 10)]++;
    }
    for (const b of buckets) assert.ok(b > 1700 && b < 2300, `bucket count ${b}`);
  });

  it('int() covers exactly [0, max) and validates its bound', () => {
    const rng = createRng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(rng.int(7));
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6],
    );
    assert.equal(rng.int(1), 0);
    assert.throws(() => rng.int(0), ConfigError);
    assert.throws(() => rng.int(2.5), ConfigError);
    assert.throws(() => rng.int(2 ** 32 + 1), ConfigError);
  });

  it('normal() has about the requested mean and standard deviation', () => {
    const rng = createRng(11);
    const xs = Array.from({ length: 20000 }, () => rng.normal(2, 3));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    assert.ok(Math.abs(mean - 2) < 0.1, `mean ${mean}`);
    assert.ok(Math.abs(sd - 3) < 0.1, `sd ${sd}`);
  });

  it('shuffle() is an in-place permutation', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.integer(), (arr, seed) => {
        const copy = [...arr];
        const out = createRng(seed).shuffle(copy);
        assert.equal(out, copy);
        assert.deepEqual(
          [...out].sort((a, b) => a - b),
          [...arr].sort((a, b) => a - b),
        );
      }),
    );
  });

  it('fork() depends on seed and label only, not on draws already taken', () => {
    const a = createRng(5);
    const b = createRng(5);
    b.next();
    b.next();
    assert.equal(a.fork('init').uint32(), b.fork('init').uint32());
    assert.notEqual(a.fork('init').uint32(), a.fork('data').uint32());
    assert.notEqual(a.fork('x').fork('y').uint32(), a.fork('y').fork('x').uint32());
    assert.notEqual(createRng(6).fork('init').uint32(), a.fork('init').uint32());
  });
});
