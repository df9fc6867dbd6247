/**
 * End-to-end checks of the JSONL, CSV and lines readers and writers on the public datasets in
 * ../shared/datasets (the CoNLL sets are in shared-conll.test.ts). Skips when the folder is absent.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readDataset, writeDataset } from '../../../src/data/formats/index.ts';

const DATA = fileURLToPath(new URL('../../../../shared/datasets/', import.meta.url));
const skip = existsSync(DATA) ? false : `shared datasets not found at ${DATA}`;
const data = (path: string) => join(DATA, path);

describe('shared NER datasets (JSONL)', { skip }, () => {
  for (const [name, texts, spans] of [
    ['fashion_brands_training.jsonl', 1235, 527],
    ['fashion_brands_eval.jsonl', 500, 238],
  ] as const) {
    const path = `ner/fashion_brands/${name}`;
    it(`reads ${name} (${texts} texts, ${spans} spans) and writes every line back`, async () => {
      const file = data(path);
      const { examples, problems, detected } = await readDataset(file);
      assert.deepEqual(problems, []);
      assert.equal(examples.length, texts);
      assert.equal(
        examples.reduce((n, e) => n + e.spans!.length, 0),
        spans,
      );
      for (const ex of examples) for (const s of ex.spans!) assert.equal(s.label, 'FASHION_BRAND');
      const written = writeDataset(examples, { ...detected, format: 'jsonl' })
        .trimEnd()
        .split('\n');
      const original = readFileSync(file, 'utf8').trimEnd().split('\n');
      assert.equal(written.length, original.length);
      for (const [i, line] of written.entries()) {
        assert.deepEqual(JSON.parse(line), JSON.parse(original[i]!), `line ${i + 1}`);
      }
    });
  }

  it('explains that the patterns file holds no texts', async () => {
    const { examples, problems } = await readDataset(
      data('ner/fashion_brands/fashion_brands_patterns.jsonl'),
    );
    assert.equal(examples.length, 0);
    assert.equal(problems.length, 100);
    assert.match(problems[0]!.message, /missing "text" field/);
  });
});

describe('shared intent and classification datasets', { skip }, () => {
  it('reads SNIPS train: 13,084 utterances, 7 intents, aligned slots', async () => {
    const { examples, problems, detected } = await readDataset(data('intent/snips/train'));
    assert.deepEqual(problems, []);
    assert.equal(examples.length, 13084);
    assert.equal((detected.labels as string[]).length, 7);
    assert.equal((detected.spanLabels as string[]).length, 39);
  });

  it('reads Banking77 train: 10,003 texts, 77 labels, and writes it back', async () => {
    const file = data('classify/banking77/train.csv');
    const { examples, problems, detected } = await readDataset(file);
    assert.deepEqual(problems, []);
    assert.equal(examples.length, 10003);
    assert.equal(new Set(examples.map((e) => e.labels![0])).size, 77);
    const categories = JSON.parse(
      readFileSync(data('classify/banking77/categories.json'), 'utf8'),
    ) as string[];
    assert.deepEqual(detected.labels, [...categories].sort());
    const rewritten = writeDataset(examples, { ...detected, format: 'csv' });
    assert.equal(rewritten.split('\n')[0], 'text,category');
    const original = readFileSync(file, 'utf8');
    assert.equal(rewritten.replace(/\n$/, ''), original.replace(/\r\n/g, '\n').replace(/\n$/, ''));
  });

  it('reads the SMS spam TSV with its header: 5,574 messages', async () => {
    const { examples, problems, detected } = await readDataset(data('classify/sms_spam/SMSSpamCollection'));
    assert.deepEqual(problems, []);
    assert.equal(examples.length, 5574);
    assert.deepEqual(detected.labels, ['ham', 'spam']);
    assert.equal(detected.textColumn, 'SMS');
  });

  it('reads SST-2 label-first lines', async () => {
    const { examples, problems } = await readDataset(data('classify/sst2/stsa.binary.train'));
    assert.deepEqual(problems, []);
    assert.equal(examples.length, 6920);
    assert.deepEqual(new Set(examples.map((e) => e.labels![0])), new Set(['0', '1']));
  });

  it('names the line of the first non-UTF-8 byte of TREC, and reads it as Latin-1 when asked', async () => {
    const file = data('classify/trec/TREC.train.all');
    await assert.rejects(
      readDataset(file),
      /TREC\.train\.all:66: not valid UTF-8: byte 0xF0 at byte column 53/,
    );
    const { examples, problems } = await readDataset(file, { encoding: 'latin1' });
    assert.deepEqual(problems, []);
    assert.equal(examples.length, 5452);
  });
});
