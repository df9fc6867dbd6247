import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DataError, NotFoundError } from '../../../src/core/errors.ts';
import { decodeText, firstInvalidUtf8, readUtf8 } from '../../../src/data/formats/read-text.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/formats/text/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'sapphire-read-text-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('readUtf8', () => {
  it('strips the BOM and normalises CRLF and CR to LF', async () => {
    assert.equal(await readUtf8(join(FIXTURES, 'bom-crlf.txt')), 'line one\nline two\nline three\n');
  });

  it('names file, line and byte column of the first invalid UTF-8 byte, with a re-encoding hint', async () => {
    const file = join(FIXTURES, 'latin1.txt');
    await assert.rejects(readUtf8(file), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.details.file, file);
      assert.equal(e.details.line, 1);
      assert.equal(e.details.column, 4);
      assert.match(e.message, /latin1\.txt:1: not valid UTF-8: byte 0xE9 at byte column 4/);
      assert.match(e.hint!, /iconv -f latin1 -t utf-8/);
      return true;
    });
  });

  it('reads Latin-1 when asked to', async () => {
    assert.equal(
      await readUtf8(join(FIXTURES, 'latin1.txt'), 'latin1'),
      'café au lait\nline two\nnaïve line\n',
    );
  });

  it('gunzips .gz files (and still checks UTF-8 inside)', async () => {
    const gz = join(scratch, 'data.conll.gz');
    writeFileSync(gz, gzipSync(Buffer.from('Paris\tB-LOC\r\n')));
    assert.equal(await readUtf8(gz), 'Paris\tB-LOC\n');
    const badGz = join(scratch, 'bad.txt.gz');
    writeFileSync(badGz, gzipSync(readFileSync(join(FIXTURES, 'latin1.txt'))));
    await assert.rejects(readUtf8(badGz), /bad\.txt\.gz:1: not valid UTF-8/);
    const notGz = join(scratch, 'not.gz');
    writeFileSync(notGz, 'plain');
    await assert.rejects(readUtf8(notGz), /cannot gunzip/);
  });

  it('throws NotFoundError for a missing file', async () => {
    await assert.rejects(readUtf8(join(scratch, 'nope.txt')), NotFoundError);
  });
});

describe('firstInvalidUtf8', () => {
  it('finds overlong, surrogate, truncated and stray bytes', () => {
    const at = (...bytes: number[]) => firstInvalidUtf8(Uint8Array.from(bytes));
    assert.equal(at(0x61, 0xc3, 0xa9), -1);
    assert.equal(at(0xf0, 0x9f, 0x98, 0x8d), -1, 'emoji');
    assert.equal(at(0x61, 0xc0, 0x80), 1, 'overlong');
    assert.equal(at(0xed, 0xa0, 0x80), 0, 'surrogate');
    assert.equal(at(0x61, 0x62, 0xe2, 0x82), 2, 'truncated');
    assert.equal(at(0x80), 0, 'stray continuation byte');
  });

  it('reports the line of a bad byte further down', () => {
    const bytes = Uint8Array.from([...Buffer.from('ok\nfine\nab'), 0xff, 0x0a]);
    assert.throws(() => decodeText(bytes, 'f.txt'), /f\.txt:3: not valid UTF-8: byte 0xFF at byte column 3/);
  });
});
