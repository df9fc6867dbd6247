/**
 * The float32 GEMM path over the WebAssembly SIMD kernel: packs op(A) into 4-row panels and op(B)
 * into 8-column panels inside the kernel's memory (K in blocks of 256), runs the kernel, and adds
 * `alpha ·` the product into C. Same contract as `gemm` (beta already applied by the caller).
 */
import { createWasmGemmKernel, type WasmGemmKernel } from './wasm-kernel.ts';

const MR = 4;
const NR = 8;
const KC = 256;
const MC = 128;

let kernel: WasmGemmKernel | undefined | null = null;
let view = new Float32Array(0);
/** Bump allocator over the kernel memory (bytes); regions are never freed, only reused by their owner. */
let top = 0;

/** The kernel, created on first use (undefined where WebAssembly SIMD is missing). */
function getKernel(): WasmGemmKernel | undefined {
  if (kernel === null) kernel = createWasmGemmKernel();
  return kernel;
}

/** Whether the WebAssembly SIMD kernel is available in this runtime. */
export function wasmGemmAvailable(): boolean {
  return getKernel() !== undefined;
}

/** The float view of the kernel memory (refreshed after the memory grew). */
function memView(k: WasmGemmKernel): Float32Array {
  if (view.buffer !== k.memory.buffer) view = new Float32Array(k.memory.buffer);
  return view;
}

/** A region of kernel memory owned by one user, reallocated (bigger) when it is too small. */
class Region {
  offset = 0;
  floats = 0;
  /** Makes room for `floats` floats; returns the float index of the region's start. */
  ensure(k: WasmGemmKernel, floats: number): number {
    if (floats > this.floats) {
      // Grow by at least 1.5× so a run of slightly larger requests does not leave many dead regions.
      const bytes = Math.ceil((Math.max(floats, Math.ceil(this.floats * 1.5)) * 4) / 64) * 64;
      const start = top;
      top += bytes;
      const have = k.memory.buffer.byteLength;
      if (have < top) k.memory.grow(Math.ceil((top - have) / 65536));
      this.offset = start / 4;
      this.floats = bytes / 4;
    }
    return this.offset;
  }
}

const scratchA = new Region();
const scratchB = new Region();
const scratchC = new Region();

/** Packs op(B)[0:k, 0:n] into 8-column panels per K block at float index `at` of `mem`. */
function packRight(
  mem: Float32Array,
  at: number,
  transB: boolean,
  b: Float32Array,
  bOff: number,
  ldb: number,
  n: number,
  p0: number,
  kc: number,
): void {
  const nPanels = Math.ceil(n / NR);
  let q = at;
  for (let jp = 0; jp < nPanels; jp++) {
    const c0 = jp * NR;
    const cols = Math.min(NR, n - c0);
    for (let p = 0; p < kc; p++) {
      if (!transB) {
        const base = bOff + (p0 + p) * ldb + c0;
        if (cols === NR) {
          for (let jj = 0; jj < NR; jj++) mem[q + jj] = b[base + jj]!;
        } else {
          for (let jj = 0; jj < NR; jj++) mem[q + jj] = jj < cols ? b[base + jj]! : 0;
        }
      } else {
        const base = bOff + c0 * ldb + p0 + p;
        for (let jj = 0; jj < NR; jj++) mem[q + jj] = jj < cols ? b[base + jj * ldb]! : 0;
      }
      q += NR;
    }
  }
}

/** Multiplies packed panels of op(A) rows by packed B (block p0) and adds alpha · product into C. */
function multiplyPacked(
  kern: WasmGemmKernel,
  transA: boolean,
  m: number,
  n: number,
  alpha: number,
  a: Float32Array,
  aOff: number,
  lda: number,
  p0: number,
  kc: number,
  bAt: number,
  c: Float32Array,
  cOff: number,
  ldc: number,
): void {
  const nPanels = Math.ceil(n / NR);
  const nPad = nPanels * NR;
  const aBase = scratchA.ensure(kern, MC * KC);
  const cBase = scratchC.ensure(kern, MC * nPad);
  const mem = memView(kern);
  for (let i0 = 0; i0 < m; i0 += MC) {
    const mc = Math.min(MC, m - i0);
    const mPanels = Math.ceil(mc / MR);
    let qa = aBase;
    for (let ip = 0; ip < mPanels; ip++) {
      const r0 = i0 + ip * MR;
      const rows = Math.min(MR, mc - ip * MR);
      if (!transA) {
        for (let ii = 0; ii < MR; ii++) {
          const base = aOff + (r0 + ii) * lda + p0;
          if (ii < rows) for (let p = 0; p < kc; p++) mem[qa + p * MR + ii] = a[base + p]!;
          else for (let p = 0; p < kc; p++) mem[qa + p * MR + ii] = 0;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const base = aOff + (p0 + p) * lda + r0;
          for (let ii = 0; ii < MR; ii++) mem[qa + p * MR + ii] = ii < rows ? a[base + ii]! : 0;
        }
      }
      qa += kc * MR;
    }
    kern.block(mPanels, nPanels, kc, aBase * 4, bAt * 4, cBase * 4, nPad * 4);
    for (let i = 0; i < mc; i++) {
      const src = cBase + i * nPad;
      const dst = cOff + (i0 + i) * ldc;
      if (alpha === 1) for (let j = 0; j < n; j++) c[dst + j] = c[dst + j]! + mem[src + j]!;
      else for (let j = 0; j < n; j++) c[dst + j] = c[dst + j]! + alpha * mem[src + j]!;
    }
  }
}

/** The one region holding a packed right operand, and which instance's data it holds now. */
const packedRegion = new Region();
let resident: WasmPackedRight | undefined;

/**
 * A right-hand operand op(B) [k × n] packed once into kernel memory and multiplied many times
 * (the recurrent weights of an LSTM, used at every time step). All instances share one region of
 * kernel memory (bounded memory however many layers exist); an instance whose data was displaced
 * repacks from its source on its next multiply, so interleaving two instances is correct, just slower.
 */
export class WasmPackedRight {
  k = 0;
  n = 0;
  private transB = false;
  private b: Float32Array = new Float32Array(0);
  private bOff = 0;
  private ldb = 0;

  /** Packs op(B); returns false when the kernel is unavailable. `b` must not change while in use. */
  pack(transB: boolean, b: Float32Array, bOff: number, ldb: number, k: number, n: number): boolean {
    const kern = getKernel();
    if (!kern) return false;
    this.transB = transB;
    this.b = b;
    this.bOff = bOff;
    this.ldb = ldb;
    this.k = k;
    this.n = n;
    this.repack(kern);
    return true;
  }

  private repack(kern: WasmGemmKernel): void {
    const { k, n } = this;
    const nPad = Math.ceil(n / NR) * NR;
    const at = packedRegion.ensure(kern, nPad * k);
    const mem = memView(kern);
    for (let p0 = 0; p0 < k; p0 += KC) {
      packRight(mem, at + p0 * nPad, this.transB, this.b, this.bOff, this.ldb, n, p0, Math.min(KC, k - p0));
    }
    resident = this;
  }

  /** Adds alpha · A · B (A is m × k, not transposed) into C. */
  multiply(
    m: number,
    alpha: number,
    a: Float32Array,
    aOff: number,
    lda: number,
    c: Float32Array,
    cOff: number,
    ldc: number,
  ): void {
    const kern = getKernel()!;
    if (resident !== this) this.repack(kern);
    const nPad = Math.ceil(this.n / NR) * NR;
    for (let p0 = 0; p0 < this.k; p0 += KC) {
      const kc = Math.min(KC, this.k - p0);
      multiplyPacked(
        kern,
        false,
        m,
        this.n,
        alpha,
        a,
        aOff,
        lda,
        p0,
        kc,
        packedRegion.offset + p0 * nPad,
        c,
        cOff,
        ldc,
      );
    }
  }
}

/** Adds alpha · op(A) · op(B) to C (all float32); returns false when the kernel is unavailable. */
export function gemmWasmF32(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  aOff: number,
  lda: number,
  b: Float32Array,
  bOff: number,
  ldb: number,
  c: Float32Array,
  cOff: number,
  ldc: number,
): boolean {
  const kern = getKernel();
  if (!kern) return false;
  const nPad = Math.ceil(n / NR) * NR;
  const bAt = scratchB.ensure(kern, nPad * Math.min(k, KC));
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    packRight(memView(kern), bAt, transB, b, bOff, ldb, n, p0, kc);
    multiplyPacked(kern, transA, m, n, alpha, a, aOff, lda, p0, kc, bAt, c, cOff, ldc);
  }
  return true;
}
