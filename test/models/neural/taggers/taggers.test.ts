import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../../../src/core/errors.ts';
import '../../../../src/models/index.ts';
import type { TrainProgress } from '../../../../src/models/model.ts';
import { createModel, listModels, loadModel } from '../../../../src/models/registry.ts';
import { TINY_DEV, TINY_PROBE, TINY_TRAIN } from '../../features/tiny-ner.ts';
import { runModelChecks } from '../../model-checks.ts';

const strip = (e: { text: string; tokens?: unknown }) => ({ text: e.text, tokens: e.tokens as never });

/** Small, fast settings: the suite trains many times. */
const TINY = {
  wordDim: 16,
  charDim: 8,
  charFilters: 8,
  dropout: 0,
  wordDropout: 0,
  epochs: 25,
  batchSize: 4,
  learningRate: 0.02,
  threads: 1,
};
const ARCHS: [string, Record<string, unknown>][] = [
  ['bilstm-crf.v1', { ...TINY, hidden: 16 }],
  ['idcnn-crf.v1', { ...TINY, filters: 24, dilations: [1, 2], iterations: 2 }],
];

for (const [name, config] of ARCHS) {
  runModelChecks(name, () => createModel(name, config), { train: TINY_TRAIN, probe: TINY_PROBE });
}

test('both neural taggers are registered with a description', () => {
  for (const [name] of ARCHS) {
    assert.ok(
      listModels().some((m) => m.name === name && m.description.length > 0),
      `${name} is listed`,
    );
  }
});

test('the filled config writes out every default', () => {
  const b = createModel('bilstm-crf.v1').config();
  assert.equal(b.hidden, 100);
  assert.equal(b.scheme, 'BIO');
  assert.equal(b.threads, 2);
  assert.equal(b.patience, 5);
  const c = createModel('idcnn-crf.v1').config();
  assert.deepEqual(c.dilations, [1, 2, 4]);
  assert.equal(c.iterations, 3);
  assert.equal(c.hidden, undefined);
});

test('config errors name the field path', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['bilstm-crf.v1', { hidden: 0 }, /hidden/],
    ['bilstm-crf.v1', { filters: 8 }, /filters/],
    ['idcnn-crf.v1', { width: 4 }, /width/],
    ['idcnn-crf.v1', { dropout: 1 }, /dropout/],
    ['bilstm-crf.v1', { vectors: { frozen: true } }, /vectors/],
    ['bilstm-crf.v1', { vectors: { path: 'a.txt', wink: true } }, /vectors/],
  ];
  for (const [name, config, path] of cases) {
    assert.throws(
      () => createModel(name, config),
      (err: ConfigError) => {
        assert.ok(err instanceof ConfigError, 'a ConfigError');
        assert.match(err.details.path ?? '', path);
        assert.ok(err.hint, 'has a hint');
        return true;
      },
    );
  }
});

test('span confidences are probabilities, high on training sentences', async () => {
  const model = createModel('bilstm-crf.v1', ARCHS[0]![1]);
  await model.fit(TINY_TRAIN, undefined, { seed: 1 });
  const [p] = model.predict([strip(TINY_TRAIN[0]!)]);
  assert.ok(p!.spans!.length > 0, 'finds entities');
  for (const s of p!.spans!) assert.ok(s.score > 0.5 && s.score <= 1, `score ${s.score}`);
  for (const pred of model.predict(TINY_PROBE.map(strip))) {
    for (const s of pred.spans ?? []) assert.ok(s.score >= 0 && s.score <= 1, `score ${s.score}`);
  }
  const explanations = model.explain(strip(TINY_TRAIN[0]!), 3);
  assert.equal(explanations.length, p!.spans!.length);
  assert.match(explanations[0]!.target, /^PER "Anna Schmidt" \[0, 12\)$/);
  assert.ok(
    explanations.every((e) => e.contributions.length > 0 && e.contributions.length <= 3),
    'top-k contributions',
  );
});

test('progress per epoch, early stopping on dev keeps the best epoch', async () => {
  const events: TrainProgress[] = [];
  const model = createModel('idcnn-crf.v1', { ...ARCHS[1]![1], epochs: 40, patience: 2 });
  const report = await model.fit(TINY_TRAIN, TINY_DEV, { seed: 3, onProgress: (e) => events.push(e) });
  assert.deepEqual(
    events.map((e) => e.epoch),
    events.map((_, i) => i + 1),
  );
  assert.ok(
    events.every((e) => typeof e.loss === 'number' && typeof e.devScore === 'number'),
    'loss and dev score',
  );
  assert.equal(report.epochs, events.length);
  assert.ok(
    report.bestDevScore !== undefined && report.bestDevScore >= 0 && report.bestDevScore <= 1,
    'score',
  );
  assert.equal(report.bestDevScore, Math.max(...events.map((e) => e.devScore!)));
  if (events.length < 40) assert.equal(report.info?.stoppedEarly, true);
});

test('pretrained vectors: coverage in the report, frozen rows stay fixed, saved model loads', async () => {
  const json: Record<string, number[]> = {
    anna: [1, 0, 0, 0],
    berlin: [0, 1, 0, 0],
    paris: [0, 0.5, 0.5, 0],
    lives: [0, 0, 0, 1],
  };
  const model = createModel('bilstm-crf.v1', {
    ...ARCHS[0]![1],
    wordDim: undefined,
    vectors: { json, frozen: true },
  });
  const report = await model.fit(TINY_TRAIN, undefined, { seed: 2 });
  const info = report.info?.vectors as { dim: number; tokenCoverage: number; rowsFilled: number };
  assert.equal(info.dim, 4);
  assert.equal(info.rowsFilled, 4);
  assert.ok(info.tokenCoverage > 0 && info.tokenCoverage < 1, `coverage ${info.tokenCoverage}`);
  assert.equal(model.config().wordDim, 4, 'word size taken from the vectors');
  const dir = await mkdtemp(join(tmpdir(), 'sapphire-neural-'));
  try {
    await model.save(dir);
    const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    assert.equal(manifest.architecture, 'bilstm-crf.v1');
    assert.equal(manifest.config.hidden, 16);
    assert.equal(manifest.config.wordDim, 4);
    assert.equal(manifest.labels[0], 'O');
    const vocab = JSON.parse(await readFile(join(dir, 'vocab.json'), 'utf8'));
    const row = vocab.words.indexOf('berlin');
    const loaded = await loadModel(dir);
    const table = (loaded as unknown as { net: { words: { table: { value: Float32Array } } } }).net.words
      .table;
    assert.deepEqual(Array.from(table.value.subarray(row * 4, row * 4 + 4)), [0, 1, 0, 0]);
    assert.deepEqual(loaded.config(), model.config());
    manifest.formatVersion = 99;
    await writeFile(join(dir, 'model.json'), JSON.stringify(manifest));
    await assert.rejects(loadModel(dir), /formatVersion 99/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('timeLimit stops training after the epoch that spends it, keeping the best dev epoch', async () => {
  const model = createModel('bilstm-crf.v1', { ...ARCHS[0]![1], epochs: 30, timeLimit: 1e-6 });
  const report = await model.fit(TINY_TRAIN, TINY_DEV, { seed: 1 });
  assert.equal(report.epochs, 1, 'one epoch, then the budget is spent');
  assert.equal(report.info?.timeLimitReached, true, 'the report says why it stopped');
  assert.equal(report.info?.stoppedEarly, true, 'counted as an early stop');
  assert.equal(report.info?.bestEpoch, 1, 'the best (only) dev epoch is kept');
});

test('vectorWords puts pretrained words unseen in training into the vocabulary with their vectors', async () => {
  const json: Record<string, number[]> = { zanzibar: [0, 0, 1, 0], anna: [1, 0, 0, 0], quokka: [0, 1, 1, 0] };
  const base = { ...ARCHS[0]![1], epochs: 1, wordDim: undefined, vectors: { json, frozen: true } };
  const plain = createModel('bilstm-crf.v1', base);
  await plain.fit(TINY_TRAIN, undefined, { seed: 2 });
  assert.equal(plain.config().vectorWords, 0, 'default keeps the old vocabulary');
  const model = createModel('bilstm-crf.v1', { ...base, vectorWords: 2 });
  await model.fit(TINY_TRAIN, undefined, { seed: 2 });
  const dir = await mkdtemp(join(tmpdir(), 'sapphire-neural-'));
  try {
    await plain.save(dir);
    const before = JSON.parse(await readFile(join(dir, 'vocab.json'), 'utf8')).words as string[];
    await model.save(dir);
    const words = JSON.parse(await readFile(join(dir, 'vocab.json'), 'utf8')).words as string[];
    assert.ok(!before.includes('zanzibar'), 'without vectorWords an unseen word is not in the vocabulary');
    assert.ok(words.includes('zanzibar'), `the first vector word joins the vocabulary: ${words.join(' ')}`);
    assert.ok(!words.includes('quokka'), 'only the first vectorWords words of the vectors are added');
    const loaded = await loadModel(dir);
    const row = words.indexOf('zanzibar');
    const table = (loaded as unknown as { net: { words: { table: { value: Float32Array } } } }).net.words
      .table;
    assert.deepEqual(Array.from(table.value.subarray(row * 4, row * 4 + 4)), [0, 0, 1, 0]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('two training threads are deterministic for a seed and learn the training set', async () => {
  const train = async () => {
    const model = createModel('bilstm-crf.v1', {
      ...ARCHS[0]![1],
      threads: 2,
      dropout: 0.1,
      wordDropout: 0.05,
    });
    const report = await model.fit(TINY_TRAIN, undefined, { seed: 5 });
    return { model, report };
  };
  const a = await train();
  const b = await train();
  assert.equal(a.report.info?.threads, 2);
  const probe = TINY_PROBE.map(strip);
  assert.deepEqual(a.model.predict(probe), b.model.predict(probe));
  const got = a.model.predict(TINY_TRAIN.map(strip));
  const correct = TINY_TRAIN.filter((ex, i) => {
    const want = (ex.spans ?? []).map((s) => `${s.start}:${s.end}:${s.label}`).sort();
    return (
      JSON.stringify(want) ===
      JSON.stringify((got[i]!.spans ?? []).map((s) => `${s.start}:${s.end}:${s.label}`).sort())
    );
  }).length;
  assert.ok(correct >= TINY_TRAIN.length - 1, `${correct}/${TINY_TRAIN.length} sentences right`);
});

test('fit rejects an empty training set', async () => {
  await assert.rejects(createModel('idcnn-crf.v1', TINY).fit([]), /training set is empty/);
});
