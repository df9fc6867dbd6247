/** The README's main job, `sapphire quickstart`, end to end through the real CLI. */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sapphire, sapphireJson, tempDir } from './helpers.ts';

interface QuickstartJson {
  dir: string;
  datasets: { imported: string; split: string; stats: { examples: number; entities: { total: number } } }[];
  ladder: { architecture: string }[];
}

describe('sapphire quickstart', () => {
  test('creates the fashion demo, imports titles and pages, splits them and reports statistics', () => {
    const cwd = tempDir();
    const run = sapphire(cwd, 'quickstart', 'demo');
    assert.equal(run.code, 0, run.stderr);
    assert.ok(existsSync(join(cwd, 'demo', 'sapphire.yaml')));
    assert.match(run.stdout, /fashion-titles@[0-9a-f]{12}/);
    assert.match(run.stdout, /fashion-pages@[0-9a-f]{12}/);
    assert.match(run.stdout, /BRAND/);
    assert.match(run.stderr, /Imported fashion-titles@/);
    // The ladder: baseline → rules → perceptron → CRF, one comparison table.
    assert.match(run.stdout, /Model ladder on fashion-titles@/);
    for (const arch of ['token-majority.v1', 'rules-ner.v1', 'perceptron.v1', 'crf.v1']) {
      assert.match(run.stdout, new RegExp(arch.replace('.', '\\.')));
    }
    assert.ok(existsSync(join(cwd, 'demo', 'models', '4-crf', 'model.json')));
    // It ends with the web UI's address.
    const last = run.stdout.trimEnd().split('\n').at(-1) ?? '';
    assert.match(last, /npx sapphire ui .*http:\/\/127\.0\.0\.1:\d+\/ui\//, `last line: ${last}`);

    // The trained CRF can be evaluated and used from the CLI.
    const evaluation = sapphireJson<{ run: string; metrics: Record<string, number> }>(
      join(cwd, 'demo'),
      'evaluate',
      'models/4-crf',
      'fashion-titles:test',
    );
    assert.ok(evaluation.metrics.span_f1_micro! > 0.8, `CRF test F1 ${evaluation.metrics.span_f1_micro}`);
    // The evaluation is a run too, linked to the training run, with its predictions stored.
    const shown = sapphireJson<{
      run: { kind: string; metrics: Record<string, number>; config: { trainingRun: string | null } };
      artifacts: { name: string }[];
    }>(join(cwd, 'demo'), 'runs', 'show', evaluation.run);
    assert.equal(shown.run.kind, 'evaluate');
    assert.equal(shown.run.metrics['test.span_f1_micro'], evaluation.metrics.span_f1_micro);
    assert.match(shown.run.config.trainingRun ?? '', /^r-/);
    assert.ok(shown.artifacts.some((a) => a.name === 'predictions/test.jsonl'));
    const predicted = sapphireJson<{ spans: { label: string }[] }[]>(
      join(cwd, 'demo'),
      'predict',
      'models/4-crf',
      '--text',
      "Nike men's black running shoes UK 9",
    );
    assert.ok(predicted[0]!.spans.some((s) => s.label === 'BRAND'));
    const conll = sapphire(
      join(cwd, 'demo'),
      'predict',
      'models/4-crf',
      '--text',
      'Nike shoes',
      '--format',
      'conll',
    );
    assert.match(conll.stdout, /^Nike\tB-BRAND/m);
    const pages = join(cwd, 'exported-pages');
    const exported = sapphire(
      join(cwd, 'demo'),
      'data',
      'export',
      'fashion-titles',
      '--format',
      'html',
      '--out',
      pages,
      '--split',
      'dev',
    );
    assert.equal(exported.code, 0, exported.stderr);
    const reimported = sapphireJson<{ version: { exampleCount: number } }[]>(
      join(cwd, 'demo'),
      'data',
      'import',
      pages,
      '--name',
      'dev-pages',
    );
    assert.equal(reimported[0]!.version.exampleCount, 80);
    const badOverride = sapphire(join(cwd, 'demo'), 'train', 'configs/4-crf.yaml', 'model.bogus=1');
    assert.notEqual(badOverride.code, 0);
    assert.match(badOverride.stderr, /bogus/);

    const versions = sapphireJson<{ name: string; splitCounts: Record<string, number> }[]>(
      join(cwd, 'demo'),
      'data',
      'ls',
    );
    const split = versions.find(
      (v) => v.name === 'fashion-titles' && Object.keys(v.splitCounts).length === 3,
    );
    assert.ok(split, 'a split version of the titles exists');

    // Running it again reuses the project and stores nothing new.
    const again = sapphire(cwd, 'quickstart', 'demo', '--no-train');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(sapphireJson<unknown[]>(join(cwd, 'demo'), 'data', 'ls').length, versions.length);
  });

  test('--data points the same flow at a user file and guesses the task', () => {
    const cwd = tempDir();
    const file = join(cwd, 'tickets.csv');
    const rows = ['text,label'];
    for (let i = 0; i < 30; i++)
      rows.push(`where is my card number ${i},card`, `I want a refund for order ${i},refund`);
    writeFileSync(file, `${rows.join('\n')}\n`);
    const result = sapphireJson<QuickstartJson>(cwd, 'quickstart', 'mine', '--data', file);
    assert.equal(result.datasets.length, 1);
    assert.deepEqual(
      result.ladder.map((r) => r.architecture),
      ['majority.v1', 'rules-classify.v1', 'linear.v1'],
    );
    assert.equal(result.datasets[0]!.stats.examples, 60);
    const card = sapphireJson<{ card: { task: string } }>(cwd, 'init', 'other', '--task', 'classify');
    assert.equal(card.card.task, 'classify');
  });

  test('refuses a non-empty folder that is not a project', () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'notes.txt'), 'mine');
    const run = sapphire(cwd, 'quickstart', '.');
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /not empty/);
  });
});
