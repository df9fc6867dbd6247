import { Bars, Card, Status, Table } from '../components.tsx';
import { count, percent, when } from '../format.ts';
import { useApi, useQuery } from '../hooks.ts';
import type { DatasetVersion } from '../types.ts';

interface LabelCount {
  label: string;
  count: number;
  fraction: number;
}

interface DatasetDetail {
  version: DatasetVersion;
  lineage: DatasetVersion[];
  stats: {
    task: string;
    examples: number;
    tokens: number;
    splits: { split: string; examples: number; tokens: number; entities: number; labels: LabelCount[] }[];
    length: {
      min: number;
      median: number;
      p95: number;
      max: number;
      histogram: { label: string; count: number }[];
    };
    duplicates: { groups: number; redundant: number; conflictingGroups: number };
    leakage: { split: string; examples: number; fraction: number }[];
    slices: {
      name: string;
      examples: number;
      splits: { split: string; count: number }[];
      labels: LabelCount[];
    }[];
  };
}

/** Datasets: every version with its lineage; statistics, label distributions per split and slices of one. */
export function DatasetsPage() {
  const [params, setParams] = useQuery();
  const list = useApi<{ versions: DatasetVersion[] }>('/v1/datasets');
  const picked = params.get('version');
  return (
    <div class="stack">
      <Status state={list}>
        {({ versions }) => (
          <Table
            caption={`${versions.length} dataset versions, newest first`}
            rows={versions}
            rowKey={(v) => v.id}
            columns={[
              {
                key: 'id',
                title: 'version',
                value: (v) => v.id,
                render: (v) => (
                  <button
                    type="button"
                    class="link"
                    onClick={() => setParams({ version: v.id })}
                    aria-pressed={picked === v.id}
                  >
                    {v.id}
                  </button>
                ),
              },
              { key: 'op', title: 'made by', value: (v) => v.operation.kind },
              { key: 'parent', title: 'parent', value: (v) => v.parentId },
              {
                key: 'n',
                title: 'examples',
                numeric: true,
                value: (v) => v.exampleCount,
                render: (v) => count(v.exampleCount),
              },
              {
                key: 'splits',
                title: 'splits',
                value: (v) =>
                  Object.entries(v.splitCounts)
                    .map(([s, n]) => `${s} ${n}`)
                    .join(', '),
              },
              {
                key: 'created',
                title: 'created',
                value: (v) => v.createdAt,
                render: (v) => when(v.createdAt),
              },
            ]}
          />
        )}
      </Status>
      {picked ? (
        <Detail ref_={picked} />
      ) : list.data?.versions[0] ? (
        <Detail ref_={list.data.versions[0].id} />
      ) : null}
    </div>
  );
}

function Detail({ ref_ }: { ref_: string }) {
  const state = useApi<DatasetDetail>(`/v1/datasets/${encodeURIComponent(ref_)}`);
  return (
    <Status state={state}>
      {(d) => (
        <div class="grid">
          <Card title={`Lineage of ${d.version.id}`}>
            <ol class="lineage">
              {d.lineage.map((v) => (
                <li key={v.id}>
                  <code>{v.id}</code> <span class="badge">{v.operation.kind}</span>{' '}
                  {v.operation.kind === 'annotate' ? (
                    <span class="muted">by {String(v.operation.params.annotator)}</span>
                  ) : null}
                  <span class="muted small-text">
                    {' '}
                    {when(v.createdAt)} · {count(v.exampleCount)} examples
                  </span>
                </li>
              ))}
            </ol>
          </Card>
          <Card title="Statistics">
            <dl class="facts">
              <dt>Examples</dt>
              <dd>{count(d.stats.examples)}</dd>
              <dt>Tokens</dt>
              <dd>{count(d.stats.tokens)}</dd>
              <dt>Length (tokens)</dt>
              <dd>
                min {d.stats.length.min} · median {d.stats.length.median} · p95 {d.stats.length.p95} · max{' '}
                {d.stats.length.max}
              </dd>
              <dt>Duplicates</dt>
              <dd>
                {d.stats.duplicates.groups} groups, {d.stats.duplicates.redundant} redundant,{' '}
                {d.stats.duplicates.conflictingGroups} conflicting
              </dd>
              <dt>Leakage from train</dt>
              <dd>
                {d.stats.leakage.length
                  ? d.stats.leakage.map((l) => `${l.split} ${percent(l.fraction)}`).join(', ')
                  : '–'}
              </dd>
            </dl>
            <Bars
              label="Length histogram"
              items={d.stats.length.histogram.map((b) => ({ name: `${b.label} tokens`, value: b.count }))}
              format={(x) => count(x)}
            />
          </Card>
          {d.stats.splits.map((s) => (
            <Card key={s.split} title={`Labels in ${s.split} (${count(s.examples)} examples)`}>
              <Bars
                label={`label distribution of ${s.split}`}
                items={s.labels.map((l) => ({ name: l.label, value: l.count, note: percent(l.fraction) }))}
                format={(x) => count(x)}
              />
            </Card>
          ))}
          <Card title="Slices" wide>
            {d.stats.slices.length === 0 ? (
              <p class="muted">No slices in sapphire.yaml.</p>
            ) : (
              <Table
                rows={d.stats.slices}
                rowKey={(s) => s.name}
                columns={[
                  { key: 'name', title: 'slice', value: (s) => s.name },
                  { key: 'n', title: 'examples', numeric: true, value: (s) => s.examples },
                  {
                    key: 'splits',
                    title: 'per split',
                    value: (s) => s.splits.map((x) => `${x.split} ${x.count}`).join(', '),
                  },
                  {
                    key: 'labels',
                    title: 'labels',
                    value: (s) => s.labels.map((l) => `${l.label} ${l.count}`).join(', '),
                  },
                ]}
              />
            )}
          </Card>
        </div>
      )}
    </Status>
  );
}
