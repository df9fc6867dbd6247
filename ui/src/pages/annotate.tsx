import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { api, query } from '../api.ts';
import { Card, ErrorBox, Status } from '../components.tsx';
import { percent, score } from '../format.ts';
import { useApi, useQuery } from '../hooks.ts';
import { SpanEditor } from '../span-editor.tsx';
import type {
  Annotation as Answer,
  DatasetVersion,
  PairAgreement,
  AnnotationQueue as Queue,
  QueueItem,
  RegisteredModel,
} from '../types.ts';

const ANNOTATOR_KEY = 'sapphire.annotator';

/** Annotate: examples ordered by model uncertainty, pre-annotated; labels by click or number keys; saves new versions. */
export function AnnotatePage() {
  const [params, setParams] = useQuery();
  const datasets = useApi<{ versions: DatasetVersion[] }>('/v1/datasets');
  const models = useApi<{ models: RegisteredModel[] }>('/v1/models');
  const [annotator, setAnnotator] = useState(localStorage.getItem(ANNOTATOR_KEY) ?? '');
  const dataset = params.get('dataset') ?? '';
  const model = params.get('model') ?? '';
  const [started, setStarted] = useState<string | null>(null);
  const names = [...new Set((datasets.data?.versions ?? []).map((v) => v.name))];
  useEffect(() => {
    if (!dataset && names[0]) setParams({ dataset: names[0] });
  }, [names.join(), dataset]);
  return (
    <div class="stack">
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          localStorage.setItem(ANNOTATOR_KEY, annotator.trim());
          setStarted(`${dataset}|${annotator.trim()}|${model}|${Date.now()}`);
        }}
      >
        <label>
          Dataset{' '}
          <select value={dataset} onChange={(e) => setParams({ dataset: e.currentTarget.value })}>
            {names.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
        <label>
          Pre-annotate with{' '}
          <select value={model} onChange={(e) => setParams({ model: e.currentTarget.value })}>
            <option value="">no model (stored order)</option>
            {(models.data?.models ?? []).map((m) => (
              <option key={m.name} value={m.name}>
                {m.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Your name{' '}
          <input value={annotator} required onInput={(e) => setAnnotator(e.currentTarget.value)} size={12} />
        </label>
        <button type="submit" disabled={!dataset || !annotator.trim()}>
          Start
        </button>
      </form>
      {started ? (
        <Session key={started} dataset={dataset} annotator={annotator.trim()} model={model} />
      ) : (
        <p class="muted">Pick a dataset and enter your name.</p>
      )}
      {dataset ? <Agreement dataset={dataset} /> : null}
    </div>
  );
}

function Session({ dataset, annotator, model }: { dataset: string; annotator: string; model: string }) {
  const [tick, setTick] = useState(0);
  const [saved, setSaved] = useState<string | null>(null);
  const queue = useApi<Queue>(
    `/v1/annotate/${encodeURIComponent(dataset)}/queue${query({ annotator, model: model || undefined, limit: 50, t: tick })}`,
  );
  return (
    <>
      {saved ? (
        <p class="ok-text" role="status">
          {saved}
        </p>
      ) : null}
      <Status state={queue}>
        {(q) => (
          <Labeller
            q={q}
            dataset={dataset}
            onSaved={(message) => {
              setSaved(message);
              setTick((t) => t + 1);
            }}
          />
        )}
      </Status>
    </>
  );
}

function Labeller({
  q,
  dataset,
  onSaved,
}: {
  q: Queue;
  dataset: string;
  onSaved: (message: string) => void;
}) {
  const [index, setIndex] = useState(0);
  const [answers, setAnswers] = useState<Answer[]>([]);
  const [error, setError] = useState<Error | null>(null);
  const item = q.items[index];
  const initial = (it: QueueItem): Answer =>
    q.task === 'ner'
      ? {
          id: it.id,
          spans: (it.pre?.spans ?? it.current.spans ?? []).map(({ start, end, label }) => ({
            start,
            end,
            label,
          })),
        }
      : { id: it.id, labels: it.pre?.labels?.length ? it.pre.labels : (it.current.labels ?? []) };
  // Drafts by example id: the one shown is always the current item's, with no effect to catch up after a key.
  const [drafts, setDrafts] = useState<Record<string, Answer>>({});
  const draft = item ? (drafts[item.id] ?? initial(item)) : null;
  const setDraft = (next: Answer) => setDrafts((all) => ({ ...all, [next.id]: next }));
  const accept = () => {
    if (!draft || (q.task === 'classify' && draft.labels?.length !== 1)) return;
    setAnswers((a) => [...a.filter((x) => x.id !== draft.id), draft]);
    setIndex((i) => i + 1);
  };
  const save = async () => {
    setError(null);
    try {
      const out = await api<{ version: DatasetVersion }>(`/v1/annotate/${encodeURIComponent(dataset)}`, {
        base: q.version,
        annotator: q.annotator,
        annotations: answers,
      });
      onSaved(`Saved ${answers.length} annotations as ${out.version.id}`);
      setAnswers([]);
    } catch (err) {
      setError(err as Error);
    }
  };
  const pick = (label: string) => {
    if (!draft) return;
    if (q.task === 'multilabel') {
      const has = draft.labels?.includes(label);
      setDraft({
        ...draft,
        labels: has ? draft.labels!.filter((l) => l !== label) : [...(draft.labels ?? []), label],
      });
    } else setDraft({ ...draft, labels: [label] });
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.defaultPrevented) return;
    const t = e.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement)
      return;
    if (q.task === 'ner') {
      if (e.key === 'Enter' && !(e.target instanceof HTMLButtonElement)) {
        e.preventDefault();
        accept();
      }
      return;
    }
    const n = Number(e.key);
    if (Number.isInteger(n) && n >= 1 && n <= q.labels.length) {
      e.preventDefault();
      pick(q.labels[n - 1]!);
    } else if (e.key === 'Enter' && !(e.target instanceof HTMLButtonElement)) {
      e.preventDefault();
      accept();
    }
  };
  useLayoutEffect(() => {
    // Keys work anywhere on the page (not while typing in a field): numbers pick labels, Enter accepts.
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  });
  const done = q.done + answers.length;
  return (
    <div class="grid">
      <Card title="Label" wide>
        <p>
          <progress max={q.total} value={done} aria-label="annotated" /> {done} / {q.total} annotated by{' '}
          {q.annotator} · version <code>{q.version}</code>
        </p>
        {item && draft ? (
          <div class="stack">
            <p class="muted small-text">
              Example {index + 1} of {q.items.length} in the queue · <code>{item.id}</code>
              {item.split ? ` · ${item.split}` : ''}
              {item.uncertainty !== null ? ` · model uncertainty ${score(item.uncertainty)}` : ''}
              {item.pre ? ' · pre-annotated by the model' : ''}
            </p>
            {q.task === 'ner' ? (
              <SpanEditor
                id="annotate-text"
                text={item.text}
                spans={draft.spans ?? []}
                labels={q.labels}
                onChange={(spans) => setDraft({ ...draft, spans })}
              />
            ) : (
              <>
                <p class="example-text" id="annotate-text">
                  {item.text}
                </p>
                <fieldset class="label-keys">
                  <legend class="sr-only">Labels</legend>
                  {q.labels.map((l, i) => (
                    <button
                      type="button"
                      key={l}
                      class={`small ${draft.labels?.includes(l) ? 'chosen' : 'secondary'}`}
                      aria-pressed={draft.labels?.includes(l)}
                      onClick={() => pick(l)}
                    >
                      <kbd>{i + 1}</kbd> {l}
                    </button>
                  ))}
                </fieldset>
              </>
            )}
            <p class="muted small-text">
              {q.task === 'ner'
                ? 'Select words with the mouse, or click the text and use ←/→ (Shift extends), then press a label number; Delete removes; Enter accepts.'
                : 'Press a label number (or click it); Enter accepts.'}
            </p>
            <div class="row">
              <button type="button" onClick={accept}>
                Accept &amp; next <kbd>Enter</kbd>
              </button>
              <button type="button" class="secondary" onClick={() => setIndex((i) => i + 1)}>
                Skip
              </button>
              {index > 0 ? (
                <button type="button" class="secondary" onClick={() => setIndex((i) => i - 1)}>
                  Back
                </button>
              ) : null}
            </div>
          </div>
        ) : (
          <p class="muted">
            {q.items.length === 0
              ? 'Nothing left to label in this dataset.'
              : 'End of this batch: save, then load the next one.'}
          </p>
        )}
        <div class="row">
          <button type="button" disabled={answers.length === 0} onClick={save}>
            Save {answers.length} annotation{answers.length === 1 ? '' : 's'} as a new version
          </button>
        </div>
        {error ? <ErrorBox error={error} /> : null}
      </Card>
    </div>
  );
}

function Agreement({ dataset }: { dataset: string }) {
  const state = useApi<{ pairs: PairAgreement[] }>(`/v1/annotate/${encodeURIComponent(dataset)}/agreement`);
  return (
    <Card title="Agreement between annotators" wide>
      <Status state={state}>
        {({ pairs }) =>
          pairs.length === 0 ? (
            <p class="muted">Agreement appears once two annotators label the same examples.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">annotators</th>
                  <th scope="col" class="num">
                    shared items
                  </th>
                  <th scope="col" class="num">
                    same answer
                  </th>
                  <th scope="col" class="num">
                    Cohen's κ
                  </th>
                  <th scope="col" class="num">
                    span F1
                  </th>
                </tr>
              </thead>
              <tbody>
                {pairs.map((p) => (
                  <tr key={`${p.a}-${p.b}`}>
                    <td>
                      {p.a} × {p.b}
                    </td>
                    <td class="num">{p.items}</td>
                    <td class="num">{percent(p.observed)}</td>
                    <td class="num">{score(p.kappa)}</td>
                    <td class="num">{score(p.spanF1)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Status>
    </Card>
  );
}
