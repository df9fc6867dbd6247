/** Numerical gradient checks (float64) of both classifier networks, classify and multilabel. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ClassifierNetworkOptions,
  createClassifierNetwork,
  type EncodedDoc,
} from '../../../../src/models/neural/classifiers/network.ts';
import { checkGradients } from '../../../../src/models/neural/engine/grad-check.ts';
import { setPrecision, zeroGrad } from '../../../../src/models/neural/engine/tensor.ts';

setPrecision('float64');

const docs: EncodedDoc[] = [
  { words: [1, 2, 3, 1], grams: [0, 4, 7], targets: [0] },
  { words: [4], grams: [], targets: [2] },
  { words: [5, 6, 2, 7, 8, 9], grams: [1, 2], targets: [1] },
  { words: [], grams: [], targets: [0] },
];
const multi: EncodedDoc[] = docs.map((d, i) => ({
  ...d,
  targets: i === 1 ? [] : i === 2 ? [0, 2] : d.targets,
}));

const base: ClassifierNetworkOptions = {
  kind: 'embedding-bag',
  vocabSize: 10,
  buckets: 8,
  dim: 6,
  labels: 3,
  multilabel: false,
  dropout: 0,
  widths: [1, 3],
  filters: 4,
  seed: 5,
  frozenWords: false,
};

for (const kind of ['embedding-bag', 'text-cnn'] as const) {
  for (const multilabel of [false, true]) {
    test(`${kind} ${multilabel ? 'multilabel' : 'classify'}: analytic gradients match central differences`, () => {
      const net = createClassifierNetwork({ ...base, kind, multilabel });
      const batch = multilabel ? multi : docs;
      const params = net.params();
      zeroGrad(params);
      net.lossAndGrad(batch);
      // Snapshot the analytic gradients: the loss callback runs lossAndGrad again, which adds to grads.
      const targets = params.map((p) => ({ name: p.name, value: p.value, grad: Float64Array.from(p.grad) }));
      const r = checkGradients(targets, () => net.lossAndGrad(batch), { samples: 30 });
      assert.ok(r.checked > 50, `checked ${r.checked}`);
      assert.ok(r.maxRelError < 1e-6, JSON.stringify(r.worst));
    });
  }
}

test('a frozen word table gets no gradient', () => {
  for (const kind of ['embedding-bag', 'text-cnn'] as const) {
    const net = createClassifierNetwork({ ...base, kind, frozenWords: true });
    zeroGrad(net.params());
    net.lossAndGrad(docs);
    assert.ok(
      net.words.grad.every((g) => g === 0),
      `${kind}: frozen words stay without gradient`,
    );
  }
});
