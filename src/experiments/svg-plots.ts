/**
 * Small, dependency-free SVG chart builders for reports: a learning curve with error bars, a dashed
 * fitted trend and a marked estimate, and grouped bars (per-label F1 per system). Each builder is a pure
 * function from plot data to an `<svg>` string with axes, ticks, axis labels, a legend and `<title>`
 * tooltips; every piece of text is XML-escaped, and nothing refers to an external resource.
 */
import { SapphireError } from '../core/errors.ts';

/** Colour-blind-safe series colours (Okabe & Ito), used in order and cycled. */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#F0E442',
  '#000000',
] as const;

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';
const AXIS_COLOR = '#444';
const GRID_COLOR = '#e5e5e5';
/** Rough width of one character at the 11px label size, for layout without measuring text. */
const CHAR_WIDTH = 6.2;

/**
 * Escapes text for XML and HTML content and attribute values (`& < > " '`).
 *
 * @example
 * escapeXml('F1 <b> & "c"'); // 'F1 &lt;b&gt; &amp; &quot;c&quot;'
 */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function badInput(message: string, hint: string): SapphireError {
  return new SapphireError('BAD_INPUT', message, { hint });
}

/** A coordinate with at most two decimals, for compact SVG. */
function n(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** Decimals that show every tick of a step without noise (step 0.05 → 2, step 5 → 0). */
export function tickDecimals(step: number): number {
  if (!(step > 0) || !Number.isFinite(step)) return 0;
  return Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
}

/**
 * A "nice" axis for values in [min, max]: a step of 1, 2 or 5 × 10^k giving about `target` intervals
 * (the nearest on a log scale),
 * the domain widened to whole steps, and the ticks on it (ends included).
 *
 * @example
 * niceAxis(0.62, 0.91); // { min: 0.6, max: 0.95, step: 0.05, ticks: [0.6, 0.65, …, 0.95] }
 */
export function niceAxis(
  min: number,
  max: number,
  target = 5,
): { min: number; max: number; step: number; ticks: number[] } {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw badInput(`an axis needs finite bounds with min ≤ max, got [${min}, ${max}]`, 'pass the data range');
  }
  if (max - min <= 1e-9 * Math.max(1, Math.abs(min), Math.abs(max))) {
    // A (nearly) single value: give it room on both sides.
    const pad = Math.abs(min) < 1e-6 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const rough = (max - min) / Math.max(1, target);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const normalized = rough / magnitude;
  // The nearest of 1, 2, 5, 10 on a log scale (as d3's ticks choose).
  const factor =
    normalized >= Math.sqrt(50) ? 10 : normalized >= Math.sqrt(10) ? 5 : normalized >= Math.sqrt(2) ? 2 : 1;
  const step = factor * magnitude;
  const decimals = tickDecimals(step);
  const round = (v: number) => Number(v.toFixed(decimals));
  const lo = round(Math.floor(min / step + 1e-9) * step);
  const hi = round(Math.ceil(max / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let i = 0; lo + i * step <= hi + step * 1e-6; i++) ticks.push(round(lo + i * step));
  return { min: lo, max: hi, step, ticks };
}

/** Formats a tick value (thousands separators for whole numbers, fixed decimals otherwise). */
function tickText(value: number, decimals: number): string {
  return decimals === 0 ? Math.round(value).toLocaleString('en-US') : value.toFixed(decimals);
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function svgOpen(frame: Frame, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${frame.width}" height="${frame.height}" ` +
    `viewBox="0 0 ${frame.width} ${frame.height}" role="img" aria-label="${escapeXml(title)}" ${FONT} font-size="11">` +
    `<title>${escapeXml(title)}</title>` +
    `<rect width="${frame.width}" height="${frame.height}" fill="#fff"/>` +
    `<text x="${frame.left}" y="18" font-size="13" font-weight="600" fill="#222">${escapeXml(title)}</text>`
  );
}

/** One legend entry: a swatch drawn at (x, y) plus its text. */
interface LegendItem {
  text: string;
  swatch: (x: number, y: number) => string;
}

/** Lays legend entries out left to right on one or more rows starting at (x, y); returns markup and rows used. */
function legend(
  items: readonly LegendItem[],
  x: number,
  y: number,
  maxWidth: number,
): { svg: string; rows: number } {
  let cx = x;
  let cy = y;
  let rows = items.length ? 1 : 0;
  const parts: string[] = [];
  for (const item of items) {
    const w = 22 + item.text.length * CHAR_WIDTH + 14;
    if (cx > x && cx + w > x + maxWidth) {
      cx = x;
      cy += 16;
      rows++;
    }
    parts.push(
      `<g class="legend-item">${item.swatch(cx, cy)}<text x="${n(cx + 22)}" y="${n(cy + 4)}" fill="#222">${escapeXml(item.text)}</text></g>`,
    );
    cx += w;
  }
  return { svg: `<g class="legend">${parts.join('')}</g>`, rows };
}

function yAxis(
  frame: Frame,
  axis: { ticks: number[]; step: number },
  y: (v: number) => number,
  label: string,
): string {
  const decimals = tickDecimals(axis.step);
  const parts = axis.ticks.map(
    (t) =>
      `<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${n(y(t))}" y2="${n(y(t))}" stroke="${GRID_COLOR}"/>` +
      `<line x1="${frame.left - 4}" x2="${frame.left}" y1="${n(y(t))}" y2="${n(y(t))}" stroke="${AXIS_COLOR}"/>` +
      `<text x="${frame.left - 7}" y="${n(y(t) + 3.5)}" text-anchor="end" fill="${AXIS_COLOR}">${escapeXml(tickText(t, decimals))}</text>`,
  );
  const mid = (frame.top + frame.height - frame.bottom) / 2;
  parts.push(
    `<line x1="${frame.left}" x2="${frame.left}" y1="${frame.top}" y2="${frame.height - frame.bottom}" stroke="${AXIS_COLOR}"/>`,
    `<text transform="translate(14 ${n(mid)}) rotate(-90)" text-anchor="middle" fill="#222">${escapeXml(label)}</text>`,
  );
  return `<g class="y-axis">${parts.join('')}</g>`;
}

function checkFinite(value: number, what: string): void {
  if (!Number.isFinite(value))
    throw badInput(`${what} is ${value}, not a finite number`, 'pass finite numbers to plot');
}

/** One measured point of a learning curve: mean score over seeds at a size, with its standard deviation. */
export interface CurvePlotPoint {
  x: number;
  mean: number;
  /** Standard deviation over seeds or folds (error bar ± std); 0 draws no bar. */
  std: number;
  /** Tooltip text (default: the values). */
  label?: string;
}

/** Input of {@link learningCurveSvg}. */
export interface LearningCurvePlot {
  title: string;
  xLabel: string;
  yLabel: string;
  points: readonly CurvePlotPoint[];
  /** A fitted trend drawn dashed through these points (sorted by x). */
  trend?: readonly { x: number; y: number }[];
  /** A marked estimate, e.g. the predicted score at twice the data. */
  marker?: { x: number; y: number; label: string };
  /** Logarithmic x axis (default: when all x > 0 and max/min ≥ 4). */
  logX?: boolean;
  /** Clamp the y axis to [0, 1] (default true: scores). */
  unitInterval?: boolean;
  width?: number;
  height?: number;
}

/**
 * A learning-curve chart: points with ±std error bars, the fitted trend dashed, an estimate marked with a
 * diamond and its label; a log x axis for sizes spanning a wide range; legend under the title.
 *
 * @example
 * learningCurveSvg({ title: 'Learning curve', xLabel: 'training examples', yLabel: 'macro F1',
 *   points: [{ x: 500, mean: 0.7, std: 0.02 }, { x: 1000, mean: 0.78, std: 0.01 }] });
 */
export function learningCurveSvg(plot: LearningCurvePlot): string {
  const points = [...plot.points].sort((a, b) => a.x - b.x);
  if (points.length === 0)
    throw badInput('a learning curve needs at least one point', 'pass measured points');
  for (const [i, p] of points.entries()) {
    checkFinite(p.x, `point ${i} x`);
    checkFinite(p.mean, `point ${i} mean`);
    checkFinite(p.std, `point ${i} std`);
  }
  const trend = [...(plot.trend ?? [])].filter((t) => Number.isFinite(t.x) && Number.isFinite(t.y));
  trend.sort((a, b) => a.x - b.x);
  const marker =
    plot.marker && Number.isFinite(plot.marker.x) && Number.isFinite(plot.marker.y) ? plot.marker : null;
  const xs = [...points.map((p) => p.x), ...trend.map((t) => t.x), ...(marker ? [marker.x] : [])];
  const ys = [
    ...points.flatMap((p) => [p.mean - p.std, p.mean + p.std]),
    ...trend.map((t) => t.y),
    ...(marker ? [marker.y] : []),
  ];
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const logX = plot.logX ?? (xMin > 0 && xMax / xMin >= 4);
  if (logX && xMin <= 0) throw badInput('a log x axis needs positive x values', 'pass logX: false');

  const frame: Frame = {
    width: plot.width ?? 640,
    height: plot.height ?? 380,
    left: 60,
    right: 24,
    top: 0,
    bottom: 46,
  };
  const legendItems: LegendItem[] = [
    {
      text: 'mean ± std',
      swatch: (x, y) =>
        `<line x1="${n(x + 8)}" x2="${n(x + 8)}" y1="${n(y - 5)}" y2="${n(y + 5)}" stroke="${PALETTE[0]}"/><circle cx="${n(x + 8)}" cy="${n(y)}" r="3.5" fill="${PALETTE[0]}"/>`,
    },
  ];
  if (trend.length > 1) {
    legendItems.push({
      text: 'fitted trend',
      swatch: (x, y) =>
        `<line x1="${n(x)}" x2="${n(x + 17)}" y1="${n(y)}" y2="${n(y)}" stroke="${PALETTE[1]}" stroke-width="2" stroke-dasharray="5 3"/>`,
    });
  }
  if (marker) {
    legendItems.push({ text: marker.label, swatch: (x, y) => diamond(x + 8, y, 5) });
  }
  const legendBlock = legend(legendItems, frame.left, 36, frame.width - frame.left - frame.right);
  frame.top = 36 + legendBlock.rows * 16;

  const unit = plot.unitInterval ?? true;
  let yLo = Math.min(...ys);
  let yHi = Math.max(...ys);
  const pad = Math.max((yHi - yLo) * 0.08, 0.005);
  yLo -= pad;
  yHi += pad;
  if (unit) {
    yLo = Math.max(0, yLo);
    yHi = Math.min(1, yHi);
    if (yLo >= yHi) [yLo, yHi] = [Math.max(0, yHi - 0.1), Math.min(1, yLo + 0.1)];
  }
  const yAxisSpec = niceAxis(yLo, yHi, 5);
  if (unit) {
    yAxisSpec.ticks = yAxisSpec.ticks.filter((t) => t >= 0 && t <= 1);
    yAxisSpec.min = Math.max(0, yAxisSpec.min);
    yAxisSpec.max = Math.min(1, yAxisSpec.max);
  }
  const plotBottom = frame.height - frame.bottom;
  const plotRight = frame.width - frame.right;
  const y = (v: number) =>
    plotBottom - ((v - yAxisSpec.min) / (yAxisSpec.max - yAxisSpec.min || 1)) * (plotBottom - frame.top);

  const toX = logX ? Math.log : (v: number) => v;
  let dLo = toX(xMin);
  let dHi = toX(xMax);
  const xPad = dHi > dLo ? (dHi - dLo) * 0.06 : logX ? 0.5 : Math.max(1, Math.abs(dLo) * 0.1);
  dLo -= xPad;
  dHi += xPad;
  const x = (v: number) => frame.left + ((toX(v) - dLo) / (dHi - dLo)) * (plotRight - frame.left);

  const xTickValues = logX
    ? [...new Set([...points.map((p) => p.x), ...(marker ? [marker.x] : [])])].sort((a, b) => a - b)
    : niceAxis(xMin, xMax, 6).ticks.filter((t) => toX(t) >= dLo && toX(t) <= dHi);
  const xDecimals = logX
    ? xTickValues.every(Number.isInteger)
      ? 0
      : 2
    : tickDecimals(niceAxis(xMin, xMax, 6).step);
  // Drop log ticks that would overlap their left neighbour.
  let lastX = Number.NEGATIVE_INFINITY;
  const xTicks: string[] = [];
  for (const t of xTickValues) {
    const text = tickText(t, xDecimals);
    const px = x(t);
    const show = px - lastX >= text.length * CHAR_WIDTH + 6;
    xTicks.push(
      `<line x1="${n(px)}" x2="${n(px)}" y1="${plotBottom}" y2="${plotBottom + 4}" stroke="${AXIS_COLOR}"/>` +
        (show
          ? `<text x="${n(px)}" y="${plotBottom + 16}" text-anchor="middle" fill="${AXIS_COLOR}">${escapeXml(text)}</text>`
          : ''),
    );
    if (show) lastX = px;
  }
  const xAxis =
    `<g class="x-axis"><line x1="${frame.left}" x2="${plotRight}" y1="${plotBottom}" y2="${plotBottom}" stroke="${AXIS_COLOR}"/>` +
    `${xTicks.join('')}<text x="${n((frame.left + plotRight) / 2)}" y="${frame.height - 8}" text-anchor="middle" fill="#222">${escapeXml(
      plot.xLabel + (logX ? ' (log scale)' : ''),
    )}</text></g>`;

  const parts: string[] = [
    svgOpen(frame, plot.title),
    legendBlock.svg,
    yAxis(frame, yAxisSpec, y, plot.yLabel),
    xAxis,
  ];
  if (trend.length > 1) {
    const d = trend.map((t, i) => `${i === 0 ? 'M' : 'L'}${n(x(t.x))} ${n(y(t.y))}`).join(' ');
    parts.push(
      `<path class="trend" d="${d}" fill="none" stroke="${PALETTE[1]}" stroke-width="2" stroke-dasharray="5 3"/>`,
    );
  }
  const pointMarks = points.map((p) => {
    const cx = x(p.x);
    const tip = p.label ?? `${p.x}: ${p.mean.toFixed(3)} ± ${p.std.toFixed(3)}`;
    const bar =
      p.std > 0
        ? `<line x1="${n(cx)}" x2="${n(cx)}" y1="${n(y(p.mean - p.std))}" y2="${n(y(p.mean + p.std))}" stroke="${PALETTE[0]}"/>` +
          `<line x1="${n(cx - 4)}" x2="${n(cx + 4)}" y1="${n(y(p.mean - p.std))}" y2="${n(y(p.mean - p.std))}" stroke="${PALETTE[0]}"/>` +
          `<line x1="${n(cx - 4)}" x2="${n(cx + 4)}" y1="${n(y(p.mean + p.std))}" y2="${n(y(p.mean + p.std))}" stroke="${PALETTE[0]}"/>`
        : '';
    return `<g class="point">${bar}<circle cx="${n(cx)}" cy="${n(y(p.mean))}" r="4" fill="${PALETTE[0]}"><title>${escapeXml(tip)}</title></circle></g>`;
  });
  parts.push(...pointMarks);
  if (marker) {
    const mx = x(marker.x);
    const my = y(marker.y);
    const nearRight = mx > plotRight - 120;
    parts.push(
      `<g class="estimate">${diamond(mx, my, 6)}<title>${escapeXml(marker.label)}</title>` +
        `<text x="${n(nearRight ? mx - 10 : mx + 10)}" y="${n(my - 10)}" text-anchor="${nearRight ? 'end' : 'start'}" fill="#222">${escapeXml(
          `${marker.label}: ${marker.y.toFixed(3)}`,
        )}</text></g>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

function diamond(cx: number, cy: number, r: number): string {
  return `<path d="M${n(cx)} ${n(cy - r)} L${n(cx + r)} ${n(cy)} L${n(cx)} ${n(cy + r)} L${n(cx - r)} ${n(cy)} Z" fill="#fff" stroke="${PALETTE[5]}" stroke-width="2"/>`;
}

/** One series of {@link groupedBarsSvg}: a value per category (null draws no bar). */
export interface BarSeries {
  name: string;
  values: readonly (number | null)[];
}

/** Input of {@link groupedBarsSvg}. */
export interface GroupedBarsPlot {
  title: string;
  yLabel: string;
  xLabel?: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  /** y axis range (default [0, 1]: scores). */
  yMin?: number;
  yMax?: number;
  height?: number;
}

/** Category labels longer than this are cut with `…` on the axis (the tooltip keeps them whole). */
const MAX_CATEGORY_CHARS = 22;

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * A grouped bar chart: one group per category (e.g. label), one bar per series (e.g. system) in palette
 * colours, a y grid, category labels (rotated when crowded) and a legend of the series.
 *
 * @example
 * groupedBarsSvg({ title: 'Per-label F1', yLabel: 'F1', categories: ['PER', 'ORG'],
 *   series: [{ name: 'crf', values: [0.9, 0.8] }, { name: 'rules', values: [0.7, null] }] });
 */
export function groupedBarsSvg(plot: GroupedBarsPlot): string {
  const { categories, series } = plot;
  if (categories.length === 0 || series.length === 0) {
    throw badInput(
      'a bar chart needs at least one category and one series',
      'pass labels and systems to plot',
    );
  }
  for (const s of series) {
    if (s.values.length !== categories.length) {
      throw badInput(
        `series "${s.name}" has ${s.values.length} values for ${categories.length} categories`,
        'give every series one value (or null) per category',
      );
    }
    s.values.forEach((v, i) => {
      if (v !== null) checkFinite(v, `series "${s.name}" value ${i}`);
    });
  }
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const yAxisSpec = niceAxis(plot.yMin ?? Math.min(0, ...values), plot.yMax ?? Math.max(1, ...values), 5);

  const barWidth = series.length > 6 ? 8 : 14;
  const groupGap = 18;
  const groupWidth = series.length * barWidth + groupGap;
  const longest = Math.max(...categories.map((c) => Math.min(c.length, MAX_CATEGORY_CHARS)));
  const rotate = longest * CHAR_WIDTH > groupWidth - 4;
  const frame: Frame = {
    width: 0,
    height: 0,
    left: 60,
    right: 20,
    top: 0,
    bottom: (rotate ? 20 + longest * CHAR_WIDTH * 0.7 : 36) + (plot.xLabel ? 16 : 0),
  };
  frame.width = Math.max(480, frame.left + frame.right + categories.length * groupWidth);
  const legendItems: LegendItem[] = series.map((s, i) => ({
    text: s.name,
    swatch: (x, y) =>
      `<rect x="${n(x)}" y="${n(y - 6)}" width="16" height="12" fill="${PALETTE[i % PALETTE.length]}"/>`,
  }));
  const legendBlock = legend(legendItems, frame.left, 36, frame.width - frame.left - frame.right);
  frame.top = 36 + legendBlock.rows * 16;
  frame.height = Math.round(frame.top + (plot.height ?? 240) + frame.bottom);
  const plotBottom = frame.height - frame.bottom;
  const plotRight = frame.width - frame.right;
  const y = (v: number) =>
    plotBottom - ((v - yAxisSpec.min) / (yAxisSpec.max - yAxisSpec.min || 1)) * (plotBottom - frame.top);
  const slot = (plotRight - frame.left) / categories.length;

  const parts: string[] = [
    svgOpen(frame, plot.title),
    legendBlock.svg,
    yAxis(frame, yAxisSpec, y, plot.yLabel),
  ];
  const zero = y(Math.max(yAxisSpec.min, Math.min(0, yAxisSpec.max)));
  categories.forEach((category, c) => {
    const start = frame.left + c * slot + (slot - series.length * barWidth) / 2;
    const bars = series.map((s, i) => {
      const v = s.values[c];
      if (v === null || v === undefined) return '';
      const top = Math.min(y(v), zero);
      const height = Math.abs(zero - y(v));
      return `<rect x="${n(start + i * barWidth)}" y="${n(top)}" width="${barWidth - 1}" height="${n(height)}" fill="${PALETTE[i % PALETTE.length]}"><title>${escapeXml(
        `${s.name} — ${category}: ${v.toFixed(3)}`,
      )}</title></rect>`;
    });
    const cx = frame.left + (c + 0.5) * slot;
    const text = escapeXml(shorten(category, MAX_CATEGORY_CHARS));
    const label = rotate
      ? `<text transform="translate(${n(cx + 3)} ${plotBottom + 12}) rotate(-35)" text-anchor="end" fill="${AXIS_COLOR}">${text}<title>${escapeXml(category)}</title></text>`
      : `<text x="${n(cx)}" y="${plotBottom + 16}" text-anchor="middle" fill="${AXIS_COLOR}">${text}<title>${escapeXml(category)}</title></text>`;
    parts.push(`<g class="category">${bars.join('')}${label}</g>`);
  });
  parts.push(
    `<line class="x-axis" x1="${frame.left}" x2="${plotRight}" y1="${n(zero)}" y2="${n(zero)}" stroke="${AXIS_COLOR}"/>`,
  );
  if (plot.xLabel) {
    parts.push(
      `<text x="${n((frame.left + plotRight) / 2)}" y="${frame.height - 8}" text-anchor="middle" fill="#222">${escapeXml(plot.xLabel)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}
