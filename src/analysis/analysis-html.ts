/**
 * A standalone HTML page for a {@link ModelAnalysis}: the aggregate view of several datasets, then per
 * dataset the headline metrics, per-label P/R/F1 (table and inline SVG bars), the confusion matrix as a
 * heatmap table, the NER error taxonomy with example lists where the gold and predicted spans are
 * highlighted (`<mark>`), slices with the lagging ones flagged, howlers, suspected label noise and the
 * bug checks. Inline CSS only, no scripts and no external resources, every text escaped: the page can
 * be mailed, attached to a ticket or opened offline.
 */
import type { Span } from '../data/types.ts';
import { escapeXml, groupedBarsSvg } from '../experiments/svg-plots.ts';
import type { AnalysisAggregate, AnalysisReport, DatasetAnalysis, ModelAnalysis } from './analyze.ts';
import { NER_ERROR_KINDS, type NerError, type NerErrorKind } from './error-taxonomy.ts';
import { FAIL_MARK, LAGGING_MARK, PASS_MARK } from './render-analysis.ts';

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 2rem auto; max-width: 76rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.3rem; margin-top: 2.5rem; border-bottom: 2px solid #444; padding-bottom: .2rem; }
h3 { font-size: 1.1rem; margin-top: 1.8rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
h4 { font-size: 1rem; margin: 1rem 0 .3rem; }
.meta, .note { color: #555; }
table { border-collapse: collapse; margin: .75rem 0; font-variant-numeric: tabular-nums; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e3e3e3; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
td.text, th.text { text-align: left; white-space: normal; max-width: 36rem; }
td.label, th.label { text-align: left; }
thead th { border-bottom: 2px solid #444; }
tr.mean td { font-weight: 700; border-top: 2px solid #444; }
tr.lagging td { background: #fff4e0; }
.flag { color: #b35c00; font-weight: 700; }
table.confusion td { min-width: 2.5rem; text-align: center; }
table.confusion th.gold { text-align: left; }
table.confusion td.zero { color: #bbb; }
mark { padding: 0 .1em; border-radius: 2px; }
mark.gold { background: #cde7ff; box-shadow: inset 0 -2px #0072B2; }
mark.pred { background: #ffe0b3; box-shadow: inset 0 -2px #D55E00; }
mark.both { background: #e6d2f0; box-shadow: inset 0 -2px #8a3ca8; }
.legend mark { font-size: .9em; }
ol.errors li { margin: .3rem 0; }
.ex-id { color: #777; font: .85em ui-monospace, SFMono-Regular, Menlo, monospace; }
.desc { color: #444; font-size: .92em; }
.plot { overflow-x: auto; margin: .5rem 0 1rem; }
ul.checks { list-style: none; padding-left: 0; }
ul.checks > li { margin: .4rem 0; }
ul.checks ul { margin: .2rem 0 .2rem 1.6rem; color: #555; font-size: .92em; }
.pass { color: #1a7f37; font-weight: 700; }
.fail { color: #c62828; font-weight: 700; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, monospace; }
`;

function esc(text: string): string {
  return escapeXml(text);
}

function pct(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? '–'
    : `${(value * 100).toFixed(digits)}%`;
}

function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function signedPoints(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '–';
  const points = value * 100;
  return `${points >= 0 ? '+' : '−'}${Math.abs(points).toFixed(1)}`;
}

function row(cells: string[], attrs = ''): string {
  return `<tr${attrs}>${cells.join('')}</tr>`;
}

function th(text: string, cls?: string): string {
  return `<th scope="col"${cls ? ` class="${cls}"` : ''}>${esc(text)}</th>`;
}

function td(html: string, cls?: string, title?: string): string {
  return `<td${cls ? ` class="${cls}"` : ''}${title ? ` title="${esc(title)}"` : ''}>${html}</td>`;
}

function table(
  cls: string,
  header: string[],
  body: string[],
  headerClasses: (string | undefined)[] = [],
): string {
  return `<table class="${cls}"><thead>${row(header.map((h, i) => th(h, headerClasses[i])))}</thead><tbody>${body.join('')}</tbody></table>`;
}

/**
 * A text with spans highlighted: each piece covered by gold only, predicted only or both becomes a
 * `<mark class="gold|pred|both">` (marks never nest); everything is escaped.
 *
 * @example
 * highlightSpans('Paris Hilton', [{ start: 0, end: 12, label: 'PER' }], [{ start: 0, end: 5, label: 'LOC' }]);
 * // '<mark class="both" …>Paris</mark><mark class="gold" …> Hilton</mark>'
 */
export function highlightSpans(text: string, gold: readonly Span[], predicted: readonly Span[]): string {
  const inside = (spans: readonly Span[], at: number) => spans.filter((s) => s.start <= at && at < s.end);
  const cuts = new Set([0, text.length]);
  for (const s of [...gold, ...predicted]) {
    cuts.add(Math.max(0, Math.min(text.length, s.start)));
    cuts.add(Math.max(0, Math.min(text.length, s.end)));
  }
  const points = [...cuts].sort((a, b) => a - b);
  let out = '';
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i]!;
    const end = points[i + 1]!;
    const piece = esc(text.slice(start, end));
    const g = inside(gold, start);
    const p = inside(predicted, start);
    if (g.length === 0 && p.length === 0) {
      out += piece;
      continue;
    }
    const cls = g.length && p.length ? 'both' : g.length ? 'gold' : 'pred';
    const title = [
      ...g.map((s) => `gold ${s.label}`),
      ...p.map((s) => `predicted ${s.label}${'score' in s ? ` ${(s.score as number).toFixed(2)}` : ''}`),
    ].join(' · ');
    out += `<mark class="${cls}" title="${esc(title)}">${piece}</mark>`;
  }
  return out;
}

function overview(report: AnalysisReport): string {
  const metrics = Object.entries(report.evaluation.metrics)
    .map(([name, value]) => row([td(esc(name), 'label'), td(pct(value, 2))]))
    .join('');
  return `<section class="overview"><h3>Overview</h3><p class="meta">${esc(report.model)} · ${esc(report.task)} · ${count(report.examples)} examples · primary ${esc(report.primary.metric)} <strong>${pct(report.primary.value, 2)}</strong></p><table class="metrics"><thead>${row([th('metric'), th('value')])}</thead><tbody>${metrics}</tbody></table></section>`;
}

function perLabel(report: AnalysisReport): string {
  const labels = report.evaluation.perLabel;
  if (labels.length === 0)
    return '<section class="per-label"><h3>Per label</h3><p class="note">No labels in gold or predictions.</p></section>';
  const body = labels.map((l) =>
    row([
      td(esc(l.label), 'label'),
      td(count(l.support)),
      td(pct(l.precision)),
      td(pct(l.recall)),
      td(pct(l.f1)),
      td(count(l.tp)),
      td(count(l.fp)),
      td(count(l.fn)),
    ]),
  );
  const svg = groupedBarsSvg({
    title: 'Per-label precision, recall and F1',
    yLabel: 'score',
    categories: labels.map((l) => l.label),
    series: [
      { name: 'precision', values: labels.map((l) => l.precision) },
      { name: 'recall', values: labels.map((l) => l.recall) },
      { name: 'F1', values: labels.map((l) => l.f1) },
    ],
  });
  return `<section class="per-label"><h3>Per label</h3>${table('per-label', ['label', 'support', 'precision', 'recall', 'F1', 'tp', 'fp', 'fn'], body)}<div class="plot">${svg}</div></section>`;
}

function confusion(report: AnalysisReport): string {
  const { labels, matrix } = report.confusion;
  if (labels.length === 0)
    return '<section class="confusion"><h3>Confusion</h3><p class="note">Nothing to compare.</p></section>';
  const head = `<tr><th scope="col" class="gold">gold ↓ · predicted →</th>${labels.map((l) => th(l)).join('')}</tr>`;
  const body = labels.map((gold, i) => {
    const cells = matrix[i]!;
    const total = cells.reduce((a, b) => a + b, 0);
    const tds = cells.map((n, j) => {
      if (n === 0) return td('0', 'zero', `gold ${gold} → predicted ${labels[j]}: 0`);
      const share = total ? n / total : 0;
      const alpha = 0.12 + 0.88 * share;
      const rgb = i === j ? '0, 114, 178' : '213, 94, 0';
      const color = alpha > 0.6 ? '#fff' : '#222';
      const title = `gold ${gold} → predicted ${labels[j]}: ${n} (${pct(share)} of gold ${gold})`;
      return `<td style="background: rgba(${rgb}, ${alpha.toFixed(2)}); color: ${color}" title="${esc(title)}">${count(n)}</td>`;
    });
    return `<tr><th scope="row" class="gold">${esc(gold)}</th>${tds.join('')}</tr>`;
  });
  const none = report.confusion.none
    ? ` <code>${esc(report.confusion.none)}</code> stands for no ${report.task === 'ner' ? 'entity' : 'label'}.`
    : '';
  return `<section class="confusion"><h3>Confusion</h3><p class="note">Rows are gold, columns predicted; shading is the share of the row (blue: right, orange: wrong).${none}</p><table class="confusion"><thead>${head}</thead><tbody>${body.join('')}</tbody></table></section>`;
}

const KIND_TEXT: Record<NerErrorKind, string> = {
  missed: 'gold entities the model did not find at all',
  spurious: 'predicted entities that overlap no gold entity',
  'wrong-type': 'right boundaries, wrong label',
  'wrong-boundary': 'right label, boundaries off',
  'wrong-type-and-boundary': 'overlapping a gold entity, with other boundaries and another label',
};

function errorItem(e: NerError): string {
  const gold = e.gold ? [e.gold] : [];
  const predicted = e.predicted ? [e.predicted] : [];
  const desc = [
    e.gold ? `gold ${e.gold.label} “${e.goldText ?? ''}”` : 'no gold entity',
    e.predicted ? `predicted ${e.predicted.label} “${e.predictedText ?? ''}”` : 'not predicted',
    ...(e.confidence !== null ? [`confidence ${e.confidence.toFixed(3)}`] : []),
  ].join(' · ');
  return `<li><span class="ex-id">${esc(e.exampleId)}</span> <span class="text">${highlightSpans(e.text, gold, predicted)}</span><br><span class="desc">${esc(desc)}</span></li>`;
}

function taxonomy(report: AnalysisReport): string {
  const t = report.taxonomy;
  if (!t) return '';
  const errors = NER_ERROR_KINDS.reduce((n, k) => n + t.counts[k], 0);
  const body = NER_ERROR_KINDS.map((k) =>
    row([
      td(esc(k), 'label'),
      td(count(t.counts[k])),
      td(errors ? pct(t.counts[k] / errors) : '–'),
      td(esc(KIND_TEXT[k]), 'text'),
    ]),
  );
  const wrong = t.counts['wrong-type'] + t.counts['wrong-boundary'] + t.counts['wrong-type-and-boundary'];
  const sums = `<p class="note">False negatives ${count(t.falseNegatives)} = missed ${count(t.counts.missed)} + wrong-* ${count(wrong)}; false positives ${count(t.falsePositives)} = spurious ${count(t.counts.spurious)} + wrong-* ${count(wrong)}; exact matches ${count(t.truePositives)}.</p>`;
  const legend =
    '<p class="legend note">In the examples: <mark class="gold">gold</mark> <mark class="pred">predicted</mark> <mark class="both">both</mark>.</p>';
  const lists = NER_ERROR_KINDS.filter((k) => t.examples[k].length > 0)
    .map(
      (k) =>
        `<div class="kind" data-kind="${esc(k)}"><h4>${esc(k)} <span class="note">(${t.examples[k].length} of ${count(t.counts[k])} shown)</span></h4><ol class="errors">${t.examples[k].map(errorItem).join('')}</ol></div>`,
    )
    .join('');
  return `<section class="taxonomy"><h3>Error taxonomy</h3>${table('taxonomy', ['kind', 'count', 'share', 'what it means'], body, [undefined, undefined, undefined, 'text'])}${sums}${legend}${lists}</section>`;
}

function slices(report: AnalysisReport): string {
  const s = report.slices;
  const metric = report.primary.metric;
  if (s.rows.length === 0)
    return '<section class="slices"><h3>Slices</h3><p class="note">No slices: declare some in sapphire.yaml.</p></section>';
  const body = s.rows.map((r) =>
    row(
      [
        td(
          `${r.lagging ? `<span class="flag" title="lagging">${LAGGING_MARK}</span> ` : ''}${esc(r.name)}`,
          'label',
        ),
        td(esc(r.kind), 'label'),
        td(count(r.examples)),
        td(pct(r.score)),
        td(signedPoints(r.delta)),
        td(esc(r.description ?? ''), 'text'),
      ],
      r.lagging ? ' class="lagging"' : '',
    ),
  );
  const lagging = s.rows.filter((r) => r.lagging).length;
  const points = `${Number((s.lagThreshold * 100).toFixed(2))} points`;
  const note = `<p class="note">Overall ${esc(metric)} ${pct(s.overall)}. Δ is in points; ${LAGGING_MARK} marks slices of at least ${s.minExamples} examples more than ${points} below overall (${lagging} here).</p>`;
  return `<section class="slices"><h3>Slices</h3>${note}${table('slices', ['slice', 'kind', 'examples', metric, 'Δ', 'what'], body, [undefined, 'label', undefined, undefined, undefined, 'text'])}</section>`;
}

function highlightOnce(text: string, part: string | undefined): string {
  if (!part) return esc(text);
  const at = text.indexOf(part);
  if (at < 0 || text.lastIndexOf(part) !== at) return esc(text);
  return `${esc(text.slice(0, at))}<mark class="pred">${esc(part)}</mark>${esc(text.slice(at + part.length))}`;
}

function howlers(report: AnalysisReport): string {
  if (report.howlers.length === 0)
    return '<section class="howlers"><h3>Howlers</h3><p class="note">No confident errors.</p></section>';
  const body = report.howlers.map((h) =>
    row([
      td(h.confidence.toFixed(3)),
      td(esc(h.kind), 'label'),
      td(esc(h.gold), 'text'),
      td(esc(h.predicted), 'text'),
      td(`<span class="ex-id">${esc(h.exampleId)}</span> ${highlightOnce(h.text, h.spanText)}`, 'text'),
    ]),
  );
  return `<section class="howlers"><h3>Howlers</h3><p class="note">The errors made with the highest confidence, most confident first: look here for bugs, label mistakes and missing features.</p>${table('howlers', ['confidence', 'kind', 'gold', 'predicted', 'text'], body, [undefined, 'label', 'text', 'text', 'text'])}</section>`;
}

function labelNoise(report: AnalysisReport): string {
  const n = report.labelNoise;
  const basis = `Disagreements with confidence ≥ ${n.threshold} shared by a majority of ${n.predictionSets} prediction set(s); ${count(n.total)} found${n.total > n.suspects.length ? `, ${n.suspects.length} shown` : ''}.`;
  if (n.suspects.length === 0)
    return `<section class="label-noise"><h3>Suspected label noise</h3><p class="note">${esc(basis)}</p></section>`;
  const body = n.suspects.map((s) =>
    row([
      td(`<span class="ex-id">${esc(s.exampleId)}</span>`, 'label'),
      td(s.confidence.toFixed(3)),
      td(count(s.agreeing)),
      td(esc(s.gold), 'text'),
      td(esc(s.predicted), 'text'),
      td(esc(s.text), 'text'),
    ]),
  );
  return `<section class="label-noise"><h3>Suspected label noise</h3><p class="note">${esc(basis)}</p>${table('label-noise', ['example', 'confidence', 'sets', 'gold', 'predicted', 'text'], body, [undefined, undefined, undefined, 'text', 'text', 'text'])}</section>`;
}

function bugChecks(report: AnalysisReport): string {
  const { checks, failed } = report.bugs;
  const items = checks
    .map((c) => {
      const mark = c.passed
        ? `<span class="pass" title="passed">${PASS_MARK}</span>`
        : `<span class="fail" title="failed">${FAIL_MARK}</span>`;
      const details = c.examples.length
        ? `<ul>${c.examples.map((e) => `<li><span class="ex-id">${esc(e.exampleId)}</span> ${esc(e.detail)}</li>`).join('')}</ul>`
        : '';
      return `<li class="${c.passed ? 'passed' : 'failed'}">${mark} <strong>${esc(c.name)}</strong>: ${esc(c.summary)}${details}</li>`;
    })
    .join('');
  const verdict =
    failed === 0 ? `all ${checks.length} checks passed` : `${failed} of ${checks.length} checks failed`;
  return `<section class="bug-checks"><h3>Bug checks</h3><p class="note">Implementation problems, reported apart from model errors: ${esc(verdict)}.</p><ul class="checks">${items}</ul></section>`;
}

function datasetSection(dataset: DatasetAnalysis, index: number): string {
  const { report } = dataset;
  return [
    `<section class="dataset" id="dataset-${index + 1}" data-dataset="${esc(dataset.name)}">`,
    `<h2>${esc(dataset.name)} <span class="meta">${esc(dataset.version)}</span></h2>`,
    overview(report),
    perLabel(report),
    confusion(report),
    taxonomy(report),
    slices(report),
    howlers(report),
    labelNoise(report),
    bugChecks(report),
    '</section>',
  ].join('\n');
}

function aggregateCell(column: string, value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (/f1|precision|recall|accuracy|loss/.test(column)) return pct(value);
  return Number.isInteger(value) ? count(value) : value.toFixed(1);
}

function aggregateSection(aggregate: AnalysisAggregate): string {
  const body = [
    ...aggregate.rows.map((r) =>
      row([td(esc(r.dataset), 'label'), ...aggregate.columns.map((c) => td(aggregateCell(c, r.values[c])))]),
    ),
    row(
      [td('mean', 'label'), ...aggregate.columns.map((c) => td(aggregateCell(c, aggregate.mean[c])))],
      ' class="mean"',
    ),
  ];
  const svg = groupedBarsSvg({
    title: `${aggregate.primary} per dataset`,
    yLabel: aggregate.primary,
    categories: [...aggregate.rows.map((r) => r.dataset), 'mean'],
    series: [
      {
        name: aggregate.primary,
        values: [
          ...aggregate.rows.map((r) => r.values[aggregate.primary] ?? null),
          aggregate.mean[aggregate.primary] ?? null,
        ].map((v) => (v === null || !Number.isFinite(v) ? null : v)),
      },
    ],
  });
  return `<section class="aggregate" id="aggregate"><h2>Across datasets</h2>${table('aggregate', ['dataset', ...aggregate.columns], body)}<div class="plot">${svg}</div></section>`;
}

/** Options for {@link renderAnalysisHtml}. */
export interface AnalysisHtmlOptions {
  /** Page title (default: `Analysis of <model> on <datasets>`). */
  title?: string;
  /** The `analyze` run that recorded the analysis, shown under the title. */
  run?: string | null;
}

/**
 * Renders an analysis as one standalone HTML page.
 *
 * @example
 * await writeFile('report.html', renderAnalysisHtml(analysis, { run: run.id }));
 */
export function renderAnalysisHtml(analysis: ModelAnalysis, options: AnalysisHtmlOptions = {}): string {
  const names = analysis.datasets.map((d) => d.name).join(', ');
  const title = options.title ?? `Analysis of ${analysis.model.name} on ${names}`;
  const source = analysis.model.dir ?? (analysis.model.run ? `run ${analysis.model.run}` : 'model');
  const meta = [
    `model ${analysis.model.name} (${source})`,
    ...(analysis.model.run && analysis.model.dir ? [`trained in run ${analysis.model.run}`] : []),
    `task ${analysis.task}`,
    `primary metric ${analysis.primary}`,
    ...(options.run ? [`recorded as run ${options.run}`] : []),
  ].join(' · ');
  const body = [
    `<h1>${esc(title)}</h1>`,
    `<p class="meta">${esc(meta)}</p>`,
    ...(analysis.aggregate ? [aggregateSection(analysis.aggregate)] : []),
    ...analysis.datasets.map(datasetSection),
  ].join('\n');
  return `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${esc(title)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n${body}\n</body>\n</html>\n`;
}
