import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as sapphire from 'sapphire';

const dir = mkdtempSync(join(tmpdir(), 'sapphire-library-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the package entry point reads data, trains, predicts, evaluates and applies overrides', async () => {
  const rows = [
    ['where is my card', 'card_arrival'],
    ['my card has not arrived yet', 'card_arrival'],
    ['card still not here', 'card_arrival'],
    ['when will my new card come', 'card_arrival'],
    ['I lost my card', 'lost_card'],
    ['my card was stolen', 'lost_card'],
    ['I cannot find my card anywhere', 'lost_card'],
    ['someone took my card', 'lost_card'],
  ];
  const file = join(dir, 'train.csv');
  writeFileSync(file, `text,label\n${rows.map((r) => r.join(',')).join('\n')}\n`);
  const { examples } = await sapphire.readDataset(file, { task: 'classify' });
  assert.equal(examples.length, 8);

  assert.ok(
    sapphire.listModels().some((m) => m.name === 'linear.v1'),
    'built-in models are registered',
  );
  const model = sapphire.createModel('linear.v1', {});
  await model.fit(examples, undefined, { seed: 1 });
  const predictions = await sapphire.predictMany(model, examples);
  const report = sapphire.evaluatePredictions('classify', examples, predictions);
  assert.ok(report.metrics.accuracy! >= 0.75, `training accuracy ${report.metrics.accuracy}`);

  const [first] = predictions;
  const rules = sapphire.compileOverrides([
    {
      id: 'ov_1',
      tenant: 'default',
      model: 'intents',
      action: 'always',
      match: 'phrase',
      pattern: 'where is',
      flags: '',
      target: 'class',
      label: 'lost_card',
      note: null,
      createdBy: 'test',
      createdAt: '2024-01-01T00:00:00.000Z',
      removedBy: null,
      removedAt: null,
      hits: 0,
    },
  ]);
  const served = sapphire.applyOverrides(rules, 'classify', 'where is my card', first!);
  assert.deepEqual(served.labels, [{ label: 'lost_card', score: 1, override: 'ov_1' }]);
  assert.throws(() => sapphire.createModel('no-such.v9', {}), sapphire.SapphireError);
});
