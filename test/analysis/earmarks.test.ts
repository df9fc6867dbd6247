import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  checkExpectations,
  type Earmark,
  type EarmarkReport,
  formatEarmarkFailure,
  loadEarmarks,
  locateEntity,
  markEntities,
  parseEarmarks,
  runEarmarks,
  wholeWordOccurrences,
} from '../../src/analysis/earmarks.ts';
import { SapphireError } from '../../src/core/errors.ts';
import { MockModel } from '../../src/models/mock/mock-model.ts';

/** The error thrown by `fn`, which must be a SapphireError. */
function errorOf(fn: () => unknown): SapphireError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SapphireError, `expected a SapphireError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

const line = (value: unknown) => JSON.stringify(value);

describe('parseEarmarks', () => {
  test('reads one earmark per line, skipping blank and # lines, with default ids', () => {
    const source = [
      '# brands must always be found',
      line({ id: 'nike', text: 'Nike Air Max', expect: { entities: [{ text: 'Nike', label: 'BRAND' }] } }),
      '',
      line({ text: 'red cap', note: 'colour', expect: { exactEntities: [{ text: 'red', label: 'COLOR' }] } }),
    ].join('\n');
    const earmarks = parseEarmarks(source, { task: 'ner', labels: ['BRAND', 'COLOR'] });
    assert.deepEqual(
      earmarks.map((e) => [e.id, e.line, e.note]),
      [
        ['nike', 2, undefined],
        ['line-4', 4, 'colour'],
      ],
    );
  });

  test('reports every bad line with its file:line, field path and a suggestion', () => {
    const source = [
      line({ text: 'Nike Air', expect: { entities: [{ text: 'Nike', label: 'BRAND' }] } }),
      '{"text": "broken",',
      line({ text: 'Nike Air', expect: { entites: [{ text: 'Nike', label: 'BRAND' }] } }),
      line({ text: 'Nike Air', expect: { entities: [{ text: 'Puma', label: 'BRAND' }] } }),
      line({ text: 'Nike Air', expect: { entities: [{ text: 'Nike', label: 'BRADN' }] } }),
      line({ txt: 'Nike', expect: { class: 'x' } }),
    ].join('\n');
    const err = errorOf(() => parseEarmarks(source, { file: 'marks.jsonl', labels: ['BRAND', 'COLOR'] }));
    assert.equal(err.code, 'DATA_INVALID');
    const problems = (err.details.problems ?? []).map((p) => `${p.line} ${p.path ?? ''} ${p.message}`);
    assert.ok(
      problems.some((p) => /^2 {2}not valid JSON/.test(p)),
      `JSON error on line 2: ${problems.join(' | ')}`,
    );
    assert.ok(
      problems.some((p) => p.startsWith('3 expect.entites') && p.includes('did you mean "entities"')),
      `unknown key on line 3: ${problems.join(' | ')}`,
    );
    assert.ok(
      problems.some((p) => p.startsWith('4 expect.entities.0') && p.includes('"Puma" does not occur')),
      `missing entity text on line 4: ${problems.join(' | ')}`,
    );
    assert.ok(
      problems.some((p) => p.startsWith('5 expect.entities.0.label') && p.includes('did you mean "BRAND"')),
      `unknown label on line 5: ${problems.join(' | ')}`,
    );
    assert.ok(
      problems.some((p) => p.startsWith('6 txt') && p.includes('did you mean "text"')),
      `unknown top-level key on line 6: ${problems.join(' | ')}`,
    );
    assert.match(err.message, /marks\.jsonl:2/);
    assert.match(err.hint ?? '', /marks\.jsonl/);
  });

  test('refuses expectations of the other task, duplicate ids, ambiguous exact entities and bad offsets', () => {
    const source = [
      line({ id: 'a', text: 'Nike or Nike', expect: { class: 'refund' } }),
      line({ id: 'a', text: 'Nike', expect: { entities: [{ text: 'Nike', label: 'BRAND' }] } }),
      line({ text: 'Nike or Nike', expect: { exactEntities: [{ text: 'Nike', label: 'BRAND' }] } }),
      line({ text: 'Nike', expect: { entities: [{ start: 0, end: 9, label: 'BRAND' }] } }),
      line({ text: 'Nike', expect: { entities: [{ start: 0, label: 'BRAND' }] } }),
      line({ text: 'Nike', expect: {} }),
    ].join('\n');
    const err = errorOf(() => parseEarmarks(source, { task: 'ner' }));
    const byLine = new Map((err.details.problems ?? []).map((p) => [p.line, `${p.path} ${p.message}`]));
    assert.match(byLine.get(1) ?? '', /expect\.class .*task is ner/);
    assert.match(byLine.get(2) ?? '', /duplicate id "a" \(already used on line 1\)/);
    assert.match(byLine.get(3) ?? '', /occurs 2 times; add "occurrence"/);
    assert.match(byLine.get(4) ?? '', /run past the end/);
    assert.match(byLine.get(5) ?? '', /give both start and end/);
    assert.match(byLine.get(6) ?? '', /nothing to check/);
  });

  test('loadEarmarks names a missing file and how to create it', () => {
    const err = errorOf(() => loadEarmarks(join(tmpdir(), 'no-such-dir-sapphire', 'earmarks.jsonl')));
    assert.equal(err.code, 'NOT_FOUND');
    assert.match(err.hint ?? '', /one JSON object per line/);
  });

  test('loadEarmarks reads a file and reports its path in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sapphire-earmarks-'));
    const file = join(dir, 'earmarks.jsonl');
    writeFileSync(file, `${line({ text: 'hi', expect: { class: 'greeting' } })}\n{oops\n`);
    const err = errorOf(() => loadEarmarks(file));
    assert.equal(err.details.file, file);
    assert.equal(err.details.line, 2);
  });
});

describe('locating entities', () => {
  test('whole-word occurrences skip matches inside words', () => {
    assert.deepEqual(wholeWordOccurrences('red Fred red-ish reds red', 'red'), [0, 9, 22]);
    assert.deepEqual(wholeWordOccurrences('a (b) (b)', '(b)'), [2, 6]);
  });

  test('by occurrence, by offsets, or every occurrence', () => {
    const text = 'Nike and Nike';
    assert.deepEqual(locateEntity(text, { text: 'Nike' }), [
      { start: 0, end: 4 },
      { start: 9, end: 13 },
    ]);
    assert.deepEqual(locateEntity(text, { text: 'Nike', occurrence: 2 }), [{ start: 9, end: 13 }]);
    assert.deepEqual(locateEntity(text, { start: 5, end: 8 }), [{ start: 5, end: 8 }]);
    assert.match(String(locateEntity(text, { text: 'Nike', start: 5, end: 8 })), /does not match/);
    assert.match(String(locateEntity(text, { text: 'Nike', occurrence: 3 })), /occurs 2 times/);
  });

  test('every whole-word occurrence found really is the surface at a word boundary', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'b', ' ', '-') }),
        fc.constantFrom('a', 'ab', 'b a'),
        (text, word) => {
          for (const at of wholeWordOccurrences(text, word)) {
            assert.equal(text.slice(at, at + word.length), word, 'the surface is there');
            assert.ok(at === 0 || !/[ab]/.test(text[at - 1]!), 'left boundary');
            assert.ok(
              at + word.length === text.length || !/[ab]/.test(text[at + word.length]!),
              'right boundary',
            );
          }
        },
      ),
    );
  });
});

describe('checkExpectations', () => {
  const text = 'Nike Air Max 90 white';
  const nike = { start: 0, end: 4, label: 'BRAND', score: 0.9 };
  const white = { start: 16, end: 21, label: 'COLOR', score: 0.8 };

  test('entities: passes when the entity is predicted with its label, fails showing what was predicted', () => {
    assert.deepEqual(
      checkExpectations(text, { spans: [nike] }, { entities: [{ text: 'Nike', label: 'BRAND' }] }),
      [],
    );
    const [failure] = checkExpectations(
      text,
      { spans: [{ ...nike, end: 8, label: 'MODEL' }] },
      { entities: [{ text: 'Nike', label: 'BRAND' }] },
    );
    assert.equal(failure?.path, 'expect.entities.0');
    assert.equal(failure?.expected, '"Nike" as BRAND at 0-4');
    assert.equal(failure?.actual, '"Nike Air" as MODEL at 0-8 (0.90)');
    const [missing] = checkExpectations(
      text,
      { spans: [] },
      { entities: [{ start: 0, end: 4, label: 'BRAND' }] },
    );
    assert.match(missing?.actual ?? '', /no entity predicted on characters 0-4/);
  });

  test('entities by occurrence need that occurrence', () => {
    const twice = 'Nike or Nike';
    const second = { entities: [{ text: 'Nike', occurrence: 2, label: 'BRAND' }] };
    assert.equal(checkExpectations(twice, { spans: [{ ...nike }] }, second).length, 1);
    assert.equal(checkExpectations(twice, { spans: [{ ...nike, start: 8, end: 12 }] }, second).length, 0);
  });

  test('notEntities: fails on an entity touching the text (of the label, when given)', () => {
    const spans = [nike, { ...white, label: 'BRAND' }];
    const none = checkExpectations(
      text,
      { spans: [nike, white] },
      { notEntities: [{ text: 'white', label: 'BRAND' }] },
    );
    assert.deepEqual(none, []);
    const [failure] = checkExpectations(
      text,
      { spans },
      { notEntities: [{ text: 'white', label: 'BRAND' }] },
    );
    assert.equal(failure?.actual, '"white" as BRAND at 16-21 (0.80)');
    const overlapping = [{ start: 13, end: 21, label: 'COLOR', score: 1 }];
    assert.equal(
      checkExpectations(text, { spans: overlapping }, { notEntities: [{ text: 'white' }] }).length,
      1,
    );
    assert.equal(checkExpectations(text, { spans: [nike] }, { notEntities: [{ label: 'BRAND' }] }).length, 1);
    assert.equal(
      checkExpectations(text, { spans: [white] }, { notEntities: [{ label: 'BRAND' }] }).length,
      0,
    );
  });

  test('exactEntities: shows what is missing and what is unexpected', () => {
    const expect = {
      exactEntities: [
        { text: 'Nike', label: 'BRAND' },
        { text: 'white', label: 'COLOR' },
      ],
    };
    assert.deepEqual(checkExpectations(text, { spans: [white, nike] }, expect), []);
    const [failure] = checkExpectations(
      text,
      { spans: [nike, { start: 5, end: 8, label: 'MODEL', score: 1 }] },
      expect,
    );
    assert.equal(failure?.path, 'expect.exactEntities');
    assert.equal(failure?.expected, '[Nike](BRAND) Air Max 90 [white](COLOR)');
    assert.equal(failure?.actual, '[Nike](BRAND) [Air](MODEL) Max 90 white');
    assert.deepEqual(failure?.missing, ['"white" as COLOR at 16-21']);
    assert.deepEqual(failure?.unexpected, ['"Air" as MODEL at 5-8 (1.00)']);
    assert.equal(checkExpectations(text, { spans: [] }, { exactEntities: [] }).length, 0);
    assert.equal(checkExpectations(text, { spans: [nike] }, { exactEntities: [] }).length, 1);
  });

  test('class and notClass', () => {
    const refund = { labels: ['refund'], scores: [{ label: 'refund', score: 0.7 }] };
    assert.deepEqual(checkExpectations('money back', refund, { class: 'refund', notClass: 'greeting' }), []);
    const failures = checkExpectations('money back', refund, { class: 'greeting', notClass: 'refund' });
    assert.deepEqual(
      failures.map((f) => [f.path, f.expected, f.actual]),
      [
        ['expect.class', 'greeting', 'refund (0.70)'],
        ['expect.notClass', 'anything but refund', 'refund (0.70)'],
      ],
    );
  });

  test('multilabel: labels include, exclude and equal', () => {
    const p = { labels: ['sports', 'news'] };
    assert.deepEqual(
      checkExpectations('x', p, { labels: ['news'], notLabels: ['tech'], exactLabels: ['news', 'sports'] }),
      [],
    );
    const failures = checkExpectations('x', p, {
      labels: ['tech'],
      notLabels: ['news'],
      exactLabels: ['news'],
    });
    assert.deepEqual(
      failures.map((f) => [f.path, f.missing, f.unexpected]),
      [
        ['expect.labels', ['tech'], undefined],
        ['expect.notLabels', undefined, ['news']],
        ['expect.exactLabels', [], ['sports']],
      ],
    );
  });
});

describe('runEarmarks', () => {
  const model = new MockModel({
    task: 'ner',
    answers: [
      { text: 'Nike Air Max 90 white', spans: [{ text: 'Nike', label: 'BRAND', score: 0.9 }] },
      { text: 'Puma socks', spans: [{ text: 'Puma', label: 'COLOR' }] },
    ],
  });
  const earmarks: Earmark[] = parseEarmarks(
    [
      line({
        id: 'nike',
        text: 'Nike Air Max 90 white',
        expect: { entities: [{ text: 'Nike', label: 'BRAND' }] },
      }),
      line({ id: 'puma', text: 'Puma socks', expect: { entities: [{ text: 'Puma', label: 'BRAND' }] } }),
      line({ id: 'plain', text: 'plain socks', expect: { exactEntities: [] } }),
    ].join('\n'),
    { task: 'ner', labels: ['BRAND', 'COLOR'] },
  );

  test('counts passes and lists each failure with the difference', async () => {
    const report: EarmarkReport = await runEarmarks(model, earmarks);
    assert.equal(report.total, 3);
    assert.equal(report.passed, 2);
    assert.deepEqual(
      report.failed.map((f) => f.id),
      ['puma'],
    );
    const shown = formatEarmarkFailure(report.failed[0]!, 'earmarks.jsonl');
    assert.match(shown, /✗ puma \(earmarks\.jsonl:2\)/);
    assert.match(shown, /predicted: \[Puma\]\(COLOR\) socks/);
    assert.match(shown, /expected: "Puma" as BRAND at 0-4/);
    assert.match(shown, /actual: {3}"Puma" as COLOR at 0-4 \(1\.00\)/);
  });

  test('an empty list passes trivially', async () => {
    assert.deepEqual(await runEarmarks(model, []), { total: 0, passed: 0, failed: [] });
  });

  test('markEntities leaves overlapping entities after the first out', () => {
    assert.equal(
      markEntities('abc def', [
        { start: 0, end: 7, label: 'X' },
        { start: 4, end: 7, label: 'Y' },
      ]),
      '[abc def](X)',
    );
  });
});
