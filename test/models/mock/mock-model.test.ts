/**
 * mock.v1 against the parts of the model conformance suite that apply to it. `runModelChecks` is not called: two
 * of its checks cannot hold for a mock — "predict before fit fails" (a mock is ready from its config) and
 * "overfits a tiny training set" (it learns nothing) — and the suite has no way to skip checks. The other three
 * (save → load, batch = single, same seed → same model) are tested here directly.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../../../src/core/errors.ts';
import { createModel, listModels, loadModel } from '../../../src/models/index.ts';
import { MOCK_V1, MockModel } from '../../../src/models/mock/mock-model.ts';

const nerConfig = {
  task: 'ner',
  answers: [
    { text: 'Nike Air Max', spans: [{ text: 'Nike', label: 'BRAND', score: 0.8 }] },
    { text: 'red and red', spans: [{ text: 'red', occurrence: 2, label: 'COLOR' }] },
    { text: 'by offsets', spans: [{ start: 3, end: 10, label: 'X' }] },
  ],
  default: { spans: [{ text: 'Puma', label: 'BRAND' }] },
};

const probe = ['Nike Air Max', 'red and red', 'by offsets', 'Puma or Puma', 'Pumas', 'nothing'].map(
  (text) => ({
    text,
  }),
);

describe('mock.v1', () => {
  test('is registered and created through the registry', () => {
    assert.ok(
      listModels().some((m) => m.name === MOCK_V1),
      'mock.v1 is listed',
    );
    assert.equal(createModel(MOCK_V1, nerConfig).name, MOCK_V1);
  });

  test('returns the configured spans: by text, by occurrence, by offsets, and the default wherever it occurs', () => {
    const [nike, red, offsets, puma, pumas, nothing] = new MockModel(nerConfig).predict(probe);
    assert.deepEqual(nike?.spans, [{ start: 0, end: 4, label: 'BRAND', score: 0.8 }]);
    assert.deepEqual(red?.spans, [{ start: 8, end: 11, label: 'COLOR', score: 1 }]);
    assert.deepEqual(offsets?.spans, [{ start: 3, end: 10, label: 'X', score: 1 }]);
    assert.deepEqual(
      puma?.spans?.map((s) => s.start),
      [0, 8],
    );
    assert.deepEqual(pumas?.spans, [], 'whole words only');
    assert.deepEqual(nothing?.spans, []);
  });

  test('classification: labels with their confidence', () => {
    const model = new MockModel({
      task: 'classify',
      answers: [{ text: 'refund please', labels: ['refund'], score: 0.7 }],
      default: { labels: ['other'] },
    });
    assert.deepEqual(model.predict([{ text: 'refund please' }, { text: 'hi' }]), [
      { labels: ['refund'], scores: [{ label: 'refund', score: 0.7 }] },
      { labels: ['other'], scores: [{ label: 'other', score: 1 }] },
    ]);
    assert.deepEqual(model.explain({ text: 'hi' }), [
      { target: 'other', contributions: [{ feature: 'mock default', weight: 1 }] },
    ]);
  });

  test('predicts without fit, and fit learns nothing', async () => {
    const model = new MockModel(nerConfig);
    const before = model.predict(probe);
    const report = await model.fit([
      { id: 'a', text: 'Adidas', spans: [{ start: 0, end: 6, label: 'BRAND' }], meta: {} },
    ]);
    assert.equal(report.epochs, 0);
    assert.deepEqual(model.predict(probe), before);
  });

  test('save then load gives identical predictions', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sapphire-mock-'));
    try {
      const model = new MockModel(nerConfig);
      await model.save(dir);
      const loaded = await loadModel(dir);
      assert.equal(loaded.name, MOCK_V1);
      assert.deepEqual(loaded.config(), model.config());
      assert.deepEqual(loaded.predict(probe), model.predict(probe));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('batch prediction equals one-by-one, and the same seed gives the same model', async () => {
    const model = new MockModel(nerConfig);
    assert.deepEqual(
      model.predict(probe),
      probe.map((p) => model.predict([p])[0]),
    );
    const a = new MockModel(nerConfig);
    const b = new MockModel(nerConfig);
    await a.fit([], undefined, { seed: 7 });
    await b.fit([], undefined, { seed: 7 });
    assert.deepEqual(a.predict(probe), b.predict(probe));
  });

  test('a bad config names each field', () => {
    assert.throws(
      () => new MockModel({ task: 'ner', answers: [{ text: 'x', labels: ['A'] }] }),
      (e: unknown) => e instanceof ConfigError && /model\.answers\.0\.labels/.test(e.message),
    );
    assert.throws(
      () => new MockModel({ task: 'classify', answers: [{ text: 'x', labels: ['A', 'B'] }] }),
      (e: unknown) => e instanceof ConfigError && /exactly one label/.test(e.message),
    );
    assert.throws(
      () => new MockModel({ task: 'ner', answers: [{ text: 'x', spans: [{ label: 'A' }] }] }),
      (e: unknown) => e instanceof ConfigError && /give either text/.test(e.message),
    );
    assert.throws(
      () => new MockModel({ answer: [] }),
      (e: unknown) => e instanceof ConfigError && /model\.answer is not a known field/.test(e.message),
    );
  });
});
