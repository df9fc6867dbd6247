import { displayWidth, formatCount, formatPercent, renderTable, truncate } from '../../core/table.ts';
import { type DatasetStats, NO_SPLIT, type SplitStats } from '../../data/stats.ts';

/** Widest label shown in tables. */
const LABEL_WIDTH = 28;
/** Most labels listed per table before summarising the rest. */
const MAX_LABEL_ROWS = 40;
/** Widest histogram bar. */
const BAR_WIDTH = 40;
/** Longest report line we aim for (fits a 110-column terminal). */
const LINE_WIDTH = 110;
/** Fraction of test tokens unseen in train above which we warn. */
const UNSEEN_WARN = 0.15;
/** Width prose (warnings, notes) is wrapped to, so it reads well in an 80–110 column terminal. */
const PROSE_WIDTH = 90;
/** How to fix leakage: the command that re-splits a dataset. */
const RESPLIT_COMMAND = '`sapphire data split <dataset>`';

function splitTitle(split: string): string {
  return split === NO_SPLIT ? 'unsplit' : split;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** Wraps a paragraph to `width` columns, indenting continuation lines by `indent` spaces. */
function wrap(text: string, width = PROSE_WIDTH, indent = 2): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const candidate = line === '' ? word : `${line} ${word}`;
    const limit = lines.length === 0 ? width : width - indent;
    if (displayWidth(candidate) > limit && line !== '') {
      lines.push(line);
      line = word;
    } else line = candidate;
  }
  if (line !== '') lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : `${' '.repeat(indent)}${l}`)).join('\n');
}

function section(title: string, body: string): string {
  return `${title}\n${body}`;
}

function headerLine(name: string, stats: DatasetStats): string {
  const parts = [
    name,
    stats.task,
    plural(stats.examples, 'example'),
    plural(stats.tokens, 'token'),
    stats.task === 'ner'
      ? plural(stats.entities.total, 'entity', 'entities')
      : plural(stats.classLabels.length, 'label'),
  ];
  if (stats.task === 'ner' && stats.classLabels.length > 0)
    parts.push(plural(stats.classLabels.length, 'class label'));
  return parts.join(' · ');
}

function splitsTable(stats: DatasetStats): string {
  const rows = stats.splits.map((s) => {
    const row: (string | number)[] = [
      splitTitle(s.split),
      s.examples,
      formatPercent(s.examples / stats.examples),
      s.tokens,
    ];
    if (stats.task === 'ner') row.push(s.entities);
    return row;
  });
  const header = ['split', 'examples', '%', 'tokens'];
  if (stats.task === 'ner') header.push('entities');
  return renderTable(rows, {
    header,
    align: header.map((_, i) => (i === 0 ? 'left' : 'right')),
    maxWidth: [LABEL_WIDTH],
  });
}

function labelsTable(stats: DatasetStats): string {
  const ner = stats.task === 'ner';
  const list = ner ? stats.entities.labels : stats.classLabels;
  if (list.length === 0) return ner ? 'no entities' : 'no labels';
  const shown = list.slice(0, MAX_LABEL_ROWS);
  const rows = shown.map((l) => {
    const row: (string | number)[] = [l.label, l.count, formatPercent(l.fraction)];
    if ('examples' in l) row.push(l.examples as number);
    return row;
  });
  const header = ner ? ['label', 'entities', '%', 'examples'] : ['label', 'examples', '%'];
  const align = header.map((_, i) => (i === 0 ? 'left' : 'right') as 'left' | 'right');
  return (
    renderTable(rows, { header, align, maxWidth: [LABEL_WIDTH] }) + moreLabels(list.length - shown.length)
  );
}

function moreLabels(n: number): string {
  return n > 0 ? `\n… and ${plural(n, 'more label')}` : '';
}

function distributionCell(count: number, fraction: number): string {
  return `${formatCount(count)} ${formatPercent(fraction).padStart(6)}`;
}

function distributionTable(stats: DatasetStats): string {
  const splits = stats.splits;
  const labels = splits[0]?.labels.map((l) => l.label) ?? [];
  if (labels.length === 0) return stats.task === 'ner' ? 'no entities' : 'no labels';
  const shown = labels.slice(0, MAX_LABEL_ROWS);
  const rows = shown.map((label, i) => [
    label,
    ...splits.map((s) => {
      const l = s.labels[i]!;
      return distributionCell(l.count, l.fraction);
    }),
  ]);
  const totalCell = (s: SplitStats) => formatCount(stats.task === 'ner' ? s.entities : s.examples);
  rows.push([stats.task === 'ner' ? 'all entities' : 'examples', ...splits.map(totalCell)]);
  return (
    renderTable(rows, {
      header: ['label', ...splits.map((s) => splitTitle(s.split))],
      align: ['left', ...splits.map(() => 'right' as const)],
      maxWidth: [LABEL_WIDTH, ...splits.map(() => 18)],
    }) + moreLabels(labels.length - shown.length)
  );
}

function lengthSection(stats: DatasetStats): string {
  const { length } = stats;
  const summary =
    `min ${formatCount(length.min)} · mean ${length.mean.toFixed(1)} · median ${formatCount(length.median)}` +
    ` · p95 ${formatCount(length.p95)} · max ${formatCount(length.max)}`;
  const buckets = length.histogram;
  const first = buckets.findIndex((b) => b.count > 0);
  if (first < 0) return summary;
  let last = buckets.length - 1;
  while (buckets[last]!.count === 0) last--;
  const peak = Math.max(...buckets.map((b) => b.count));
  const rows = buckets.slice(first, last + 1).map((b) => {
    const bar = b.count === 0 ? '' : '▇'.repeat(Math.max(1, Math.round((b.count / peak) * BAR_WIDTH)));
    return [b.label, b.count, formatPercent(b.count / stats.examples), bar];
  });
  return `${summary}\n${renderTable(rows, { header: ['tokens', 'examples', '%', ''], align: ['right', 'right', 'right', 'left'] })}`;
}

function findings(stats: DatasetStats): string[] {
  const out: string[] = [];
  const warn = (text: string) => out.push(wrap(`warning: ${text}`));
  const ok = (text: string) => out.push(wrap(`ok: ${text}`));
  const ids = (list: string[], total: number) =>
    list.length === 0 ? '' : ` (e.g. ${list.join(', ')}${total > list.length ? ', …' : ''})`;

  if (stats.emptyTexts > 0) {
    warn(
      `${plural(stats.emptyTexts, 'example')} ${stats.emptyTexts === 1 ? 'has' : 'have'} empty text` +
        `${ids(stats.emptyTextIds, stats.emptyTexts)}: empty texts teach nothing and skew counts; drop them or check the import.`,
    );
  }

  const dup = stats.duplicates;
  if (dup.groups === 0) ok('no duplicate texts.');
  else {
    warn(
      `${plural(dup.groups, 'text')} ${dup.groups === 1 ? 'appears' : 'appear'} more than once ` +
        `(${plural(dup.examples, 'example')}, ${formatCount(dup.redundant)} redundant): duplicates give those texts ` +
        `extra weight in training and evaluation; keep one copy of each.`,
    );
    if (dup.conflictingGroups > 0) {
      warn(
        `${plural(dup.conflictingGroups, 'duplicated text')} (${plural(dup.conflictingExamples, 'example')}) ` +
          `${dup.conflictingGroups === 1 ? 'has' : 'have'} conflicting ${stats.task === 'ner' ? 'entities' : 'labels'}: ` +
          `annotation noise caps the achievable score; review and make them agree.`,
      );
    }
    for (const g of dup.samples.slice(0, 5)) {
      const flag = g.conflicting ? '  [conflicting]' : '';
      const idList = truncate(`(${g.ids.join(', ')}${g.count > g.ids.length ? ', …' : ''})`, 40);
      const room = LINE_WIDTH - displayWidth(`    ×${g.count}  ""  ${idList}${flag}`);
      out.push(`    ×${g.count}  "${truncate(g.text, Math.max(10, room))}"  ${idList}${flag}`);
    }
  }

  if (stats.trainSplit === null) {
    out.push(
      wrap(
        `note: no train split, so leakage and unseen-token checks were skipped; assign splits with ` +
          '`sapphire data split <dataset>`.',
      ),
    );
  } else {
    const train = stats.trainSplit;
    for (const leak of stats.leakage) {
      const where = splitTitle(leak.split);
      if (leak.examples === 0) {
        ok(`no ${where} texts appear in ${train}.`);
        continue;
      }
      warn(
        `${plural(leak.examples, `${where} text`)} (${formatPercent(leak.fraction)} of ${where}) also ` +
          `${leak.examples === 1 ? 'appears' : 'appear'} in ${train}${ids(leak.sampleIds, leak.examples)}: ` +
          `scores on ${where} will be optimistic; remove these texts from ${where}, or dedupe and re-split with ` +
          `${RESPLIT_COMMAND} (add --group-by <field> when related texts share a source).`,
      );
    }
    for (const u of stats.unseenTokens) {
      const where = splitTitle(u.split);
      const line =
        `${formatPercent(u.tokenFraction)} of ${where} tokens (${formatPercent(u.typeFraction)} of distinct words) ` +
        `never appear in ${train}`;
      if (u.tokenFraction > UNSEEN_WARN) {
        warn(
          `${line}: many words are new to the model, so expect lower scores on ${where}; add more varied ` +
            `${train} data or use features that generalise (subwords, characters, embeddings).`,
        );
      } else out.push(wrap(`info: ${line}.`));
    }
  }

  const ner = stats.task === 'ner';
  for (const s of stats.splits) {
    if (s.split === NO_SPLIT || stats.splits.length < 2) continue;
    const missing = s.labels.filter((l) => l.count === 0).map((l) => l.label);
    if (missing.length === 0) continue;
    const shown =
      missing.slice(0, 8).join(', ') + (missing.length > 8 ? `, … (${missing.length} in all)` : '');
    warn(
      `${s.split} has no ${ner ? 'entities' : 'examples'} of ${missing.length === 1 ? 'label' : 'labels'} ${shown}: ` +
        `${missing.length === 1 ? 'its' : 'their'} scores there are undefined; use a stratified split (--stratify) or add data.`,
    );
  }
  return out;
}

function slicesTable(stats: DatasetStats): string {
  const rows = stats.slices.map((s) => {
    const splits = s.splits.map((x) => `${splitTitle(x.split)} ${formatCount(x.count)}`).join(', ');
    const labels = s.labels
      .slice(0, 4)
      .map((l) => `${l.label} ${formatPercent(l.fraction, 0)}`)
      .join(', ');
    return [
      s.name,
      s.examples,
      formatPercent(stats.examples > 0 ? s.examples / stats.examples : 0),
      splits || '-',
      labels || '-',
    ];
  });
  const table = renderTable(rows, {
    header: ['slice', 'examples', '%', 'per split', 'top labels'],
    align: ['left', 'right', 'right', 'left', 'left'],
    maxWidth: [24, undefined, undefined, 30, 32],
  });
  const missing = stats.slices.filter((s) => s.missingIds > 0);
  const notes = missing.map((s) =>
    wrap(`warning: slice ${s.name} lists ${plural(s.missingIds, 'id')} not in this dataset version.`),
  );
  return [table, ...notes].join('\n');
}

/**
 * Renders the human report of `sapphire data stats`: a header line, split sizes, labels,
 * label distribution per split, length histogram, findings with plain-language warnings
 * (empty texts, duplicates, leakage, unseen tokens, labels missing from a split) and slices.
 *
 * @example
 * console.log(renderStats('reviews@3f2a1c', computeStats(examples)));
 */
export function renderStats(name: string, stats: DatasetStats): string {
  const parts = [headerLine(name, stats)];
  if (stats.examples === 0) return `${parts[0]}\n\nThe dataset has no examples.`;
  parts.push(section('Splits', splitsTable(stats)));
  parts.push(section(stats.task === 'ner' ? 'Entities per label' : 'Examples per label', labelsTable(stats)));
  if (stats.splits.length > 1) {
    const unit =
      stats.task === 'ner' ? "entities; % of the split's entities" : "examples; % of the split's examples";
    parts.push(section(`Label distribution per split (${unit})`, distributionTable(stats)));
  }
  parts.push(section('Length in tokens', lengthSection(stats)));
  parts.push(section('Checks', findings(stats).join('\n')));
  if (stats.slices.length > 0) parts.push(section('Slices', slicesTable(stats)));
  return parts.join('\n\n');
}
