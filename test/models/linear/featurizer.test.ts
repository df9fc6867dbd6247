import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type FeaturizerConfig, HashedTfidfFeaturizer } from '../../../src/models/linear/featurizer.ts';

const config = (over: Partial<FeaturizerConfig> = {}): FeaturizerConfig => ({
  lowercase: true,
  wordNgrams: [1, 2],
  charNgrams: [2, 5],
  hashBits: 18,
  sublinearTf: false,
  minDf: 1,
  wordWeight: 1,
  charWeight: 1,
  ...over,
});

const norm = (values: Float32Array) => Math.sqrt(values.reduce((s, v) => s + v * v, 0));
const words = fc.array(fc.constantFrom('card', 'Card', 'top', 'up', 'rate', 'é', 'x'), { maxLength: 8 });

describe('HashedTfidfFeaturizer', () => {
  test('rows are L2-normalised with distinct columns (or empty)', () => {
    fc.assert(
      fc.property(fc.array(words, { minLength: 1, maxLength: 6 }), (docs) => {
        const f = new HashedTfidfFeaturizer(config());
        const rows = f.fit(docs);
        for (let r = 0; r < rows.nRows; r++) {
          const indices = rows.indices.subarray(rows.indptr[r]!, rows.indptr[r + 1]!);
          const values = rows.values.subarray(rows.indptr[r]!, rows.indptr[r + 1]!);
          if (docs[r]!.length === 0) assert.equal(indices.length, 0);
          else assert.ok(Math.abs(norm(values) - 1) < 1e-5);
          assert.equal(new Set(indices).size, indices.length);
        }
      }),
    );
  });

  test('transform of a training text equals its fitted row', () => {
    const docs = [
      ['my', 'card'],
      ['top', 'up', 'my', 'card'],
    ];
    const f = new HashedTfidfFeaturizer(config());
    const rows = f.fit(docs);
    const row = f.transform(docs[1]!);
    const asMap = (indices: Int32Array, values: Float32Array) =>
      new Map(Array.from(indices, (c, k) => [c, values[k]!] as const).sort((a, b) => a[0] - b[0]));
    const fitted = rows.indices.subarray(rows.indptr[1]!, rows.indptr[2]!);
    assert.deepEqual(fitted, fitted.slice().sort(), 'training rows list columns in ascending order');
    assert.deepEqual(
      asMap(row.indices, row.values),
      asMap(fitted, rows.values.subarray(rows.indptr[1]!, rows.indptr[2]!)),
    );
  });

  test('lowercases, and drops n-grams not seen at fit', () => {
    const f = new HashedTfidfFeaturizer(config({ charNgrams: null }));
    f.fit([['card'], ['rate']]);
    assert.deepEqual(f.transform(['CARD']), f.transform(['card']));
    assert.equal(f.transform(['unseen']).indices.length, 0);
  });

  test('names columns with readable word and character n-grams', () => {
    const f = new HashedTfidfFeaturizer(config({ wordNgrams: [1, 2], charNgrams: [2, 3] }));
    f.fit([['Top', 'up']]);
    const names = new Set(Array.from({ length: f.nFeatures }, (_, c) => f.featureName(c)));
    for (const n of ['w:top', 'w:up', 'w:top up', 'c:<t', 'c:<to', 'c:op>', 'c:up>', 'c:p>']) {
      assert.ok(names.has(n), `missing ${n} in ${[...names].join(' ')}`);
    }
    assert.equal(names.size, f.nFeatures);
  });

  test('idf down-weights n-grams found in every text', () => {
    const f = new HashedTfidfFeaturizer(config({ charNgrams: null, wordNgrams: [1, 1] }));
    f.fit([
      ['the', 'card'],
      ['the', 'rate'],
      ['the', 'fee'],
    ]);
    const row = f.transform(['the', 'card']);
    const byName = new Map(Array.from(row.indices, (c, k) => [f.featureName(c), row.values[k]!]));
    assert.ok(byName.get('w:the')! < byName.get('w:card')!);
  });

  test('minDf keeps only n-grams seen in enough texts; sublinear tf dampens repeats', () => {
    const f = new HashedTfidfFeaturizer(config({ charNgrams: null, wordNgrams: [1, 1], minDf: 2 }));
    f.fit([
      ['a', 'b'],
      ['a', 'c'],
      ['a', 'b'],
    ]);
    const names = Array.from({ length: f.nFeatures }, (_, c) => f.featureName(c)).sort();
    assert.deepEqual(names, ['w:a', 'w:b']);
    const plain = new HashedTfidfFeaturizer(config({ charNgrams: null, wordNgrams: [1, 1] }));
    const sub = new HashedTfidfFeaturizer(
      config({ charNgrams: null, wordNgrams: [1, 1], sublinearTf: true }),
    );
    const docs = [
      ['a', 'b'],
      ['a', 'c'],
    ];
    plain.fit(docs);
    sub.fit(docs);
    const ratio = (g: HashedTfidfFeaturizer) => {
      const r = g.transform(['b', 'b', 'b', 'c']);
      const v = new Map(Array.from(r.indices, (c, k) => [g.featureName(c), r.values[k]!]));
      return v.get('w:b')! / v.get('w:c')!;
    };
    assert.ok(Math.abs(ratio(plain) - 3) < 1e-5);
    assert.ok(Math.abs(ratio(sub) - (1 + Math.log(3))) < 1e-5);
  });

  test('a featurizer rebuilt from its state gives identical rows', () => {
    const f = new HashedTfidfFeaturizer(config());
    f.fit([
      ['where', 'is', 'my', 'card'],
      ['exchange', 'rate'],
    ]);
    const g = HashedTfidfFeaturizer.fromState(config(), f.state());
    assert.deepEqual(g.transform(['my', 'rate', 'card']), f.transform(['my', 'rate', 'card']));
  });
});
