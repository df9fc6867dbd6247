/**
 * Scoring through onnxruntime-node: sessions created once (intra-op threads configurable, default
 * 2), feeds turned into ORT tensors, and the {@link OnnxRuntimeModel} — a Sapphire model whose
 * scoring runs in ORT while tokenisation, features and decoding stay in TypeScript (ADR 0008 §6).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { SapphireError } from '../../core/errors.ts';
import type { Example } from '../../data/types.ts';
import type { Explanation, FitReport, Model, ModelInput, Prediction } from '../model.ts';
import { loadModel } from '../registry.ts';
import { OrtWorkerPool, ortSessionOptions } from './ort-pool.ts';
import {
  isOnnxExportable,
  type OnnxExportable,
  type OnnxFeeds,
  type OnnxGraph,
  type OnnxScoringJob,
} from './scoring.ts';

/** File name of the exported graph inside a model directory. */
export const ONNX_FILE = 'model.onnx';

/** Default intra-op threads of a session (the machine kind Sapphire targets has 2 cores). */
export const DEFAULT_ORT_THREADS = 2;

/** Options of the ORT sessions. */
export interface OrtOptions {
  /** Intra-op threads of each session (default {@link DEFAULT_ORT_THREADS}). */
  threads?: number;
  /**
   * Let idle intra-op threads spin-wait for work (default false: on a small machine shared with other
   * processes, spinning threads steal the cores the work needs — 2 threads ran ~2× slower with it at load 20+).
   */
  spin?: boolean;
  /**
   * Score on this many worker threads, each with its own session of `threads` intra-op threads (0, the default:
   * on the calling thread). A session runs on the thread that calls it, so workers are how the batches of one
   * prediction use several cores at once.
   */
  workers?: number;
}

/** Creates an ORT session for graph bytes, with `threads` intra-op threads and sequential execution. */
export async function createOrtSession(
  bytes: Uint8Array,
  options: OrtOptions = {},
): Promise<ort.InferenceSession> {
  const threads = options.threads ?? DEFAULT_ORT_THREADS;
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new SapphireError(
      'BAD_INPUT',
      `ONNX Runtime threads must be an integer from 1 to 256, got ${threads}`,
      {
        hint: 'set serve.onnxThreads (or --threads) to the cores the server may use, e.g. 2',
      },
    );
  }
  try {
    return await ort.InferenceSession.create(bytes, ortSessionOptions(threads, options.spin));
  } catch (cause) {
    throw new SapphireError('DATA_INVALID', `ONNX Runtime could not load the graph: ${String(cause)}`, {
      hint: 'export the model again with `sapphire models export-onnx`',
    });
  }
}

/** Turns Sapphire feeds into ORT tensors. */
function toTensors(feeds: OnnxFeeds): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [name, f] of Object.entries(feeds)) out[name] = new ort.Tensor(f.type, f.data, f.dims);
  return out;
}

/** Runs one batch through a session and returns the named output as float32. */
export async function runFeeds(
  session: ort.InferenceSession,
  feeds: OnnxFeeds,
  output: string,
): Promise<Float32Array> {
  const result = await session.run(toTensors(feeds));
  const tensor = result[output];
  if (tensor?.type !== 'float32') {
    throw new SapphireError('DATA_INVALID', `the ONNX graph gave no float32 output "${output}"`, {
      hint: 'export the model again with `sapphire models export-onnx`',
    });
  }
  return tensor.data as Float32Array;
}

/** Scores every batch of a job through a session (one after the other: ORT uses the threads inside a run). */
export async function scoreThroughOrt(
  session: ort.InferenceSession,
  job: OnnxScoringJob,
  output: string,
): Promise<Float32Array[]> {
  const scores: Float32Array[] = [];
  for (let i = 0; i < job.batches; i++) scores.push(await runFeeds(session, job.feeds(i), output));
  return scores;
}

/** The export of a model, or a clear error naming why it cannot be exported. */
export function exportableOrThrow(model: Model, where: string): OnnxExportable {
  if (!isOnnxExportable(model)) {
    throw new SapphireError('BAD_INPUT', `${where}: ${model.name} models cannot be exported to ONNX`, {
      hint: 'ONNX export covers bilstm-crf.v1, idcnn-crf.v1, embedding-bag.v1, text-cnn.v1, linear.v1, crf.v1 and perceptron.v1; serve others natively',
    });
  }
  return model;
}

/**
 * A model whose scoring runs in onnxruntime-node: the native model still tokenises, looks up ids and
 * decodes (so predictions match it), the ORT session computes the scores. `predict` is synchronous
 * and ORT is not: call `predictAsync` (or the library's `predictMany`).
 *
 * @example
 * const model = await OnnxRuntimeModel.load('models/ner', { threads: 2 });
 * const [p] = await model.predictAsync([{ text: 'Dinner at Nobu' }]);
 */
export class OnnxRuntimeModel implements Model {
  readonly name: string;
  readonly task: Model['task'];
  /** Where the graph came from: a `model.onnx` shipped in the directory, or exported at load. */
  readonly graphSource: 'file' | 'exported';

  private constructor(
    readonly native: OnnxExportable,
    /** Where the scores run: one session on the calling thread, or a pool of worker threads. */
    private readonly scorer: ort.InferenceSession | OrtWorkerPool,
    private readonly output: string,
    graphSource: 'file' | 'exported',
    readonly threads: number,
  ) {
    this.name = native.name;
    this.task = native.task;
    this.graphSource = graphSource;
  }

  /** Wraps a fitted exportable model: exports its graph (or uses the bytes of a shipped `graph`) and opens one session. */
  static async fromModel(
    model: Model,
    options: OrtOptions & { graph?: Uint8Array; where?: string } = {},
  ): Promise<OnnxRuntimeModel> {
    const where = options.where ?? model.name;
    const native = exportableOrThrow(model, where);
    const bytes = options.graph ?? native.toOnnx().bytes;
    const session = await createOrtSession(bytes, options);
    const [output] = session.outputNames;
    if (session.outputNames.length !== 1 || !output) {
      await session.release();
      throw new SapphireError(
        'DATA_INVALID',
        `${where}: ${ONNX_FILE} must have exactly one output (the scores)`,
        {
          hint: 'export the model again with `sapphire models export-onnx`',
        },
      );
    }
    const source = options.graph ? 'file' : 'exported';
    const threads = options.threads ?? DEFAULT_ORT_THREADS;
    if (!options.workers) return new OnnxRuntimeModel(native, session, output, source, threads);
    // With workers, this session only checked the graph's output: the workers hold the scoring sessions.
    try {
      const pool = await OrtWorkerPool.create(bytes, output, { workers: options.workers, threads });
      return new OnnxRuntimeModel(native, pool, output, source, threads);
    } finally {
      await session.release();
    }
  }

  /**
   * Loads a model directory natively (or takes `options.model`, already loaded from it), then its
   * `model.onnx` when present (else exports the graph in memory).
   */
  static async load(dir: string, options: OrtOptions & { model?: Model } = {}): Promise<OnnxRuntimeModel> {
    const model = options.model ?? (await loadModel(dir));
    const native = exportableOrThrow(model, dir);
    let bytes: Uint8Array | undefined;
    try {
      bytes = await readFile(join(dir, ONNX_FILE));
    } catch {
      bytes = undefined;
    }
    return OnnxRuntimeModel.fromModel(native, { ...options, graph: bytes, where: dir });
  }

  /** ORT models are trained natively and exported: fit is refused. */
  async fit(_train: Example[]): Promise<FitReport> {
    throw new SapphireError('BAD_INPUT', `${this.name} served through ONNX Runtime cannot be trained`, {
      hint: 'train the native model (sapphire train), then export it with `sapphire models export-onnx`',
    });
  }

  /** Refused: ONNX Runtime scores asynchronously. */
  predict(_inputs: ModelInput[]): Prediction[] {
    throw new SapphireError(
      'BAD_INPUT',
      `${this.name} runs through ONNX Runtime, whose scoring is asynchronous: predict() cannot be used; use predictAsync() or predictMany()`,
      { hint: 'call model.predictAsync(inputs), or predictMany(model, inputs) which works for every model' },
    );
  }

  /** Predicts through the ORT session (scores) and the native model (features, decoding). */
  async predictAsync(inputs: ModelInput[]): Promise<Prediction[]> {
    const job = this.native.onnxScoring(inputs);
    const scores =
      this.scorer instanceof OrtWorkerPool
        ? await this.scorer.score(job)
        : await scoreThroughOrt(this.scorer, job, this.output);
    return job.finish(scores);
  }

  /** Explanations come from the native model (same weights). */
  explain(input: ModelInput, topK?: number): Explanation[] {
    return this.native.explain(input, topK);
  }

  /** The native model's filled config. */
  config(): Record<string, unknown> {
    return this.native.config();
  }

  /** Saves the native model and the graph beside it. */
  async save(dir: string): Promise<void> {
    await writeOnnxModelDir(this.native, dir);
  }

  /** Releases the ORT session (and stops the worker threads, if any). */
  async close(): Promise<void> {
    if (this.scorer instanceof OrtWorkerPool) await this.scorer.close();
    else await this.scorer.release();
  }
}

/** Writes a fitted exportable model's directory (native files) plus its `model.onnx`; returns the graph. */
export async function writeOnnxModelDir(model: OnnxExportable, dir: string): Promise<OnnxGraph> {
  await model.save(dir);
  const graph = model.toOnnx();
  await writeFile(join(dir, ONNX_FILE), graph.bytes);
  return graph;
}
