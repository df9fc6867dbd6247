import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { SapphireError } from '../../src/core/errors.ts';
import { problemCardSchema } from '../../src/core/project.ts';
import type { Example } from '../../src/data/types.ts';
import '../../src/models/index.ts';
import { loadModel } from '../../src/models/registry.ts';
import { openStore } from '../../src/store/open-store.ts';
import { loadPredictions, materializeModel } from '../../src/store/run-artifacts.ts';
import { loadReferenceProfile, REFERENCE_PROFILE_FILE } from '../../src/train/reference-profile.ts';
import { TRAINING_RECORD, trainModel } from '../../src/train/train.ts';
import { trainConfigSchema } from '../../src/train/train-config.ts';

function ner(id: string, text: string, spans: [string, string][], split: string): Example {
  return {
    id,
    text,
    split,
    meta: {},
    spans: spans.map(([word, label]) => {
      const start = text.indexOf(word);
      return { start, end: start + word.length, label };
    }),
  };
}

const examples: Example[] = [
  ner(
    'a',
    'Nike red shoes',
    [
      ['Nike', 'BRAND'],
      ['red', 'COLOR'],
    ],
    'train',
  ),
  ner(
    'b',
    'Adidas blue socks',
    [
      ['Adidas', 'BRAND'],
      ['blue', 'COLOR'],
    ],
    'train',
  ),
  ner(
    'c',
    'red Adidas shirt',
    [
      ['red', 'COLOR'],
      ['Adidas', 'BRAND'],
    ],
    'train',
  ),
  ner(
    'd',
    'blue Nike cap',
    [
      ['blue', 'COLOR'],
      ['Nike', 'BRAND'],
    ],
    'dev',
  ),
  ner(
    'e',
    'Nike blue shoes',
    [
      ['Nike', 'BRAND'],
      ['blue', 'COLOR'],
    ],
    'test',
  ),
];

const card = problemCardSchema.parse({ name: 'shop', task: 'ner', labels: ['BRAND', 'COLOR'] });

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'sapphire-train-'));
  const store = await openStore({ projectDir: dir });
  await store.putDatasetVersion({ name: 'shop', examples, operation: { kind: 'import', params: {} } });
  return { dir, store };
}

describe('trainModel', () => {
  test('trains, evaluates dev and test, saves the model and records a finished run', async () => {
    const { dir, store } = await setup();
    try {
      const config = trainConfigSchema.parse({
        model: { architecture: 'token-majority.v1' },
        data: { dataset: 'shop' },
      });
      const result = await trainModel({ store, card, config, projectDir: dir });
      assert.equal(result.dev?.metrics.span_f1_micro, 1);
      assert.equal(result.test?.metrics.span_f1_micro, 1);
      const modelDir = result.modelDir ?? assert.fail('the model folder is written by default');
      assert.ok(existsSync(join(modelDir, TRAINING_RECORD)));
      const record = JSON.parse(readFileSync(join(modelDir, TRAINING_RECORD), 'utf8'));
      assert.equal(record.run, result.run.id);
      const run = await store.getRun(result.run.id);
      assert.equal(run.status, 'finished');
      assert.equal(run.metrics['test.span_f1_micro'], 1);
      assert.deepEqual(run.datasetVersions, [result.dataset.id]);
      const loaded = await loadModel(modelDir);
      assert.deepEqual(
        loaded.predict([{ text: 'Nike red cap' }]),
        result.model.predict([{ text: 'Nike red cap' }]),
      );
    } finally {
      await store.close();
    }
  });

  test('saves a reference profile with the model: labels, lengths, confidences, vocabulary, entities', async () => {
    const { dir, store } = await setup();
    try {
      const config = trainConfigSchema.parse({
        model: { architecture: 'token-majority.v1' },
        data: { dataset: 'shop' },
      });
      const result = await trainModel({ store, card, config, projectDir: dir });
      const modelDir = result.modelDir ?? assert.fail('the model folder is written by default');
      const profile = (await loadReferenceProfile(modelDir)) ?? assert.fail('the profile is saved');
      assert.equal(profile.referenceSet, 'dev', 'predictions on dev are the reference');
      assert.deepEqual(profile.labels, { BRAND: 1, COLOR: 1 }, 'entity types predicted on dev');
      assert.deepEqual(profile.trainLabels, { BRAND: 3, COLOR: 3 }, 'gold training labels');
      assert.deepEqual(profile.lengths, { '3': 1 }, 'dev lengths in tokens');
      assert.ok(profile.vocabulary.includes('nike') && profile.vocabulary.includes('socks'), 'vocabulary');
      assert.equal(profile.oovRate, 1 / 3, '"cap" is not in the training texts');
      assert.ok(profile.entities.includes('BRAND\tnike'), 'training entity surfaces');
      assert.equal(
        profile.confidence.reduce((a, b) => a + b, 0),
        2,
        'one confidence per entity',
      );
      const artifacts = await store.listRunArtifacts(result.run.id);
      assert.ok(
        artifacts.some((a) => a.name.endsWith(REFERENCE_PROFILE_FILE)),
        'the profile is stored with the model files (so registered versions carry it)',
      );
    } finally {
      await store.close();
    }
  });

  test('records provenance, per-epoch metrics, model files and predictions as artifacts', async () => {
    const { dir, store } = await setup();
    try {
      const config = trainConfigSchema.parse({
        model: { architecture: 'crf.v1', maxIterations: 5 },
        data: { dataset: 'shop' },
      });
      const result = await trainModel({
        store,
        card,
        config,
        projectDir: dir,
        writeModelDir: false,
        record: { kind: 'trial', tags: ['sweep'] },
      });
      assert.equal(result.modelDir, null);
      const run = await store.getRun(result.run.id);
      assert.equal(run.kind, 'trial');
      assert.deepEqual(run.tags, ['sweep']);
      const provenance = run.provenance as { host: string; pid: number; packages: Record<string, string> };
      assert.equal(provenance.pid, process.pid);
      assert.ok(provenance.packages.sapphire && provenance.packages.node);
      assert.ok('train.span_f1_micro' in run.metrics, 'the training set is scored too');
      assert.ok((await store.metricHistory(run.id, 'loss')).length > 0, 'per-epoch loss is logged');
      const names = (await store.listRunArtifacts(run.id)).map((a) => a.name);
      assert.ok(names.includes('model/training.json'), names.join(', '));
      assert.ok(names.includes('predictions/dev.jsonl') && names.includes('predictions/test.jsonl'));
      const predictions = await loadPredictions(store, run.id, 'test');
      assert.deepEqual(
        predictions.map((p) => p.id),
        examples.filter((e) => e.split === 'test').map((e) => e.id),
      );
      const copy = join(dir, 'restored');
      await materializeModel(store, run.id, copy);
      const loaded = await loadModel(copy);
      assert.deepEqual(
        loaded.predict([{ text: 'Nike red cap' }]),
        result.model.predict([{ text: 'Nike red cap' }]),
      );
    } finally {
      await store.close();
    }
  });

  test('a selection replaces the splits and is recorded with the run', async () => {
    const { dir, store } = await setup();
    try {
      const config = trainConfigSchema.parse({
        model: { architecture: 'token-majority.v1' },
        data: { dataset: 'shop' },
      });
      const result = await trainModel({
        store,
        card,
        config,
        projectDir: dir,
        writeModelDir: false,
        selection: {
          describe: { kind: 'fold', k: 2, index: 0 },
          apply: (data) => ({ train: data.train, dev: [], evaluate: { heldout: data.dev } }),
        },
      });
      assert.deepEqual(Object.keys(result.evaluations).sort(), ['heldout', 'train']);
      const run = await store.getRun(result.run.id);
      assert.deepEqual(run.config.selection, { kind: 'fold', k: 2, index: 0 });
      assert.ok('heldout.span_f1_micro' in run.metrics);
      assert.ok(!('test.span_f1_micro' in run.metrics));
    } finally {
      await store.close();
    }
  });

  test('a failure after the run starts marks the run failed with its error', async () => {
    const { dir, store } = await setup();
    try {
      const config = trainConfigSchema.parse({
        model: { architecture: 'crf.v1' },
        data: { dataset: 'shop' },
      });
      const onRunCreated = () => {
        throw new Error('boom');
      };
      await assert.rejects(trainModel({ store, card, config, projectDir: dir, onRunCreated }), /boom/);
      const runs = await store.listRuns();
      assert.equal(runs.length, 1, 'the run was recorded before the failure');
      assert.equal(runs[0]?.status, 'failed');
      assert.equal(runs[0]?.error, 'boom');
    } finally {
      await store.close();
    }
  });

  test('a dataset without a train split says how to make one', async () => {
    const { dir, store } = await setup();
    try {
      await store.putDatasetVersion({
        name: 'nosplit',
        examples: examples.map(({ split: _s, ...e }) => e),
        operation: { kind: 'import', params: {} },
      });
      const config = trainConfigSchema.parse({
        model: { architecture: 'crf.v1' },
        data: { dataset: 'nosplit' },
      });
      await assert.rejects(trainModel({ store, card, config, projectDir: dir }), (e: SapphireError) => {
        assert.match(e.message, /no examples in split "train"/);
        assert.match(e.hint ?? '', /sapphire data split nosplit/);
        return true;
      });
      assert.deepEqual(await store.listRuns(), [], 'no run is recorded before training starts');
    } finally {
      await store.close();
    }
  });

  test('labels outside the project label set are explained', async () => {
    const { dir, store } = await setup();
    try {
      const narrow = problemCardSchema.parse({ name: 'shop', task: 'ner', labels: ['BRAND', 'SIZE'] });
      const config = trainConfigSchema.parse({
        model: { architecture: 'crf.v1' },
        data: { dataset: 'shop' },
      });
      await assert.rejects(
        trainModel({ store, card: narrow, config, projectDir: dir }),
        /does not declare: COLOR \(and never uses SIZE\)/,
      );
    } finally {
      await store.close();
    }
  });

  test('training data without annotations is refused for the task', async () => {
    const { dir, store } = await setup();
    try {
      await store.putDatasetVersion({
        name: 'raw',
        examples: examples.map(({ spans: _s, ...e }) => e),
        operation: { kind: 'import', params: {} },
      });
      const config = trainConfigSchema.parse({ model: { architecture: 'crf.v1' }, data: { dataset: 'raw' } });
      await assert.rejects(trainModel({ store, card, config, projectDir: dir }), /has no entity spans/);
    } finally {
      await store.close();
    }
  });

  test('unknown config keys fail before training, naming the field', () => {
    assert.throws(
      () =>
        trainConfigSchema.parse({ model: { architecture: 'crf.v1' }, data: { dataset: 'x', trian: 'a' } }),
      /trian/,
    );
  });
});
