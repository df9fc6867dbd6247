/**
 * The float32 path (WebAssembly SIMD GEMM, packed recurrent weights) computes the same layer outputs
 * and gradients as the float64 path that the gradient checks verify.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../../../src/core/rng.ts';
import { Conv1d } from '../../../src/models/neural/engine/conv1d.ts';
import { wasmGemmAvailable } from '../../../src/models/neural/engine/gemm-wasm.ts';
import { BiLstm } from '../../../src/models/neural/engine/lstm.ts';
import { seqBatch } from '../../../src/models/neural/engine/seq.ts';
import {
  type FloatArray,
  type Param,
  setPrecision,
  zeroGrad,
} from '../../../src/models/neural/engine/tensor.ts';

function close(a: FloatArray, b: FloatArray, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-4 * (1 + Math.abs(b[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

function build<T extends { params(): Param[] }>(precision: 'float32' | 'float64', make: () => T): T {
  setPrecision(precision);
  try {
    return make();
  } finally {
    setPrecision('float32');
  }
}

test('BiLstm and dilated Conv1d: float32 (wasm kernel) matches float64 (TS kernel)', () => {
  assert.ok(wasmGemmAvailable(), 'the wasm kernel is available');
  const seq = seqBatch([7, 3, 9, 1, 5]);
  const n = seq.T * seq.B;
  const rng = createRng(3);
  const x = Array.from({ length: n * 12 }, () => rng.next() * 2 - 1);
  const dy = Array.from({ length: n * 2 * 10 }, () => rng.next() * 2 - 1);
  const results = (['float32', 'float64'] as const).map((precision) => {
    const bi = build(precision, () => new BiLstm('bi', 12, 10, createRng(1)));
    const conv = build(precision, () => new Conv1d('conv', 20, 6, createRng(2), { width: 3, dilation: 2 }));
    setPrecision(precision);
    const xs = precision === 'float32' ? Float32Array.from(x) : Float64Array.from(x);
    const dys = precision === 'float32' ? Float32Array.from(dy) : Float64Array.from(dy);
    zeroGrad([...bi.params(), ...conv.params()]);
    const h = bi.forward(xs, seq);
    const y = conv.forward(h, seq);
    const dh = conv.backward(dys.subarray(0, y.length))!;
    const dx = bi.backward(dh)!;
    setPrecision('float32');
    return { h, y, dx, grads: [...bi.params(), ...conv.params()].map((p) => p.grad) };
  });
  const [f32, f64] = results as [(typeof results)[0], (typeof results)[0]];
  close(f32.h, f64.h, 'BiLSTM output');
  close(f32.y, f64.y, 'conv output');
  close(f32.dx, f64.dx, 'input gradient');
  f32.grads.forEach((g, i) => {
    close(g, f64.grads[i]!, `param ${i} gradient`);
  });
});
