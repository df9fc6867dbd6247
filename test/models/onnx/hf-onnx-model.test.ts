import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NotFittedError } from '../../../src/core/errors.ts';
import type { Model, Prediction } from '../../../src/models/index.ts';
import { createModel, loadModel, predictMany } from '../../../src/models/index.ts';
import {
  handSetTable,
  RESTAURANT_WORDS,
  writeRestaurantModel,
  writeTinyModel,
} from '../../fixtures/onnx/tiny-hf-model.ts';

const WORDS = RESTAURANT_WORDS;
const TEXT = 'Book a table at  Nobu Downtown, cheap sushi unknown tonight';

const predict = predictMany;
const entities = (p: Prediction, text: string) =>
  (p.spans ?? []).map((s) => `${text.slice(s.start, s.end)}/${s.label}`);

let root: string;
let nerDir: string;
let clsDir: string;

async function fixture(name: string, edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(root, name);
  await writeRestaurantModel(dir);
  await edit(dir);
  return dir;
}

async function imported(path: string, settings: Record<string, unknown> = {}): Promise<Model> {
  const model = createModel('hf-onnx.v1', { task: 'ner', path, ...settings });
  await model.fit([]);
  return model;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'sapphire-hf-onnx-'));
  nerDir = await fixture('ner', async () => undefined);
  clsDir = join(root, 'cls');
  await writeTinyModel(clsDir, {
    words: WORDS,
    labels: ['other', 'food', 'booking'],
    task: 'sequence',
    table: handSetTable(
      WORDS,
      ['other', 'food', 'booking'],
      { sushi: 'food', cheap: 'food', book: 'booking', table: 'booking' },
      2,
    ),
  });
});
after(() => rm(root, { recursive: true, force: true }));

describe('hf-onnx.v1 token classification', () => {
  it('labels words from their first sub-token and decodes BIO tags to character spans', async () => {
    const model = await imported(nerDir);
    const [p] = await predict(model, [{ text: TEXT }]);
    assert.deepEqual(entities(p!, TEXT), ['Nobu Downtown/Restaurant_Name', 'cheap/Price', 'sushi/Cuisine']);
    for (const s of p!.spans!)
      assert.ok(s.score > 0.5 && s.score < 1, `confidence ${s.score} is a probability`);
    const name = p!.spans![0]!;
    // rows hold 1 for O, 1 + 4 for the word's tag and 0 elsewhere
    const perWord = Math.exp(5) / (Math.exp(5) + Math.exp(1) + 3);
    assert.ok(
      Math.abs(name.score - perWord * perWord) < 1e-6,
      `entity score = product of word probabilities (${name.score})`,
    );
  });

  it('uses the caller’s tokens as words when given', async () => {
    const model = await imported(nerDir);
    const text = 'nobu,downtown';
    const tokens = [
      { text: 'nobu', start: 0, end: 4 },
      { text: ',', start: 4, end: 5 },
      { text: 'downtown', start: 5, end: 13 },
    ];
    const [p] = await predict(model, [{ text, tokens }]);
    assert.deepEqual(entities(p!, text), ['nobu/Restaurant_Name', 'downtown/Restaurant_Name']);
  });

  it('splits long texts into windows within the maximum length with the same answer', async () => {
    const long = Array.from({ length: 40 }, () => TEXT).join(' ');
    const whole = await imported(nerDir);
    const windowed = await imported(nerDir, { maxLength: 5, batchSize: 3 });
    const [a] = await predict(whole, [{ text: long }]);
    const [b] = await predict(windowed, [{ text: long }]);
    assert.equal(a!.spans!.length, 120, '3 entities × 40 repeats');
    assert.deepEqual(b, a, 'windows of 3 sub-tokens give the same spans');
  });

  it('predicts batches like one by one, saves and loads through the registry', async () => {
    const model = await imported(nerDir);
    const inputs = [{ text: TEXT }, { text: '' }, { text: 'sushi' }, { text: 'nobu downtown tonight' }];
    const batch = await predict(model, inputs);
    const single = await Promise.all(inputs.map(async (i) => (await predict(model, [i]))[0]));
    assert.deepEqual(batch, single, 'batch = one by one');
    const saved = join(root, 'saved');
    await model.save(saved);
    const manifest = JSON.parse(await readFile(join(saved, 'model.json'), 'utf8'));
    assert.equal(manifest.architecture, 'hf-onnx.v1');
    assert.deepEqual(manifest.labels, ['Cuisine', 'Price', 'Restaurant_Name'], 'entity types as labels');
    const loaded = await loadModel(saved);
    assert.deepEqual(await predict(loaded, inputs), batch, 'same predictions after load');
  });

  it('refuses sync predict with a pointer to the async path, and predict before fit', async () => {
    assert.throws(
      () => createModel('hf-onnx.v1', { task: 'ner', path: nerDir }).predict([{ text: 'a' }]),
      NotFittedError,
    );
    const model = await imported(nerDir);
    assert.throws(() => model.predict([{ text: 'a' }]), /predicts asynchronously.*/);
  });
});

describe('hf-onnx.v1 sequence classification', () => {
  it('gives softmax class scores, best first, and averages windows of long texts', async () => {
    const model = createModel('hf-onnx.v1', { task: 'classify', path: clsDir });
    await model.fit([]);
    const [food, booking] = await predict(model, [{ text: 'cheap sushi' }, { text: 'book a table' }]);
    assert.deepEqual(food!.labels, ['food']);
    assert.deepEqual(booking!.labels, ['booking']);
    const total = food!.scores!.reduce((a, s) => a + s.score, 0);
    assert.ok(Math.abs(total - 1) < 1e-9, `scores sum to 1 (${total})`);
    const windowed = createModel('hf-onnx.v1', { task: 'classify', path: clsDir, maxLength: 4 });
    await windowed.fit([]);
    const [long] = await predict(windowed, [{ text: 'sushi cheap sushi cheap book' }]);
    assert.deepEqual(long!.labels, ['food'], 'mean over windows');
  });
});

describe('hf-onnx.v1 malformed inputs', () => {
  const cases: [string, (dir: string) => Promise<void>, RegExp][] = [
    ['missing config.json', (d) => rm(join(d, 'config.json')), /config\.json: file not found/],
    ['missing tokenizer.json', (d) => rm(join(d, 'tokenizer.json')), /tokenizer\.json: file not found/],
    [
      'missing onnx/model.onnx',
      (d) => rm(join(d, 'onnx'), { recursive: true }),
      /onnx\/model\.onnx: file not found/,
    ],
    [
      'config.json not JSON',
      (d) => writeFile(join(d, 'config.json'), '{"id2label": '),
      /config\.json: not valid JSON/,
    ],
    [
      'no id2label',
      (d) => writeFile(join(d, 'config.json'), '{"architectures": ["BertForTokenClassification"]}'),
      /config\.json, field id2label: no "id2label" object/,
    ],
    [
      'id2label with a gap',
      (d) => writeFile(join(d, 'config.json'), '{"id2label": {"0": "O", "2": "B-X"}}'),
      /field id2label\.2: key "2" is not one of the ids 0…1/,
    ],
    [
      'id2label shorter than the logits',
      (d) =>
        writeFile(
          join(d, 'config.json'),
          JSON.stringify({ id2label: { 0: 'O', 1: 'B-Restaurant_Name', 2: 'I-Restaurant_Name' } }),
        ),
      /config\.json, field id2label: output logits of .*model\.onnx has shape \[1, 3, 5\] .* id2label has 3 labels/,
    ],
    [
      'unsupported tokenizer',
      async (d) => {
        const t = JSON.parse(await readFile(join(d, 'tokenizer.json'), 'utf8'));
        t.model.type = 'WordLevel';
        await writeFile(join(d, 'tokenizer.json'), JSON.stringify(t));
      },
      /tokenizer\.json, field model\.type: unsupported tokenizer model type "WordLevel"/,
    ],
    [
      'corrupt ONNX',
      (d) => writeFile(join(d, 'onnx', 'model.onnx'), 'not a model'),
      /model\.onnx: could not be loaded by onnxruntime/,
    ],
    [
      'mixed label scheme',
      (d) =>
        writeFile(
          join(d, 'config.json'),
          JSON.stringify({ id2label: { 0: 'O', 1: 'B-A', 2: 'I-A', 3: 'B', 4: 'X' } }),
        ),
      /field id2label: mixes tagged labels/,
    ],
  ];
  for (const [name, edit, message] of cases) {
    it(`explains: ${name}`, async () => {
      const dir = await fixture(name.replace(/\W+/g, '-'), edit);
      await assert.rejects(imported(dir), message);
    });
  }

  it('explains a sequence classifier imported as NER, and a missing path', async () => {
    await assert.rejects(imported(clsDir), /describes a sequence classifier, but the task is ner/);
    await assert.rejects(createModel('hf-onnx.v1', { task: 'ner' }).fit([]), /needs model\.path/);
  });
});
