/**
 * Numerical gradient checks (central differences in float64) for every layer of the neural engine
 * and for the CRF loss. The process switches to float64 before any layer is built.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng, type Rng } from '../../../src/core/rng.ts';
import { Activation, type ActivationKind } from '../../../src/models/neural/engine/activation.ts';
import { CharCnn, charBatch } from '../../../src/models/neural/engine/char-features.ts';
import { Conv1d } from '../../../src/models/neural/engine/conv1d.ts';
import { Crf } from '../../../src/models/neural/engine/crf.ts';
import { Dropout } from '../../../src/models/neural/engine/dropout.ts';
import { Embedding } from '../../../src/models/neural/engine/embedding.ts';
import { checkGradients, type GradTarget } from '../../../src/models/neural/engine/grad-check.ts';
import { Linear } from '../../../src/models/neural/engine/linear.ts';
import { BiLstm, Lstm } from '../../../src/models/neural/engine/lstm.ts';
import { MaxPoolTime, MeanPoolTime } from '../../../src/models/neural/engine/pooling.ts';
import { maskPadding, type SeqBatch, seqBatch } from '../../../src/models/neural/engine/seq.ts';
import { softmaxCrossEntropy } from '../../../src/models/neural/engine/softmax.ts';
import {
  alloc,
  type FloatArray,
  type Param,
  setPrecision,
  zeroGrad,
} from '../../../src/models/neural/engine/tensor.ts';

setPrecision('float64');

const TOL = 1e-6;

function randomBuffer(n: number, rng: Rng, scale = 1): FloatArray {
  const x = alloc(n);
  for (let i = 0; i < n; i++) x[i] = (2 * rng.next() - 1) * scale;
  return x;
}

function dot(a: FloatArray, b: FloatArray): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function paramTargets(params: Param[]): GradTarget[] {
  return params.map((p) => ({ name: p.name, value: p.value, grad: p.grad }));
}

/**
 * Checks a layer seen as y = f(x; θ) through the scalar loss ⟨y, R⟩ for a fixed random R:
 * `forward` computes y, `backward(R)` accumulates parameter gradients and returns dx.
 */
function checkLayer(opts: {
  params: Param[];
  x?: FloatArray;
  forward: () => FloatArray;
  backward: (dy: FloatArray) => FloatArray | undefined;
  rng: Rng;
}): void {
  const { params, x, forward, backward, rng } = opts;
  zeroGrad(params);
  const y0 = forward();
  const r = randomBuffer(y0.length, rng);
  const dx = backward(r);
  const targets = paramTargets(params);
  if (x && dx) targets.push({ name: 'input', value: x, grad: dx });
  const result = checkGradients(targets, () => dot(forward(), r), { eps: 1e-5, samples: 30 });
  assert.ok(result.checked > 0, 'some gradient entries were checked');
  assert.ok(
    result.maxRelError < TOL,
    `max relative error ${result.maxRelError}: ${JSON.stringify(result.worst)}`,
  );
}

const ragged: SeqBatch = seqBatch([4, 1, 3, 0]);

test('Linear: gradients of weights, bias and input', () => {
  const rng = createRng(1);
  const lin = new Linear('lin', 5, 3, rng);
  const x = randomBuffer(7 * 5, rng);
  checkLayer({
    params: lin.params(),
    x,
    forward: () => lin.forward(x, 7),
    backward: (dy) => lin.backward(dy),
    rng,
  });
});

for (const kind of ['tanh', 'sigmoid', 'relu'] as ActivationKind[]) {
  test(`Activation ${kind}: input gradient`, () => {
    const rng = createRng(2);
    const act = new Activation(kind);
    const x = randomBuffer(40, rng);
    checkLayer({ params: [], x, forward: () => act.forward(x), backward: (dy) => act.backward(dy), rng });
  });
}

test('Dropout: input gradient with a fixed mask', () => {
  const rng = createRng(3);
  const drop = new Dropout(0.4, rng.fork('drop'));
  const x = randomBuffer(50, rng);
  drop.forward(x, true);
  checkLayer({
    params: [],
    x,
    forward: () => drop.forward(x, true, false),
    backward: (dy) => drop.backward(dy),
    rng,
  });
});

test('Embedding: sparse row gradients (repeated ids and padding)', () => {
  const rng = createRng(4);
  const emb = new Embedding('emb', 6, 4, rng);
  const ids = Int32Array.from([1, 3, 1, -1, 5, 0]);
  checkLayer({
    params: emb.params(),
    forward: () => emb.forward(ids),
    backward: (dy) => {
      emb.backward(dy);
      return undefined;
    },
    rng,
  });
  assert.deepEqual([...emb.table.touchedRows!].sort(), [0, 1, 3, 5]);
});

test('Lstm: gradients through time on a ragged batch', () => {
  const rng = createRng(5);
  const lstm = new Lstm('lstm', 3, 4, rng);
  const x = randomBuffer(ragged.T * ragged.B * 3, rng);
  checkLayer({
    params: lstm.params(),
    x,
    forward: () => lstm.forward(x, ragged),
    backward: (dy) => lstm.backward(dy),
    rng,
  });
});

test('BiLstm: gradients of both directions and the input', () => {
  const rng = createRng(6);
  const bi = new BiLstm('bi', 3, 2, rng);
  const x = randomBuffer(ragged.T * ragged.B * 3, rng);
  checkLayer({
    params: bi.params(),
    x,
    forward: () => bi.forward(x, ragged),
    backward: (dy) => bi.backward(dy),
    rng,
  });
});

for (const dilation of [1, 2]) {
  test(`Conv1d (width 3, dilation ${dilation}): gradients on a ragged batch`, () => {
    const rng = createRng(7 + dilation);
    const conv = new Conv1d('conv', 3, 4, rng, { width: 3, dilation });
    const x = randomBuffer(ragged.T * ragged.B * 3, rng);
    maskPadding(x, ragged, 3);
    checkLayer({
      params: conv.params(),
      x,
      forward: () => conv.forward(x, ragged),
      backward: (dy) => conv.backward(dy),
      rng,
    });
  });
}

test('MaxPoolTime and MeanPoolTime: input gradients', () => {
  const rng = createRng(9);
  const x = randomBuffer(ragged.T * ragged.B * 3, rng);
  const maxPool = new MaxPoolTime();
  checkLayer({
    params: [],
    x,
    forward: () => maxPool.forward(x, ragged, 3),
    backward: (dy) => maxPool.backward(dy),
    rng,
  });
  const meanPool = new MeanPoolTime();
  checkLayer({
    params: [],
    x,
    forward: () => meanPool.forward(x, ragged, 3),
    backward: (dy) => meanPool.backward(dy),
    rng,
  });
});

test('CharCnn: gradients of char embeddings and the convolution', () => {
  const rng = createRng(10);
  const chars = new CharCnn('chars', 8, rng, { charDim: 3, filters: 4 });
  const batch = charBatch(['abc', undefined, 'ba', 'hgfed'], (c) => c.charCodeAt(0) - 97);
  checkLayer({
    params: chars.params(),
    forward: () => chars.forward(batch),
    backward: (dy) => {
      chars.backward(dy);
      return undefined;
    },
    rng,
  });
});

test('softmax cross-entropy: logit gradients (sum and mean, ignored rows)', () => {
  const rng = createRng(11);
  const logits = randomBuffer(5 * 4, rng, 2);
  const targets = Int32Array.from([0, 3, -1, 2, 1]);
  for (const reduction of ['sum', 'mean'] as const) {
    const { dLogits } = softmaxCrossEntropy(logits, 5, 4, targets, reduction);
    const r = checkGradients([{ name: 'logits', value: logits, grad: dLogits }], () => {
      return softmaxCrossEntropy(logits, 5, 4, targets, reduction).loss;
    });
    assert.ok(r.maxRelError < TOL, `${reduction}: ${JSON.stringify(r.worst)}`);
  }
});

test('Crf: negative log-likelihood gradients of emissions, transitions, start and end', () => {
  const rng = createRng(12);
  const K = 4;
  const crf = new Crf('crf', K, rng);
  crf.start.value.set(randomBuffer(K, rng));
  crf.end.value.set(randomBuffer(K, rng));
  const em = randomBuffer(ragged.T * ragged.B * K, rng, 2);
  const tags = new Int32Array(ragged.T * ragged.B).fill(-1);
  for (let b = 0; b < ragged.B; b++) {
    for (let t = 0; t < ragged.lengths[b]!; t++) tags[t * ragged.B + b] = rng.int(K);
  }
  zeroGrad(crf.params());
  const { dEmissions } = crf.loss(em, ragged, tags);
  const targets = [...paramTargets(crf.params()), { name: 'emissions', value: em, grad: dEmissions }];
  const scratch = new Crf('scratch', K, rng);
  const r = checkGradients(targets, () => {
    scratch.trans.value.set(crf.trans.value);
    scratch.start.value.set(crf.start.value);
    scratch.end.value.set(crf.end.value);
    return scratch.loss(em, ragged, tags).loss;
  });
  assert.ok(r.maxRelError < TOL, JSON.stringify(r.worst));
});

test('a composed tagger (char CNN + embeddings → BiLSTM → dilated conv → linear → CRF) checks end to end', () => {
  const rng = createRng(13);
  const seq = seqBatch([3, 2]);
  const words = ['ab', 'ba', undefined, 'c', 'abc', undefined].slice(0, seq.T * seq.B);
  const wordIds = Int32Array.from([0, 2, 1, 1, 3, -1]);
  const emb = new Embedding('w', 4, 3, rng);
  const chars = new CharCnn('c', 3, rng, { charDim: 2, filters: 2 });
  const bi = new BiLstm('bi', 5, 2, rng);
  const conv = new Conv1d('conv', 4, 3, rng, { dilation: 2 });
  const out = new Linear('out', 3, 3, rng);
  const crf = new Crf('crf', 3, rng);
  const tags = Int32Array.from([0, 1, 2, 2, 1, -1]);
  const cb = charBatch(words, (c) => c.charCodeAt(0) - 97);
  const all = [emb, chars, bi, conv, out, crf].flatMap((l) => l.params());
  const n = seq.T * seq.B;
  const run = (backprop: boolean): number => {
    const e = emb.forward(wordIds);
    const c = chars.forward(cb);
    const x = alloc(n * 5);
    for (let r = 0; r < n; r++) {
      x.set(e.subarray(r * 3, r * 3 + 3), r * 5);
      x.set(c.subarray(r * 2, r * 2 + 2), r * 5 + 3);
    }
    const h = bi.forward(x, seq);
    const g = conv.forward(h, seq);
    const em = out.forward(g, n);
    const { loss, dEmissions } = crf.loss(em, seq, tags);
    if (backprop) {
      const dg = out.backward(dEmissions)!;
      const dh = conv.backward(dg)!;
      const dx = bi.backward(dh)!;
      const de = alloc(n * 3);
      const dc = alloc(n * 2);
      for (let r = 0; r < n; r++) {
        de.set(dx.subarray(r * 5, r * 5 + 3), r * 3);
        dc.set(dx.subarray(r * 5 + 3, r * 5 + 5), r * 2);
      }
      emb.backward(de);
      chars.backward(dc);
    }
    return loss;
  };
  zeroGrad(all);
  run(true);
  const grads = all.map((p) => Float64Array.from(p.grad));
  const targets = all.map((p, i) => ({ name: p.name, value: p.value, grad: grads[i]! }));
  const r = checkGradients(targets, () => {
    zeroGrad(all); // the CRF accumulates into its own grads; the check uses the snapshot
    return run(false);
  });
  assert.ok(r.maxRelError < TOL, JSON.stringify(r.worst));
});

test('the checker flags a wrong gradient', () => {
  const rng = createRng(14);
  const lin = new Linear('lin', 3, 2, rng);
  const x = randomBuffer(4 * 3, rng);
  zeroGrad(lin.params());
  const y = lin.forward(x, 4);
  const r = randomBuffer(y.length, rng);
  lin.backward(r);
  lin.w.grad[2] = lin.w.grad[2]! * 1.01; // a 1% error must be caught
  const result = checkGradients(paramTargets(lin.params()), () => dot(lin.forward(x, 4), r));
  assert.ok(result.maxRelError > 1e-3, `a 1% error was not caught: ${result.maxRelError}`);
});
