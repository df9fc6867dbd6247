import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, SapphireError } from '../../../src/core/errors.ts';
import type { Example } from '../../../src/data/types.ts';
import { MajorityModel } from '../../../src/models/baseline/index.ts';
import { createModel } from '../../../src/models/registry.ts';
import { runModelChecks } from '../model-checks.ts';

const ex = (id: string, text: string, labels: string[]): Example => ({ id, text, labels, meta: {} });

// A baseline can only overfit a set with one answer, so the conformance set has a single class.
runModelChecks('majority.v1', () => createModel('majority.v1'), {
  train: [ex('a', 'hello there', ['greet']), ex('b', 'hi', ['greet'])],
  probe: [ex('p', 'hello', ['greet']), ex('q', 'something else', ['greet'])],
});

const skewed = [
  ex('1', 'a', ['spam']),
  ex('2', 'b', ['ham']),
  ex('3', 'c', ['ham']),
  ex('4', 'd', ['ham']),
  ex('5', 'e', ['eggs']),
];

describe('majority.v1', () => {
  test('predicts the most frequent class with class frequencies as probabilities', async () => {
    const model = new MajorityModel();
    await model.fit(skewed);
    const [p] = model.predict([{ text: 'anything at all' }]);
    assert.deepEqual(p!.labels, ['ham']);
    assert.deepEqual(p!.scores, [
      { label: 'ham', score: 0.6 },
      { label: 'eggs', score: 0.2 },
      { label: 'spam', score: 0.2 },
    ]);
  });

  test('multi-label: predicts every label carried by at least half the examples', async () => {
    const model = new MajorityModel({ task: 'multilabel' });
    await model.fit([
      ex('1', 'a', ['x', 'y']),
      ex('2', 'b', ['x']),
      ex('3', 'c', []),
      ex('4', 'd', ['x', 'z']),
    ]);
    const [p] = model.predict([{ text: 'q' }]);
    assert.deepEqual(p!.labels, ['x']);
    assert.deepEqual(
      p!.scores!.map((s) => [s.label, s.score]),
      [
        ['x', 0.75],
        ['y', 0.25],
        ['z', 0.25],
      ],
    );
  });

  test('explains with the prior', async () => {
    const model = new MajorityModel();
    await model.fit(skewed);
    assert.deepEqual(model.explain({ text: 'x' }), [
      { target: 'ham', contributions: [{ feature: 'prior', weight: 0.6 }] },
    ]);
  });

  test('rejects NER and unknown config keys with the field path', () => {
    assert.throws(
      () => new MajorityModel({ task: 'ner' }),
      (e: unknown) => e instanceof ConfigError && /model\.task/.test(e.message),
    );
    assert.throws(() => new MajorityModel({ k: 1 }), /model\.k is not a known field/);
  });

  test('rejects examples without a label', async () => {
    await assert.rejects(
      new MajorityModel().fit([{ id: 'x1', text: 'a', meta: {} }]),
      (e: unknown) => e instanceof SapphireError && /example x1/.test(e.message),
    );
  });
});
