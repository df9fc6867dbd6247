import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { attr, OnnxGraphBuilder } from '../../../src/models/onnx/graph-builder.ts';

describe('OnnxGraphBuilder', () => {
  it('builds a model that onnxruntime-node runs with the expected numbers', async () => {
    const g = new OnnxGraphBuilder('affine-softmax');
    g.input('x', 'float32', ['batch', 3]);
    g.initializer('w', Float32Array.from([1, 0, 0, 1, 1, -1]), [3, 2]);
    g.initializer('b', [0.5, -0.5], [2]);
    g.node('MatMul', ['x', 'w'], ['xw']);
    g.node('Add', ['xw', 'b'], ['logits']);
    g.node('Softmax', ['logits'], ['probs'], { axis: attr.int(-1) });
    g.output('probs', 'float32', ['batch', 2]);
    g.output('logits', 'float32', ['batch', 2]);
    g.meta('labels', JSON.stringify(['a', 'b']));

    const session = await ort.InferenceSession.create(g.toBytes());
    const x = new ort.Tensor('float32', Float32Array.from([1, 2, 3, 0, 0, 0]), [2, 3]);
    const out = await session.run({ x });
    const logits = Array.from(out.logits?.data as Float32Array);
    assert.deepEqual(logits, [1 + 3 + 0.5, 2 - 3 - 0.5, 0.5, -0.5], 'logits = x·w + b');
    const probs = out.probs?.data as Float32Array;
    const expected = 1 / (1 + Math.exp(-(4.5 - -1.5)));
    assert.ok(Math.abs((probs[0] ?? 0) - expected) < 1e-6, `softmax row 0: ${probs[0]} vs ${expected}`);
  });

  it('gathers int64 ids and refuses a name defined twice or data that does not fill its dims', async () => {
    const g = new OnnxGraphBuilder('lookup');
    g.input('ids', 'int64', ['n']);
    g.initializer('table', [10, 11, 20, 21, 30, 31], [3, 2]);
    g.node('Gather', ['table', 'ids'], ['rows'], { axis: attr.int(0) });
    g.output('rows', 'float32', ['n', 2]);
    const session = await ort.InferenceSession.create(g.toBytes());
    const out = await session.run({ ids: new ort.Tensor('int64', BigInt64Array.from([2n, 0n]), [2]) });
    assert.deepEqual(Array.from(out.rows?.data as Float32Array), [30, 31, 10, 11], 'rows 2 and 0');
    assert.throws(() => g.initializer('table', [1], [1]), /defined twice/, 'duplicate name');
    assert.throws(() => g.initializer('short', [1, 2], [3]), /do not fill/, 'wrong size');
  });
});
