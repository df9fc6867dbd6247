import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderStats } from '../../../src/cli/render/stats.ts';
import { displayWidth } from '../../../src/core/table.ts';
import { computeStats } from '../../../src/data/stats.ts';
import type { Example } from '../../../src/data/types.ts';

function ner(id: string, text: string, split: string | undefined, entities: [string, string][]): Example {
  const spans = entities.map(([surface, label]) => {
    const start = text.indexOf(surface);
    return { start, end: start + surface.length, label };
  });
  return { id, text, split, spans, meta: {} };
}

const NER_SET: Example[] = [
  ner('n1', 'Nike and Adidas shoes', 'train', [
    ['Nike', 'BRAND'],
    ['Adidas', 'BRAND'],
  ]),
  ner('n2', 'I live in Paris', 'train', [['Paris', 'LOC']]),
  ner('n3', '  ', 'train', []),
  ner('n4', 'i live  in PARIS', 'test', [['PARIS', 'LOC']]),
  ner('n5', 'Gucci is new', 'test', [['Gucci', 'BRAND']]),
  ner('n6', 'Nike and Adidas shoes', 'dev', [['Nike', 'BRAND']]),
  ner('n7', 'Hello world!', 'dev', []),
];

function assertFits(report: string): void {
  for (const line of report.split('\n')) {
    assert.ok(displayWidth(line) <= 110, `line too wide (${displayWidth(line)}): ${line}`);
    assert.equal(line, line.trimEnd(), `trailing spaces: ${JSON.stringify(line)}`);
  }
}

describe('renderStats', () => {
  const stats = computeStats(NER_SET, { slices: new Map([['brands', ['n1', 'n5', 'n6', 'ghost']]]) });
  const report = renderStats('shoes@ab12cd', stats);
  const lines = report.split('\n');
  // Warnings are wrapped with two-space continuation lines; join them back for matching.
  const prose = report.replace(/\n {2}(?=\S)/g, ' ');

  it('starts with a header line naming the dataset and its sizes', () => {
    assert.equal(lines[0], 'shoes@ab12cd · ner · 7 examples · 22 tokens · 6 entities');
  });

  it('lists split sizes and entities per label', () => {
    assert.ok(lines.includes('Splits'));
    assert.match(report, /^train\s+3\s+42\.9%\s+8\s+3$/m);
    assert.match(report, /^dev\s+2\s+28\.6%\s+7\s+1$/m);
    assert.ok(lines.includes('Entities per label'));
    assert.match(report, /^BRAND\s+4\s+66\.7%\s+3$/m);
    assert.match(report, /^LOC\s+2\s+33\.3%\s+2$/m);
  });

  it('shows the label distribution with one column per split', () => {
    const title = lines.findIndex((l) => l.startsWith('Label distribution per split'));
    assert.ok(title > 0);
    assert.match(lines[title + 1]!, /^label\s+train\s+dev\s+test$/);
    assert.match(report, /^BRAND\s+2\s+66\.7%\s+1\s+100\.0%\s+1\s+50\.0%$/m);
    assert.match(report, /^LOC\s+1\s+33\.3%\s+0\s+0\.0%\s+1\s+50\.0%$/m);
    assert.match(report, /^all entities\s+3\s+1\s+2$/m);
  });

  it('draws a length histogram with bars and a summary', () => {
    assert.match(report, /min 0 · mean 3\.1 · median 4 · p95 4 · max 4/);
    assert.match(report, /^\s+0\s+1\s+14\.3%\s+▇+$/m);
    assert.match(report, /^\s+1–5\s+6\s+85\.7%\s+▇{40}$/m);
    assert.ok(!report.includes('6–10'), 'empty buckets past the longest example are left out');
  });

  it('warns in plain language about empty texts, duplicates, conflicts, leakage and unseen tokens', () => {
    assert.match(prose, /warning: 1 example has empty text \(e\.g\. n3\)/);
    assert.match(prose, /warning: 2 texts appear more than once \(4 examples, 2 redundant\)/);
    assert.match(prose, /warning: 1 duplicated text \(2 examples\) has conflicting entities/);
    assert.match(prose, /×2 {2}"nike and adidas shoes" {2}\(n1, n6\) {2}\[conflicting\]/);
    assert.match(
      report,
      /warning: 1 test text \(50\.0% of test\) also appears in train \(e\.g\. n4\): scores on test/,
    );
    assert.match(prose, /will be optimistic/);
    assert.match(prose, /warning: 1 dev text \(50\.0% of dev\) also appears in train/);
    assert.match(prose, /warning: 42\.9% of test tokens \(42\.9% of distinct words\) never appear in train/);
    assert.match(
      prose,
      /remove these texts from test, or dedupe and re-split with `sapphire data split <dataset>`/,
    );
    assert.match(prose, /warning: dev has no entities of label LOC: its scores there are undefined/);
  });

  it('reports slices, including ids missing from the dataset', () => {
    assert.ok(lines.includes('Slices'));
    assert.match(report, /^brands\s+3\s+42\.9%\s+train 1, dev 1, test 1\s+BRAND 100%$/m);
    assert.match(prose, /warning: slice brands lists 1 id not in this dataset version/);
  });

  it('keeps every line within 110 columns without trailing spaces', () => {
    assertFits(report);
  });

  it('keeps long labels and many splits within 110 columns', () => {
    const label = 'A_VERY_LONG_ENTITY_LABEL_NAME_THAT_GOES_ON_AND_ON';
    const splits = ['train', 'dev', 'test', 'extra', 'holdout'];
    const examples: Example[] = splits.flatMap((split, i) =>
      Array.from({ length: 3 }, (_, j) =>
        ner(`${split}${j}`, `${'word '.repeat(20 + i * j)}Nike ${split} ${j}`, split, [
          ['Nike', j === 0 ? label : 'BRAND'],
        ]),
      ),
    );
    examples.push({ id: 'dup1', text: `${'long duplicated text '.repeat(10)}`, split: 'test', meta: {} });
    examples.push({ id: 'dup2', text: `${'long duplicated text '.repeat(10)}`, split: 'train', meta: {} });
    const wide = renderStats('a-dataset-with-a-long-name@0123456789abcdef', computeStats(examples));
    assertFits(wide);
    assert.match(wide, /A_VERY_LONG_ENTITY_LABEL_NA…/);
  });

  it('renders classification sets with examples per label and no train split notes', () => {
    const stats = computeStats([
      { id: 'c1', text: 'good movie', labels: ['1'], meta: {} },
      { id: 'c2', text: 'bad movie', labels: ['0'], meta: {} },
      { id: 'c3', text: '東京 is great 😀', labels: ['1'], meta: {} },
    ]);
    const out = renderStats('reviews', stats);
    assert.equal(out.split('\n')[0], 'reviews · classify · 3 examples · 8 tokens · 2 labels');
    assert.ok(out.includes('Examples per label'));
    assert.match(out, /^1\s+2\s+66\.7%$/m, 'labels are left-aligned even when they look like numbers');
    assert.ok(
      !out.includes('Label distribution per split'),
      'a single (unsplit) split has no distribution table',
    );
    assert.match(out, /note: no train split, so leakage and unseen-token checks were skipped/);
    assert.match(out, /ok: no duplicate texts\./);
    assertFits(out);
  });

  it('renders an empty dataset', () => {
    assert.match(renderStats('empty', computeStats([])), /empty · ner · 0 examples[\s\S]*no examples/);
  });
});
