import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, type SapphireError } from '../../../src/core/errors.ts';
import { CrfTagger } from '../../../src/models/crf/index.ts';
import { createModel, listModels, loadModel } from '../../../src/models/registry.ts';
import { runModelChecks } from '../../models/model-checks.ts';
import { marked, TINY_DEV, TINY_PROBE, TINY_TRAIN } from '../features/tiny-ner.ts';

const strip = (e: { text: string; tokens?: unknown }) => ({ text: e.text, tokens: e.tokens as never });

runModelChecks('crf.v1', () => createModel('crf.v1', { c2: 0.01, maxIterations: 100 }), {
  train: TINY_TRAIN,
  probe: TINY_PROBE,
});

runModelChecks(
  'crf.v1 (BILOU, elastic net)',
  () => createModel('crf.v1', { scheme: 'BILOU', c1: 0.01, c2: 0.01 }),
  {
    train: TINY_TRAIN,
    probe: TINY_PROBE,
  },
);

async function trained(config: Record<string, unknown> = {}): Promise<CrfTagger> {
  const model = new CrfTagger({ c1: 0, c2: 0.01, maxIterations: 100, ...config });
  await model.fit(TINY_TRAIN, undefined, { seed: 1 });
  return model;
}

test('crf.v1 is registered with a description', () => {
  assert.ok(listModels().some((m) => m.name === 'crf.v1' && m.description.length > 0));
});

test('predicted spans carry confidences in [0, 1], high on training sentences', async () => {
  const model = await trained();
  const [p] = model.predict([strip(TINY_TRAIN[0]!)]);
  assert.ok(p!.spans!.length > 0);
  for (const s of p!.spans!) assert.ok(s.score > 0.5 && s.score <= 1, `score ${s.score}`);
  for (const pred of model.predict(TINY_PROBE.map(strip))) {
    for (const s of pred.spans ?? []) assert.ok(s.score >= 0 && s.score <= 1);
  }
});

test('tokens are produced by the tokenizer when an input has none', async () => {
  const model = await trained();
  const ex = TINY_TRAIN[1]!;
  assert.deepEqual(model.predict([{ text: ex.text }]), model.predict([strip(ex)]));
});

test('n-best: first analysis equals the prediction, probabilities non-increasing and ≤ 1 in total', async () => {
  const model = await trained();
  const input = strip(TINY_PROBE[0]!);
  const best = model.nBest(input, 5);
  assert.equal(best.length, 5);
  const predicted = model.predict([input])[0]!.spans!.map(({ start, end, label }) => ({ start, end, label }));
  assert.deepEqual(
    best[0]!.spans.map(({ start, end, label }) => ({ start, end, label })),
    predicted,
  );
  for (let i = 1; i < best.length; i++) assert.ok(best[i]!.probability <= best[i - 1]!.probability);
  assert.ok(best.reduce((s, b) => s + b.probability, 0) <= 1 + 1e-9);
  assert.equal(new Set(best.map((b) => b.tags.join(' '))).size, 5, 'analyses are distinct');
});

test('explain lists top features per predicted entity, transitions included', async () => {
  const model = await trained();
  const input = strip(TINY_TRAIN[0]!);
  const explanations = model.explain(input, 5);
  const spans = model.predict([input])[0]!.spans!;
  assert.equal(explanations.length, spans.length);
  assert.match(explanations[0]!.target, /^PER "Anna Schmidt" \[0, 12\)$/);
  for (const e of explanations) {
    assert.ok(e.contributions.length > 0 && e.contributions.length <= 5);
    for (let i = 1; i < e.contributions.length; i++) {
      assert.ok(Math.abs(e.contributions[i]!.weight) <= Math.abs(e.contributions[i - 1]!.weight));
    }
  }
  const all = model.explain(input, 1000).flatMap((e) => e.contributions.map((c) => c.feature));
  assert.ok(all.some((f) => f.startsWith('transition ')));
  assert.ok(all.some((f) => f.startsWith('w=Anna → B-PER')));
});

test('a dev set selects the best iteration and reports its score', async () => {
  const model = new CrfTagger({ c2: 0.01, maxIterations: 40, devEvalEvery: 5, patience: 0 });
  const events: number[] = [];
  const report = await model.fit(TINY_TRAIN, TINY_DEV, { onProgress: (e) => events.push(e.epoch) });
  assert.ok(report.bestDevScore !== undefined && report.bestDevScore >= 0 && report.bestDevScore <= 1);
  assert.ok(typeof report.info?.bestIteration === 'number');
  assert.deepEqual(
    events,
    events.map((_, i) => i + 1),
  );
});

test('L1 (OWL-QN) makes the saved model sparser than L2 alone', async () => {
  const l2 = await trained({ c1: 0, c2: 0.01 });
  const l1 = await trained({ c1: 0.5, c2: 0 });
  const count = (m: CrfTagger) => (m as unknown as { params: { attrTag: Int32Array } }).params.attrTag.length;
  assert.ok(count(l1) < count(l2), `${count(l1)} < ${count(l2)}`);
});

test('saved directory: manifest with filled config, labels and weights; loadModel restores it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sapphire-crf-'));
  try {
    const model = await trained({ scheme: 'BILOU' });
    await model.save(dir);
    const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    assert.equal(manifest.architecture, 'crf.v1');
    assert.equal(manifest.formatVersion, 1);
    assert.equal(manifest.config.scheme, 'BILOU');
    assert.equal(manifest.config.features.window, 2, 'defaults are written out');
    assert.equal(manifest.labels[0], 'O');
    assert.ok(manifest.labels.includes('U-LOC'));
    const loaded = await loadModel(dir);
    assert.deepEqual(loaded.config(), model.config());
    assert.deepEqual(loaded.explain(strip(TINY_TRAIN[1]!)), model.explain(strip(TINY_TRAIN[1]!)));

    manifest.formatVersion = 99;
    await writeFile(join(dir, 'model.json'), JSON.stringify(manifest));
    await assert.rejects(loadModel(dir), (err: SapphireError) => {
      assert.equal(err.code, 'INCOMPATIBLE_VERSION');
      assert.match(err.message, /formatVersion 99.*needs formatVersion 1/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('config errors name the field path', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ c2: -1 }, /c2/],
    [{ maxIterations: 0 }, /maxIterations/],
    [{ scheme: 'IOBES' }, /scheme/],
    [{ colour: 'red' }, /colour/],
    [{ features: { window: 9 } }, /features\.window/],
    [{ features: { suffixes: 2, typo: true } }, /features\.typo/],
    [{ features: { gazetteers: [{ name: 'city', phrases: [] }] } }, /features\.gazetteers\.0\.phrases/],
  ];
  for (const [config, path] of cases) {
    assert.throws(
      () => createModel('crf.v1', config),
      (err: ConfigError) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.details.path ?? '', path);
        assert.match(err.message, path);
        assert.ok(err.hint);
        return true;
      },
    );
  }
});

test('the filled config writes out every default', () => {
  const cfg = createModel('crf.v1').config();
  assert.equal(cfg.scheme, 'BIO');
  assert.equal(cfg.c1, 0.1);
  assert.equal((cfg.features as { bigrams: boolean }).bigrams, true);
});

test('gazetteer features let the model tag unseen listed phrases', async () => {
  const cities = ['Berlin', 'Paris', 'New York', 'Lisbon', 'Oslo'];
  const train = [
    marked('g1', 'I live in [Berlin](LOC) now .'),
    marked('g2', 'I live in [Paris](LOC) now .'),
    marked('g3', 'I live in [New York](LOC) now .'),
    marked('g4', 'I live in a flat now .'),
  ];
  const model = new CrfTagger({
    c2: 0.01,
    features: {
      word: false,
      lower: false,
      prefixes: 0,
      suffixes: 0,
      window: 0,
      bigrams: false,
      shape: false,
      shortShape: false,
      flags: false,
      gazetteers: [{ name: 'city', phrases: cities }],
    },
  });
  await model.fit(train);
  const [p] = model.predict([{ text: 'I live in oslo now .' }]);
  assert.deepEqual(
    p!.spans!.map(({ start, end, label }) => ({ start, end, label })),
    [{ start: 10, end: 14, label: 'LOC' }],
  );
});

test('fit rejects an empty training set', async () => {
  await assert.rejects(new CrfTagger().fit([]), /training set is empty/);
});
