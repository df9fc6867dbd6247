/**
 * Broken inputs through the real CLI: each gives a one-line error naming the place, a non-zero exit
 * code, and no new dataset version.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { sapphire, sapphireJson, tempDir } from './helpers.ts';

describe('broken inputs are refused and store nothing', () => {
  let ner: string;
  let classify: string;

  before(() => {
    ner = tempDir();
    classify = tempDir();
    assert.equal(sapphire(ner, 'init', '--task', 'ner').code, 0);
    assert.equal(sapphire(classify, 'init', '--task', 'classify').code, 0);
  });

  function expectRefused(cwd: string, file: string, place: RegExp, ...args: string[]): void {
    const run = sapphire(cwd, 'data', 'import', file, '--name', 'broken', ...args);
    assert.notEqual(run.code, 0, 'exit code must be non-zero');
    const first = run.stderr.split('\n')[0]!;
    assert.match(first, /^error\[[A-Z_]+\]: /);
    assert.match(first, place);
    assert.match(run.stderr, /hint: /);
    assert.deepEqual(sapphireJson(cwd, 'data', 'ls'), [], 'no version may be stored');
  }

  test('a truncated CoNLL line names file:line', () => {
    const file = join(ner, 'truncated.conll');
    writeFileSync(file, 'Nike\tB-BRAND\nshoes\tO\n\nAdidas\tB-BRAND\nsocks\n');
    expectRefused(ner, file, /truncated\.conll:5/);
  });

  test('an I- tag after O in IOB2 names file:line', () => {
    const file = join(ner, 'scheme.conll');
    writeFileSync(file, 'red\tB-COLOR\nNike\tI-COLOR\n\nthe\tO\nshoes\tI-TYPE\nfit\tO\n', 'utf8');
    expectRefused(ner, file, /scheme\.conll:5/, '--scheme', 'iob2');
  });

  test('a span past the end of the text names the example', () => {
    const file = join(ner, 'span.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ text: 'Nike shoes', spans: [{ start: 0, end: 4, label: 'BRAND' }] })}\n${JSON.stringify(
        {
          text: 'red socks',
          spans: [{ start: 4, end: 40, label: 'TYPE' }],
        },
      )}\n`,
    );
    expectRefused(ner, file, /span\.jsonl:2/);
  });

  test('a CSV row with a missing column names file:line', () => {
    const file = join(classify, 'missing.csv');
    writeFileSync(file, 'text,category\nwhere is my card,card_arrival\nmy card is lost\nhello,greeting\n');
    expectRefused(classify, file, /missing\.csv:3/);
  });

  test('a non-UTF-8 file names file:line', () => {
    const file = join(classify, 'latin1.csv');
    writeFileSync(
      file,
      Buffer.concat([Buffer.from('text,label\nok,a\ncaf'), Buffer.from([0xe9]), Buffer.from(',b\n')]),
    );
    expectRefused(classify, file, /latin1\.csv:3/);
  });

  test('--skip-invalid stores the valid examples and lists the skipped ones', () => {
    const file = join(classify, 'partly.csv');
    writeFileSync(file, 'text,category\nwhere is my card,card_arrival\nmy card is lost\nhello,greeting\n');
    const run = sapphire(classify, 'data', 'import', file, '--name', 'partly', '--skip-invalid');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Imported partly@[0-9a-f]{12}: 2 examples/);
    assert.match(run.stdout, /Skipped 1 invalid item/);
    assert.match(run.stdout, /partly\.csv:3/);
  });

  test('a wrong path gives a clear error', () => {
    const run = sapphire(ner, 'data', 'import', join(ner, 'nope.conll'), '--name', 'x');
    assert.notEqual(run.code, 0);
    assert.match(run.stderr.split('\n')[0]!, /nope\.conll/);
  });

  test('outside a project, commands say how to create one', () => {
    const run = sapphire(tempDir(), 'data', 'ls');
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /sapphire init/);
  });
});
