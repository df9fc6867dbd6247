/** The README's main job, `sapphire quickstart`, end to end through the real CLI. */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sapphire, sapphireJson, tempDir } from './helpers.ts';

interface QuickstartJson {
  dir: string;
  datasets: { imported: string; split: string; stats: { examples: number; entities: { total: number } } }[];
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
    const again = sapphire(cwd, 'quickstart', 'demo');
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
