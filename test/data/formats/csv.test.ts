import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { DataError, formatProblem } from '../../../src/core/errors.ts';
import { parseCsv, parseDelimited, readCsv, writeCsv } from '../../../src/data/formats/csv.ts';
import type { Example } from '../../../src/data/types.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/formats/csv/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);

describe('parseDelimited', () => {
  it('follows RFC 4180 and numbers records by their first line', () => {
    const { records, errors } = parseDelimited('a,"b, c"\n"x ""y""","two\nlines"\nlast,\n', ',');
    assert.deepEqual(errors, []);
    assert.deepEqual(records, [
      { fields: ['a', 'b, c'], line: 1 },
      { fields: ['x "y"', 'two\nlines'], line: 2 },
      { fields: ['last', ''], line: 4 },
    ]);
  });

  it('reports malformed quoting and keeps the text', () => {
    const { records, errors } = parseDelimited('"quoted" tail,b\n"open,c\n', ',');
    assert.equal(records[0]!.fields[0], '"quoted" tail');
    assert.deepEqual(
      errors.map((e) => e.line),
      [1, 2],
    );
    assert.match(errors[1]!.message, /unterminated quoted field/);
  });
});

describe('readCsv', () => {
  it('reads quoted fields, keeps other columns and gets line numbers right', async () => {
    const { examples, problems, detected } = await readCsv(fixture('quoted.csv'));
    assert.deepEqual(problems, []);
    assert.deepEqual(
      examples.map((e) => [e.id, e.text, e.labels, e.meta]),
      [
        ['quoted.csv:2', 'Hello, world', ['greet'], { line: 2, _extra: { id: '1' } }],
        ['quoted.csv:3', 'She said "hi"', ['greet'], { line: 3, _extra: { id: '2' } }],
        ['quoted.csv:4', 'two\nlines', ['other'], { line: 4, _extra: { id: '3' } }],
        ['quoted.csv:6', 'plain text', ['other'], { line: 6, _extra: { id: '4' } }],
      ],
    );
    assert.equal(detected.header, true);
    assert.equal(detected.textColumn, 'text');
    assert.equal(detected.labelColumn, 'label');
  });

  it('reports a row with a missing column, naming file, line and column', async () => {
    const file = fixture('missing-column.csv');
    const { examples, problems } = await readCsv(file);
    assert.equal(examples.length, 2);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, 3);
    assert.match(
      formatProblem(problems[0]!),
      /missing-column\.csv:3: the "category" column \(column 2\) is missing: the row has 1 field\(s\), expected 2/,
    );
  });

  it('detects a headerless TSV and takes the short column as the label', async () => {
    const { examples, detected } = await readCsv(fixture('no-header.tsv'));
    assert.equal(detected.delimiter, '\t');
    assert.equal(detected.header, false);
    assert.equal(detected.labelColumn, 'column1');
    assert.deepEqual(examples[1]!.labels, ['refund']);
    assert.equal(examples[1]!.text, 'I want my money back, now');
    assert.equal(examples[0]!.id, 'no-header.tsv:1');
  });

  it('detects semicolons and splits multi-label cells', async () => {
    const semi = await readCsv(fixture('semicolon.csv'));
    assert.equal(semi.detected.delimiter, ';');
    assert.equal(semi.examples[0]!.text, 'Bonjour, ça va');
    const multi = await readCsv(fixture('multilabel.csv'), { labelSeparator: '|' });
    assert.deepEqual(
      multi.examples.map((e) => e.labels),
      [['refund', 'exchange_rate'], []],
    );
  });

  it('takes columns by name or index, and explains a bad one', () => {
    const text = 'a,b,c\n1,hello,x\n';
    assert.equal(
      parseCsv(text, 'f.csv', { header: true, textColumn: 'b', labelColumn: 2 }).examples[0]!.text,
      'hello',
    );
    assert.throws(
      () => parseCsv(text, 'f.csv', { header: true, textColumn: 'nope' }),
      (e: unknown) =>
        e instanceof DataError && /no text column named "nope"/.test(e.message) && /a, b, c/.test(e.hint!),
    );
    assert.throws(
      () => parseCsv('1,2,3\n4,5,6\n', 'f.csv'),
      /cannot tell which of the 3 columns holds the text/,
    );
  });

  it('treats quotes in a TSV as text when the file is not RFC 4180', () => {
    const text = 'Label\tSMS\nham\t"Hi" she said\nham\t"Quoted whole"\n';
    const { examples, detected } = parseCsv(text, 'sms');
    assert.equal(detected.quote, false);
    assert.deepEqual(
      examples.map((e) => e.text),
      ['"Hi" she said', '"Quoted whole"'],
    );
  });

  it('reports classification rows without a label when the task asks for one', () => {
    const { problems } = parseCsv('text,label\nhello,\n', 'f.csv', { task: 'classify' });
    assert.equal(problems[0]!.line, 2);
    assert.match(problems[0]!.message, /has no label/);
  });
});

describe('writeCsv', () => {
  it('quotes what needs quoting and writes back what it read', async () => {
    const { examples, detected } = await readCsv(fixture('quoted.csv'));
    assert.equal(
      writeCsv(examples, detected),
      'id,text,label\n1,"Hello, world",greet\n2,"She said ""hi""",greet\n3,"two\nlines",other\n4,plain text,other\n',
    );
  });

  it('round-trips random texts and labels through CSV and TSV', () => {
    const arb = fc.array(
      fc.record({
        text: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((t) => t.trim() !== ''),
        labels: fc.array(fc.constantFrom('a', 'b c', 'd,e'), { minLength: 1, maxLength: 2 }),
      }),
      { minLength: 1, maxLength: 6 },
    );
    fc.assert(
      fc.property(arb, fc.constantFrom(',', '\t', ';'), (rows, delimiter) => {
        const examples: Example[] = rows.map((r, i) => ({
          id: String(i),
          text: r.text,
          labels: r.labels,
          meta: {},
        }));
        const text = writeCsv(examples, { delimiter });
        const back = parseCsv(text, 'r.csv', { delimiter, labelSeparator: '|' });
        assert.deepEqual(back.problems, []);
        assert.deepEqual(
          back.examples.map((e) => [e.text, e.labels]),
          examples.map((e) => [e.text, e.labels]),
        );
      }),
      { numRuns: 150 },
    );
  });
});
