/**
 * The ONNX graph of `linear.v1`'s scoring part: hashed TF-IDF feature ids and values → margins
 * (`bias + Σ value · W[id]`). Hashing, TF-IDF and the softmax / sigmoid / thresholds stay in TypeScript.
 *
 * Inputs (batch-major, padded with id 0 and value 0): `feature_ids` int64 [B × P],
 * `feature_values` float32 [B × P]. Output: `scores` float32 [B × labels].
 */
import { OnnxGraphBuilder } from '../graph-builder.ts';
import { reduceSum, unsqueeze } from './layers.ts';

/** Output name of the linear graphs. */
export const SCORES = 'scores';

/** What the linear graph is built from. */
export interface LinearGraphSpec {
  architecture: string;
  labels: readonly string[];
  /** Weights [features × labels], row-major. */
  weights: Float32Array;
  bias: Float32Array;
}

/** Builds the margins graph of a fitted linear model (see the module comment). */
export function buildLinearGraph(spec: LinearGraphSpec): Uint8Array {
  const K = spec.labels.length;
  const F = spec.weights.length / K;
  const g = new OnnxGraphBuilder(spec.architecture.replace(/\W/g, '_'));
  const ids = g.input('feature_ids', 'int64', ['B', 'P']);
  const values = g.input('feature_values', 'float32', ['B', 'P']);
  const w = g.initializer('weights', spec.weights, [F, K]);
  const b = g.initializer('bias', spec.bias, [K]);
  const rows = g.node('Gather', [w, ids], ['rows']); // [B × P × K]
  const weighted = g.node('Mul', [rows, unsqueeze(g, values, 2)], ['weighted']);
  g.node('Add', [reduceSum(g, weighted, 1, false), b], [SCORES]);
  g.output(SCORES, 'float32', ['B', K]);
  g.meta('sapphire.architecture', spec.architecture);
  g.meta('sapphire.labels', JSON.stringify(spec.labels));
  return g.toBytes();
}
