import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  ConfigError,
  DataError,
  formatLocation,
  NotFoundError,
  type Problem,
  SapphireError,
} from '../../core/errors.ts';
import { escapeHtml, findLabelledElements, findMetaContent, htmlToText } from '../../text/html-to-text.ts';
import type { Example, Span } from '../types.ts';
import { readUtf8 } from './read-text.ts';

/** What a dataset reader returns: the examples it could read, every problem found, and what it detected. */
export interface ReadResult {
  examples: Example[];
  problems: Problem[];
  detected: Record<string, unknown>;
}

/** Options of {@link readHtml}. */
export interface ReadHtmlOptions {
  /** Keep only each page's main content, chosen by Mozilla Readability (default true). */
  mainContent?: boolean;
  /** Attribute whose elements become labelled spans (default `data-label`). */
  labelAttribute?: string;
  /**
   * Name of the `<meta name="…" content="…">` tag holding the page's class labels, comma-separated
   * (default `sapphire:label`).
   */
  labelMeta?: string;
}

/** Class labels from the label meta tags' contents: comma-separated, trimmed, without duplicates. */
function classLabelsOf(contents: string[]): string[] {
  const labels: string[] = [];
  for (const content of contents)
    for (const part of content.split(',')) {
      const label = part.trim();
      if (label !== '' && !labels.includes(label)) labels.push(label);
    }
  return labels;
}

const HTML_FILE = /\.html?(\.gz)?$/i;

function exampleIdOf(file: string): string {
  return basename(file)
    .replace(/\.gz$/i, '')
    .replace(/\.html?$/i, '');
}

/** Reads a page with {@link readUtf8} (strict UTF-8, gunzips `.gz`); returns a problem instead when it cannot. */
async function readPage(path: string, file: string): Promise<string | Problem> {
  try {
    return await readUtf8(path);
  } catch (e) {
    if (!(e instanceof SapphireError)) throw e;
    const { line, column, hint } = e.details;
    const where = formatLocation(e.details);
    const message =
      where && e.message.startsWith(`${where}: `) ? e.message.slice(where.length + 2) : e.message;
    return { file, line, column, message: hint ? `${message}; ${hint}` : message };
  }
}

async function listPages(
  path: string,
): Promise<{ files: { path: string; name: string }[]; directory: boolean }> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new NotFoundError(`no such file or directory: ${path}`, {
      file: path,
      hint: 'pass an .html, .htm or .html.gz file, or a directory of them',
    });
  }
  if (!info.isDirectory()) return { files: [{ path, name: basename(path) }], directory: false };
  const names = (await readdir(path, { withFileTypes: true }))
    .filter((d) => d.isFile() && HTML_FILE.test(d.name))
    .map((d) => d.name)
    .sort();
  if (names.length === 0) {
    throw new DataError('the directory holds no .html, .htm or .html.gz files', {
      file: path,
      hint: 'put one HTML page per file in the directory, or pass a single page',
    });
  }
  return { files: names.map((name) => ({ path: join(path, name), name })), directory: true };
}

function shorten(s: string, n = 60): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/**
 * Reads one HTML page or a directory of pages (`.html`, `.htm`, `.html.gz`, sorted by name), one example
 * per page, with elements carrying `data-label="…"` turned into spans over the extracted text and the
 * `<meta name="sapphire:label" content="a, b">` tag turned into the example's class `labels`.
 * `meta.htmlMap` points into the page as decoded by `readUtf8` (BOM stripped, CRLF turned into LF).
 *
 * @example
 * const { examples, problems } = await readHtml('pages/', { mainContent: false });
 * examples[0].meta.htmlMap; // serialised OffsetMap back into the page's HTML
 */
export async function readHtml(path: string, options: ReadHtmlOptions = {}): Promise<ReadResult> {
  const mainContent = options.mainContent ?? true;
  const labelAttribute = options.labelAttribute ?? 'data-label';
  const labelMeta = options.labelMeta ?? 'sapphire:label';
  if (typeof labelMeta !== 'string' || labelMeta.trim() === '') {
    throw new ConfigError(`labelMeta must be a non-empty meta tag name, got ${JSON.stringify(labelMeta)}`, {
      path: 'labelMeta',
      hint: "leave it out for the default 'sapphire:label', or name the meta tag holding the class labels",
    });
  }
  const { files, directory } = await listPages(path);
  const examples: Example[] = [];
  const problems: Problem[] = [];
  const labels = new Set<string>();
  const seen = new Map<string, string>();
  let fallbackPages = 0;
  let labelledPages = 0;
  const classLabels = new Set<string>();
  const withoutClassLabels: { file: string; exampleId: string }[] = [];

  for (const { path: filePath, name } of files) {
    const file = directory ? name : basename(filePath);
    const id = exampleIdOf(name);
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      problems.push({ file, exampleId: id, message: `has the same id as ${earlier}; rename one of them` });
      continue;
    }
    seen.set(id, file);
    const html = await readPage(filePath, file);
    if (typeof html !== 'string') {
      problems.push(html);
      continue;
    }
    const page = htmlToText(html, { mainContent });
    if (page.metadata.extraction === 'body') fallbackPages++;
    if (page.text.trim() === '') {
      problems.push({
        file,
        exampleId: id,
        message: 'has no visible text; check that the page is not empty or rendered by scripts',
      });
      continue;
    }

    const elements = findLabelledElements(html, labelAttribute);
    if (elements.length > 0) labelledPages++;
    const spans: Span[] = [];
    for (const el of elements) {
      const where = { file, line: el.line, column: el.column, exampleId: id };
      const what = `labelled element <${el.tagName} ${labelAttribute}="${el.label}"> "${shorten(el.text)}"`;
      const range = page.map.fromSourceRange(el.start, el.end);
      if (!range) {
        let message = `${what} has no text to label; remove the attribute or add text`;
        if (el.hidden) {
          message = `${what} is hidden (hidden attribute, display:none, or inside script/style/svg); make it visible or remove the label`;
        } else if (mainContent && el.text !== '') {
          message = `${what} was dropped by main-content extraction; read with mainContent: false to keep the whole page`;
        }
        problems.push({ ...where, message });
        continue;
      }
      let [start, end] = range;
      while (start < end && /\s/.test(page.text[start]!)) start++;
      while (end > start && /\s/.test(page.text[end - 1]!)) end--;
      if (start === end) {
        problems.push({
          ...where,
          message: `${what} has no text to label; remove the attribute or add text`,
        });
        continue;
      }
      if (!spans.some((s) => s.start === start && s.end === end && s.label === el.label)) {
        spans.push({ start, end, label: el.label });
        labels.add(el.label);
      }
    }
    spans.sort((a, b) => a.start - b.start || b.end - a.end || a.label.localeCompare(b.label));
    const labelContents = findMetaContent(html, labelMeta);
    const pageLabels = labelContents.length > 0 ? classLabelsOf(labelContents) : undefined;
    if (pageLabels) for (const label of pageLabels) classLabels.add(label);
    else withoutClassLabels.push({ file, exampleId: id });
    examples.push({
      id,
      text: page.text,
      spans,
      ...(pageLabels ? { labels: pageLabels } : {}),
      meta: {
        source: file,
        title: page.title,
        extraction: page.metadata.extraction,
        htmlMap: page.map.toJSON(),
      },
    });
  }

  // Pages of an unlabelled collection carry no span list at all: "not annotated", not "no entities".
  if (labelledPages === 0) for (const ex of examples) delete ex.spans;
  // Class labels: a page without the meta tag in a collection that has it is unlabelled, and said so.
  const classified = withoutClassLabels.length < examples.length;
  if (classified) {
    for (const where of withoutClassLabels) {
      problems.push({
        ...where,
        message: `has no <meta name="${labelMeta}"> while other pages have one, so it has no class labels; add one (content="label" or "a, b" for several)`,
      });
    }
    // Keep the problems in file order (a stable sort: each file's own problems stay in order).
    const order = new Map(files.map((f, i) => [directory ? f.name : basename(f.path), i]));
    problems.sort((a, b) => (order.get(a.file ?? '') ?? 0) - (order.get(b.file ?? '') ?? 0));
  }
  return {
    examples,
    problems,
    detected: {
      format: 'html',
      files: files.length,
      mainContent,
      labelAttribute,
      labelled: labelledPages > 0,
      labels: [...labels].sort(),
      labelMeta,
      classLabels: [...classLabels].sort(),
      fallbackPages,
    },
  };
}

/**
 * Writes one example as a small annotated HTML page (text in `<pre>`, spans as `<span data-label>`) that
 * {@link readHtml} reads back to the same text and spans.
 *
 * @example
 * writeHtml({ id: 'a', text: 'Nike shoes', spans: [{ start: 0, end: 4, label: 'BRAND' }], meta: {} });
 */
export function writeHtml(example: Example, labelAttribute = 'data-label'): string {
  const { id, text } = example;
  const spans = [...(example.spans ?? [])].sort((a, b) => a.start - b.start || b.end - a.end);
  spans.forEach((s, k) => {
    if (!(Number.isInteger(s.start) && Number.isInteger(s.end) && 0 <= s.start && s.start < s.end)) {
      throw new DataError(`span ${k} has invalid offsets [${s.start}, ${s.end})`, {
        exampleId: id,
        path: `spans[${k}]`,
        hint: 'spans need integer offsets with 0 ≤ start < end',
      });
    }
    if (s.end > text.length) {
      throw new DataError(`span ${k} ends at ${s.end}, past the text (${text.length} characters)`, {
        exampleId: id,
        path: `spans[${k}]`,
        hint: 'fix the span offsets so they lie inside the text',
      });
    }
  });
  const parts: string[] = [];
  const open: number[] = [];
  let pos = 0;
  const closeUntil = (at: number): void => {
    while (open.length > 0 && open[open.length - 1]! <= at) {
      const end = open.pop()!;
      parts.push(escapeHtml(text.slice(pos, end)), '</span>');
      pos = end;
    }
  };
  for (const s of spans) {
    closeUntil(s.start);
    if (open.length > 0 && s.end > open[open.length - 1]!) {
      throw new DataError(`spans cross at ${s.start}: [${s.start}, ${s.end}) overlaps an enclosing span`, {
        exampleId: id,
        hint: 'HTML elements must nest; drop or split one of the overlapping spans',
      });
    }
    parts.push(escapeHtml(text.slice(pos, s.start)), `<span ${labelAttribute}="${escapeHtml(s.label)}">`);
    pos = s.start;
    open.push(s.end);
  }
  closeUntil(Number.POSITIVE_INFINITY);
  parts.push(escapeHtml(text.slice(pos)));
  return [
    '<!DOCTYPE html>',
    '<html>',
    `<head><meta charset="utf-8"><title>${escapeHtml(id)}</title></head>`,
    // The newline after <pre> is dropped by HTML parsers, so the text keeps its own leading newlines.
    `<body><pre>\n${parts.join('')}</pre></body>`,
    '</html>',
    '',
  ].join('\n');
}

/**
 * Writes each example to `<dir>/<id>.html` with {@link writeHtml} and returns the paths written.
 *
 * @example
 * await writeHtmlFiles(examples, 'out/pages'); // then readHtml('out/pages') reads them back
 */
export async function writeHtmlFiles(
  examples: Example[],
  dir: string,
  labelAttribute = 'data-label',
): Promise<string[]> {
  const ids = new Set<string>();
  for (const ex of examples) {
    if (!/^[^/\\\0]+$/.test(ex.id) || ex.id === '.' || ex.id === '..') {
      throw new DataError(`id ${JSON.stringify(ex.id)} cannot be used as a file name`, {
        exampleId: ex.id,
        hint: 'give examples ids without path separators before writing them as HTML pages',
      });
    }
    if (ids.has(ex.id)) {
      throw new DataError('two examples share this id, so their pages would overwrite each other', {
        exampleId: ex.id,
        hint: 'make example ids unique before writing',
      });
    }
    ids.add(ex.id);
  }
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const ex of examples) {
    const path = join(dir, `${ex.id}.html`);
    await writeFile(path, writeHtml(ex, labelAttribute), 'utf8');
    paths.push(path);
  }
  return paths;
}
