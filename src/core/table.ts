/** Column alignment in {@link renderTable}. */
export type Align = 'left' | 'right';

/** Options for {@link renderTable}. */
export interface TableOptions {
  /** Column headings; the table has as many columns as headings. */
  header: string[];
  /** Per-column alignment; defaults to right for columns whose cells all look numeric, else left. */
  align?: Align[];
  /** Optional line printed above the table. */
  title?: string;
  /** Per-column maximum display width; longer cells are cut with `…`. */
  maxWidth?: (number | undefined)[];
}

const COLUMN_GAP = '  ';
const NUMERIC_CELL = /^[-+]?[\d,.]+(%|[kKMG×x])?$|^[-–—]$/;
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const WIDE_RANGES: [number, number][] = [
  [0x1100, 0x115f],
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23ec],
  [0x23f0, 0x23f0],
  [0x23f3, 0x23f3],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x2648, 0x2653],
  [0x267f, 0x267f],
  [0x2693, 0x2693],
  [0x26a1, 0x26a1],
  [0x26aa, 0x26ab],
  [0x26bd, 0x26be],
  [0x26c4, 0x26c5],
  [0x26ce, 0x26ce],
  [0x26d4, 0x26d4],
  [0x26ea, 0x26ea],
  [0x26f2, 0x26f5],
  [0x26fa, 0x26fd],
  [0x2705, 0x2705],
  [0x270a, 0x270b],
  [0x2728, 0x2728],
  [0x274c, 0x274c],
  [0x2753, 0x2755],
  [0x2757, 0x2757],
  [0x2795, 0x2797],
  [0x27b0, 0x27b0],
  [0x27bf, 0x27bf],
  [0x2b1b, 0x2b1c],
  [0x2b50, 0x2b55],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f680, 0x1f6ff],
  [0x1f900, 0x1f9ff],
  [0x1fa70, 0x1faff],
  [0x20000, 0x3fffd],
];

function isWide(cp: number): boolean {
  if (cp < 0x1100) return false;
  for (const [lo, hi] of WIDE_RANGES) if (cp >= lo && cp <= hi) return true;
  return false;
}

/**
 * Number of terminal columns a string takes: East Asian wide characters and emoji count 2,
 * combining marks and control characters 0, everything else 1 (per grapheme cluster).
 */
export function displayWidth(text: string): number {
  // Fast path for plain ASCII.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let width = 0;
  for (const { segment } of segmenter.segment(text)) width += graphemeWidth(segment);
  return width;
}

function graphemeWidth(grapheme: string): number {
  const cp = grapheme.codePointAt(0)!;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (/^\p{M}/u.test(grapheme) || cp === 0x200b || cp === 0x200d) return 0;
  if (isWide(cp)) return 2;
  // Emoji presentation selector or a multi-codepoint emoji sequence (flags, ZWJ families).
  if (grapheme.includes('\ufe0f') && /\p{Extended_Pictographic}/u.test(grapheme)) return 2;
  if (/^\p{Regional_Indicator}{2}$/u.test(grapheme)) return 2;
  return 1;
}

/** Cuts a string to at most `width` display columns, ending with `…` when something was cut. */
export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  let out = '';
  let used = 0;
  for (const { segment } of segmenter.segment(text)) {
    const w = graphemeWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return `${out}…`;
}

/** Pads a string with spaces to `width` display columns, on the right (`left` align) or left. */
export function pad(text: string, width: number, align: Align = 'left'): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return align === 'left' ? text + fill : fill + text;
}

/** Formats an integer count with thousands separators: `3394` → `3,394` (locale-independent). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const sign = n < 0 ? '-' : '';
  const [int, frac] = Math.abs(n).toString().split('.');
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac !== undefined ? `${sign}${grouped}.${frac}` : `${sign}${grouped}`;
}

/** Formats a fraction as a percentage: `formatPercent(0.1234, 1)` → `12.3%`; non-finite gives `–`. */
export function formatPercent(x: number, digits = 1): string {
  if (!Number.isFinite(x)) return '–';
  return `${(x * 100).toFixed(digits)}%`;
}

function formatCell(cell: string | number): string {
  if (typeof cell === 'string') return cell;
  if (Number.isInteger(cell)) return formatCount(cell);
  if (!Number.isFinite(cell)) return String(cell);
  return formatCount(Number(cell.toFixed(3)));
}

/**
 * Renders rows as an aligned plain-text table (no colour codes): a header, a rule of `─`
 * and one line per row, columns separated by two spaces, trailing spaces trimmed.
 *
 * @example
 * renderTable([['PER', 1234], ['LOC', 88]], { header: ['label', 'count'] });
 * // label  count
 * // ─────  ─────
 * // PER    1,234
 * // LOC       88
 */
export function renderTable(rows: (string | number)[][], options: TableOptions): string {
  const { header } = options;
  const columns = header.length;
  const body = rows.map((row) =>
    Array.from({ length: columns }, (_, c) => {
      const text = row[c] === undefined ? '' : formatCell(row[c]!);
      const max = options.maxWidth?.[c];
      return max !== undefined ? truncate(text, max) : text;
    }),
  );
  const align: Align[] = header.map((_, c) => {
    const given = options.align?.[c];
    if (given) return given;
    const cells = rows.map((r) => r[c]).filter((v) => v !== undefined && v !== '');
    const numeric =
      cells.length > 0 && cells.every((v) => typeof v === 'number' || NUMERIC_CELL.test(String(v).trim()));
    return numeric ? 'right' : 'left';
  });
  const heads = header.map((h, c) => {
    const max = options.maxWidth?.[c];
    return max !== undefined ? truncate(h, max) : h;
  });
  const widths = heads.map((h, c) => Math.max(displayWidth(h), ...body.map((r) => displayWidth(r[c]!))));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => pad(cell, widths[c]!, align[c]))
      .join(COLUMN_GAP)
      .trimEnd();
  const lines: string[] = [];
  if (options.title) lines.push(options.title);
  lines.push(line(heads));
  lines.push(widths.map((w) => '─'.repeat(w)).join(COLUMN_GAP));
  for (const row of body) lines.push(line(row));
  return lines.join('\n');
}
