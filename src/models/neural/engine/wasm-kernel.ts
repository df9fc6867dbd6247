/**
 * A WebAssembly SIMD (f32x4) GEMM block kernel, assembled byte by byte at load (no toolchain).
 *
 * `block(mPanels, nPanels, kc, aPtr, bPtr, cPtr, ldcBytes)` multiplies packed panels that live in the
 * module's memory: A as 4-row panels (k-major, 4 floats per k), B as 8-column panels (8 floats
 * per k), writing (not adding) the [4·mPanels × 8·nPanels] product to C with row stride `ldcBytes`.
 * The 4×8 micro-kernel keeps 8 f32x4 accumulators in registers. Summation order is fixed, so
 * results are deterministic; it accumulates in float32 (the JS kernel accumulates in float64).
 */

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function str(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

const I32 = 0x7f;
const V128 = 0x7b;
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const tee = (i: number) => [0x22, ...uleb(i)];
const i32c = (v: number) => [0x41, ...sleb(v)];
const ADD = 0x6a;
const SUB = 0x6b;
const MUL = 0x6c;
const LT_U = 0x49;
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const memarg = (offset: number) => [0, ...uleb(offset)];
const v128Load = (offset: number) => simd(0x00, ...memarg(offset));
const v128Splat32 = (offset: number) => simd(0x09, ...memarg(offset));
const v128Store = (offset: number) => simd(0x0b, ...memarg(offset));
const F32X4_ADD = simd(0xe4);
const F32X4_MUL = simd(0xe6);

/** Kernel locals: params kc=0, a=1, b=2, c=3, ldc=4; acc 5..12; b0=13, b1=14, av=15. */
function kernelBody(): number[] {
  const body: number[] = [];
  body.push(0x03, 0x40); // loop
  body.push(...get(2), ...v128Load(0), ...set(13));
  body.push(...get(2), ...v128Load(16), ...set(14));
  for (let r = 0; r < 4; r++) {
    body.push(...get(1), ...v128Splat32(4 * r), ...set(15));
    for (let h = 0; h < 2; h++) {
      const acc = 5 + 2 * r + h;
      body.push(...get(acc), ...get(15), ...get(13 + h), ...F32X4_MUL, ...F32X4_ADD, ...set(acc));
    }
  }
  body.push(...get(1), ...i32c(16), ADD, ...set(1));
  body.push(...get(2), ...i32c(32), ADD, ...set(2));
  body.push(...get(0), ...i32c(1), SUB, ...tee(0), 0x0d, 0); // br_if loop while kc != 0
  body.push(0x0b); // end loop
  for (let r = 0; r < 4; r++) {
    body.push(...get(3), ...get(5 + 2 * r), ...v128Store(0));
    body.push(...get(3), ...get(6 + 2 * r), ...v128Store(16));
    if (r < 3) body.push(...get(3), ...get(4), ADD, ...set(3));
  }
  body.push(0x0b);
  const locals = vec([[...uleb(11), V128]]);
  return [...locals, ...body];
}

/** Block locals: params mP=0, nP=1, kc=2, a=3, b=4, c=5, ldc=6; jp=7, ip=8, aStride=9, bStride=10. */
function blockBody(): number[] {
  const body: number[] = [];
  body.push(...get(2), ...i32c(16), MUL, ...set(9));
  body.push(...get(2), ...i32c(32), MUL, ...set(10));
  body.push(0x03, 0x40); // loop jp
  body.push(...i32c(0), ...set(8));
  body.push(0x03, 0x40); // loop ip
  body.push(...get(2));
  body.push(...get(3), ...get(8), ...get(9), MUL, ADD);
  body.push(...get(4), ...get(7), ...get(10), MUL, ADD);
  body.push(...get(5), ...get(8), ...get(6), ...i32c(4), MUL, MUL, ADD, ...get(7), ...i32c(32), MUL, ADD);
  body.push(...get(6));
  body.push(0x10, 0); // call kernel
  body.push(...get(8), ...i32c(1), ADD, ...tee(8), ...get(0), LT_U, 0x0d, 0);
  body.push(0x0b);
  body.push(...get(7), ...i32c(1), ADD, ...tee(7), ...get(1), LT_U, 0x0d, 0);
  body.push(0x0b);
  body.push(0x0b);
  return [...vec([[...uleb(4), I32]]), ...body];
}

/** The module's bytes. */
export function gemmModuleBytes(): Uint8Array<ArrayBuffer> {
  const types = vec([
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0],
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]), 0],
  ]);
  const funcs = vec([[0], [1]]);
  const memory = vec([[0x00, ...uleb(16)]]);
  const exports = vec([
    [...str('mem'), 0x02, 0],
    [...str('block'), 0x00, 1],
  ]);
  const kernel = kernelBody();
  const block = blockBody();
  const code = vec([
    [...uleb(kernel.length), ...kernel],
    [...uleb(block.length), ...block],
  ]);
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, types),
    ...section(3, funcs),
    ...section(5, memory),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

/** The instantiated kernel: its memory and the block function. */
export interface WasmGemmKernel {
  memory: WebAssembly.Memory;
  block: (
    mPanels: number,
    nPanels: number,
    kc: number,
    a: number,
    b: number,
    c: number,
    ldcBytes: number,
  ) => void;
}

/** Compiles and instantiates the kernel; undefined where WebAssembly SIMD is unavailable. */
export function createWasmGemmKernel(): WasmGemmKernel | undefined {
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(gemmModuleBytes()), {});
    const { mem, block } = instance.exports as { mem: WebAssembly.Memory; block: WasmGemmKernel['block'] };
    return { memory: mem, block };
  } catch {
    return undefined;
  }
}
