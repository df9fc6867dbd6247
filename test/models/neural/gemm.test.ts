import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createRng } from '../../../src/core/rng.ts';
import { gemm, gemmNaive, PackedRight, setGemmBackend } from '../../../src/models/neural/engine/gemm.ts';
import { wasmGemmAvailable } from '../../../src/models/neural/engine/gemm-wasm.ts';

for (const backend of ['wasm', 'js'] as const) {
  test(`gemm (${backend}) matches the naive loop for any shape, transpose, stride, offset, alpha and beta`, () => {
    setGemmBackend(backend);
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 1, max: 300 }),
          n: fc.integer({ min: 1, max: 70 }),
          k: fc.integer({ min: 0, max: 300 }),
          transA: fc.boolean(),
          transB: fc.boolean(),
          pad: fc.integer({ min: 0, max: 3 }),
          off: fc.integer({ min: 0, max: 5 }),
          alpha: fc.constantFrom(1, -0.5, 2),
          beta: fc.constantFrom(0, 1, 0.5),
          seed: fc.integer(),
        }),
        ({ m, n, k, transA, transB, pad, off, alpha, beta, seed }) => {
          const rng = createRng(seed);
          const rand = (len: number) => Float32Array.from({ length: len }, () => rng.next() * 2 - 1);
          const lda = (transA ? m : k) + pad;
          const ldb = (transB ? k : n) + pad;
          const ldc = n + pad;
          const a = rand(off + (transA ? k : m) * lda);
          const b = rand(off + (transB ? n : k) * ldb);
          const c1 = rand(off + m * ldc);
          const c2 = Float32Array.from(c1);
          gemm(transA, transB, m, n, k, alpha, a, off, lda, b, off, ldb, beta, c1, off, ldc);
          gemmNaive(transA, transB, m, n, k, alpha, a, off, lda, b, off, ldb, beta, c2, off, ldc);
          for (let i = 0; i < c1.length; i++) {
            const tol = 1e-5 * (1 + Math.sqrt(k));
            assert.ok(
              Math.abs(c1[i]! - c2[i]!) <= tol,
              `C[${i}] ${c1[i]} vs naive ${c2[i]} (m=${m} n=${n} k=${k})`,
            );
          }
        },
      ),
      { numRuns: 150 },
    );
    setGemmBackend('wasm');
  });
}

test('gemm leaves memory outside C untouched', () => {
  const a = new Float32Array([1, 2, 3, 4]);
  const b = new Float32Array([5, 6, 7, 8]);
  const c = new Float32Array(8).fill(9);
  gemm(false, false, 2, 2, 2, 1, a, 0, 2, b, 0, 2, 0, c, 2, 3);
  assert.deepEqual([...c], [9, 9, 19, 22, 9, 43, 50, 9]);
});

test('the WebAssembly SIMD kernel is available on Node 20', () => {
  assert.ok(wasmGemmAvailable(), 'WebAssembly SIMD compiles here');
});

test('PackedRight multiplies like gemm, also when two packed operands interleave', () => {
  const rng = createRng(5);
  const rand = (len: number) => Float32Array.from({ length: len }, () => rng.next() * 2 - 1);
  const w1 = rand(30 * 20);
  const w2 = rand(20 * 30);
  const p1 = new PackedRight();
  const p2 = new PackedRight();
  p1.pack(false, w1, 0, 20, 30, 20); // 30 × 20
  p2.pack(true, w2, 0, 30, 30, 20); // (20 × 30)ᵀ = 30 × 20
  const a = rand(5 * 30);
  for (const [packed, transB, w, ldb] of [
    [p1, false, w1, 20],
    [p2, true, w2, 30],
    [p1, false, w1, 20],
  ] as const) {
    const c1 = rand(5 * 20);
    const c2 = Float32Array.from(c1);
    packed.multiply(5, 0.5, a, 0, 30, 1, c1, 0, 20);
    gemmNaive(false, transB, 5, 20, 30, 0.5, a, 0, 30, w, 0, ldb, 1, c2, 0, 20);
    for (let i = 0; i < c1.length; i++)
      assert.ok(Math.abs(c1[i]! - c2[i]!) < 1e-5, `C[${i}] ${c1[i]} vs ${c2[i]}`);
  }
});
