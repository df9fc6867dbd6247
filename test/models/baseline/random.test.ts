import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Example } from '../../../src/data/types.ts';
import { RandomModel } from '../../../src/models/baseline/index.ts';
import { createModel } from '../../../src/models/registry.ts';
import { runModelChecks } from '../model-checks.ts';

const ex = (id: string, text: string, labels: string[]): Example => ({ id, text, labels, meta: {} });

runModelChecks('random.v1', () => createModel('random.v1'), {
  train: [ex('a', 'hello there', ['greet']), ex('b', 'hi', ['greet'])],
  probe: [ex('p', 'hello', ['greet']), ex('q', 'something else', ['greet'])],
});

const train = [
  ...Array.from({ length: 8 }, (_, i) => ex(`a${i}`, `a ${i}`, ['common'])),
  ...Array.from({ length: 2 }, (_, i) => ex(`b${i}`, `b ${i}`, ['rare'])),
];
const texts = Array.from({ length: 2000 }, (_, i) => ({ text: `text number ${i}` }));
const share = (model: RandomModel, label: string) =>
  model.predict(texts).filter((p) => p.labels!.includes(label)).length / texts.length;

describe('random.v1', () => {
  test('prior strategy draws labels by training frequency', async () => {
    const model = new RandomModel({ strategy: 'prior' });
    await model.fit(train, undefined, { seed: 1 });
    const rare = share(model, 'rare');
    assert.ok(rare > 0.15 && rare < 0.25, `rare share ${rare}`);
    assert.deepEqual(model.predict([{ text: 'x' }])[0]!.scores, [
      { label: 'common', score: 0.8 },
      { label: 'rare', score: 0.2 },
    ]);
  });

  test('uniform strategy draws every label about equally often', async () => {
    const model = new RandomModel({ strategy: 'uniform' });
    await model.fit(train, undefined, { seed: 1 });
    const rare = share(model, 'rare');
    assert.ok(rare > 0.45 && rare < 0.55, `rare share ${rare}`);
  });

  test('different seeds give different draws; the same text always gets the same label', async () => {
    const a = new RandomModel({ strategy: 'uniform' });
    const b = new RandomModel({ strategy: 'uniform' });
    await a.fit(train, undefined, { seed: 1 });
    await b.fit(train, undefined, { seed: 2 });
    const la = a.predict(texts).map((p) => p.labels![0]);
    const lb = b.predict(texts).map((p) => p.labels![0]);
    assert.notDeepEqual(la, lb);
    assert.deepEqual(
      a.predict(texts).map((p) => p.labels![0]),
      la,
    );
  });

  test('multi-label draws each label independently', async () => {
    const model = new RandomModel({ task: 'multilabel', strategy: 'uniform' });
    await model.fit([ex('1', 'a', ['x']), ex('2', 'b', ['y']), ex('3', 'c', [])], undefined, { seed: 5 });
    const sizes = model.predict(texts).map((p) => p.labels!.length);
    for (const size of [0, 1, 2]) assert.ok(sizes.includes(size), `some prediction has ${size} labels`);
    const both = sizes.filter((s) => s === 2).length / sizes.length;
    assert.ok(both > 0.2 && both < 0.3, `share with both labels ${both}`);
  });
});
