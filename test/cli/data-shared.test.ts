/**
 * End-to-end acceptance of the dataset layer on the shared public datasets, through the real CLI:
 * exact counts after import, re-export round trips, and the `--json` statistics.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { HAVE_SHARED, SHARED, sapphire, sapphireJson, tempDir } from './helpers.ts';

interface Stats {
  examples: number;
  tokens: number;
  entities: { total: number };
  classLabels: { label: string }[];
}

const skip = HAVE_SHARED ? false : `shared datasets not found at ${SHARED}`;

describe('data import + stats on the shared datasets', { skip }, () => {
  let ner: string;
  let classify: string;

  before(() => {
    ner = tempDir();
    classify = tempDir();
    assert.equal(sapphire(ner, 'init', '--task', 'ner').code, 0);
    assert.equal(sapphire(classify, 'init', '--task', 'classify').code, 0);
  });

  function importAndStats(cwd: string, name: string, ...args: string[]): Stats {
    sapphireJson(cwd, 'data', 'import', ...args, '--name', name);
    return sapphireJson<Stats>(cwd, 'data', 'stats', name);
  }

  test('WNUT-17 train: 3,394 sentences, 62,730 tokens, 1,975 entities', () => {
    const stats = importAndStats(
      ner,
      'wnut17',
      join(SHARED, 'ner/wnut17/wnut17train.conll'),
      '--split',
      'train',
    );
    assert.equal(stats.examples, 3394);
    assert.equal(stats.tokens, 62730);
    assert.equal(stats.entities.total, 1975);
  });

  test('MIT Restaurant train (label-first columns): 7,660 sentences', () => {
    const stats = importAndStats(
      ner,
      'mit-restaurant',
      join(SHARED, 'ner/mit_restaurant/restauranttrain.bio'),
    );
    assert.equal(stats.examples, 7660);
  });

  test('fashion brands training (JSONL): 1,235 texts, 527 spans', () => {
    const stats = importAndStats(
      ner,
      'fashion-brands',
      join(SHARED, 'ner/fashion_brands/fashion_brands_training.jsonl'),
    );
    assert.equal(stats.examples, 1235);
    assert.equal(stats.entities.total, 527);
  });

  test('SNIPS train (seq.in/seq.out/label): 13,084 utterances, 7 intents', () => {
    const stats = importAndStats(ner, 'snips', join(SHARED, 'intent/snips/train'), '--format', 'lines');
    assert.equal(stats.examples, 13084);
    assert.equal(stats.classLabels.length, 7);
  });

  test('Banking77 train (CSV): 10,003 texts, 77 labels', () => {
    const stats = importAndStats(classify, 'banking77', join(SHARED, 'classify/banking77/train.csv'));
    assert.equal(stats.examples, 10003);
    assert.equal(stats.classLabels.length, 77);
  });

  test('re-export reproduces CoNLL input modulo whitespace (IOB2 and label-first)', () => {
    for (const [name, file] of [
      ['wnut17', 'ner/wnut17/wnut17train.conll'],
      ['mit-restaurant', 'ner/mit_restaurant/restauranttrain.bio'],
    ]) {
      const run = sapphire(ner, 'data', 'export', name!);
      assert.equal(run.code, 0, run.stderr);
      const normalise = (s: string) =>
        s
          .replace(/\r\n/g, '\n')
          .split('\n')
          .map((l) => l.trim().split(/\s+/).join(' '))
          .join('\n')
          .replace(/\n{2,}/g, '\n\n')
          .trim();
      assert.equal(
        normalise(run.stdout),
        normalise(readFileSync(join(SHARED, file!), 'utf8')),
        `${name} round trip`,
      );
    }
  });

  test('re-export reproduces JSONL input line by line', () => {
    const run = sapphire(ner, 'data', 'export', 'fashion-brands', '--format', 'jsonl');
    assert.equal(run.code, 0, run.stderr);
    const source = readFileSync(join(SHARED, 'ner/fashion_brands/fashion_brands_training.jsonl'), 'utf8');
    const parse = (s: string) =>
      s
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l));
    assert.deepEqual(parse(run.stdout), parse(source));
  });

  test('data ls lists every imported dataset once', () => {
    const versions = sapphireJson<{ name: string }[]>(ner, 'data', 'ls');
    assert.deepEqual(versions.map((v) => v.name).sort(), [
      'fashion-brands',
      'mit-restaurant',
      'snips',
      'wnut17',
    ]);
  });
});

describe('importing several files that share a name', { skip }, () => {
  test('crossner train files of two domains import together with distinct ids', () => {
    const cwd = tempDir();
    assert.equal(sapphire(cwd, 'init', '--task', 'ner').code, 0);
    const run = sapphire(
      cwd,
      'data',
      'import',
      join(SHARED, 'ner/crossner/ai/train.txt'),
      join(SHARED, 'ner/crossner/music/train.txt'),
      '--name',
      'crossner',
      '--split',
      'train',
    );
    assert.equal(run.code, 0, run.stderr);
    const shown = sapphireJson<{ examples: { id: string }[] }>(
      cwd,
      'data',
      'show',
      'crossner',
      '--limit',
      '100000',
    );
    const ids = shown.examples.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.some((id) => id.startsWith('music/train.txt:')));
  });
});
