import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../../../src/core/rng.ts';
import { lbfgsIterations, minimize } from '../../../src/models/optim/lbfgs.ts';

/** f(x) = Σ c_i (x_i − t_i)², an ill-conditioned separable quadratic. */
function quadratic(c: number[], t: number[]) {
  return (x: Float64Array, g: Float64Array): number => {
    let v = 0;
    for (let i = 0; i < x.length; i++) {
      const d = x[i]! - t[i]!;
      v += c[i]! * d * d;
      g[i] = 2 * c[i]! * d;
    }
    return v;
  };
}

/** Least squares ½‖Ax − b‖² with a dense row-major A (m × n). */
function leastSquares(a: number[][], b: number[]) {
  return (x: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let v = 0;
    for (let r = 0; r < a.length; r++) {
      const row = a[r]!;
      let pred = 0;
      for (let i = 0; i < x.length; i++) pred += row[i]! * x[i]!;
      const res = pred - b[r]!;
      v += 0.5 * res * res;
      for (let i = 0; i < x.length; i++) g[i] = g[i]! + res * row[i]!;
    }
    return v;
  };
}

test('L-BFGS finds the minimum of an ill-conditioned quadratic', () => {
  const c = [1, 10, 100, 1000, 0.1];
  const t = [3, -2, 0.5, 7, -1];
  const r = minimize(quadratic(c, t), new Float64Array(5), { epsilon: 1e-10, maxIterations: 200 });
  assert.equal(r.status, 'converged');
  t.forEach((ti, i) => {
    assert.ok(Math.abs(r.x[i]! - ti) < 1e-6, `x[${i}] = ${r.x[i]} ≠ ${ti}`);
  });
  assert.ok(r.value < 1e-10);
});

test('L-BFGS minimises the Rosenbrock function', () => {
  const f = (x: Float64Array, g: Float64Array): number => {
    const [a, b] = [x[0]!, x[1]!];
    g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
    g[1] = 200 * (b - a * a);
    return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
  };
  const r = minimize(f, Float64Array.from([-1.2, 1]), { epsilon: 1e-8, maxIterations: 500, period: 0 });
  assert.ok(Math.abs(r.x[0]! - 1) < 1e-4 && Math.abs(r.x[1]! - 1) < 1e-4, `ended at ${r.x}`);
});

test('OWL-QN with an identity design gives the soft-thresholded solution', () => {
  // min ½‖x − b‖² + λ‖x‖₁ has the closed form x_i = sign(b_i) · max(|b_i| − λ, 0).
  const b = [3, -0.2, 0.5, -4, 0.05, 1.2];
  const lambda = 0.6;
  const eye = b.map((_, r) => b.map((__, c) => (r === c ? 1 : 0)));
  const r = minimize(leastSquares(eye, b), new Float64Array(b.length), {
    l1: lambda,
    epsilon: 1e-9,
    maxIterations: 500,
  });
  b.forEach((bi, i) => {
    const want = Math.sign(bi) * Math.max(Math.abs(bi) - lambda, 0);
    assert.ok(Math.abs(r.x[i]! - want) < 1e-6, `x[${i}] = ${r.x[i]}, want ${want}`);
    if (want === 0) assert.equal(r.x[i], 0, `x[${i}] must be exactly zero`);
  });
});

test('OWL-QN recovers a known sparse solution of L1-regularised least squares', () => {
  const rng = createRng(3);
  const n = 12;
  const rows = 60;
  const truth = new Array(n).fill(0);
  truth[1] = 2;
  truth[5] = -3;
  truth[9] = 1.5;
  const a = Array.from({ length: rows }, () => Array.from({ length: n }, () => rng.normal()));
  const b = a.map((row) => row.reduce((s, v, i) => s + v * truth[i]!, 0));
  const lambda = 1;
  const r = minimize(leastSquares(a, b), new Float64Array(n), {
    l1: lambda,
    epsilon: 1e-10,
    maxIterations: 1000,
  });

  // Reference solution by coordinate descent (exact per-coordinate soft-thresholding).
  const x = new Array(n).fill(0);
  const colNorm = Array.from({ length: n }, (_, j) => a.reduce((s, row) => s + row[j]! ** 2, 0));
  for (let sweep = 0; sweep < 2000; sweep++) {
    for (let j = 0; j < n; j++) {
      let rho = 0;
      for (let k = 0; k < rows; k++) {
        let pred = 0;
        for (let i = 0; i < n; i++) if (i !== j) pred += a[k]![i]! * x[i]!;
        rho += a[k]![j]! * (b[k]! - pred);
      }
      x[j] = (Math.sign(rho) * Math.max(Math.abs(rho) - lambda, 0)) / colNorm[j]!;
    }
  }
  for (let i = 0; i < n; i++) {
    assert.ok(Math.abs(r.x[i]! - x[i]!) < 1e-4, `x[${i}] = ${r.x[i]}, coordinate descent ${x[i]}`);
    if (truth[i] === 0) assert.equal(r.x[i], 0, `x[${i}] should be exactly zero`);
    else assert.ok(Math.abs(r.x[i]! - truth[i]!) < 0.1);
  }
});

test('L1 can be restricted to a range of coordinates', () => {
  const b = [0.3, 0.3];
  const eye = [
    [1, 0],
    [0, 1],
  ];
  const r = minimize(leastSquares(eye, b), new Float64Array(2), {
    l1: 1,
    l1Start: 0,
    l1End: 1,
    epsilon: 1e-10,
  });
  assert.equal(r.x[0], 0);
  assert.ok(Math.abs(r.x[1]! - 0.3) < 1e-8);
});

test('the iteration generator yields every iteration and can be stopped early', () => {
  const seen: number[] = [];
  for (const it of lbfgsIterations(quadratic([1, 50], [1, 1]), new Float64Array(2), { epsilon: 1e-12 })) {
    seen.push(it.iteration);
    if (it.iteration === 2) break;
  }
  assert.deepEqual(seen, [1, 2]);
});

test('the objective value never increases between iterations', () => {
  let last = Number.POSITIVE_INFINITY;
  const f = quadratic([1, 10, 100], [1, 2, 3]);
  for (const it of lbfgsIterations(f, new Float64Array(3), { l1: 0.5, epsilon: 1e-9 })) {
    assert.ok(it.value <= last + 1e-12);
    last = it.value;
  }
});

test('invalid options fail with the option name', () => {
  assert.throws(() => minimize(quadratic([1], [1]), new Float64Array(1), { memory: 0 }), /memory/);
  assert.throws(() => minimize(quadratic([1], [1]), new Float64Array(1), { l1: -1 }), /l1/);
});
