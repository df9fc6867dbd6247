import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../../../src/core/rng.ts';
import { Embedding } from '../../../src/models/neural/engine/embedding.ts';
import {
  Adam,
  clipGradNorm,
  constantSchedule,
  linearWarmupDecay,
  Sgd,
} from '../../../src/models/neural/engine/optim.ts';
import { createParam, zeroGrad } from '../../../src/models/neural/engine/tensor.ts';
import { TinyTagger, TOY } from './tiny-tagger.ts';

test('a BiLSTM-CRF built from the layers overfits 10 toy sentences to 100% tag accuracy', () => {
  const model = new TinyTagger(TOY, 42);
  const rng = createRng(1);
  let firstLoss = 0;
  let lastLoss = 0;
  for (let epoch = 0; epoch < 40; epoch++) {
    const order = rng.shuffle([...TOY]);
    lastLoss = 0;
    for (let i = 0; i < order.length; i += 5) lastLoss += model.trainStep(order.slice(i, i + 5), 0.02);
    if (epoch === 0) firstLoss = lastLoss;
  }
  const predicted = model.predict(TOY);
  let correct = 0;
  let total = 0;
  TOY.forEach((s, i) => {
    s.tags.forEach((tag, t) => {
      total++;
      if (predicted[i]![t] === tag) correct++;
    });
  });
  assert.ok(lastLoss < firstLoss / 10, `loss fell from ${firstLoss} to ${lastLoss}`);
  assert.equal(correct, total, `tag accuracy ${correct}/${total}`);
});

test('training is deterministic for a seed and differs across seeds', () => {
  const train = (seed: number) => {
    const m = new TinyTagger(TOY, seed, 0.3);
    for (let step = 0; step < 6; step++) m.trainStep(TOY.slice((step % 2) * 5, (step % 2) * 5 + 5), 0.01);
    return m.params().map((p) => Buffer.from(p.value.buffer, p.value.byteOffset, p.value.byteLength));
  };
  const a = train(7);
  const b = train(7);
  const c = train(8);
  assert.ok(
    a.every((buf, i) => buf.equals(b[i]!)),
    'same seed → bit-identical weights after 6 steps',
  );
  assert.ok(!a.every((buf, i) => buf.equals(c[i]!)), 'another seed gives other weights');
});

test('Adam and SGD with momentum minimise a quadratic', () => {
  for (const make of [
    (p: ReturnType<typeof createParam>[]) => new Adam(p),
    (p: ReturnType<typeof createParam>[]) => new Sgd(p, { momentum: 0.9 }),
  ]) {
    const p = createParam('x', [3]);
    p.value.set([3, -2, 1]);
    const opt = make([p]);
    for (let i = 0; i < 500; i++) {
      zeroGrad([p]);
      for (let j = 0; j < 3; j++) p.grad[j] = 2 * (p.value[j]! - j);
      opt.step(0.05);
    }
    for (let j = 0; j < 3; j++) assert.ok(Math.abs(p.value[j]! - j) < 1e-2, `x[${j}] = ${p.value[j]}`);
  }
});

test('sparse embedding updates touch only looked-up rows; frozen tables do not move', () => {
  const emb = new Embedding('e', 5, 2, createRng(1));
  const before = Float32Array.from(emb.table.value);
  const adam = new Adam(emb.params());
  emb.forward(Int32Array.from([1, 3]));
  emb.backward(new Float32Array([1, 1, 1, 1]));
  adam.step(0.1);
  const changed = [0, 1, 2, 3, 4].filter((r) => emb.table.value[r * 2] !== before[r * 2]);
  assert.deepEqual(changed, [1, 3]);
  zeroGrad(emb.params());
  assert.deepEqual(emb.table.touchedRows, []);
  assert.ok(
    emb.table.grad.every((g) => g === 0),
    'zeroGrad clears touched rows',
  );
  emb.table.frozen = true;
  const frozen = Float32Array.from(emb.table.value);
  emb.forward(Int32Array.from([0]));
  emb.backward(new Float32Array([1, 1]));
  adam.step(0.1);
  assert.deepEqual(emb.table.value, frozen);
});

test('clipGradNorm rescales to the maximum norm and reports the norm before', () => {
  const p = createParam('g', [2]);
  p.grad.set([3, 4]);
  assert.equal(clipGradNorm([p], 1), 5);
  assert.ok(Math.abs(p.grad[0]! - 0.6) < 1e-6 && Math.abs(p.grad[1]! - 0.8) < 1e-6, 'scaled to norm 1');
  assert.equal(clipGradNorm([p], 10), Math.hypot(p.grad[0]!, p.grad[1]!));
});

test('learning-rate schedules: constant, linear warm-up then decay', () => {
  assert.equal(constantSchedule(0.1)(1000), 0.1);
  const s = linearWarmupDecay({ lr: 1, warmupSteps: 4, totalSteps: 14, finalLr: 0.1 });
  assert.deepEqual([0, 1, 2, 3].map(s), [0.25, 0.5, 0.75, 1]);
  assert.equal(s(4), 1);
  assert.ok(Math.abs(s(9) - 0.55) < 1e-12, 'half-way through the decay');
  assert.equal(s(14), 0.1);
  assert.equal(s(100), 0.1);
  assert.throws(() => linearWarmupDecay({ lr: 1, warmupSteps: 5, totalSteps: 2 }), /warmupSteps/);
});
