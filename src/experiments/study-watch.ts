import type { Run, Store } from '../store/store.ts';
import { type JobEvent, MEMBER_KEY, resultOf } from './jobs.ts';
import { gridSize, type SearchDimension } from './search-space.ts';

/** How many member runs a study run will have, from the study description in its config (null when unknown). */
export function studyMemberCount(study: Run): number | null {
  const spec = study.config.study as Record<string, unknown> | undefined;
  if (!spec) return null;
  const num = (key: string) => (typeof spec[key] === 'number' ? (spec[key] as number) : null);
  const list = (key: string) => (Array.isArray(spec[key]) ? (spec[key] as unknown[]) : null);
  switch (spec.kind) {
    case 'sweep':
      return num('trials');
    case 'cv':
      return (num('k') ?? 0) * (num('repeats') ?? 1) || null;
    case 'nested-cv': {
      const dims = list('dimensions') as SearchDimension[] | null;
      const outer = (num('k') ?? 0) * (num('repeats') ?? 1);
      return dims ? outer * (gridSize(dims) * (num('inner') ?? 0) + 1) : null;
    }
    case 'curve': {
      const vary = spec.vary as SearchDimension | null | undefined;
      const variants = vary ? gridSize([vary]) : 1;
      return (list('fractions')?.length ?? 0) * (num('seeds') ?? 1) * variants || null;
    }
    case 'ladder':
      return (list('rungs')?.length ?? 0) * (list('seeds')?.length ?? 1) || null;
    default:
      return null;
  }
}

/** Options of {@link watchStudy}. */
export interface WatchOptions {
  /** Called once per member run as it finishes or fails (a `finished` job event). */
  onEvent?: (event: JobEvent) => void;
  /** Polling interval (default 500 ms). */
  pollMs?: number;
  /** Stop waiting after this long (default: no limit). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Follows a study run in the store — wherever its members run (local processes, queue workers on other
 * machines) — reporting each member as it ends, until the study run itself is finished or failed.
 *
 * @example
 * const study = await watchStudy(store, 'r-20250101…', { onEvent: (e) => progress.onEvent(e) });
 */
export async function watchStudy(store: Store, studyId: string, options: WatchOptions = {}): Promise<Run> {
  const reported = new Set<string>();
  const started = performance.now();
  for (;;) {
    const study = await store.getRun(studyId);
    const members = await store.listRuns({ parentId: studyId });
    for (const run of [...members].reverse()) {
      if (run.status === 'running' || reported.has(run.id)) continue;
      reported.add(run.id);
      const member =
        typeof run.provenance[MEMBER_KEY] === 'string' ? (run.provenance[MEMBER_KEY] as string) : run.id;
      options.onEvent?.({ type: 'finished', result: resultOf(member, run, 0) });
    }
    if (study.status !== 'running') return study;
    if (options.signal?.aborted) return study;
    if (options.timeoutMs !== undefined && performance.now() - started > options.timeoutMs) return study;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}
