import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataError } from '../../../src/core/errors.ts';
import { decodeParamsInto, encodeParams } from '../../../src/models/neural/engine/serialize.ts';
import { createParam } from '../../../src/models/neural/engine/tensor.ts';

test('parameters round-trip through the binary format, matched by name', () => {
  const a = createParam('a', [2, 3]);
  const b = createParam('b', [5], true);
  a.value.set([1, -2, 3.5, 0, 1e-7, -1e30]);
  b.value.set([9, 8, 7, 6, 5]);
  const buf = encodeParams([a, b]);
  const a2 = createParam('a', [2, 3]);
  const b2 = createParam('b', [5], true);
  decodeParamsInto([b2, a2], buf);
  assert.deepEqual(a2.value, a.value);
  assert.deepEqual(b2.value, b.value);
});

test('a wrong shape, a missing parameter or a damaged file is a DataError', () => {
  const buf = encodeParams([createParam('a', [2, 3])]);
  assert.throws(
    () => decodeParamsInto([createParam('a', [3, 2])], buf, 'w.bin'),
    (e: unknown) => {
      assert.ok(e instanceof DataError && /shape 2×3 in the file, expected 3×2/.test(e.message), String(e));
      return true;
    },
  );
  assert.throws(() => decodeParamsInto([createParam('z', [1])], buf), /z is missing/);
  assert.throws(
    () => decodeParamsInto([createParam('a', [2, 3])], Buffer.from('nope')),
    /not a Sapphire parameter file/,
  );
  assert.throws(
    () => decodeParamsInto([createParam('a', [2, 3])], buf.subarray(0, buf.length - 4)),
    /truncated/,
  );
});
