/**
 * The contract between a Sapphire model and an ONNX graph of its scoring part (ADR 0008 point 6):
 * the model turns inputs into integer/float tensors (tokenisation, vocabulary lookup, feature
 * hashing stay in TypeScript), the graph turns them into scores (emissions or logits), and the
 * model turns scores back into predictions (Viterbi, softmax, thresholds stay in TypeScript).
 */

import type { Model, ModelInput, Prediction } from '../model.ts';
import type { FloatArray } from '../neural/engine/tensor.ts';

/** One input tensor of a graph run: its element type, data (row-major) and shape. */
export type OnnxFeed =
  | { type: 'int64'; data: BigInt64Array; dims: number[] }
  | { type: 'int32'; data: Int32Array; dims: number[] }
  | { type: 'float32'; data: Float32Array; dims: number[] };

/** The named input tensors of one graph run. */
export type OnnxFeeds = Record<string, OnnxFeed>;

/**
 * The scoring of a list of inputs, split into batches: each batch can be scored by the model's own
 * TypeScript network (`nativeScores`) or by the exported graph (`feeds` → the graph's output), and
 * `finish` turns the scores of every batch into the predictions of every input, in order.
 */
export interface OnnxScoringJob {
  /** Number of batches (0 when no input needs scoring, e.g. only empty texts). */
  readonly batches: number;
  /** The graph's inputs for batch `i`. */
  feeds(i: number): OnnxFeeds;
  /** The TypeScript network's scores for batch `i`, laid out like the graph's output. */
  nativeScores(i: number): FloatArray;
  /** The predictions of every input from the scores of every batch. */
  finish(scores: readonly FloatArray[]): Prediction[];
}

/** Describes an exported graph: its bytes, the output holding the scores, and how to read it. */
export interface OnnxGraph {
  /** The serialised ONNX model (the bytes of `model.onnx`). */
  bytes: Uint8Array;
  /** Name of the graph output that holds the scores. */
  output: string;
}

/** A model whose scoring can be exported to ONNX and run outside TypeScript. */
export interface OnnxExportable extends Model {
  /** Builds the ONNX graph of the fitted model's scoring part; throws NotFittedError before fit. */
  toOnnx(): OnnxGraph;
  /** Prepares the scoring of `inputs` (see {@link OnnxScoringJob}). */
  onnxScoring(inputs: readonly ModelInput[]): OnnxScoringJob;
}

/** Whether `model` can be exported to ONNX. */
export function isOnnxExportable(model: Model): model is OnnxExportable {
  const m = model as Partial<OnnxExportable>;
  return typeof m.toOnnx === 'function' && typeof m.onnxScoring === 'function';
}

/** Runs a scoring job with the model's own TypeScript network (the synchronous `predict` path). */
export function predictNative(job: OnnxScoringJob): Prediction[] {
  const scores: FloatArray[] = [];
  for (let i = 0; i < job.batches; i++) scores.push(job.nativeScores(i));
  return job.finish(scores);
}

/** Int64 feed of `ids` with shape `dims`. */
export function int64Feed(ids: ArrayLike<number>, dims: number[]): OnnxFeed {
  const data = new BigInt64Array(ids.length);
  for (let i = 0; i < ids.length; i++) data[i] = BigInt(ids[i]!);
  return { type: 'int64', data, dims };
}

/**
 * Pads id lists to one row length (at least `minWidth`) with `pad`, as an int64 feed [rows × width].
 *
 * @example
 * paddedIds([[1, 2], [3]], 9); // data [1, 2, 3, 9], dims [2, 2]
 */
export function paddedIds(rows: readonly (readonly number[])[], pad: number, minWidth = 1): OnnxFeed {
  const width = Math.max(minWidth, ...rows.map((r) => r.length));
  const data = new BigInt64Array(rows.length * width).fill(BigInt(pad));
  rows.forEach((r, i) => {
    for (let j = 0; j < r.length; j++) data[i * width + j] = BigInt(r[j]!);
  });
  return { type: 'int64', data, dims: [rows.length, width] };
}
