import { Readability } from '@mozilla/readability';
import { Parser } from 'htmlparser2';
import { DOMParser } from 'linkedom';
import { SapphireError } from '../core/errors.ts';
import { type OffsetMap, OffsetMapBuilder } from './offset-map.ts';

/** Plain text extracted from an HTML page, with a map from every text character back to the source HTML. */
export interface HtmlText {
  text: string;
  map: OffsetMap;
  title?: string;
  /**
   * `extraction` is `readability` (main content), `body` (Readability found nothing; whole body used,
   * `fallbackReason` says why) or `full` (main-content extraction switched off); plus Readability's
   * byline, excerpt, siteName, lang, dir and publishedTime when it ran. `boilerplateRemoved` counts the
   * consent banners and dialogs dropped before Readability ran; `titleHeading` is `prepended` when the page's
   * title heading (which Readability drops as a duplicate of the title) was put back at the start of the text.
   */
  metadata: Record<string, string | undefined>;
}

/** Options of {@link htmlToText}. */
export interface HtmlToTextOptions {
  /** Keep only the main content as chosen by Mozilla Readability (default true). */
  mainContent?: boolean;
}

/** A span to highlight in the source page, in offsets into the extracted text. */
export interface HighlightSpan {
  start: number;
  end: number;
  label: string;
  score?: number;
}

/** An element carrying a label attribute, located in the source HTML. */
export interface LabelledElement {
  label: string;
  /** Source range of the whole element, start tag to end tag. */
  start: number;
  end: number;
  /** 1-based line and column of the start tag. */
  line: number;
  column: number;
  tagName: string;
  /** The element's text, whitespace collapsed. */
  text: string;
  /** Whether the element is hidden or inside non-text content (script, style, svg, …), so it never has text. */
  hidden: boolean;
}

// ---------------------------------------------------------------------------------------------
// Source tree with positions

interface SourceElement {
  kind: 'element';
  idx: number;
  name: string;
  attribs: Record<string, string>;
  start: number;
  /** End of the start tag. */
  openEnd: number;
  end: number;
  parent: SourceElement | undefined;
  children: SourceNode[];
}

interface SourceText {
  kind: 'text';
  data: string;
  start: number;
  end: number;
  /** Whether `data` equals the source slice character for character (false for a decoded entity). */
  copy: boolean;
  parent: SourceElement;
  /** Characters kept by main-content extraction; undefined means all of them. */
  keep?: Uint8Array;
}

interface SourceComment {
  kind: 'comment';
  data: string;
}

type SourceNode = SourceElement | SourceText | SourceComment;

interface SourceTree {
  root: SourceElement;
  elements: SourceElement[];
}

function parseSource(html: string): SourceTree {
  const root: SourceElement = {
    kind: 'element',
    idx: -1,
    name: '#root',
    attribs: {},
    start: 0,
    openEnd: 0,
    end: html.length,
    parent: undefined,
    children: [],
  };
  const elements: SourceElement[] = [];
  let current = root;
  let ending = false;
  const parser: Parser = new Parser(
    {
      onopentag(name, attribs) {
        const start = parser.startIndex;
        const el: SourceElement = {
          kind: 'element',
          idx: elements.length,
          name,
          attribs,
          start,
          openEnd: parser.endIndex + 1,
          end: parser.endIndex + 1,
          parent: current,
          children: [],
        };
        elements.push(el);
        current.children.push(el);
        current = el;
      },
      onclosetag(_name, isImplied) {
        const el = current;
        if (el === root) return;
        if (ending) el.end = html.length;
        else if (!isImplied || el.openEnd === parser.endIndex + 1) el.end = parser.endIndex + 1;
        else el.end = Math.max(el.openEnd, parser.startIndex);
        current = el.parent ?? root;
      },
      ontext(data) {
        const start = parser.startIndex;
        const end = parser.endIndex + 1;
        const copy = end - start === data.length && html.startsWith(data, start);
        current.children.push({ kind: 'text', data, start, end, copy, parent: current });
      },
      oncomment(data) {
        current.children.push({ kind: 'comment', data });
      },
    },
    { decodeEntities: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  ending = true;
  parser.end();
  return { root, elements };
}

// ---------------------------------------------------------------------------------------------
// What counts as text and where lines break

const SKIPPED = new Set([
  'head',
  'title',
  'script',
  'style',
  'noscript',
  'template',
  'meta',
  'link',
  'base',
  'svg',
  'iframe',
  'object',
  'embed',
  'canvas',
  'audio',
  'video',
  'textarea',
  'select',
  'datalist',
]);
const PARAGRAPH = new Set(
  (
    'p h1 h2 h3 h4 h5 h6 blockquote pre ul ol dl table figure hr address article aside header footer ' +
    'main nav section form fieldset details center hgroup menu dialog'
  ).split(' '),
);
const LINE = new Set(
  'div li dt dd tr caption figcaption summary legend option optgroup body html thead tbody tfoot'.split(' '),
);
const CELL = new Set(['td', 'th']);
const PREFORMATTED = new Set(['pre', 'listing', 'plaintext', 'xmp']);
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'xmp']);
const VOID = new Set(
  'area base br col embed hr img input link meta param source track wbr keygen'.split(' '),
);
const HEAD_ONLY = new Set(['title', 'meta', 'link', 'base']);

function isHidden(el: SourceElement): boolean {
  const a = el.attribs;
  if (a.hidden !== undefined) return true;
  if (a['aria-hidden'] === 'true' && !(a.class ?? '').includes('fallback-image')) return true;
  const style = a.style;
  return style !== undefined && /(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\b/i.test(style);
}

function isSkipped(el: SourceElement): boolean {
  return SKIPPED.has(el.name) || isHidden(el);
}

/** Whether the element or one of its ancestors holds no visible text (script, svg, hidden, …). */
function insideSkipped(el: SourceElement | undefined): boolean {
  for (let e = el; e; e = e.parent) if (isSkipped(e)) return true;
  return false;
}

function isCollapsible(ch: string): boolean {
  return ch === ' ' || ch === '\n' || ch === '\t' || ch === '\r' || ch === '\f';
}

// ---------------------------------------------------------------------------------------------
// Text emission with the offset map

class TextEmitter {
  private readonly parts: string[] = [];
  private readonly builder = new OffsetMapBuilder();
  private pendingBreak = 0;
  private pendingSpace: { pos: number; len: number; ch: string } | undefined;
  private lastEnd = 0;
  private trailingNewlines = 0;

  /** Asks for `n` line breaks before the next text (block boundary). */
  block(n: number): void {
    if (n > this.pendingBreak) this.pendingBreak = n;
  }

  /** A `<br>`: one more line break. */
  lineBreak(): void {
    this.pendingBreak = Math.min(2, this.pendingBreak + 1);
  }

  /** A collapsible whitespace character at `pos` (or a separator with `len` 0). */
  space(pos: number, len: number, ch: string): void {
    this.pendingSpace ??= { pos, len, ch };
  }

  /** A separator between table cells. */
  cell(): void {
    this.pendingSpace ??= { pos: this.lastEnd, len: 0, ch: ' ' };
  }

  private flush(): void {
    if (this.builder.textLength > 0) {
      if (this.pendingBreak > 0) {
        const n = Math.max(0, this.pendingBreak - this.trailingNewlines);
        if (n > 0) this.append('\n'.repeat(n), this.lastEnd, 0, false);
      } else if (this.pendingSpace) {
        const s = this.pendingSpace;
        if (s.ch === ' ' && s.len > 0) this.append(' ', s.pos, s.len, true);
        else this.append(' ', s.len > 0 ? s.pos : this.lastEnd, 0, false);
      }
    }
    this.pendingBreak = 0;
    this.pendingSpace = undefined;
  }

  /** Emits `text` taken from source `[pos, pos + len)`; `len === 0` marks it synthetic. */
  private append(text: string, pos: number, len: number, real: boolean): void {
    this.parts.push(text);
    if (!real || len === 0) this.builder.synthetic(pos, text.length);
    else if (len === text.length) this.builder.copy(pos, len);
    else this.builder.atomic(pos, len, text.length);
    if (real) this.lastEnd = pos + len;
    let k = text.length;
    while (k > 0 && text[k - 1] === '\n') k--;
    this.trailingNewlines = k === 0 ? this.trailingNewlines + text.length : text.length - k;
  }

  /** Emits visible text from the source, flushing pending separators first. */
  text(text: string, pos: number, len: number): void {
    this.flush();
    this.append(text, pos, len, true);
  }

  finish(sourceLength: number): { text: string; map: OffsetMap } {
    return { text: this.parts.join(''), map: this.builder.build(sourceLength) };
  }
}

/** Emits one text piece, collapsing whitespace unless inside preformatted content. */
function emitPiece(out: TextEmitter, piece: SourceText, pre: boolean, skipLeadingNewline: boolean): void {
  const keep = piece.keep;
  if (!piece.copy) {
    if (keep?.some((k) => k === 0)) return;
    if (!pre && piece.data.length === 1 && isCollapsible(piece.data)) {
      out.space(piece.start, piece.end - piece.start, piece.data);
    } else {
      out.text(piece.data, piece.start, piece.end - piece.start);
    }
    return;
  }
  const data = piece.data;
  let i = 0;
  if (skipLeadingNewline) {
    if (data.startsWith('\r\n')) i = 2;
    else if (data[0] === '\n' || data[0] === '\r') i = 1;
  }
  // Emit runs of non-collapsible characters in one call to keep the map compact.
  while (i < data.length) {
    if (keep && keep[i] === 0) {
      i++;
      continue;
    }
    const ch = data[i]!;
    if (!pre && isCollapsible(ch)) {
      out.space(piece.start + i, 1, ch);
      i++;
      continue;
    }
    let j = i + 1;
    while (j < data.length && (pre || !isCollapsible(data[j]!)) && !(keep && keep[j] === 0)) j++;
    out.text(data.slice(i, j), piece.start + i, j - i);
    i = j;
  }
}

/** Walks `from` in document order (iteratively: pages can nest deeply) and emits its visible text. */
function emitText(from: SourceElement, out: TextEmitter, mainOnly: boolean): void {
  type Frame = { el: SourceElement; i: number };
  const stack: Frame[] = [{ el: from, i: 0 }];
  let preDepth = 0;
  let lastPreOpenEnd = -1;
  const enter = (el: SourceElement): boolean => {
    if (isSkipped(el)) return false;
    if (el.name === 'br') {
      out.lineBreak();
      return false;
    }
    if (PARAGRAPH.has(el.name)) out.block(2);
    else if (LINE.has(el.name)) out.block(1);
    else if (CELL.has(el.name)) out.cell();
    if (PREFORMATTED.has(el.name)) {
      preDepth++;
      lastPreOpenEnd = el.openEnd;
    }
    return true;
  };
  const exit = (el: SourceElement): void => {
    if (PARAGRAPH.has(el.name)) out.block(2);
    else if (LINE.has(el.name)) out.block(1);
    else if (CELL.has(el.name)) out.cell();
    if (PREFORMATTED.has(el.name)) preDepth--;
  };
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const node = top.el.children[top.i++];
    if (node === undefined) {
      stack.pop();
      if (top.el !== from) exit(top.el);
      continue;
    }
    if (node.kind === 'element') {
      if (enter(node)) stack.push({ el: node, i: 0 });
    } else if (node.kind === 'text') {
      if (mainOnly && node.keep === undefined) continue;
      const pre = preDepth > 0;
      emitPiece(out, node, pre, pre && node.start === lastPreOpenEnd);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Boilerplate dropped before Readability, and the title heading Readability drops

const BOILERPLATE_NAME = /cookie|consent|gdpr|newsletter-popup/i;
const BOILERPLATE_ROLE = new Set(['dialog', 'alertdialog']);
/** Elements never treated as boilerplate, whatever their class says (`<body class="cookie-consent-given">`). */
const NEVER_BOILERPLATE = new Set(['#root', 'html', 'head', 'body', 'main', 'article']);

function looksLikeBoilerplate(el: SourceElement): boolean {
  const a = el.attribs;
  if (NEVER_BOILERPLATE.has(el.name) || a.role?.toLowerCase().trim() === 'main') return false;
  if (a.role !== undefined && BOILERPLATE_ROLE.has(a.role.toLowerCase().trim())) return true;
  return [a.class, a.id, a['aria-label']].some((v) => v !== undefined && BOILERPLATE_NAME.test(v));
}

/**
 * Flags (1) the elements inside consent banners, cookie notices and dialogs, which Readability would
 * otherwise keep on short pages; an element holding more than half of the page's text is never flagged.
 * Returns the flags and the number of outermost elements flagged.
 */
function markBoilerplate(tree: SourceTree): { dropped: Uint8Array; count: number } {
  const n = tree.elements.length;
  const dropped = new Uint8Array(n);
  const candidates = tree.elements.filter(looksLikeBoilerplate);
  if (candidates.length === 0) return { dropped, count: 0 };
  // Visible text per element; children come after their parent in `elements`, so sum up in reverse.
  const textLength = new Float64Array(n);
  let total = 0;
  const own = (el: SourceElement): number => {
    let k = 0;
    for (const c of el.children) if (c.kind === 'text') k += c.data.replace(/\s+/g, '').length;
    return k;
  };
  for (let i = n - 1; i >= 0; i--) {
    const el = tree.elements[i]!;
    if (isSkipped(el)) continue;
    textLength[i] = textLength[i]! + own(el);
    const up = el.parent?.idx ?? -1;
    if (up >= 0) textLength[up] = textLength[up]! + textLength[i]!;
    else total += textLength[i]!;
  }
  total += own(tree.root);
  let count = 0;
  const flagged = new Set(candidates.filter((el) => textLength[el.idx]! <= total / 2).map((el) => el.idx));
  for (const el of tree.elements) {
    const up = el.parent && el.parent.idx >= 0 ? dropped[el.parent.idx]! : 0;
    if (up === 1) dropped[el.idx] = 1;
    else if (flagged.has(el.idx)) {
      dropped[el.idx] = 1;
      count++;
    }
  }
  return { dropped, count };
}

/** Lower-cased letters and digits separated by single spaces, for comparing titles. */
function normaliseTitle(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/**
 * Readability's own test for a heading that duplicates the title (`_textSimilarity`): the share of the
 * heading's word characters that also appear among the title's words.
 */
function titleSimilarity(title: string, heading: string): number {
  const tokensA = title.toLowerCase().split(/\W+/).filter(Boolean);
  const tokensB = heading.toLowerCase().split(/\W+/).filter(Boolean);
  if (tokensA.length === 0 || tokensB.length === 0) return 0;
  const uniqB = tokensB.filter((t) => !tokensA.includes(t));
  return 1 - uniqB.join(' ').length / tokensB.join(' ').length;
}

/** The share of the characters of `words` (joined by spaces) taken by words that also occur in `other`. */
function coverage(words: string[], other: string[]): number {
  const total = words.join(' ').length;
  if (total === 0) return 0;
  return 1 - words.filter((w) => !other.includes(w)).join(' ').length / total;
}

/** The `content` of every `<meta name|property="…">` with this name (case-insensitive), in document order. */
function metaContentsOf(tree: SourceTree, name: string): string[] {
  const want = name.toLowerCase();
  const found: string[] = [];
  for (const el of tree.elements) {
    if (el.name !== 'meta' || el.attribs.content === undefined) continue;
    const key = el.attribs.name ?? el.attribs.property ?? el.attribs.itemprop;
    if (key !== undefined && key.trim().toLowerCase() === want) found.push(el.attribs.content);
  }
  return found;
}

/** The ways a page states its title: Readability's, og:title, and `<title>` with and without a " | Site" suffix. */
function titleForms(tree: SourceTree, readabilityTitle: string | undefined): Set<string> {
  const forms = new Set<string>();
  const add = (t: string | undefined): void => {
    const n = t === undefined ? '' : normaliseTitle(t);
    if (n !== '') forms.add(n);
  };
  add(readabilityTitle);
  for (const t of metaContentsOf(tree, 'og:title')) add(t);
  for (const t of metaContentsOf(tree, 'twitter:title')) add(t);
  const titleEl = tree.elements.find((el) => el.name === 'title');
  if (titleEl) {
    const full = collapse(textOf(titleEl));
    add(full);
    // "Product name | Shop" or "Product name - Shop": the part before the last separator.
    const cut = full.match(/^(.*\S)\s+[|\-–—·»]\s+\S.*$/);
    if (cut) add(cut[1]);
  }
  return forms;
}

/** The visible text of an element (hidden parts and scripts left out), whitespace collapsed. */
function visibleTextOf(el: SourceElement): string {
  const parts: string[] = [];
  const stack: SourceNode[] = [el];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.kind === 'text') parts.push(n.data);
    else if (n.kind === 'element' && (n === el || !isSkipped(n)))
      for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
  return collapse(parts.join(''));
}

function textPiecesOf(el: SourceElement): SourceText[] {
  const pieces: SourceText[] = [];
  const stack: SourceNode[] = [el];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.kind === 'text') pieces.push(n);
    else if (n.kind === 'element') for (const c of n.children) stack.push(c);
  }
  return pieces;
}

const keepsText = (piece: SourceText): boolean => {
  const keep = piece.keep;
  if (keep === undefined) return false;
  for (let i = 0; i < keep.length; i++) if (keep[i] === 1 && !isCollapsible(piece.data[i]!)) return true;
  return false;
};

/**
 * The heading that repeats the page title (the first matching `<h1>`, else a matching `<h2>` before the
 * main content) when main-content extraction dropped all of its text; undefined otherwise. A heading
 * matches when its normalised text equals a form of the title, or when it passes Readability's own
 * duplicate-title test (which is why Readability dropped it).
 */
function droppedTitleHeading(
  tree: SourceTree,
  dropped: Uint8Array,
  readabilityTitle: string | undefined,
): SourceElement | undefined {
  const titles = titleForms(tree, readabilityTitle);
  if (titles.size === 0) return undefined;
  let contentStart = Number.POSITIVE_INFINITY;
  for (const el of tree.elements)
    for (const c of el.children)
      if (c.kind === 'text' && c.start < contentStart && keepsText(c)) contentStart = c.start;
  const h1s: SourceElement[] = [];
  const before: SourceElement[] = [];
  for (const el of tree.elements) {
    if ((el.name !== 'h1' && el.name !== 'h2') || dropped[el.idx] === 1 || insideSkipped(el)) continue;
    if (el.name === 'h1') h1s.push(el);
    if (el.start < contentStart) before.push(el);
  }
  const texts = new Map<SourceElement, string>();
  const textOfHeading = (el: SourceElement): string => {
    const known = texts.get(el);
    if (known !== undefined) return known;
    const text = visibleTextOf(el);
    texts.set(el, text);
    return text;
  };
  const equal = (el: SourceElement): boolean => titles.has(normaliseTitle(textOfHeading(el)));
  // Readability's test alone also passes for a short heading inside a long title (a site name), so the
  // heading must also cover most of one of the title's forms.
  const similar = (el: SourceElement): boolean => {
    const text = textOfHeading(el);
    if (readabilityTitle === undefined || titleSimilarity(readabilityTitle, text) <= 0.75) return false;
    const words = normaliseTitle(text).split(' ');
    return [...titles].some((t) => coverage(t.split(' '), words) > 0.5);
  };
  const heading = h1s.find(equal) ?? before.find(equal) ?? h1s.find(similar) ?? before.find(similar);
  if (!heading || textPiecesOf(heading).some(keepsText)) return undefined;
  return heading;
}

// ---------------------------------------------------------------------------------------------
// Main content by Readability, aligned back to the source tree

const IDX_ATTR = 'data-sapphire-idx';

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Escapes text for use in HTML content or a double-quoted attribute value.
 *
 * @example
 * escapeHtml('Fish & "chips"'); // 'Fish &amp; &quot;chips&quot;'
 */
export function escapeHtml(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Serialises the source tree as a well-formed document whose elements carry their source index. */
function taggedMarkup(tree: SourceTree, dropped: Uint8Array): string {
  const out: string[] = [];
  const openTag = (el: SourceElement): string => {
    let s = `<${el.name}`;
    for (const [k, v] of Object.entries(el.attribs)) {
      if (k === IDX_ATTR || !/^[^\s"'<>/=]+$/.test(k)) continue;
      s += ` ${k}="${v.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"`;
    }
    return `${s} ${IDX_ATTR}="${el.idx}">`;
  };
  // Iterative: malformed pages (thousands of unclosed tags) nest deeper than the call stack allows.
  type Task = { node: SourceNode; raw: boolean } | string;
  const writeAll = (nodes: SourceNode[], raw: boolean): void => {
    const tasks: Task[] = nodes.map((node) => ({ node, raw })).reverse();
    while (tasks.length > 0) {
      const task = tasks.pop()!;
      if (typeof task === 'string') {
        out.push(task);
        continue;
      }
      const { node } = task;
      if (node.kind === 'element' && dropped[node.idx] === 1) continue;
      if (node.kind === 'text') out.push(task.raw ? node.data : escapeText(node.data));
      else if (node.kind === 'comment') out.push(`<!--${node.data.replace(/-->/g, '-- >')}-->`);
      else {
        out.push(openTag(node));
        if (VOID.has(node.name)) continue;
        tasks.push(`</${node.name}>`);
        const rawKids = RAW_TEXT.has(node.name);
        for (let i = node.children.length - 1; i >= 0; i--)
          tasks.push({ node: node.children[i]!, raw: rawKids });
      }
    }
  };
  const write = (node: SourceNode, raw: boolean): void => writeAll([node], raw);
  const writeChildren = (el: SourceElement): void => writeAll(el.children, RAW_TEXT.has(el.name));

  const top = tree.root.children;
  const htmlEl = top.find((n): n is SourceElement => n.kind === 'element' && n.name === 'html');
  const nodes = htmlEl
    ? [...top.filter((n) => n !== htmlEl && n.kind !== 'comment'), ...htmlEl.children]
    : top;
  const headEl = nodes.find((n): n is SourceElement => n.kind === 'element' && n.name === 'head');
  const bodyEl = nodes.find((n): n is SourceElement => n.kind === 'element' && n.name === 'body');
  out.push('<!DOCTYPE html>', htmlEl ? openTag(htmlEl) : '<html>', headEl ? openTag(headEl) : '<head>');
  if (headEl) writeChildren(headEl);
  for (const n of nodes) if (n.kind === 'element' && HEAD_ONLY.has(n.name)) write(n, false);
  out.push('</head>', bodyEl ? openTag(bodyEl) : '<body>');
  for (const n of nodes) {
    if (n === headEl || (n.kind === 'element' && HEAD_ONLY.has(n.name))) continue;
    if (n === bodyEl) writeChildren(bodyEl);
    else write(n, false);
  }
  out.push('</body></html>');
  return out.join('');
}

interface DomNode {
  nodeType: number;
  parentNode: DomNode | null;
  childNodes: ArrayLike<DomNode>;
  getAttribute?: (name: string) => string | null;
  data?: string;
}

interface ReadabilityResult {
  title?: string;
  metadata: Record<string, string | undefined>;
  keptAny: boolean;
  /** The dropped title heading to put back at the start of the text. */
  titleHeading?: SourceElement;
}

/**
 * Runs Readability (after dropping consent banners and dialogs) and marks the source text it kept
 * (`keep` on each kept piece).
 */
function markMainContent(tree: SourceTree): ReadabilityResult | string {
  const { dropped, count: boilerplate } = markBoilerplate(tree);
  const doc = new DOMParser().parseFromString(taggedMarkup(tree, dropped), 'text/html');
  let article: ReturnType<Readability<DomNode>['parse']>;
  try {
    article = new Readability<DomNode>(doc as unknown as Document, {
      serializer: (node) => node as unknown as DomNode,
    }).parse();
  } catch (e) {
    return `Readability failed: ${(e as Error).message}`;
  }
  const content = article?.content;
  if (!article || !content) return 'Readability found no main content';

  // Which source elements survived, and the output text nodes under each nearest surviving element.
  const outputTexts: { anchor: number; data: string }[] = [];
  const kept = new Set<number>();
  const walk: { node: DomNode; anchor: number }[] = [{ node: content, anchor: -1 }];
  while (walk.length > 0) {
    const { node, anchor } = walk.pop()!;
    let a = anchor;
    if (node.nodeType === 1) {
      const raw = node.getAttribute?.(IDX_ATTR);
      if (raw != null) {
        a = Number(raw);
        kept.add(a);
      }
      const kids = node.childNodes;
      for (let i = kids.length - 1; i >= 0; i--) walk.push({ node: kids[i]!, anchor: a });
    } else if (node.nodeType === 3 && node.data !== undefined && /\S/.test(node.data)) {
      outputTexts.push({ anchor: a, data: node.data });
    }
  }

  // Group the visible source text by its nearest surviving ancestor, in document order.
  interface Group {
    pieces: SourceText[];
    starts: number[];
    parts: string[];
    str: string;
    mask: Uint8Array;
    cursor: number;
    matched: boolean;
  }
  const groups = new Map<number, Group>();
  // Nearest surviving ancestor of every element; parents come before children in `elements`.
  const anchors = new Int32Array(tree.elements.length);
  for (const el of tree.elements) {
    const up = el.parent && el.parent.idx >= 0 ? anchors[el.parent.idx]! : -1;
    anchors[el.idx] = kept.has(el.idx) ? el.idx : up;
  }
  const anchorOf = (el: SourceElement): number => (el.idx >= 0 ? anchors[el.idx]! : -1);
  const stack: SourceElement[] = [tree.root];
  const order: SourceText[] = [];
  while (stack.length > 0) {
    const el = stack.pop()!;
    for (let i = el.children.length - 1; i >= 0; i--) {
      const c = el.children[i]!;
      if (c.kind === 'element' && !isSkipped(c) && dropped[c.idx] === 0) stack.push(c);
    }
    // Text children in order (stack order does not matter for grouping: pieces are sorted below).
    for (const c of el.children) if (c.kind === 'text') order.push(c);
  }
  order.sort((x, y) => x.start - y.start);
  for (const piece of order) {
    const a = anchorOf(piece.parent);
    let g = groups.get(a);
    if (!g) {
      g = { pieces: [], starts: [], parts: [], str: '', mask: new Uint8Array(0), cursor: 0, matched: false };
      groups.set(a, g);
    }
    g.pieces.push(piece);
    g.parts.push(piece.data);
  }
  for (const g of groups.values()) {
    let n = 0;
    for (let i = 0; i < g.pieces.length; i++) {
      g.starts.push(n);
      n += g.parts[i]!.length;
    }
    g.str = g.parts.join('');
    g.mask = new Uint8Array(n);
  }

  let misses = 0;
  for (const t of outputTexts) {
    const g = groups.get(t.anchor);
    let at = g ? g.str.indexOf(t.data, g.cursor) : -1;
    let len = t.data.length;
    if (g && at < 0) {
      const trimmed = t.data.trim();
      at = g.str.indexOf(trimmed, g.cursor);
      len = trimmed.length;
    }
    if (!g || at < 0) {
      if (!insideSkipped(tree.elements[t.anchor])) misses++;
      continue;
    }
    g.mask.fill(1, at, at + len);
    g.cursor = at + len;
    g.matched = true;
  }

  let keptAny = false;
  for (const [anchor, g] of groups) {
    // Whitespace between kept elements survives with its surviving parent.
    if (!g.matched && anchor === -1) continue;
    g.pieces.forEach((piece, i) => {
      const from = g.starts[i]!;
      const mask = g.mask.subarray(from, from + piece.data.length);
      const whitespaceOnly = !/\S/.test(piece.data);
      if (whitespaceOnly) {
        piece.keep = new Uint8Array(piece.data.length).fill(1);
      } else if (mask.some((k) => k === 1)) {
        piece.keep = mask;
        keptAny = true;
      }
    });
  }
  const metadata: Record<string, string | undefined> = {
    extraction: 'readability',
    byline: article.byline ?? undefined,
    excerpt: article.excerpt ?? undefined,
    siteName: article.siteName ?? undefined,
    lang: article.lang ?? undefined,
    dir: article.dir ?? undefined,
    publishedTime: article.publishedTime ?? undefined,
  };
  if (misses > 0) metadata.unalignedTextNodes = String(misses);
  if (boilerplate > 0) metadata.boilerplateRemoved = String(boilerplate);
  const title = article.title ?? undefined;
  const titleHeading = keptAny ? droppedTitleHeading(tree, dropped, title) : undefined;
  if (titleHeading) {
    metadata.titleHeading = 'prepended';
    // Its text is emitted first, whole; none of it (not even whitespace) is emitted again in place.
    for (const piece of textPiecesOf(titleHeading)) piece.keep = undefined;
  }
  return { title, metadata, keptAny, titleHeading };
}

// ---------------------------------------------------------------------------------------------
// Public API

function collapse(s: string): string {
  return s.replace(/[ \t\n\r\f]+/g, ' ').trim();
}

function findElement(from: SourceElement, name: string, skip: Set<string>): SourceElement | undefined {
  const stack: SourceElement[] = [from];
  while (stack.length > 0) {
    const el = stack.pop()!;
    for (let i = el.children.length - 1; i >= 0; i--) {
      const c = el.children[i]!;
      if (c.kind !== 'element' || skip.has(c.name)) continue;
      if (c.name === name) return c;
      stack.push(c);
    }
  }
  return undefined;
}

function textOf(el: SourceElement): string {
  const parts: string[] = [];
  const stack: SourceNode[] = [el];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.kind === 'text') parts.push(n.data);
    else if (n.kind === 'element')
      for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
  return parts.join('');
}

/**
 * Extracts readable plain text from an HTML page (by default only the main content, chosen by
 * Mozilla Readability) with a map from every text character back to the source HTML. In main-content
 * mode, consent banners and dialogs are dropped before Readability runs, and the heading repeating the
 * page title, which Readability drops, is put back first (with its real source offsets).
 *
 * @example
 * const { text, map } = htmlToText('<p>Fish &amp; chips</p>', { mainContent: false });
 * text; // 'Fish & chips'
 * map.toSourceRange(5, 6); // [8, 13], the `&amp;`
 */
export function htmlToText(html: string, options: HtmlToTextOptions = {}): HtmlText {
  if (typeof html !== 'string') {
    throw new SapphireError('BAD_INPUT', `htmlToText expects a string, got ${typeof html}`, {
      hint: 'decode the page to a string first (e.g. with readUtf8)',
    });
  }
  const mainContent = options.mainContent ?? true;
  const tree = parseSource(html);
  const titleEl = findElement(tree.root, 'title', new Set(['svg', 'math']));
  let title = titleEl ? collapse(textOf(titleEl)) || undefined : undefined;
  let metadata: Record<string, string | undefined> = { extraction: 'full' };

  const out = new TextEmitter();
  if (mainContent) {
    const result = markMainContent(tree);
    if (typeof result !== 'string' && result.keptAny) {
      title = result.title ? collapse(result.title) || title : title;
      metadata = result.metadata;
      if (result.titleHeading) {
        emitText(result.titleHeading, out, false);
        out.block(2);
      }
      emitText(tree.root, out, true);
      const done = out.finish(html.length);
      return { ...done, title, metadata };
    }
    // Forget any partial marks and fall back to the whole body.
    for (const el of [tree.root, ...tree.elements]) {
      for (const c of el.children) if (c.kind === 'text') c.keep = undefined;
    }
    metadata = {
      extraction: 'body',
      fallbackReason: typeof result === 'string' ? result : 'Readability kept no text of the page',
    };
  }
  const body = findElement(tree.root, 'body', new Set()) ?? tree.root;
  emitText(body, out, false);
  return { ...out.finish(html.length), title, metadata };
}

/**
 * Returns the `content` of every `<meta name="…">` (or `property="…"`) tag called `name`, compared
 * case-insensitively, in document order.
 *
 * @example
 * findMetaContent('<meta name="sapphire:label" content="shoes">', 'sapphire:label'); // ['shoes']
 */
export function findMetaContent(html: string, name: string): string[] {
  if (name.trim() === '' || !html.toLowerCase().includes(name.trim().toLowerCase())) return [];
  return metaContentsOf(parseSource(html), name.trim());
}

/**
 * Finds the elements carrying `attribute` (e.g. `data-label="BRAND"`) with their source ranges, so they
 * can be turned into spans through an {@link OffsetMap}.
 */
export function findLabelledElements(html: string, attribute = 'data-label'): LabelledElement[] {
  const attr = attribute.toLowerCase();
  if (!html.toLowerCase().includes(attr)) return [];
  const tree = parseSource(html);
  const lineStarts = [0];
  for (let i = html.indexOf('\n'); i >= 0; i = html.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const found: LabelledElement[] = [];
  for (const el of tree.elements) {
    const label = el.attribs[attr];
    if (label === undefined || label.trim() === '') continue;
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= el.start) lo = mid;
      else hi = mid - 1;
    }
    found.push({
      label: label.trim(),
      start: el.start,
      end: el.end,
      line: lo + 1,
      column: el.start - lineStarts[lo]! + 1,
      tagName: el.name,
      text: collapse(textOf(el)),
      hidden: insideSkipped(el),
    });
  }
  return found;
}

/**
 * Returns the original page with each span (offsets into the text of `map`) wrapped in
 * `<mark class="sapphire-entity" data-label="…">`, split into several marks where it crosses tags.
 *
 * @example
 * const html = '<p>I love <b>Nike</b> shoes</p>';
 * const { map } = htmlToText(html, { mainContent: false });
 * highlightHtml(html, map, [{ start: 7, end: 11, label: 'BRAND' }]);
 * // '<p>I love <b><mark class="sapphire-entity" data-label="BRAND">Nike</mark></b> shoes</p>'
 */
export function highlightHtml(sourceHtml: string, map: OffsetMap, spans: HighlightSpan[]): string {
  if (map.sourceLength !== sourceHtml.length) {
    throw new SapphireError(
      'BAD_INPUT',
      `the offset map was made from a source of ${map.sourceLength} characters, this one has ${sourceHtml.length}`,
      { hint: 'pass the same HTML string that htmlToText() was given' },
    );
  }
  // Source intervals per span: real characters only, merged when nothing but text lies between them.
  type Interval = { start: number; end: number; span: number };
  const intervals: Interval[] = [];
  spans.forEach((span, k) => {
    if (!(Number.isInteger(span.start) && Number.isInteger(span.end) && span.start <= span.end)) {
      throw new SapphireError('BAD_INPUT', `span ${k} has invalid offsets [${span.start}, ${span.end})`, {
        path: `spans[${k}]`,
        hint: 'spans need integer offsets with start ≤ end into the extracted text',
      });
    }
    if (span.end > map.textLength) {
      throw new SapphireError(
        'BAD_INPUT',
        `span ${k} ends at ${span.end}, past the text (${map.textLength})`,
        {
          path: `spans[${k}]`,
          hint: 'use offsets into the text returned with this map',
        },
      );
    }
    let cur: Interval | undefined;
    for (const p of map.sourcePieces(span.start, span.end)) {
      if (p.synthetic || p.start === p.end) continue;
      if (cur && p.start >= cur.end && !/[<>]/.test(sourceHtml.slice(cur.end, p.start))) {
        cur.end = Math.max(cur.end, p.end);
        continue;
      }
      cur = { start: p.start, end: p.end, span: k };
      intervals.push(cur);
    }
  });
  if (intervals.length === 0) return sourceHtml;

  // Cut at every boundary so overlapping spans nest properly, then wrap each covered piece.
  const cuts = [...new Set(intervals.flatMap((i) => [i.start, i.end]))].sort((a, b) => a - b);
  intervals.sort((a, b) => a.start - b.start || b.end - a.end || a.span - b.span);
  const out: string[] = [];
  let pos = 0;
  let first = 0;
  let open: string | undefined;
  let openEnd = -1;
  for (let c = 0; c + 1 < cuts.length; c++) {
    const a = cuts[c]!;
    const b = cuts[c + 1]!;
    while (first < intervals.length && intervals[first]!.end <= a) first++;
    const covering: number[] = [];
    for (let i = first; i < intervals.length && intervals[i]!.start <= a; i++) {
      const iv = intervals[i]!;
      if (iv.end >= b && !covering.includes(iv.span)) covering.push(iv.span);
    }
    const key = covering.join(',');
    if (open !== undefined && (key !== open || openEnd !== a)) {
      out.push(sourceHtml.slice(pos, openEnd), '</mark>'.repeat(open.split(',').length));
      pos = openEnd;
      open = undefined;
    }
    if (covering.length === 0) continue;
    if (open === undefined) {
      out.push(sourceHtml.slice(pos, a));
      for (const k of covering) {
        const s = spans[k]!;
        const score = s.score === undefined ? '' : ` data-score="${escapeHtml(String(s.score))}"`;
        out.push(`<mark class="sapphire-entity" data-label="${escapeHtml(s.label)}"${score}>`);
      }
      pos = a;
      open = key;
    }
    openEnd = b;
  }
  if (open !== undefined) {
    out.push(sourceHtml.slice(pos, openEnd), '</mark>'.repeat(open.split(',').length));
    pos = openEnd;
  }
  out.push(sourceHtml.slice(pos));
  return out.join('');
}
