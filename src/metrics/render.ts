/**
 * Plain-text rendering of an {@link EvaluationReport} for a terminal (at most 110 columns, no colour
 * codes): headline metrics, a per-label table sorted by support, the most confused label pairs
 * (single-label classification), a calibration summary with reliability bins and a throughput line.
 */
import { displayWidth, formatCount, formatPercent, renderTable, truncate } from '../core/table.ts';
import { type EvaluationReport, primaryMetricNames } from './evaluate.ts';
import type { LabelMetrics } from './label-counts.ts';

/** Options for {@link renderEvaluation}. */
export interface RenderEvaluationOptions {
  /** What was evaluated, e.g. `crf.v1 on test`; the first line reads `<title> · <task> · <n> examples`. */
  title?: string;
  /** Prediction speed to show on the last line. */
  throughput?: { tokensPerSecond?: number; examplesPerSecond?: number };
}

/** Most labels listed before the rest are summarised in one line. */
const MAX_LABEL_ROWS = 40;
/** Widest label cell in tables. */
const LABEL_WIDTH = 28;
/** Most confused pairs listed. */
const MAX_CONFUSED_PAIRS = 10;
/** Widest line of the report. */
const LINE_WIDTH = 110;

const TASK_NAMES: Record<EvaluationReport['task'], string> = {
  ner: 'NER',
  classify: 'classification',
  multilabel: 'multi-label classification',
};

function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** Joins `name value` items with ` · `, wrapping before LINE_WIDTH. */
function metricLines(items: string[], indent = '  '): string[] {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    const candidate = line === '' ? indent + item : `${line} · ${item}`;
    if (displayWidth(candidate) > LINE_WIDTH && line !== '') {
      lines.push(line);
      line = indent + item;
    } else line = candidate;
  }
  if (line !== '') lines.push(line);
  return lines;
}

function headline(report: EvaluationReport): string {
  const primary = primaryMetricNames(report.task);
  const extras = Object.keys(report.metrics).filter((name) => !primary.includes(name) && name !== 'ece');
  const show = (name: string) => `${name} ${formatPercent(report.metrics[name] ?? Number.NaN, 2)}`;
  const lines = metricLines(primary.map(show));
  if (extras.length > 0) lines.push(...metricLines(extras.map(show)));
  return lines.join('\n');
}

function bySupport(a: LabelMetrics, b: LabelMetrics): number {
  return (
    b.support - a.support ||
    b.tp + b.fp - (a.tp + a.fp) ||
    (a.label < b.label ? -1 : a.label > b.label ? 1 : 0)
  );
}

/** A ratio as a percentage, or `–` when its denominator is 0 (the value is then 0 by convention). */
function ratio(value: number, denominator: number): string {
  return denominator === 0 ? '–' : formatPercent(value);
}

function perLabelTable(report: EvaluationReport): string {
  const rows = [...report.perLabel].sort(bySupport);
  const shown = rows.slice(0, MAX_LABEL_ROWS);
  const table = renderTable(
    shown.map((r) => [
      r.label,
      r.support,
      ratio(r.precision, r.tp + r.fp),
      ratio(r.recall, r.tp + r.fn),
      ratio(r.f1, r.tp + r.fp + r.fn),
      r.tp,
      r.fp,
      r.fn,
    ]),
    {
      title: `Per label (${plural(rows.length, 'label')}, by support)`,
      header: ['label', 'support', 'precision', 'recall', 'f1', 'tp', 'fp', 'fn'],
      align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      maxWidth: [LABEL_WIDTH],
    },
  );
  const lines = [table];
  const rest = rows.slice(MAX_LABEL_ROWS);
  if (rest.length > 0) {
    const support = rest.reduce((s, r) => s + r.support, 0);
    lines.push(`… ${plural(rest.length, 'more label')} with ${plural(support, 'gold item')} in all`);
  }
  if (shown.some((r) => r.tp + r.fp === 0 || r.tp + r.fn === 0)) {
    lines.push('– no predicted or no gold items: the score counts as 0');
  }
  return lines.join('\n');
}

function confusedPairs(report: EvaluationReport): string | undefined {
  const confusion = report.confusion;
  if (!confusion) return undefined;
  const support = new Map(report.perLabel.map((r) => [r.label, r.support]));
  const pairs: { gold: string; predicted: string; count: number }[] = [];
  for (const gold of Object.keys(confusion)) {
    for (const [predicted, count] of Object.entries(confusion[gold]!)) {
      if (predicted !== gold && count > 0) pairs.push({ gold, predicted, count });
    }
  }
  if (pairs.length === 0) return undefined;
  pairs.sort((a, b) => b.count - a.count || (a.gold < b.gold ? -1 : a.gold > b.gold ? 1 : 0));
  return renderTable(
    pairs
      .slice(0, MAX_CONFUSED_PAIRS)
      .map((p) => [p.gold, p.predicted, p.count, formatPercent(p.count / (support.get(p.gold) || 1))]),
    {
      title: 'Most confused (gold → predicted)',
      header: ['gold', 'predicted', 'count', 'of gold'],
      align: ['left', 'left', 'right', 'right'],
      maxWidth: [LABEL_WIDTH, LABEL_WIDTH],
    },
  );
}

function calibrationSection(report: EvaluationReport): string {
  const c = report.calibration;
  if (c.count === 0) return 'Calibration: no confidences to assess (the predictions carry no scores)';
  const [one, many] =
    report.task === 'ner'
      ? ['predicted entity', 'predicted entities']
      : report.task === 'classify'
        ? ['prediction', 'predictions']
        : ['label decision', 'label decisions'];
  const summary =
    `Calibration: ECE ${formatPercent(c.ece, 2)} · MCE ${formatPercent(c.mce, 2)}` +
    ` over ${plural(c.count, one, many)} in ${c.bins.length} bins (gap > 0: over-confident)`;
  const bins = c.bins.filter((b) => b.count > 0);
  const edge = (x: number) => x.toFixed(2);
  const table = renderTable(
    bins.map((b) => [
      `${edge(b.lower)}–${edge(b.upper)}`,
      b.count,
      formatPercent(b.confidence),
      formatPercent(b.accuracy),
      `${b.gap >= 0 ? '+' : ''}${formatPercent(b.gap)}`,
    ]),
    {
      header: ['confidence', 'count', 'mean conf', 'accuracy', 'gap'],
      align: ['left', 'right', 'right', 'right', 'right'],
    },
  );
  return `${summary}\n${table}`;
}

function rate(n: number): string {
  return n >= 100 ? formatCount(Math.round(n)) : n.toFixed(1);
}

function throughputLine(throughput: RenderEvaluationOptions['throughput']): string | undefined {
  if (!throughput) return undefined;
  const parts: string[] = [];
  if (throughput.tokensPerSecond !== undefined && Number.isFinite(throughput.tokensPerSecond)) {
    parts.push(`${rate(throughput.tokensPerSecond)} tokens/s`);
  }
  if (throughput.examplesPerSecond !== undefined && Number.isFinite(throughput.examplesPerSecond)) {
    parts.push(`${rate(throughput.examplesPerSecond)} examples/s`);
  }
  return parts.length > 0 ? `Throughput: ${parts.join(' · ')}` : undefined;
}

/**
 * Renders an evaluation report as terminal text of at most 110 columns.
 *
 * @example
 * console.log(renderEvaluation(evaluatePredictions('ner', test, predictions), { title: 'crf.v1 on test' }));
 */
export function renderEvaluation(report: EvaluationReport, options: RenderEvaluationOptions = {}): string {
  const title = `${options.title ?? 'Evaluation'} · ${TASK_NAMES[report.task]} · ${plural(report.examples, 'example')}`;
  const sections: string[] = [`${title}\n${headline(report)}`];
  const notes: string[] = [];
  if (report.abstained)
    notes.push(`${plural(report.abstained, 'example')} got no predicted label (counted as errors)`);
  if (report.unexpectedLabels?.length) {
    const shown = report.unexpectedLabels.slice(0, 8).join(', ');
    const more = report.unexpectedLabels.length > 8 ? `, … (${report.unexpectedLabels.length - 8} more)` : '';
    notes.push(`labels outside the project's label set: ${shown}${more}`);
  }
  if (notes.length > 0) sections[0] += `\n${notes.map((n) => `  note: ${n}`).join('\n')}`;
  if (report.perLabel.length > 0) sections.push(perLabelTable(report));
  const confused = confusedPairs(report);
  if (confused) sections.push(confused);
  sections.push(calibrationSection(report));
  const throughput = throughputLine(options.throughput);
  if (throughput) sections.push(throughput);
  return sections
    .join('\n\n')
    .split('\n')
    .map((line) => (displayWidth(line) > LINE_WIDTH ? truncate(line, LINE_WIDTH) : line))
    .join('\n');
}
