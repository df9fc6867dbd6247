/**
 * Renders a {@link Report} as a GitHub Markdown table, a LaTeX `table` (booktabs), RFC 4180 CSV, JSON or a
 * standalone HTML page (see `report-html.ts`). Cells are `mean ± std` over a row's runs, the best value of
 * each column is bold and the compared column carries the significance marker of each row against the
 * baseline.
 */
import { SapphireError } from '../core/errors.ts';
import {
  cellMarker,
  formatCell,
  legendText,
  pText,
  type Report,
  type ReportColumn,
  type ReportRow,
  rowTitle,
} from './report.ts';
import { renderHtmlReport } from './report-html.ts';

/** Output formats of {@link renderReport}. */
export const REPORT_FORMATS = ['md', 'latex', 'csv', 'json', 'html'] as const;

/** One of {@link REPORT_FORMATS}. */
export type ReportFormat = (typeof REPORT_FORMATS)[number];

// ---------------------------------------------------------------------------------------------------
// Markdown

/** Escapes Markdown table text: `\ | * ` [ ]`, and `<` where it could open an HTML tag; newlines become spaces. */
function mdEscape(text: string): string {
  return text.replace(/[\\|*`[\]]|<(?=[A-Za-z/!?])/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

function mdHeading(column: ReportColumn): string {
  return mdEscape(column.key) + (column.lowerIsBetter ? ' ↓' : '');
}

function renderMarkdown(report: Report): string {
  const lines: string[] = [`## ${mdEscape(report.title)}`, ''];
  if (report.rows.length === 0) {
    lines.push('_No finished runs._', '');
  } else {
    const header = ['Run', 'n', ...report.columns.map(mdHeading)];
    lines.push(`| ${header.join(' | ')} |`);
    lines.push(`|${[':--', '--:', ...report.columns.map(() => '--:')].join('|')}|`);
    report.rows.forEach((row, i) => {
      const cells = report.columns.map((column) => {
        const text = formatCell(column.key, row.cells[column.key] ?? null);
        const bold = column.best.includes(i) ? `**${text}**` : text;
        const marker = cellMarker(report, row, column);
        return marker ? `${bold}${mdEscape(marker)}` : bold;
      });
      let label = mdEscape(rowTitle(report, i));
      if (report.significance && !report.significance.column && row.significance?.marker) {
        label += mdEscape(row.significance.marker);
      }
      lines.push(`| ${[label, String(row.runs.length), ...cells].join(' | ')} |`);
    });
    lines.push('', mdEscape(legendText(report)), '');
    const compared = report.rows.flatMap((row, i) => (row.significance ? [[row, i] as const] : []));
    if (compared.length > 0) {
      lines.push('| Run | examples | Δ | 95% CI | p (bootstrap) | p (randomization) |');
      lines.push('|:--|--:|--:|--:|--:|--:|');
      for (const [row] of compared) {
        const s = row.significance!;
        lines.push(
          `| ${mdEscape(row.label)} | ${s.examples} | ${signed(s.delta)}${mdEscape(s.marker)} | [${signed(s.ci[0])}, ${signed(s.ci[1])}] | ${pText(s.pBootstrap)} | ${pText(s.pRandomization)} |`,
        );
      }
      lines.push('');
    }
  }
  for (const curve of report.curves) {
    if (!curve.doubling) continue;
    const d = curve.doubling;
    lines.push(
      `Learning curve ${mdEscape(curve.label)} (${mdEscape(curve.metric)}): doubling to ${d.size} examples ≈ ${d.predicted.toFixed(3)} (+${d.gain.toFixed(3)}).`,
      '',
    );
  }
  if (report.notes.length > 0) {
    lines.push('Notes:', '', ...report.notes.map((note) => `- ${mdEscape(note)}`), '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** A signed number with three decimals (`+0.021`, `-0.004`). */
function signed(value: number): string {
  const text = value.toFixed(3);
  return value >= 0 && !text.startsWith('-') ? `+${text}` : text.replace(/^-0\.000$/, '0.000');
}

// ---------------------------------------------------------------------------------------------------
// LaTeX

const LATEX_SPECIAL: Record<string, string> = {
  '\\': '\\textbackslash{}',
  _: '\\_',
  '%': '\\%',
  '&': '\\&',
  '#': '\\#',
  $: '\\$',
  '{': '\\{',
  '}': '\\}',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
  '<': '\\textless{}',
  '>': '\\textgreater{}',
  '|': '\\textbar{}',
  '±': '$\\pm$',
  '–': '--',
  '↓': '$\\downarrow$',
  Δ: '$\\Delta$',
};

/**
 * Escapes text for LaTeX (`\ _ % & # $ { } ~ ^ < > |`, and `±`, `–`, `↓`, `Δ` as their LaTeX forms).
 *
 * @example
 * latexEscape('dev.macro_f1 50% & up'); // 'dev.macro\\_f1 50\\% \\& up'
 */
export function latexEscape(text: string): string {
  return text.replace(/[\\_%&#${}~^<>|±–↓Δ]/g, (c) => LATEX_SPECIAL[c]!).replace(/\r?\n/g, ' ');
}

function latexCell(report: Report, row: ReportRow, index: number, column: ReportColumn): string {
  const summary = row.cells[column.key] ?? null;
  let text = summary ? latexEscape(formatCell(column.key, summary)) : '--';
  if (summary && column.best.includes(index)) text = `\\textbf{${text}}`;
  const marker = cellMarker(report, row, column);
  return marker ? `${text}$^{${marker}}$` : text;
}

function latexLabel(title: string): string {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `tab:${slug || 'results'}`;
}

function renderLatex(report: Report): string {
  const lines = [
    '% Generated by `sapphire report`. Needs \\usepackage{booktabs} in the preamble.',
    '\\begin{table}[htbp]',
    '\\centering',
    '\\small',
    `\\caption{${latexEscape(report.title)}}`,
    `\\label{${latexLabel(report.title)}}`,
    `\\begin{tabular}{l${'r'.repeat(report.columns.length + 1)}}`,
    '\\toprule',
    `${['Run', '$n$', ...report.columns.map((c) => latexEscape(c.key) + (c.lowerIsBetter ? ' $\\downarrow$' : ''))].join(' & ')} \\\\`,
    '\\midrule',
  ];
  report.rows.forEach((row, i) => {
    let label = latexEscape(rowTitle(report, i));
    if (report.significance && !report.significance.column && row.significance?.marker) {
      label += `$^{${row.significance.marker}}$`;
    }
    const cells = report.columns.map((column) => latexCell(report, row, i, column));
    lines.push(`${[label, String(row.runs.length), ...cells].join(' & ')} \\\\`);
  });
  lines.push('\\bottomrule', '\\end{tabular}');
  if (report.rows.length > 0) {
    const legend = latexEscape(legendText(report)).replace(/\*\*\*|\*\*|\*/g, (m) => `$^{${m}}$`);
    lines.push('\\par\\smallskip', `{\\footnotesize ${legend}\\par}`);
  }
  lines.push('\\end{table}');
  for (const note of report.notes) lines.push(`% note: ${note.replace(/\r?\n/g, ' ')}`);
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------
// CSV

/** Quotes a CSV field when it holds a comma, quote, CR or LF (RFC 4180). */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function csvNumber(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '' : String(value);
}

function renderCsv(report: Report): string {
  const header = [
    'row',
    'baseline',
    'n',
    'runs',
    ...report.columns.flatMap((c) => [`${c.key}_mean`, `${c.key}_std`]),
    'p_value',
    'p_bootstrap',
    'p_randomization',
    'delta',
    'ci_low',
    'ci_high',
    'marker',
  ];
  const records = [header];
  report.rows.forEach((row, i) => {
    const s = row.significance;
    records.push([
      row.label,
      i === report.baseline ? 'true' : 'false',
      String(row.runs.length),
      row.runs.join(' '),
      ...report.columns.flatMap((c) => {
        const summary = row.cells[c.key];
        return [csvNumber(summary?.mean), csvNumber(summary?.std)];
      }),
      csvNumber(s?.pValue),
      csvNumber(s?.pBootstrap),
      csvNumber(s?.pRandomization),
      csvNumber(s?.delta),
      csvNumber(s?.ci[0]),
      csvNumber(s?.ci[1]),
      s?.marker ?? '',
    ]);
  });
  return records.map((r) => `${r.map(csvField).join(',')}\r\n`).join('');
}

/**
 * Renders a report: `md` (GitHub table with legend and notes), `latex` (a booktabs `table` environment,
 * ready to paste; needs `\usepackage{booktabs}`), `csv` (RFC 4180: mean and std per metric, p-values),
 * `json` (the report object) or `html` (a standalone page with SVG plots).
 *
 * @example
 * const markdown = renderReport(await buildReport(store, runs, { task: 'ner', primary: 'span_f1_micro' }), 'md');
 */
export function renderReport(report: Report, format: ReportFormat): string {
  switch (format) {
    case 'md':
      return renderMarkdown(report);
    case 'latex':
      return renderLatex(report);
    case 'csv':
      return renderCsv(report);
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'html':
      return renderHtmlReport(report);
    default:
      throw new SapphireError('BAD_INPUT', `unknown report format "${String(format)}"`, {
        hint: `use one of ${REPORT_FORMATS.join(', ')}`,
      });
  }
}
