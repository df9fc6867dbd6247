import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  parseLabelFirst,
  parseLinesTriple,
  readLines,
  writeLabelFirst,
  writeLinesFiles,
} from '../../../src/data/formats/lines.ts';
import type { Example } from '../../../src/data/types.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/formats/lines/', import.meta.url));
const spanTexts = (ex: Example) => (ex.spans ?? []).map((s) => `${s.label}:${ex.text.slice(s.start, s.end)}`);

describe('readLines (seq.in / seq.out / label directory)', () => {
  it('reads aligned tokens, tags and intents', async () => {
    const { examples, problems, detected } = await readLines(join(FIXTURES, 'snips-like'));
    assert.deepEqual(problems, []);
    assert.equal(examples.length, 2);
    assert.equal(examples[0]!.id, 'snips-like:1');
    assert.equal(examples[0]!.text, 'listen to westbam on google music');
    assert.deepEqual(spanTexts(examples[0]!), ['artist:westbam', 'service:google music']);
    assert.deepEqual(examples[0]!.labels, ['PlayMusic']);
    assert.equal(examples[1]!.text, 'add step to the 50 clásicos playlist', 'trailing space dropped');
    assert.deepEqual(spanTexts(examples[1]!), ['entity_name:step', 'playlist:50 clásicos']);
    assert.equal(detected.layout, 'triple');
    assert.equal(detected.scheme, 'IOB2');
    assert.deepEqual(detected.labels, ['AddToPlaylist', 'PlayMusic']);
  });

  it('reports misaligned tags and missing label lines with file:line', async () => {
    const dir = join(FIXTURES, 'misaligned');
    const { examples, problems } = await readLines(dir);
    assert.deepEqual(
      examples.map((e) => e.text),
      ['play jazz'],
    );
    assert.deepEqual(
      problems.map((p) => [p.file, p.line]),
      [
        [join(dir, 'seq.out'), 2],
        [join(dir, 'label'), 3],
      ],
    );
    assert.match(problems[0]!.message, /2 tags for 3 tokens \(seq\.in:2\); give exactly one tag per token/);
    assert.match(problems[1]!.message, /label ends after 2 lines but seq\.in has 3/);
  });

  it('writes the three files back', async () => {
    const dir = join(FIXTURES, 'snips-like');
    const { examples } = await readLines(dir);
    const files = writeLinesFiles(examples);
    const trimLines = (t: string) =>
      t
        .split('\n')
        .map((l) => l.trim())
        .join('\n');
    assert.equal(files['seq.in'], trimLines(readFileSync(join(dir, 'seq.in'), 'utf8')));
    assert.equal(files['seq.out'], trimLines(readFileSync(join(dir, 'seq.out'), 'utf8')));
    assert.equal(files.label, readFileSync(join(dir, 'label'), 'utf8'));
  });

  it('parses in-memory texts without intent labels', () => {
    const { examples } = parseLinesTriple({
      seqIn: { file: 'seq.in', text: 'play jazz\n' },
      seqOut: { file: 'seq.out', text: 'O B-genre\n' },
    });
    assert.deepEqual(spanTexts(examples[0]!), ['genre:jazz']);
    assert.equal(examples[0]!.labels, undefined);
  });
});

describe('label-first lines', () => {
  it('reads "label sentence" lines and reports a line with no text', async () => {
    const file = join(FIXTURES, 'label-first.txt');
    const { examples, problems, detected } = await readLines(file);
    assert.equal(detected.layout, 'labelFirst');
    assert.deepEqual(
      examples.map((e) => [e.id, e.labels, e.text]),
      [
        ['label-first.txt:1', ['1'], 'a stirring , funny film'],
        ['label-first.txt:2', ['0'], 'dull and slow .'],
        ['label-first.txt:4', ['1'], 'great'],
      ],
    );
    assert.deepEqual(
      problems.map((p) => [p.line, p.message]),
      [[5, 'only a label ("0") and no text; write "label text" or delete the line']],
    );
  });

  it('writes "label text" lines and refuses what cannot be written', () => {
    const { examples } = parseLabelFirst('pos great film\nneg  meh \n', 'x.txt');
    assert.equal(writeLabelFirst(examples), 'pos great film\nneg meh\n');
    assert.throws(() => writeLabelFirst([{ id: 'a', text: 'x', meta: {} }]), /without a label/);
    assert.throws(() => writeLabelFirst([{ id: 'a', text: 'x\ny', labels: ['p'], meta: {} }]), /line break/);
  });
});
