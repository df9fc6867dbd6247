import { useCallback, useEffect, useState } from 'preact/hooks';
import { type ApiError, api } from './api.ts';

/** The state of one API read. */
export interface Loaded<T> {
  data: T | null;
  error: ApiError | Error | null;
  loading: boolean;
  reload(): void;
}

/** Reads `path` from the API (again whenever `path` changes; null reads nothing). */
export function useApi<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: Error | null; loading: boolean }>({
    data: null,
    error: null,
    loading: path !== null,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    api<T>(path).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: Error) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** The page's query parameters, and a setter that replaces them in the address bar (no reload). */
export function useQuery(): [URLSearchParams, (next: Record<string, string | null>) => void] {
  const [search, setSearch] = useState(() => new URLSearchParams(location.search));
  useEffect(() => {
    const onPop = () => setSearch(new URLSearchParams(location.search));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const update = useCallback((next: Record<string, string | null>) => {
    const params = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(next)) {
      if (v === null || v === '') params.delete(k);
      else params.set(k, v);
    }
    const s = params.toString();
    history.replaceState(null, '', `${location.pathname}${s ? `?${s}` : ''}`);
    setSearch(params);
  }, []);
  return [search, update];
}
