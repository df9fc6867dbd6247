import { Card, Status } from '../components.tsx';
import { percent, score } from '../format.ts';
import { useApi } from '../hooks.ts';
import type { MonitorSeries, ProjectView } from '../types.ts';

/** The coach's view: stage in the loop, milestone, next steps, problem card, production models and online metrics. */
export function OverviewPage() {
  const project = useApi<ProjectView>('/v1/project');
  const online = useApi<MonitorSeries>('/v1/monitor/series?days=7&bucket=day');
  return (
    <Status state={project}>
      {(p) => (
        <div class="grid">
          <Card title="Where you are in the loop">
            <ol class="stages">
              {p.stages.map((s) => (
                <li key={s.id} class={s.done ? 'ok' : 'todo'}>
                  <span class="stage-name">
                    {s.done ? '✓' : '○'} {s.id}
                  </span>
                  <div class="muted small-text">{s.detail}</div>
                </li>
              ))}
            </ol>
          </Card>
          <Card title="Milestone">
            <p>
              <strong>
                {p.milestone.reached
                  ? `Milestone ${p.milestone.reached}: ${p.milestone.name}`
                  : 'No milestone reached yet'}
              </strong>
            </p>
            <ul class="checks">
              {p.milestone.checks.map((c) => (
                <li key={c.level} class={c.met ? 'ok' : 'todo'} title={c.criterion}>
                  {c.met ? '✓' : '○'} {c.level}. {c.name}
                  <div class="muted small-text">{c.evidence}</div>
                </li>
              ))}
            </ul>
          </Card>
          <Card title="Next steps" wide>
            {p.recommendations.length === 0 ? (
              <p class="muted">Nothing to recommend yet.</p>
            ) : (
              <ol class="recs">
                {p.recommendations.slice(0, 6).map((r, i) => (
                  <li key={i}>
                    <strong>{r.title}</strong> <span class="badge">P{r.priority}</span>
                    <div class="muted">{r.why}</div>
                    {r.command ? <code class="cmd">{r.command}</code> : null}
                  </li>
                ))}
              </ol>
            )}
          </Card>
          <Card title="Problem card">
            <dl class="facts">
              <dt>Name</dt>
              <dd>{p.card.name}</dd>
              <dt>Task</dt>
              <dd>{p.card.task}</dd>
              <dt>Labels</dt>
              <dd>{p.card.labels.join(', ') || '–'}</dd>
              <dt>Primary metric</dt>
              <dd>{p.card.metrics.primary}</dd>
              {p.card.description ? (
                <>
                  <dt>Description</dt>
                  <dd>{p.card.description}</dd>
                </>
              ) : null}
              <dt>Best run</dt>
              <dd>
                {p.state.best
                  ? `${p.state.best.architecture} ${p.state.best.id} (${p.state.best.rankedBy} ${score(p.state.best.score)})`
                  : '–'}
              </dd>
            </dl>
          </Card>
          <Card title="Production models">
            {p.models.length === 0 ? (
              <p class="muted">
                No registered models yet: `sapphire models register`, then `sapphire promote`.
              </p>
            ) : (
              <Status state={online}>
                {(o) => (
                  <ul class="plain">
                    {p.models.map((m) => {
                      const rows = o.daily.filter((d) => d.model === m.name);
                      const requests = rows.reduce((a, r) => a + r.requests, 0);
                      const up = rows.reduce((a, r) => a + r.up, 0);
                      const down = rows.reduce((a, r) => a + r.down, 0);
                      const errors = rows.reduce((a, r) => a + r.errors, 0);
                      return (
                        <li key={m.name}>
                          <strong>{m.name}</strong>{' '}
                          {m.production === null ? (
                            <span class="badge">no production</span>
                          ) : (
                            <span class="badge ok">v{m.production} in production</span>
                          )}
                          <div class="muted">
                            7 days: {requests} requests · thumbs-up{' '}
                            {percent(up + down ? up / (up + down) : null)} · errors{' '}
                            {percent(requests + errors ? errors / (requests + errors) : null)}
                          </div>
                        </li>
                      );
                    })}
                  </ul>
                )}
              </Status>
            )}
          </Card>
        </div>
      )}
    </Status>
  );
}
