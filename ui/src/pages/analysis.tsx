import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.ts';
import { Bars, Card, ErrorBox, Heatmap, Status, Table } from '../components.tsx';
import { percent, score, signed } from '../format.ts';
import { useApi, useQuery } from '../hooks.ts';
import type { BrowsedError, Run } from '../types.ts';

interface AnalysisView {
  run: string;
  data: string;
  report: {
    model: string;
    examples: number;
    primary: { metric: string; value: number };
    evaluation: {
      perLabel: { label: string; precision: number; recall: number; f1: number; support: number }[];
    };
    confusion: { labels: string[]; matrix: number[][] };
    slices: {
      overall: number;
      rows: {
        name: string;
        kind: string;
        description?: string;
        examples: number;
        score: number | null;
        delta: number | null;
        lagging: boolean;
      }[];
    };
    labelNoise: {
      total: number;
      suspects: { exampleId: string; text: string; gold: string; predicted: string; confidence: number }[];
    };
    bugs: { failed: number; checks: { name: string; passed: boolean; detail?: string; message?: string }[] };
  };
  errors: BrowsedError[];
}

interface TestsView {
  run: string | null;
  report: {
    passed: boolean;
    earmarks: {
      total: number;
      passed: number;
      failed: { text: string; failures: { message?: string }[] }[];
    } | null;
    behaviour: {
      name: string;
      type: string;
      cases: number;
      failures: number;
      failureRate: number;
      exceeded: boolean;
      maxFailureRate: number;
    }[];
  } | null;
}

/** Analysis of a run's model: confusion heatmap, slices (lagging flagged), error browser (howlers first), tests. */
export function AnalysisPage() {
  const [params, setParams] = useQuery();
  const runs = useApi<{ runs: Run[] }>('/v1/runs?members=true&filter=status=finished');
  const withModel = (runs.data?.runs ?? []).filter((r) =>
    ['train', 'trial', 'rung', 'curve-point', 'fold'].includes(r.kind),
  );
  const run = params.get('run') ?? withModel[0]?.id ?? '';
  const data = params.get('data') ?? '';
  return (
    <div class="stack">
      <div class="row">
        <label>
          Run{' '}
          <select value={run} onChange={(e) => setParams({ run: e.currentTarget.value, data: null })}>
            {withModel.map((r) => (
              <option key={r.id} value={r.id}>
                {r.id} {String((r.config.model as { architecture?: string } | undefined)?.architecture ?? '')}{' '}
                {r.name ?? ''}
              </option>
            ))}
          </select>
        </label>
        <DataPicker value={data} onChange={(d) => setParams({ data: d })} />
      </div>
      {runs.error ? <ErrorBox error={runs.error} /> : null}
      {run ? (
        <Analysis key={`${run}|${data}`} run={run} data={data} />
      ) : runs.loading ? null : (
        <p class="muted">No trained runs yet.</p>
      )}
    </div>
  );
}

function DataPicker({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const [draft, setDraft] = useState(value);
  return (
    <form
      class="row"
      onSubmit={(e) => {
        e.preventDefault();
        onChange(draft.trim());
      }}
    >
      <label>
        Data{' '}
        <input
          value={draft}
          onInput={(e) => setDraft(e.currentTarget.value)}
          placeholder="dataset:dev (default)"
          size={20}
        />
      </label>
      <button type="submit" class="secondary small">
        Analyse
      </button>
    </form>
  );
}

function Analysis({ run, data }: { run: string; data: string }) {
  const state = useApi<AnalysisView>(
    `/v1/runs/${encodeURIComponent(run)}/analysis${query({ data: data || undefined })}`,
  );
  const [filter, setFilter] = useState<{ kind: string; label: string; slice: string }>({
    kind: '',
    label: '',
    slice: '',
  });
  return (
    <Status state={state}>
      {(a) => {
        const r = a.report;
        const kinds = [...new Set(a.errors.map((e) => e.kind))].sort();
        const labels = [...new Set(a.errors.flatMap((e) => [e.gold, e.predicted]))]
          .filter((l) => l !== '-')
          .sort();
        const sliceNames = [...new Set(a.errors.flatMap((e) => e.slices))].sort();
        const shown = a.errors.filter(
          (e) =>
            (!filter.kind || e.kind === filter.kind) &&
            (!filter.label || e.gold === filter.label || e.predicted === filter.label) &&
            (!filter.slice || e.slices.includes(filter.slice)),
        );
        return (
          <div class="grid">
            <Card title="Summary">
              <p>
                {r.model} on <code>{a.data}</code> ({r.examples} examples):{' '}
                <strong>
                  {r.primary.metric} {score(r.primary.value)}
                </strong>
              </p>
              <p class={r.bugs.failed ? 'warn-text' : 'muted'}>
                {r.bugs.failed ? `${r.bugs.failed} implementation bug check(s) failed` : 'Bug checks passed'}{' '}
                · {r.labelNoise.total} label-noise suspects
              </p>
            </Card>
            <Card title="Per label">
              <Bars
                label="per-label F1"
                items={r.evaluation.perLabel.map((l) => ({
                  name: l.label,
                  value: l.f1,
                  note: `P ${score(l.precision)} R ${score(l.recall)} n=${l.support}`,
                }))}
                max={1}
                format={score}
              />
            </Card>
            <Card title="Confusion" wide>
              <Heatmap
                labels={r.confusion.labels}
                matrix={r.confusion.matrix}
                onPick={(gold, predicted) =>
                  setFilter({ kind: '', slice: '', label: gold === '-' || gold === 'O' ? predicted : gold })
                }
              />
            </Card>
            <Card title={`Slices (overall ${score(r.slices.overall)}; lagging flagged)`} wide>
              <Bars
                label="slice scores"
                items={r.slices.rows.map((s) => ({
                  name: `${s.lagging ? '⚠ ' : ''}${s.name}`,
                  value: s.score,
                  flagged: s.lagging,
                  note: `Δ ${signed(s.delta)} · n=${s.examples}`,
                }))}
                max={1}
                format={score}
              />
            </Card>
            <Card title={`Error browser (${shown.length} of ${a.errors.length}, most confident first)`} wide>
              <fieldset class="row">
                <legend class="sr-only">Error filters</legend>
                <Choice
                  label="Error type"
                  value={filter.kind}
                  options={kinds}
                  onChange={(kind) => setFilter({ ...filter, kind })}
                />
                <Choice
                  label="Label"
                  value={filter.label}
                  options={labels}
                  onChange={(label) => setFilter({ ...filter, label })}
                />
                <Choice
                  label="Slice"
                  value={filter.slice}
                  options={sliceNames}
                  onChange={(slice) => setFilter({ ...filter, slice })}
                />
              </fieldset>
              {shown.length === 0 ? (
                <p class="muted">No errors{a.errors.length ? ' with these filters' : ''}.</p>
              ) : null}
              <Table
                rows={shown.slice(0, 300)}
                rowKey={(e) => `${e.exampleId}-${e.kind}-${e.span?.start ?? ''}-${e.gold}-${e.predicted}`}
                columns={[
                  {
                    key: 'conf',
                    title: 'confidence',
                    numeric: true,
                    value: (e) => e.confidence,
                    render: (e) =>
                      e.confidence !== null && e.confidence >= 0.9 ? (
                        <strong title="howler">{percent(e.confidence)} ‼</strong>
                      ) : (
                        percent(e.confidence)
                      ),
                  },
                  { key: 'kind', title: 'type', value: (e) => e.kind },
                  { key: 'gold', title: 'gold', value: (e) => e.gold },
                  { key: 'pred', title: 'predicted', value: (e) => e.predicted },
                  {
                    key: 'text',
                    title: 'text',
                    value: (e) => e.text,
                    render: (e) =>
                      e.span ? (
                        <span>
                          {e.text.slice(0, e.span.start)}
                          <mark>{e.text.slice(e.span.start, e.span.end)}</mark>
                          {e.text.slice(e.span.end)}
                        </span>
                      ) : (
                        e.text
                      ),
                  },
                  { key: 'slices', title: 'slices', value: (e) => e.slices.join(', ') },
                ]}
              />
            </Card>
            <Tests run={a.run} />
          </div>
        );
      }}
    </Status>
  );
}

/** A labelled select of one filter: `all` (the empty value) or one of the options. */
function Choice({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: string;
  options: string[];
  onChange: (value: string) => void;
}) {
  return (
    <label>
      {label}{' '}
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">all</option>
        {options.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
    </label>
  );
}

function Tests({ run }: { run: string }) {
  const [tick, setTick] = useState(0);
  const state = useApi<TestsView>(
    `/v1/runs/${encodeURIComponent(run)}/tests${query({ t: tick || undefined })}`,
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => setError(null), [run]);
  const runTests = async () => {
    setBusy(true);
    setError(null);
    try {
      await api(`/v1/runs/${encodeURIComponent(run)}/tests`, {});
      setTick((t) => t + 1);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title="Earmarks and behavioural tests" wide>
      <Status state={state}>
        {(t) =>
          t.report === null ? (
            <p class="muted">This model was never tested.</p>
          ) : (
            <div class="stack">
              <p class={t.report.passed ? 'ok-text' : 'warn-text'}>
                {t.report.passed ? '✓ all tests pass' : '✗ some tests fail'}{' '}
                <span class="muted">(test run {t.run})</span>
              </p>
              {t.report.earmarks ? (
                <p>
                  Earmarks: {t.report.earmarks.passed} / {t.report.earmarks.total} pass
                </p>
              ) : (
                <p class="muted">No earmarks file.</p>
              )}
              {t.report.earmarks?.failed.length ? (
                <ul class="plain small-text">
                  {t.report.earmarks.failed.slice(0, 10).map((f, i) => (
                    <li key={i}>✗ {f.text}</li>
                  ))}
                </ul>
              ) : null}
              {t.report.behaviour.length ? (
                <Table
                  rows={t.report.behaviour}
                  rowKey={(b) => b.name}
                  columns={[
                    { key: 'name', title: 'behaviour test', value: (b) => b.name },
                    { key: 'type', title: 'type', value: (b) => b.type },
                    { key: 'cases', title: 'cases', numeric: true, value: (b) => b.cases },
                    {
                      key: 'rate',
                      title: 'failure rate',
                      numeric: true,
                      value: (b) => b.failureRate,
                      render: (b) => `${percent(b.failureRate)} (max ${percent(b.maxFailureRate)})`,
                    },
                    { key: 'ok', title: 'result', value: (b) => (b.exceeded ? 'fail' : 'pass') },
                  ]}
                />
              ) : null}
            </div>
          )
        }
      </Status>
      <p>
        <button type="button" class="secondary" disabled={busy} onClick={runTests}>
          {busy ? 'Testing…' : 'Run the tests now'}
        </button>
      </p>
      {error ? <ErrorBox error={error} /> : null}
    </Card>
  );
}
