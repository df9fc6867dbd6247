import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { NotFittedError, SapphireError } from '../../core/errors.ts';
import type { Example } from '../../data/types.ts';
import { tokenize } from '../../text/tokenizer.ts';
import {
  type Explanation,
  type FitOptions,
  type FitReport,
  type LabelScore,
  type Model,
  type ModelInput,
  type Prediction,
  topContributions,
} from '../model.ts';
import { buildLinearGraph, SCORES } from '../onnx/export/linear-graph.ts';
import type { OnnxGraph, OnnxScoringJob } from '../onnx/scoring.ts';
import { collectLabels } from './check-labels.ts';
import { type LinearConfig, parseLinearConfig } from './config.ts';
import { HashedTfidfFeaturizer } from './featurizer.ts';
import { readManifest, writeManifest } from './saved-model.ts';
import { SeededRandom } from './seeded-random.ts';
import { type SparseRow, type SparseRows, selectRows, stackRows } from './sparse.ts';
import { fitMarginScale, tuneThresholds } from './thresholds.ts';
import { trainLogisticSgd } from './train-sgd.ts';
import { type LinearWeights, trainOneVsRestSvm } from './train-svm.ts';
import { decodeWeights, encodeWeights } from './weights-file.ts';

/** Registered name of the linear family's first architecture. */
export const LINEAR_V1 = 'linear.v1';
/** Format version of saved linear.v1 directories (manifest and weights file). */
export const LINEAR_FORMAT_VERSION = 1;

const WEIGHTS_FILE = 'weights.bin';
const FEATURES_FILE = 'features.json';
/** Inputs per scoring batch. */
const LINEAR_BATCH = 256;

/** A trained linear model: featurizer, weights and what turns scores into probabilities and labels. */
interface FittedLinear {
  labels: string[];
  featurizer: HashedTfidfFeaturizer;
  weights: Float32Array;
  bias: Float32Array;
  /** Multi-label: per-label probability thresholds. */
  thresholds: Float32Array | null;
  /** Hinge: probabilities are softmax/sigmoid of `marginScale × margin`. */
  marginScale: number;
}

/** Labelled training data in the shape the trainers want. */
interface Targets {
  classOf: Int32Array;
  member: Uint8Array;
}

function wordsOf(input: ModelInput): string[] {
  return (input.tokens ?? tokenize(input.text)).map((t) => t.text);
}

/**
 * Linear text classifier over hashed word and character n-gram TF-IDF features: multinomial logistic
 * regression (SGD) or one-vs-rest squared-hinge SVM (dual coordinate descent, as LIBLINEAR); multi-label via
 * one-vs-rest with per-label thresholds tuned for F1.
 *
 * @example
 * const model = new LinearModel({ loss: 'hinge' });
 * await model.fit(train, dev, { seed: 1 });
 * model.predict([{ text: 'my card has not arrived' }])[0]?.labels; // ['card_arrival']
 */
export class LinearModel implements Model {
  readonly name = LINEAR_V1;
  readonly task: 'classify' | 'multilabel';
  private readonly cfg: LinearConfig;
  private fitted: FittedLinear | null = null;

  /** An untrained model; throws ConfigError for an invalid config. */
  constructor(config: Record<string, unknown> = {}) {
    this.cfg = parseLinearConfig(config);
    this.task = this.cfg.task;
  }

  /** Loads a directory written by {@link LinearModel.save}; refuses other format versions. */
  static async load(dir: string): Promise<LinearModel> {
    const manifest = await readManifest(dir, LINEAR_V1, LINEAR_FORMAT_VERSION);
    const model = new LinearModel(manifest.config);
    const weightsPath = join(dir, WEIGHTS_FILE);
    const data = decodeWeights(await readFile(weightsPath), LINEAR_FORMAT_VERSION, weightsPath);
    const featuresPath = join(dir, FEATURES_FILE);
    const names = JSON.parse(await readFile(featuresPath, 'utf8')) as string[];
    const K = manifest.labels.length;
    const mismatch =
      data.nClasses !== K
        ? `${K} labels in the manifest, ${data.nClasses} classes in the weights`
        : data.hashBits !== model.cfg.features.hashBits
          ? `hashBits ${model.cfg.features.hashBits} in the config, ${data.hashBits} in the weights`
          : names.length !== data.buckets.length
            ? `${names.length} feature names, ${data.buckets.length} feature columns`
            : model.task === 'multilabel' && !data.thresholds
              ? 'a multi-label model without thresholds'
              : null;
    if (mismatch) {
      throw new SapphireError('DATA_INVALID', `${dir} is inconsistent: ${mismatch}`, {
        file: weightsPath,
        hint: 'the files come from different models; save the model again',
      });
    }
    const marginScale = Number(manifest.marginScale ?? model.cfg.calibration.marginScale);
    model.fitted = {
      labels: manifest.labels,
      featurizer: HashedTfidfFeaturizer.fromState(model.cfg.features, {
        buckets: data.buckets,
        idf: data.idf,
        names,
      }),
      weights: data.weights,
      bias: data.bias,
      thresholds: data.thresholds,
      marginScale,
    };
    return model;
  }

  /** The filled configuration. */
  config(): Record<string, unknown> {
    return structuredClone(this.cfg) as unknown as Record<string, unknown>;
  }

  /** Trains on `train`; `dev` drives early stopping (logistic), calibration (hinge) and multi-label thresholds. */
  async fit(train: Example[], dev?: Example[], options: FitOptions = {}): Promise<FitReport> {
    const labels = collectLabels(train, this.task, 'train', LINEAR_V1);
    if (dev) collectLabels(dev, this.task, 'dev', LINEAR_V1, false);
    const rng = new SeededRandom(options.seed ?? 0);
    const K = labels.length;
    const featurizer = new HashedTfidfFeaturizer(this.cfg.features);
    const x = featurizer.fit(train.map(wordsOf));
    const y = this.targets(train, labels);
    const devData = dev && dev.length > 0 ? this.devMatrix(featurizer, dev, labels) : null;

    let tuning: { x: SparseRows; y: Targets } | null = devData;
    let thresholds: Float32Array | null = null;
    if (this.task === 'multilabel') {
      const { holdout, minExamplesForHoldout } = this.cfg.multilabel;
      if (!devData && train.length >= minExamplesForHoldout) {
        // Tune thresholds on a held-out slice of train, then train again on all of it.
        const order = rng.shuffle(Int32Array.from(train.keys()));
        const nHeld = Math.max(1, Math.round(holdout * train.length));
        const held = order.subarray(0, nHeld).sort();
        const kept = order.subarray(nHeld).sort();
        const sub = { x: selectRows(x, kept), y: this.subsetTargets(y, kept, K) };
        tuning = { x: selectRows(x, held), y: this.subsetTargets(y, held, K) };
        const partial = await this.train(sub.x, sub.y, K, labels, null, rng, options, 'threshold model');
        thresholds = tuneThresholds(this.probabilities(partial, tuning.x, K), tuning.y.member, nHeld, K);
      }
    }
    const result = await this.train(x, y, K, labels, devData, rng, options, 'model');
    if (this.task === 'multilabel' && !thresholds) {
      const on = tuning ?? { x, y };
      thresholds = tuneThresholds(this.probabilities(result, on.x, K), on.y.member, on.x.nRows, K);
    }
    this.fitted = {
      labels,
      featurizer,
      weights: result.weights,
      bias: result.bias,
      thresholds,
      marginScale: result.marginScale,
    };
    const report: FitReport = {
      epochs: result.epochs,
      info: { features: featurizer.nFeatures, examples: train.length, labels: K, ...result.info },
    };
    if (dev && dev.length > 0) report.bestDevScore = this.devScore(dev);
    return report;
  }

  /** Labels with probabilities for each input (classify: one label; multilabel: those above their threshold). */
  predict(inputs: ModelInput[]): Prediction[] {
    // The direct path (the same margins as onnxScoring's nativeScores, without its batching): predict is on the
    // serving path, one text per request.
    const fitted = this.requireFitted();
    const z = new Float64Array(fitted.labels.length);
    const out: Prediction[] = new Array(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      this.marginsInto(fitted, fitted.featurizer.transform(wordsOf(inputs[i]!)), z);
      out[i] = this.predictionOf(fitted, z);
    }
    return out;
  }

  /** The margins graph of the fitted weights (inputs hashed feature ids and values; see linear-graph.ts). */
  toOnnx(): OnnxGraph {
    const fitted = this.requireFitted();
    const { labels, weights, bias } = fitted;
    return { bytes: buildLinearGraph({ architecture: this.name, labels, weights, bias }), output: SCORES };
  }

  /** The scoring of `inputs` in chunks: padded feature feeds, the margins in float64, and labels from either. */
  onnxScoring(inputs: readonly ModelInput[]): OnnxScoringJob {
    const fitted = this.requireFitted();
    const K = fitted.labels.length;
    const rows = inputs.map((input) => fitted.featurizer.transform(wordsOf(input)));
    const chunk = (c: number) => rows.slice(c * LINEAR_BATCH, (c + 1) * LINEAR_BATCH);
    return {
      batches: Math.ceil(rows.length / LINEAR_BATCH),
      feeds: (c) => {
        const batch = chunk(c);
        const P = Math.max(1, ...batch.map((r) => r.indices.length));
        const ids = new BigInt64Array(batch.length * P);
        const values = new Float32Array(batch.length * P);
        batch.forEach((r, i) => {
          for (let p = 0; p < r.indices.length; p++) {
            ids[i * P + p] = BigInt(r.indices[p]!);
            values[i * P + p] = r.values[p]!;
          }
        });
        return {
          feature_ids: { type: 'int64', data: ids, dims: [batch.length, P] },
          feature_values: { type: 'float32', data: values, dims: [batch.length, P] },
        };
      },
      nativeScores: (c) => {
        const batch = chunk(c);
        const out = new Float64Array(batch.length * K);
        batch.forEach((row, i) => {
          this.marginsInto(fitted, row, out.subarray(i * K, i * K + K));
        });
        return out;
      },
      finish: (scores) =>
        scores.flatMap((z, c) =>
          chunk(c).map((_, i) => this.predictionOf(fitted, Float64Array.from(z.subarray(i * K, i * K + K)))),
        ),
    };
  }

  /** Labels and scores of one input from its margins. */
  private predictionOf(fitted: FittedLinear, z: Float64Array): Prediction {
    const probs = this.toProbabilities(fitted, z);
    const order = rankDescending(probs);
    const labels = fitted.labels;
    const scores: LabelScore[] = new Array(order.length);
    for (let r = 0; r < order.length; r++)
      scores[r] = { label: labels[order[r]!]!, score: probs[order[r]!]! };
    if (this.task !== 'multilabel') return { labels: [labels[order[0]!]!], scores };
    const chosen: string[] = [];
    for (const k of order) if (probs[k]! >= fitted.thresholds![k]!) chosen.push(labels[k]!);
    return { labels: chosen, scores };
  }

  /** The `topK` features pushing hardest towards each predicted label (the best label when none is predicted). */
  explain(input: ModelInput, topK = 10): Explanation[] {
    const fitted = this.requireFitted();
    const K = fitted.labels.length;
    const [prediction] = this.predict([input]);
    const targets = prediction!.labels!.length > 0 ? prediction!.labels! : [prediction!.scores![0]!.label];
    const row = fitted.featurizer.transform(wordsOf(input));
    return targets.map((target) => {
      const k = fitted.labels.indexOf(target);
      const contributions = topContributions(
        Array.from(row.indices, (col, p) => ({
          feature: fitted.featurizer.featureName(col),
          weight: row.values[p]! * fitted.weights[col * K + k]!,
        })),
        topK,
      );
      return { target, contributions };
    });
  }

  /** Writes `model.json` (manifest with the filled config), `weights.bin` and `features.json` into `dir`. */
  async save(dir: string): Promise<void> {
    const fitted = this.requireFitted();
    const state = fitted.featurizer.state();
    await writeManifest(dir, {
      architecture: LINEAR_V1,
      formatVersion: LINEAR_FORMAT_VERSION,
      config: this.config(),
      labels: fitted.labels,
      marginScale: fitted.marginScale,
      features: state.buckets.length,
      files: { weights: WEIGHTS_FILE, featureNames: FEATURES_FILE },
    });
    const bytes = encodeWeights(
      {
        hashBits: this.cfg.features.hashBits,
        nClasses: fitted.labels.length,
        buckets: state.buckets,
        idf: state.idf,
        weights: fitted.weights,
        bias: fitted.bias,
        thresholds: fitted.thresholds,
      },
      LINEAR_FORMAT_VERSION,
    );
    await writeFile(join(dir, WEIGHTS_FILE), bytes);
    await writeFile(join(dir, FEATURES_FILE), JSON.stringify(state.names));
  }

  private requireFitted(): FittedLinear {
    if (!this.fitted) throw new NotFittedError(`${LINEAR_V1} model`);
    return this.fitted;
  }

  private targets(examples: Example[], labels: string[]): Targets {
    const K = labels.length;
    const index = new Map(labels.map((l, k) => [l, k]));
    const classOf = new Int32Array(examples.length).fill(-1);
    const member = new Uint8Array(examples.length * K);
    examples.forEach((ex, i) => {
      for (const l of ex.labels ?? []) {
        const k = index.get(l);
        if (k === undefined) continue;
        member[i * K + k] = 1;
        if (classOf[i] === -1) classOf[i] = k;
      }
    });
    return { classOf, member };
  }

  private subsetTargets(y: Targets, rows: Int32Array, K: number): Targets {
    const classOf = new Int32Array(rows.length);
    const member = new Uint8Array(rows.length * K);
    rows.forEach((src, i) => {
      classOf[i] = y.classOf[src]!;
      member.set(y.member.subarray(src * K, src * K + K), i * K);
    });
    return { classOf, member };
  }

  private devMatrix(featurizer: HashedTfidfFeaturizer, dev: Example[], labels: string[]) {
    return {
      x: stackRows(
        dev.map((ex) => featurizer.transform(wordsOf(ex))),
        featurizer.nFeatures,
      ),
      y: this.targets(dev, labels),
    };
  }

  /** Trains weights on `x` with the configured loss; dev (when given) drives early stopping and calibration. */
  private async train(
    x: SparseRows,
    y: Targets,
    K: number,
    labels: string[],
    dev: { x: SparseRows; y: Targets } | null,
    rng: SeededRandom,
    options: FitOptions,
    what: string,
  ): Promise<Trained> {
    const { trainer, calibration } = this.cfg;
    const multilabel = this.task === 'multilabel';
    if (this.cfg.loss === 'logistic') {
      const trained = await trainLogisticSgd(
        x,
        multilabel ? { kind: 'multi', member: y.member } : { kind: 'single', classOf: y.classOf },
        K,
        {
          C: this.cfg.C,
          epochs: trainer.epochs,
          learningRate: trainer.learningRate,
          output: multilabel ? 'sigmoid' : 'softmax',
          patience: trainer.patience,
        },
        rng,
        {
          devScore: dev
            ? (w) => this.scoreMatrix({ ...w, marginScale: 1, loss: 'logistic' }, dev, K)
            : undefined,
          onEpoch: async (epoch, loss, devScore) => {
            options.onProgress?.({
              epoch,
              epochs: trainer.epochs,
              loss,
              devScore,
              message: `${what}: epoch ${epoch}`,
            });
            await yieldToEventLoop();
            options.signal?.throwIfAborted();
          },
        },
      );
      return {
        weights: trained.weights,
        bias: trained.bias,
        marginScale: 1,
        loss: 'logistic',
        epochs: trained.epochs,
        info: { trainer: 'sgd', bestEpoch: trained.bestEpoch, finalLoss: trained.finalLoss },
      };
    }
    const isPositive = multilabel
      ? (i: number, k: number) => y.member[i * K + k] === 1
      : (i: number, k: number) => y.classOf[i] === k;
    const trained = await trainOneVsRestSvm(
      x,
      K,
      isPositive,
      {
        C: this.cfg.C,
        tolerance: trainer.tolerance,
        maxIterations: trainer.maxIterations,
        bias: trainer.bias,
      },
      rng,
      async (k, passes) => {
        options.onProgress?.({
          epoch: k + 1,
          epochs: K,
          message: `${what}: class ${labels[k]} (${passes} passes)`,
        });
        if (k % 8 === 7 || k === K - 1) {
          await yieldToEventLoop();
          options.signal?.throwIfAborted();
        }
      },
    );
    let marginScale = calibration.marginScale;
    if (dev && calibration.fitOnDev) {
      const margins = this.marginMatrix(trained, dev.x, K);
      marginScale = fitMarginScale(
        margins,
        dev.x.nRows,
        K,
        multilabel ? { member: dev.y.member } : { classOf: dev.y.classOf },
      );
    }
    const passes = trained.iterations.reduce((a, b) => a + b, 0);
    return {
      weights: trained.weights,
      bias: trained.bias,
      marginScale,
      loss: 'hinge',
      epochs: Math.max(...trained.iterations),
      info: { trainer: 'dual-cd', passes, marginScale },
    };
  }

  private marginMatrix(w: LinearWeights, x: SparseRows, K: number): Float64Array {
    const out = new Float64Array(x.nRows * K);
    for (let i = 0; i < x.nRows; i++) {
      const row = i * K;
      for (let k = 0; k < K; k++) out[row + k] = w.bias[k]!;
      for (let p = x.indptr[i]!; p < x.indptr[i + 1]!; p++) {
        const v = x.values[p]!;
        const base = x.indices[p]! * K;
        for (let k = 0; k < K; k++) out[row + k]! += v * w.weights[base + k]!;
      }
    }
    return out;
  }

  /** Probabilities (row-major `n × K`) of trained weights on rows `x`. */
  private probabilities(w: Trained, x: SparseRows, K: number): Float64Array {
    const margins = this.marginMatrix(w, x, K);
    const z = new Float64Array(K);
    for (let i = 0; i < x.nRows; i++) {
      z.set(margins.subarray(i * K, i * K + K));
      margins.set(this.squash(z, w.loss === 'hinge' ? w.marginScale : 1), i * K);
    }
    return margins;
  }

  /** Dev score of weights: accuracy (classify) or micro-F1 at probability 0.5 (multi-label). */
  private scoreMatrix(
    w: Trained | (LinearWeights & Pick<Trained, 'marginScale' | 'loss'>),
    dev: { x: SparseRows; y: Targets },
    K: number,
  ): number {
    const margins = this.marginMatrix(w, dev.x, K);
    const n = dev.x.nRows;
    if (this.task === 'classify') {
      let correct = 0;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let k = 1; k < K; k++) if (margins[i * K + k]! > margins[i * K + best]!) best = k;
        if (best === dev.y.classOf[i]) correct++;
      }
      return correct / Math.max(1, n);
    }
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let j = 0; j < n * K; j++) {
      const predicted = margins[j]! >= 0;
      const actual = dev.y.member[j] === 1;
      if (predicted && actual) tp++;
      else if (predicted) fp++;
      else if (actual) fn++;
    }
    return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }

  /** Accuracy (classify) or micro-F1 (multi-label) of the fitted model's predictions on `dev`. */
  private devScore(dev: Example[]): number {
    const predictions = this.predict(dev);
    if (this.task === 'classify') {
      const correct = predictions.filter((p, i) => p.labels![0] === dev[i]!.labels![0]).length;
      return correct / dev.length;
    }
    let tp = 0;
    let predicted = 0;
    let actual = 0;
    predictions.forEach((p, i) => {
      const gold = new Set(dev[i]!.labels);
      predicted += p.labels!.length;
      actual += gold.size;
      tp += p.labels!.filter((l) => gold.has(l)).length;
    });
    return tp === 0 ? 0 : (2 * tp) / (predicted + actual);
  }

  private marginsInto(fitted: FittedLinear, row: SparseRow, z: Float64Array): void {
    const K = fitted.labels.length;
    const { weights } = fitted;
    z.set(fitted.bias);
    for (let p = 0; p < row.indices.length; p++) {
      const v = row.values[p]!;
      const base = row.indices[p]! * K;
      for (let k = 0; k < K; k++) z[k]! += v * weights[base + k]!;
    }
  }

  private toProbabilities(fitted: FittedLinear, z: Float64Array): Float64Array {
    return this.squash(z, this.cfg.loss === 'hinge' ? fitted.marginScale : 1);
  }

  /** Softmax (classify) or per-label sigmoid (multi-label) of `scale × z`, into a new array. */
  private squash(z: Float64Array, scale: number): Float64Array {
    const K = z.length;
    const out = new Float64Array(K);
    if (this.task === 'multilabel') {
      for (let k = 0; k < K; k++) out[k] = 1 / (1 + Math.exp(-scale * z[k]!));
      return out;
    }
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < K; k++) max = Math.max(max, scale * z[k]!);
    let sum = 0;
    for (let k = 0; k < K; k++) {
      out[k] = Math.exp(scale * z[k]! - max);
      sum += out[k]!;
    }
    for (let k = 0; k < K; k++) out[k]! /= sum;
    return out;
  }
}

/**
 * Indices of `values` from the largest value to the smallest, ties by index: an insertion sort over a typed array,
 * which for the tens of classes of a model beats `Array.prototype.sort` with a comparator several times over.
 */
function rankDescending(values: Float64Array): Int32Array {
  const n = values.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    let j = i;
    while (j > 0 && values[order[j - 1]!]! < v) {
      order[j] = order[j - 1]!;
      j--;
    }
    order[j] = i;
  }
  return order;
}

/** Weights from one training run, with how to turn their margins into probabilities. */
interface Trained extends LinearWeights {
  marginScale: number;
  loss: 'logistic' | 'hinge';
  epochs: number;
  info: Record<string, unknown>;
}
