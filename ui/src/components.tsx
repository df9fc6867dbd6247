import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ApiError } from './api.ts';
import type { Loaded } from './hooks.ts';

/** Shows a loading line or an API error (with its hint); renders the children once the data is there. */
export function Status<T>({
  state,
  children,
}: {
  state: Loaded<T>;
  children: (data: T) => ComponentChildren;
}) {
  if (state.error) return <ErrorBox error={state.error} />;
  if (state.loading || state.data === null)
    return (
      <p class="muted" aria-busy="true">
        Loading…
      </p>
    );
  return <>{children(state.data)}</>;
}

/** An error message with the API's hint. */
export function ErrorBox({ error }: { error: Error }) {
  return (
    <div class="error" role="alert">
      <strong>{error instanceof ApiError ? `${error.code}: ` : ''}</strong>
      {error.message}
      {error instanceof ApiError && error.hint ? <div class="hint">hint: {error.hint}</div> : null}
      {error instanceof ApiError && (error.status === 401 || error.status === 403) ? (
        <div class="hint">This server needs an API key: press “API key” at the top right and paste one.</div>
      ) : null}
    </div>
  );
}

/** A column of {@link Table}. */
export interface Column<R> {
  key: string;
  title: string;
  value: (row: R) => string | number | null;
  render?: (row: R) => ComponentChildren;
  numeric?: boolean;
}

/** A table whose headers sort it (click or Enter; again to reverse). */
export function Table<R>({
  rows,
  columns,
  rowKey,
  caption,
  initialSort,
}: {
  rows: R[];
  columns: Column<R>[];
  rowKey: (row: R) => string;
  caption?: string;
  initialSort?: { key: string; desc: boolean };
}) {
  const [sort, setSort] = useState<{ key: string; desc: boolean } | null>(initialSort ?? null);
  const column = columns.find((c) => c.key === sort?.key);
  const sorted = column
    ? [...rows].sort((a, b) => {
        const x = column.value(a);
        const y = column.value(b);
        if (x === y) return 0;
        if (x === null) return 1;
        if (y === null) return -1;
        const cmp = x < y ? -1 : 1;
        return sort!.desc ? -cmp : cmp;
      })
    : rows;
  return (
    <div class="table-wrap">
      <table>
        {caption ? <caption>{caption}</caption> : null}
        <thead>
          <tr>
            {columns.map((c) => (
              <th
                key={c.key}
                class={c.numeric ? 'num' : ''}
                aria-sort={sort?.key === c.key ? (sort.desc ? 'descending' : 'ascending') : 'none'}
              >
                <button
                  type="button"
                  class="sort"
                  onClick={() =>
                    setSort({ key: c.key, desc: sort?.key === c.key ? !sort.desc : !!c.numeric })
                  }
                >
                  {c.title}
                  {sort?.key === c.key ? (sort.desc ? ' ▼' : ' ▲') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((c) => (
                <td key={c.key} class={c.numeric ? 'num' : ''}>
                  {c.render ? c.render(row) : (c.value(row) ?? '–')}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Horizontal bars: one per item, value 0..max, with the value printed; flagged items in the warning colour. */
export function Bars({
  items,
  max,
  format,
  label,
}: {
  items: { name: string; value: number | null; flagged?: boolean; note?: string }[];
  max?: number;
  format: (x: number | null) => string;
  label: string;
}) {
  const top = max ?? Math.max(1e-9, ...items.map((i) => i.value ?? 0));
  return (
    <ul class="bars" aria-label={label}>
      {items.map((item) => (
        <li key={item.name} class={item.flagged ? 'flagged' : ''}>
          <span class="bar-name" title={item.name}>
            {item.name}
          </span>
          <span class="bar-track">
            <span
              class="bar-fill"
              style={{ width: `${Math.max(0, Math.min(1, (item.value ?? 0) / top)) * 100}%` }}
            />
          </span>
          <span class="bar-value">
            {format(item.value)}
            {item.note ? <span class="muted"> {item.note}</span> : null}
          </span>
        </li>
      ))}
    </ul>
  );
}

/** A confusion heatmap: rows gold, columns predicted; cell shade by the share of the gold row. */
export function Heatmap({
  labels,
  matrix,
  onPick,
}: {
  labels: string[];
  matrix: number[][];
  onPick?: (gold: string, predicted: string) => void;
}) {
  return (
    <div class="table-wrap">
      <table class="heatmap">
        <caption>Confusion: rows are gold labels, columns predicted</caption>
        <thead>
          <tr>
            <th scope="col">gold \ predicted</th>
            {labels.map((l) => (
              <th scope="col" key={l}>
                {l}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {labels.map((gold, i) => {
            const total = matrix[i]!.reduce((a, b) => a + b, 0) || 1;
            return (
              <tr key={gold}>
                <th scope="row">{gold}</th>
                {labels.map((predicted, j) => {
                  const n = matrix[i]![j]!;
                  const share = n / total;
                  const hue = i === j ? '150 60%' : '5 75%';
                  return (
                    <td
                      key={predicted}
                      class="num cell"
                      style={{ background: n ? `hsl(${hue} ${95 - share * 50}%)` : undefined }}
                      title={`${gold} → ${predicted}: ${n}`}
                    >
                      {onPick && n > 0 && i !== j ? (
                        <button type="button" class="link" onClick={() => onPick(gold, predicted)}>
                          {n}
                        </button>
                      ) : (
                        n
                      )}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#be185d', '#4b5563'];

/** A colour of the chart palette. */
export const colour = (i: number): string => PALETTE[i % PALETTE.length]!;

/** A line chart (uPlot) of series over a shared x axis; x is time (seconds) or a step number. */
export function LineChart({
  title,
  x,
  series,
  time = false,
  height = 220,
  xRange,
  yRange,
}: {
  title: string;
  x: number[];
  series: { label: string; values: (number | null)[] }[];
  time?: boolean;
  height?: number;
  /** Fixed x range (e.g. the monitoring window), else from the data. */
  xRange?: [number, number];
  /** Fixed y range (e.g. 0..1 for rates), else from the data. */
  yRange?: [number, number];
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || x.length === 0) return;
    const width = Math.max(280, el.clientWidth);
    const plot = new uPlot(
      {
        width,
        height,
        scales: {
          x: xRange ? { time, range: () => xRange } : { time },
          y: yRange ? { range: () => yRange } : {},
        },
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            stroke: colour(i),
            width: 2,
            spanGaps: true,
            points: { show: x.length < 40 },
          })),
        ],
        axes: [{}, { size: 60 }],
        legend: { show: true },
      },
      [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const resize = () => plot.setSize({ width: Math.max(280, el.clientWidth), height });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [x, series, time, height, xRange, yRange]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      {x.length === 0 ? <p class="muted">No data yet.</p> : <div ref={box} role="img" aria-label={title} />}
    </figure>
  );
}

/** A text with spans highlighted (entity label and optional score on each), keyboard- and screen-reader friendly. */
export function Highlighted({
  text,
  spans,
  onRemove,
}: {
  text: string;
  spans: { start: number; end: number; label: string; score?: number; override?: string }[];
  onRemove?: (index: number) => void;
}) {
  const sorted = spans.map((s, i) => ({ ...s, i })).sort((a, b) => a.start - b.start);
  const parts: ComponentChildren[] = [];
  let at = 0;
  for (const s of sorted) {
    if (s.start < at) continue;
    if (s.start > at) parts.push(text.slice(at, s.start));
    parts.push(
      <mark class={`ent ent-${labelIndex(s.label)}`} key={`${s.start}-${s.end}`} data-label={s.label}>
        {text.slice(s.start, s.end)}
        <span class="ent-label">
          {s.label}
          {s.score !== undefined ? ` ${s.score.toFixed(2)}` : ''}
          {s.override ? ' ⚑' : ''}
        </span>
        {onRemove ? (
          <button
            type="button"
            class="ent-x"
            aria-label={`remove ${s.label} ${text.slice(s.start, s.end)}`}
            onClick={() => onRemove(s.i)}
          >
            ×
          </button>
        ) : null}
      </mark>,
    );
    at = s.end;
  }
  if (at < text.length) parts.push(text.slice(at));
  return <p class="highlighted">{parts}</p>;
}

const labelIndexes = new Map<string, number>();
/** A stable small number per label, for its colour. */
export function labelIndex(label: string): number {
  if (!labelIndexes.has(label)) labelIndexes.set(label, labelIndexes.size % 8);
  return labelIndexes.get(label)!;
}

/** A titled panel. */
export function Card({
  title,
  children,
  wide,
}: {
  title: string;
  children: ComponentChildren;
  wide?: boolean;
}) {
  return (
    <section class={`card${wide ? ' wide' : ''}`} aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}
