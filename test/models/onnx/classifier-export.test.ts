import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../../src/models/index.ts';
import type { ModelInput, Prediction } from '../../../src/models/model.ts';
import { OnnxRuntimeModel } from '../../../src/models/onnx/onnx-runtime.ts';
import { createModel } from '../../../src/models/registry.ts';
import { intentProbe, intents, topicProbe, topics } from '../linear/fixtures.ts';
import { assertOnnxParity } from './parity.ts';

const tiny = { dim: 10, epochs: 8, batchSize: 4, learningRate: 0.05, dropout: 0, threads: 1 };
const CASES: [string, Record<string, unknown>, 'intents' | 'topics'][] = [
  ['embedding-bag.v1', { ...tiny, charNgrams: [2, 4], buckets: 64 }, 'intents'],
  ['embedding-bag.v1', { ...tiny, charNgrams: null, wordBigrams: false }, 'intents'],
  ['embedding-bag.v1', { ...tiny, task: 'multilabel', buckets: 32 }, 'topics'],
  ['text-cnn.v1', { ...tiny, filters: 6, widths: [1, 3, 5] }, 'intents'],
  ['text-cnn.v1', { ...tiny, filters: 5, widths: [3], task: 'multilabel' }, 'topics'],
  ['linear.v1', { features: { hashBits: 12 } }, 'intents'],
  ['linear.v1', { loss: 'hinge', features: { hashBits: 12 } }, 'intents'],
  ['linear.v1', { task: 'multilabel', features: { hashBits: 12 } }, 'topics'],
];

const inputsOf = (which: 'intents' | 'topics'): ModelInput[] => [
  ...(which === 'intents' ? [...intents, ...intentProbe] : [...topics, ...topicProbe]).map((e) => ({
    text: e.text,
  })),
  { text: '' },
  { text: 'completely unseen words zzqx ÆØÅ' },
];

for (const [name, config, data] of CASES) {
  test(`${name} ${JSON.stringify(config)} on ${data}: ONNX scores match TypeScript within 1e-5`, async () => {
    const model = createModel(name, config);
    await model.fit(data === 'intents' ? intents : topics, undefined, { seed: 2 });
    const inputs = inputsOf(data);
    const compared = await assertOnnxParity(model, inputs);
    assert.ok(compared >= inputs.length * 2, `compared ${compared} scores`);
    await assertOnnxParity(model, [inputs[0]!]);

    const ortModel = await OnnxRuntimeModel.fromModel(model, { threads: 1 });
    const viaOrt = await ortModel.predictAsync(inputs);
    const native = model.predict(inputs);
    assert.deepEqual(viaOrt.map(labelsOf), native.map(labelsOf), 'same labels through ONNX Runtime');
    viaOrt.forEach((p, i) => {
      const n = native[i]!.scores!;
      for (const [j, s] of p.scores!.entries()) {
        assert.ok(
          Math.abs(s.score - n[j]!.score) < 1e-5,
          `input ${i} score ${j}: ${s.score} vs ${n[j]!.score}`,
        );
      }
    });
    await ortModel.close();
  });
}

test('a model that cannot be exported gets a clear error', async () => {
  const model = createModel('majority.v1', {});
  await assert.rejects(OnnxRuntimeModel.fromModel(model), /cannot be exported to ONNX/);
});

function labelsOf(p: Prediction): string[] {
  return p.labels ?? [];
}
