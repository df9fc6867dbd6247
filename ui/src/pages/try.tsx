import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Bars, Card, ErrorBox, Highlighted, Status } from '../components.tsx';
import { percent } from '../format.ts';
import { useApi } from '../hooks.ts';
import { SpanEditor } from '../span-editor.tsx';
import type { ProjectView, RegisteredModel, Span } from '../types.ts';

interface Answer {
  requestId: string;
  model: { name: string; version: number; architecture: string };
  result: {
    labels?: { label: string; score: number; override?: string }[];
    scores?: { label: string; score: number }[];
    entities?: (Span & { text: string; score: number; override?: string })[];
    overrides: { id: string; action: string; label: string; target: string }[];
    text?: string;
  };
}

/** Try a model: paste text or HTML, see entities or class probabilities, rate the answer, send a correction. */
export function TryPage() {
  const models = useApi<{ models: RegisteredModel[] }>('/v1/models');
  const project = useApi<ProjectView>('/v1/project');
  return (
    <Status state={models}>
      {({ models: list }) =>
        list.length === 0 ? (
          <p class="muted">No registered models yet: register one with `sapphire models register`.</p>
        ) : (
          <TryForm models={list} labels={project.data?.card.labels ?? []} />
        )
      }
    </Status>
  );
}

function TryForm({ models, labels }: { models: RegisteredModel[]; labels: string[] }) {
  const [model, setModel] = useState(models[0]!.name);
  const [mode, setMode] = useState<'text' | 'html'>('text');
  const [input, setInput] = useState('');
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const predict = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setAnswer(await api<Answer>(`/v1/models/${encodeURIComponent(model)}/predict`, { [mode]: input }));
    } catch (err) {
      setError(err as Error);
      setAnswer(null);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="grid">
      <Card title="Input" wide>
        <form onSubmit={predict} class="stack">
          <div class="row">
            <label>
              Model{' '}
              <select value={model} onChange={(e) => setModel(e.currentTarget.value)}>
                {models.map((m) => (
                  <option key={m.name} value={m.name}>
                    {m.name} ({m.task}){m.aliases.production ? ` v${m.aliases.production}` : ''}
                  </option>
                ))}
              </select>
            </label>
            <fieldset class="inline">
              <legend class="sr-only">Input kind</legend>
              <label>
                <input type="radio" name="mode" checked={mode === 'text'} onChange={() => setMode('text')} />{' '}
                text
              </label>
              <label>
                <input type="radio" name="mode" checked={mode === 'html'} onChange={() => setMode('html')} />{' '}
                HTML
              </label>
            </fieldset>
          </div>
          <label for="try-input" class="sr-only">
            Text to predict
          </label>
          <textarea
            id="try-input"
            rows={5}
            value={input}
            placeholder={mode === 'html' ? '<p>Paste a page…</p>' : 'Type or paste a text…'}
            onInput={(e) => setInput(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void predict(e);
            }}
          />
          <div class="row">
            <button type="submit" disabled={busy || !input.trim()}>
              {busy ? 'Predicting…' : 'Predict'}
            </button>
            <span class="muted small-text">Ctrl+Enter predicts</span>
          </div>
        </form>
        {error ? <ErrorBox error={error} /> : null}
      </Card>
      {answer ? <AnswerView key={answer.requestId} answer={answer} input={input} labels={labels} /> : null}
    </div>
  );
}

function AnswerView({ answer, input, labels }: { answer: Answer; input: string; labels: string[] }) {
  const { result } = answer;
  const text = result.text ?? input;
  const ner = result.entities !== undefined;
  const [sent, setSent] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [correcting, setCorrecting] = useState(false);
  const [spans, setSpans] = useState<Span[]>(
    (result.entities ?? []).map(({ start, end, label }) => ({ start, end, label })),
  );
  const [label, setLabel] = useState(result.labels?.[0]?.label ?? labels[0] ?? '');
  const send = async (body: Record<string, unknown>, what: string) => {
    setError(null);
    try {
      await api('/v1/feedback', { requestId: answer.requestId, ...body });
      setSent(what);
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <Card
      title={`Answer of ${answer.model.name} v${answer.model.version} (${answer.model.architecture})`}
      wide
    >
      {ner ? (
        result.entities!.length ? (
          <Highlighted text={text} spans={result.entities!} />
        ) : (
          <p class="muted">No entities found in: {text}</p>
        )
      ) : (
        <>
          <p>
            {result.labels!.map((l) => (
              <span key={l.label} class="badge big">
                {l.label} {percent(l.score)}
                {l.override ? ' ⚑ override' : ''}
              </span>
            ))}
          </p>
          <Bars
            label="Class probabilities"
            items={(result.scores ?? []).map((s) => ({ name: s.label, value: s.score }))}
            max={1}
            format={percent}
          />
        </>
      )}
      {ner && result.entities!.length ? (
        <ul class="plain small-text" aria-label="Entities">
          {result.entities!.map((e) => (
            <li key={`${e.start}-${e.end}`}>
              <strong>{e.text}</strong> {e.label} · confidence {percent(e.score)}
              {e.override ? <span class="badge warn"> ⚑ override {e.override}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
      {result.overrides.length ? (
        <p class="warn-text">
          ⚑ Changed by override rules:{' '}
          {result.overrides.map((o) => `${o.action} ${o.label} (${o.id})`).join(', ')}
        </p>
      ) : null}
      <fieldset class="row feedback">
        <legend class="sr-only">Feedback</legend>
        <button
          type="button"
          onClick={() => send({ rating: 'up' }, 'Thanks — recorded (thumbs up)')}
          aria-label="Thumbs up"
        >
          ▲ Right
        </button>
        <button
          type="button"
          onClick={() => send({ rating: 'down' }, 'Thanks — recorded (thumbs down)')}
          aria-label="Thumbs down"
        >
          ▼ Wrong
        </button>
        <button type="button" class="secondary" onClick={() => setCorrecting(!correcting)}>
          Correct it…
        </button>
        <span class="muted small-text">request {answer.requestId}</span>
      </fieldset>
      {correcting ? (
        <form
          class="stack"
          onSubmit={(e) => {
            e.preventDefault();
            void send(
              { rating: 'down', correction: ner ? { spans } : { labels: [label] } },
              'Correction recorded',
            );
          }}
        >
          {ner ? (
            <SpanEditor id="try-correction" text={text} spans={spans} labels={labels} onChange={setSpans} />
          ) : (
            <label>
              Right label{' '}
              <select value={label} onChange={(e) => setLabel(e.currentTarget.value)}>
                {labels.map((l) => (
                  <option key={l}>{l}</option>
                ))}
              </select>
            </label>
          )}
          <button type="submit">Send correction</button>
        </form>
      ) : null}
      {sent ? (
        <p class="ok-text" role="status">
          {sent}
        </p>
      ) : null}
      {error ? <ErrorBox error={error} /> : null}
    </Card>
  );
}
