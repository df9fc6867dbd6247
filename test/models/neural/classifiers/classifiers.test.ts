import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError } from '../../../../src/core/errors.ts';
import '../../../../src/models/index.ts';
import { decodeParamsInto } from '../../../../src/models/neural/engine/serialize.ts';
import { createParam } from '../../../../src/models/neural/engine/tensor.ts';
import { createModel, listModels, loadModel } from '../../../../src/models/registry.ts';
import { intentProbe, intents, topicProbe, topics } from '../../linear/fixtures.ts';
import { runModelChecks } from '../../model-checks.ts';

/** Small, fast settings for the tiny fixtures (one thread: no worker start-up per fit). */
const tiny = { dim: 16, epochs: 40, batchSize: 4, learningRate: 0.05, dropout: 0, threads: 1 };
const tinyCnn = { ...tiny, filters: 12, widths: [1, 3], epochs: 30 };

runModelChecks(
  'embedding-bag.v1',
  () => createModel('embedding-bag.v1', { ...tiny, charNgrams: [2, 4], buckets: 512 }),
  {
    train: intents,
    probe: intentProbe,
  },
);
runModelChecks(
  'embedding-bag.v1 multilabel',
  () => createModel('embedding-bag.v1', { ...tiny, task: 'multilabel', buckets: 512 }),
  { train: topics, probe: topicProbe },
);
runModelChecks('text-cnn.v1', () => createModel('text-cnn.v1', tinyCnn), {
  train: intents,
  probe: intentProbe,
});
runModelChecks(
  'text-cnn.v1 multilabel',
  () => createModel('text-cnn.v1', { ...tinyCnn, task: 'multilabel' }),
  { train: topics, probe: topicProbe },
);

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('neural classifiers', () => {
  test('timeLimit stops training after the epoch that spends it', async () => {
    const model = createModel('embedding-bag.v1', { ...tiny, epochs: 50, timeLimit: 1e-6 });
    const report = await model.fit(intents, undefined, { seed: 1 });
    assert.equal(report.epochs, 1, 'one epoch, then the budget is spent');
    assert.equal(report.info?.timeLimitReached, true, 'the report says why it stopped');
    assert.equal(createModel('embedding-bag.v1', {}).config().timeLimit, 0, 'no budget by default');
  });

  test('both are registered with a description', () => {
    for (const name of ['embedding-bag.v1', 'text-cnn.v1']) {
      assert.ok(
        listModels().some((m) => m.name === name && m.description.length > 0),
        `${name} is registered`,
      );
    }
  });

  test('config() is the filled config; bad fields are ConfigErrors naming the field', () => {
    const cfg = createModel('text-cnn.v1', {}).config();
    assert.equal(cfg.task, 'classify');
    assert.deepEqual(cfg.widths, [3, 5]);
    assert.equal(cfg.threads, 2);
    assert.equal(createModel('embedding-bag.v1', {}).config().wordBigrams, true);
    assert.throws(() => createModel('text-cnn.v1', { widths: [4] }), ConfigError);
    assert.throws(
      () => createModel('embedding-bag.v1', { epoch: 3 }),
      (e: unknown) => e instanceof ConfigError && /epoch/.test(e.message),
    );
    assert.throws(() => createModel('embedding-bag.v1', { vectors: { frozen: true } }), ConfigError);
  });

  for (const name of ['embedding-bag.v1', 'text-cnn.v1']) {
    test(`${name}: scores are probabilities over every class, best first; progress per epoch`, async () => {
      const model = createModel(name, name === 'text-cnn.v1' ? tinyCnn : tiny);
      const epochs: number[] = [];
      const report = await model.fit(intents, undefined, {
        seed: 2,
        onProgress: (e) => epochs.push(e.epoch),
      });
      assert.equal(epochs.length, report.epochs);
      const [p] = model.predict([{ text: 'my card has not arrived yet' }]);
      assert.deepEqual(p!.labels, ['card_arrival']);
      assert.equal(p!.scores!.length, 3);
      const total = p!.scores!.reduce((s, x) => s + x.score, 0);
      assert.ok(Math.abs(total - 1) < 1e-9, `probabilities sum to ${total}`);
      for (let i = 1; i < 3; i++) assert.ok(p!.scores![i - 1]!.score >= p!.scores![i]!.score, 'best first');
      const [why] = model.explain({ text: 'my card has not arrived yet' }, 3);
      assert.equal(why!.target, 'card_arrival');
      assert.ok(why!.contributions.length <= 3, 'at most topK words');
      assert.ok(
        why!.contributions.every((c) => c.weight > 0 && 'my card has not arrived yet'.includes(c.feature)),
        JSON.stringify(why),
      );
    });
  }

  test('early stopping on dev stops after `patience` epochs without a better score', async () => {
    const model = createModel('embedding-bag.v1', { ...tiny, epochs: 200, patience: 2 });
    const report = await model.fit(intents, intents, { seed: 1 });
    assert.ok(report.epochs < 200, `stopped after ${report.epochs} epochs`);
    assert.equal(report.bestDevScore, 1);
  });

  test('multilabel: thresholds default to the configured one and are saved', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sapphire-nclf-'));
    dirs.push(dir);
    const model = createModel('embedding-bag.v1', {
      ...tiny,
      task: 'multilabel',
      multilabel: { threshold: 0.4, tuneOnDev: false },
    });
    await model.fit(topics, topics, { seed: 1 });
    await model.save(dir);
    const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    assert.equal(manifest.architecture, 'embedding-bag.v1');
    assert.deepEqual(
      manifest.thresholds,
      [0.4, 0.4].map((x) => Math.fround(x)),
    );
    assert.equal(manifest.config.multilabel.threshold, 0.4);
    assert.equal(manifest.config.seed, 1);
    const tuned = createModel('embedding-bag.v1', { ...tiny, task: 'multilabel' });
    const report = await tuned.fit(topics, topics, { seed: 1 });
    assert.equal(report.bestDevScore, 1);
  });

  test('pretrained vectors from a file path (the shared GloVe JSON, when present)', async (t) => {
    const path = join(import.meta.dirname, '../../../../../shared/datasets/vectors/glove-50d-5k.json');
    if (!existsSync(path)) return t.skip('shared vectors not found');
    const model = createModel('text-cnn.v1', { ...tinyCnn, dim: undefined, vectors: { path } });
    const report = await model.fit(intents, undefined, { seed: 1 });
    const info = report.info as { vectors: { dim: number; tokenRate: number } };
    assert.equal(info.vectors.dim, 50);
    assert.ok(info.vectors.tokenRate > 0.5, `token rate ${info.vectors.tokenRate}`);
  });

  test('pretrained vectors: dimension from the vectors, coverage in the report, frozen rows stay fixed', async () => {
    const json: Record<string, number[]> = {
      card: [1, 0, 0, 0],
      arrived: [0.5, 0.5, 0, 0],
      exchange: [0, 0, 1, 0],
      rate: [0, 0, 0.5, 0.5],
      top: [0, 1, 0, 0],
    };
    const dir = await mkdtemp(join(tmpdir(), 'sapphire-nclf-'));
    dirs.push(dir);
    const model = createModel('embedding-bag.v1', {
      ...tiny,
      dim: undefined,
      wordBigrams: false,
      vectors: { json, frozen: true },
    });
    const report = await model.fit(intents, undefined, { seed: 1 });
    const info = report.info as { vectors: { tokenRate: number; dim: number }; vectorsFilled: number };
    assert.equal(info.vectors.dim, 4);
    assert.ok(
      info.vectors.tokenRate > 0 && info.vectors.tokenRate < 1,
      `token rate ${info.vectors.tokenRate}`,
    );
    assert.equal(info.vectorsFilled, 5);
    assert.equal(model.config().dim, 4);
    await model.save(dir);
    const loaded = await loadModel(dir);
    // The frozen table kept the pretrained rows: the saved `card` row is still [1, 0, 0, 0].
    const vocab = JSON.parse(await readFile(join(dir, 'vocab.json'), 'utf8')) as string[];
    const words = createParam('words.table', [vocab.length, 4], true);
    decodeParamsInto([words], await readFile(join(dir, 'weights.bin')));
    const row = vocab.indexOf('card');
    assert.deepEqual(Array.from(words.value.subarray(row * 4, row * 4 + 4)), [1, 0, 0, 0]);
    assert.deepEqual(loaded.predict([{ text: 'card arrived' }]), model.predict([{ text: 'card arrived' }]));
  });

  test('two threads: deterministic for a seed, and the model still learns', async () => {
    const make = () => createModel('text-cnn.v1', { ...tinyCnn, threads: 2, dropout: 0.2 });
    const a = make();
    const b = make();
    await a.fit(intents, undefined, { seed: 3 });
    await b.fit(intents, undefined, { seed: 3 });
    const strip = intentProbe.map((e) => ({ text: e.text }));
    assert.deepEqual(a.predict(strip), b.predict(strip));
    const got = a.predict(intents.map((e) => ({ text: e.text }))).map((p) => p.labels![0]);
    assert.deepEqual(
      got,
      intents.map((e) => e.labels![0]),
    );
  });
});
