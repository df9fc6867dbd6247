import { formatProblem } from '../../core/errors.ts';
import { formatCount, renderTable } from '../../core/table.ts';
import type { ImportResult } from '../../data/dataset-ops.ts';
import { compareSplits } from '../../data/stats.ts';
import type { Example } from '../../data/types.ts';
import type { DatasetVersion } from '../../store/store.ts';

/** A version's split counts as `train 8,003, dev 1,000, test 1,000`, in the conventional order. */
export function describeSplits(version: DatasetVersion): string {
  const entries = Object.entries(version.splitCounts).sort(([a], [b]) => compareSplits(a, b));
  return entries.length === 0 ? '-' : entries.map(([name, n]) => `${name} ${formatCount(n)}`).join(', ');
}

function describeOperation(version: DatasetVersion): string {
  const { kind, params } = version.operation;
  if (kind === 'import') {
    const sources = (params.sources ?? []) as { path: string; format: string }[];
    return `import ${sources.map((s) => `${s.path} (${s.format})`).join(', ')}`;
  }
  if (kind === 'split') {
    const ratios = (params.ratios as number[] | undefined)?.join('/') ?? '';
    const stratified = params.stratify ? ' stratified' : '';
    const grouped = params.groupBy ? ` by ${String(params.groupBy)}` : '';
    return `split ${ratios} seed ${String(params.seed)}${stratified}${grouped}`;
  }
  return kind;
}

/** The table printed by `sapphire data ls`. */
export function renderVersions(versions: DatasetVersion[]): string {
  if (versions.length === 0)
    return 'No datasets yet. Import one with `sapphire data import <file> --name <dataset>`.';
  const rows = versions.map((v) => [
    v.id,
    formatCount(v.exampleCount),
    describeSplits(v),
    describeOperation(v),
    v.createdAt.slice(0, 19).replace('T', ' '),
  ]);
  return renderTable(rows, {
    header: ['version', 'examples', 'splits', 'made by', 'created (UTC)'],
    align: ['left', 'right', 'left', 'left', 'left'],
  });
}

/** A version and its ancestors, as printed by `sapphire data show`. */
export function renderLineage(chain: DatasetVersion[]): string {
  const [head, ...ancestors] = chain;
  if (!head) return '';
  const lines = [
    `${head.id}  ${formatCount(head.exampleCount)} examples  splits: ${describeSplits(head)}`,
    `  made by: ${describeOperation(head)}`,
    `  hash:    ${head.hash}`,
    `  created: ${head.createdAt}`,
  ];
  for (const v of ancestors) lines.push(`  ← ${v.id}: ${describeOperation(v)}`);
  return lines.join('\n');
}

/** Shows an example's text with its entities bracketed as `[text LABEL]`. */
export function markSpans(example: Example): string {
  const spans = [...(example.spans ?? [])].sort((a, b) => a.start - b.start);
  let out = '';
  let cursor = 0;
  for (const s of spans) {
    out += `${example.text.slice(cursor, s.start)}[${example.text.slice(s.start, s.end)} ${s.label}]`;
    cursor = s.end;
  }
  return out + example.text.slice(cursor);
}

/** A few examples, one block each, for `sapphire data show`. */
export function renderExamples(examples: Example[]): string {
  if (examples.length === 0) return '(no examples)';
  return examples
    .map((e) => {
      const head = [
        e.id,
        e.split ? `split=${e.split}` : '',
        e.labels?.length ? `labels=${e.labels.join('|')}` : '',
      ]
        .filter(Boolean)
        .join('  ');
      const text = markSpans(e);
      return `${head}\n  ${text.length > 400 ? `${text.slice(0, 400)}…` : text}`;
    })
    .join('\n');
}

/** The summary printed after an import. */
export function renderImport(result: ImportResult): string {
  const v = result.version;
  const lines = [
    result.created
      ? `Imported ${v.id}: ${formatCount(v.exampleCount)} examples (splits: ${describeSplits(v)}).`
      : `Unchanged: identical content is already stored as ${v.id} (${formatCount(v.exampleCount)} examples).`,
  ];
  if (result.skipped.length > 0) {
    lines.push(`Skipped ${result.skipped.length} invalid item(s):`);
    for (const p of result.skipped) lines.push(`  ${formatProblem(p)}`);
  }
  return lines.join('\n');
}
