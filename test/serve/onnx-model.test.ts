/** An imported Hugging Face ONNX model (hf-onnx.v1) registered, promoted to production and served over HTTP. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { importOnnxModel } from '../../src/models/onnx/import-dir.ts';
import { registerModelVersion } from '../../src/registry/register.ts';
import { buildServer } from '../../src/serve/server.ts';
import { handSetTable, writeTinyModel } from '../fixtures/onnx/tiny-hf-model.ts';
import { createTestProject, type TestProject } from './helpers.ts';

const WORDS = ['i', 'love', 'nike', 'shoes', 'in', 'new', 'york', 'paris'];
const TAGS = ['O', 'B-BRAND', 'I-BRAND', 'B-LOC', 'I-LOC'];

let project: TestProject;
let server: Awaited<ReturnType<typeof buildServer>>;

before(async () => {
  project = await createTestProject('ner');
  const exported = join(project.dir, 'exports', 'tiny');
  await writeTinyModel(exported, {
    words: WORDS,
    labels: TAGS,
    task: 'token',
    table: handSetTable(WORDS, TAGS, { nike: 'B-BRAND', new: 'B-LOC', york: 'I-LOC', paris: 'B-LOC' }),
  });
  const imported = await importOnnxModel({
    source: exported,
    out: join(project.dir, 'models', 'tiny'),
    projectTask: 'ner',
  });
  const version = await registerModelVersion(project.store, {
    tenant: 'default',
    source: imported.dir,
    name: 'shop',
    actor: 'test',
    cwd: project.dir,
  });
  assert.equal(version.architecture, 'hf-onnx.v1');
  await project.store.registry.setAlias('default', 'shop', 'production', version.version);
  server = await buildServer({
    store: project.store,
    card: project.card,
    projectDir: project.dir,
    auth: false,
    pollIntervalMs: 50,
  });
  await server.ready;
});

after(async () => {
  await server?.close();
  await project.cleanup();
});

test('serves entities with character offsets and confidences from the imported model', async () => {
  const res = await server.app.inject({
    method: 'POST',
    url: '/v1/models/shop/predict',
    payload: { texts: ['I love Nike shoes in New York', 'Paris'] },
  });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.model.architecture, 'hf-onnx.v1');
  const [first, second] = body.results as {
    entities: { text: string; label: string; start: number; score: number }[];
  }[];
  assert.deepEqual(
    first!.entities.map((e) => [e.text, e.label, e.start]),
    [
      ['Nike', 'BRAND', 7],
      ['New York', 'LOC', 21],
    ],
  );
  assert.ok(
    first!.entities.every((e) => e.score > 0.5 && e.score < 1),
    'confidences are probabilities',
  );
  assert.deepEqual(
    second!.entities.map((e) => e.label),
    ['LOC'],
  );
});
