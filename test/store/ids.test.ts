import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SapphireError } from '../../src/core/errors.ts';
import { checkDatasetName, datasetVersionId, newRunId, parseDatasetRef } from '../../src/store/ids.ts';

test('run ids sort in start-time order and carry UTC seconds', () => {
  assert.match(newRunId(new Date('2024-05-01T12:03:09.500Z')), /^r-20240501120309-[0-9a-f]{6}$/);
  fc.assert(
    fc.property(
      fc.date({ min: new Date('2000-01-01'), max: new Date('2999-12-31'), noInvalidDate: true }),
      fc.date({ min: new Date('2000-01-01'), max: new Date('2999-12-31'), noInvalidDate: true }),
      (a, b) => {
        const [ia, ib] = [newRunId(a), newRunId(b)];
        if (Math.floor(a.getTime() / 1000) < Math.floor(b.getTime() / 1000))
          assert.ok(ia < ib, `${ia} < ${ib}`);
      },
    ),
  );
});

test('dataset refs: a name, or a name with a hex prefix of at least 4 characters', () => {
  assert.deepEqual(parseDatasetRef('wnut17'), { name: 'wnut17', prefix: null });
  assert.deepEqual(parseDatasetRef('wnut17@3F9A'), { name: 'wnut17', prefix: '3f9a' });
  assert.deepEqual(parseDatasetRef(datasetVersionId('d', 'ab'.repeat(32))), {
    name: 'd',
    prefix: 'abababababab',
  });
  for (const bad of ['', 'x@abc', 'x@ghij', 'x@', `x@${'a'.repeat(65)}`]) {
    assert.throws(
      () => parseDatasetRef(bad),
      (err: unknown) => err instanceof SapphireError && err.code === 'BAD_INPUT',
      bad,
    );
  }
});

test('dataset names are checked', () => {
  for (const ok of ['wnut17', 'conll-2003', 'a.b_c', 'X']) checkDatasetName(ok);
  for (const bad of ['', 'has space', 'a@b', '-lead', 'x'.repeat(65), 42]) {
    assert.throws(() => checkDatasetName(bad), /invalid dataset name/, String(bad));
  }
});
