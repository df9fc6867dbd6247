import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timeOrderedUuid } from '../../src/serve/request-id.ts';

test('request ids are version-7 UUIDs that sort by their time and differ within a millisecond', () => {
  const format = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const t = Date.UTC(2026, 11, 7);
  const ids = [
    timeOrderedUuid(t),
    timeOrderedUuid(t),
    timeOrderedUuid(t + 1),
    timeOrderedUuid(t + 86_400_000),
  ];
  for (const id of ids) assert.match(id, format);
  assert.equal(
    ids[0]!.slice(0, 13).replace('-', ''),
    t.toString(16).padStart(12, '0'),
    'the time is the first 48 bits',
  );
  assert.notEqual(ids[0], ids[1], 'random below the millisecond');
  assert.ok(ids[1]! < ids[2]! && ids[2]! < ids[3]!, 'later ids sort later');
  assert.match(timeOrderedUuid(), format);
});
