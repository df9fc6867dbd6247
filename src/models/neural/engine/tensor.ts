/**
 * Dense float buffers, tensors and trainable parameters of the neural engine.
 *
 * The engine computes in float32 (`Float32Array`). Gradient checks switch the whole process to
 * float64 with {@link setPrecision} so finite differences are exact enough to compare against;
 * a process only ever sees one array type, so V8 keeps every kernel monomorphic.
 */

/** A dense float buffer: float32 in training and serving, float64 in gradient checks. */
export type FloatArray = Float32Array | Float64Array;

/** Numeric precision of newly allocated buffers. */
export type Precision = 'float32' | 'float64';

let precision: Precision = 'float32';

/** Sets the precision of every buffer allocated from now on (call once, before building a model). */
export function setPrecision(p: Precision): void {
  precision = p;
}

/** The precision new buffers get. */
export function getPrecision(): Precision {
  return precision;
}

/** A zero-filled buffer of `n` floats in the current precision. */
export function alloc(n: number): FloatArray {
  return precision === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

/** A buffer in the current precision holding a copy of `values`. */
export function fromValues(values: ArrayLike<number>): FloatArray {
  const out = alloc(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]!;
  return out;
}

/** A dense row-major tensor: a shape and a flat buffer. */
export interface Tensor {
  shape: number[];
  data: FloatArray;
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A zero tensor of the given shape. */
export function zeros(shape: number[]): Tensor {
  return { shape: [...shape], data: alloc(sizeOf(shape)) };
}

/**
 * A trainable parameter: its value, a gradient of the same shape, and for embedding tables the rows
 * touched since the last `zeroGrad` (sparse gradients: only those rows are non-zero).
 */
export interface Param {
  /** Unique name inside its model, e.g. `encoder.fwd.wx`; initialisers and optimizers key on it. */
  name: string;
  shape: number[];
  value: FloatArray;
  grad: FloatArray;
  /** Row width for sparse parameters (embedding tables); undefined for dense ones. */
  rowSize?: number;
  /** Rows with a non-zero gradient (sparse parameters only), in first-touch order. */
  touchedRows?: number[];
  /** Per-row flag mirroring `touchedRows`, so a row is recorded once. */
  touchedMark?: Uint8Array;
  /** Frozen parameters keep their value (pretrained vectors kept fixed); they still get no gradient. */
  frozen?: boolean;
}

/** Creates a zero-valued parameter; `sparseRows` marks an embedding-style table updated by rows. */
export function createParam(name: string, shape: number[], sparseRows = false): Param {
  const n = sizeOf(shape);
  const p: Param = { name, shape: [...shape], value: alloc(n), grad: alloc(n) };
  if (sparseRows) {
    p.rowSize = shape[shape.length - 1]!;
    p.touchedRows = [];
    p.touchedMark = new Uint8Array(n / p.rowSize);
  }
  return p;
}

/** Records that row `row` of a sparse parameter received gradient. */
export function touchRow(p: Param, row: number): void {
  if (p.touchedMark && p.touchedMark[row] === 0) {
    p.touchedMark[row] = 1;
    p.touchedRows!.push(row);
  }
}

/** Clears the gradients of `params` (only the touched rows of sparse ones). */
export function zeroGrad(params: readonly Param[]): void {
  for (const p of params) {
    if (p.rowSize !== undefined && p.touchedRows) {
      const w = p.rowSize;
      for (const r of p.touchedRows) {
        p.grad.fill(0, r * w, r * w + w);
        p.touchedMark![r] = 0;
      }
      p.touchedRows.length = 0;
    } else {
      p.grad.fill(0);
    }
  }
}

/** Total number of scalar values in `params`. */
export function countParams(params: readonly Param[]): number {
  let n = 0;
  for (const p of params) n += p.value.length;
  return n;
}

/** Something that owns parameters (a layer or a model). */
export interface HasParams {
  params(): Param[];
}
