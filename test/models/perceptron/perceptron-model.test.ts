import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { ConfigError, type SapphireError } from '../../../src/core/errors.ts';
import { TagSet } from '../../../src/models/features/tag-scheme.ts';
import { PerceptronTagger } from '../../../src/models/perceptron/index.ts';
import { createModel, listModels, loadModel } from '../../../src/models/registry.ts';
import { tokenize } from '../../../src/text/tokenizer.ts';
import { runModelChecks } from '../../models/model-checks.ts';
import { TINY_DEV, TINY_PROBE, TINY_TRAIN } from '../features/tiny-ner.ts';

const strip = (e: { text: string; tokens?: unknown }) => ({ text: e.text, tokens: e.tokens as never });

runModelChecks('perceptron.v1', () => createModel('perceptron.v1', { epochs: 15 }), {
  train: TINY_TRAIN,
  probe: TINY_PROBE,
});

runModelChecks(
  'perceptron.v1 (BILOU)',
  () => createModel('perceptron.v1', { epochs: 15, scheme: 'BILOU', shuffle: false }),
  {
    train: TINY_TRAIN,
    probe: TINY_PROBE,
  },
);

test('perceptron.v1 is registered with a description', () => {
  assert.ok(listModels().some((m) => m.name === 'perceptron.v1' && m.description.length > 0));
});

test('different seeds shuffle differently but both fit the training set', async () => {
  const a = new PerceptronTagger({ epochs: 15 });
  const b = new PerceptronTagger({ epochs: 15 });
  await a.fit(TINY_TRAIN, undefined, { seed: 1 });
  await b.fit(TINY_TRAIN, undefined, { seed: 2 });
  const key = (m: PerceptronTagger) =>
    m.predict(TINY_TRAIN.map(strip)).map((p) => p.spans!.map((s) => `${s.start}:${s.end}:${s.label}`));
  assert.deepEqual(key(a), key(b));
});

test('early stopping on dev F1 stops after `patience` epochs without improvement', async () => {
  const model = new PerceptronTagger({ epochs: 50, patience: 2 });
  const seen: (number | undefined)[] = [];
  const report = await model.fit(TINY_TRAIN, TINY_DEV, { seed: 3, onProgress: (e) => seen.push(e.devScore) });
  assert.ok(seen.every((s) => s !== undefined && s >= 0 && s <= 1));
  assert.ok(report.epochs < 50, `stopped after ${report.epochs} epochs`);
  assert.equal(report.bestDevScore, Math.max(...(seen as number[])));
});

test('predictions always decode from a valid tag sequence with confidences in [0, 1]', async () => {
  const model = new PerceptronTagger({ epochs: 5 });
  await model.fit(TINY_TRAIN, undefined, { seed: 1 });
  const tagSet = new TagSet(['LOC', 'ORG', 'PER'], 'BIO');
  fc.assert(
    fc.property(
      fc.array(
        fc.constantFrom('Anna', 'Schmidt', 'in', 'Berlin', 'Acme', 'Corp', '.', 'New', 'York', 'zzz'),
        {
          maxLength: 12,
        },
      ),
      (words) => {
        const text = words.join(' ');
        for (const a of model.nBest({ text }, 3)) {
          const ids = a.tags.map((t) => tagSet.tagId(t));
          if (ids.length > 0) assert.ok(tagSet.allowedStart(ids[0]!));
          for (let i = 1; i < ids.length; i++)
            assert.ok(tagSet.allowedTransition(ids[i - 1]!, ids[i]!), a.tags.join(' '));
        }
        const tokens = tokenize(text);
        for (const s of model.predict([{ text }])[0]!.spans!) {
          assert.ok(s.score >= 0 && s.score <= 1);
          assert.ok(tokens.some((t) => t.start === s.start) && tokens.some((t) => t.end === s.end));
        }
      },
    ),
    { numRuns: 50 },
  );
});

test('explain returns contributions for each predicted entity', async () => {
  const model = new PerceptronTagger({ epochs: 10 });
  await model.fit(TINY_TRAIN, undefined, { seed: 1 });
  const ex = model.explain(strip(TINY_TRAIN[1]!), 3);
  assert.equal(ex.length, 3);
  assert.deepEqual(
    ex.map((e) => e.target),
    ['PER "Bob" [0, 3)', 'ORG "Acme Corp" [14, 23)', 'LOC "Paris" [27, 32)'],
  );
  for (const e of ex) assert.ok(e.contributions.length === 3);
});

test('loading refuses an incompatible weights format version', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sapphire-perceptron-'));
  try {
    const model = new PerceptronTagger({ epochs: 3 });
    await model.fit(TINY_TRAIN, undefined, { seed: 1 });
    await model.save(dir);
    const weights = await readFile(join(dir, 'weights.bin'));
    weights.writeUInt32LE(7, 4);
    await writeFile(join(dir, 'weights.bin'), weights);
    await assert.rejects(loadModel(dir), (err: SapphireError) => {
      assert.equal(err.code, 'INCOMPATIBLE_VERSION');
      assert.match(err.message, /format version 7.*needs format version 1/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('config errors name the field path', () => {
  for (const [config, path] of [
    [{ epochs: 0 }, 'epochs'],
    [{ shuffle: 'yes' }, 'shuffle'],
    [{ learningRate: 1 }, 'learningRate'],
    [{ features: { windowFeatures: ['colour'] } }, 'features.windowFeatures.0'],
  ] as const) {
    assert.throws(
      () => createModel('perceptron.v1', config as Record<string, unknown>),
      (err: ConfigError) => err instanceof ConfigError && err.details.path === path,
    );
  }
});
