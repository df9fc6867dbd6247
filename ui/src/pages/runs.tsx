import { useState } from 'preact/hooks';
import { query } from '../api.ts';
import { Bars, Card, colour, LineChart, Status, Table } from '../components.tsx';
import { score, signed, when } from '../format.ts';
import { useApi, useQuery } from '../hooks.ts';
import type { MetricPoint, ProjectView, Run } from '../types.ts';

/** Runs: a sortable, filterable table; pick runs to compare; studies and ladders below. */
export function RunsPage() {
  const [params, setParams] = useQuery();
  const compare = params.get('compare');
  return compare ? (
    <Compare ids={compare} onBack={() => setParams({ compare: null })} />
  ) : (
    <RunList onCompare={(ids) => setParams({ compare: ids.join(',') })} />
  );
}

function RunList({ onCompare }: { onCompare: (ids: string[]) => void }) {
  const [filter, setFilter] = useState('');
  const [applied, setApplied] = useState('');
  const [members, setMembers] = useState(false);
  const [picked, setPicked] = useState<string[]>([]);
  const project = useApi<ProjectView>('/v1/project');
  const runs = useApi<{ runs: Run[] }>(
    `/v1/runs${query({ filter: applied || undefined, members: members || undefined })}`,
  );
  const studies = useApi<{ studies: { study: Run; members: Run[] }[] }>('/v1/studies');
  const primary = project.data?.card.metrics.primary ?? 'f1';
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));
  return (
    <div class="stack">
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(filter.trim());
        }}
      >
        <label>
          Filter{' '}
          <input
            value={filter}
            onInput={(e) => setFilter(e.currentTarget.value)}
            placeholder={`e.g. dev.${primary}>0.5 or kind=train`}
            size={32}
          />
        </label>
        <button type="submit" class="secondary">
          Apply
        </button>
        <label>
          <input type="checkbox" checked={members} onChange={(e) => setMembers(e.currentTarget.checked)} />{' '}
          include study members
        </label>
        <button type="button" disabled={picked.length < 2} onClick={() => onCompare(picked)}>
          Compare {picked.length ? `(${picked.length})` : ''}
        </button>
      </form>
      <Status state={runs}>
        {({ runs: list }) => (
          <Table
            caption={`${list.length} runs — tick two or more to compare (the first ticked is the baseline)`}
            rows={list}
            rowKey={(r) => r.id}
            columns={[
              {
                key: 'pick',
                title: '✓',
                value: (r) => (picked.includes(r.id) ? 1 : 0),
                render: (r) => (
                  <input
                    type="checkbox"
                    aria-label={`select run ${r.id}`}
                    checked={picked.includes(r.id)}
                    onChange={() => toggle(r.id)}
                  />
                ),
              },
              { key: 'id', title: 'run', value: (r) => r.id, render: (r) => <code>{r.id}</code> },
              { key: 'kind', title: 'kind', value: (r) => r.kind },
              { key: 'name', title: 'name', value: (r) => r.name },
              {
                key: 'arch',
                title: 'model',
                value: (r) =>
                  String((r.config.model as { architecture?: string } | undefined)?.architecture ?? ''),
              },
              { key: 'status', title: 'status', value: (r) => r.status },
              {
                key: 'dev',
                title: `dev ${primary}`,
                numeric: true,
                value: (r) => r.metrics[`dev.${primary}`] ?? null,
                render: (r) => score(r.metrics[`dev.${primary}`]),
              },
              {
                key: 'test',
                title: `test ${primary}`,
                numeric: true,
                value: (r) => r.metrics[`test.${primary}`] ?? null,
                render: (r) => score(r.metrics[`test.${primary}`]),
              },
              {
                key: 'started',
                title: 'started',
                value: (r) => r.startedAt,
                render: (r) => when(r.startedAt),
              },
            ]}
          />
        )}
      </Status>
      <Card title="Studies and ladders" wide>
        <Status state={studies}>
          {({ studies: list }) =>
            list.length === 0 ? (
              <p class="muted">No studies yet: `sapphire ladder`, `sweep`, `cv` or `curve`.</p>
            ) : (
              <div class="stack">
                {list.map(({ study, members: m }) => (
                  <div key={study.id}>
                    <h3>
                      {study.kind} {study.name ?? ''} <code>{study.id}</code>
                    </h3>
                    <Bars
                      label={`${study.kind} members by ${primary}`}
                      items={m.map((r) => ({
                        name: r.name ?? r.id,
                        value:
                          r.metrics[`dev.${primary}`] ??
                          r.metrics[`test.${primary}`] ??
                          r.metrics[`heldout.${primary}`] ??
                          null,
                      }))}
                      max={1}
                      format={score}
                    />
                    <button
                      type="button"
                      class="small secondary"
                      disabled={m.length < 2}
                      onClick={() => onCompare(m.slice(0, 8).map((r) => r.id))}
                    >
                      Compare its runs
                    </button>
                  </div>
                ))}
              </div>
            )
          }
        </Status>
      </Card>
    </div>
  );
}

interface Comparison {
  comparison: {
    runs: { id: string; name: string | null; kind: string; seed: number | null; datasetVersions: string[] }[];
    config: { key: string; values: unknown[] }[];
    sameConfigKeys: number;
    metrics: { key: string; values: (number | null)[]; deltas: (number | null)[] }[];
    differences: { field: string; values: unknown[] }[];
  };
  significance: {
    label: string;
    runs: string[];
    significance: {
      metric: string;
      split: string;
      delta: number;
      ci: [number, number];
      pValue: number;
      marker: string;
      significant: boolean;
      examples: number;
    } | null;
    perLabel: { label: string; f1: number; support: number }[] | null;
  }[];
  histories: Record<string, MetricPoint[]>;
}

const show = (v: unknown): string =>
  v === undefined || v === null ? '–' : typeof v === 'string' ? v : JSON.stringify(v);

/** Metrics where a smaller number is better (times, losses, calibration error, Hamming loss). */
const lowerIsBetter = (key: string): boolean => /seconds|loss|ece|hamming/.test(key);

function deltaClass(key: string, delta: number): string {
  if (delta === 0) return '';
  return delta > 0 !== lowerIsBetter(key) ? 'up' : 'down';
}

function Compare({ ids, onBack }: { ids: string; onBack: () => void }) {
  const state = useApi<Comparison>(`/v1/runs/compare${query({ ids })}`);
  return (
    <div class="stack">
      <p>
        <button type="button" class="secondary" onClick={onBack}>
          ← All runs
        </button>
      </p>
      <Status state={state}>{(c) => <CompareView c={c} />}</Status>
    </div>
  );
}

function CompareView({ c }: { c: Comparison }) {
  const runs = c.comparison.runs;
  const head = runs.map((r, i) => (
    <th key={r.id} scope="col">
      <span style={{ color: colour(i) }}>■</span> <code>{r.id}</code>
      {i === 0 ? <div class="muted small-text">baseline</div> : null}
    </th>
  ));
  const bySig = new Map(c.significance.flatMap((s) => s.runs.map((id) => [id, s] as const)));
  // Learning and loss curves: every metric logged at more than one step.
  const keys = [...new Set(Object.values(c.histories).flatMap((h) => h.map((p) => p.key)))].filter((k) =>
    Object.values(c.histories).some((h) => h.filter((p) => p.key === k).length > 1),
  );
  return (
    <div class="grid">
      <Card title="Metrics (Δ against the baseline)" wide>
        <div class="table-wrap">
          <table class="compare" aria-label="Metric deltas">
            <thead>
              <tr>
                <th scope="col">metric</th>
                {head}
              </tr>
            </thead>
            <tbody>
              {c.comparison.metrics.map((m) => (
                <tr key={m.key}>
                  <th scope="row">{m.key}</th>
                  {m.values.map((v, i) => (
                    <td key={runs[i]!.id} class="num">
                      {score(v)}
                      {i > 0 && m.deltas[i] !== null ? (
                        <span class={`delta ${deltaClass(m.key, m.deltas[i]!)}`}>
                          {' '}
                          ({signed(m.deltas[i])})
                        </span>
                      ) : null}
                    </td>
                  ))}
                </tr>
              ))}
              <tr>
                <th scope="row">significance</th>
                {runs.map((r, i) => {
                  const s = bySig.get(r.id)?.significance;
                  return (
                    <td key={r.id} class="small-text">
                      {i === 0 ? (
                        'baseline'
                      ) : s ? (
                        <span
                          title={`95% CI [${signed(s.ci[0])}, ${signed(s.ci[1])}], ${s.examples} examples of ${s.split}`}
                        >
                          Δ {s.split}.{s.metric} {signed(s.delta)} p={s.pValue.toFixed(3)} {s.marker}{' '}
                          {s.significant ? <strong>significant</strong> : 'not significant'}
                        </span>
                      ) : (
                        <span class="muted">no paired predictions</span>
                      )}
                    </td>
                  );
                })}
              </tr>
            </tbody>
          </table>
        </div>
      </Card>
      <Card title={`Config differences (${c.comparison.sameConfigKeys} keys equal)`} wide>
        {c.comparison.config.length === 0 ? (
          <p class="muted">Same config.</p>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">key</th>
                  {head}
                </tr>
              </thead>
              <tbody>
                {[
                  ...c.comparison.config,
                  ...c.comparison.differences.map((d) => ({ key: d.field, values: d.values })),
                ].map((d) => (
                  <tr key={d.key}>
                    <th scope="row">{d.key}</th>
                    {d.values.map((v, i) => (
                      <td key={runs[i]!.id}>{show(v)}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <Card title="Per-label F1">
        {c.significance.every((s) => !s.perLabel) ? (
          <p class="muted">No stored predictions.</p>
        ) : (
          c.significance.map((s, i) =>
            s.perLabel ? (
              <div key={s.label}>
                <h3 style={{ color: colour(i) }}>{s.label}</h3>
                <Bars
                  label={`per-label F1 of ${s.label}`}
                  items={s.perLabel.map((l) => ({ name: l.label, value: l.f1, note: `n=${l.support}` }))}
                  max={1}
                  format={score}
                />
              </div>
            ) : null,
          )
        )}
      </Card>
      {keys.map((key) => {
        const steps = [
          ...new Set(
            Object.values(c.histories).flatMap((h) => h.filter((p) => p.key === key).map((p) => p.step)),
          ),
        ].sort((a, b) => a - b);
        return (
          <Card key={key} title={`${key} by step`}>
            <LineChart
              title={key}
              x={steps}
              series={runs.map((r) => {
                const points = new Map(
                  (c.histories[r.id] ?? []).filter((p) => p.key === key).map((p) => [p.step, p.value]),
                );
                return { label: r.id, values: steps.map((s) => points.get(s) ?? null) };
              })}
            />
          </Card>
        );
      })}
    </div>
  );
}
