import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../../src/models/index.ts';
import type { ModelInput } from '../../../src/models/model.ts';
import { OnnxRuntimeModel } from '../../../src/models/onnx/onnx-runtime.ts';
import { createModel } from '../../../src/models/registry.ts';
import { TINY_PROBE, TINY_TRAIN } from '../features/tiny-ner.ts';
import { assertOnnxParity } from './parity.ts';

/** Inline word vectors: dense attributes with real values go through the graph too. */
const VECTORS = { map: { berlin: [0.5, -1], paris: [0.25, 2], anna: [-0.75, 0.5] }, scale: 1 };
const CASES: [string, Record<string, unknown>][] = [
  ['crf.v1', { c2: 0.01, maxIterations: 40 }],
  ['crf.v1', { c2: 0.01, maxIterations: 40, features: { vectors: VECTORS } }],
  ['perceptron.v1', { epochs: 5 }],
];

const INPUTS: ModelInput[] = [
  ...[...TINY_TRAIN, ...TINY_PROBE].map((e) => ({ text: e.text })),
  { text: 'Berlin , Paris and Anna : ÆØÅ unseen' },
];

for (const [name, config] of CASES) {
  test(`${name} ${JSON.stringify(config)}: ONNX state scores match TypeScript within 1e-5`, async () => {
    const model = createModel(name, config);
    await model.fit(TINY_TRAIN, undefined, { seed: 1 });
    const compared = await assertOnnxParity(model, INPUTS);
    assert.ok(compared > 100, `compared ${compared} state scores`);
    await assertOnnxParity(model, [{ text: '' }]);

    const ortModel = await OnnxRuntimeModel.fromModel(model, { threads: 1 });
    const viaOrt = await ortModel.predictAsync(INPUTS);
    const native = model.predict(INPUTS);
    assert.deepEqual(
      viaOrt.map((p) => p.spans?.map(({ start, end, label }) => ({ start, end, label }))),
      native.map((p) => p.spans?.map(({ start, end, label }) => ({ start, end, label }))),
      'same entities through ONNX Runtime',
    );
    assert.ok(
      native.some((p) => (p.spans ?? []).length > 0),
      'the model finds entities',
    );
    await ortModel.close();
  });
}
