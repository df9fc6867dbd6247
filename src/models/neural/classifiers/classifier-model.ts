/**
 * The neural text classifiers `embedding-bag.v1` and `text-cnn.v1` as registered models: config with
 * defaults, data-parallel Adam training with clipping, schedules and early stopping on dev, pretrained
 * vectors, save/load (manifest + vocabulary + engine parameter file), probabilities and occlusion
 * explanations.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { NotFittedError, SapphireError } from '../../../core/errors.ts';
import { createRng } from '../../../core/rng.ts';
import type { Example } from '../../../data/types.ts';
import { collectLabels } from '../../linear/check-labels.ts';
import { readManifest, writeManifest } from '../../linear/saved-model.ts';
import { tuneThresholds } from '../../linear/thresholds.ts';
import {
  type Explanation,
  type FitOptions,
  type FitReport,
  type LabelScore,
  type Model,
  type ModelInput,
  type Prediction,
  topContributions,
} from '../../model.ts';
import { buildClassifierGraph, LOGITS } from '../../onnx/export/classifier-graph.ts';
import {
  type OnnxFeeds,
  type OnnxGraph,
  type OnnxScoringJob,
  paddedIds,
  predictNative,
} from '../../onnx/scoring.ts';
import { DataParallel } from '../engine/data-parallel.ts';
import { Adam, clipGradNorm, constantSchedule, linearWarmupDecay } from '../engine/optim.ts';
import { decodeParamsInto, encodeParams } from '../engine/serialize.ts';
import type { Param } from '../engine/tensor.ts';
import {
  coverage,
  fillEmbedding,
  loadVectors,
  vectorsFromJson,
  WINK_PACKAGE,
  type WordVectors,
} from '../vectors.ts';
import { type ClassifierConfig, parseClassifierConfig } from './config.ts';
import { buildVocabulary, encodeWords, type FeatureSettings, wordsOf } from './features.ts';
import {
  type ClassifierNetwork,
  type ClassifierNetworkOptions,
  createClassifierNetwork,
  type EncodedDoc,
  probabilitiesFromLogits,
} from './network.ts';

/** Registered name of the fastText-style classifier. */
export const EMBEDDING_BAG_V1 = 'embedding-bag.v1';
/** Registered name of the Kim-style CNN classifier. */
export const TEXT_CNN_V1 = 'text-cnn.v1';
/** Format version of saved neural classifier directories. */
export const NEURAL_CLASSIFIER_FORMAT_VERSION = 1;

const WEIGHTS_FILE = 'weights.bin';
const VOCAB_FILE = 'vocab.json';
const PREDICT_BATCH = 256;

/** A trained classifier: network, vocabulary, labels and (multilabel) thresholds. */
interface Fitted {
  net: ClassifierNetwork;
  vocab: string[];
  index: Map<string, number>;
  labels: string[];
  thresholds: Float32Array | null;
}

/**
 * A neural text classifier (`embedding-bag.v1` or `text-cnn.v1`) trained with the engine of ADR 0008.
 *
 * @example
 * const model = new NeuralClassifier('embedding-bag', { epochs: 20 });
 * await model.fit(train, dev, { seed: 1 });
 * model.predict([{ text: 'my card has not arrived' }])[0]?.scores; // every class, best first
 */
export class NeuralClassifier implements Model {
  readonly name: string;
  readonly task: 'classify' | 'multilabel';
  private cfg: ClassifierConfig;
  private readonly dimGiven: boolean;
  private fitted: Fitted | null = null;

  /** An untrained model; throws ConfigError for an invalid config. */
  constructor(
    readonly kind: 'embedding-bag' | 'text-cnn',
    config: Record<string, unknown> = {},
  ) {
    this.name = kind === 'embedding-bag' ? EMBEDDING_BAG_V1 : TEXT_CNN_V1;
    this.cfg = parseClassifierConfig(kind, config);
    this.task = this.cfg.task;
    this.dimGiven = config.dim !== undefined;
  }

  /** Loads a directory written by {@link NeuralClassifier.save}; refuses other format versions. */
  static async load(kind: 'embedding-bag' | 'text-cnn', dir: string): Promise<NeuralClassifier> {
    const name = kind === 'embedding-bag' ? EMBEDDING_BAG_V1 : TEXT_CNN_V1;
    const manifest = await readManifest(dir, name, NEURAL_CLASSIFIER_FORMAT_VERSION);
    const model = new NeuralClassifier(kind, manifest.config);
    const vocabPath = join(dir, VOCAB_FILE);
    const vocab = JSON.parse(await readFile(vocabPath, 'utf8')) as string[];
    if (!Array.isArray(vocab) || vocab.length === 0) {
      throw new SapphireError('DATA_INVALID', `${vocabPath} is not a vocabulary list`, {
        file: vocabPath,
        hint: 'the model directory is damaged; save the model again',
      });
    }
    const net = createClassifierNetwork(model.networkOptions(vocab.length, manifest.labels.length, false));
    const weightsPath = join(dir, WEIGHTS_FILE);
    decodeParamsInto(net.params(), await readFile(weightsPath), weightsPath);
    const thresholds = Array.isArray(manifest.thresholds)
      ? Float32Array.from(manifest.thresholds as number[])
      : null;
    model.fitted = {
      net,
      vocab,
      index: new Map(vocab.map((w, i) => [w, i])),
      labels: manifest.labels,
      thresholds,
    };
    return model;
  }

  /** The filled configuration (after fit: with the seed used and the dimension taken from the vectors). */
  config(): Record<string, unknown> {
    const { kind: _kind, ...rest } = this.cfg;
    return structuredClone(rest) as unknown as Record<string, unknown>;
  }

  /** Trains on `train`; `dev` drives early stopping and (multilabel) per-label thresholds. */
  async fit(train: Example[], dev?: Example[], options: FitOptions = {}): Promise<FitReport> {
    const labels = collectLabels(train, this.task, 'train', this.name);
    const devSet = dev && dev.length > 0 ? dev : undefined;
    if (devSet) collectLabels(devSet, this.task, 'dev', this.name, false);
    const seed = options.seed ?? this.cfg.seed;
    this.cfg = { ...this.cfg, seed };
    const cfg = this.cfg;
    const trainWords = train.map((ex) => wordsOf(ex, cfg.lowercase));
    const info: Record<string, unknown> = { examples: train.length, labels: labels.length };

    let vectors: WordVectors | undefined;
    if (cfg.vectors) {
      vectors = await this.loadConfiguredVectors(trainWords);
      if (!this.dimGiven) this.cfg = { ...this.cfg, dim: vectors.dim };
      const report = coverage(vectors, trainWords.flat());
      info.vectors = {
        source: vectors.source,
        dim: vectors.dim,
        frozen: cfg.vectors.frozen,
        tokenRate: report.tokenRate,
        typeRate: report.typeRate,
        topMissing: report.topMissing.slice(0, 10),
      };
    }
    const vecs = vectors;
    const vocab = buildVocabulary(trainWords, cfg.minWordCount, (w) =>
      vecs ? vecs.index.has(w) || vecs.index.has(w.toLowerCase()) : false,
    );
    const index = new Map(vocab.map((w, i) => [w, i]));
    const labelIndex = new Map(labels.map((l, k) => [l, k]));
    const encode = (ex: Example, words: string[]): EncodedDoc => ({
      ...encodeWords(words, index, this.featureSettings()),
      targets: (ex.labels ?? []).flatMap((l) => labelIndex.get(l) ?? []),
    });
    const docs = train.map((ex, i) => encode(ex, trainWords[i]!));
    const devDocs = devSet?.map((ex) => encode(ex, wordsOf(ex, this.cfg.lowercase)));

    const netOptions = this.networkOptions(vocab.length, labels.length, cfg.vectors?.frozen ?? false);
    const dp = await DataParallel.start(
      {
        module: new URL('./network.ts', import.meta.url).href,
        factory: 'createClassifierNetwork',
        options: netOptions,
      },
      { threads: cfg.threads },
    );
    const net = dp.model as ClassifierNetwork;
    if (vectors) info.vectorsFilled = fillEmbedding(net.words, vocab, vectors);
    const params = net.params();
    let epochsRun = 0;
    let bestDevScore: number | undefined;
    let finalLoss = 0;
    try {
      const adam = new Adam(params);
      const batchesPerEpoch = Math.ceil(docs.length / cfg.batchSize);
      const schedule =
        cfg.schedule === 'linear'
          ? linearWarmupDecay({
              lr: cfg.learningRate,
              warmupSteps: Math.min(cfg.warmupSteps, cfg.epochs * batchesPerEpoch),
              totalSteps: cfg.epochs * batchesPerEpoch,
              finalLr: cfg.finalLearningRate,
            })
          : constantSchedule(cfg.learningRate);
      const shuffleRng = createRng(seed).fork('shuffle');
      let best: Float32Array[] | undefined;
      let sinceBest = 0;
      const order = [...docs.keys()];
      const started = performance.now();
      for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
        shuffleRng.shuffle(order);
        let loss = 0;
        for (let s = 0; s < order.length; s += cfg.batchSize) {
          const batch = order.slice(s, s + cfg.batchSize).map((i) => docs[i]!);
          loss += await dp.lossAndGrad(batch);
          scaleGrads(params, 1 / batch.length);
          if (cfg.clipNorm > 0) clipGradNorm(params, cfg.clipNorm);
          adam.step(schedule(adam.steps));
        }
        finalLoss = loss / Math.max(1, docs.length);
        epochsRun = epoch;
        let devScore: number | undefined;
        if (devDocs && devSet) {
          devScore = this.scoreDocs(net, devDocs, labels.length, null);
          if (bestDevScore === undefined || devScore > bestDevScore) {
            bestDevScore = devScore;
            best = params.map((p) => Float32Array.from(p.value));
            sinceBest = 0;
          } else {
            sinceBest++;
          }
        }
        options.onProgress?.({
          epoch,
          epochs: cfg.epochs,
          loss: finalLoss,
          devScore,
          message: `${this.name}: epoch ${epoch}`,
        });
        await yieldToEventLoop();
        options.signal?.throwIfAborted();
        if (cfg.patience > 0 && sinceBest >= cfg.patience) break;
        if (
          cfg.timeLimit > 0 &&
          (performance.now() - started) / 1000 >= cfg.timeLimit &&
          epoch < cfg.epochs
        ) {
          info.timeLimitReached = true;
          break;
        }
      }
      if (best) {
        for (const [i, p] of params.entries()) p.value.set(best[i]!);
      }
    } finally {
      await dp.close();
    }

    let thresholds: Float32Array | null = null;
    if (this.task === 'multilabel') {
      const K = labels.length;
      thresholds = new Float32Array(K).fill(cfg.multilabel.threshold);
      if (devDocs && cfg.multilabel.tuneOnDev) {
        const member = new Uint8Array(devDocs.length * K);
        devDocs.forEach((d, i) => {
          for (const k of d.targets) member[i * K + k] = 1;
        });
        thresholds = tuneThresholds(
          this.probabilitiesOf(net, devDocs),
          member,
          devDocs.length,
          K,
          cfg.multilabel.threshold,
        );
      }
    }
    this.fitted = { net, vocab, index, labels, thresholds };
    info.vocabulary = vocab.length;
    info.finalLoss = finalLoss;
    info.threads = cfg.threads;
    const report: FitReport = { epochs: epochsRun, info };
    if (devDocs) report.bestDevScore = this.scoreDocs(net, devDocs, labels.length, thresholds);
    return report;
  }

  /** Every class with its probability, best first; the chosen label(s) in `labels`. */
  predict(inputs: ModelInput[]): Prediction[] {
    return predictNative(this.onnxScoring(inputs));
  }

  /** The logits graph of the fitted network (inputs word/n-gram ids, output logits; see classifier-graph.ts). */
  toOnnx(): OnnxGraph {
    const fitted = this.requireFitted();
    return {
      bytes: buildClassifierGraph(fitted.net, { architecture: this.name, labels: fitted.labels }),
      output: LOGITS,
    };
  }

  /** The scoring of `inputs` in chunks: padded id feeds, the network's own logits, and labels from either. */
  onnxScoring(inputs: readonly ModelInput[]): OnnxScoringJob {
    const fitted = this.requireFitted();
    const docs = inputs.map((input) => this.encodeInput(fitted, wordsOf(input, this.cfg.lowercase)));
    const chunk = (c: number) => docs.slice(c * PREDICT_BATCH, (c + 1) * PREDICT_BATCH);
    const { vocabSize, buckets } = fitted.net.opts;
    const K = fitted.labels.length;
    return {
      batches: Math.ceil(docs.length / PREDICT_BATCH),
      feeds: (c) => {
        const batch = chunk(c);
        const feeds: OnnxFeeds = {
          word_ids: paddedIds(
            batch.map((d) => d.words),
            vocabSize,
          ),
        };
        if (this.cfg.kind === 'embedding-bag' && buckets > 0) {
          feeds.gram_ids = paddedIds(
            batch.map((d) => d.grams),
            buckets,
          );
        }
        return feeds;
      },
      nativeScores: (c) => fitted.net.logits(chunk(c), false),
      finish: (scores) => {
        const probs = new Float64Array(docs.length * K);
        scores.forEach((z, c) => {
          const n = Math.min(PREDICT_BATCH, docs.length - c * PREDICT_BATCH);
          probs.set(probabilitiesFromLogits(z, n, K, this.task === 'multilabel'), c * PREDICT_BATCH * K);
        });
        return docs.map((_, i) => this.predictionOf(fitted, probs.subarray(i * K, i * K + K)));
      },
    };
  }

  /** Labels and scores of one input from its probabilities. */
  private predictionOf(fitted: Fitted, p: Float64Array): Prediction {
    const order = [...p.keys()].sort((a, b) => p[b]! - p[a]! || a - b);
    const scores: LabelScore[] = order.map((k) => ({ label: fitted.labels[k]!, score: p[k]! }));
    const labels =
      this.task === 'multilabel'
        ? order.filter((k) => p[k]! >= fitted.thresholds![k]!).map((k) => fitted.labels[k]!)
        : [fitted.labels[order[0]!]!];
    return { labels, scores };
  }

  /**
   * Occlusion explanation: for each predicted label (the best one when none is predicted), the words
   * whose removal (every occurrence) lowers that label's probability most, with the drop as weight.
   */
  explain(input: ModelInput, topK = 10): Explanation[] {
    const fitted = this.requireFitted();
    const words = wordsOf(input, this.cfg.lowercase);
    const [prediction] = this.predict([input]);
    const targets = prediction!.labels!.length > 0 ? prediction!.labels! : [prediction!.scores![0]!.label];
    const types = [...new Set(words)];
    const docs = [words, ...types.map((t) => words.filter((w) => w !== t))].map((ws) =>
      this.encodeInput(fitted, ws),
    );
    const probs = this.probabilitiesOf(fitted.net, docs);
    const K = fitted.labels.length;
    return targets.map((target) => {
      const k = fitted.labels.indexOf(target);
      const base = probs[k]!;
      const contributions = topContributions(
        types.map((feature, i) => ({ feature, weight: base - probs[(i + 1) * K + k]! })),
        topK,
      );
      return { target, contributions };
    });
  }

  /** Writes `model.json` (filled config, labels, thresholds), `vocab.json` and `weights.bin` into `dir`. */
  async save(dir: string): Promise<void> {
    const fitted = this.requireFitted();
    await writeManifest(dir, {
      architecture: this.name,
      formatVersion: NEURAL_CLASSIFIER_FORMAT_VERSION,
      config: this.config(),
      labels: fitted.labels,
      thresholds: fitted.thresholds ? Array.from(fitted.thresholds) : null,
      vocabulary: fitted.vocab.length,
      files: { weights: WEIGHTS_FILE, vocabulary: VOCAB_FILE },
    });
    await writeFile(join(dir, VOCAB_FILE), JSON.stringify(fitted.vocab));
    await writeFile(join(dir, WEIGHTS_FILE), encodeParams(fitted.net.params()));
  }

  private requireFitted(): Fitted {
    if (!this.fitted) throw new NotFittedError(`${this.name} model`);
    return this.fitted;
  }

  private featureSettings(): FeatureSettings {
    const cfg = this.cfg;
    if (cfg.kind !== 'embedding-bag')
      return { lowercase: cfg.lowercase, charNgrams: null, wordBigrams: false, buckets: 0 };
    const on = cfg.charNgrams !== null || cfg.wordBigrams;
    return {
      lowercase: cfg.lowercase,
      charNgrams: cfg.charNgrams,
      wordBigrams: cfg.wordBigrams,
      buckets: on ? cfg.buckets : 0,
    };
  }

  private networkOptions(vocabSize: number, labels: number, frozenWords: boolean): ClassifierNetworkOptions {
    const cfg = this.cfg;
    return {
      kind: cfg.kind,
      vocabSize,
      buckets: this.featureSettings().buckets,
      dim: cfg.dim,
      labels,
      multilabel: this.task === 'multilabel',
      dropout: cfg.dropout,
      widths: cfg.kind === 'text-cnn' ? cfg.widths : [],
      filters: cfg.kind === 'text-cnn' ? cfg.filters : 0,
      seed: cfg.seed,
      frozenWords,
    };
  }

  private encodeInput(fitted: Fitted, words: string[]): EncodedDoc {
    return { ...encodeWords(words, fitted.index, this.featureSettings()), targets: [] };
  }

  /** Probabilities of `docs` ([n × K]), in chunks. */
  private probabilitiesOf(net: ClassifierNetwork, docs: EncodedDoc[]): Float64Array {
    const K = net.opts.labels;
    const out = new Float64Array(docs.length * K);
    for (let s = 0; s < docs.length; s += PREDICT_BATCH) {
      out.set(net.probabilities(docs.slice(s, s + PREDICT_BATCH)), s * K);
    }
    return out;
  }

  /** Accuracy (classify) or micro-F1 at the thresholds (multilabel, default threshold when null). */
  private scoreDocs(
    net: ClassifierNetwork,
    docs: EncodedDoc[],
    K: number,
    thresholds: Float32Array | null,
  ): number {
    const p = this.probabilitiesOf(net, docs);
    if (this.task === 'classify') {
      let correct = 0;
      docs.forEach((d, i) => {
        let best = 0;
        for (let k = 1; k < K; k++) if (p[i * K + k]! > p[i * K + best]!) best = k;
        if (d.targets[0] === best) correct++;
      });
      return correct / Math.max(1, docs.length);
    }
    let tp = 0;
    let fp = 0;
    let fn = 0;
    docs.forEach((d, i) => {
      const gold = new Set(d.targets);
      for (let k = 0; k < K; k++) {
        const predicted = p[i * K + k]! >= (thresholds ? thresholds[k]! : this.cfg.multilabel.threshold);
        if (predicted && gold.has(k)) tp++;
        else if (predicted) fp++;
        else if (gold.has(k)) fn++;
      }
    });
    return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }

  /** Loads the configured vectors, keeping only training words (and their lowercase forms). */
  private async loadConfiguredVectors(trainWords: string[][]): Promise<WordVectors> {
    const v = this.cfg.vectors!;
    const opts = { vocab: new Set(trainWords.flat()), lowercase: true };
    if (v.json) return vectorsFromJson(v.json, 'config vectors.json', opts);
    if (v.wink) return loadVectors(WINK_PACKAGE, opts);
    return loadVectors(v.path!, opts);
  }
}

/** Multiplies every live gradient (touched rows of sparse tables) by `factor`. */
function scaleGrads(params: readonly Param[], factor: number): void {
  for (const p of params) {
    if (p.frozen) continue;
    const g = p.grad;
    if (p.rowSize !== undefined && p.touchedRows) {
      const w = p.rowSize;
      for (const r of p.touchedRows) for (let j = r * w; j < r * w + w; j++) g[j] = g[j]! * factor;
    } else {
      for (let j = 0; j < g.length; j++) g[j] = g[j]! * factor;
    }
  }
}
