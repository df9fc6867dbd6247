import type { FeatureConfig, WordTemplate } from './feature-config.ts';
import { GAZ_BEGIN, GAZ_INSIDE, Gazetteer } from './gazetteer.ts';
import { type FeatureResources, vectorDimensions } from './resources.ts';
import { digitNormalised, shortWordShape, tokenFlags, wordShape } from './word-shape.ts';

/**
 * A token sequence turned into feature ids: token `t` has the binary features
 * `ids[offsets[t] … offsets[t + 1])` and, with word vectors, the real-valued features
 * `denseBase + i` with values `dense[t][i]`.
 */
export interface CompiledSequence {
  length: number;
  offsets: Int32Array;
  ids: Int32Array;
  /** Per-token vector (already scaled), null for tokens without one; null when no vectors are configured. */
  dense: (Float32Array | null)[] | null;
}

interface WordStrings {
  local: string[];
  /** Per window offset, the strings of the templates used at that offset (before the offset prefix). */
  window: string[][];
  bigramForm: string;
}

/** Cached ids of one word (plain arrays: far cheaper to create than many small typed arrays). */
interface WordEntry {
  local: number[];
  /** Per window offset, ids of this word's features seen from a neighbour at that offset. */
  window: number[][];
  bigramId: number;
  dense: Float32Array | null;
}

const PAD = '<S>';
const MAX_CACHED_WORDS = 200_000;
const EMPTY = new Int32Array(0);

function offsetName(d: number): string {
  return d > 0 ? `+${d}` : String(d);
}

/**
 * Turns token sequences into feature ids à la CRFsuite/OpenNLP: word, case, shape, affixes,
 * flags, window neighbours, bigrams, gazetteers, clusters and word vectors (see FeatureConfig).
 *
 * Training calls {@link TokenFeatureExtractor.fitIndex} once to intern feature strings; afterwards
 * {@link TokenFeatureExtractor.compile} maps tokens to ids, dropping unknown features, and builds
 * feature strings only once per distinct word (cached), never per token.
 *
 * @example
 * const fx = new TokenFeatureExtractor(FeatureConfigSchema.parse({}), {});
 * fx.fitIndex([['Paris', 'is', 'nice']]);
 * const seq = fx.compile(['Paris', 'rocks']);
 */
export class TokenFeatureExtractor {
  private names: string[] = [];
  private index = new Map<string, number>();
  private readonly windowOffsets: number[];
  private readonly windowPrefixes: string[];
  private readonly localTemplates: WordTemplate[];
  /** Per window offset, the templates applied to the neighbour there. */
  private readonly offsetTemplates: WordTemplate[][];
  private readonly gazetteers: Gazetteer[];
  private readonly dims: number;
  private readonly lowerVectors = new Map<string, Float32Array>();
  private readonly lowerClusters = new Map<string, string>();

  private padIds = EMPTY;
  private bigramVocab = new Map<string, number>();
  private leftBigrams = new Map<number, number>();
  private rightBigrams = new Map<number, number>();
  private gazIds: [number, number][] = [];
  private entries = new Map<string, WordEntry>();
  private windowIndex: Map<string, number>[] = [];
  private scratch = new Int32Array(1024);

  constructor(
    readonly config: FeatureConfig,
    readonly resources: FeatureResources,
    featureNames?: readonly string[],
  ) {
    this.windowOffsets = [];
    const reach = Math.max(config.window, config.nearFeatures.length > 0 ? 1 : 0);
    for (let d = -reach; d <= reach; d++) if (d !== 0) this.windowOffsets.push(d);
    this.windowPrefixes = this.windowOffsets.map((d) => `${offsetName(d)}:`);
    const enabled = (t: WordTemplate): boolean => {
      switch (t) {
        case 'prefix':
          return config.prefixes > 0;
        case 'suffix':
          return config.suffixes > 0;
        case 'cluster':
          return resources.clusters !== undefined;
        default:
          return config[t];
      }
    };
    this.localTemplates = (
      ['word', 'lower', 'shape', 'shortShape', 'prefix', 'suffix', 'flags', 'digitNorm', 'cluster'] as const
    ).filter(enabled);
    const usable = (t: WordTemplate) => t !== 'cluster' || resources.clusters !== undefined;
    this.offsetTemplates = this.windowOffsets.map((d) => {
      const templates = Math.abs(d) <= config.window ? [...config.windowFeatures] : [];
      if (Math.abs(d) === 1) templates.push(...config.nearFeatures);
      return [...new Set(templates)].filter(usable);
    });
    this.gazetteers = config.gazetteers.map((g) => new Gazetteer(g.name, g.phrases, g.caseSensitive));
    this.dims = vectorDimensions(resources);
    for (const [w, v] of resources.vectors ?? []) {
      const lw = w.toLowerCase();
      if (!this.lowerVectors.has(lw)) this.lowerVectors.set(lw, v);
    }
    for (const [w, c] of resources.clusters ?? []) {
      const lw = w.toLowerCase();
      if (!this.lowerClusters.has(lw)) this.lowerClusters.set(lw, c);
    }
    if (featureNames) this.setNames(featureNames);
  }

  /** Number of distinct features (ids are 0 … size − 1). */
  get size(): number {
    return this.names.length;
  }

  /** Id of the first real-valued vector feature (vector component i has id denseBase + i). */
  get denseBase(): number {
    return 1;
  }

  /** Number of real-valued vector features (0 without vectors). */
  get denseDimensions(): number {
    return this.dims;
  }

  /** The feature string of an id. */
  featureName(id: number): string {
    return this.names[id] ?? `#${id}`;
  }

  /** Every feature string, by id. */
  featureNames(): readonly string[] {
    return this.names;
  }

  /** Counts the features of the training sentences and keeps those seen at least `minCount` times. */
  fitIndex(sentences: readonly (readonly string[])[]): void {
    const counts = new Map<string, number>();
    const cache = new Map<string, WordStrings>();
    const add = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
    for (const tokens of sentences) this.forEachFeatureName(tokens, cache, add);
    const kept: string[] = [];
    for (const [name, n] of counts) if (n >= this.config.minCount && name !== 'bias') kept.push(name);
    this.setNames(['bias', ...Array.from({ length: this.dims }, (_, i) => `v:${i}`), ...kept]);
  }

  /** Every feature string of every token, before index lookup (what {@link compile} looks up). */
  featureStrings(tokens: readonly string[]): string[][] {
    const out: string[][] = tokens.map(() => []);
    this.forEachFeatureName(tokens, new Map(), (name, t) => out[t]!.push(name));
    return out;
  }

  private forEachFeatureName(
    tokens: readonly string[],
    cache: Map<string, WordStrings>,
    emit: (name: string, token: number) => void,
  ): void {
    const words = tokens.map((w) => {
      let s = cache.get(w);
      if (!s) {
        s = this.wordStrings(w);
        cache.set(w, s);
      }
      return s;
    });
    const gaz = this.gazetteers.map((g) => g.match(tokens));
    const n = tokens.length;
    for (let t = 0; t < n; t++) {
      emit('bias', t);
      for (const s of words[t]!.local) emit(s, t);
      this.windowOffsets.forEach((d, di) => {
        const j = t + d;
        const prefix = this.windowPrefixes[di]!;
        if (j < 0 || j >= n) emit(`${prefix}${PAD}`, t);
        else for (const s of words[j]!.window[di]!) emit(`${prefix}${s}`, t);
      });
      if (this.config.bigrams) {
        const form = words[t]!.bigramForm;
        emit(`b-1=${t > 0 ? words[t - 1]!.bigramForm : PAD} ${form}`, t);
        emit(`b+1=${form} ${t + 1 < n ? words[t + 1]!.bigramForm : PAD}`, t);
      }
      this.gazetteers.forEach((g, gi) => {
        const m = gaz[gi]![t];
        if (m === GAZ_BEGIN) emit(`g:${g.name}=B`, t);
        else if (m === GAZ_INSIDE) emit(`g:${g.name}=I`, t);
      });
    }
  }

  private setNames(names: readonly string[]): void {
    this.names = [...names];
    this.index = new Map(this.names.map((n, i) => [n, i]));
    this.entries.clear();
    // Window features indexed per offset without their "±d:" prefix, so lookups need no concatenation.
    this.windowIndex = this.windowPrefixes.map(() => new Map<string, number>());
    const offsetOf = new Map(this.windowPrefixes.map((p, di) => [p, di]));
    this.names.forEach((name, id) => {
      const colon = name.indexOf(':');
      const di = colon > 0 ? offsetOf.get(name.slice(0, colon + 1)) : undefined;
      if (di !== undefined) this.windowIndex[di]!.set(name.slice(colon + 1), id);
    });
    this.padIds = Int32Array.from(this.windowPrefixes, (p) => this.index.get(`${p}${PAD}`) ?? -1);
    this.bigramVocab = new Map([[PAD, 0]]);
    this.leftBigrams = new Map();
    this.rightBigrams = new Map();
    const pairs: [Map<number, number>, string, string, number][] = [];
    this.names.forEach((name, id) => {
      const left = name.startsWith('b-1=');
      if (!left && !name.startsWith('b+1=')) return;
      const [a, b] = name.slice(4).split(' ') as [string, string];
      for (const f of [a, b]) if (!this.bigramVocab.has(f)) this.bigramVocab.set(f, this.bigramVocab.size);
      pairs.push([left ? this.leftBigrams : this.rightBigrams, a, b, id]);
    });
    const v = this.bigramVocab.size;
    for (const [map, a, b, id] of pairs) map.set(this.bigramVocab.get(a)! * v + this.bigramVocab.get(b)!, id);
    this.gazIds = this.gazetteers.map((g) => [
      this.index.get(`g:${g.name}=B`) ?? -1,
      this.index.get(`g:${g.name}=I`) ?? -1,
    ]);
  }

  private cluster(word: string): string | undefined {
    return this.resources.clusters?.get(word) ?? this.lowerClusters.get(word.toLowerCase());
  }

  private templateStrings(t: WordTemplate, word: string, lower: string, out: string[]): void {
    const c = this.config;
    switch (t) {
      case 'word':
        out.push(`w=${word}`);
        break;
      case 'lower':
        out.push(`l=${lower}`);
        break;
      case 'shape':
        out.push(`s=${wordShape(word)}`);
        break;
      case 'shortShape':
        out.push(`ss=${shortWordShape(word)}`);
        break;
      case 'prefix':
        for (let k = 1; k <= c.prefixes && k <= lower.length; k++) out.push(`p${k}=${lower.slice(0, k)}`);
        break;
      case 'suffix':
        for (let k = 1; k <= c.suffixes && k <= lower.length; k++) out.push(`x${k}=${lower.slice(-k)}`);
        break;
      case 'flags':
        for (const f of tokenFlags(word)) out.push(`f=${f}`);
        break;
      case 'digitNorm':
        out.push(`n=${digitNormalised(lower)}`);
        break;
      case 'cluster': {
        const id = this.cluster(word);
        if (id === undefined) break;
        out.push(`c=${id}`);
        for (const p of c.clusters?.prefixes ?? []) if (p < id.length) out.push(`c${p}=${id.slice(0, p)}`);
        break;
      }
    }
  }

  private wordStrings(word: string): WordStrings {
    const lower = word.toLowerCase();
    const byTemplate = new Map<WordTemplate, string[]>();
    const stringsOf = (t: WordTemplate): string[] => {
      let strings = byTemplate.get(t);
      if (!strings) {
        strings = [];
        this.templateStrings(t, word, lower, strings);
        byTemplate.set(t, strings);
      }
      return strings;
    };
    const local: string[] = [];
    for (const t of this.localTemplates) local.push(...stringsOf(t));
    const window = this.offsetTemplates.map((templates) => {
      const out: string[] = [];
      for (const t of templates) out.push(...stringsOf(t));
      return out;
    });
    return { local, window, bigramForm: /\s/.test(lower) ? lower.replace(/\s/g, '_') : lower };
  }

  private ids(strings: readonly string[], index: ReadonlyMap<string, number>): number[] {
    const out: number[] = [];
    for (const s of strings) {
      const id = index.get(s);
      if (id !== undefined) out.push(id);
    }
    return out;
  }

  private entry(word: string): WordEntry {
    let e = this.entries.get(word);
    if (e) return e;
    const s = this.wordStrings(word);
    let dense: Float32Array | null = null;
    if (this.dims > 0) {
      const v = this.resources.vectors?.get(word) ?? this.lowerVectors.get(word.toLowerCase());
      if (v) {
        const scale = this.config.vectors?.scale ?? 1;
        dense = scale === 1 ? v : Float32Array.from(v, (x) => x * scale);
      }
    }
    e = {
      local: this.ids(s.local, this.index),
      window: this.windowIndex.map((index, di) => this.ids(s.window[di]!, index)),
      bigramId: this.bigramVocab.get(s.bigramForm) ?? -1,
      dense,
    };
    if (this.entries.size >= MAX_CACHED_WORDS) this.entries.clear();
    this.entries.set(word, e);
    return e;
  }

  /** Maps a token sequence to feature ids; features not seen in training are dropped. */
  compile(tokens: readonly string[]): CompiledSequence {
    const n = tokens.length;
    const entries = tokens.map((w) => this.entry(w));
    const offsets = new Int32Array(n + 1);
    const offsetsCount = this.windowOffsets.length;
    // Upper bound of the number of ids, so the fill loop writes without bounds checks or growth.
    let bound = n * (3 + offsetsCount + this.gazetteers.length);
    for (let t = 0; t < n; t++) {
      bound += entries[t]!.local.length;
      for (let di = 0; di < offsetsCount; di++) {
        const j = t + this.windowOffsets[di]!;
        if (j >= 0 && j < n) bound += entries[j]!.window[di]!.length;
      }
    }
    if (this.scratch.length < bound) this.scratch = new Int32Array(Math.max(bound, this.scratch.length * 2));
    const buf = this.scratch;
    let pos = 0;
    const gaz = this.gazetteers.length > 0 ? this.gazetteers.map((g) => g.match(tokens)) : null;
    const v = this.bigramVocab.size;
    for (let t = 0; t < n; t++) {
      offsets[t] = pos;
      const e = entries[t]!;
      buf[pos++] = 0;
      const local = e.local;
      for (let k = 0; k < local.length; k++) buf[pos++] = local[k]!;
      for (let di = 0; di < offsetsCount; di++) {
        const j = t + this.windowOffsets[di]!;
        if (j < 0 || j >= n) {
          const id = this.padIds[di]!;
          if (id >= 0) buf[pos++] = id;
        } else {
          const w = entries[j]!.window[di]!;
          for (let k = 0; k < w.length; k++) buf[pos++] = w[k]!;
        }
      }
      if (this.config.bigrams && e.bigramId >= 0) {
        const prev = t > 0 ? entries[t - 1]!.bigramId : 0;
        const next = t + 1 < n ? entries[t + 1]!.bigramId : 0;
        if (prev >= 0) {
          const id = this.leftBigrams.get(prev * v + e.bigramId);
          if (id !== undefined) buf[pos++] = id;
        }
        if (next >= 0) {
          const id = this.rightBigrams.get(e.bigramId * v + next);
          if (id !== undefined) buf[pos++] = id;
        }
      }
      if (gaz) {
        for (let gi = 0; gi < gaz.length; gi++) {
          const m = gaz[gi]![t];
          const id = m === GAZ_BEGIN ? this.gazIds[gi]![0] : m === GAZ_INSIDE ? this.gazIds[gi]![1] : -1;
          if (id >= 0) buf[pos++] = id;
        }
      }
    }
    offsets[n] = pos;
    return {
      length: n,
      offsets,
      ids: buf.slice(0, pos),
      dense: this.dims > 0 ? entries.map((e) => e.dense) : null,
    };
  }
}
