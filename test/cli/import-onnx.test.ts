/**
 * `sapphire models import-onnx` through the real CLI on a tiny model the test builds: import, refuse malformed
 * folders with the file and field, evaluate, register; and `sapphire train` with an external.v1 config.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { COUNTING_TRAINER, writeRestaurantModel } from '../fixtures/onnx/tiny-hf-model.ts';
import { REPO, sapphire, sapphireJson, tempDir } from './helpers.ts';

const CONLL = [
  'book\tO\na\tO\ntable\tO\nat\tO\nNobu\tB-Restaurant_Name\nDowntown\tI-Restaurant_Name\ntonight\tO',
  'any\tO\ncheap\tB-Price\nsushi\tB-Cuisine\nnear\tO\nme\tO',
  'Nobu\tB-Restaurant_Name\ntonight\tO',
  'cheap\tB-Price\nsushi\tB-Cuisine',
].join('\n\n');

describe('sapphire models import-onnx', () => {
  let dir: string;
  let exported: string;

  before(async () => {
    dir = tempDir();
    exported = join(dir, 'exports', 'tiny-ner');
    await writeRestaurantModel(exported);
    assert.equal(sapphire(dir, 'init', '--task', 'ner').code, 0, 'init');
    writeFileSync(join(dir, 'tiny.conll'), `${CONLL}\n`);
    sapphireJson(dir, 'data', 'import', 'tiny.conll', '--name', 'tiny', '--split', 'test');
  });

  test('imports, evaluates and registers a Hugging Face ONNX token classifier', () => {
    const result = sapphireJson<{ dir: string; task: string; labels: string[]; architecture: string }>(
      dir,
      'models',
      'import-onnx',
      exported,
      '--name',
      'tiny-ner',
    );
    assert.equal(result.architecture, 'hf-onnx.v1');
    assert.equal(result.task, 'ner');
    assert.deepEqual(result.labels, ['Cuisine', 'Price', 'Restaurant_Name']);
    assert.ok(
      existsSync(join(dir, 'models', 'tiny-ner', 'onnx', 'model.onnx')),
      'the model folder holds the ONNX file',
    );
    assert.deepEqual(
      readdirSync(join(dir, 'models')).filter((f) => f.startsWith('.')),
      [],
      'no temporary folder is left',
    );
    const again = sapphire(dir, 'models', 'import-onnx', exported, '--name', 'tiny-ner');
    assert.equal(again.code, 1, 'an existing folder is not replaced');
    assert.match(again.stderr, /already exists/);

    const evaluation = sapphireJson<{ metrics: Record<string, number> }>(
      dir,
      'evaluate',
      'models/tiny-ner',
      'tiny:test',
    );
    assert.equal(evaluation.metrics.span_f1_micro, 1, 'the hand-set model finds every entity');
    const human = sapphire(dir, 'evaluate', 'models/tiny-ner', 'tiny:test');
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /hf-onnx\.v1 on tiny@/);

    const analysis = sapphire(dir, 'analyze', 'models/tiny-ner', '--data', 'tiny:test');
    assert.equal(analysis.code, 0, analysis.stderr);
    assert.match(analysis.stdout, /Bug checks/i, 'error analysis runs on the imported model');

    const version = sapphireJson<{ version: number; architecture: string }>(
      dir,
      'models',
      'register',
      'models/tiny-ner',
      '--name',
      'tiny-ner',
    );
    assert.equal(version.architecture, 'hf-onnx.v1');
  });

  test('explains a malformed export with the file and field', async () => {
    const broken = join(dir, 'exports', 'broken');
    await writeRestaurantModel(broken, {});
    writeFileSync(join(broken, 'config.json'), JSON.stringify({ id2label: { 0: 'O', 1: 'B-X' } }));
    const run = sapphire(dir, 'models', 'import-onnx', broken, '--task', 'ner');
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /error\[DATA_INVALID\]: .*broken\/config\.json, field id2label: output logits .* has shape \[1, 3, 5\]/,
    );
    assert.match(run.stderr, /make id2label list exactly one label per logit/);
    await rm(join(broken, 'tokenizer.json'));
    const missing = sapphire(dir, 'models', 'import-onnx', broken);
    assert.match(missing.stderr, /broken\/tokenizer\.json: file not found/);
    assert.equal(existsSync(join(dir, 'models', 'broken')), false, 'nothing is written for a refused import');
  });

  test('trains an external.v1 config: records the run, evaluates and saves the model', () => {
    writeFileSync(
      join(dir, 'external.yaml'),
      [
        'model:',
        '  architecture: external.v1',
        `  command: ${JSON.stringify(COUNTING_TRAINER)}`,
        `  cwd: ${JSON.stringify(REPO)}`,
        'data: { dataset: tiny, train: test, dev: null, test: test }',
        'output: models/external',
        '',
      ].join('\n'),
    );
    const trained = sapphireJson<{ run: string; model: string; test: { metrics: Record<string, number> } }>(
      dir,
      'train',
      'external.yaml',
    );
    assert.equal(trained.test.metrics.span_f1_micro, 1, 'the counting trainer learns its training set');
    assert.ok(
      existsSync(join(dir, 'models', 'external', 'onnx', 'model.onnx')),
      'saved in the Hugging Face layout',
    );
    const { run } = sapphireJson<{ run: { status: string; config: { model: { command: string[] } } } }>(
      dir,
      'runs',
      'show',
      trained.run,
    );
    assert.equal(run.status, 'finished');
    assert.deepEqual(
      run.config.model.command,
      COUNTING_TRAINER,
      'the run records the filled config with the command',
    );

    const failing = sapphire(
      dir,
      'train',
      'external.yaml',
      'model.env.COUNTING_TRAINER_FAIL=1',
      'output=models/failed',
    );
    assert.equal(failing.code, 1, 'a failing trainer fails the command');
    assert.match(failing.stderr, /the external trainer .* exited with code 3/);
    assert.equal(existsSync(join(dir, 'models', 'failed')), false, 'no half-written model');
    const runs = sapphireJson<{ status: string }[] | { runs: { status: string }[] }>(
      dir,
      'runs',
      'ls',
      '--all',
    );
    const list = Array.isArray(runs) ? runs : runs.runs;
    assert.ok(
      list.some((r) => r.status === 'failed'),
      'the failed run is recorded',
    );
  });
});
