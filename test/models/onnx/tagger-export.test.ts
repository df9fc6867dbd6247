import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../../src/models/index.ts';
import type { ModelInput } from '../../../src/models/model.ts';
import { OnnxRuntimeModel } from '../../../src/models/onnx/onnx-runtime.ts';
import type { OnnxExportable } from '../../../src/models/onnx/scoring.ts';
import { createModel } from '../../../src/models/registry.ts';
import { TINY_PROBE, TINY_TRAIN } from '../features/tiny-ner.ts';
import { assertOnnxParity } from './parity.ts';

const TINY = {
  wordDim: 12,
  charDim: 6,
  charFilters: 5,
  dropout: 0,
  wordDropout: 0,
  epochs: 6,
  batchSize: 4,
  threads: 1,
};
const CASES: [string, Record<string, unknown>][] = [
  ['bilstm-crf.v1', { ...TINY, hidden: 7 }],
  ['bilstm-crf.v1', { ...TINY, hidden: 5, charFilters: 0, lowercase: false }],
  ['idcnn-crf.v1', { ...TINY, filters: 9, width: 3, dilations: [1, 2], iterations: 2 }],
  ['idcnn-crf.v1', { ...TINY, filters: 6, width: 5, dilations: [1, 3], iterations: 1, charWidth: 5 }],
];

/** Sentences of different lengths (one empty, one with a word longer than maxWordChars, unseen characters). */
const INPUTS: ModelInput[] = [
  ...[...TINY_TRAIN, ...TINY_PROBE].map((e) => ({ text: e.text })),
  { text: 'Supercalifragilisticexpialidocious Zürich naïve café — Ωmega' },
  { text: 'x' },
];

for (const [name, config] of CASES) {
  test(`${name} ${JSON.stringify(config)}: ONNX emissions match the TypeScript network within 1e-5`, async () => {
    const model = createModel(name, config);
    await model.fit(TINY_TRAIN, undefined, { seed: 4 });
    const job = (model as OnnxExportable).onnxScoring(INPUTS);
    // Compare the rows of real tokens only (padding rows are ignored by the CRF).
    const K = (model as unknown as { labels(): string[] }).labels().length;
    const real: boolean[][] = [];
    for (let b = 0; b < job.batches; b++) {
      const { word_ids, lengths } = job.feeds(b);
      const [T, B] = word_ids!.dims as [number, number];
      const len = lengths!.data as Int32Array;
      real.push(
        Array.from({ length: T * B * K }, (_, i) => Math.floor(i / K / B) < len[Math.floor(i / K) % B]!),
      );
    }
    const compared = await assertOnnxParity(model, INPUTS, (b, i) => real[b]![i]!);
    assert.ok(compared > 100, `compared ${compared} emission scores`);
    // Batches of one sentence (no padding) agree too.
    await assertOnnxParity(model, [INPUTS[2]!]);

    const ortModel = await OnnxRuntimeModel.fromModel(model, { threads: 1 });
    assert.deepEqual(
      stripScores(await ortModel.predictAsync(INPUTS)),
      stripScores(model.predict(INPUTS)),
      'same entities through ONNX Runtime',
    );
    const a = (await ortModel.predictAsync(INPUTS)).flatMap((p) => p.spans ?? []);
    const n = model.predict(INPUTS).flatMap((p) => p.spans ?? []);
    for (const [i, s] of a.entries()) {
      assert.ok(Math.abs(s.score - n[i]!.score) < 1e-4, `span ${i} confidence`);
    }
    assert.throws(() => ortModel.predict(INPUTS), /predictAsync/);
    await ortModel.close();
  });
}

test('worker threads (one session each) score the batches of a prediction like the calling thread does', async () => {
  const model = createModel('bilstm-crf.v1', { ...TINY, hidden: 7 });
  await model.fit(TINY_TRAIN, undefined, { seed: 4 });
  // Predictions are scored in chunks of 64 sentences: enough copies for several chunks.
  const many = Array.from({ length: Math.ceil(200 / INPUTS.length) }, () => INPUTS).flat();
  const job = (model as OnnxExportable).onnxScoring(many);
  assert.ok(job.batches >= 3, `several batches to spread over the workers (${job.batches})`);
  const inThread = await OnnxRuntimeModel.fromModel(model, { threads: 1 });
  const pooled = await OnnxRuntimeModel.fromModel(model, { threads: 1, workers: 2 });
  try {
    const expected = await inThread.predictAsync(many);
    const actual = await pooled.predictAsync(many);
    assert.deepEqual(stripScores(actual), stripScores(expected), 'same entities on worker threads');
    const a = actual.flatMap((p) => p.spans ?? []);
    const e = expected.flatMap((p) => p.spans ?? []);
    for (const [i, s] of a.entries())
      assert.ok(Math.abs(s.score - e[i]!.score) < 1e-6, `span ${i} confidence`);
    const [one] = await pooled.predictAsync([INPUTS[0]!]);
    assert.deepEqual(stripScores([one!]), stripScores([expected[0]!]), 'a single text on a worker');
  } finally {
    await pooled.close();
    await inThread.close();
  }
  await assert.rejects(
    OnnxRuntimeModel.fromModel(model, { threads: 1, workers: 0.5 }),
    /workers must be an integer/,
    'bad worker count',
  );
});

function stripScores(ps: { spans?: { start: number; end: number; label: string }[] }[]) {
  return ps.map((p) => (p.spans ?? []).map(({ start, end, label }) => ({ start, end, label })));
}
