import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { formatProblem } from '../../../src/core/errors.ts';
import { parseConll, readConll, writeConll } from '../../../src/data/formats/conll.ts';
import { TAG_SCHEMES } from '../../../src/data/formats/tagging.ts';
import type { Example } from '../../../src/data/types.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/formats/conll/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);
const spanTexts = (ex: Example) => (ex.spans ?? []).map((s) => `${s.label}:${ex.text.slice(s.start, s.end)}`);

/** Lines with single-tab columns, no blank-line runs, no leading/trailing blank lines. */
function normalise(text: string): string {
  return text
    .split('\n')
    .map((l) =>
      l
        .trim()
        .split(/[ \t]+/)
        .join('\t'),
    )
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

describe('parseConll / readConll', () => {
  it('reads a tab-separated IOB2 file with -DOCSTART- documents', async () => {
    const { examples, problems, detected } = await readConll(fixture('basic.conll'));
    assert.deepEqual(problems, []);
    assert.equal(examples.length, 3);
    const [first, second, third] = examples as [Example, Example, Example];
    assert.equal(first.id, 'basic.conll:3');
    assert.equal(first.text, 'EU rejects German call .');
    assert.deepEqual(first.tokens![1], { text: 'rejects', start: 3, end: 10 });
    assert.deepEqual(spanTexts(first), ['ORG:EU', 'MISC:German']);
    assert.deepEqual(first.meta, { line: 3, doc: 1, docStart: true, tagScheme: 'IOB2' });
    assert.deepEqual(second.meta, { line: 9, doc: 1, tagScheme: 'IOB2' });
    assert.deepEqual(third.meta, { line: 14, doc: 2, docStart: true, tagScheme: 'IOB2' });
    assert.deepEqual(spanTexts(third), ['LOC:New York']);
    assert.equal(detected.scheme, 'IOB2');
    assert.equal(detected.columnSeparator, '\t');
    assert.equal(detected.documents, 2);
    assert.deepEqual(detected.labels, ['LOC', 'MISC', 'ORG', 'PER']);
  });

  it('auto-detects label-first files', async () => {
    const { examples, detected } = await readConll(fixture('label-first.bio'));
    assert.equal(detected.labelFirst, true);
    assert.equal(detected.tokenColumn, 1);
    assert.equal(examples[0]!.text, '5 star restaurants nearby');
    assert.deepEqual(spanTexts(examples[0]!), ['Rating:5 star', 'Location:nearby']);
    assert.deepEqual(spanTexts(examples[1]!), ['Cuisine:thai']);
  });

  it('reads space-separated IOB1 with -DOCSTART- between documents and at the end', async () => {
    const { examples, problems, detected } = await readConll(fixture('wikigold-like.txt'));
    assert.deepEqual(problems, []);
    assert.equal(detected.scheme, 'IOB1');
    assert.equal(detected.columnSeparator, ' ');
    assert.equal(detected.docStartLine, '-DOCSTART- O');
    assert.deepEqual(spanTexts(examples[0]!), ['MISC:010', 'ORG:The Mad Capsule']);
    assert.deepEqual(spanTexts(examples[1]!), ['LOC:Paris', 'LOC:London']);
    assert.deepEqual(
      examples.map((e) => [e.meta.doc, e.meta.docStart ?? false, e.meta.docStartAfter ?? false]),
      [
        [0, false, false],
        [0, false, false],
        [1, true, true],
      ],
    );
  });

  it('keeps extra columns of CoNLL-2003-style files', async () => {
    const { examples, detected } = await readConll(fixture('four-columns.conll'));
    assert.equal(detected.columnCount, 4);
    assert.deepEqual(examples[0]!.meta.extraColumns, [
      ['NNP', 'B-NP'],
      ['VBZ', 'B-VP'],
      ['JJ', 'B-NP'],
      ['.', 'O'],
    ]);
    assert.deepEqual(spanTexts(examples[0]!), ['ORG:EU', 'MISC:German']);
  });

  it('reports a truncated line with file:line and leaves its sentence out', async () => {
    const file = fixture('truncated.conll');
    const { examples, problems } = await readConll(file);
    assert.deepEqual(
      examples.map((e) => e.text),
      ['ok'],
    );
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.file, file);
    assert.equal(problems[0]!.line, 3);
    assert.match(
      formatProblem(problems[0]!),
      /truncated\.conll:3: truncated line "Building": 1 column\(s\), expected 2; the tag \(column 2\) is missing/,
    );
  });

  it('reports IOB2 violations at the offending token line', async () => {
    const { examples, problems, detected } = await readConll(fixture('iob2-violation.conll'));
    assert.equal(detected.scheme, 'IOB2');
    assert.deepEqual(
      problems.map((p) => [p.line, p.message.split(':')[0]]),
      [
        [2, 'I-location after O'],
        [6, 'I-location after B-person'],
      ],
    );
    assert.deepEqual(
      examples.map((e) => e.text),
      ['fine'],
    );
  });

  it('accepts the same tags when told the file is IOB1', () => {
    const text = readFileSync(fixture('iob2-violation.conll'), 'utf8');
    const { examples, problems } = parseConll(text, 'x.conll', { scheme: 'IOB1' });
    assert.deepEqual(problems, []);
    assert.deepEqual(spanTexts(examples[0]!), ['location:State Building']);
  });

  it('handles CRLF, whitespace-only separator lines and explicit columns', () => {
    const text = 'a\tx\tB-X\r\nb\ty\tO\r\n\t\r\nc\tz\tB-Y\r\n';
    const { examples, detected } = parseConll(text, 'crlf.conll', { tokenColumn: 1, tagColumn: -1 });
    assert.equal(detected.columnCount, 3);
    assert.deepEqual(
      examples.map((e) => e.text),
      ['x y', 'z'],
    );
    assert.deepEqual(examples[0]!.meta.extraColumns, [['a'], ['b']]);
  });

  it('reports empty tokens and lines with the wrong number of columns', () => {
    const { problems } = parseConll('a\tO\n\tO\n\nb\tO\tO\n', 'x.conll');
    assert.deepEqual(
      problems.map((p) => p.line),
      [2, 4],
    );
    assert.match(problems[0]!.message, /empty token/);
    assert.match(problems[1]!.message, /has 3 columns but the file has 2/);
  });

  it('checks labels against a label set', () => {
    const { problems } = parseConll('Paris\tB-LOC\n\nBob\tB-PER\n', 'x.conll', { labelSet: ['LOC'] });
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, 3);
    assert.match(problems[0]!.message, /unknown span label 'PER'; allowed: LOC/);
  });
});

describe('writeConll', () => {
  it('re-emits a file as read, -DOCSTART- lines included', async () => {
    for (const name of ['basic.conll', 'label-first.bio', 'wikigold-like.txt', 'four-columns.conll']) {
      const file = fixture(name);
      const { examples, detected } = await readConll(file);
      const written = writeConll(examples, detected);
      assert.equal(normalise(written), normalise(readFileSync(file, 'utf8')), name);
    }
  });

  it('writes in another scheme and column order', async () => {
    const { examples } = await readConll(fixture('wikigold-like.txt'));
    const written = writeConll(examples.slice(0, 2), {
      scheme: 'BIOES',
      labelFirst: true,
      columnSeparator: ' ',
    });
    assert.equal(
      written,
      'S-MISC 010\nO is\nO the\nO album\nO by\nB-ORG The\nI-ORG Mad\nE-ORG Capsule\nO .\n\nS-LOC Paris\nS-LOC London\nO .\n\n',
    );
  });

  it('tokenizes examples without tokens and rejects spans off token boundaries', () => {
    const ok: Example = {
      id: 'a',
      text: "Nike's shoes",
      spans: [{ start: 0, end: 4, label: 'BRAND' }],
      meta: {},
    };
    assert.equal(writeConll([ok]), "Nike\tB-BRAND\n's\tO\nshoes\tO\n\n");
    const bad: Example = { ...ok, spans: [{ start: 0, end: 3, label: 'BRAND' }] };
    assert.throws(() => writeConll([bad]), /span \[0, 3\) 'BRAND' is not on token boundaries/);
  });

  it('round-trips random sentences in every scheme', () => {
    const token = fc.constantFrom('Paris', 'is', 'New', 'York', '.', "n't", 'B-X', '"', 'ü');
    const sentence = fc.array(fc.tuple(token, fc.constantFrom('O', 'B-LOC', 'I-LOC', 'B-PER')), {
      minLength: 1,
      maxLength: 8,
    });
    fc.assert(
      fc.property(
        fc.array(sentence, { minLength: 1, maxLength: 4 }),
        fc.constantFrom(...TAG_SCHEMES),
        (sents, to) => {
          const text = sents.map((s) => s.map(([t, tag]) => `${t}\t${tag}`).join('\n')).join('\n\n');
          const first = parseConll(text, 'r.conll', { scheme: 'IOB1' });
          const again = parseConll(writeConll(first.examples, { scheme: to }), 'r.conll', { scheme: to });
          assert.deepEqual(again.problems, []);
          assert.deepEqual(
            again.examples.map((e) => [e.text, e.spans]),
            first.examples.map((e) => [e.text, e.spans]),
          );
        },
      ),
      { numRuns: 100 },
    );
  });
});
