import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Example } from '../../../src/data/types.ts';
import type { TrainProgress } from '../../../src/models/index.ts';
import { createModel, loadModel, predictMany } from '../../../src/models/index.ts';
import { progressOfLine } from '../../../src/models/onnx/external-trainer.ts';
import { tokenize } from '../../../src/text/tokenizer.ts';
import { REPO } from '../../cli/helpers.ts';
import { COUNTING_TRAINER } from '../../fixtures/onnx/tiny-hf-model.ts';
import { runModelChecks } from '../model-checks.ts';

const predict = predictMany;

function ner(id: string, text: string, entities: [string, string][]): Example {
  const spans = entities.map(([phrase, label]) => {
    const start = text.indexOf(phrase);
    return { start, end: start + phrase.length, label };
  });
  return { id, text, tokens: tokenize(text), spans, meta: {} };
}

const NER_TRAIN = [
  ner('1', 'any cheap sushi near me', [
    ['cheap', 'Price'],
    ['sushi', 'Cuisine'],
  ]),
  ner('2', 'book a table at Nobu Downtown', [['Nobu Downtown', 'Restaurant_Name']]),
  ner('3', 'is Nobu open late', [
    ['Nobu', 'Restaurant_Name'],
    ['open late', 'Hours'],
  ]),
  ner('4', 'Sushi places with cheap lunch', [
    ['Sushi', 'Cuisine'],
    ['cheap', 'Price'],
  ]),
];
const CLS_TRAIN: Example[] = [
  { id: 'a', text: 'my card was declined', labels: ['card'], meta: {} },
  { id: 'b', text: 'card stolen help', labels: ['card'], meta: {} },
  { id: 'c', text: 'where is my refund', labels: ['refund'], meta: {} },
  { id: 'd', text: 'refund not received yet', labels: ['refund'], meta: {} },
];

const external = (task: string, extra: Record<string, unknown> = {}) =>
  createModel('external.v1', { task, command: COUNTING_TRAINER, cwd: REPO, ...extra });

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'sapphire-external-test-'));
});
after(() => rm(root, { recursive: true, force: true }));

describe('external.v1 conformance (NER, counting trainer)', () => {
  runModelChecks('external.v1', () => external('ner'), {
    train: NER_TRAIN,
    probe: [...NER_TRAIN, ner('u', 'cheap tapas at Nobu', []), ner('e', '', [])],
  });
});

describe('external.v1', () => {
  it('exports the data, streams the trainer’s output as progress and learns the training set (NER)', async () => {
    const model = external('ner');
    const events: TrainProgress[] = [];
    const report = await model.fit(NER_TRAIN, NER_TRAIN.slice(0, 1), {
      seed: 3,
      onProgress: (e) => events.push(e),
    });
    assert.equal(report.epochs, 1, 'the JSON progress line gives the epoch');
    assert.ok(
      events.some((e) => /read 4 training examples \(ner\)/.test(e.message ?? '')),
      'free text lines are progress',
    );
    assert.ok(
      events.some((e) => e.epoch === 1 && /counted \d+ words/.test(e.message ?? '')),
      'JSON lines are parsed',
    );
    const predictions = await predict(model, NER_TRAIN);
    NER_TRAIN.forEach((ex, i) => {
      const got = (predictions[i]!.spans ?? []).map((s) => `${s.start}:${s.end}:${s.label}`).sort();
      const want = ex.spans!.map((s) => `${s.start}:${s.end}:${s.label}`).sort();
      assert.deepEqual(got, want, `spans of ${ex.id}`);
    });
    const dir = join(root, 'ner-model');
    await model.save(dir);
    const loaded = await loadModel(dir);
    assert.equal(loaded.name, 'external.v1');
    assert.deepEqual(loaded.config().command, COUNTING_TRAINER, 'the filled config keeps the command');
    assert.deepEqual(await predict(loaded, NER_TRAIN), predictions, 'same predictions after save → load');
  });

  it('trains a classifier (naive Bayes counts) through the same bridge', async () => {
    const model = external('classify');
    await model.fit(CLS_TRAIN, [], { seed: 1 });
    const predictions = await predict(model, [...CLS_TRAIN, { text: 'my refund', tokens: undefined }]);
    assert.deepEqual(
      predictions.map((p) => p.labels![0]),
      ['card', 'card', 'refund', 'refund', 'refund'],
    );
  });

  it('fails clearly when the command fails, writes no model, or cannot start — and leaves nothing behind', async () => {
    await assert.rejects(
      external('ner', { env: { COUNTING_TRAINER_FAIL: '1' } }).fit(NER_TRAIN),
      (e: Error & { details?: { hint?: string } }) =>
        /the external trainer `.*counting-trainer\.ts \{manifest\}` exited with code 3/.test(e.message) &&
        /failing on purpose/.test(e.details?.hint ?? ''),
    );
    await assert.rejects(
      external('ner', { env: { COUNTING_TRAINER_NO_OUTPUT: '1' } }).fit(NER_TRAIN),
      /finished, but its output is not a model: .*config\.json: file not found/,
    );
    await assert.rejects(
      external('ner', { command: ['sapphire-no-such-program-xyz'] }).fit(NER_TRAIN),
      /could not start: spawn sapphire-no-such-program-xyz ENOENT/,
    );
    await assert.rejects(
      external('ner', {
        command: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'],
        timeoutSeconds: 0.5,
      }).fit(NER_TRAIN),
      /timed out after 0\.5 s/,
    );
    let work = '';
    await assert.rejects(
      external('ner', {
        command: [process.execPath, '-e', 'console.log(process.env.SAPPHIRE_MANIFEST); process.exit(1)'],
      }).fit(NER_TRAIN, [], { onProgress: (e) => (work ||= e.message ?? '') }),
      /exited with code 1/,
    );
    assert.match(work, /manifest\.json$/, 'the trainer got the manifest path in SAPPHIRE_MANIFEST');
    assert.equal(existsSync(work), false, 'the work folder with the exported data is removed');
    assert.throws(() => createModel('external.v1', { task: 'ner' }), /model\.command/);
  });

  it('reads JSON progress lines and free text', () => {
    assert.deepEqual(
      progressOfLine('{"epoch": 2, "epochs": 5, "loss": 0.5, "dev_score": 0.7}', { epoch: 1, epochs: 5 }),
      {
        epoch: 2,
        epochs: 5,
        loss: 0.5,
        devScore: 0.7,
        message: undefined,
      },
    );
    assert.deepEqual(progressOfLine('step 10/100', { epoch: 2, epochs: 5 }), {
      epoch: 2,
      epochs: 5,
      message: 'step 10/100',
    });
  });
});
