import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createRng } from '../../../src/core/rng.ts';
import { Crf } from '../../../src/models/neural/engine/crf.ts';
import { seqBatch } from '../../../src/models/neural/engine/seq.ts';
import { setPrecision } from '../../../src/models/neural/engine/tensor.ts';

setPrecision('float64');

/** Every tag path of length L over K tags. */
function allPaths(L: number, K: number): number[][] {
  let paths: number[][] = [[]];
  for (let t = 0; t < L; t++) paths = paths.flatMap((p) => Array.from({ length: K }, (_, k) => [...p, k]));
  return paths;
}

function pathScore(crf: Crf, em: Float64Array | Float32Array, B: number, b: number, path: number[]): number {
  const K = crf.numTags;
  let s = crf.start.value[path[0]!]! + crf.end.value[path[path.length - 1]!]!;
  path.forEach((y, t) => {
    s += em[(t * B + b) * K + y]!;
    if (t > 0) s += crf.trans.value[path[t - 1]! * K + y]!;
  });
  return s;
}

test('Crf agrees with brute-force enumeration: log Z, Viterbi, marginals, path probabilities', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
      fc.integer(),
      (lengths, seed) => {
        const rng = createRng(seed);
        const K = 3;
        const seq = seqBatch(lengths);
        const crf = new Crf('crf', K, rng);
        for (const p of crf.params()) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal(0, 1);
        const em = new Float64Array(seq.T * seq.B * K).map(() => rng.normal(0, 1.5));
        const logZ = crf.logPartition(em, seq);
        const best = crf.decode(em, seq);
        const marg = crf.marginals(em, seq);
        for (let b = 0; b < seq.B; b++) {
          const L = lengths[b]!;
          const paths = allPaths(L, K);
          const scores = paths.map((p) => pathScore(crf, em, seq.B, b, p));
          const z = Math.log(scores.reduce((s, v) => s + Math.exp(v), 0));
          assert.ok(Math.abs(z - logZ[b]!) < 1e-9, `log Z ${logZ[b]} vs brute force ${z}`);
          const argmax = scores.indexOf(Math.max(...scores));
          const decoded = Array.from({ length: L }, (_, t) => best[t * seq.B + b]!);
          assert.deepEqual(decoded, paths[argmax]);
          for (let t = 0; t < L; t++) {
            for (let k = 0; k < K; k++) {
              const brute = paths.reduce((s, p, i) => s + (p[t] === k ? Math.exp(scores[i]! - z) : 0), 0);
              assert.ok(Math.abs(brute - marg[(t * seq.B + b) * K + k]!) < 1e-9, 'token marginal');
            }
          }
          if (L >= 2) {
            const sub = [1, 2];
            const brute = paths.reduce(
              (s, p, i) => s + (p[0] === 1 && p[1] === 2 ? Math.exp(scores[i]! - z) : 0),
              0,
            );
            assert.ok(Math.abs(brute - crf.pathProbability(em, seq, b, 0, sub)) < 1e-9, 'path probability');
          }
        }
      },
    ),
    { numRuns: 30 },
  );
});
