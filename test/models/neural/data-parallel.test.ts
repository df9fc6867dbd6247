import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataParallel } from '../../../src/models/neural/engine/data-parallel.ts';
import { Adam, clipGradNorm } from '../../../src/models/neural/engine/optim.ts';
import { zeroGrad } from '../../../src/models/neural/engine/tensor.ts';
import { createToyTagger, TOY } from './tiny-tagger.ts';

const spec = (dropout: number) => ({
  module: new URL('./tiny-tagger.ts', import.meta.url).href,
  factory: 'createToyTagger',
  options: { seed: 3, dropout },
});

test('two threads compute the same batch gradient as one thread (no dropout)', async () => {
  const dp = await DataParallel.start(spec(0), { threads: 2 });
  try {
    const loss2 = await dp.lossAndGrad(TOY);
    const single = createToyTagger({ seed: 3, dropout: 0 });
    zeroGrad(single.params());
    const loss1 = single.lossAndGrad(TOY);
    assert.ok(Math.abs(loss1 - loss2) < 1e-3 * Math.abs(loss1), `loss ${loss1} vs ${loss2}`);
    const a = dp.model.params();
    const b = single.params();
    a.forEach((p, i) => {
      for (let j = 0; j < p.grad.length; j++) {
        const d = Math.abs(p.grad[j]! - b[i]!.grad[j]!);
        assert.ok(
          d < 1e-4 * (1 + Math.abs(b[i]!.grad[j]!)),
          `${p.name}[${j}]: ${p.grad[j]} vs ${b[i]!.grad[j]}`,
        );
      }
    });
  } finally {
    await dp.close();
  }
});

test('data-parallel training is deterministic for a seed and thread count, and learns', async () => {
  const train = async () => {
    const dp = await DataParallel.start(spec(0.2), { threads: 2 });
    try {
      const params = dp.model.params();
      const adam = new Adam(params);
      const losses: number[] = [];
      for (let step = 0; step < 30; step++) {
        losses.push(await dp.lossAndGrad(TOY));
        clipGradNorm(params, 5);
        adam.step(0.02);
      }
      return { losses, weights: params.map((p) => Buffer.from(new Uint8Array(p.value.buffer).slice())) };
    } finally {
      await dp.close();
    }
  };
  const a = await train();
  const b = await train();
  assert.ok(
    a.weights.every((w, i) => w.equals(b.weights[i]!)),
    'same seed and thread count → identical weights',
  );
  assert.ok(a.losses.at(-1)! < a.losses[0]! / 5, `loss ${a.losses[0]} → ${a.losses.at(-1)}`);
});
