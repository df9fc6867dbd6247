import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { readHtml, writeHtml, writeHtmlFiles } from '../../../src/data/formats/html.ts';
import type { Example, Span } from '../../../src/data/types.ts';
import { htmlToText } from '../../../src/text/html-to-text.ts';
import { OffsetMap } from '../../../src/text/offset-map.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/html/', import.meta.url));
const PRODUCTS = fileURLToPath(new URL('../../../../shared/datasets/html/products/html/', import.meta.url));
const FASHION_PAGES = fileURLToPath(new URL('../../../examples/fashion/data/pages/', import.meta.url));

const scratch = mkdtempSync(join(tmpdir(), 'sapphire-html-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => {
  const dir = join(scratch, String(dirs++));
  mkdirSync(dir);
  return dir;
};
const spanTexts = (ex: Example): [string, string][] =>
  (ex.spans ?? []).map((s) => [s.label, ex.text.slice(s.start, s.end)]);

describe('readHtml', () => {
  it('reads a directory of pages, sorted by name, one example per page', async () => {
    const { examples, problems, detected } = await readHtml(FIXTURES);
    assert.deepEqual(
      examples.map((e) => [e.id, e.meta.source, e.meta.title, e.labels]),
      [
        ['article', 'article.html', 'A day in the harbour town', undefined],
        ['basic', 'basic.html', 'Fish & Chips Weekly', undefined],
        ['labelled', 'labelled.htm', 'Labelled', undefined],
        ['product-page', 'product-page.html', 'Acme Trail Runner - Blue', ['shoes', 'sale']],
      ],
    );
    assert.deepEqual(detected, {
      format: 'html',
      files: 4,
      mainContent: true,
      labelAttribute: 'data-label',
      labelled: true,
      labels: ['BRAND', 'COLOR', 'PRODUCT', 'PRODUCT_TYPE'],
      labelMeta: 'sapphire:label',
      classLabels: ['sale', 'shoes'],
      fallbackPages: 0,
    });
    // Pages without the class-label meta tag, in a collection that has it, are kept and reported.
    assert.deepEqual(
      problems.map((p) => [p.file, /has no <meta name="sapphire:label">/.test(p.message)]),
      [
        ['article.html', false],
        ['article.html', true],
        ['basic.html', true],
        ['labelled.htm', false],
        ['labelled.htm', true],
      ],
    );
    assert.deepEqual(
      examples[1]!.spans,
      [],
      'a page without labels in a labelled collection has no entities',
    );
  });

  it('turns labelled elements into spans over the extracted text', async () => {
    const { examples } = await readHtml(join(FIXTURES, 'labelled.htm'), { mainContent: false });
    assert.equal(examples.length, 1);
    assert.deepEqual(spanTexts(examples[0]!), [
      ['BRAND', 'Nike'],
      ['PRODUCT', 'Fish & Chips'],
      ['BRAND', 'Acme Corp'],
    ]);
  });

  it('stores a serialised offset map that points back into the page', async () => {
    const { examples } = await readHtml(join(FIXTURES, 'labelled.htm'));
    const ex = examples[0]!;
    const html = readFileSync(join(FIXTURES, 'labelled.htm'), 'utf8');
    const map = OffsetMap.fromJSON(JSON.parse(JSON.stringify(ex.meta.htmlMap)));
    const fish = ex.spans!.find((s) => s.label === 'PRODUCT')!;
    assert.equal(html.slice(...map.toSourceRange(fish.start, fish.end)), 'Fish &amp; Chips');
  });

  it('reports labelled elements dropped by main-content extraction, with file, line and hint', async () => {
    const { examples, problems } = await readHtml(join(FIXTURES, 'article.html'));
    assert.deepEqual(spanTexts(examples[0]!), [['BRAND', 'Harbour Chippy']]);
    assert.equal(problems.length, 1);
    const p = problems[0]!;
    assert.equal(p.file, 'article.html');
    assert.equal(p.line, 12);
    assert.equal(p.exampleId, 'article');
    assert.match(p.message, /BRAND.*MegaFry.*main-content extraction.*mainContent: false/);

    const whole = await readHtml(join(FIXTURES, 'article.html'), { mainContent: false });
    assert.deepEqual(whole.problems, []);
    assert.deepEqual(spanTexts(whole.examples[0]!), [
      ['BRAND', 'MegaFry'],
      ['BRAND', 'Harbour Chippy'],
    ]);
  });

  it('keeps the labelled title heading that Readability drops, and skips the cookie banner', async () => {
    const { examples, problems } = await readHtml(join(FIXTURES, 'product-page.html'));
    assert.deepEqual(problems, []);
    const ex = examples[0]!;
    assert.match(ex.text, /^Acme Trail Runner - Blue\n\n/);
    assert.ok(!ex.text.includes('cookies'));
    assert.deepEqual(spanTexts(ex), [
      ['BRAND', 'Acme'],
      ['PRODUCT_TYPE', 'Trail Runner'],
      ['COLOR', 'Blue'],
      ['PRODUCT_TYPE', 'trail runner'],
      ['BRAND', 'Acme'],
      ['COLOR', 'blue'],
    ]);
    assert.deepEqual(ex.labels, ['shoes', 'sale']);
  });

  it('reads class labels from a configurable meta tag, comma-separated', async () => {
    const dir = freshDir();
    const page = (meta: string, body: string): string =>
      `<html><head>${meta}</head><body><p>${body}</p></body></html>`;
    writeFileSync(
      join(dir, 'a.html'),
      page('<meta name="sapphire:label" content=" shoes, sale ,shoes">', 'one'),
    );
    writeFileSync(join(dir, 'b.html'), page('<meta name="sapphire:label" content="">', 'two'));
    writeFileSync(join(dir, 'c.html'), page('<meta name="category" content="bags">', 'three'));
    const { examples, problems, detected } = await readHtml(dir);
    assert.deepEqual(
      examples.map((e) => [e.id, e.labels]),
      [
        ['a', ['shoes', 'sale']],
        ['b', []],
        ['c', undefined],
      ],
    );
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.file, 'c.html');
    assert.match(problems[0]!.message, /no <meta name="sapphire:label">.*add one/);
    assert.deepEqual(detected.classLabels, ['sale', 'shoes']);

    const custom = await readHtml(join(dir, 'c.html'), { labelMeta: 'category' });
    assert.deepEqual(custom.examples[0]!.labels, ['bags']);
    assert.equal(custom.detected.labelMeta, 'category');
    const none = await readHtml(join(dir, 'c.html'));
    assert.equal(none.examples[0]!.labels, undefined, 'an unclassified collection has no labels at all');
    assert.deepEqual(none.problems, []);
    await assert.rejects(
      readHtml(dir, { labelMeta: ' ' }),
      (e: Error & { code?: string; hint?: string }) => e.code === 'CONFIG_INVALID' && !!e.hint,
    );
  });

  it('reports a hidden labelled element as hidden, whatever the extraction', async () => {
    for (const mainContent of [true, false]) {
      const { problems } = await readHtml(join(FIXTURES, 'labelled.htm'), { mainContent });
      assert.equal(problems.length, 1);
      assert.match(problems[0]!.message, /"Ghost" is hidden/);
      assert.equal(problems[0]!.line, 5);
    }
  });

  it('uses a configurable label attribute and leaves unlabelled collections without spans', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'a.html'), '<p>Buy <b data-entity="BRAND">Nike</b> now</p>');
    writeFileSync(join(dir, 'b.html'), '<p>Nothing here</p>');
    const labelled = await readHtml(dir, { labelAttribute: 'data-entity' });
    assert.deepEqual(spanTexts(labelled.examples[0]!), [['BRAND', 'Nike']]);
    const plain = await readHtml(dir);
    assert.ok(plain.examples.every((e) => e.spans === undefined));
    assert.equal(plain.detected.labelled, false);
  });

  it('reads gzipped pages and keeps going past bad files, naming each', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'zipped.html.gz'), gzipSync(readFileSync(join(FIXTURES, 'basic.html'))));
    writeFileSync(
      join(dir, 'latin1.html'),
      Buffer.from([0x3c, 0x70, 0x3e, 0x63, 0x61, 0x66, 0xe9, 0x3c, 0x2f, 0x70, 0x3e]),
    );
    writeFileSync(join(dir, 'broken.html.gz'), Buffer.from('not gzip at all'));
    writeFileSync(join(dir, 'empty.htm'), '<html><body><script>x()</script></body></html>');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    const { examples, problems } = await readHtml(dir);
    assert.deepEqual(
      examples.map((e) => e.id),
      ['zipped'],
    );
    assert.match(examples[0]!.text, /^Café news/);
    assert.deepEqual(
      problems.map((p) => p.file),
      ['broken.html.gz', 'empty.htm', 'latin1.html'],
    );
    assert.match(problems[0]!.message, /gunzip/);
    assert.match(problems[1]!.message, /no visible text/);
    assert.match(problems[2]!.message, /not valid UTF-8.*re-encode/);
    assert.deepEqual([problems[2]!.line, problems[2]!.column], [1, 7]);
  });

  it('reports duplicate ids and refuses missing paths and empty directories with a hint', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'a.htm'), '<p>one</p>');
    writeFileSync(join(dir, 'a.html'), '<p>two</p>');
    const { examples, problems } = await readHtml(dir);
    assert.equal(examples.length, 1);
    assert.match(problems[0]!.message, /same id as a\.htm/);
    await assert.rejects(readHtml(join(dir, 'nope')), (e: Error & { code?: string; hint?: string }) => {
      return e.code === 'NOT_FOUND' && /\.html/.test(e.hint ?? '');
    });
    await assert.rejects(readHtml(freshDir()), (e: Error & { code?: string; hint?: string }) => {
      return e.code === 'DATA_INVALID' && /no \.html/.test(e.message) && !!e.hint;
    });
  });
});

describe('writeHtml', () => {
  it('writes nested spans as elements and escapes text and labels', () => {
    const html = writeHtml({
      id: 'x',
      text: 'Nike & <Adidas>',
      spans: [
        { start: 0, end: 15, label: 'LIST' },
        { start: 0, end: 4, label: 'BRAND' },
        { start: 8, end: 14, label: 'B"R' },
      ],
      meta: {},
    });
    assert.ok(
      html.includes(
        '<span data-label="LIST"><span data-label="BRAND">Nike</span> &amp; &lt;<span data-label="B&quot;R">Adidas</span>&gt;</span>',
      ),
    );
    assert.equal(htmlToText(html).text, 'Nike & <Adidas>');
  });

  it('refuses crossing or out-of-range spans with the example id', () => {
    const ex = (spans: Span[]): Example => ({ id: 'ex7', text: 'abcdef', spans, meta: {} });
    assert.throws(
      () =>
        writeHtml(
          ex([
            { start: 0, end: 3, label: 'A' },
            { start: 2, end: 5, label: 'B' },
          ]),
        ),
      (e: Error & { details?: { exampleId?: string; hint?: string } }) =>
        /cross/.test(e.message) && e.details?.exampleId === 'ex7' && !!e.details.hint,
    );
    assert.throws(() => writeHtml(ex([{ start: 2, end: 9, label: 'A' }])), /past the text/);
  });

  it('round-trips examples through files: same text, same spans', async () => {
    const words = fc.constantFrom('Nike', 'shoes', 'Fish & Chips', '<b>', '"quoted"', 'café', '🐟', 'x');
    const gap = fc.constantFrom(' ', '  ', '\n', '\n\n', '\t', ' . ');
    const example = fc
      .tuple(
        fc.array(fc.tuple(words, gap, fc.option(fc.constantFrom('BRAND', 'PRODUCT'))), {
          minLength: 1,
          maxLength: 40,
        }),
        gap,
        gap,
      )
      .map(([parts, lead, tail]) => {
        let text = lead;
        const spans: Span[] = [];
        for (const [w, g, label] of parts) {
          if (label) spans.push({ start: text.length, end: text.length + w.length, label });
          text += w + g;
        }
        return { text: text + tail, spans };
      });
    const samples = fc.sample(example, { numRuns: 25, seed: 7 });
    const dir = freshDir();
    const examples: Example[] = samples.map((s, i) => ({
      id: `ex${String(i).padStart(2, '0')}`,
      ...s,
      meta: {},
    }));
    // One long page so that Readability, not the fallback, does the extraction.
    const long = Array.from({ length: 60 }, (_, i) => `Sentence ${i} mentions Nike and some shoes.`).join(
      ' ',
    );
    examples.push({
      id: 'long',
      text: long,
      spans: [{ start: long.indexOf('Nike'), end: long.indexOf('Nike') + 4, label: 'BRAND' }],
      meta: {},
    });
    const paths = await writeHtmlFiles(examples, dir);
    assert.equal(paths.length, examples.length);
    const { examples: back, problems } = await readHtml(dir);
    assert.deepEqual(problems, []);
    assert.equal(back.length, examples.length);
    for (const ex of examples) {
      const got = back.find((b) => b.id === ex.id)!;
      assert.equal(got.text, ex.text, ex.id);
      assert.deepEqual(got.spans, ex.spans, ex.id);
    }
    assert.equal(back.find((b) => b.id === 'long')!.meta.extraction, 'readability');
  });

  it('refuses ids that cannot be file names', async () => {
    await assert.rejects(writeHtmlFiles([{ id: 'a/b', text: 'x', meta: {} }], freshDir()), /file name/);
  });
});

describe('readHtml on product pages (../shared/datasets/html/products)', {
  skip: !existsSync(PRODUCTS) && `${PRODUCTS} is absent`,
}, () => {
  it('reads the pages without problems, each with non-empty text', async () => {
    const names = readdirSync(PRODUCTS)
      .filter((n) => n.endsWith('.html.gz'))
      .sort();
    assert.equal(names.length, 140);
    // Readability takes about half a second per page here: three by default, all 140 with SAPPHIRE_HTML_ALL=1.
    const dir = process.env.SAPPHIRE_HTML_ALL ? PRODUCTS : freshDir();
    if (!process.env.SAPPHIRE_HTML_ALL)
      for (const n of [names[0]!, names[70]!, names[139]!]) copyFileSync(join(PRODUCTS, n), join(dir, n));
    // Some of these shops use `data-label` for their own purposes, so read them with an attribute they lack.
    const { examples, problems, detected } = await readHtml(dir, { labelAttribute: 'data-sapphire-label' });
    assert.deepEqual(problems, []);
    assert.equal(examples.length, detected.files);
    for (const ex of examples) {
      assert.ok(ex.text.trim().length > 0, `${ex.id}: empty text`);
      assert.equal(ex.id.length, 64);
      assert.equal(ex.spans, undefined);
    }
  });
});

describe('readHtml on the fashion demo pages (examples/fashion/data/pages)', () => {
  it('reads all 150 pages without problems, each with class labels and spans', async () => {
    const { examples, problems, detected } = await readHtml(FASHION_PAGES);
    assert.deepEqual(problems, []);
    assert.equal(examples.length, 150);
    assert.equal(detected.fallbackPages, 0);
    for (const ex of examples) {
      assert.equal(ex.labels?.length, 1, `${ex.id}: one class label`);
      assert.ok((ex.spans ?? []).length > 0, `${ex.id}: spans`);
      // The product title (with its entities) comes first; the cookie banner is gone.
      assert.ok(ex.text.startsWith(String(ex.meta.title)), `${ex.id}: starts with its title`);
      assert.equal(ex.spans![0]!.start, 0, `${ex.id}: the title's first entity is a span`);
      assert.ok(!ex.text.includes('cookies'), `${ex.id}: cookie banner`);
    }
  });
});
