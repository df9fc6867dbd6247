/**
 * Terminal text and JSON for a {@link ModelAnalysis}: per dataset the evaluation (headline metrics,
 * per-label table, calibration), the confusion matrix, the NER error taxonomy with an example of
 * each kind, slices with the lagging ones flagged ⚠, the howlers, suspected label noise and — apart
 * from model errors — the bug checks marked ✓/✗. Several datasets start with the aggregate table.
 * Plain text only (no colour codes), lines of about 110 columns at most.
 */
import { formatCount, formatPercent, renderTable, truncate } from '../core/table.ts';
import { renderEvaluation } from '../metrics/render.ts';
import type { AnalysisAggregate, AnalysisReport, DatasetAnalysis, ModelAnalysis } from './analyze.ts';
import type { ConfusionMatrix } from './confusion.ts';
import { NER_ERROR_KINDS, type NerError } from './error-taxonomy.ts';

/** Most labels shown as a full matrix; above it the most confused pairs are listed instead. */
const MAX_MATRIX_LABELS = 12;
const MAX_CONFUSED_PAIRS = 12;
const TEXT_WIDTH = 60;
const LABEL_WIDTH = 24;
const MAX_BUG_DETAILS = 5;

/** Marks a lagging slice. */
export const LAGGING_MARK = '⚠';
/** Marks a passed bug check. */
export const PASS_MARK = '✓';
/** Marks a failed bug check. */
export const FAIL_MARK = '✗';

function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

function score(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : formatPercent(value, 1);
}

function signed(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '–';
  const points = value * 100;
  return `${points >= 0 ? '+' : ''}${points.toFixed(1)}`;
}

/** Keeps a text on one line for a table cell. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function heading(text: string): string {
  return `── ${text} ${'─'.repeat(Math.max(3, 70 - text.length))}`;
}

function confusionSection(confusion: ConfusionMatrix, task: AnalysisReport['task']): string | null {
  const { labels, matrix } = confusion;
  if (labels.length === 0) return null;
  if (labels.length <= MAX_MATRIX_LABELS) {
    const rows = labels.map((gold, i) => [gold, ...matrix[i]!.map((n) => (n === 0 ? '·' : n))]);
    const title =
      task === 'multilabel'
        ? 'Confusion (one-vs-rest: diagonal found, → none missed, none → added)'
        : 'Confusion (rows gold, columns predicted)';
    return renderTable(rows, {
      title,
      header: ['gold \\ predicted', ...labels],
      align: ['left', ...labels.map(() => 'right' as const)],
      maxWidth: [LABEL_WIDTH, ...labels.map(() => 16)],
    });
  }
  const pairs: [string, string, number][] = [];
  labels.forEach((gold, i) => {
    labels.forEach((predicted, j) => {
      const n = matrix[i]![j]!;
      if (i !== j && n > 0) pairs.push([gold, predicted, n]);
    });
  });
  if (pairs.length === 0) return 'Confusion: no confusions';
  pairs.sort((a, b) => b[2] - a[2] || a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
  return renderTable(pairs.slice(0, MAX_CONFUSED_PAIRS), {
    title: `Most confused pairs (${labels.length} labels; ${plural(pairs.length, 'pair')} in all)`,
    header: ['gold', 'predicted', 'count'],
    align: ['left', 'left', 'right'],
    maxWidth: [LABEL_WIDTH, LABEL_WIDTH],
  });
}

/** An error as `gold → predicted` with surfaces, e.g. `PER "Paris Hilton" → LOC "Paris"`. */
export function describeError(error: NerError): string {
  const gold = error.gold ? `${error.gold.label} ${JSON.stringify(error.goldText ?? '')}` : 'none';
  const predicted = error.predicted
    ? `${error.predicted.label} ${JSON.stringify(error.predictedText ?? '')}`
    : 'none';
  return `${gold} → ${predicted}`;
}

function taxonomySection(report: AnalysisReport): string | null {
  const t = report.taxonomy;
  if (!t) return null;
  const errors = NER_ERROR_KINDS.reduce((n, k) => n + t.counts[k], 0);
  const rows = NER_ERROR_KINDS.map((kind) => {
    const first = t.examples[kind][0];
    return [
      kind,
      t.counts[kind],
      errors === 0 ? '–' : formatPercent(t.counts[kind] / errors),
      first ? truncate(oneLine(describeError(first)), TEXT_WIDTH) : '',
    ];
  });
  const table = renderTable(rows, {
    title: `Error taxonomy (${plural(errors, 'error')}; ${plural(t.truePositives, 'exact match', 'exact matches')})`,
    header: ['kind', 'count', 'share', 'example (gold → predicted)'],
    align: ['left', 'right', 'right', 'left'],
  });
  const wrong = t.counts['wrong-type'] + t.counts['wrong-boundary'] + t.counts['wrong-type-and-boundary'];
  return [
    table,
    `False negatives ${formatCount(t.falseNegatives)} = missed ${formatCount(t.counts.missed)} + wrong-* ${formatCount(wrong)}; ` +
      `false positives ${formatCount(t.falsePositives)} = spurious ${formatCount(t.counts.spurious)} + wrong-* ${formatCount(wrong)}`,
  ].join('\n');
}

function slicesSection(report: AnalysisReport): string {
  const s = report.slices;
  const metric = report.primary.metric;
  if (s.rows.length === 0) return `Slices: none (declare slices in sapphire.yaml)`;
  const table = renderTable(
    s.rows.map((r) => [
      r.lagging ? `${LAGGING_MARK} ${r.name}` : `  ${r.name}`,
      r.kind,
      r.examples,
      score(r.score),
      signed(r.delta),
      truncate(oneLine(r.description ?? ''), 48),
    ]),
    {
      title: `Slices (${metric}; overall ${score(s.overall)}; Δ in points)`,
      header: ['slice', 'kind', 'examples', metric, 'Δ', 'what'],
      align: ['left', 'left', 'right', 'right', 'right', 'left'],
      maxWidth: [32],
    },
  );
  const lagging = s.rows.filter((r) => r.lagging);
  const points = `${Number((s.lagThreshold * 100).toFixed(2))} points`;
  const note =
    lagging.length > 0
      ? `${LAGGING_MARK} ${plural(lagging.length, 'slice')} more than ${points} below overall (with ≥ ${s.minExamples} examples): ${lagging.map((r) => r.name).join(', ')}`
      : `No slice lags more than ${points} behind overall (slices need ≥ ${s.minExamples} examples to be flagged)`;
  return `${table}\n${note}`;
}

function howlersSection(report: AnalysisReport): string {
  if (report.howlers.length === 0) return 'Howlers: none (no confident errors)';
  return renderTable(
    report.howlers.map((h) => [
      h.confidence.toFixed(3),
      h.kind,
      truncate(oneLine(h.gold), 28),
      truncate(oneLine(h.predicted), 28),
      truncate(oneLine(h.text), 44),
    ]),
    {
      title: `Howlers: the ${plural(report.howlers.length, 'most confident error')}`,
      header: ['conf', 'kind', 'gold', 'predicted', 'text'],
      align: ['right', 'left', 'left', 'left', 'left'],
    },
  );
}

function labelNoiseSection(report: AnalysisReport): string {
  const n = report.labelNoise;
  const basis = `confidence ≥ ${n.threshold}, ${plural(n.predictionSets, 'prediction set')}`;
  if (n.suspects.length === 0) return `Suspected label noise: none (${basis})`;
  return renderTable(
    n.suspects.map((s) => [
      s.exampleId,
      s.confidence.toFixed(3),
      s.agreeing,
      truncate(oneLine(s.gold), 28),
      truncate(oneLine(s.predicted), 28),
      truncate(oneLine(s.text), 36),
    ]),
    {
      title: `Suspected label noise (${basis}; ${formatCount(n.total)} in all, ${n.suspects.length} shown)`,
      header: ['example', 'conf', 'sets', 'gold', 'predicted', 'text'],
      align: ['left', 'right', 'right', 'left', 'left', 'left'],
      maxWidth: [28],
    },
  );
}

function bugsSection(report: AnalysisReport): string {
  const { checks, failed } = report.bugs;
  const title =
    failed === 0
      ? `Bug checks (implementation problems, not model errors): all ${checks.length} passed`
      : `Bug checks (implementation problems, not model errors): ${failed} of ${checks.length} FAILED`;
  const lines = [title];
  for (const check of checks) {
    lines.push(`  ${check.passed ? PASS_MARK : FAIL_MARK} ${check.name}: ${check.summary}`);
    for (const e of check.examples.slice(0, MAX_BUG_DETAILS)) {
      lines.push(`      ${e.exampleId}: ${truncate(oneLine(e.detail), 96)}`);
    }
    if (check.examples.length > MAX_BUG_DETAILS)
      lines.push(`      … ${check.examples.length - MAX_BUG_DETAILS} more`);
  }
  return lines.join('\n');
}

/**
 * Renders one dataset's analysis: evaluation, confusion, taxonomy, slices, howlers, label noise and bug checks.
 *
 * @example
 * console.log(renderDatasetAnalysis(analysis.datasets[0], 'crf.v1'));
 */
export function renderDatasetAnalysis(dataset: DatasetAnalysis, modelName: string): string {
  const { report } = dataset;
  const sections = [
    heading(`${dataset.name} (${dataset.version})`),
    renderEvaluation(report.evaluation, { title: `${modelName} on ${dataset.name}` }),
    confusionSection(report.confusion, report.task),
    taxonomySection(report),
    slicesSection(report),
    howlersSection(report),
    labelNoiseSection(report),
    bugsSection(report),
  ];
  return sections.filter((s): s is string => s !== null).join('\n\n');
}

function aggregateValue(column: string, value: number | undefined): string | number {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (/f1|precision|recall|accuracy|loss/.test(column)) return formatPercent(value, 1);
  return Number.isInteger(value) ? value : Number(value.toFixed(1));
}

/**
 * Renders the aggregate view of several datasets: one row per dataset and the mean.
 *
 * @example
 * console.log(renderAggregate(analysis.aggregate!));
 */
export function renderAggregate(aggregate: AnalysisAggregate): string {
  const rows = [
    ...aggregate.rows.map((r) => [
      r.dataset,
      ...aggregate.columns.map((c) => aggregateValue(c, r.values[c])),
    ]),
    ['mean', ...aggregate.columns.map((c) => aggregateValue(c, aggregate.mean[c]))],
  ];
  return renderTable(rows, {
    title: `Across ${plural(aggregate.rows.length, 'dataset')} (primary: ${aggregate.primary})`,
    header: ['dataset', ...aggregate.columns],
    align: ['left', ...aggregate.columns.map(() => 'right' as const)],
    maxWidth: [28],
  });
}

/**
 * Renders a whole analysis for a terminal: the aggregate table (several datasets), then each dataset.
 *
 * @example
 * process.stdout.write(renderAnalysisText(analysis));
 */
export function renderAnalysisText(analysis: ModelAnalysis): string {
  const source = analysis.model.dir ?? (analysis.model.run ? `run ${analysis.model.run}` : 'model');
  const parts = [
    `Analysis of ${analysis.model.name} (${source}) on ${analysis.datasets.map((d) => d.name).join(', ')}`,
  ];
  if (analysis.aggregate) parts.push(renderAggregate(analysis.aggregate));
  for (const dataset of analysis.datasets) parts.push(renderDatasetAnalysis(dataset, analysis.model.name));
  return `${parts.join('\n\n')}\n`;
}

/**
 * The analysis as pretty JSON (what `--format json` prints), with optional extra top-level fields.
 *
 * @example
 * renderAnalysisJson(analysis, { run: run.id });
 */
export function renderAnalysisJson(analysis: ModelAnalysis, extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ ...extra, ...analysis }, null, 2)}\n`;
}
