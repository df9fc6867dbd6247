/**
 * End-to-end checks of the CoNLL reader and writer on the public NER sets in ../shared/datasets:
 * exact counts, and re-export reproducing every file. Skips when the folder is absent.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ConllDetected } from '../../../src/data/formats/conll.ts';
import { type ReadResult, readDataset, writeDataset } from '../../../src/data/formats/index.ts';

const DATA = fileURLToPath(new URL('../../../../shared/datasets/', import.meta.url));
const skip = existsSync(DATA) ? false : `shared datasets not found at ${DATA}`;
const data = (path: string) => join(DATA, path);
const exists = (path: string) => existsSync(data(path));

// Files checked by a count test are read once and handed to their re-export test, then let go.
const reads = new Map<string, Promise<ReadResult>>();
const read = (path: string): Promise<ReadResult> => {
  if (!reads.has(path)) reads.set(path, readDataset(data(path)));
  return reads.get(path)!;
};
const take = (path: string): Promise<ReadResult> => {
  const result = read(path);
  reads.delete(path);
  return result;
};

const CONLL_FILES = [
  'ner/wnut17/wnut17train.conll',
  'ner/wnut17/emerging.dev.conll',
  'ner/wnut17/emerging.test.annotated',
  'ner/mit_restaurant/restauranttrain.bio',
  'ner/mit_restaurant/restaurantvalid.bio',
  'ner/mit_restaurant/restauranttest.bio',
  'ner/wikigold/wikigold.conll.txt',
  ...['ai', 'literature', 'music', 'politics', 'science'].flatMap((d) =>
    ['train', 'dev', 'test'].map((s) => `ner/crossner/${d}/${s}.txt`),
  ),
  ...(exists('ner/btc') ? readdirSync(data('ner/btc')).filter((f) => f.endsWith('.conll')) : []).map(
    (f) => `ner/btc/${f}`,
  ),
];

/**
 * The file's sentences (and -DOCSTART- lines) as normalised text: one tab between columns,
 * lines trimmed, whitespace-only lines blank, one blank line between blocks; blocks holding a
 * line listed in `dropLines` (the ones the reader reported) are left out.
 */
function normalisedBlocks(
  text: string,
  separator: '\t' | ' ',
  dropLines: ReadonlySet<number> = new Set(),
): string {
  let t = text.replace(/\r\n?/g, '\n');
  if (dropLines.size > 0) {
    const lines = t.split('\n');
    let blockStart = 0;
    for (let i = 0; i <= lines.length; i++) {
      if (i < lines.length && lines[i]!.trim() !== '') continue;
      let drop = false;
      for (let k = blockStart; k < i; k++) if (dropLines.has(k + 1)) drop = true;
      if (drop) for (let k = blockStart; k < i; k++) lines[k] = '';
      blockStart = i + 1;
    }
    t = lines.join('\n');
  }
  // JavaScript whitespace other than line breaks (includes U+FEFF, which String#trim strips too).
  t = separator === '\t' ? t.replace(/[^\S\n]*\t[^\S\n]*/g, '\t') : t.replace(/[^\S\n]+/g, '\t');
  return t
    .replace(/^[^\S\n]+|[^\S\n]+$/gm, '')
    .replace(/\n{2,}/g, '\n\n')
    .trim();
}

describe('shared NER datasets (CoNLL)', { skip }, () => {
  it('reads WNUT-17 train: 3,394 sentences, 62,730 tokens, 1,975 entities', async () => {
    const { examples, problems, detected } = await read('ner/wnut17/wnut17train.conll');
    const d = detected as unknown as ConllDetected;
    assert.deepEqual(problems, []);
    assert.equal(examples.length, 3394);
    assert.equal(
      examples.reduce((n, e) => n + e.tokens!.length, 0),
      62730,
    );
    assert.equal(
      examples.reduce((n, e) => n + e.spans!.length, 0),
      1975,
    );
    assert.equal(d.scheme, 'IOB2');
    assert.deepEqual(d.labels, ['corporation', 'creative-work', 'group', 'location', 'person', 'product']);
    assert.equal(examples[0]!.id, 'wnut17train.conll:1');
  });

  it('reads MIT Restaurant train (label first): 7,660 sentences', async () => {
    const { examples, problems, detected } = await read('ner/mit_restaurant/restauranttrain.bio');
    assert.deepEqual(problems, []);
    assert.equal(examples.length, 7660);
    assert.equal(detected.labelFirst, true);
    assert.equal((detected.labels as string[]).length, 8);
  });

  it('reads wikigold as IOB1 with its -DOCSTART- documents', async () => {
    const { examples, problems, detected } = await read('ner/wikigold/wikigold.conll.txt');
    assert.deepEqual(problems, []);
    assert.equal(examples.length, 1696);
    assert.equal(detected.scheme, 'IOB1');
    assert.equal(detected.documents, 145);
  });

  it('reports the empty tokens of the BTC tweets by file:line', async () => {
    if (!exists('ner/btc/h.conll')) return;
    const { problems } = await read('ner/btc/h.conll');
    assert.deepEqual(
      problems.map((p) => p.line),
      [22918, 30879, 30881, 30888],
    );
    for (const p of problems) assert.match(p.message, /^empty token in line/);
  });

  for (const path of CONLL_FILES) {
    it(`re-exports ${path} as read (modulo whitespace)`, {
      skip: !exists(path) && `${path} absent`,
    }, async () => {
      const file = data(path);
      const { examples, problems, detected } = await take(path);
      const d = detected as unknown as ConllDetected;
      const written = writeDataset(examples, { ...detected, format: 'conll' });
      const original = readFileSync(file, 'utf8');
      const problemLines = new Set(problems.map((p) => p.line!));
      assert.equal(
        normalisedBlocks(written, d.columnSeparator),
        normalisedBlocks(original, d.columnSeparator, problemLines),
      );
    });
  }
});
