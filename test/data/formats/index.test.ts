import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { ConfigError, NotFoundError, SapphireError } from '../../../src/core/errors.ts';
import { detectFormat, readDataset, sniffFormat, writeDataset } from '../../../src/data/formats/index.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/formats/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'sapphire-formats-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('detectFormat', () => {
  it('goes by extension, looking through .gz', () => {
    assert.equal(detectFormat(join(FIXTURES, 'conll/basic.conll')), 'conll');
    assert.equal(detectFormat(join(FIXTURES, 'conll/label-first.bio')), 'conll');
    assert.equal(detectFormat(join(FIXTURES, 'jsonl/ok.jsonl')), 'jsonl');
    assert.equal(detectFormat(join(FIXTURES, 'csv/no-header.tsv')), 'csv');
    const gz = join(scratch, 'x.jsonl.gz');
    writeFileSync(gz, gzipSync('{"text":"a"}\n'));
    assert.equal(detectFormat(gz), 'jsonl');
  });

  it('recognises a seq.in directory and sniffs other files by content', () => {
    assert.equal(detectFormat(join(FIXTURES, 'lines/snips-like')), 'lines');
    assert.equal(detectFormat(join(FIXTURES, 'conll/wikigold-like.txt')), 'conll');
    assert.equal(detectFormat(join(FIXTURES, 'lines/label-first.txt')), 'lines');
    const noExt = join(scratch, 'SMSCollection');
    writeFileSync(noExt, 'Label\tSMS\nham\tOk lar...\nspam\tWIN now\n');
    assert.equal(detectFormat(noExt), 'csv');
  });

  it('sniffs content', () => {
    assert.equal(sniffFormat('{"text": "x"}\n'), 'jsonl');
    assert.equal(sniffFormat('EU B-ORG\nrejects O\n\nPeter B-PER\n'), 'conll');
    assert.equal(sniffFormat('text,label\nhello,greet\nbye,farewell\n'), 'csv');
    assert.equal(sniffFormat('<!DOCTYPE html><html></html>'), 'html');
    assert.equal(sniffFormat(''), undefined);
  });

  it('explains what to do when the path is missing or the format unknown', () => {
    assert.throws(() => detectFormat(join(scratch, 'missing.conll')), NotFoundError);
    const odd = join(scratch, 'odd.dat');
    writeFileSync(odd, 'just one long line of prose without any structure at all\n');
    assert.throws(
      () => detectFormat(odd),
      (e: unknown) =>
        e instanceof SapphireError && /cannot tell the format/.test(e.message) && /conll/.test(e.hint!),
    );
  });
});

describe('readDataset / writeDataset', () => {
  it('reads every format through one entry point', async () => {
    const counts: Record<string, number> = {};
    for (const path of ['conll/basic.conll', 'jsonl/ok.jsonl', 'csv/quoted.csv', 'lines/snips-like']) {
      counts[path] = (await readDataset(join(FIXTURES, path), { format: 'auto' })).examples.length;
    }
    assert.deepEqual(counts, {
      'conll/basic.conll': 3,
      'jsonl/ok.jsonl': 4,
      'csv/quoted.csv': 4,
      'lines/snips-like': 2,
    });
  });

  it('passes options through to the reader', async () => {
    const read = await readDataset(join(FIXTURES, 'conll/iob2-violation.conll'), { scheme: 'IOB1' });
    assert.deepEqual(read.problems, []);
  });

  it('writes with the options a reader detected', async () => {
    const read = await readDataset(join(FIXTURES, 'conll/label-first.bio'));
    const text = writeDataset(read.examples, { ...read.detected, format: 'conll' });
    assert.ok(text.startsWith('B-Rating\t5\nI-Rating\tstar\n'), text);
    const csv = writeDataset(read.examples.slice(0, 1), { format: 'csv' });
    assert.equal(csv, 'text\n5 star restaurants nearby\n');
  });

  it('writes one file of a lines directory, or label-first lines', async () => {
    const read = await readDataset(join(FIXTURES, 'lines/snips-like'));
    assert.equal(
      writeDataset(read.examples, { format: 'lines', linesFile: 'label' }),
      'PlayMusic\nAddToPlaylist\n',
    );
    assert.throws(() => writeDataset(read.examples, { ...read.detected, format: 'lines' }), ConfigError);
    assert.match(
      writeDataset(read.examples, { format: 'lines', labelFirst: true }),
      /^PlayMusic listen to westbam/,
    );
  });

  it('hands html to the HTML reader, and writes no html', async () => {
    const dir = join(scratch, 'pages');
    mkdirSync(dir);
    await assert.rejects(readDataset(dir, { format: 'html' }), /holds no \.html/);
    assert.throws(() => writeDataset([], { format: 'html' }), /input-only/);
  });
});
