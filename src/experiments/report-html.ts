/**
 * A standalone HTML page for a {@link Report}: the results table, the significance details of every row
 * against the baseline, inline SVG plots (the learning curve of a curve study, per-label F1 per row) and
 * the notes. Inline CSS only, no scripts and no external resources, every text escaped: the page can be
 * mailed, attached to a ticket or opened offline.
 */
import {
  cellMarker,
  columnDigits,
  formatCell,
  legendText,
  pText,
  type Report,
  type ReportCurve,
  rowTitle,
} from './report.ts';
import { escapeXml, groupedBarsSvg, learningCurveSvg } from './svg-plots.ts';

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: .75rem 0; font-variant-numeric: tabular-nums; }
th, td { padding: .3rem .7rem; border-bottom: 1px solid #e3e3e3; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #444; }
tbody tr:last-child td { border-bottom: 2px solid #444; }
tr.baseline td { background: #f4f7fb; }
td.best { font-weight: 700; }
sup { color: #b03000; font-weight: 700; }
.legend { color: #555; font-size: .9em; max-width: 60rem; }
.plot { overflow-x: auto; margin: .5rem 0 1rem; }
.notes li { margin: .2rem 0; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, monospace; }
`;

function esc(text: string): string {
  return escapeXml(text);
}

function resultsTable(report: Report): string {
  const head = ['Run', 'n', ...report.columns.map((c) => c.key + (c.lowerIsBetter ? ' ↓' : ''))]
    .map((h) => `<th scope="col">${esc(h)}</th>`)
    .join('');
  const body = report.rows
    .map((row, i) => {
      const cells = report.columns.map((column) => {
        const summary = row.cells[column.key] ?? null;
        const best = column.best.includes(i);
        const marker = cellMarker(report, row, column);
        const digits = columnDigits(column.key) + 1;
        const title = summary
          ? ` title="${esc(`n=${summary.n}, min ${summary.min.toFixed(digits)}, max ${summary.max.toFixed(digits)}`)}"`
          : '';
        return `<td${best ? ' class="best"' : ''}${title}>${esc(formatCell(column.key, summary))}${marker ? `<sup>${esc(marker)}</sup>` : ''}</td>`;
      });
      const rowMarker =
        report.significance && !report.significance.column && row.significance?.marker
          ? `<sup>${esc(row.significance.marker)}</sup>`
          : '';
      const runs = esc(row.runs.join(', '));
      return (
        `<tr${i === report.baseline ? ' class="baseline"' : ''}><th scope="row" title="${runs}">${esc(rowTitle(report, i))}${rowMarker}</th>` +
        `<td>${row.runs.length}</td>${cells.join('')}</tr>`
      );
    })
    .join('\n');
  return `<table class="results"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function significanceSection(report: Report): string {
  const s = report.significance;
  const rows = report.rows.filter((r) => r.significance);
  if (!s || report.baseline === null || rows.length === 0) return '';
  const base = report.rows[report.baseline]!;
  const body = rows
    .map((row) => {
      const r = row.significance!;
      return (
        `<tr><th scope="row">${esc(row.label)}</th><td>${r.examples}</td><td>${r.a.toFixed(3)}</td><td>${r.b.toFixed(3)}</td>` +
        `<td>${esc(signed(r.delta))}${r.marker ? `<sup>${esc(r.marker)}</sup>` : ''}</td>` +
        `<td>[${esc(signed(r.ci[0]))}, ${esc(signed(r.ci[1]))}]</td><td>${esc(pText(r.pBootstrap))}</td>` +
        `<td>${esc(pText(r.pRandomization))}</td><td>${r.significant ? 'yes' : 'no'}</td></tr>`
      );
    })
    .join('\n');
  const confidence = Math.round(s.confidence * 100);
  return (
    `<h2>Significance against the baseline</h2>\n<p class="legend">Baseline: <strong>${esc(base.label)}</strong>. ` +
    `Metric <code>${esc(s.metric)}</code> on the <code>${esc(s.split)}</code> predictions, pooled per row (folds concatenated; for examples predicted by several runs, the first run's prediction). ` +
    `Paired bootstrap (${confidence}% percentile interval of Δ) and approximate randomization, ${s.samples} samples each, seed ${s.seed}.</p>\n` +
    `<table class="significance"><thead><tr><th scope="col">Run</th><th scope="col">examples</th><th scope="col">baseline</th><th scope="col">run</th>` +
    `<th scope="col">Δ</th><th scope="col">${confidence}% CI</th><th scope="col">p (bootstrap)</th><th scope="col">p (randomization)</th><th scope="col">significant</th></tr></thead>` +
    `<tbody>\n${body}\n</tbody></table>`
  );
}

function signed(value: number): string {
  const text = value.toFixed(3);
  return value >= 0 && !text.startsWith('-') ? `+${text}` : text;
}

function curveSection(curve: ReportCurve): string {
  const svg = learningCurveSvg({
    title: `Learning curve: ${curve.label}`,
    xLabel: 'training examples',
    yLabel: curve.metric,
    points: curve.points.map((p) => ({
      x: p.size,
      mean: p.summary.mean,
      std: p.summary.std,
      label: `${p.label}: ${p.summary.mean.toFixed(3)} ± ${p.summary.std.toFixed(3)} (${p.summary.n} runs)`,
    })),
    trend: curve.trend.map((t) => ({ x: t.size, y: t.score })),
    ...(curve.doubling
      ? {
          marker: {
            x: curve.doubling.size,
            y: curve.doubling.predicted,
            label: `2× data (n=${curve.doubling.size})`,
          },
        }
      : {}),
  });
  let text = 'The curve could not be fitted (see the notes).';
  if (curve.doubling) {
    const d = curve.doubling;
    text = `Doubling the training set to ${d.size} examples is estimated to reach ${d.predicted.toFixed(3)} (+${d.gain.toFixed(3)}).`;
    if (curve.fit) {
      const f = curve.fit;
      text += ` Fit: score ≈ ${f.c.toFixed(3)} − ${f.a.toPrecision(3)} · n^(−${f.b.toFixed(3)}), R² = ${f.r2.toFixed(3)}.`;
    }
  }
  return `<h2>Learning curve: ${esc(curve.label)}</h2>\n<div class="plot">${svg}</div>\n<p>${esc(text)}</p>`;
}

function perLabelSection(report: Report): string {
  const rows = report.rows.filter((r) => r.perLabel);
  if (rows.length === 0 || report.labels.length === 0) return '';
  const svg = groupedBarsSvg({
    title: `Per-label F1 on ${report.significance?.split ?? 'the compared split'}`,
    yLabel: 'F1',
    categories: report.labels,
    series: rows.map((row) => {
      const byLabel = new Map(row.perLabel!.map((l) => [l.label, l.f1]));
      return { name: row.label, values: report.labels.map((label) => byLabel.get(label) ?? null) };
    }),
  });
  return `<h2>Per-label F1</h2>\n<div class="plot">${svg}</div>`;
}

/**
 * Renders a report as a standalone HTML page (inline CSS, inline SVG plots, no scripts or external
 * resources; all text escaped).
 *
 * @example
 * await writeFile('report.html', renderHtmlReport(report));
 */
export function renderHtmlReport(report: Report): string {
  const sources = report.sources
    .map(
      (s) =>
        `${esc(s.kind)}${s.name ? ` ${esc(s.name)}` : ''} <code>${esc(s.id)}</code>${s.members === null ? '' : ` (${s.members} runs)`}`,
    )
    .join(', ');
  const meta = `Task <code>${esc(report.task)}</code> · primary metric <code>${esc(report.primary)}</code> · from ${sources}`;
  const parts = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(report.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${esc(report.title)}</h1>`,
    `<p class="meta">${meta}</p>`,
  ];
  if (report.rows.length === 0) parts.push('<p>No finished runs.</p>');
  else parts.push(resultsTable(report), `<p class="legend">${esc(legendText(report))}</p>`);
  parts.push(significanceSection(report));
  parts.push(...report.curves.map(curveSection));
  parts.push(perLabelSection(report));
  if (report.notes.length > 0) {
    parts.push(
      '<h2>Notes</h2>',
      `<ul class="notes">${report.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`,
    );
  }
  parts.push('</body>', '</html>');
  return `${parts.filter((p) => p !== '').join('\n')}\n`;
}
