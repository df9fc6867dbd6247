/** `sapphire runs …` end to end through the real CLI: list, filter, sort, show, tag, note, compare, delete. */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sapphire, sapphireJson, tempDir } from './helpers.ts';

interface RunJson {
  id: string;
  name: string | null;
  seed: number | null;
  tags: string[];
  notes: string | null;
  status: string;
  metrics: Record<string, number>;
}

type Span = [string, string];

function example(text: string, spans: Span[]): string {
  return JSON.stringify({
    text,
    spans: spans.map(([word, label]) => ({
      start: text.indexOf(word),
      end: text.indexOf(word) + word.length,
      label,
    })),
  });
}

/** A project with a tiny NER dataset split into train/dev/test, and a token-majority training config. */
function makeProject(): string {
  const dir = tempDir('sapphire-runs-');
  assert.equal(sapphire(dir, 'init', '--task', 'ner', '--labels', 'BRAND,COLOR').code, 0);
  const files: Record<string, [string, Span[]][]> = {
    train: [
      [
        'Nike red shoes',
        [
          ['Nike', 'BRAND'],
          ['red', 'COLOR'],
        ],
      ],
      [
        'Adidas blue socks',
        [
          ['Adidas', 'BRAND'],
          ['blue', 'COLOR'],
        ],
      ],
      [
        'red Adidas shirt',
        [
          ['red', 'COLOR'],
          ['Adidas', 'BRAND'],
        ],
      ],
    ],
    dev: [
      [
        'Nike blue cap',
        [
          ['Nike', 'BRAND'],
          ['blue', 'COLOR'],
        ],
      ],
    ],
    test: [
      [
        'Adidas red socks',
        [
          ['Adidas', 'BRAND'],
          ['red', 'COLOR'],
        ],
      ],
    ],
  };
  for (const [split, rows] of Object.entries(files))
    writeFileSync(join(dir, `${split}.jsonl`), `${rows.map(([t, s]) => example(t, s)).join('\n')}\n`);
  const imported = sapphire(
    dir,
    'data',
    'import',
    'train.jsonl',
    'dev.jsonl',
    'test.jsonl',
    '--name',
    'shop',
    '--splits',
    'train,dev,test',
  );
  assert.equal(imported.code, 0, imported.stderr);
  writeFileSync(
    join(dir, 'baseline.yaml'),
    'model: { architecture: token-majority.v1 }\ndata: { dataset: shop }\nseed: 1\ntags: [base]\n',
  );
  return dir;
}

describe('sapphire runs', () => {
  test('ls, show, tag, note, compare and delete two trained runs', () => {
    const dir = makeProject();
    const first = sapphireJson<{ run: string; model: string }>(dir, 'train', 'baseline.yaml');
    const second = sapphireJson<{ run: string; model: string }>(
      dir,
      'train',
      'baseline.yaml',
      'seed=2',
      'name=second',
      'tags=[alt]',
    );
    assert.ok(existsSync(join(dir, 'models', second.run, 'training.json')));
    const a = first.run;
    const b = second.run;
    const bShort = b.slice(-6);

    // Filter by metric and seed; JSON gives whole runs.
    const filtered = sapphireJson<RunJson[]>(
      dir,
      'runs',
      'ls',
      '--filter',
      'dev.span_f1_micro>=0.5',
      '--filter',
      'seed>1',
      '--sort',
      'dev.span_f1_micro',
    );
    assert.deepEqual(
      filtered.map((r) => r.id),
      [b],
    );
    assert.equal(filtered[0]!.name, 'second');
    assert.equal(filtered[0]!.status, 'finished');
    assert.ok(filtered[0]!.metrics['dev.span_f1_micro']! >= 0.5);

    // Tag, then note twice (the second appended); unique id parts work everywhere.
    const tagged = sapphireJson<RunJson>(dir, 'runs', 'tag', bShort, 'good');
    assert.deepEqual(tagged.tags, ['alt', 'good']);
    assert.equal(sapphire(dir, 'runs', 'note', bShort, 'looks fine').code, 0);
    const noted = sapphire(dir, 'runs', 'note', bShort, 'checked twice', '--append');
    assert.equal(noted.code, 0, noted.stderr);
    assert.match(noted.stdout, /looks fine\nchecked twice/);

    // Human listing: sorted by seed, newest-first default otherwise, with the primary metric as columns.
    const listed = sapphire(dir, 'runs', 'ls', '--sort', 'seed:desc', '--filter', 'tag~goo|base');
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^run\s+kind\s+name\s+status\s+dev\.span_f1_micro\s+test\.span_f1_micro\s+tags/);
    assert.ok(lines[2]!.startsWith(b) && lines[3]!.startsWith(a), listed.stdout);
    assert.match(lines[2]!, /alt,good/);

    // show: JSON details and the human page.
    const details = sapphireJson<{
      run: RunJson & { provenance: { command: string | null; packages: Record<string, string> } };
      artifacts: { name: string; size: number }[];
      history: unknown[];
      members: number;
      study: null;
      durationSeconds: number;
    }>(dir, 'runs', 'show', bShort);
    assert.equal(details.run.id, b);
    assert.equal(details.run.notes, 'looks fine\nchecked twice');
    assert.equal(details.members, 0);
    assert.equal(details.study, null);
    assert.ok(details.durationSeconds >= 0);
    assert.ok(details.artifacts.some((x) => x.name === 'model/training.json' && x.size > 0));
    assert.ok(details.artifacts.some((x) => x.name === 'predictions/test.jsonl'));
    assert.ok(details.run.provenance.packages.node);
    const shown = sapphire(dir, 'runs', 'show', b);
    assert.equal(shown.code, 0, shown.stderr);
    for (const part of [
      `Run ${b}`,
      'status    finished',
      'seed      2',
      'notes     looks fine',
      'datasets  shop@',
      'Final metrics',
      'span_f1_micro',
      'Artifacts',
      'model/model.json',
      'Config',
      'architecture: token-majority.v1',
    ])
      assert.ok(shown.stdout.includes(part), `missing "${part}" in:\n${shown.stdout}`);

    // compare: config diff (seed, name, tags) and metric deltas.
    const comparison = sapphireJson<{
      config: { key: string; values: unknown[] }[];
      metrics: { key: string; values: number[]; deltas: number[] }[];
      differences: { field: string; values: unknown[] }[];
    }>(dir, 'runs', 'compare', a, bShort);
    assert.deepEqual(
      comparison.config.map((d) => d.key),
      ['name', 'seed', 'tags'],
    );
    assert.deepEqual(comparison.config.find((d) => d.key === 'seed')!.values, [1, 2]);
    assert.deepEqual(comparison.config.find((d) => d.key === 'name')!.values, [null, 'second']);
    const dev = comparison.metrics.find((m) => m.key === 'dev.span_f1_micro')!;
    assert.equal(dev.deltas[0], 0);
    assert.equal(dev.deltas[1], dev.values[1]! - dev.values[0]!);
    assert.ok(comparison.differences.some((d) => d.field === 'seed'));
    const compared = sapphire(dir, 'runs', 'compare', a, b);
    assert.equal(compared.code, 0, compared.stderr);
    assert.match(compared.stdout, /Config differences \(3; \d+ keys identical\)/);
    assert.match(compared.stdout, /Metrics \(Δ against token-majority\.v1 [0-9a-f]{6}\)/);

    // delete: without --yes only says what would go; with it, the run and its model folder are gone.
    const refused = sapphire(dir, 'runs', 'delete', bShort);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, new RegExp(`Would delete 1 run\\(s\\):\\n  ${b}`));
    assert.match(refused.stdout, new RegExp(`models/${b}`));
    assert.match(refused.stderr, /add --yes/);
    assert.ok(existsSync(join(dir, 'models', b)));
    const deleted = sapphireJson<{ deleted: boolean; runs: string[]; modelDirs: { path: string }[] }>(
      dir,
      'runs',
      'delete',
      bShort,
      '--yes',
    );
    assert.equal(deleted.deleted, true);
    assert.deepEqual(deleted.runs, [b]);
    assert.deepEqual(
      deleted.modelDirs.map((d) => d.path),
      [second.model],
    );
    assert.ok(!existsSync(join(dir, 'models', b)), 'the model folder is removed');
    assert.ok(existsSync(join(dir, 'models', a, 'training.json')), 'the other run keeps its folder');
    assert.deepEqual(
      sapphireJson<RunJson[]>(dir, 'runs', 'ls').map((r) => r.id),
      [a],
    );
  });
});
