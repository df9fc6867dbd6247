import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { formatProblem } from '../../../src/core/errors.ts';
import { parseJsonl, readJsonl, writeJsonl } from '../../../src/data/formats/jsonl.ts';
import type { Example } from '../../../src/data/types.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/formats/jsonl/', import.meta.url));
const spanTexts = (ex: Example) => (ex.spans ?? []).map((s) => `${s.label}:${ex.text.slice(s.start, s.end)}`);
const parsedLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));

describe('readJsonl', () => {
  it('reads spaCy/Prodigy records, classification labels, ids and meta', async () => {
    const { examples, problems, detected } = await readJsonl(join(FIXTURES, 'ok.jsonl'));
    assert.deepEqual(problems, []);
    assert.equal(examples.length, 4);
    const [prodigy, emoji, classified, multi] = examples as [Example, Example, Example, Example];
    assert.equal(prodigy.id, 'ok.jsonl:1');
    assert.equal(prodigy.tokens!.length, 4);
    assert.deepEqual(spanTexts(prodigy), ['BRAND:Nike']);
    assert.equal(prodigy.meta.section, 'fashion');
    assert.deepEqual(prodigy.meta._extra, { _input_hash: 123, answer: 'accept' });
    assert.equal(emoji.id, 'ex-2');
    assert.equal(classified.id, '7');
    assert.deepEqual(classified.labels, ['card_arrival']);
    assert.deepEqual(multi.labels, ['refund', 'exchange_rate']);
    assert.equal(detected.records, 4);
    assert.equal(detected.spans, 3);
    assert.equal(detected.offsets, 'codepoint');
  });

  it('converts code point offsets (Python, spaCy, Prodigy) to UTF-16 and back', async () => {
    const { examples } = await readJsonl(join(FIXTURES, 'ok.jsonl'));
    const emoji = examples[1]!;
    assert.deepEqual(spanTexts(emoji), ['BRAND:Adidas', 'BRAND:Levi']);
    assert.deepEqual(emoji.spans![1], { start: 14, end: 18, label: 'BRAND' });
    const line = JSON.parse(writeJsonl([emoji]));
    assert.deepEqual(line.spans[1], { start: 13, end: 17, label: 'BRAND' });
    assert.deepEqual(JSON.parse(writeJsonl([emoji], { offsets: 'utf16' })).spans[1].start, 14);
  });

  it('tells code point from UTF-16 offsets by the tokens', () => {
    const text = '😍 Nike';
    const utf16 = `{"text":"${text}","tokens":[{"text":"😍","start":0,"end":2},{"text":"Nike","start":3,"end":7}],"spans":[{"start":3,"end":7,"label":"B"}]}\n`;
    const { examples, detected } = parseJsonl(utf16, 'u.jsonl');
    assert.equal(detected.offsets, 'utf16');
    assert.deepEqual(spanTexts(examples[0]!), ['B:Nike']);
  });

  it('writes every line back exactly (same JSON, same key order)', async () => {
    const file = join(FIXTURES, 'ok.jsonl');
    const source = readFileSync(file, 'utf8');
    const { examples } = await readJsonl(file);
    const written = writeJsonl(examples);
    assert.deepEqual(parsedLines(written), parsedLines(source));
    assert.deepEqual(
      written.split('\n').filter(Boolean),
      source.split('\n').filter(Boolean),
      'byte-identical for compact JSON',
    );
  });

  it('reports every problem kind with file:line and leaves those records out', async () => {
    const file = join(FIXTURES, 'broken.jsonl');
    const { examples, problems } = await readJsonl(file, { labelSet: ['BRAND', 'PRODUCT'] });
    assert.deepEqual(
      examples.map((e) => e.text),
      ['fine line', 'first'],
    );
    const expected: [number, string][] = [
      [2, 'invalid JSON'],
      [3, 'missing "text" field; every record needs t'],
      [4, "span [0, 9) 'BRAND' goes past the end of t"],
      [5, "span [3, 3) 'BRAND' ends before it starts ("],
      [6, `span [0, 4) 'BRAND' ("Nike") does not end o`],
      [7, "spans [0, 10) 'BRAND' and [4, 10) 'PRODUCT"],
      [9, "duplicate id 'dup' (first used by example "],
      [10, "unknown span label 'DESIGNER'; allowed"],
      [11, 'text is empty; fill in the text or remove '],
      [12, 'expected a JSON object with a "text" field'],
    ];
    assert.deepEqual(
      problems.map((p) => p.line),
      expected.map(([line]) => line),
    );
    for (const [i, p] of problems.entries()) assert.ok(p.message.startsWith(expected[i]![1]), p.message);
    for (const p of problems) assert.equal(p.file, file);
    assert.match(formatProblem(problems[1]!), /broken\.jsonl:3: missing "text" field/);
    assert.match(problems[7]!.message, /allowed: BRAND, PRODUCT/);
  });

  it('writes new examples in the default shape', () => {
    const ex: Example = {
      id: 'a',
      text: 'Nike rocks',
      tokens: [
        { text: 'Nike', start: 0, end: 4 },
        { text: 'rocks', start: 5, end: 10 },
      ],
      spans: [{ start: 0, end: 4, label: 'BRAND' }],
      labels: ['positive'],
      meta: { source: 'x' },
    };
    assert.equal(
      writeJsonl([ex]),
      '{"id":"a","text":"Nike rocks","tokens":[{"text":"Nike","start":0,"end":4,"id":0},{"text":"rocks","start":5,"end":10,"id":1}],' +
        '"spans":[{"start":0,"end":4,"token_start":0,"token_end":0,"label":"BRAND"}],"label":"positive","meta":{"source":"x"}}\n',
    );
  });

  it('round-trips random examples', () => {
    const arb = fc.record({
      text: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((t) => t.trim() !== ''),
      labels: fc.option(fc.array(fc.constantFrom('a', 'b'), { maxLength: 2 }), { nil: undefined }),
      meta: fc.dictionary(fc.constantFrom('k', 'src'), fc.string({ maxLength: 3 })),
    });
    fc.assert(
      fc.property(fc.array(arb, { maxLength: 5 }), (records) => {
        const examples: Example[] = records.map((r, i) => ({
          id: `id${i}`,
          text: r.text,
          meta: r.meta,
          ...(r.labels ? { labels: r.labels } : {}),
        }));
        const back = parseJsonl(writeJsonl(examples), 'r.jsonl');
        assert.deepEqual(back.problems, []);
        assert.deepEqual(
          back.examples.map((e) => [e.id, e.text, e.labels]),
          examples.map((e) => [e.id, e.text, e.labels]),
        );
        assert.equal(writeJsonl(back.examples), writeJsonl(examples));
      }),
      { numRuns: 100 },
    );
  });
});
