import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { readDataset } from '../../../src/data/formats/index.ts';
import type { Example } from '../../../src/data/types.ts';
import { LinearModel } from '../../../src/models/linear/index.ts';

const dir = resolve(
  import.meta.dirname,
  '..',
  '..',
  '..',
  '..',
  'shared',
  'datasets',
  'classify',
  'banking77',
);
const missing = existsSync(join(dir, 'train.csv'))
  ? false
  : `banking77 not found at ${dir} (see ../shared/datasets/README.md)`;

async function read(name: string): Promise<Example[]> {
  const options = { format: 'csv', textColumn: 'text', labelColumn: 'category', task: 'classify' } as const;
  const { examples, problems } = await readDataset(join(dir, `${name}.csv`), options);
  assert.deepEqual(problems, []);
  return examples;
}

test('linear.v1 reaches > 85% accuracy on banking77 (end to end)', { skip: missing }, async () => {
  const train = await read('train');
  const testSet = await read('test');
  assert.equal(train.length, 10003);
  const model = new LinearModel();
  await model.fit(train, undefined, { seed: 1 });
  const predictions = model.predict(testSet);
  const correct = predictions.filter((p, i) => p.labels![0] === testSet[i]!.labels![0]).length;
  const accuracy = correct / testSet.length;
  assert.ok(accuracy > 0.85, `accuracy ${accuracy}`);
});
