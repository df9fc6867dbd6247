import { useState } from 'preact/hooks';
import { query } from '../api.ts';
import { Card, LineChart, Status, Table } from '../components.tsx';
import { count, ms, percent } from '../format.ts';
import { useApi } from '../hooks.ts';
import type { MonitorSeries, SeriesPoint } from '../types.ts';

/** Monitoring: traffic, latency p50/p99, error rate, thumbs-up rate and override hits over time per model version. */
export function MonitoringPage() {
  const [days, setDays] = useState(7);
  const [bucket, setBucket] = useState<'hour' | 'day'>('hour');
  const state = useApi<MonitorSeries>(`/v1/monitor/series${query({ days, bucket })}`);
  return (
    <div class="stack">
      <div class="row">
        <label>
          Window{' '}
          <select value={days} onChange={(e) => setDays(Number(e.currentTarget.value))}>
            {[1, 2, 7, 30, 90].map((d) => (
              <option key={d} value={d}>
                {d} day{d > 1 ? 's' : ''}
              </option>
            ))}
          </select>
        </label>
        <label>
          Bucket{' '}
          <select value={bucket} onChange={(e) => setBucket(e.currentTarget.value as 'hour' | 'day')}>
            <option value="hour">hour</option>
            <option value="day">day</option>
          </select>
        </label>
      </div>
      <Status state={state}>{(s) => <Charts s={s} />}</Status>
    </div>
  );
}

function seriesOf(points: SeriesPoint[], pick: (p: SeriesPoint) => number | null) {
  const times = [...new Set(points.map((p) => p.t))].sort();
  const versions = [...new Set(points.map((p) => `${p.model} v${p.version}`))];
  const x = times.map((t) => Date.parse(t) / 1000);
  const series = versions.map((v) => {
    const byT = new Map(points.filter((p) => `${p.model} v${p.version}` === v).map((p) => [p.t, pick(p)]));
    return { label: v, values: times.map((t) => byT.get(t) ?? null) };
  });
  return { x, series };
}

function Charts({ s }: { s: MonitorSeries }) {
  if (s.points.length === 0 && s.daily.length === 0)
    return <p class="muted">No traffic in this window yet.</p>;
  const step = s.bucket === 'hour' ? 3600 : 86_400;
  const now = Math.ceil(Date.now() / 1000 / step) * step;
  const span: [number, number] = [Date.parse(s.since) / 1000, now];
  const rate: [number, number] = [0, 1];
  const traffic = seriesOf(s.points, (p) => p.logged);
  const p50 = seriesOf(s.points, (p) => p.p50);
  const p99 = seriesOf(s.points, (p) => p.p99);
  const thumbs = seriesOf(s.points, (p) => p.thumbsUpRate);
  const overrides = seriesOf(s.points, (p) => p.overridden);
  const days = [...new Set(s.daily.map((d) => d.day))].sort();
  const versions = [...new Set(s.daily.map((d) => `${d.model} v${d.version}`))];
  const errorRate = {
    x: days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000),
    series: versions.map((v) => {
      const byDay = new Map(
        s.daily.filter((d) => `${d.model} v${d.version}` === v).map((d) => [d.day, d.errorRate]),
      );
      return { label: v, values: days.map((d) => byDay.get(d) ?? null) };
    }),
  };
  return (
    <div class="grid">
      <Card title={`Traffic (logged texts per ${s.bucket})`}>
        <LineChart title="logged texts" time xRange={span} {...traffic} />
      </Card>
      <Card title="Latency p50 (ms)">
        <LineChart title="latency p50 ms" time xRange={span} {...p50} />
      </Card>
      <Card title="Latency p99 (ms)">
        <LineChart title="latency p99 ms" time xRange={span} {...p99} />
      </Card>
      <Card title="Error rate (per day)">
        <LineChart title="error rate" time xRange={span} yRange={rate} {...errorRate} />
      </Card>
      <Card title="Thumbs-up rate">
        <LineChart title="thumbs-up rate" time xRange={span} yRange={rate} {...thumbs} />
      </Card>
      <Card title={`Override hits per ${s.bucket}`}>
        <LineChart title="overridden texts" time xRange={span} {...overrides} />
      </Card>
      <Card title="Per day (exact counts)" wide>
        <Table
          rows={s.daily}
          rowKey={(d) => `${d.model}-${d.version}-${d.day}`}
          columns={[
            { key: 'day', title: 'day', value: (d) => d.day },
            { key: 'model', title: 'model', value: (d) => `${d.model} v${d.version}` },
            {
              key: 'requests',
              title: 'requests',
              numeric: true,
              value: (d) => d.requests,
              render: (d) => count(d.requests),
            },
            {
              key: 'errors',
              title: 'error rate',
              numeric: true,
              value: (d) => d.errorRate,
              render: (d) => percent(d.errorRate),
            },
            { key: 'over', title: 'overridden', numeric: true, value: (d) => d.overridden },
            {
              key: 'up',
              title: 'thumbs-up',
              numeric: true,
              value: (d) => d.thumbsUpRate,
              render: (d) => `${percent(d.thumbsUpRate)} (${d.up}↑ ${d.down}↓)`,
            },
          ]}
        />
        <p class="muted small-text">
          Latency over the logged sample: newest p50 {ms(s.points.at(-1)?.p50)}, p99{' '}
          {ms(s.points.at(-1)?.p99)}.
        </p>
      </Card>
    </div>
  );
}
