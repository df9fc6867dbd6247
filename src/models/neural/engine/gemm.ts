/**
 * A register-tiled fp32 matrix multiply (GEMM) in plain TypeScript, BLAS-style.
 *
 * `C = alpha · op(A) · op(B) + beta · C` over row-major buffers with leading dimensions and offsets,
 * so callers can multiply sub-blocks (one time step of a sequence batch) without copying.
 * Operands are packed into contiguous float64 panels (4 rows of A, 4 columns of B, one block of K at a
 * time), which makes transposes free and lets the 4×4 micro-kernel stream both panels from L1 with
 * no float32 → float64 conversions in the inner loop. Summation order is fixed, so results are
 * deterministic.
 */
import { gemmWasmF32, WasmPackedRight } from './gemm-wasm.ts';
import type { FloatArray } from './tensor.ts';

let useWasm = process.env.SAPPHIRE_GEMM !== 'js';

/**
 * Chooses the float32 kernel: WebAssembly SIMD (default, when the runtime has it) or plain
 * TypeScript (also chosen by the environment variable `SAPPHIRE_GEMM=js`). Float64 buffers
 * (gradient checks) always use the TypeScript kernel.
 */
export function setGemmBackend(backend: 'wasm' | 'js'): void {
  useWasm = backend === 'wasm';
}

const MR = 4;
const NR = 4;
const KC = 256;
const MC = 64;

const packA = new Float64Array(MC * KC);
let packB = new Float64Array(KC * 64);

/** Packs rows [i0, i0+mc) × columns [p0, p0+kc) of op(A) into MR-row panels (k-major, zero-padded). */
function packPanelsA(
  transA: boolean,
  a: FloatArray,
  aOff: number,
  lda: number,
  i0: number,
  mc: number,
  p0: number,
  kc: number,
): void {
  const panels = Math.ceil(mc / MR);
  let q = 0;
  for (let ip = 0; ip < panels; ip++) {
    const rows = Math.min(MR, mc - ip * MR);
    const r0 = i0 + ip * MR;
    if (!transA) {
      // op(A)[i][p] = a[aOff + i*lda + p]
      const b0 = aOff + r0 * lda + p0;
      if (rows === MR) {
        const b1 = b0 + lda;
        const b2 = b1 + lda;
        const b3 = b2 + lda;
        for (let p = 0; p < kc; p++) {
          packA[q] = a[b0 + p]!;
          packA[q + 1] = a[b1 + p]!;
          packA[q + 2] = a[b2 + p]!;
          packA[q + 3] = a[b3 + p]!;
          q += 4;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let ii = 0; ii < MR; ii++) packA[q + ii] = ii < rows ? a[b0 + ii * lda + p]! : 0;
          q += 4;
        }
      }
    } else {
      // op(A)[i][p] = a[aOff + p*lda + i]
      for (let p = 0; p < kc; p++) {
        const base = aOff + (p0 + p) * lda + r0;
        for (let ii = 0; ii < MR; ii++) packA[q + ii] = ii < rows ? a[base + ii]! : 0;
        q += 4;
      }
    }
  }
}

/** Packs rows [p0, p0+kc) × all n columns of op(B) into NR-column panels (k-major, zero-padded). */
function packPanelsB(
  transB: boolean,
  b: FloatArray,
  bOff: number,
  ldb: number,
  n: number,
  p0: number,
  kc: number,
): void {
  const panels = Math.ceil(n / NR);
  let q = 0;
  for (let jp = 0; jp < panels; jp++) {
    const cols = Math.min(NR, n - jp * NR);
    const c0 = jp * NR;
    if (!transB) {
      // op(B)[p][j] = b[bOff + p*ldb + j]
      for (let p = 0; p < kc; p++) {
        const base = bOff + (p0 + p) * ldb + c0;
        if (cols === NR) {
          packB[q] = b[base]!;
          packB[q + 1] = b[base + 1]!;
          packB[q + 2] = b[base + 2]!;
          packB[q + 3] = b[base + 3]!;
        } else {
          for (let jj = 0; jj < NR; jj++) packB[q + jj] = jj < cols ? b[base + jj]! : 0;
        }
        q += 4;
      }
    } else {
      // op(B)[p][j] = b[bOff + j*ldb + p]
      const b0 = bOff + c0 * ldb + p0;
      if (cols === NR) {
        const b1 = b0 + ldb;
        const b2 = b1 + ldb;
        const b3 = b2 + ldb;
        for (let p = 0; p < kc; p++) {
          packB[q] = b[b0 + p]!;
          packB[q + 1] = b[b1 + p]!;
          packB[q + 2] = b[b2 + p]!;
          packB[q + 3] = b[b3 + p]!;
          q += 4;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let jj = 0; jj < NR; jj++) packB[q + jj] = jj < cols ? b[b0 + jj * ldb + p]! : 0;
          q += 4;
        }
      }
    }
  }
}

/** The 4×4 micro-kernel: C[r0.., 4×4] += alpha · (A panel at qa) · (B panel at qb) over kc steps. */
function kernel4x4(
  kc: number,
  qa: number,
  qb: number,
  c: FloatArray,
  r0: number,
  ldc: number,
  alpha: number,
  rows: number,
  cols: number,
): void {
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  for (let p = 0; p < kc; p++) {
    const b0 = packB[qb]!;
    const b1 = packB[qb + 1]!;
    const b2 = packB[qb + 2]!;
    const b3 = packB[qb + 3]!;
    let av = packA[qa]!;
    c00 += av * b0;
    c01 += av * b1;
    c02 += av * b2;
    c03 += av * b3;
    av = packA[qa + 1]!;
    c10 += av * b0;
    c11 += av * b1;
    c12 += av * b2;
    c13 += av * b3;
    av = packA[qa + 2]!;
    c20 += av * b0;
    c21 += av * b1;
    c22 += av * b2;
    c23 += av * b3;
    av = packA[qa + 3]!;
    c30 += av * b0;
    c31 += av * b1;
    c32 += av * b2;
    c33 += av * b3;
    qa += 4;
    qb += 4;
  }
  if (rows === MR && cols === NR) {
    const r1 = r0 + ldc;
    const r2 = r1 + ldc;
    const r3 = r2 + ldc;
    c[r0] = c[r0]! + alpha * c00;
    c[r0 + 1] = c[r0 + 1]! + alpha * c01;
    c[r0 + 2] = c[r0 + 2]! + alpha * c02;
    c[r0 + 3] = c[r0 + 3]! + alpha * c03;
    c[r1] = c[r1]! + alpha * c10;
    c[r1 + 1] = c[r1 + 1]! + alpha * c11;
    c[r1 + 2] = c[r1 + 2]! + alpha * c12;
    c[r1 + 3] = c[r1 + 3]! + alpha * c13;
    c[r2] = c[r2]! + alpha * c20;
    c[r2 + 1] = c[r2 + 1]! + alpha * c21;
    c[r2 + 2] = c[r2 + 2]! + alpha * c22;
    c[r2 + 3] = c[r2 + 3]! + alpha * c23;
    c[r3] = c[r3]! + alpha * c30;
    c[r3 + 1] = c[r3 + 1]! + alpha * c31;
    c[r3 + 2] = c[r3 + 2]! + alpha * c32;
    c[r3 + 3] = c[r3 + 3]! + alpha * c33;
  } else {
    const acc = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
    for (let ii = 0; ii < rows; ii++) {
      for (let jj = 0; jj < cols; jj++) {
        const at = r0 + ii * ldc + jj;
        c[at] = c[at]! + alpha * acc[ii * 4 + jj]!;
      }
    }
  }
}

/**
 * General matrix multiply: `C = alpha · op(A) · op(B) + beta · C`, where op(X) is X or Xᵀ.
 *
 * `op(A)` is m × k, `op(B)` is k × n and `C` is m × n; all row-major with leading dimensions
 * `lda`, `ldb`, `ldc` (the row stride of the stored matrix) and start offsets.
 *
 * @example
 * // C (2×2) = A (2×3) · B (3×2)
 * gemm(false, false, 2, 2, 3, 1, a, 0, 3, b, 0, 2, 0, c, 0, 2);
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: FloatArray,
  aOff: number,
  lda: number,
  b: FloatArray,
  bOff: number,
  ldb: number,
  beta: number,
  c: FloatArray,
  cOff: number,
  ldc: number,
): void {
  if (m <= 0 || n <= 0) return;
  if (beta !== 1) {
    for (let i = 0; i < m; i++) {
      const row = cOff + i * ldc;
      if (beta === 0) c.fill(0, row, row + n);
      else for (let j = 0; j < n; j++) c[row + j] = beta * c[row + j]!;
    }
  }
  if (k <= 0 || alpha === 0) return;
  if (
    useWasm &&
    a instanceof Float32Array &&
    b instanceof Float32Array &&
    c instanceof Float32Array &&
    gemmWasmF32(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, c, cOff, ldc)
  ) {
    return;
  }
  const nPanels = Math.ceil(n / NR);
  const needB = nPanels * NR * Math.min(k, KC);
  if (packB.length < needB) packB = new Float64Array(needB);
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    packPanelsB(transB, b, bOff, ldb, n, p0, kc);
    for (let i0 = 0; i0 < m; i0 += MC) {
      const mc = Math.min(MC, m - i0);
      packPanelsA(transA, a, aOff, lda, i0, mc, p0, kc);
      const mPanels = Math.ceil(mc / MR);
      for (let jp = 0; jp < nPanels; jp++) {
        const cols = Math.min(NR, n - jp * NR);
        const bBase = jp * kc * NR;
        for (let ip = 0; ip < mPanels; ip++) {
          const rows = Math.min(MR, mc - ip * MR);
          kernel4x4(
            kc,
            ip * kc * MR,
            bBase,
            c,
            cOff + (i0 + ip * MR) * ldc + jp * NR,
            ldc,
            alpha,
            rows,
            cols,
          );
        }
      }
    }
  }
}

/**
 * A right-hand operand op(B) [k × n] prepared once and multiplied by many left operands, e.g. an
 * LSTM's recurrent weights at every time step. With float32 buffers and the WebAssembly kernel it is
 * packed once into kernel memory; otherwise it keeps a reference to `b` (which must not change
 * between `pack` and the last `multiply`).
 *
 * @example
 * const wh = new PackedRight();
 * wh.pack(false, weights, 0, 4 * H, H, 4 * H);
 * for (const t of steps) wh.multiply(B, 1, h, t * B * H, H, 1, gates, t * B * 4 * H, 4 * H);
 */
export class PackedRight {
  private readonly wasm = new WasmPackedRight();
  private packed = false;
  private transB = false;
  private b: FloatArray = new Float32Array(0);
  private bOff = 0;
  private ldb = 0;
  private k = 0;
  private n = 0;

  /** Prepares op(B) (k × n). */
  pack(transB: boolean, b: FloatArray, bOff: number, ldb: number, k: number, n: number): void {
    this.transB = transB;
    this.b = b;
    this.bOff = bOff;
    this.ldb = ldb;
    this.k = k;
    this.n = n;
    this.packed =
      useWasm && b instanceof Float32Array && k > 0 && n > 0 && this.wasm.pack(transB, b, bOff, ldb, k, n);
  }

  /** `C = alpha · A · op(B) + beta · C` for an m × k block of A (not transposed). */
  multiply(
    m: number,
    alpha: number,
    a: FloatArray,
    aOff: number,
    lda: number,
    beta: number,
    c: FloatArray,
    cOff: number,
    ldc: number,
  ): void {
    if (this.packed && a instanceof Float32Array && c instanceof Float32Array && m > 0) {
      if (beta !== 1) {
        for (let i = 0; i < m; i++) {
          const row = cOff + i * ldc;
          if (beta === 0) c.fill(0, row, row + this.n);
          else for (let j = 0; j < this.n; j++) c[row + j] = beta * c[row + j]!;
        }
      }
      if (alpha !== 0) this.wasm.multiply(m, alpha, a, aOff, lda, c, cOff, ldc);
      return;
    }
    gemm(
      false,
      this.transB,
      m,
      this.n,
      this.k,
      alpha,
      a,
      aOff,
      lda,
      this.b,
      this.bOff,
      this.ldb,
      beta,
      c,
      cOff,
      ldc,
    );
  }
}

/** The naive triple loop, for tests and as a reference: same contract as {@link gemm}. */
export function gemmNaive(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: FloatArray,
  aOff: number,
  lda: number,
  b: FloatArray,
  bOff: number,
  ldb: number,
  beta: number,
  c: FloatArray,
  cOff: number,
  ldc: number,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[aOff + p * lda + i]! : a[aOff + i * lda + p]!;
        const bv = transB ? b[bOff + j * ldb + p]! : b[bOff + p * ldb + j]!;
        s += av * bv;
      }
      const at = cOff + i * ldc + j;
      c[at] = (beta === 0 ? 0 : beta * c[at]!) + alpha * s;
    }
  }
}
