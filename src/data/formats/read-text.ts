import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { DataError, NotFoundError } from '../../core/errors.ts';

/** Text encodings the readers accept: strict UTF-8 (the default) or Latin-1 for legacy files. */
export type TextEncoding = 'utf-8' | 'latin1';

/**
 * Reads a text file (gunzipping `.gz` files) as strict UTF-8, strips a byte-order mark and
 * normalises CRLF/CR line ends to LF. Invalid UTF-8 throws a DataError naming the file, line
 * and byte column of the first bad sequence, with a hint to re-encode it.
 *
 * @example
 * const text = await readUtf8('data/train.conll');
 */
export async function readUtf8(path: string, encoding: TextEncoding = 'utf-8'): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw fileReadError(path, err);
  }
  return decodeText(maybeGunzip(bytes, path), path, encoding);
}

/** Synchronous {@link readUtf8} for small files and format sniffing; `maxBytes` reads only the start (never throws on a cut-off character). */
export function readUtf8Sync(
  path: string,
  options: { maxBytes?: number; encoding?: TextEncoding } = {},
): string {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw fileReadError(path, err);
  }
  bytes = maybeGunzip(bytes, path);
  if (options.maxBytes !== undefined && bytes.length > options.maxBytes) {
    return normaliseText(new TextDecoder('utf-8').decode(bytes.subarray(0, options.maxBytes)));
  }
  return decodeText(bytes, path, options.encoding ?? 'utf-8');
}

/** Decodes bytes as strict UTF-8 (or Latin-1), strips a BOM and normalises line ends; `file` is used in error messages. */
export function decodeText(bytes: Uint8Array, file: string, encoding: TextEncoding = 'utf-8'): string {
  if (encoding === 'latin1') return normaliseText(new TextDecoder('latin1').decode(bytes));
  try {
    return normaliseText(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch {
    const at = firstInvalidUtf8(bytes);
    const offset = Math.max(at, 0);
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset; i++) {
      if (bytes[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    const byte = bytes[offset] ?? 0;
    throw new DataError(
      `not valid UTF-8: byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')} at byte column ${offset - lineStart + 1} cannot be decoded`,
      {
        file,
        line,
        column: offset - lineStart + 1,
        hint: `re-encode the file as UTF-8, e.g. \`iconv -f latin1 -t utf-8 ${file} > ${file}.utf8\` (or read it with encoding 'latin1' if that is what it is)`,
      },
    );
  }
}

/** Strips a leading BOM and turns CRLF and lone CR line ends into LF. */
export function normaliseText(text: string): string {
  const noBom = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return noBom.includes('\r') ? noBom.replace(/\r\n?/g, '\n') : noBom;
}

/** Index of the first byte of the first ill-formed UTF-8 sequence, or -1 when all bytes are well formed. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    const second = bytes[i + 1];
    if (second === undefined || second < lo || second > hi) return i;
    for (let k = 2; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

function maybeGunzip(bytes: Uint8Array, path: string): Uint8Array {
  const gz = path.endsWith('.gz') || (bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b);
  if (!gz) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new DataError(`cannot gunzip: ${(err as Error).message}`, {
      file: path,
      hint: 'the file is not a valid gzip archive; decompress it yourself or remove the .gz suffix',
    });
  }
}

function fileReadError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return new NotFoundError(`file not found: ${path}`, { file: path, hint: 'check the path' });
  }
  if (code === 'EISDIR') {
    return new DataError('is a directory, expected a file', {
      file: path,
      hint: 'pass a file, or a directory with seq.in/seq.out for the lines format',
    });
  }
  return new DataError(`cannot read file: ${(err as Error).message}`, {
    file: path,
    hint: 'check the path and permissions',
  });
}
