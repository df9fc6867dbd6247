import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ConfigError, DataError, NotFoundError } from '../../core/errors.ts';
import type { Example } from '../types.ts';
import type { CommonReadOptions, FormatName, ReadResult } from './common.ts';
import { type ConllReadOptions, type ConllWriteOptions, readConll, writeConll } from './conll.ts';
import { type CsvReadOptions, type CsvWriteOptions, readCsv, writeCsv } from './csv.ts';
import { type ReadHtmlOptions, readHtml } from './html.ts';
import { type JsonlReadOptions, type JsonlWriteOptions, readJsonl, writeJsonl } from './jsonl.ts';
import {
  type LinesReadOptions,
  type LinesWriteOptions,
  readLines,
  writeLabelFirst,
  writeLinesFiles,
} from './lines.ts';
import { isTag } from './tagging.ts';

export type { CommonReadOptions, FormatName, ReadResult } from './common.ts';
export type { TagScheme, TokenSpan } from './tagging.ts';

/** Every format name, in the order `detectFormat` prefers them. */
export const FORMAT_NAMES: readonly FormatName[] = ['conll', 'jsonl', 'csv', 'lines', 'html'];

/**
 * Reader options of every format, flat (each documented in its format module): common ones
 * (`task`, `labelSet`, `encoding`), CoNLL (`columnSeparator`, `tokenColumn`, `tagColumn`,
 * `labelFirst`, `scheme`), JSONL (`offsets`), CSV (`delimiter`, `header`, `textColumn`,
 * `labelColumn`, `labelSeparator`, `quote`) and lines (`labelFirst`: `label text` lines;
 * `scheme`). Options that do not apply to the chosen format are ignored.
 */
export type ReadOptions = CommonReadOptions &
  ConllReadOptions &
  CsvReadOptions &
  JsonlReadOptions &
  LinesReadOptions;

/**
 * Writer options of every format, flat: CoNLL (`scheme`, `columnSeparator`, `labelFirst`,
 * `tokenColumn`, `tagColumn`, `docStartLine`), JSONL (`includeTokens`, `offsets`), CSV (`delimiter`,
 * `header`, `columns`, `textColumn`, `labelColumn`, `labelSeparator`) and lines
 * (`labelFirst`, `linesFile`, `scheme`). A reader's `detected` object can be passed as is.
 */
export type WriteOptions = ConllWriteOptions &
  JsonlWriteOptions &
  CsvWriteOptions &
  LinesWriteOptions & {
    /** Anything else (e.g. the rest of a reader's `detected`) is ignored. */
    [key: string]: unknown;
  };

type Reader = (path: string, options: ReadOptions) => Promise<ReadResult<object>>;
type Writer = (examples: readonly Example[], options: WriteOptions) => string;

/**
 * The one place where a format is plugged in: its reader and writer.
 */
const FORMATS: Record<FormatName, { read: Reader; write: Writer }> = {
  conll: { read: readConll, write: (ex, o) => writeConll(ex, o) },
  jsonl: { read: readJsonl, write: (ex, o) => writeJsonl(ex, o) },
  csv: { read: readCsv, write: (ex, o) => writeCsv(ex, o) },
  lines: { read: readLines, write: writeLinesFormat },
  html: {
    read: (path, options) => readHtml(path, options as ReadHtmlOptions),
    write: () => {
      throw new ConfigError('html is an input-only format for writeDataset', {
        path: 'format',
        hint: 'export as jsonl (spans in character offsets) or conll instead',
      });
    },
  },
};

function writeLinesFormat(examples: readonly Example[], options: WriteOptions): string {
  if (options.linesFile !== undefined) {
    const files = writeLinesFiles(examples, { scheme: options.scheme });
    if (options.linesFile === 'label') {
      if (files.label === undefined) {
        throw new DataError('no example has a label, so there is no label file to write', {
          hint: "write 'seq.in' or 'seq.out' instead",
        });
      }
      return files.label;
    }
    return files[options.linesFile];
  }
  if (options.layout === 'triple' && options.labelFirst !== true) {
    throw new ConfigError(
      'the lines format as seq.in/seq.out/label is three files; writeDataset returns one',
      {
        path: 'linesFile',
        hint: "pass linesFile: 'seq.in' | 'seq.out' | 'label' (or use writeLinesFiles for all three), or labelFirst: true for 'label text' lines",
      },
    );
  }
  return writeLabelFirst(examples);
}

/**
 * Reads a dataset file (or a `seq.in`/`seq.out`/`label` directory) in any supported format;
 * `format: 'auto'` (the default) uses {@link detectFormat}. Never throws for bad records:
 * they come back as problems and are left out of `examples`.
 *
 * @example
 * const { examples, problems, detected } = await readDataset('train.conll', { format: 'auto' });
 */
export async function readDataset(
  path: string,
  options: ReadOptions & { format?: FormatName | 'auto' } = {},
): Promise<ReadResult> {
  const { format: wanted, ...rest } = options;
  const format = wanted === undefined || wanted === 'auto' ? detectFormat(path) : wanted;
  const entry = FORMATS[format];
  if (entry === undefined) {
    throw new ConfigError(`unknown format ${JSON.stringify(format)}`, {
      path: 'format',
      hint: `use one of: ${FORMAT_NAMES.join(', ')} or auto`,
    });
  }
  const result = await entry.read(path, rest);
  return result as ReadResult;
}

/**
 * Writes examples in a format and returns the file's text; pass a reader's `detected` (plus
 * `format`) to reproduce the file it was read from.
 *
 * @example
 * const text = writeDataset(examples, { format: 'conll', scheme: 'BIOES' });
 */
export function writeDataset(
  examples: readonly Example[],
  options: WriteOptions & { format: FormatName },
): string {
  const entry = FORMATS[options.format];
  if (entry === undefined) {
    throw new ConfigError(`unknown format ${JSON.stringify(options.format)}`, {
      path: 'format',
      hint: `use one of: ${FORMAT_NAMES.filter((f) => f !== 'html').join(', ')}`,
    });
  }
  return entry.write(examples, options);
}

const EXTENSIONS: Record<string, FormatName> = {
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  json: 'jsonl',
  csv: 'csv',
  tsv: 'csv',
  conll: 'conll',
  conllu: 'conll',
  conll03: 'conll',
  bio: 'conll',
  iob: 'conll',
  iob1: 'conll',
  iob2: 'conll',
  bioes: 'conll',
  bilou: 'conll',
  ner: 'conll',
  html: 'html',
  htm: 'html',
};

/**
 * Guesses a path's format: a directory with `seq.in` is `lines`, a directory of pages `html`;
 * files go by extension (`.gz` looked through) and otherwise by content: JSON objects →
 * jsonl, token/tag columns → conll, consistent tabs/commas → csv, `label text` lines → lines.
 * Throws a DataError with a hint when it cannot tell.
 *
 * @example
 * detectFormat('../shared/datasets/ner/wikigold/wikigold.conll.txt'); // 'conll'
 */
export function detectFormat(path: string): FormatName {
  if (!existsSync(path))
    throw new NotFoundError(`no such file or directory: ${path}`, { file: path, hint: 'check the path' });
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, 'seq.in'))) return 'lines';
    return 'html';
  }
  const name = path.toLowerCase().replace(/\.gz$/, '');
  const ext = /\.([a-z0-9]+)$/.exec(name)?.[1];
  if (ext !== undefined && EXTENSIONS[ext] !== undefined) return EXTENSIONS[ext]!;
  const sniffed = sniffFormat(readHead(path));
  if (sniffed === undefined) {
    throw new DataError('cannot tell the format of this file', {
      file: path,
      hint: `pass the format explicitly (${FORMAT_NAMES.join(', ')})`,
    });
  }
  return sniffed;
}

function readHead(path: string, max = 64 * 1024): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(max);
    const n = readSync(fd, buf, 0, max, 0);
    let bytes: Uint8Array = buf.subarray(0, n);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        bytes = gunzipSync(bytes, { finishFlush: 2 }).subarray(0, max);
      } catch {
        return '';
      }
    }
    return new TextDecoder('utf-8')
      .decode(bytes)
      .replace(/^\uFEFF/, '')
      .replace(/\r\n?/g, '\n');
  } finally {
    closeSync(fd);
  }
}

/** Guesses a format from the start of a file's text; undefined when nothing fits. */
export function sniffFormat(head: string): FormatName | undefined {
  const lines = head.split('\n');
  if (head.length >= 64 * 1024) lines.pop(); // possibly cut off
  const sample = lines.filter((l) => l.trim() !== '').slice(0, 200);
  if (sample.length === 0) return undefined;
  if (sample[0]!.trimStart().startsWith('{')) return 'jsonl';
  if (/^\s*<(!doctype|html|head|body)/i.test(sample[0]!)) return 'html';

  const data = sample.filter((l) => !l.startsWith('-DOCSTART-'));
  const hasBlank = lines.slice(0, 2000).some((l) => l.trim() === '');
  const fields = data.map((l) => (l.includes('\t') ? l.split('\t') : l.trim().split(/\s+/)));
  const short = fields.filter((f) => f.length >= 2 && f.length <= 10).length;
  const tagFirst = fields.filter((f) => isTag(f[0]!.trim())).length;
  const tagLast = fields.filter((f) => isTag(f.at(-1)!.trim())).length;
  if (
    short / data.length >= 0.9 &&
    Math.max(tagFirst, tagLast) / data.length >= 0.8 &&
    (hasBlank || data.length < 5)
  ) {
    return 'conll';
  }

  const tabbed = sample.filter((l) => l.includes('\t')).length;
  if (tabbed / sample.length >= 0.9) return 'csv';
  const commas = sample.map((l) => l.split(',').length - 1);
  if (commas.every((c) => c > 0) && new Set(commas).size <= 3) return 'csv';

  // `label sentence` lines: a short first word drawn from a small set, then text.
  const words = sample.map((l) => l.trim().split(/\s+/));
  const labelled = words.filter((w) => w.length >= 2 && w[0]!.length <= 40).length;
  if (sample.length >= 3 && labelled / sample.length >= 0.75) {
    const distinct = new Set(words.map((w) => w[0]));
    if (distinct.size <= Math.max(2, Math.min(100, sample.length / 3))) return 'lines';
  }
  return undefined;
}
