/**
 * Runs an imported Hugging Face token or sequence classifier through onnxruntime-node: encodes words sub-word by
 * sub-word, packs them into windows within the model's maximum length, batches windows with padding, and turns the
 * logits into spans (first sub-token of each word) or class scores (softmax; sigmoid for multi-label).
 *
 * @example
 * const t = await OnnxTransformer.open(await readHfModelDir(dir), 'ner', {});
 * const [p] = await t.predict([{ text: 'book a table at Nobu' }]);
 */
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { DataError } from '../../core/errors.ts';
import type { TaskKind, Token } from '../../data/types.ts';
import { tokenize } from '../../text/tokenizer.ts';
import type { ModelInput, Prediction } from '../model.ts';
import {
  decodeWordTags,
  entityTypes,
  labelsAsTags,
  planWindows,
  softmax,
  type WindowInput,
  windowInput,
} from './alignment.ts';
import { type HfModelFiles, maxLengthOf } from './hf-layout.ts';
import { ortSessionOptions } from './ort-pool.ts';
import { SubwordEncoder, wordPosition } from './subword-encoder.ts';

/** Runtime settings of an imported model. */
export interface OnnxTransformerOptions {
  /** Longest input in sub-tokens, special tokens included (default: from the model's files). */
  maxLength?: number | null;
  /** Windows per onnxruntime call. */
  batchSize?: number;
  /** onnxruntime intra-op threads (0: its default, all cores). */
  threads?: number;
}

const REQUIRED_INPUTS = ['input_ids', 'attention_mask'] as const;
const OPTIONAL_INPUTS = ['token_type_ids'] as const;

/** An imported transformer ready to predict. */
export class OnnxTransformer {
  /** Entity types (NER) or classes (classification) the model predicts. */
  readonly labels: string[];
  /** The longest input the model is given, special tokens included. */
  readonly maxLength: number;

  private constructor(
    readonly files: HfModelFiles,
    readonly task: TaskKind,
    private readonly session: ort.InferenceSession,
    private readonly encoder: SubwordEncoder,
    private readonly tags: string[],
    private readonly output: string,
    maxLength: number,
    private readonly batchSize: number,
  ) {
    this.labels = task === 'ner' ? entityTypes(tags) : [...files.labels];
    this.maxLength = maxLength;
  }

  /** Loads the tokenizer and the ONNX session and checks them against `id2label` with one probe run. */
  static async open(
    files: HfModelFiles,
    task: TaskKind,
    options: OnnxTransformerOptions = {},
  ): Promise<OnnxTransformer> {
    const configFile = `${files.source}/config.json`;
    const onnxFile = `${files.source}/${files.onnxFile}`;
    const encoder = SubwordEncoder.fromJson(
      files.tokenizer,
      files.tokenizerConfig,
      `${files.source}/tokenizer.json`,
    );
    let tags = files.labels;
    if (task === 'ner') {
      const asTags = labelsAsTags(files.labels);
      if (!asTags) {
        throw new DataError('mixes tagged labels (B-X, I-X) with bare ones', {
          file: configFile,
          path: 'id2label',
          hint: 'use one scheme: O plus B-/I- (or BIOES/BILOU) tags, or O plus bare entity types',
        });
      }
      tags = asTags;
    }
    let session: ort.InferenceSession;
    try {
      // The options of every Sapphire-made session (sequential, idle threads not spinning in a server), with
      // all cores unless told otherwise: a transformer's matrix products are worth the threads.
      session = await ort.InferenceSession.create(
        files.onnx,
        ortSessionOptions(options.threads ?? availableParallelism()),
      );
    } catch (cause) {
      throw new DataError(`could not be loaded by onnxruntime: ${(cause as Error).message}`, {
        file: onnxFile,
        hint: 'check that the file is a complete ONNX model (opset ≤ 23) with its external data beside it',
      });
    }
    const missing = REQUIRED_INPUTS.filter((n) => !session.inputNames.includes(n));
    const unknown = session.inputNames.filter(
      (n) =>
        !(REQUIRED_INPUTS as readonly string[]).includes(n) &&
        !(OPTIONAL_INPUTS as readonly string[]).includes(n),
    );
    if (missing.length > 0 || unknown.length > 0) {
      throw new DataError(
        `the model takes inputs ${session.inputNames.join(', ')}; Sapphire gives input_ids, attention_mask and optionally token_type_ids`,
        {
          file: onnxFile,
          path: 'graph.input',
          hint: 'export with input names input_ids, attention_mask[, token_type_ids] (the Hugging Face defaults)',
        },
      );
    }
    const output = session.outputNames.includes('logits') ? 'logits' : session.outputNames[0];
    if (!output || (session.outputNames.length > 1 && output !== 'logits')) {
      throw new DataError(`outputs ${session.outputNames.join(', ')}: none is named logits`, {
        file: onnxFile,
        path: 'graph.output',
        hint: 'export the classifier head with an output named logits',
      });
    }
    const maxLength = options.maxLength ?? maxLengthOf(files);
    const specials = encoder.prefix.length + encoder.suffix.length;
    if (maxLength <= specials) {
      throw new DataError(
        `maximum length ${maxLength} leaves no room for text after ${specials} special tokens`,
        {
          path: 'maxLength',
        },
      );
    }
    const model = new OnnxTransformer(
      files,
      task,
      session,
      encoder,
      tags,
      output,
      maxLength,
      Math.max(1, options.batchSize ?? 16),
    );
    await model.probe(configFile, onnxFile);
    return model;
  }

  /** Predicts spans (NER) or classes for a batch of inputs, in order. */
  async predict(inputs: ModelInput[]): Promise<Prediction[]> {
    return this.task === 'ner' ? this.predictSpans(inputs) : this.predictClasses(inputs);
  }

  /** Releases the onnxruntime session. */
  async close(): Promise<void> {
    await this.session.release();
  }

  private get budget(): number {
    return this.maxLength - this.encoder.prefix.length - this.encoder.suffix.length;
  }

  private async probe(configFile: string, onnxFile: string): Promise<void> {
    const ids = [...this.encoder.prefix, ...this.encoder.encodeWord('a', 'first'), ...this.encoder.suffix];
    const { data, dims } = await this.run([ids]).catch((cause: Error) => {
      throw new DataError(`failed on a one-word probe: ${cause.message}`, {
        file: onnxFile,
        hint: 'check the input types (int64 input_ids/attention_mask) and that the graph runs in onnxruntime',
      });
    });
    const n = this.files.labels.length;
    const want = this.task === 'ner' ? [1, ids.length, n] : [1, n];
    if (
      dims.length !== want.length ||
      dims.some((d, i) => d !== want[i]) ||
      data.length !== want.reduce((a, b) => a * b)
    ) {
      throw new DataError(
        `output ${this.output} of ${onnxFile} has shape [${dims.join(', ')}] for ${ids.length} tokens, but id2label has ${n} labels (expected [${want.join(', ')}] for ${this.task === 'ner' ? 'token' : 'sequence'} classification)`,
        {
          file: configFile,
          path: 'id2label',
          hint:
            dims.length === want.length
              ? 'make id2label list exactly one label per logit'
              : `pass --task ${this.task === 'ner' ? 'classify' : 'ner'} if this is a ${this.task === 'ner' ? 'sequence' : 'token'} classifier`,
        },
      );
    }
  }

  /** Runs padded batches of id sequences and returns the output tensor's data and dims. */
  private async run(batch: number[][]): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const width = Math.max(...batch.map((s) => s.length));
    const ids = new BigInt64Array(batch.length * width);
    const mask = new BigInt64Array(batch.length * width);
    const pad = BigInt(this.encoder.padId);
    for (let b = 0; b < batch.length; b++) {
      const seq = batch[b]!;
      for (let t = 0; t < width; t++) {
        ids[b * width + t] = t < seq.length ? BigInt(seq[t]!) : pad;
        mask[b * width + t] = t < seq.length ? 1n : 0n;
      }
    }
    const dims = [batch.length, width];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, dims),
      attention_mask: new ort.Tensor('int64', mask, dims),
    };
    if (this.session.inputNames.includes('token_type_ids')) {
      feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(batch.length * width), dims);
    }
    const out = await this.session.run(feeds, [this.output]);
    const tensor = out[this.output]!;
    const data =
      tensor.data instanceof Float32Array
        ? tensor.data
        : Float32Array.from(tensor.data as ArrayLike<number>, Number);
    return { data, dims: tensor.dims };
  }

  /** Runs many sequences in batches of `batchSize`, calling `each(batchIndex, data, dims)` per sequence. */
  private async runAll(
    sequences: number[][],
    each: (index: number, data: Float32Array, offset: number, width: number) => void,
  ): Promise<void> {
    for (let start = 0; start < sequences.length; start += this.batchSize) {
      const batch = sequences.slice(start, start + this.batchSize);
      const { data, dims } = await this.run(batch);
      const per = data.length / batch.length;
      const width = dims.length === 3 ? dims[1]! : 1;
      for (let b = 0; b < batch.length; b++) each(start + b, data, b * per, width);
    }
  }

  private async predictSpans(inputs: ModelInput[]): Promise<Prediction[]> {
    const n = this.tags.length;
    const plans = inputs.map((input) => {
      const words: Token[] = input.tokens ?? tokenize(input.text);
      const pieces = words.map((w, i) => this.encoder.encodeWord(w.text, wordPosition(words, i)));
      const windows = planWindows(pieces, this.budget).map((window) => ({
        window,
        input: windowInput(pieces, window, this.encoder.prefix, this.encoder.suffix, this.budget),
      }));
      return { words, windows, probs: new Array<Float64Array | null>(words.length).fill(null) };
    });
    const flat: { plan: number; w: (typeof plans)[number]['windows'][number] }[] = [];
    plans.forEach((p, plan) => {
      for (const w of p.windows) if (w.window.end > w.window.start) flat.push({ plan, w });
    });
    await this.runAll(
      flat.map((f) => f.w.input.ids),
      (index, data, offset) => {
        const { plan, w } = flat[index]!;
        const { window, input } = w as { window: { start: number }; input: WindowInput };
        input.firstPiece.forEach((pos, k) => {
          if (pos >= 0) plans[plan]!.probs[window.start + k] = softmax(data, offset + pos * n, n);
        });
      },
    );
    return plans.map((p) => ({ spans: decodeWordTags(p.words, p.probs, this.tags) }));
  }

  private async predictClasses(inputs: ModelInput[]): Promise<Prediction[]> {
    const n = this.files.labels.length;
    const windowsOf = inputs.map((input) => {
      const ids = this.encoder.encodeText(input.text);
      const chunks: number[][] = [];
      for (let s = 0; s < Math.max(ids.length, 1); s += this.budget) {
        chunks.push([...this.encoder.prefix, ...ids.slice(s, s + this.budget), ...this.encoder.suffix]);
      }
      return chunks;
    });
    const owner = windowsOf.flatMap((chunks, i) => chunks.map(() => i));
    const sums = inputs.map(() => new Float64Array(n));
    await this.runAll(windowsOf.flat(), (index, data, offset) => {
      const probs =
        this.task === 'multilabel'
          ? Float64Array.from({ length: n }, (_, k) => 1 / (1 + Math.exp(-data[offset + k]!)))
          : softmax(data, offset, n);
      const sum = sums[owner[index]!]!;
      for (let k = 0; k < n; k++) sum[k]! += probs[k]!;
    });
    return sums.map((sum, i) => {
      const count = windowsOf[i]!.length;
      const scores = this.files.labels
        .map((label, k) => ({ label, score: sum[k]! / count }))
        .sort((a, b) => b.score - a.score || a.label.localeCompare(b.label));
      const labels =
        this.task === 'multilabel'
          ? scores.filter((s) => s.score >= 0.5).map((s) => s.label)
          : [scores[0]!.label];
      return { labels, scores };
    });
  }
}
