/**
 * Graph fragments that map the neural engine's layers (ADR 0008) to standard ONNX ops with the same
 * weights: embedding lookups with a zero padding row, "same"-padded dilated convolutions, linear
 * layers, a bidirectional LSTM, and masks computed from padded ids.
 */
import type { Conv1d } from '../../neural/engine/conv1d.ts';
import type { Linear } from '../../neural/engine/linear.ts';
import type { BiLstm, Lstm } from '../../neural/engine/lstm.ts';
import type { FloatArray } from '../../neural/engine/tensor.ts';
import { attr, type OnnxGraphBuilder } from '../graph-builder.ts';

/** A copy of a [rows × dim] table with one zero row appended: id `rows` is the padding id. */
export function withZeroRow(table: FloatArray, rows: number, dim: number): Float32Array {
  const out = new Float32Array((rows + 1) * dim);
  out.set(table.subarray(0, rows * dim));
  return out;
}

/** Adds a constant int64 vector (shapes, axes) and returns its name. */
export function int64Const(g: OnnxGraphBuilder, prefix: string, values: readonly number[]): string {
  return g.initializer(
    g.fresh(prefix),
    BigInt64Array.from(values, (v) => BigInt(v)),
    [values.length],
  );
}

/** Adds a scalar float constant and returns its name. */
export function floatScalar(g: OnnxGraphBuilder, prefix: string, value: number): string {
  return g.initializer(g.fresh(prefix), Float32Array.of(value), []);
}

/** Looks `ids` up in a table stored with a zero padding row: [...ids.shape, dim]. */
export function embeddingLookup(
  g: OnnxGraphBuilder,
  name: string,
  table: FloatArray,
  rows: number,
  dim: number,
  ids: string,
): string {
  const t = g.initializer(`${name}.table`, withZeroRow(table, rows, dim), [rows + 1, dim]);
  return g.node('Gather', [t, ids], [g.fresh(`${name}.rows`)], { axis: attr.int(0) });
}

/** 1 where `ids` < `padId` (a real position), 0 at padding: a float tensor of the ids' shape. */
export function realMask(g: OnnxGraphBuilder, ids: string, padId: number): string {
  const bound = g.initializer(g.fresh('pad_id'), BigInt64Array.of(BigInt(padId)), []);
  const less = g.node('Less', [ids, bound], [g.fresh('is_real')]);
  return g.node('Cast', [less], [g.fresh('mask')], { to: attr.int(1) });
}

/** Inserts a size-1 axis at `axis`. */
export function unsqueeze(g: OnnxGraphBuilder, x: string, axis: number): string {
  return g.node('Unsqueeze', [x, int64Const(g, 'axes', [axis])], [g.fresh(`${x}.unsq`)]);
}

/** Sums over `axis` (kept as size 1 when `keep`). */
export function reduceSum(g: OnnxGraphBuilder, x: string, axis: number, keep: boolean): string {
  return g.node('ReduceSum', [x, int64Const(g, 'axes', [axis])], [g.fresh(`${x}.sum`)], {
    keepdims: attr.int(keep ? 1 : 0),
  });
}

/** Max over `axis`, dropped (opset 17: axes is an attribute). */
export function reduceMax(g: OnnxGraphBuilder, x: string, axis: number): string {
  return g.node('ReduceMax', [x], [g.fresh(`${x}.max`)], { axes: attr.ints([axis]), keepdims: attr.int(0) });
}

/** `x · W + b` over the last axis of `x`. */
export function linear(g: OnnxGraphBuilder, name: string, layer: Linear, x: string): string {
  const w = g.initializer(`${name}.w`, Float32Array.from(layer.w.value), [layer.inSize, layer.outSize]);
  const b = g.initializer(`${name}.b`, Float32Array.from(layer.b.value), [layer.outSize]);
  const xw = g.node('MatMul', [x, w], [g.fresh(`${name}.xw`)]);
  return g.node('Add', [xw, b], [g.fresh(name)]);
}

/** The initializers of a convolution, created once and applied as often as wanted (shared weights). */
export interface ConvWeights {
  w: string;
  b: string;
  conv: Conv1d;
}

/** Adds a {@link Conv1d}'s weights: the engine's kernel [width · inSize × outSize] as ONNX's [outSize × inSize × width]. */
export function convWeights(g: OnnxGraphBuilder, name: string, conv: Conv1d): ConvWeights {
  const { inSize, outSize, width } = conv;
  const w = new Float32Array(outSize * inSize * width);
  const src = conv.w.value;
  for (let k = 0; k < width; k++)
    for (let i = 0; i < inSize; i++)
      for (let o = 0; o < outSize; o++)
        w[(o * inSize + i) * width + k] = src[(k * inSize + i) * outSize + o]!;
  return {
    w: g.initializer(`${name}.w`, w, [outSize, inSize, width]),
    b: g.initializer(`${name}.b`, Float32Array.from(conv.b.value), [outSize]),
    conv,
  };
}

/** Applies a convolution as ONNX `Conv` over [N × inSize × L] (channels first), "same" padding of `mid · dilation`. */
export function applyConv(g: OnnxGraphBuilder, weights: ConvWeights, x: string): string {
  const { width, dilation } = weights.conv;
  const pad = ((width - 1) / 2) * dilation;
  return g.node('Conv', [x, weights.w, weights.b], [g.fresh(`${weights.w}.y`)], {
    kernel_shape: attr.ints([width]),
    dilations: attr.ints([dilation]),
    pads: attr.ints([pad, pad]),
    strides: attr.ints([1]),
  });
}

/** A {@link Conv1d} applied once (see {@link convWeights} and {@link applyConv}). */
export function conv1d(g: OnnxGraphBuilder, name: string, conv: Conv1d, x: string): string {
  return applyConv(g, convWeights(g, name, conv), x);
}

/** The engine's gate order is i, f, c, o; ONNX's is i, o, f, c: ONNX gate g reads engine gate GATE_OF[g]. */
const GATE_OF = [0, 3, 1, 2] as const;

/** Writes an engine LSTM's [rows × 4H] matrix as ONNX's [4H × rows] block (gates reordered) at `at`. */
function lstmBlock(src: FloatArray, rows: number, H: number, out: Float32Array, at: number): void {
  const G4 = 4 * H;
  for (let g = 0; g < 4; g++) {
    const eg = GATE_OF[g]!;
    for (let j = 0; j < H; j++)
      for (let r = 0; r < rows; r++) out[at + (g * H + j) * rows + r] = src[r * G4 + eg * H + j]!;
  }
}

/** Writes an engine LSTM's bias as ONNX's [Wb; Rb] (8H, recurrent bias 0) at `at`. */
function lstmBias(src: FloatArray, H: number, out: Float32Array, at: number): void {
  for (let g = 0; g < 4; g++) {
    const eg = GATE_OF[g]!;
    for (let j = 0; j < H; j++) out[at + g * H + j] = src[eg * H + j]!;
  }
}

/**
 * A {@link BiLstm} as one bidirectional ONNX `LSTM` over time-major x [T × B × inSize], with
 * `lengths` (int32 [B]) as sequence_lens (the backward direction reverses each sequence within its
 * length, as the engine does); returns [T × B × 2H], forward and backward states side by side.
 */
export function biLstm(
  g: OnnxGraphBuilder,
  name: string,
  bi: BiLstm,
  x: string,
  lengths: string,
  batchShape: string,
): string {
  const H = bi.hiddenSize;
  const D = bi.inSize;
  const dirs: Lstm[] = [bi.fwd, bi.bwd];
  const W = new Float32Array(2 * 4 * H * D);
  const R = new Float32Array(2 * 4 * H * H);
  const B = new Float32Array(2 * 8 * H);
  dirs.forEach((l, d) => {
    lstmBlock(l.wx.value, D, H, W, d * 4 * H * D);
    lstmBlock(l.wh.value, H, H, R, d * 4 * H * H);
    lstmBias(l.b.value, H, B, d * 8 * H);
  });
  const w = g.initializer(`${name}.W`, W, [2, 4 * H, D]);
  const r = g.initializer(`${name}.R`, R, [2, 4 * H, H]);
  const b = g.initializer(`${name}.B`, B, [2, 8 * H]);
  const y = g.node('LSTM', [x, w, r, b, lengths], [g.fresh(`${name}.Y`)], {
    direction: attr.string('bidirectional'),
    hidden_size: attr.int(H),
  });
  // Y is [T × 2 × B × H] → [T × B × 2 × H] → [T × B × 2H].
  const yt = g.node('Transpose', [y], [g.fresh(`${name}.Yt`)], { perm: attr.ints([0, 2, 1, 3]) });
  const shape = g.node('Concat', [batchShape, int64Const(g, 'width', [2 * H])], [g.fresh('shape')], {
    axis: attr.int(0),
  });
  return g.node('Reshape', [yt, shape], [g.fresh(name)]);
}
