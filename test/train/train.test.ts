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
      assert.ok(existsSync(join(result.modelDir, TRAINING_RECORD)));
      const record = JSON.parse(readFileSync(join(result.modelDir, TRAINING_RECORD), 'utf8'));
      assert.equal(record.run, result.run.id);
      const run = await store.getRun(result.run.id);
      assert.equal(run.status, 'finished');
      assert.equal(run.metrics['test.span_f1_micro'], 1);
      assert.deepEqual(run.datasetVersions, [result.dataset.id]);
      const loaded = await loadModel(result.modelDir);
      assert.deepEqual(
        loaded.predict([{ text: 'Nike red cap' }]),
        result.model.predict([{ text: 'Nike red cap' }]),
      );
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
