import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError, NotFittedError, SapphireError } from '../../core/errors.ts';
import type { Example, Token } from '../../data/types.ts';
import { tokenize } from '../../text/tokenizer.ts';
import { BinaryReader, BinaryWriter } from '../features/binary-io.ts';
import type { FeatureConfig } from '../features/feature-config.ts';
import {
  type FeatureResources,
  loadFeatureResources,
  loadSavedFeatureResources,
  saveFeatureResources,
} from '../features/resources.ts';
import { type TagScheme, TagSet, type TokenSpan, tagSetFromTags } from '../features/tag-scheme.ts';
import { type CompiledSequence, TokenFeatureExtractor } from '../features/token-features.ts';
import type {
  Explanation,
  FeatureContribution,
  FitOptions,
  FitReport,
  Model,
  ModelInput,
  PredictedSpan,
  Prediction,
} from '../model.ts';
import { buildLinearGraph, SCORES } from '../onnx/export/linear-graph.ts';
import { type OnnxGraph, type OnnxScoringJob, predictNative } from '../onnx/scoring.ts';
import { MODEL_MANIFEST } from '../registry.ts';
import { ChainInference, type ChainParams, computeStateScores, paramLayout } from './linear-chain.ts';

/** Config fields every linear-chain tagger has. */
export interface TaggerConfigBase {
  task: 'ner';
  scheme: TagScheme;
  features: FeatureConfig;
}

/** Training data turned into feature ids and gold tag ids. */
export interface PreparedData {
  seqs: CompiledSequence[];
  gold: Int32Array[];
}

/** One of the n best analyses of an input: its tags, entities (scored with the analysis probability) and probability. */
export interface SequenceAnalysis {
  tags: string[];
  spans: PredictedSpan[];
  score: number;
  probability: number;
}

const WEIGHTS_FILE = 'weights.bin';
const WEIGHTS_MAGIC = 'SPHW';

/** Tokens of an input: its own when given, else the default tokenizer's. */
export function tokensOf(input: { text: string; tokens?: Token[] }): Token[] {
  return input.tokens ?? tokenize(input.text);
}

/** The tokens of a training example, checked to lie inside its text (DataError naming the example otherwise). */
export function checkedTokens(ex: Example): Token[] {
  const tokens = tokensOf(ex);
  for (const [i, t] of tokens.entries()) {
    if (!(t.start >= 0 && t.end >= t.start && t.end <= ex.text.length)) {
      throw new DataError(
        `token ${i} [${t.start}, ${t.end}) lies outside the text (length ${ex.text.length})`,
        {
          exampleId: ex.id,
          hint: 'token offsets must be character offsets into the example text',
        },
      );
    }
  }
  return tokens;
}

/** Sentences per scoring batch of the ONNX path. */
const CHAIN_BATCH = 64;

/** The attribute ids and values of each token of a compiled sequence (dense vector entries after `denseBase`). */
function attributeRows(seq: CompiledSequence, denseBase: number): { ids: number[]; values: number[] }[] {
  const rows: { ids: number[]; values: number[] }[] = [];
  for (let t = 0; t < seq.length; t++) {
    const ids: number[] = [];
    const values: number[] = [];
    for (let q = seq.offsets[t]!; q < seq.offsets[t + 1]!; q++) {
      ids.push(seq.ids[q]!);
      values.push(1);
    }
    const vec = seq.dense?.[t];
    if (vec) {
      for (let i = 0; i < vec.length; i++) {
        if (vec[i] === 0) continue;
        ids.push(denseBase + i);
        values.push(vec[i]!);
      }
    }
    rows.push({ ids, values });
  }
  return rows;
}

/** Exact-match entity F1 (conlleval semantics) between gold and predicted tag sequences. */
export function entityF1(tagSet: TagSet, gold: readonly Int32Array[], pred: readonly Int32Array[]): number {
  let tp = 0;
  let nGold = 0;
  let nPred = 0;
  gold.forEach((g, i) => {
    const key = (s: TokenSpan) => `${s.first}:${s.last}:${s.type}`;
    const gs = new Set(tagSet.decode(g).map(key));
    const ps = tagSet.decode(pred[i]!).map(key);
    nGold += gs.size;
    nPred += ps.length;
    for (const p of ps) if (gs.has(p)) tp++;
  });
  return nGold + nPred === 0 ? 1 : (2 * tp) / (nGold + nPred);
}

/**
 * Shared machinery of the linear-chain NER taggers (CRF and structured perceptron): data
 * preparation, constrained Viterbi prediction with span confidences, n-best, explanations and
 * the saved format. Subclasses implement training.
 */
export abstract class SequenceTagger<C extends TaggerConfigBase> implements Model {
  readonly task = 'ner' as const;
  protected tagSet: TagSet | null = null;
  protected extractor: TokenFeatureExtractor | null = null;
  protected params: ChainParams | null = null;
  protected inference: ChainInference | null = null;
  protected resources: FeatureResources = {};
  private scores = new Float64Array(0);

  protected constructor(
    readonly name: string,
    protected readonly cfg: C,
    private readonly formatVersion: number,
  ) {}

  /** Trains the tagger; see the subclass. */
  abstract fit(train: Example[], dev?: Example[], options?: FitOptions): Promise<FitReport>;

  /** The filled configuration. */
  config(): Record<string, unknown> {
    return structuredClone(this.cfg) as unknown as Record<string, unknown>;
  }

  /** Tag strings of the fitted model (`O` first). */
  labels(): string[] {
    return [...(this.tagSet?.tags ?? [])];
  }

  /** Builds the tag set and feature index from the training set and compiles it (and dev). */
  protected prepare(
    train: Example[],
    dev: Example[] | undefined,
  ): { train: PreparedData; dev?: PreparedData } {
    if (train.length === 0) {
      throw new DataError('the training set is empty', { hint: 'pass at least one example to fit()' });
    }
    const types = new Set<string>();
    for (const ex of train) for (const s of ex.spans ?? []) types.add(s.label);
    this.tagSet = new TagSet([...types].sort(), this.cfg.scheme);
    this.resources = loadFeatureResources(this.cfg.features);
    const trainTokens = train.map((ex) => checkedTokens(ex));
    this.extractor = new TokenFeatureExtractor(this.cfg.features, this.resources);
    this.extractor.fitIndex(trainTokens.map((toks) => toks.map((t) => t.text)));
    const compile = (examples: Example[], tokens: Token[][]): PreparedData => ({
      seqs: tokens.map((toks) => this.extractor!.compile(toks.map((t) => t.text))),
      gold: examples.map((ex, i) => this.tagSet!.encode(tokens[i]!, ex.spans ?? []).tags),
    });
    const out: { train: PreparedData; dev?: PreparedData } = { train: compile(train, trainTokens) };
    if (dev && dev.length > 0)
      out.dev = compile(
        dev,
        dev.map((ex) => checkedTokens(ex)),
      );
    return out;
  }

  /** Installs trained weights, dropping state features whose weight is zero and unused attributes. */
  protected install(params: ChainParams): void {
    const fx = this.extractor!;
    const l = params.numTags;
    const lay = paramLayout(params);
    const keepAlways = 1 + fx.denseDimensions;
    const names = fx.featureNames();
    const keptNames: string[] = [];
    const attrStart: number[] = [0];
    const attrTag: number[] = [];
    const state: number[] = [];
    for (let a = 0; a < names.length; a++) {
      const from = attrStart.length - 1;
      let n = 0;
      for (let k = params.attrStart[a]!; k < params.attrStart[a + 1]!; k++) {
        const w = Math.fround(params.weights[k]!);
        if (w === 0) continue;
        attrTag.push(params.attrTag[k]!);
        state.push(w);
        n++;
      }
      if (n === 0 && a >= keepAlways) continue;
      keptNames.push(names[a]!);
      attrStart.push(attrStart[from]! + n);
    }
    const tail = Array.from(params.weights.subarray(lay.transitions), Math.fround);
    const compact: ChainParams = {
      numTags: l,
      attrStart: Int32Array.from(attrStart),
      attrTag: Int32Array.from(attrTag),
      weights: Float64Array.from([...state, ...tail]),
    };
    this.extractor = new TokenFeatureExtractor(this.cfg.features, this.resources, keptNames);
    this.setParams(compact);
  }

  private setParams(params: ChainParams): void {
    this.params = params;
    this.inference = new ChainInference(params, this.tagSet!);
  }

  private ready(): { fx: TokenFeatureExtractor; inf: ChainInference; tags: TagSet; params: ChainParams } {
    if (!this.extractor || !this.inference || !this.tagSet || !this.params)
      throw new NotFittedError(this.name);
    return { fx: this.extractor, inf: this.inference, tags: this.tagSet, params: this.params };
  }

  /** State scores of a compiled sequence in a reused buffer. */
  protected stateScores(seq: CompiledSequence, params: ChainParams): Float64Array {
    const need = seq.length * params.numTags;
    if (this.scores.length < need) this.scores = new Float64Array(Math.max(need, this.scores.length * 2));
    computeStateScores(seq, params, this.extractor!.denseBase, this.scores);
    return this.scores;
  }

  /** Predicts entities for every input, with span probabilities as confidences. */
  predict(inputs: ModelInput[]): Prediction[] {
    return predictNative(this.onnxScoring(inputs));
  }

  /**
   * The state-score (emission) graph: every attribute's weights per tag as a dense [attributes × tags]
   * matrix, scored like `linear.v1` with one row per token; transitions and decoding stay in TypeScript.
   */
  toOnnx(): OnnxGraph {
    const { tags, params } = this.ready();
    const L = params.numTags;
    const A = params.attrStart.length - 1;
    const weights = new Float32Array(A * L);
    for (let a = 0; a < A; a++)
      for (let k = params.attrStart[a]!; k < params.attrStart[a + 1]!; k++)
        weights[a * L + params.attrTag[k]!] += params.weights[k]!;
    const bytes = buildLinearGraph({
      architecture: this.name,
      labels: tags.tags,
      weights,
      bias: new Float32Array(L),
    });
    return { bytes, output: SCORES };
  }

  /**
   * The scoring of `inputs` in chunks of sentences: one row per token (attribute ids and values: 1 for
   * binary attributes, the vector value for dense ones), the state scores, and Viterbi with span confidences.
   */
  onnxScoring(inputs: readonly ModelInput[]): OnnxScoringJob {
    const { fx, inf, tags, params } = this.ready();
    const L = params.numTags;
    const prepared = inputs.map((input) => {
      const tokens = tokensOf(input);
      return { tokens, seq: fx.compile(tokens.map((t) => t.text)) };
    });
    const chunks: number[][] = [];
    for (let from = 0; from < prepared.length; from += CHAIN_BATCH) {
      chunks.push(Array.from({ length: Math.min(CHAIN_BATCH, prepared.length - from) }, (_, i) => from + i));
    }
    const rowsOf = (c: number) => chunks[c]!.reduce((n, i) => n + prepared[i]!.seq.length, 0);
    return {
      batches: chunks.length,
      feeds: (c) => {
        const rows: { ids: number[]; values: number[] }[] = [];
        for (const i of chunks[c]!) rows.push(...attributeRows(prepared[i]!.seq, fx.denseBase));
        const P = Math.max(1, ...rows.map((r) => r.ids.length));
        const n = Math.max(1, rows.length);
        const ids = new BigInt64Array(n * P);
        const values = new Float32Array(n * P);
        rows.forEach((r, t) => {
          for (let q = 0; q < r.ids.length; q++) {
            ids[t * P + q] = BigInt(r.ids[q]!);
            values[t * P + q] = r.values[q]!;
          }
        });
        return {
          feature_ids: { type: 'int64', data: ids, dims: [n, P] },
          feature_values: { type: 'float32', data: values, dims: [n, P] },
        };
      },
      nativeScores: (c) => {
        const out = new Float64Array(Math.max(1, rowsOf(c)) * L);
        let at = 0;
        for (const i of chunks[c]!) {
          const seq = prepared[i]!.seq;
          out.set(this.stateScores(seq, params).subarray(0, seq.length * L), at);
          at += seq.length * L;
        }
        return out;
      },
      finish: (scores) =>
        chunks.flatMap((idx, c) => {
          let at = 0;
          return idx.map((i): Prediction => {
            const { tokens, seq } = prepared[i]!;
            const s = Float64Array.from(scores[c]!.subarray(at * L, (at + seq.length) * L));
            at += seq.length;
            if (seq.length === 0) return { spans: [] };
            const path = inf.viterbi(s, seq.length).tags;
            const entities = tags.decode(path);
            if (entities.length > 0) inf.forwardBackward(s, seq.length);
            return { spans: entities.map((e) => this.toSpan(e, path, tokens)) };
          });
        }),
    };
  }

  /**
   * Confidence of an entity: the exact probability, under the model, that exactly these tokens
   * carry exactly this entity (same tags, not extended by the next token), from forward–backward.
   */
  private toSpan(e: TokenSpan, path: Int32Array, tokens: Token[]): PredictedSpan {
    const { inf, tags } = this.ready();
    const entityTags = Array.from(path.subarray(e.first, e.last + 1));
    const score = inf.spanProbability(e.first, e.last, entityTags, tags.continuationTags(e.type));
    return { start: tokens[e.first]!.start, end: tokens[e.last]!.end, label: tags.types[e.type]!, score };
  }

  /** The `n` most probable tag sequences of one input, best first, with their probabilities (exact). */
  nBest(input: ModelInput, n: number): SequenceAnalysis[] {
    const { fx, inf, tags, params } = this.ready();
    const tokens = tokensOf(input);
    const seq = fx.compile(tokens.map((t) => t.text));
    const scores = this.stateScores(seq, params);
    return inf.nBest(scores, seq.length, n).map((p) => ({
      tags: Array.from(p.tags, (y) => tags.tags[y]!),
      spans: tags.decode(p.tags).map((e) => ({
        start: tokens[e.first]!.start,
        end: tokens[e.last]!.end,
        label: tags.types[e.type]!,
        score: p.probability,
      })),
      score: p.score,
      probability: p.probability,
    }));
  }

  /** Per predicted entity, the top weighted state features of its tokens and its transitions. */
  explain(input: ModelInput, topK = 10): Explanation[] {
    const { fx, params, tags } = this.ready();
    const tokens = tokensOf(input);
    const words = tokens.map((t) => t.text);
    const seq = fx.compile(words);
    const scores = this.stateScores(seq, params);
    const path = this.inference!.viterbi(scores, seq.length).tags;
    const l = params.numTags;
    const lay = paramLayout(params);
    const weightOf = (a: number, y: number): number => {
      for (let k = params.attrStart[a]!; k < params.attrStart[a + 1]!; k++) {
        if (params.attrTag[k] === y) return params.weights[k]!;
      }
      return 0;
    };
    return tags.decode(path).map((e) => {
      const sums = new Map<string, number>();
      const add = (key: string, w: number) => {
        if (w !== 0) sums.set(key, (sums.get(key) ?? 0) + w);
      };
      for (let t = e.first; t <= e.last; t++) {
        const y = path[t]!;
        const tag = tags.tags[y]!;
        for (let q = seq.offsets[t]!; q < seq.offsets[t + 1]!; q++) {
          const a = seq.ids[q]!;
          add(`${fx.featureName(a)} → ${tag}`, weightOf(a, y));
        }
        const vec = seq.dense?.[t];
        if (vec) {
          vec.forEach((v, i) => {
            add(`${fx.featureName(fx.denseBase + i)} → ${tag}`, v * weightOf(fx.denseBase + i, y));
          });
        }
        const prevName = t > 0 ? tags.tags[path[t - 1]!]! : '<start>';
        const tw =
          t > 0 ? params.weights[lay.transitions + path[t - 1]! * l + y]! : params.weights[lay.start + y]!;
        add(`transition ${prevName} → ${tag}`, tw);
      }
      const last = path[e.last]!;
      if (e.last + 1 < path.length) {
        add(
          `transition ${tags.tags[last]} → ${tags.tags[path[e.last + 1]!]}`,
          params.weights[lay.transitions + last * l + path[e.last + 1]!]!,
        );
      } else add(`transition ${tags.tags[last]} → <end>`, params.weights[lay.end + last]!);
      const contributions: FeatureContribution[] = [...sums]
        .map(([feature, weight]) => ({ feature, weight }))
        .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || a.feature.localeCompare(b.feature))
        .slice(0, topK);
      const start = tokens[e.first]!.start;
      const end = tokens[e.last]!.end;
      return {
        target: `${tags.types[e.type]} "${input.text.slice(start, end)}" [${start}, ${end})`,
        contributions,
      };
    });
  }

  /** What the last fit did (iterations, epochs, best dev score…), written to the manifest as `training`. */
  protected trainingInfo: Record<string, unknown> = {};

  /** Extra manifest fields: the training summary. */
  protected manifestExtras(): Record<string, unknown> {
    return { training: this.trainingInfo };
  }

  /** Writes model.json (manifest + filled config + labels), weights.bin and resources.bin. */
  async save(dir: string): Promise<void> {
    const { fx, tags, params } = this.ready();
    await mkdir(dir, { recursive: true });
    const w = new BinaryWriter();
    w.ascii(WEIGHTS_MAGIC);
    w.u32(this.formatVersion);
    w.u32(params.numTags);
    w.u32(fx.size);
    w.u32(params.attrTag.length);
    w.strings(fx.featureNames());
    w.i32(params.attrStart);
    w.i32(params.attrTag);
    w.f32(params.weights);
    await writeFile(join(dir, WEIGHTS_FILE), w.bytes());
    await saveFeatureResources(dir, this.resources);
    const manifest = {
      architecture: this.name,
      formatVersion: this.formatVersion,
      config: this.cfg,
      labels: tags.tags,
      entityTypes: tags.types,
      scheme: tags.scheme,
      weights: {
        file: WEIGHTS_FILE,
        encoding: 'float32-le',
        features: fx.size,
        stateFeatures: params.attrTag.length,
      },
      ...this.manifestExtras(),
    };
    await writeFile(join(dir, MODEL_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  }

  /** Restores a model saved by {@link save} into this (unfitted) instance. */
  protected async restore(dir: string): Promise<void> {
    const manifestFile = join(dir, MODEL_MANIFEST);
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as {
      formatVersion?: number;
      labels?: string[];
    };
    if (manifest.formatVersion !== this.formatVersion) {
      throw new SapphireError(
        'INCOMPATIBLE_VERSION',
        `${manifestFile} has formatVersion ${manifest.formatVersion}; ${this.name} needs formatVersion ${this.formatVersion}`,
        { file: manifestFile, hint: `retrain the model, or load it with the Sapphire release that wrote it` },
      );
    }
    if (!Array.isArray(manifest.labels)) {
      throw new DataError('model.json has no "labels" list', {
        file: manifestFile,
        hint: 'save the model again',
      });
    }
    this.tagSet = tagSetFromTags(manifest.labels, this.cfg.scheme, manifestFile);
    const file = join(dir, WEIGHTS_FILE);
    const r = new BinaryReader(await readFile(file), file);
    r.expectAscii(WEIGHTS_MAGIC);
    const version = r.u32();
    if (version !== this.formatVersion) {
      throw new SapphireError(
        'INCOMPATIBLE_VERSION',
        `${file} has format version ${version}; ${this.name} needs format version ${this.formatVersion}`,
        { file, hint: 'retrain the model, or load it with the Sapphire release that wrote it' },
      );
    }
    const numTags = r.u32();
    const numFeatures = r.u32();
    const numState = r.u32();
    if (numTags !== this.tagSet.size) {
      throw new DataError(`weights have ${numTags} tags but model.json lists ${this.tagSet.size}`, {
        file,
        hint: 'the model directory is damaged; save the model again',
      });
    }
    const names = r.strings();
    const attrStart = r.i32(numFeatures + 1);
    const attrTag = r.i32(numState);
    const weights = r.f32(numState + numTags * numTags + 2 * numTags);
    r.expectEnd();
    if (names.length !== numFeatures) {
      throw new DataError(`feature table has ${names.length} entries, header says ${numFeatures}`, {
        file,
        hint: 'the model directory is damaged; save the model again',
      });
    }
    this.resources = await loadSavedFeatureResources(dir);
    this.extractor = new TokenFeatureExtractor(this.cfg.features, this.resources, names);
    this.setParams({ numTags, attrStart, attrTag, weights });
  }
}
