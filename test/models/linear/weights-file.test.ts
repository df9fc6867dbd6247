import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SapphireError } from '../../../src/core/errors.ts';
import {
  decodeWeights,
  encodeWeights,
  type LinearWeightsData,
} from '../../../src/models/linear/weights-file.ts';

const data: LinearWeightsData = {
  hashBits: 12,
  nClasses: 2,
  buckets: Int32Array.from([3, 17, 4000]),
  idf: Float32Array.from([1, 1.5, 2.25]),
  weights: Float32Array.from([0.5, -0.5, 1e-8, -3, 7, 0]),
  bias: Float32Array.from([0.1, -0.1]),
  thresholds: Float32Array.from([0.3, 0.7]),
};

describe('linear.v1 weights file', () => {
  test('round-trips every array, with and without thresholds', () => {
    assert.deepEqual(decodeWeights(encodeWeights(data, 1), 1, 'w.bin'), data);
    const plain = { ...data, thresholds: null };
    assert.deepEqual(decodeWeights(encodeWeights(plain, 1), 1, 'w.bin'), plain);
  });

  test('is little-endian with a magic and a header', () => {
    const bytes = encodeWeights(data, 1);
    assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), 'SAPHLIN1');
    assert.deepEqual([...bytes.subarray(8, 12)], [1, 0, 0, 0]);
    assert.deepEqual([...bytes.subarray(12, 16)], [3, 0, 0, 0]);
    assert.equal(bytes.length, 32 + 4 * (3 + 3 + 6 + 2 + 2));
  });

  test('refuses another version, a bad magic and a wrong length', () => {
    const bytes = encodeWeights(data, 2);
    assert.throws(
      () => decodeWeights(bytes, 1, 'w.bin'),
      (e: unknown) =>
        e instanceof SapphireError &&
        e.code === 'INCOMPATIBLE_VERSION' &&
        /reads format version 1/.test(e.message),
    );
    const bad = encodeWeights(data, 1);
    bad[0] = 0x58;
    assert.throws(() => decodeWeights(bad, 1, 'w.bin'), /starts with "XAPHLIN1"/);
    assert.throws(() => decodeWeights(encodeWeights(data, 1).subarray(0, 40), 1, 'w.bin'), /header promises/);
  });
});
