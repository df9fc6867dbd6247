import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError, SapphireError } from '../../../src/core/errors.ts';
import type { Example } from '../../../src/data/types.ts';
import { LINEAR_FORMAT_VERSION, LinearModel } from '../../../src/models/linear/index.ts';
import { createModel, listModels, loadModel } from '../../../src/models/registry.ts';
import { runModelChecks } from '../model-checks.ts';
import { intentProbe, intents, topicProbe, topics } from './fixtures.ts';

runModelChecks('linear.v1 hinge', () => createModel('linear.v1', { loss: 'hinge' }), {
  train: intents,
  probe: intentProbe,
});
runModelChecks(
  'linear.v1 logistic',
  () => createModel('linear.v1', { loss: 'logistic', trainer: { epochs: 60 } }),
  { train: intents, probe: intentProbe },
);
runModelChecks('linear.v1 multilabel hinge', () => createModel('linear.v1', { task: 'multilabel' }), {
  train: topics,
  probe: topicProbe,
});
runModelChecks(
  'linear.v1 multilabel logistic',
  () => createModel('linear.v1', { task: 'multilabel', loss: 'logistic', trainer: { epochs: 80 } }),
  { train: topics, probe: topicProbe },
);

const strip = (e: Example) => ({ text: e.text });
const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sapphire-linear-'));
  dirs.push(dir);
  return dir;
};
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('linear.v1 predictions', () => {
  test('is registered with a description', () => {
    assert.ok(listModels().some((m) => m.name === 'linear.v1' && m.description.length > 0));
  });

  for (const loss of ['hinge', 'logistic'] as const) {
    test(`${loss}: scores are probabilities over every class, best first, and generalise to paraphrases`, async () => {
      const model = new LinearModel({ loss, trainer: { epochs: 60 } });
      await model.fit(intents, undefined, { seed: 1 });
      const [p] = model.predict([{ text: 'my card is not here' }]);
      assert.deepEqual(p!.labels, ['card_arrival']);
      assert.equal(p!.scores!.length, 3);
      assert.equal(p!.scores![0]!.label, 'card_arrival');
      const total = p!.scores!.reduce((s, x) => s + x.score, 0);
      assert.ok(Math.abs(total - 1) < 1e-9, `probabilities sum to ${total}`);
      for (let i = 1; i < p!.scores!.length; i++) assert.ok(p!.scores![i - 1]!.score >= p!.scores![i]!.score);
    });
  }

  test('uses the tokens given with the input instead of tokenizing', async () => {
    const model = new LinearModel();
    await model.fit(intents, undefined, { seed: 1 });
    const text = 'zzz qqq';
    const tokens = [
      { text: 'exchange', start: 0, end: 3 },
      { text: 'rate', start: 4, end: 7 },
    ];
    assert.deepEqual(model.predict([{ text, tokens }])[0]!.labels, ['exchange_rate']);
  });

  test('reports progress per class (hinge) and per epoch (logistic)', async () => {
    const events: string[] = [];
    await new LinearModel().fit(intents, undefined, { onProgress: (e) => events.push(e.message ?? '') });
    assert.equal(events.length, 3);
    assert.match(events[0]!, /class card_arrival/);
    const epochs: number[] = [];
    await new LinearModel({ loss: 'logistic', trainer: { epochs: 4 } }).fit(intents, undefined, {
      onProgress: (e) => epochs.push(e.epoch),
    });
    assert.deepEqual(epochs, [1, 2, 3, 4]);
  });

  test('logistic stops early on dev and reports the best dev score', async () => {
    const model = new LinearModel({ loss: 'logistic', trainer: { epochs: 200, patience: 2 } });
    const report = await model.fit(intents, intentProbe.slice(2, 5), { seed: 1 });
    assert.ok(report.epochs < 200, `stopped after ${report.epochs} epochs`);
    assert.equal(report.bestDevScore, 1);
  });

  test('hinge fits its probability scale on dev', async () => {
    const model = new LinearModel();
    await model.fit(intents, intentProbe.slice(2, 5), { seed: 1 });
    const dir = await tempDir();
    await model.save(dir);
    const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    assert.notEqual(manifest.marginScale, 3);
    assert.ok(manifest.marginScale > 0);
  });

  test('an aborted signal stops training', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(new LinearModel().fit(intents, undefined, { signal: controller.signal }));
  });
});

describe('linear.v1 multi-label thresholds', () => {
  test('tunes one threshold per label on dev to maximise F1', async () => {
    const model = new LinearModel({ task: 'multilabel' });
    await model.fit(topics, topicProbe, { seed: 1 });
    const dir = await tempDir();
    await model.save(dir);
    const loaded = (await loadModel(dir)) as LinearModel;
    // The tuned thresholds sit between the dev scores of positives and negatives, so dev is predicted perfectly.
    const predictions = loaded.predict(topicProbe.map(strip));
    topicProbe.forEach((ex, i) => {
      assert.deepEqual([...predictions[i]!.labels!].sort(), ex.labels, ex.id);
    });
  });

  test('without dev, tunes on a held-out slice of train and still predicts label sets', async () => {
    const many: Example[] = [];
    for (let i = 0; i < 30; i++) {
      const t = topics[i % topics.length]!;
      many.push({ ...t, id: `${t.id}-${i}`, text: `${t.text} ${i % 3 === 0 ? 'really' : ''}` });
    }
    const model = new LinearModel({ task: 'multilabel', multilabel: { minExamplesForHoldout: 20 } });
    const report = await model.fit(many, undefined, { seed: 3 });
    assert.equal(report.info?.labels, 2);
    const [p] = model.predict([{ text: 'battery weak and screen cracked' }]);
    assert.deepEqual([...p!.labels!].sort(), ['battery', 'screen']);
    const [none] = model.predict([{ text: 'nice box' }]);
    assert.deepEqual(none!.labels, []);
    assert.equal(none!.scores!.length, 2);
  });
});

describe('linear.v1 explanations', () => {
  test('names the readable n-grams behind the predicted label, strongest first', async () => {
    const model = new LinearModel();
    await model.fit(intents, undefined, { seed: 1 });
    const [explanation] = model.explain({ text: 'what exchange rate' }, 5);
    assert.equal(explanation!.target, 'exchange_rate');
    assert.equal(explanation!.contributions.length, 5);
    const features = explanation!.contributions.map((c) => c.feature);
    assert.ok(
      features.some((f) => f === 'w:exchange' || f === 'w:exchange rate' || f === 'w:rate'),
      `word features in ${features.join(', ')}`,
    );
    assert.ok(features.every((f) => /^(w|c):/.test(f)));
    const weights = explanation!.contributions.map((c) => c.weight);
    assert.deepEqual(
      weights,
      [...weights].sort((a, b) => b - a),
    );
    assert.ok(weights.every((w) => w > 0));
  });

  test('char n-grams are shown with < and > at word edges', async () => {
    const model = new LinearModel({ features: { wordNgrams: null, charNgrams: [3, 3] } });
    await model.fit(intents, undefined, { seed: 1 });
    const [explanation] = model.explain({ text: 'card' }, 3);
    const features = explanation!.contributions.map((c) => c.feature);
    assert.ok(
      features.every((f) => ['c:<ca', 'c:car', 'c:ard', 'c:rd>'].includes(f)),
      features.join(', '),
    );
  });

  test('explains each predicted label of a multi-label prediction', async () => {
    const model = new LinearModel({ task: 'multilabel' });
    await model.fit(topics, undefined, { seed: 1 });
    const explanations = model.explain({ text: 'battery weak and screen cracked' });
    assert.deepEqual(explanations.map((e) => e.target).sort(), ['battery', 'screen']);
  });
});

describe('linear.v1 config and data errors', () => {
  test('fills every default into the config', () => {
    const config = new LinearModel().config();
    assert.equal(config.task, 'classify');
    assert.equal(config.loss, 'hinge');
    assert.equal(config.C, 1);
    assert.deepEqual((config.features as Record<string, unknown>).charNgrams, [2, 5]);
    assert.equal(new LinearModel({ loss: 'logistic' }).config().C, 30);
  });

  const bad: [Record<string, unknown>, RegExp][] = [
    [{ C: 0 }, /model\.C must be > 0/],
    [{ C: 'big' }, /model\.C must be a number \(got "big"\)/],
    [{ loss: 'squared' }, /model\.loss must be one of: "logistic", "hinge"/],
    [{ task: 'ner' }, /model\.task must be one of/],
    [{ colour: 'red' }, /model\.colour is not a known field/],
    [{ features: { hashBits: 40 } }, /model\.features\.hashBits must be <= 28/],
    [
      { features: { charNgrams: [5, 2] } },
      /model\.features\.charNgrams must be \[min, max\] with min <= max/,
    ],
    [{ features: { wordNgrams: null, charNgrams: null } }, /model\.features needs wordNgrams or charNgrams/],
    [{ trainer: { epochs: 1.5 } }, /model\.trainer\.epochs must be an integer/],
    [{ multilabel: { holdout: 1 } }, /model\.multilabel\.holdout must be < 1/],
  ];
  for (const [config, message] of bad) {
    test(`rejects ${JSON.stringify(config)}`, () => {
      assert.throws(
        () => new LinearModel(config),
        (e: unknown) =>
          e instanceof ConfigError && message.test(e.message) && typeof e.details.path === 'string',
      );
    });
  }

  test('lists every config problem, not only the first', () => {
    try {
      new LinearModel({ C: -1, loss: 'x' });
      assert.fail('expected a ConfigError');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.details.problems?.map((p) => p.path).sort(), ['model.C', 'model.loss']);
    }
  });

  test('rejects classify examples without exactly one label, naming them', async () => {
    const data: Example[] = [
      { id: 'a', text: 'x', labels: ['p', 'q'], meta: {} },
      { id: 'b', text: 'y', meta: {} },
    ];
    await assert.rejects(new LinearModel().fit(data), (e: unknown) => {
      assert.ok(e instanceof SapphireError);
      assert.equal(e.code, 'DATA_INVALID');
      assert.match(e.message, /2 problems/);
      assert.match(e.message, /example a: train example has 2 labels/);
      assert.match(e.message, /example b: train example has no labels/);
      return true;
    });
  });
});

describe('linear.v1 saved files', () => {
  test('refuses a model saved in another format version, naming the version it reads', async () => {
    const model = new LinearModel();
    await model.fit(intents, undefined, { seed: 1 });
    const dir = await tempDir();
    await model.save(dir);
    const file = join(dir, 'model.json');
    const manifest = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(manifest.architecture, 'linear.v1');
    assert.equal(manifest.formatVersion, LINEAR_FORMAT_VERSION);
    assert.deepEqual(manifest.labels, ['card_arrival', 'exchange_rate', 'top_up']);
    await writeFile(file, JSON.stringify({ ...manifest, formatVersion: 99 }));
    await assert.rejects(loadModel(dir), (e: unknown) => {
      assert.ok(e instanceof SapphireError);
      assert.equal(e.code, 'INCOMPATIBLE_VERSION');
      assert.match(e.message, /format version 99; linear\.v1 reads format version 1/);
      return true;
    });
  });

  test('refuses a truncated weights file', async () => {
    const model = new LinearModel();
    await model.fit(intents, undefined, { seed: 1 });
    const dir = await tempDir();
    await model.save(dir);
    const bytes = await readFile(join(dir, 'weights.bin'));
    await writeFile(join(dir, 'weights.bin'), bytes.subarray(0, bytes.length - 4));
    await assert.rejects(loadModel(dir), /weights\.bin is not a valid linear\.v1 weights file/);
  });

  test('a loaded model explains the same way as the trained one', async () => {
    const model = new LinearModel();
    await model.fit(intents, undefined, { seed: 1 });
    const dir = await tempDir();
    await model.save(dir);
    const loaded = await loadModel(dir);
    assert.deepEqual(loaded.explain({ text: 'top up failed' }), model.explain({ text: 'top up failed' }));
    assert.deepEqual(loaded.config(), model.config());
  });
});

describe('linear.v1 predict paths', () => {
  for (const task of ['classify', 'multilabel'] as const) {
    test(`${task}: predict gives exactly what its ONNX scoring job gives with the native scores`, async () => {
      const model = new LinearModel(task === 'classify' ? {} : { task });
      await model.fit(task === 'classify' ? intents : topics, undefined, { seed: 1 });
      const inputs = (task === 'classify' ? intentProbe : topicProbe).map(strip);
      assert.ok(inputs.length > 1, 'several probe texts');
      const job = model.onnxScoring(inputs);
      const viaJob = job.finish(Array.from({ length: job.batches }, (_, i) => job.nativeScores(i)));
      assert.deepEqual(model.predict(inputs), viaJob);
    });
  }

  test('tied probabilities rank by class order, as the sort they replace did', async () => {
    const model = new LinearModel({});
    await model.fit(intents, undefined, { seed: 1 });
    // A text with no known n-gram: every margin is the bias alone.
    const [p] = model.predict([{ text: 'zzzqqq' }]);
    const scores = p!.scores!;
    for (let i = 1; i < scores.length; i++) {
      const [a, b] = [scores[i - 1]!, scores[i]!];
      assert.ok(
        a.score > b.score || (a.score === b.score && a.label < b.label),
        `${a.label} before ${b.label}`,
      );
    }
  });
});
