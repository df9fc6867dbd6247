import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import '../../../src/models/index.ts';
import { predictMany } from '../../../src/models/model.ts';
import { exportOnnx } from '../../../src/models/onnx/export.ts';
import { ONNX_FILE, OnnxRuntimeModel } from '../../../src/models/onnx/onnx-runtime.ts';
import { createModel, loadModel } from '../../../src/models/registry.ts';
import { intentProbe, intents } from '../linear/fixtures.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const temp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'sapphire-onnx-'));
  dirs.push(d);
  return d;
};

test('exportOnnx writes a model folder with model.onnx that loads natively and through ORT', async () => {
  const model = createModel('linear.v1', { features: { hashBits: 12 } });
  await model.fit(intents, undefined, { seed: 1 });
  const dir = await temp();
  const result = await exportOnnx(model, dir);
  assert.equal(result.file, join(dir, ONNX_FILE), 'model.onnx in the folder');
  assert.deepEqual(result.inputs.sort(), ['feature_ids', 'feature_values'], 'graph inputs');
  assert.equal(result.output, 'scores', 'graph output');
  assert.ok(result.maxAbsDiff <= 1e-5, `probe scores agree (${result.maxAbsDiff})`);

  const inputs = intentProbe.map((e) => ({ text: e.text }));
  const native = await loadModel(dir);
  const shipped = await OnnxRuntimeModel.load(dir, { threads: 1 });
  assert.equal(shipped.graphSource, 'file', 'the shipped model.onnx is used');
  assert.deepEqual(
    (await predictMany(shipped, inputs)).map((p) => p.labels),
    native.predict(inputs).map((p) => p.labels),
    'predictMany goes through predictAsync and gives the native labels',
  );
  await shipped.close();

  const plain = await temp();
  await native.save(plain);
  const exported = await OnnxRuntimeModel.load(plain, { threads: 1 });
  assert.equal(exported.graphSource, 'exported', 'without model.onnx the graph is exported at load');
  assert.equal(existsSync(join(plain, ONNX_FILE)), false, 'the folder is left as it was');
  await exported.close();
});

test('exportOnnx into the model folder itself, and the errors', async () => {
  const model = createModel('embedding-bag.v1', { dim: 8, epochs: 3, threads: 1 });
  await model.fit(intents, undefined, { seed: 1 });
  const dir = await temp();
  await model.save(dir);
  await exportOnnx(await loadModel(dir), dir, { saveModel: false });
  assert.ok(existsSync(join(dir, ONNX_FILE)), 'model.onnx added beside the saved files');

  const empty = await temp();
  await assert.rejects(exportOnnx(model, empty, { saveModel: false }), /holds no saved model/);
  await writeFile(join(dir, ONNX_FILE), 'not a graph');
  await assert.rejects(OnnxRuntimeModel.load(dir, { threads: 1 }), /could not load the graph/);
  await assert.rejects(OnnxRuntimeModel.load(dir, { threads: 0 }), /threads must be an integer/);
});
