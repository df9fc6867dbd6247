import { BucketCounter, IntIdTable } from './bucket-tables.ts';
import { combineHashes, hashString, mix32, stepHash } from './hashing.ts';
import type { SparseRow, SparseRows } from './sparse.ts';

/** How texts become sparse TF-IDF rows (the `features` section of the linear.v1 config). */
export interface FeaturizerConfig {
  /** Lowercase tokens before hashing. */
  lowercase: boolean;
  /** Word n-gram lengths `[min, max]`, or null for none. */
  wordNgrams: [number, number] | null;
  /** Character n-gram lengths `[min, max]` inside each token padded with `<` and `>`, or null for none. */
  charNgrams: [number, number] | null;
  /** The hashing space has `2^hashBits` buckets. */
  hashBits: number;
  /** Use `1 + ln(tf)` instead of the raw count. */
  sublinearTf: boolean;
  /** Keep only buckets seen in at least this many training texts. */
  minDf: number;
  /** Weight of the word block (each block is L2-normalised, scaled by its weight, then the row is L2-normalised). */
  wordWeight: number;
  /** Weight of the character block. */
  charWeight: number;
}

/** The learned part of a featurizer: which hash buckets became columns, their idf and readable names. */
export interface FeaturizerState {
  /** Hash bucket of each column; columns run from the most to the least frequent n-gram at fit. */
  buckets: Int32Array;
  /** Inverse document frequency of each column. */
  idf: Float32Array;
  /** A readable n-gram for each column (`w:my card`, `c:<ca`); the first seen when several share a bucket. */
  names: string[];
}

const WORD_SEED = 0x5bd1e995;
const CHAR_SEED = 0x27d4eb2f;

const PAD_START = '<'.charCodeAt(0);
const PAD_END = '>'.charCodeAt(0);

/** Growable typed buffers for CSR rows under construction. */
class RowsBuilder {
  indices = new Int32Array(1 << 16);
  values = new Float32Array(1 << 16);
  length = 0;

  /** Makes room for `extra` more entries. */
  reserve(extra: number): void {
    if (this.length + extra <= this.indices.length) return;
    let capacity = this.indices.length * 2;
    while (capacity < this.length + extra) capacity *= 2;
    const indices = new Int32Array(capacity);
    indices.set(this.indices.subarray(0, this.length));
    const values = new Float32Array(capacity);
    values.set(this.values.subarray(0, this.length));
    this.indices = indices;
    this.values = values;
  }
}

/** Growable raw counts (n-gram ids and counts) of many texts, kept during fit until idf is known. */
class RawCountsStore {
  ids = new Int32Array(1 << 16);
  counts = new Float32Array(1 << 16);
  length = 0;

  append(ids: Int32Array, counts: Float32Array, n: number): void {
    if (this.length + n > this.ids.length) {
      let capacity = this.ids.length * 2;
      while (capacity < this.length + n) capacity *= 2;
      const grownIds = new Int32Array(capacity);
      grownIds.set(this.ids.subarray(0, this.length));
      const grownCounts = new Float32Array(capacity);
      grownCounts.set(this.counts.subarray(0, this.length));
      this.ids = grownIds;
      this.counts = grownCounts;
    }
    this.ids.set(ids.subarray(0, n), this.length);
    this.counts.set(counts.subarray(0, n), this.length);
    this.length += n;
  }
}

/**
 * Hashed word and character n-grams with TF-IDF weighting and L2 normalisation, learned on the training texts;
 * words come from the caller (the model tokenizes), so this class only sees token strings.
 */
export class HashedTfidfFeaturizer {
  readonly config: FeaturizerConfig;
  private readonly mask: number;
  private readonly wordCounter = new BucketCounter();
  private readonly charCounter = new BucketCounter();
  private columns: IntIdTable | null = null;
  private learned: FeaturizerState | null = null;
  private rowAcc: Float64Array = new Float64Array(0);
  // Scratch for one text: raw buckets/counts, their columns and weights, and the row's distinct columns.
  private rawBuckets = new Int32Array(1024);
  private rawCounts = new Float32Array(1024);
  private entryCols = new Int32Array(1024);
  private entryWeights = new Float64Array(1024);
  private rowCols = new Int32Array(1024);
  private wordEnd = 0;

  /** An unfitted featurizer for `config`. */
  constructor(config: FeaturizerConfig) {
    this.config = config;
    this.mask = 2 ** config.hashBits - 1;
  }

  /** A fitted featurizer rebuilt from saved state. */
  static fromState(config: FeaturizerConfig, state: FeaturizerState): HashedTfidfFeaturizer {
    const f = new HashedTfidfFeaturizer(config);
    f.install(state);
    return f;
  }

  /** Number of columns (0 before fit). */
  get nFeatures(): number {
    return this.learned?.buckets.length ?? 0;
  }

  /** The learned state, for saving. */
  state(): FeaturizerState {
    if (!this.learned) throw new Error('featurizer is not fitted');
    return this.learned;
  }

  /** The readable name of column `col`. */
  featureName(col: number): string {
    return this.learned?.names[col] ?? `#${col}`;
  }

  /** Learns columns and idf from training texts (as token strings) and returns their rows. */
  fit(docs: string[][]): SparseRows {
    const n = docs.length;
    const seen = new IntIdTable(1 << 15);
    const names: string[] = [];
    let df = new Int32Array(1 << 15);
    let lastDoc = new Int32Array(1 << 15).fill(-1);
    const raw = new RawCountsStore();
    const docEnd = new Int32Array(n);
    const wordEnds = new Int32Array(n);
    for (let d = 0; d < n; d++) {
      const total = this.count(docs[d]!, seen, names);
      if (seen.size > df.length) {
        let capacity = df.length * 2;
        while (capacity < seen.size) capacity *= 2;
        const grownDf = new Int32Array(capacity);
        grownDf.set(df);
        df = grownDf;
        const grownLast = new Int32Array(capacity).fill(-1);
        grownLast.set(lastDoc);
        lastDoc = grownLast;
      }
      // Store ids of the n-grams instead of their buckets: no hashing needed when the rows are built.
      const ids = this.entryCols;
      for (let k = 0; k < total; k++) {
        const id = seen.find(this.rawBuckets[k]!);
        ids[k] = id;
        if (lastDoc[id] !== d) {
          lastDoc[id] = d;
          df[id]!++;
        }
      }
      raw.append(ids, this.rawCounts, total);
      docEnd[d] = raw.length;
      wordEnds[d] = this.wordEnd;
    }
    const minDf = Math.max(1, this.config.minDf);
    // Most frequent n-grams first: their weights then share cache lines, which speeds up training and predict.
    const keptIds = Array.from({ length: seen.size }, (_, id) => id)
      .filter((id) => df[id]! >= minDf)
      .sort((a, b) => df[b]! - df[a]! || seen.keyOf(a) - seen.keyOf(b));
    const nCols = keptIds.length;
    const buckets = new Int32Array(nCols);
    const idf = new Float32Array(nCols);
    const colNames: string[] = new Array(nCols);
    const colOfId = new Int32Array(seen.size).fill(-1);
    keptIds.forEach((id, c) => {
      buckets[c] = seen.keyOf(id);
      idf[c] = Math.log((1 + n) / (1 + df[id]!)) + 1;
      colNames[c] = names[id]!;
      colOfId[id] = c;
    });
    this.install({ buckets, idf, names: colNames });
    const out = new RowsBuilder();
    const indptr = new Int32Array(n + 1);
    for (let d = 0, start = 0; d < n; d++) {
      const end = docEnd[d]!;
      const total = end - start;
      this.ensureScratch(total);
      for (let k = 0; k < total; k++) {
        this.entryCols[k] = colOfId[raw.ids[start + k]!]!;
        this.rawCounts[k] = raw.counts[start + k]!;
      }
      const size = this.weigh(total, wordEnds[d]!);
      // Training rows list columns in ascending order (most frequent n-grams first): the solvers then sweep
      // the weights in memory order, which is markedly faster. Predict-time rows skip the sort.
      this.rowCols.subarray(0, size).sort();
      out.reserve(size);
      out.indices.set(this.rowCols.subarray(0, size), out.length);
      this.readRow(size, out.values, out.length);
      out.length += size;
      indptr[d + 1] = out.length;
      start = end;
    }
    return {
      nRows: n,
      nCols,
      indptr,
      indices: out.indices.slice(0, out.length),
      values: out.values.slice(0, out.length),
    };
  }

  /** The row of one text (as token strings); n-grams not seen at fit are dropped. */
  transform(words: string[]): SparseRow {
    const columns = this.columns;
    if (!columns) throw new Error('featurizer is not fitted');
    const total = this.count(words, null, null);
    for (let k = 0; k < total; k++) this.entryCols[k] = columns.find(this.rawBuckets[k]!);
    const size = this.weigh(total, this.wordEnd);
    const values = new Float32Array(size);
    this.readRow(size, values, 0);
    return { indices: this.rowCols.slice(0, size), values };
  }

  private install(state: FeaturizerState): void {
    const columns = new IntIdTable(state.buckets.length);
    for (let c = 0; c < state.buckets.length; c++) columns.id(state.buckets[c]!);
    this.columns = columns;
    this.learned = state;
    this.rowAcc = new Float64Array(state.buckets.length);
  }

  private ensureScratch(n: number): void {
    if (n <= this.rawBuckets.length) return;
    let capacity = this.rawBuckets.length * 2;
    while (capacity < n) capacity *= 2;
    const rawBuckets = new Int32Array(capacity);
    rawBuckets.set(this.rawBuckets);
    const rawCounts = new Float32Array(capacity);
    rawCounts.set(this.rawCounts);
    this.rawBuckets = rawBuckets;
    this.rawCounts = rawCounts;
    this.entryCols = new Int32Array(capacity);
    this.entryWeights = new Float64Array(capacity);
    this.rowCols = new Int32Array(capacity);
  }

  /**
   * Counts the hashed n-grams of one text into the raw scratch (word block first; sets `wordEnd`) and returns
   * how many distinct buckets there are. At fit, `seen` gives every new bucket an id and `names` its n-gram.
   */
  private count(words: string[], seen: IntIdTable | null, names: string[] | null): number {
    const { lowercase, wordNgrams, charNgrams } = this.config;
    const tokens = lowercase ? words.map((w) => w.toLowerCase()) : words;
    const mask = this.mask;
    const wordCounter = this.wordCounter;
    const charCounter = this.charCounter;
    if (wordNgrams) {
      const [lo, hi] = wordNgrams;
      const th = tokens.map((t) => hashString(t, WORD_SEED));
      for (let i = 0; i < tokens.length; i++) {
        let h = 0;
        for (let m = 1; m <= hi && i + m <= tokens.length; m++) {
          h = m === 1 ? th[i]! : combineHashes(h, th[i + m - 1]!);
          if (m < lo) continue;
          const bucket = h & mask;
          wordCounter.add(bucket);
          if (seen !== null && seen.id(bucket) === names!.length)
            names!.push(`w:${tokens.slice(i, i + m).join(' ')}`);
        }
      }
    }
    if (charNgrams) {
      const [lo, hi] = charNgrams;
      for (const token of tokens) {
        const len = token.length + 2;
        for (let i = 0; i < len; i++) {
          let h = CHAR_SEED;
          for (let n = 1; n <= hi && i + n <= len; n++) {
            const at = i + n - 1;
            h = stepHash(h, at === 0 ? PAD_START : at === len - 1 ? PAD_END : token.charCodeAt(at - 1));
            if (n < lo) continue;
            const bucket = mix32(h) & mask;
            charCounter.add(bucket);
            if (seen !== null && seen.id(bucket) === names!.length)
              names!.push(`c:${`<${token}>`.slice(i, i + n)}`);
          }
        }
      }
    }
    this.wordEnd = wordCounter.size;
    const total = this.wordEnd + charCounter.size;
    this.ensureScratch(total);
    wordCounter.drain(this.rawBuckets, this.rawCounts, 0);
    charCounter.drain(this.rawBuckets, this.rawCounts, this.wordEnd);
    return total;
  }

  /**
   * TF-IDF weights each block of the scratch entries (columns in `entryCols`, -1 for dropped), L2-normalises
   * and scales it, and merges blocks into `rowAcc`; the row's distinct columns end up in `rowCols` (first-seen order).
   * Returns their number; {@link readRow} then reads the normalised values.
   */
  private weigh(total: number, wordEnd: number): number {
    const idf = this.learned!.idf;
    const acc = this.rowAcc;
    const sublinear = this.config.sublinearTf;
    const cols = this.entryCols;
    const counts = this.rawCounts;
    const weighted = this.entryWeights;
    const rowCols = this.rowCols;
    let size = 0;
    for (let block = 0; block < 2; block++) {
      const start = block === 0 ? 0 : wordEnd;
      const end = block === 0 ? wordEnd : total;
      let sumSq = 0;
      for (let k = start; k < end; k++) {
        const col = cols[k]!;
        if (col < 0) continue;
        const tf = counts[k]!;
        const v = (sublinear ? 1 + Math.log(tf) : tf) * idf[col]!;
        weighted[k] = v;
        sumSq += v * v;
      }
      if (sumSq === 0) continue;
      const scale = (block === 0 ? this.config.wordWeight : this.config.charWeight) / Math.sqrt(sumSq);
      for (let k = start; k < end; k++) {
        const col = cols[k]!;
        if (col < 0) continue;
        if (acc[col] === 0) rowCols[size++] = col;
        acc[col]! += weighted[k]! * scale;
      }
    }
    return size;
  }

  /** Writes the L2-normalised values of the row left by {@link weigh} into `out` from `offset`, clearing `rowAcc`. */
  private readRow(size: number, out: Float32Array, offset: number): void {
    const acc = this.rowAcc;
    const rowCols = this.rowCols;
    let sumSq = 0;
    for (let k = 0; k < size; k++) sumSq += acc[rowCols[k]!]! * acc[rowCols[k]!]!;
    const inv = sumSq > 0 ? 1 / Math.sqrt(sumSq) : 0;
    for (let k = 0; k < size; k++) {
      const c = rowCols[k]!;
      out[offset + k] = acc[c]! * inv;
      acc[c] = 0;
    }
  }
}
