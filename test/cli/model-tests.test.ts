/** `sapphire test` end to end: a trained model, its earmarks and the behavioural tests of sapphire.yaml. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { sapphire, sapphireJson, tempDir } from './helpers.ts';

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

const ROWS: [string, Span[]][] = [
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
  [
    'blue Nike cap',
    [
      ['blue', 'COLOR'],
      ['Nike', 'BRAND'],
    ],
  ],
  [
    'Nike blue jacket',
    [
      ['Nike', 'BRAND'],
      ['blue', 'COLOR'],
    ],
  ],
  [
    'Adidas red cap',
    [
      ['Adidas', 'BRAND'],
      ['red', 'COLOR'],
    ],
  ],
  [
    'red Nike socks',
    [
      ['red', 'COLOR'],
      ['Nike', 'BRAND'],
    ],
  ],
  [
    'blue Adidas shoes',
    [
      ['blue', 'COLOR'],
      ['Adidas', 'BRAND'],
    ],
  ],
  [
    'Nike shirt in red',
    [
      ['Nike', 'BRAND'],
      ['red', 'COLOR'],
    ],
  ],
  [
    'Adidas jacket in blue',
    [
      ['Adidas', 'BRAND'],
      ['blue', 'COLOR'],
    ],
  ],
];

const mark = (id: string, text: string, entities: { text: string; label: string }[]) =>
  JSON.stringify({ id, text, expect: { entities } });

describe('sapphire test', () => {
  let dir: string;
  let modelDir: string;
  let runId: string;

  before(() => {
    dir = tempDir('sapphire-test-cmd-');
    assert.equal(sapphire(dir, 'init', '--task', 'ner', '--labels', 'BRAND,COLOR').code, 0);
    writeFileSync(join(dir, 'shop.jsonl'), `${ROWS.map(([t, s]) => example(t, s)).join('\n')}\n`);
    const imported = sapphire(dir, 'data', 'import', 'shop.jsonl', '--name', 'shop');
    assert.equal(imported.code, 0, imported.stderr);
    const split = sapphire(dir, 'data', 'split', 'shop', '--ratios', '0.6,0.2,0.2');
    assert.equal(split.code, 0, split.stderr);
    writeFileSync(
      join(dir, 'baseline.yaml'),
      'model: { architecture: token-majority.v1 }\ndata: { dataset: shop }\nseed: 1\n',
    );
    const trained = sapphireJson<{ run: string; model: string }>(dir, 'train', 'baseline.yaml');
    modelDir = trained.model;
    runId = trained.run;
  });

  test('a failing earmark exits 1 and prints the failure with the difference', () => {
    writeFileSync(
      join(dir, 'earmarks.jsonl'),
      [
        mark('nike', 'Nike red shoes', [{ text: 'Nike', label: 'BRAND' }]),
        mark('puma', 'Puma red shoes', [{ text: 'Puma', label: 'BRAND' }]),
      ].join('\n'),
    );
    const run = sapphire(dir, 'test', modelDir);
    assert.equal(run.code, 1, `exit 1 on an earmark failure: ${run.stderr}`);
    assert.match(run.stdout, /Earmarks \(earmarks\.jsonl\): 1 of 2 passed/);
    assert.match(run.stdout, /✗ puma \(earmarks\.jsonl:2\)/);
    assert.match(run.stdout, /predicted: Puma \[red\]\(COLOR\) shoes/);
    assert.match(run.stdout, /expected: "Puma" as BRAND at 0-4/);
    assert.match(run.stdout, /actual: {3}no entity predicted on "Puma"/);
    assert.match(run.stdout, /FAILED: 1 earmark failed \(recorded as run r-/);
  });

  test('fixed earmarks exit 0, from the model folder or the training run id', () => {
    writeFileSync(
      join(dir, 'earmarks.jsonl'),
      [
        mark('nike', 'Nike red shoes', [{ text: 'Nike', label: 'BRAND' }]),
        JSON.stringify({ id: 'puma', text: 'Puma red shoes', expect: { notEntities: [{ text: 'Puma' }] } }),
      ].join('\n'),
    );
    const byDir = sapphire(dir, 'test', modelDir);
    assert.equal(byDir.code, 0, byDir.stdout + byDir.stderr);
    assert.match(byDir.stdout, /2 of 2 passed/);
    assert.match(byDir.stdout, /^PASSED/m);
    const byRun = sapphireJson<{ passed: boolean; run: string; model: { runId: string } }>(
      dir,
      'test',
      runId.slice(-6),
    );
    assert.equal(byRun.passed, true);
    assert.equal(byRun.model.runId, runId);
    const recorded = sapphireJson<{ kind: string; metrics: Record<string, number> }[]>(
      dir,
      'runs',
      'ls',
      '--kind',
      'test',
    );
    assert.equal(recorded.length, 3, 'every test is a run');
    assert.ok(
      recorded.every((r) => r.kind === 'test' && r.metrics['earmarks.total'] === 2),
      'test runs carry the earmark metrics',
    );
  });

  test('a bad earmarks line is reported with its line and field', () => {
    writeFileSync(join(dir, 'bad.jsonl'), `${JSON.stringify({ text: 'Nike', expect: { entites: [] } })}\n`);
    const run = sapphire(dir, 'test', modelDir, '--earmarks', 'bad.jsonl');
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /bad\.jsonl:1, field expect\.entites: unknown key "entites" \(did you mean "entities"\?\)/,
    );
  });

  test('behavioural tests print a table; exceeding maxFailureRate exits 1 unless skipped', () => {
    const card = readFileSync(join(dir, 'sapphire.yaml'), 'utf8');
    writeFileSync(
      join(dir, 'sapphire.yaml'),
      `${card.replace(/^behaviour: \[\]$/m, '')}
behaviour:
  - type: invariance
    name: brand-swap
    data: shop
    perturb: { swapEntities: { BRAND: [Nike, Adidas] } }
  - type: mft
    name: unknown-brand
    template: "{brand} shoes"
    fill: { brand: [Puma, Reebok] }
    expect: { entities: [{ text: "{brand}", label: BRAND }] }
    maxFailureRate: 0.5
`,
    );
    const run = sapphire(dir, 'test', modelDir);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /brand-swap\s+invariance\s+10\s+0\s+0\.0%\s+–/);
    assert.match(run.stdout, /✗ unknown-brand\s+mft\s+2\s+2\s+100\.0%\s+50\.0%/);
    assert.match(run.stdout, /text: {3}Puma shoes/);
    assert.match(run.stdout, /FAILED: unknown-brand over maxFailureRate/);
    const skipped = sapphire(dir, 'test', modelDir, '--no-behaviour');
    assert.equal(skipped.code, 0, skipped.stdout + skipped.stderr);
    assert.doesNotMatch(skipped.stdout, /Behavioural tests/);
  });
});
