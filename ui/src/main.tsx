import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { apiKey, setApiKey } from './api.ts';
import { AnalysisPage } from './pages/analysis.tsx';
import { AnnotatePage } from './pages/annotate.tsx';
import { DatasetsPage } from './pages/datasets.tsx';
import { MonitoringPage } from './pages/monitoring.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { RunsPage } from './pages/runs.tsx';
import { TryPage } from './pages/try.tsx';
import './styles.css';

const BASE = '/ui/';

const PAGES = [
  { path: '', title: 'Overview', Page: OverviewPage },
  { path: 'datasets', title: 'Datasets', Page: DatasetsPage },
  { path: 'runs', title: 'Runs', Page: RunsPage },
  { path: 'analysis', title: 'Analysis', Page: AnalysisPage },
  { path: 'try', title: 'Try it', Page: TryPage },
  { path: 'monitoring', title: 'Monitoring', Page: MonitoringPage },
  { path: 'annotate', title: 'Annotate', Page: AnnotatePage },
] as const;

/** The page path under /ui/ (`runs`, `` for the overview). */
function currentPath(): string {
  return location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length).replace(/\/$/, '') : '';
}

/** Goes to a page of the app (`runs?ids=a,b`) without reloading. */
export function navigate(to: string): void {
  history.pushState(null, '', `${BASE}${to}`);
  dispatchEvent(new PopStateEvent('popstate'));
}

function KeyForm() {
  const [value, setValue] = useState('');
  const [open, setOpen] = useState(false);
  const has = apiKey() !== null;
  if (!open)
    return (
      <button type="button" class="small" onClick={() => setOpen(true)}>
        {has ? 'API key ✓' : 'API key'}
      </button>
    );
  return (
    <form
      class="key-form"
      onSubmit={(e) => {
        e.preventDefault();
        setApiKey(value.trim() || null);
        location.reload();
      }}
    >
      <label>
        API key{' '}
        <input
          type="password"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
          placeholder="sk-… (empty: none)"
        />
      </label>
      <button type="submit" class="small">
        Save
      </button>
    </form>
  );
}

function App() {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const onPop = () => setPath(currentPath());
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const page = PAGES.find((p) => p.path === path) ?? PAGES[0];
  useEffect(() => {
    document.title = `${page.title} · Sapphire`;
  }, [page]);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">◆ Sapphire</span>
        <nav aria-label="Pages">
          {PAGES.map((p) => (
            <a
              key={p.path}
              href={`${BASE}${p.path}`}
              aria-current={p === page ? 'page' : undefined}
              onClick={(e) => {
                if (e.ctrlKey || e.metaKey || e.shiftKey) return;
                e.preventDefault();
                navigate(p.path);
              }}
            >
              {p.title}
            </a>
          ))}
        </nav>
        <KeyForm />
      </header>
      <main id="main" tabIndex={-1}>
        <h1>{page.title}</h1>
        <page.Page key={page.path} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
