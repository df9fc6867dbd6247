/** Numerical gradient checks of the composed tagger networks (float64 for the whole process). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkGradients } from '../../../../src/models/neural/engine/grad-check.ts';
import { setPrecision, zeroGrad } from '../../../../src/models/neural/engine/tensor.ts';
import { createTaggerNetwork, type EncodedSentence } from '../../../../src/models/neural/taggers/network.ts';

setPrecision('float64');

const BATCH: EncodedSentence[] = [
  { w: [1, 2, 3], c: [[1, 2], [3], [1, 4, 2]], y: [1, 2, 0] },
  { w: [4, 0], c: [[2, 2, 2, 5], [5]], y: [0, 3] },
  { w: [2, 3, 1, 4, 0], c: [[1], [2], [3], [4], [5, 1]], y: [3, 0, 1, 2, 0] },
];

for (const encoder of ['bilstm', 'idcnn'] as const) {
  test(`${encoder}-crf network: analytic gradients match central differences`, () => {
    const net = createTaggerNetwork({
      encoder,
      seed: 4,
      words: 5,
      chars: 6,
      types: ['LOC', 'PER'],
      scheme: 'BIO',
      wordDim: 4,
      charDim: 3,
      charFilters: 3,
      charWidth: 3,
      dropout: 0,
      frozenWords: false,
      hidden: 4,
      filters: 5,
      width: 3,
      dilations: [1, 2],
      iterations: 2,
    });
    const params = net.params();
    zeroGrad(params);
    net.lossAndGrad(BATCH);
    const targets = params.map((p) => ({ name: p.name, value: p.value, grad: Float64Array.from(p.grad) }));
    const result = checkGradients(targets, () => net.lossAndGrad(BATCH), { eps: 1e-5, samples: 25 });
    assert.ok(result.checked > 100, `checked ${result.checked}`);
    assert.ok(result.maxRelError < 1e-5, JSON.stringify(result.worst));
  });
}
