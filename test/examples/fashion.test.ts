import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  FASHION_CATEGORIES,
  FASHION_LABELS,
  generateTitles,
  writeFashionExample,
} from '../../scripts/generate-fashion-example.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = join(ROOT, 'examples/fashion/data');
const PAGES = join(DATA, 'pages');

// Written out here (not imported) so a change to the generator's lists has to be a deliberate one.
const LABELS = ['BRAND', 'PRODUCT_TYPE', 'COLOR', 'MATERIAL', 'SIZE', 'GENDER'];
const CATEGORIES = [
  'shoes',
  'tops',
  'knitwear',
  'dresses',
  'skirts',
  'trousers',
  'outerwear',
  'accessories',
  'bags',
  'underwear',
  'swimwear',
];
const MARKETPLACES = ['shopwave', 'modamarket', 'closetly', 'threadbay'];
const WORD_CHAR = /[\p{L}\p{N}]/u;

interface TitleRow {
  id: string;
  text: string;
  spans: { start: number; end: number; label: string }[];
  label: string;
  meta: { source: string; marketplace: string };
}

function readTitles(): TitleRow[] {
  const lines = readFileSync(join(DATA, 'titles.jsonl'), 'utf8').split('\n');
  assert.equal(lines.pop(), '', 'titles.jsonl ends with a newline');
  return lines.map((line, i) => {
    try {
      return JSON.parse(line) as TitleRow;
    } catch (e) {
      throw new Error(`titles.jsonl:${i + 1} is not valid JSON: ${(e as Error).message}`);
    }
  });
}

const pageFiles = (): string[] =>
  readdirSync(PAGES)
    .filter((f) => f.endsWith('.html'))
    .sort();

const decode = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

/** Checks the text/span pair of one entity: trimmed, on word boundaries, with a known label. */
function checkEntity(where: string, before: string, entity: string, after: string, label: string): void {
  assert.ok(LABELS.includes(label), `${where}: unknown label ${label}`);
  assert.ok(entity.length > 0, `${where}: empty span`);
  assert.equal(entity, entity.trim(), `${where}: span "${entity}" has surrounding whitespace`);
  assert.match(entity, /^[\p{L}\p{N}&]/u, `${where}: span "${entity}" starts with punctuation`);
  assert.match(entity, /[\p{L}\p{N}]$/u, `${where}: span "${entity}" ends with punctuation`);
  assert.ok(!WORD_CHAR.test(before), `${where}: span "${entity}" starts inside a word`);
  assert.ok(!WORD_CHAR.test(after), `${where}: span "${entity}" ends inside a word`);
}

describe('examples/fashion titles.jsonl', () => {
  const rows = readTitles();

  it('has several hundred well-formed rows with unique ids', () => {
    assert.ok(rows.length >= 500 && rows.length < 2000, `${rows.length} titles`);
    const ids = new Set<string>();
    for (const r of rows) {
      assert.match(r.id, /^t\d{4}$/);
      assert.ok(!ids.has(r.id), `duplicate id ${r.id}`);
      ids.add(r.id);
      assert.equal(typeof r.text, 'string');
      assert.ok(r.text.length > 0 && r.text === r.text.trim(), `${r.id}: text is blank or untrimmed`);
      assert.ok(CATEGORIES.includes(r.label), `${r.id}: unknown category ${r.label}`);
      assert.equal(r.meta.source, 'titles');
      assert.ok(MARKETPLACES.includes(r.meta.marketplace), `${r.id}: marketplace ${r.meta.marketplace}`);
    }
    assert.equal(new Set(rows.map((r) => r.text.toLowerCase())).size, rows.length, 'titles are unique');
  });

  it('has spans inside the text, sorted, non-overlapping and on word boundaries', () => {
    for (const r of rows) {
      let prevEnd = 0;
      for (const s of r.spans) {
        const where = `${r.id} [${s.start},${s.end})`;
        assert.ok(Number.isInteger(s.start) && Number.isInteger(s.end), `${where}: offsets are integers`);
        assert.ok(s.start >= prevEnd, `${where}: overlaps or is out of order`);
        assert.ok(s.end > s.start && s.end <= r.text.length, `${where}: outside the text`);
        checkEntity(
          where,
          r.text[s.start - 1] ?? '',
          r.text.slice(s.start, s.end),
          r.text[s.end] ?? '',
          s.label,
        );
        prevEnd = s.end;
      }
    }
  });

  it('uses every category and label, with titles missing some entity types and a few with none', () => {
    assert.deepEqual(new Set(rows.map((r) => r.label)), new Set(CATEGORIES));
    const labelsUsed = new Set(rows.flatMap((r) => r.spans.map((s) => s.label)));
    assert.deepEqual(labelsUsed, new Set(LABELS));
    for (const label of LABELS) {
      const without = rows.filter((r) => !r.spans.some((s) => s.label === label)).length;
      assert.ok(without > 0, `some title has no ${label}`);
    }
    const empty = rows.filter((r) => r.spans.length === 0).length;
    assert.ok(empty > 0 && empty < rows.length / 20, `${empty} titles without entities`);
  });

  it('contains brands with colour/material words next to the same word labelled as a colour/material', () => {
    const traps = [
      'black',
      'red',
      'white',
      'green',
      'navy',
      'grey',
      'silver',
      'orange',
      'blue',
      'cotton',
      'linen',
    ];
    const hard = rows.filter((r) => {
      const ents = r.spans.map((s) => ({ label: s.label, text: r.text.slice(s.start, s.end).toLowerCase() }));
      return traps.some(
        (w) =>
          ents.some((e) => e.label === 'BRAND' && e.text.split(/\s+/).includes(w)) &&
          ents.some((e) => (e.label === 'COLOR' || e.label === 'MATERIAL') && e.text === w),
      );
    });
    assert.ok(
      hard.length >= 20,
      `${hard.length} titles with a colour/material brand and the same word as an attribute`,
    );
  });

  it('matches the exported label and category lists', () => {
    assert.deepEqual([...FASHION_LABELS], LABELS);
    assert.deepEqual([...FASHION_CATEGORIES], CATEGORIES);
  });
});

const VOID = new Set(['meta', 'link', 'input', 'br', 'img', 'hr', 'source']);
const OUTSIDE_MAIN = new Set(['nav', 'header', 'footer', 'aside', 'head']);

/** Walks the tags of a page, checking they nest properly; calls `onLabel` for each data-label span. */
function walkTags(html: string, file: string, onLabel: (ancestors: string[], attrs: string) => void): void {
  const body = html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '<script></script>');
  const stack: { name: string; attrs: string }[] = [];
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w-]*)([^>]*)>/g)) {
    const [, closing, rawName, attrs] = m;
    const name = rawName!.toLowerCase();
    if (VOID.has(name)) continue;
    if (closing) {
      const open = stack.pop();
      assert.equal(open?.name, name, `${file}: </${name}> closes <${open?.name}> at offset ${m.index}`);
      continue;
    }
    if (/\bdata-label=/.test(attrs!)) {
      onLabel(
        stack.map((s) => `${s.name}${s.attrs}`),
        attrs!,
      );
    }
    stack.push({ name, attrs: attrs! });
  }
  assert.equal(stack.length, 0, `${file}: unclosed ${stack.map((s) => s.name).join(', ')}`);
}

describe('examples/fashion pages', () => {
  const files = pageFiles();

  it('has over a hundred pages named by id', () => {
    assert.ok(files.length >= 100 && files.length < 1000, `${files.length} pages`);
    for (const f of files) assert.match(f, /^p\d{3}\.html$/);
  });

  it('are complete HTML documents with a category and properly nested tags', () => {
    const categories = new Set<string>();
    for (const f of files) {
      const html = readFileSync(join(PAGES, f), 'utf8');
      assert.ok(html.startsWith('<!DOCTYPE html>\n'), `${f}: doctype`);
      assert.ok(html.trimEnd().endsWith('</html>'), `${f}: ends with </html>`);
      assert.match(html, /<title>[^<]+<\/title>/, `${f}: title`);
      assert.match(html, /<h1[^>]*>/, `${f}: h1`);
      assert.match(html, /<script\b/, `${f}: script noise`);
      assert.match(html, /class="cookie-banner"/, `${f}: cookie banner`);
      const label = /<meta name="sapphire:label" content="([^"]+)">/.exec(html)?.[1];
      assert.ok(label && CATEGORIES.includes(label), `${f}: sapphire:label ${label}`);
      categories.add(label);
      walkTags(html, f, () => {});
    }
    assert.deepEqual(categories, new Set(CATEGORIES));
  });

  it('annotate entities only in the main content, with known labels and on word boundaries', () => {
    const labelsUsed = new Set<string>();
    for (const f of files) {
      const html = readFileSync(join(PAGES, f), 'utf8');
      let count = 0;
      walkTags(html, f, (ancestors, attrs) => {
        count++;
        const where = `${f}: <span${attrs}>`;
        assert.ok(
          ancestors.some((a) => a.startsWith('main') || a.includes('role="main"')),
          `${where} is outside the main content`,
        );
        for (const a of ancestors) {
          const name = a.split(/\s/)[0]!;
          assert.ok(!OUTSIDE_MAIN.has(name), `${where} is inside <${name}>`);
          assert.ok(!a.includes('data-label'), `${where} is nested in another annotated span`);
          assert.ok(!a.includes('cookie-banner'), `${where} is in the cookie banner`);
        }
      });
      assert.ok(count > 0, `${f}: has no data-label span`);
      for (const m of html.matchAll(/(.)<span data-label="([A-Z_]+)">([^<]*)<\/span>(.)/g)) {
        const [, before, label, inner, after] = m;
        labelsUsed.add(label!);
        checkEntity(`${f}: "${inner}"`, before!, decode(inner!), after!, label!);
      }
      const simple = html.match(/<span data-label="[A-Z_]+">[^<]*<\/span>/g) ?? [];
      assert.equal(simple.length, count, `${f}: every data-label span holds plain text only`);
    }
    assert.deepEqual(labelsUsed, new Set(LABELS));
  });
});

describe('scripts/generate-fashion-example.ts', () => {
  it('regenerates byte-identical files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sapphire-fashion-'));
    try {
      writeFashionExample(dir);
      const committed = readFileSync(join(DATA, 'titles.jsonl'));
      assert.ok(readFileSync(join(dir, 'data/titles.jsonl')).equals(committed), 'titles.jsonl differs');
      const fresh = readdirSync(join(dir, 'data/pages')).sort();
      assert.deepEqual(fresh, pageFiles());
      for (const f of fresh) {
        const same = readFileSync(join(dir, 'data/pages', f)).equals(readFileSync(join(PAGES, f)));
        assert.ok(same, `${f} differs; rerun: node --import tsx scripts/generate-fashion-example.ts`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives the same titles for the same seed and different ones for another seed', () => {
    assert.deepEqual(generateTitles(50, 7), generateTitles(50, 7));
    assert.notDeepEqual(generateTitles(50, 7), generateTitles(50, 8));
  });
});
