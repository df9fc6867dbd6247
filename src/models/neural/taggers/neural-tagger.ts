/**
 * The neural NER taggers `bilstm-crf.v1` and `idcnn-crf.v1`: one Model class, two encoders.
 *
 * Words are looked up (lowercased by default) in a vocabulary built from the training set (row 0 is
 * the unknown word), optionally initialised from pretrained vectors; characters feed a char-CNN.
 * Training: Adam on the summed CRF loss, gradient clipping, constant or linear warm-up/decay
 * learning rate, early stopping on dev entity F1 with patience (the best epoch's weights are kept),
 * data-parallel over `threads` worker threads. Decoding is Viterbi with the scheme's invalid
 * transitions forbidden, so BIO/BILOU output is always valid; a span's confidence is the exact
 * probability, under the CRF, that exactly these tokens carry exactly this entity.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { DataError, NotFittedError, SapphireError } from '../../../core/errors.ts';
import { createRng, type Rng } from '../../../core/rng.ts';
import type { Example, Token } from '../../../data/types.ts';
import { checkedTokens, entityF1, tokensOf } from '../../crf/sequence-tagger.ts';
import { type TagSet, type TokenSpan, tagSetFromTags } from '../../features/tag-scheme.ts';
import type {
  Explanation,
  FeatureContribution,
  FitOptions,
  FitReport,
  Model,
  ModelInput,
  PredictedSpan,
  Prediction,
} from '../../model.ts';
import { buildTaggerGraph, EMISSIONS } from '../../onnx/export/tagger-graph.ts';
import { type OnnxFeeds, type OnnxGraph, type OnnxScoringJob, predictNative } from '../../onnx/scoring.ts';
import { MODEL_MANIFEST } from '../../registry.ts';
import { DataParallel } from '../engine/data-parallel.ts';
import { Adam, clipGradNorm, constantSchedule, linearWarmupDecay, type Schedule } from '../engine/optim.ts';
import { seqBatch, timeMajorIds } from '../engine/seq.ts';
import { decodeParamsInto, encodeParams } from '../engine/serialize.ts';
import { countParams, type Param, zeroGrad } from '../engine/tensor.ts';
import {
  coverage,
  fillEmbedding,
  loadVectors,
  loadWinkVectors,
  lookupVector,
  vectorsFromJson,
  type WordVectors,
} from '../vectors.ts';
import {
  createTaggerNetwork,
  type Emissions,
  type EncodedSentence,
  type NetworkOptions,
  type TaggerNetwork,
} from './network.ts';
import { type EncoderKind, type NeuralTaggerConfig, parseNeuralTaggerConfig } from './tagger-config.ts';

/** Format version of saved neural tagger directories. */
export const NEURAL_TAGGER_FORMAT_VERSION = 1;

const WEIGHTS_FILE = 'weights.bin';
const VOCAB_FILE = 'vocab.json';
const UNKNOWN = '<unk>';
/** Sentences per forward pass at prediction time. */
const PREDICT_BATCH = 64;

/** A sentence ready for the network, with the tokens its spans map back to. */
interface Prepared {
  tokens: Token[];
  enc: EncodedSentence;
}

/** Runs training steps on one thread or data-parallel on several. */
interface StepRunner {
  net: TaggerNetwork;
  threads: number;
  lossAndGrad(batch: EncodedSentence[]): Promise<number>;
  close(): Promise<void>;
}

async function startRunner(options: NetworkOptions, threads: number): Promise<StepRunner> {
  if (threads <= 1) {
    const net = createTaggerNetwork(options);
    return {
      net,
      threads: 1,
      lossAndGrad: async (batch) => {
        zeroGrad(net.params());
        return net.lossAndGrad(batch);
      },
      close: async () => {},
    };
  }
  const dp = await DataParallel.start(
    { module: new URL('./network.ts', import.meta.url).href, factory: 'createTaggerNetwork', options },
    { threads },
  );
  return {
    net: dp.model as TaggerNetwork,
    threads: dp.threads,
    lossAndGrad: (batch) => dp.lossAndGrad(batch),
    close: () => dp.close(),
  };
}

/**
 * A BiLSTM-CRF or ID-CNN-CRF NER tagger (see the module comment).
 *
 * `explain()` gives a simple explanation, not an input attribution: per predicted entity, the
 * emission score of each of its tokens for its tag and the CRF transition scores into, inside and
 * out of the entity, largest magnitude first.
 *
 * @example
 * const model = createModel('bilstm-crf.v1', { epochs: 20, vectors: { path: 'glove.txt', frozen: false } });
 * await model.fit(train, dev, { onProgress: (e) => console.log(e.epoch, e.loss, e.devScore) });
 * model.predict([{ text: 'Dinner at Nobu' }]);
 */
export class NeuralTagger implements Model {
  readonly task = 'ner' as const;
  private readonly cfg: NeuralTaggerConfig;
  private readonly wordDimGiven: boolean;
  private net: TaggerNetwork | null = null;
  private words: string[] = [];
  private wordIndex = new Map<string, number>();
  private chars: string[] = [];
  private charIndex = new Map<string, number>();
  private trainingInfo: Record<string, unknown> = {};

  constructor(
    readonly name: string,
    private readonly kind: EncoderKind,
    config: Record<string, unknown> = {},
  ) {
    this.cfg = parseNeuralTaggerConfig(kind, config, name);
    this.wordDimGiven = typeof config?.wordDim === 'number';
  }

  /** Loads a directory written by {@link save}. */
  static async load(
    name: string,
    kind: EncoderKind,
    dir: string,
    config: Record<string, unknown>,
  ): Promise<NeuralTagger> {
    const model = new NeuralTagger(name, kind, config);
    await model.restore(dir);
    return model;
  }

  /** The filled configuration (after fit: with the seed used and the word size of the vectors). */
  config(): Record<string, unknown> {
    return structuredClone(this.cfg) as unknown as Record<string, unknown>;
  }

  /** Tag strings of the fitted model (`O` first). */
  labels(): string[] {
    return [...(this.net?.tagSet.tags ?? [])];
  }

  private wordKey(word: string): string {
    return this.cfg.lowercase ? word.toLowerCase() : word;
  }

  private encode(tokens: readonly Token[], tagSet?: TagSet, ex?: Example): EncodedSentence {
    const max = this.cfg.maxWordChars;
    const enc: EncodedSentence = {
      w: tokens.map((t) => this.wordIndex.get(this.wordKey(t.text)) ?? 0),
      c: tokens.map((t) =>
        Array.from(t.text)
          .slice(0, max)
          .map((ch) => this.charIndex.get(ch) ?? 0),
      ),
    };
    if (tagSet && ex) enc.y = Array.from(tagSet.encode(tokens, ex.spans ?? []).tags);
    return enc;
  }

  /** Loads the configured vectors, keeping only `vocab` words (all of them with `vectorWords`). */
  private async loadConfiguredVectors(vocab: Iterable<string>): Promise<WordVectors | undefined> {
    const v = this.cfg.vectors;
    if (!v) return undefined;
    const opts = this.cfg.vectorWords > 0 ? {} : { vocab, lowercase: true };
    if (v.json) return vectorsFromJson(v.json, `${this.name} config vectors.json`, opts);
    if (v.wink) return loadWinkVectors(opts);
    return loadVectors(v.path!, opts);
  }

  /** Builds the word and character vocabularies (and loads the vectors) from the training set. */
  private async buildVocabularies(train: Token[][], dev: Token[][]): Promise<WordVectors | undefined> {
    const counts = new Map<string, number>();
    const chars = new Map<string, number>([[UNKNOWN, 0]]);
    for (const toks of train) {
      for (const t of toks) {
        const k = this.wordKey(t.text);
        counts.set(k, (counts.get(k) ?? 0) + 1);
        for (const ch of Array.from(t.text).slice(0, this.cfg.maxWordChars)) {
          if (!chars.has(ch)) chars.set(ch, chars.size);
        }
      }
    }
    const devKeys = new Set<string>();
    for (const toks of dev) for (const t of toks) devKeys.add(this.wordKey(t.text));
    const vectors = await this.loadConfiguredVectors([...counts.keys(), ...devKeys]);
    const words = [UNKNOWN];
    const seen = new Set(words);
    const add = (k: string) => {
      if (!seen.has(k)) {
        seen.add(k);
        words.push(k);
      }
    };
    for (const [k, n] of counts)
      if (n >= this.cfg.minWordCount || (vectors && lookupVector(vectors, k))) add(k);
    if (vectors) for (const k of devKeys) if (lookupVector(vectors, k)) add(k);
    if (vectors) for (const w of vectors.words.slice(0, this.cfg.vectorWords)) add(this.wordKey(w));
    this.words = words;
    this.wordIndex = new Map(words.map((w, i) => [w, i]));
    this.chars = [...chars.keys()];
    this.charIndex = chars;
    return vectors;
  }

  private networkOptions(types: string[]): NetworkOptions {
    const c = this.cfg;
    return {
      encoder: this.kind,
      seed: c.seed,
      words: this.words.length,
      chars: this.chars.length,
      types,
      scheme: c.scheme,
      wordDim: c.wordDim,
      charDim: c.charDim,
      charFilters: c.charFilters,
      charWidth: c.charWidth,
      dropout: c.dropout,
      frozenWords: c.vectors?.frozen ?? false,
      ...('hidden' in c
        ? { hidden: c.hidden }
        : { filters: c.filters, width: c.width, dilations: c.dilations, iterations: c.iterations }),
    };
  }

  /** Trains with Adam; with `dev`, keeps the weights of the epoch with the best dev entity F1. */
  async fit(train: Example[], dev?: Example[], options: FitOptions = {}): Promise<FitReport> {
    if (train.length === 0) {
      throw new DataError('the training set is empty', { hint: 'pass at least one example to fit()' });
    }
    const cfg = this.cfg;
    if (options.seed !== undefined) cfg.seed = options.seed;
    const trainTokens = train.map((ex) => checkedTokens(ex));
    const devSet = dev && dev.length > 0 ? dev : undefined;
    const devTokens = devSet?.map((ex) => checkedTokens(ex)) ?? [];
    const vectors = await this.buildVocabularies(trainTokens, devTokens);
    if (vectors && !this.wordDimGiven) cfg.wordDim = vectors.dim;
    const types = new Set<string>();
    for (const ex of train) for (const s of ex.spans ?? []) types.add(s.label);
    const netOptions = this.networkOptions([...types].sort());
    const runner = await startRunner(netOptions, cfg.threads);
    const net = runner.net;
    this.net = null;
    try {
      const tagSet = net.tagSet;
      let vectorInfo: Record<string, unknown> | undefined;
      if (vectors) {
        const filled = fillEmbedding(net.words.table, this.words, vectors);
        const cov = coverage(
          vectors,
          trainTokens.flatMap((toks) => toks.map((t) => this.wordKey(t.text))),
        );
        vectorInfo = {
          source: vectors.source,
          dim: vectors.dim,
          frozen: cfg.vectors?.frozen ?? false,
          rowsFilled: filled,
          tokenCoverage: cov.tokenRate,
          typeCoverage: cov.typeRate,
          topMissing: cov.topMissing.slice(0, 10),
        };
      }
      const trainSet = train.map((ex, i) => this.encode(trainTokens[i]!, tagSet, ex));
      const devPrepared = devSet?.map((_ex, i) => ({
        tokens: devTokens[i]!,
        enc: this.encode(devTokens[i]!),
      }));
      const devGold = devSet?.map((ex, i) => tagSet.encode(devTokens[i]!, ex.spans ?? []).tags);
      const params = net.params();
      const adam = new Adam(params);
      const batchesPerEpoch = Math.ceil(trainSet.length / cfg.batchSize);
      const totalSteps = cfg.epochs * batchesPerEpoch;
      const schedule: Schedule =
        cfg.schedule === 'linear'
          ? linearWarmupDecay({
              lr: cfg.learningRate,
              warmupSteps: Math.min(cfg.warmupSteps, totalSteps),
              totalSteps,
              finalLr: cfg.finalLearningRate,
            })
          : constantSchedule(cfg.learningRate);
      const rng = createRng(cfg.seed);
      let best: Float32Array[] | null = null;
      let bestScore = Number.NEGATIVE_INFINITY;
      let bestEpoch = 0;
      let sinceBest = 0;
      let epoch = 0;
      let lastLoss = Number.NaN;
      let stoppedEarly = false;
      let timeLimitReached = false;
      const started = Date.now();
      let tokens = 0;
      while (epoch < cfg.epochs) {
        epoch++;
        const order = rng.fork(`shuffle.${epoch}`).shuffle(trainSet.map((_, i) => i));
        const dropWords = rng.fork(`word-dropout.${epoch}`);
        let loss = 0;
        for (let at = 0; at < order.length; at += cfg.batchSize) {
          const batch = order
            .slice(at, at + cfg.batchSize)
            .map((i) => this.withWordDropout(trainSet[i]!, dropWords));
          for (const s of batch) tokens += s.w.length;
          loss += await runner.lossAndGrad(batch);
          if (cfg.clipNorm > 0) clipGradNorm(params, cfg.clipNorm);
          adam.step(schedule(adam.steps));
        }
        lastLoss = loss / trainSet.length;
        let devScore: number | undefined;
        if (devPrepared && devGold) {
          this.net = net;
          devScore = entityF1(tagSet, devGold, this.decode(devPrepared));
          this.net = null;
          if (devScore > bestScore) {
            bestScore = devScore;
            bestEpoch = epoch;
            best = snapshot(params);
            sinceBest = 0;
          } else sinceBest++;
        }
        options.onProgress?.({ epoch, epochs: cfg.epochs, loss: lastLoss, devScore });
        if (cfg.patience > 0 && devPrepared && sinceBest >= cfg.patience && epoch < cfg.epochs) {
          stoppedEarly = true;
          break;
        }
        if (cfg.timeLimit > 0 && (Date.now() - started) / 1000 >= cfg.timeLimit && epoch < cfg.epochs) {
          stoppedEarly = true;
          timeLimitReached = true;
          break;
        }
        if (options.signal?.aborted) {
          throw new SapphireError('BAD_INPUT', 'training was cancelled', {
            hint: 'the abort signal passed to fit() fired; start training again to get a model',
          });
        }
        await yieldToEventLoop();
      }
      if (best) restore(params, best);
      this.net = net;
      const seconds = (Date.now() - started) / 1000;
      this.trainingInfo = {
        epochs: epoch,
        finalLoss: lastLoss,
        stoppedEarly,
        ...(timeLimitReached ? { timeLimitReached } : {}),
        ...(devPrepared ? { bestEpoch, bestDevScore: bestScore } : {}),
        words: this.words.length,
        chars: this.chars.length,
        parameters: countParams(params),
        threads: runner.threads,
        gemm: process.env.SAPPHIRE_GEMM === 'js' ? 'js' : 'wasm',
        trainTokensPerSecond: seconds > 0 ? Math.round(tokens / seconds) : undefined,
        ...(vectorInfo ? { vectors: vectorInfo } : {}),
      };
      return {
        epochs: epoch,
        ...(devPrepared ? { bestDevScore: bestScore } : {}),
        info: this.trainingInfo,
      };
    } finally {
      await runner.close();
    }
  }

  /** A copy of `s` with each known word replaced by the unknown word with probability `wordDropout`. */
  private withWordDropout(s: EncodedSentence, rng: Rng): EncodedSentence {
    const p = this.cfg.wordDropout;
    if (p <= 0) return s;
    return { ...s, w: s.w.map((id) => (rng.next() < p ? 0 : id)) };
  }

  private ready(): TaggerNetwork {
    if (!this.net) throw new NotFittedError(this.name);
    return this.net;
  }

  /** Indices of the non-empty prepared sentences, in chunks of {@link PREDICT_BATCH}. */
  private chunks(prepared: readonly Prepared[]): number[][] {
    const out: number[][] = [];
    for (let from = 0; from < prepared.length; from += PREDICT_BATCH) {
      const idx: number[] = [];
      for (let i = from; i < Math.min(from + PREDICT_BATCH, prepared.length); i++) {
        if (prepared[i]!.enc.w.length > 0) idx.push(i);
      }
      if (idx.length > 0) out.push(idx);
    }
    return out;
  }

  /** Viterbi-decodes one chunk's emissions; calls `each` with the tag path of each sentence. */
  private decodeChunk(
    net: TaggerNetwork,
    idx: readonly number[],
    out: Emissions,
    each: (i: number, em: Emissions, b: number, path: Int32Array) => void,
  ): void {
    const best = net.crf.decode(out.em, out.seq);
    const B = out.seq.B;
    idx.forEach((i, b) => {
      const L = out.seq.lengths[b]!;
      const path = new Int32Array(L);
      for (let t = 0; t < L; t++) path[t] = best[t * B + b]!;
      each(i, out, b, path);
    });
  }

  /** Runs the network on prepared sentences in chunks; calls `each` with the emissions of each non-empty one. */
  private run(
    prepared: readonly Prepared[],
    each: (i: number, em: Emissions, b: number, path: Int32Array) => void,
  ): void {
    const net = this.ready();
    for (const idx of this.chunks(prepared)) {
      const out = net.forward(
        idx.map((i) => prepared[i]!.enc),
        false,
      );
      this.decodeChunk(net, idx, out, each);
    }
  }

  /** Viterbi tag ids of each prepared sentence (empty for empty sentences). */
  private decode(prepared: readonly Prepared[]): Int32Array[] {
    const paths = prepared.map((): Int32Array => new Int32Array(0));
    this.run(prepared, (i, _out, _b, path) => {
      paths[i] = path;
    });
    return paths;
  }

  private prepare(inputs: readonly ModelInput[]): Prepared[] {
    return inputs.map((input) => {
      const tokens = tokensOf(input);
      return { tokens, enc: this.encode(tokens) };
    });
  }

  /** Predicts entities for every input, with exact span probabilities as confidences. */
  predict(inputs: ModelInput[]): Prediction[] {
    return predictNative(this.onnxScoring(inputs));
  }

  /** The emission graph of the fitted network (inputs word/char ids, output emissions; see tagger-graph.ts). */
  toOnnx(): OnnxGraph {
    const net = this.ready();
    return {
      bytes: buildTaggerGraph(net, { architecture: this.name, tags: net.tagSet.tags }),
      output: EMISSIONS,
    };
  }

  /**
   * The scoring of `inputs` in chunks of non-empty sentences: the graph's feeds (time-major, padded
   * with the vocabularies' sizes), the network's own emissions, and the CRF decoding of either.
   */
  onnxScoring(inputs: readonly ModelInput[]): OnnxScoringJob {
    const net = this.ready();
    const prepared = this.prepare(inputs);
    const chunks = this.chunks(prepared);
    const sentences = (c: number) => chunks[c]!.map((i) => prepared[i]!.enc);
    return {
      batches: chunks.length,
      feeds: (c) => taggerFeeds(sentences(c), this.words.length, this.chars.length, net.chars !== undefined),
      nativeScores: (c) => net.forward(sentences(c), false).em,
      finish: (scores) => {
        const out: Prediction[] = prepared.map(() => ({ spans: [] }));
        chunks.forEach((idx, c) => {
          const seq = seqBatch(idx.map((i) => prepared[i]!.enc.w.length));
          this.decodeChunk(net, idx, { seq, em: scores[c]! }, (i, em, b, path) => {
            out[i] = { spans: spansOf(net, prepared[i]!.tokens, em, b, path) };
          });
        });
        return out;
      },
    };
  }

  /**
   * A simple explanation per predicted entity: the emission score of each entity token for its tag
   * and the CRF transition scores around and inside the entity (largest magnitude first). It is not
   * an attribution to input features.
   */
  explain(input: ModelInput, topK = 10): Explanation[] {
    const net = this.ready();
    const prepared = this.prepare([input]);
    const tags = net.tagSet;
    const K = tags.size;
    const result: Explanation[] = [];
    this.run(prepared, (_i, { em, seq }, b, path) => {
      const tokens = prepared[0]!.tokens;
      const trans = net.crf.trans.value;
      for (const e of tags.decode(path) as TokenSpan[]) {
        const items: FeatureContribution[] = [];
        for (let t = e.first; t <= e.last; t++) {
          const y = path[t]!;
          items.push({
            feature: `emission "${tokens[t]!.text}" → ${tags.tags[y]}`,
            weight: em[(t * seq.B + b) * K + y]!,
          });
          const from = t > 0 ? tags.tags[path[t - 1]!] : '<start>';
          const w = t > 0 ? trans[path[t - 1]! * K + y]! : net.crf.start.value[y]!;
          items.push({ feature: `transition ${from} → ${tags.tags[y]}`, weight: w });
        }
        const last = path[e.last]!;
        items.push(
          e.last + 1 < path.length
            ? {
                feature: `transition ${tags.tags[last]} → ${tags.tags[path[e.last + 1]!]}`,
                weight: trans[last * K + path[e.last + 1]!]!,
              }
            : { feature: `transition ${tags.tags[last]} → <end>`, weight: net.crf.end.value[last]! },
        );
        const start = tokens[e.first]!.start;
        const end = tokens[e.last]!.end;
        result.push({
          target: `${tags.types[e.type]} "${input.text.slice(start, end)}" [${start}, ${end})`,
          contributions: items
            .sort((a, c) => Math.abs(c.weight) - Math.abs(a.weight) || a.feature.localeCompare(c.feature))
            .slice(0, topK),
        });
      }
    });
    return result;
  }

  /** Writes model.json (manifest + filled config + labels), vocab.json and weights.bin. */
  async save(dir: string): Promise<void> {
    const net = this.ready();
    await mkdir(dir, { recursive: true });
    const params = net.params();
    await writeFile(join(dir, WEIGHTS_FILE), encodeParams(params));
    await writeFile(join(dir, VOCAB_FILE), `${JSON.stringify({ words: this.words, chars: this.chars })}\n`);
    const manifest = {
      architecture: this.name,
      formatVersion: NEURAL_TAGGER_FORMAT_VERSION,
      config: this.cfg,
      labels: net.tagSet.tags,
      entityTypes: net.tagSet.types,
      scheme: net.tagSet.scheme,
      vocabulary: { file: VOCAB_FILE, words: this.words.length, chars: this.chars.length },
      weights: {
        file: WEIGHTS_FILE,
        encoding: 'sapphire-params-float32-le',
        parameters: countParams(params),
      },
      training: this.trainingInfo,
    };
    await writeFile(join(dir, MODEL_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  }

  private async restore(dir: string): Promise<void> {
    const manifestFile = join(dir, MODEL_MANIFEST);
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as {
      formatVersion?: number;
      labels?: string[];
      training?: Record<string, unknown>;
    };
    if (manifest.formatVersion !== NEURAL_TAGGER_FORMAT_VERSION) {
      throw new SapphireError(
        'INCOMPATIBLE_VERSION',
        `${manifestFile} has formatVersion ${manifest.formatVersion}; ${this.name} needs formatVersion ${NEURAL_TAGGER_FORMAT_VERSION}`,
        { file: manifestFile, hint: 'retrain the model, or load it with the Sapphire release that wrote it' },
      );
    }
    if (!Array.isArray(manifest.labels)) {
      throw new DataError('model.json has no "labels" list', {
        file: manifestFile,
        hint: 'save the model again',
      });
    }
    const tagSet = tagSetFromTags(manifest.labels, this.cfg.scheme, manifestFile);
    const vocabFile = join(dir, VOCAB_FILE);
    const vocab = JSON.parse(await readFile(vocabFile, 'utf8')) as { words?: unknown; chars?: unknown };
    const isStrings = (x: unknown): x is string[] =>
      Array.isArray(x) && x.every((s) => typeof s === 'string');
    if (!isStrings(vocab.words) || !isStrings(vocab.chars)) {
      throw new DataError('vocab.json needs "words" and "chars" lists of strings', {
        file: vocabFile,
        hint: 'the model directory is damaged; save the model again',
      });
    }
    this.words = vocab.words;
    this.wordIndex = new Map(this.words.map((w, i) => [w, i]));
    this.chars = vocab.chars;
    this.charIndex = new Map(this.chars.map((c, i) => [c, i]));
    const net = createTaggerNetwork(this.networkOptions([...tagSet.types]));
    const weightsFile = join(dir, WEIGHTS_FILE);
    decodeParamsInto(net.params(), await readFile(weightsFile), weightsFile);
    this.net = net;
    this.trainingInfo = manifest.training ?? {};
  }
}

/** The entities of one decoded sentence, with the exact CRF probability of each as its confidence. */
function spansOf(
  net: TaggerNetwork,
  tokens: readonly Token[],
  { em, seq }: Emissions,
  b: number,
  path: Int32Array,
): PredictedSpan[] {
  return net.tagSet.decode(path).map((e): PredictedSpan => {
    const entityTags = Array.from(path.subarray(e.first, e.last + 1));
    let score = net.crf.pathProbability(em, seq, b, e.first, entityTags);
    if (e.last + 1 < path.length) {
      for (const c of net.tagSet.continuationTags(e.type)) {
        score -= net.crf.pathProbability(em, seq, b, e.first, [...entityTags, c]);
      }
    }
    return {
      start: tokens[e.first]!.start,
      end: tokens[e.last]!.end,
      label: net.tagSet.types[e.type]!,
      score: Math.min(1, Math.max(0, score)),
    };
  });
}

/** The tagger graph's feeds for a chunk of non-empty sentences (see tagger-graph.ts). */
function taggerFeeds(
  sentences: readonly EncodedSentence[],
  wordPad: number,
  charPad: number,
  withChars: boolean,
): OnnxFeeds {
  const { ids, seq } = timeMajorIds(sentences.map((s) => s.w));
  const { T, B } = seq;
  const words = new BigInt64Array(T * B);
  for (let r = 0; r < ids.length; r++) words[r] = BigInt(ids[r]! < 0 ? wordPad : ids[r]!);
  const feeds: OnnxFeeds = {
    word_ids: { type: 'int64', data: words, dims: [T, B] },
    lengths: { type: 'int32', data: Int32Array.from(seq.lengths), dims: [B] },
  };
  if (withChars) {
    let C = 1;
    for (const s of sentences) for (const cs of s.c) C = Math.max(C, cs.length);
    const chars = new BigInt64Array(T * B * C).fill(BigInt(charPad));
    sentences.forEach((s, b) => {
      s.c.forEach((cs, t) => {
        const at = (t * B + b) * C;
        for (let k = 0; k < cs.length; k++) chars[at + k] = BigInt(cs[k]!);
      });
    });
    feeds.char_ids = { type: 'int64', data: chars, dims: [T, B, C] };
  }
  return feeds;
}

function snapshot(params: readonly Param[]): Float32Array[] {
  return params.map((p) => Float32Array.from(p.value));
}

function restore(params: readonly Param[], values: readonly Float32Array[]): void {
  params.forEach((p, i) => {
    p.value.set(values[i]!);
  });
}
