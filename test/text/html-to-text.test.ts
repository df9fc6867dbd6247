import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { DOMParser } from 'linkedom';
import {
  findLabelledElements,
  findMetaContent,
  highlightHtml,
  htmlToText,
} from '../../src/text/html-to-text.ts';
import { OffsetMap, OffsetMapBuilder } from '../../src/text/offset-map.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/html/', import.meta.url));
const SHARED = fileURLToPath(new URL('../../../shared/datasets/html/readability/', import.meta.url));
const fixture = (name: string): string => readFileSync(FIXTURES + name, 'utf8');

/** Decodes an HTML fragment with an independent parser (linkedom), keeping whitespace as is. */
function decode(fragment: string): string {
  const doc = new DOMParser().parseFromString(
    `<html><head></head><body><div>${fragment}</div></body></html>`,
    'text/html',
  );
  return doc.querySelector('div')?.textContent ?? '';
}

/** Every run of the map: copies equal their source, entities decode to their text, inserted text is whitespace. */
function assertMapFaithful(
  html: string,
  text: string,
  map: OffsetMap,
  maxAtomic = Number.POSITIVE_INFINITY,
): void {
  assert.equal(map.textLength, text.length);
  assert.equal(map.sourceLength, html.length);
  let atomic = 0;
  for (const s of map.segments()) {
    const t = text.slice(s.textStart, s.textStart + s.textLength);
    const src = html.slice(s.sourceStart, s.sourceStart + s.sourceLength);
    if (s.kind === 'copy') assert.equal(src, t, `copy run at text ${s.textStart}`);
    else if (s.kind === 'synthetic') assert.match(t, /^[ \n]+$/, `synthetic run at text ${s.textStart}`);
    else if (atomic++ < maxAtomic) assert.equal(decode(src), t, `entity ${src} at text ${s.textStart}`);
  }
  // Per character: a non-synthetic character's source range decodes to (a run containing) that character.
  for (let i = 0; i < text.length; i += Math.max(1, Math.floor(text.length / 500))) {
    if (map.isSynthetic(i)) continue;
    const [a, b] = map.toSourceRange(i, i + 1);
    const src = html.slice(a, b);
    assert.ok(
      src === text[i] || decode(src).includes(text[i]!),
      `char ${i} ${JSON.stringify(text[i])} ← ${src}`,
    );
  }
}

const stripMarks = (html: string): string =>
  html
    .replace(/<mark class="sapphire-entity" data-label="[^"]*"(?: data-score="[^"]*")?>/g, '')
    .replace(/<\/mark>/g, '');

describe('htmlToText on hand-made pages', () => {
  it('decodes entities, joins nested inline tags and breaks lines at blocks and <br>', () => {
    const { text, title, metadata } = htmlToText(fixture('basic.html'), { mainContent: false });
    assert.equal(
      text,
      'Café news\n\nFish & chips <3 — hot and crispy,\u00a0€5 🐟\n\nFirst line\nsecond line\nthird\n\n' +
        'one\ntwo\n\na1 b1\na2 b2\n\n  indented\n    code',
    );
    assert.equal(title, 'Fish & Chips Weekly');
    assert.equal(metadata.extraction, 'full');
  });

  it('drops scripts, styles, comments, templates, noscript and hidden nodes', () => {
    const { text } = htmlToText(fixture('basic.html'), { mainContent: false });
    for (const gone of [
      'not text',
      'color',
      'hidden by',
      'from readers',
      'enable scripts',
      'template',
      'comment',
    ]) {
      assert.ok(!text.includes(gone), `${gone} should be dropped`);
    }
  });

  it('maps entities to their whole source and copies to their exact source', () => {
    const html = '<p>Fish &amp; chips</p>';
    const { text, map } = htmlToText(html, { mainContent: false });
    assert.equal(text, 'Fish & chips');
    assert.deepEqual(map.toSourceRange(5, 6), [8, 13]);
    assert.equal(html.slice(...map.toSourceRange(0, 4)), 'Fish');
    assert.equal(html.slice(...map.toSourceRange(0, text.length)), 'Fish &amp; chips');
    assert.equal(map.toSource(text.length), html.indexOf('</p>'));
  });

  it('flags inserted line breaks and collapsed whitespace as synthetic', () => {
    const html = '<p>one</p>\n  <p>two\n   three</p>';
    const { text, map } = htmlToText(html, { mainContent: false });
    assert.equal(text, 'one\n\ntwo three');
    assert.ok(map.isSynthetic(3) && map.isSynthetic(4));
    assert.equal(map.toSource(3), html.indexOf('</p>'), 'a break sits right after the preceding character');
    assert.ok(map.isSynthetic(8), 'a newline collapsed to a space is not a copy');
    assert.equal(map.toSource(8), html.indexOf('\n   three'));
    assert.ok(!map.isSynthetic(0));
  });

  it('keeps a real space as a copy and keeps whitespace inside <pre>', () => {
    const { text, map } = htmlToText('<pre>\n a  b\n</pre><p>x y</p>', { mainContent: false });
    assert.equal(text, ' a  b\n\nx y');
    assert.ok(!map.isSynthetic(2) && !map.isSynthetic(3));
    assert.ok(!map.isSynthetic(text.indexOf(' y')));
  });

  it('keeps the main content with Readability and drops navigation and sidebars', () => {
    const html = fixture('article.html');
    const main = htmlToText(html);
    assert.equal(main.metadata.extraction, 'readability');
    assert.equal(main.title, 'A day in the harbour town');
    // The <h1> repeating the title, which Readability drops, comes first.
    assert.match(main.text, /^A day in the harbour town\n\nThe harbour town woke early/);
    assert.equal(main.metadata.titleHeading, 'prepended');
    assert.match(main.text, /The Harbour Chippy is open every day except Monday\.$/);
    for (const gone of ['Home News', 'MegaFry', 'Copyright']) assert.ok(!main.text.includes(gone), gone);
    assertMapFaithful(html, main.text, main.map);
    const full = htmlToText(html, { mainContent: false });
    assert.ok(full.text.includes('MegaFry') && full.text.includes('Copyright'));
  });

  it('falls back to the whole body when Readability finds nothing, and says so', () => {
    const { text, metadata } = htmlToText('<html><body></body></html>');
    assert.equal(text, '');
    assert.equal(metadata.extraction, 'body');
    assert.match(metadata.fallbackReason ?? '', /Readability/);
  });

  it('rejects a non-string page with a hint', () => {
    assert.throws(() => htmlToText(Buffer.from('<p>x</p>') as unknown as string), /expects a string/);
  });

  it('finds labelled elements with their source range and line', () => {
    const html = fixture('labelled.htm');
    const found = findLabelledElements(html);
    assert.deepEqual(
      found.map((e) => [e.label, e.text, e.line, e.hidden]),
      [
        ['BRAND', 'Nike', 3, false],
        ['PRODUCT', 'Fish & Chips', 3, false],
        ['BRAND', 'Acme Corp', 4, false],
        ['BRAND', 'Ghost', 5, true],
      ],
    );
    assert.ok(html.slice(found[0]!.start, found[0]!.end).startsWith('<span data-label="BRAND">Nike'));
    assert.deepEqual(findLabelledElements(html, 'data-missing'), []);
  });
});

describe('htmlToText on a product page: title heading and consent banners', () => {
  const html = fixture('product-page.html');
  const h1 = html.match(/<h1[\s\S]*?<\/h1>/)![0];

  it('puts the dropped title heading first, mapped to its real source', () => {
    const { text, map, title, metadata } = htmlToText(html);
    assert.equal(title, 'Acme Trail Runner - Blue');
    assert.equal(metadata.titleHeading, 'prepended');
    assert.match(text, /^Acme Trail Runner - Blue\n\n€89\.00\n\nDescription\n\nThe trail runner from Acme/);
    assert.equal(text.split('Acme Trail Runner').length, 2, 'the heading appears once');
    assertMapFaithful(html, text, map);
    const [a, b] = map.toSourceRange(0, 'Acme Trail Runner - Blue'.length);
    assert.ok(a > html.indexOf('<h1') && b < html.indexOf('</h1>'), 'the heading maps into the <h1>');
    // Its labelled elements map onto the prepended text and can be highlighted in place.
    const brand = findLabelledElements(html)[0]!;
    assert.equal(brand.text, 'Acme');
    assert.deepEqual(map.fromSourceRange(brand.start, brand.end), [0, 4]);
    const marked = highlightHtml(html, map, [{ start: 0, end: 4, label: 'BRAND' }]);
    assert.ok(
      marked.includes(
        '<span data-label="BRAND"><mark class="sapphire-entity" data-label="BRAND">Acme</mark>',
      ),
    );
    assert.equal(stripMarks(marked), html);
  });

  it('drops cookie and consent banners before Readability, and counts them; nav, aside and footer go too', () => {
    const { text, metadata } = htmlToText(html);
    assert.equal(metadata.boilerplateRemoved, '2');
    for (const gone of [
      'cookies',
      'Accept all',
      'privacy',
      'Women',
      'You may also like',
      'Sign up',
      'Shoe Hut Ltd',
    ])
      assert.ok(!text.includes(gone), gone);
    const full = htmlToText(html, { mainContent: false });
    assert.ok(full.text.includes('We use cookies') && full.text.startsWith('We use cookies'));
    assert.equal(full.metadata.titleHeading, undefined);
    assert.equal(full.metadata.boilerplateRemoved, undefined);
  });

  it('never drops a consent-named element that holds most of the page, nor <body>', () => {
    const wrapped = html
      .replace('<body>', '<body class="cookie-consent-given"><div id="consent-wrapper">')
      .replace('</body>', '</div></body>');
    const { text, metadata } = htmlToText(wrapped);
    assert.equal(metadata.extraction, 'readability');
    assert.equal(metadata.boilerplateRemoved, '2');
    assert.match(text, /grips wet rock/);
    assert.ok(!text.includes('cookies'));
  });

  it('prepends a heading Readability dropped as a near duplicate of the title', () => {
    const near = htmlToText(html.replace(h1, '<h1><span data-label="BRAND">Acme</span> Trail Runner</h1>'));
    assert.equal(near.metadata.titleHeading, 'prepended');
    assert.match(near.text, /^Acme Trail Runner\n\n€89/);
  });

  it('falls back to an <h2> before the content, never a site-name <h1>', () => {
    const page = html
      .replace(h1, h1.replace(/h1/g, 'h2'))
      .replace('<a class="logo" href="/">Shoe Hut</a>', '<h1 class="logo">Shoe Hut</h1>');
    assert.match(htmlToText(page).text, /^Acme Trail Runner - Blue\n\n€89/);
    const logoOnly = htmlToText(
      html.replace(h1, '').replace('<a class="logo" href="/">Shoe Hut</a>', '<h1 class="logo">Shoe Hut</h1>'),
    );
    assert.equal(logoOnly.metadata.titleHeading, undefined);
    assert.match(logoOnly.text, /^€89/);
  });

  it('leaves a heading that is not the title where Readability put it', () => {
    const { text, metadata } = htmlToText(html.replace(h1, '<h1>Spring sale</h1>'));
    assert.equal(metadata.titleHeading, undefined);
    assert.equal(text.split('Spring sale').length, 2, 'kept once, in place');
  });
});

describe('findMetaContent', () => {
  it('returns the content of every meta tag with the name, by name or property, case-insensitively', () => {
    const html =
      '<head><meta name="Sapphire:Label" content="shoes, sale"><meta property="og:title" content="T">' +
      '<meta name="sapphire:label" content="bags"><meta name="sapphire:label"></head><p>x</p>';
    assert.deepEqual(findMetaContent(html, 'sapphire:label'), ['shoes, sale', 'bags']);
    assert.deepEqual(findMetaContent(html, 'og:title'), ['T']);
    assert.deepEqual(findMetaContent(html, 'missing'), []);
    assert.deepEqual(findMetaContent(fixture('product-page.html'), 'sapphire:label'), ['shoes, sale']);
  });
});

describe('OffsetMap', () => {
  it('stores runs compactly and round-trips through JSON', () => {
    const b = new OffsetMapBuilder();
    b.copy(3, 4); // "Fish"
    b.copy(7, 1); // " " merges with the run before
    b.atomic(8, 5, 1); // "&amp;"
    b.synthetic(13, 2); // "\n\n"
    b.copy(20, 3);
    const map = b.build(30);
    assert.equal(map.segmentCount, 4);
    assert.deepEqual(map.toJSON(), {
      version: 1,
      textLength: 11,
      sourceLength: 30,
      segments: [0, 3, 5, 5, 5, 8, 1, 5, 6, 13, 2, 0, 8, 20, 3, 3],
    });
    const back = OffsetMap.fromJSON(JSON.parse(JSON.stringify(map)));
    for (let t = 0; t <= map.textLength; t++) assert.equal(back.toSource(t), map.toSource(t));
    assert.deepEqual(map.toSourceRange(4, 9), [7, 21], 'synthetic characters inside a range are ignored');
    assert.deepEqual(map.toSourceRange(6, 8), [13, 13], 'a range of only synthetic characters is empty');
    assert.deepEqual(map.fromSourceRange(8, 13), [5, 6]);
    assert.deepEqual(map.fromSourceRange(0, 6), [0, 3]);
    assert.equal(map.fromSourceRange(14, 20), undefined);
    assert.equal(map.toSource(11), 23);
  });

  it('rejects offsets outside the text and malformed JSON with a hint', () => {
    const map = new OffsetMapBuilder().build(0);
    assert.throws(
      () => map.toSource(1),
      (e: Error & { details?: { hint?: string } }) => !!e.details?.hint,
    );
    assert.throws(
      () => OffsetMap.fromJSON({ version: 1, textLength: 3, sourceLength: 1, segments: [0, 0, 3, 3] }),
      /past the source/,
    );
    assert.throws(() => OffsetMap.fromJSON({ version: 2 }), /unknown version/);
    assert.throws(
      () => OffsetMap.fromJSON({ version: 1, textLength: 4, sourceLength: 9, segments: [0, 0, 3, 3] }),
      /cover 3/,
    );
  });
});

describe('highlightHtml', () => {
  const html = '<p>I love <b>Nike</b> shoes &amp; more</p>';
  const { text, map } = htmlToText(html, { mainContent: false });

  it('wraps a span in a mark inside its element', () => {
    const start = text.indexOf('Nike');
    assert.equal(
      highlightHtml(html, map, [{ start, end: start + 4, label: 'BRAND' }]),
      '<p>I love <b><mark class="sapphire-entity" data-label="BRAND">Nike</mark></b> shoes &amp; more</p>',
    );
  });

  it('splits spans that cross tags, keeps entities whole and escapes labels', () => {
    const start = text.indexOf('love');
    const end = text.indexOf('&') + 1;
    const out = highlightHtml(html, map, [{ start, end, label: 'A"<b>', score: 0.5 }]);
    const open = '<mark class="sapphire-entity" data-label="A&quot;&lt;b&gt;" data-score="0.5">';
    assert.equal(out, `<p>I ${open}love </mark><b>${open}Nike</mark></b>${open} shoes &amp;</mark> more</p>`);
  });

  it('nests overlapping spans and leaves the page otherwise unchanged', () => {
    const spans = [
      { start: 0, end: text.length, label: 'ALL' },
      { start: text.indexOf('Nike'), end: text.indexOf('Nike') + 4, label: 'BRAND' },
    ];
    const out = highlightHtml(html, map, spans);
    assert.equal(stripMarks(out), html);
    assert.match(out, /<b><mark[^>]*"ALL"><mark[^>]*"BRAND">Nike<\/mark><\/mark><\/b>/);
  });

  it('rejects spans outside the text and a map from another page', () => {
    assert.throws(() => highlightHtml(html, map, [{ start: 0, end: 999, label: 'X' }]), /past the text/);
    assert.throws(
      () => highlightHtml(`${html} `, map, []),
      (e: Error & { hint?: string }) =>
        /made from a source of/.test(e.message) && /same HTML/.test(e.hint ?? ''),
    );
  });
});

// Random pages from a small grammar: words, entities, whitespace, inline tags, and things that hold no text.
const word = fc.constantFrom('fish', 'Chips', 'café', 'a', 'Nike', '42', 'x-y', '1 < 2', 'a&b');
const entity = fc.constantFrom(
  '&amp;',
  '&lt;',
  '&gt;',
  '&quot;',
  '&nbsp;',
  '&eacute;',
  '&#233;',
  '&#xE9;',
  '&copy;',
  '&#x1F41F;',
  '&mdash;',
  '&amp',
  '&#32;',
);
const space = fc.constantFrom(' ', '  ', '\n', '\t', ' \n  ');
const noText = fc.constantFrom(
  '<script>var x = "<b>no</b>";</script>',
  '<style>b{}</style>',
  '<span hidden>gone</span>',
  '<!-- note -->',
  '<img src="x.png">',
);
const { inline } = fc.letrec<{ inline: string }>((tie) => ({
  inline: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    word,
    entity,
    space,
    noText,
    fc.constant('<br>'),
    fc
      .tuple(fc.constantFrom('b', 'i', 'span', 'a', 'em'), fc.array(tie('inline'), { maxLength: 4 }))
      .map(([tag, kids]) => `<${tag}>${kids.join('')}</${tag}>`),
  ),
}));
const block = fc
  .tuple(fc.constantFrom('p', 'div', 'li', 'h2', 'td', 'section'), fc.array(inline, { maxLength: 6 }), space)
  .map(([tag, kids, ws]) => `<${tag}>${kids.join('')}</${tag}>${ws}`);
const page = fc
  .array(block, { minLength: 1, maxLength: 5 })
  .map(
    (blocks) => `<!DOCTYPE html><html><head><title>t</title></head><body>\n${blocks.join('')}</body></html>`,
  );

describe('htmlToText properties', () => {
  it('maps every non-synthetic character to source that decodes to it; text is trimmed and collapsed', () => {
    fc.assert(
      fc.property(page, fc.boolean(), (html, mainContent) => {
        const { text, map } = htmlToText(html, { mainContent });
        assertMapFaithful(html, text, map);
        assert.equal(text, text.replace(/^[ \n\t]+|[ \n\t]+$/g, ''));
        assert.ok(!/ [ \n]|\n /.test(text), `uncollapsed whitespace in ${JSON.stringify(text)}`);
        const back = OffsetMap.fromJSON(JSON.parse(JSON.stringify(map.toJSON())));
        assert.deepEqual(back.toJSON(), map.toJSON());
      }),
      { numRuns: 150 },
    );
  });

  it('highlighting any span keeps the page and its text, and the marks hold the span text', () => {
    fc.assert(
      fc.property(page, fc.nat(), fc.nat(), (html, x, y) => {
        const { text, map } = htmlToText(html, { mainContent: false });
        let a = text.length === 0 ? 0 : x % (text.length + 1);
        let b = a + (text.length === 0 ? 0 : y % (text.length - a + 1));
        // An entity is highlighted whole: keep the span on code point boundaries.
        if (a > 0 && /[\uDC00-\uDFFF]/.test(text[a] ?? '')) a--;
        if (/[\uDC00-\uDFFF]/.test(text[b] ?? '')) b++;
        const out = highlightHtml(html, map, [{ start: a, end: b, label: 'L' }]);
        assert.equal(stripMarks(out), html);
        assert.equal(htmlToText(out, { mainContent: false }).text, text);
        const doc = new DOMParser().parseFromString(out, 'text/html');
        const marked = [...doc.querySelectorAll('mark')].map((m) => m.textContent).join('');
        assert.equal(marked.replace(/\s+/g, ''), text.slice(a, b).replace(/\s+/g, ''));
      }),
      { numRuns: 150 },
    );
  });
});

describe('htmlToText on real pages (../shared/datasets/html/readability)', {
  skip: !existsSync(SHARED) && `${SHARED} is absent`,
}, () => {
  const words = (s: string): string[] => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  // A spread of about a dozen pages (every 11th by name); SAPPHIRE_HTML_ALL=1 checks all 130.
  const names = existsSync(SHARED) ? readdirSync(SHARED).sort() : [];
  const sample = process.env.SAPPHIRE_HTML_ALL ? names : names.filter((_, i) => i % 11 === 3);

  it('extracts text close to Readability’s expected output, with a faithful map', () => {
    const scores: { name: string; precision: number; recall: number }[] = [];
    for (const name of sample) {
      const source = readFileSync(`${SHARED}${name}/source.html`, 'utf8');
      const expected = htmlToText(readFileSync(`${SHARED}${name}/expected.html`, 'utf8'), {
        mainContent: false,
      }).text;
      const got = htmlToText(source);
      assert.ok(got.text.length > 0, `${name}: empty text`);
      assertMapFaithful(source, got.text, got.map, 200);
      // expected.html leaves out the title, so the prepended title heading is compared with the title instead.
      let text = got.text;
      if (got.metadata.titleHeading === 'prepended') {
        const cut = text.indexOf('\n\n');
        const heading = words(cut < 0 ? text : text.slice(0, cut));
        const pageTitle = source.match(/<title[^>]*>([^<]*)/i)?.[1] ?? '';
        const title = new Set(words(`${got.title ?? ''} ${pageTitle}`));
        const inTitle = heading.filter((w) => title.has(w)).length;
        assert.ok(inTitle >= heading.length / 2, `${name}: prepended heading is not the title`);
        text = cut < 0 ? '' : text.slice(cut + 2);
      }
      const counts = new Map<string, number>();
      for (const w of words(expected)) counts.set(w, (counts.get(w) ?? 0) + 1);
      const mine = words(text);
      let common = 0;
      for (const w of mine) {
        const c = counts.get(w) ?? 0;
        if (c > 0) {
          common++;
          counts.set(w, c - 1);
        }
      }
      scores.push({
        name,
        precision: common / Math.max(1, mine.length),
        recall: common / Math.max(1, words(expected).length),
      });
    }
    const mean = (k: 'precision' | 'recall'): number => scores.reduce((n, s) => n + s[k], 0) / scores.length;
    assert.ok(mean('precision') > 0.9 && mean('recall') > 0.9, JSON.stringify(scores));
    for (const s of scores) assert.ok(s.precision > 0.5 && s.recall > 0.3, `${s.name}: ${JSON.stringify(s)}`);
  });
});
