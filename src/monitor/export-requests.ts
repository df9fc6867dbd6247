import type { ProblemCard } from '../core/project.ts';
import type { ModelVersion } from '../store/serving-store.ts';
import type { Store } from '../store/store.ts';
import type { DriftSignalName } from './drift.ts';
import { driftedSlice, sliceRecord } from './drifted-slice.ts';
import { NO_PROFILE_MESSAGE } from './live-report.ts';
import { storedLiveReport } from './stored-live.ts';
import { parseWindow } from './window.ts';

/** Options for {@link exportRequests}. */
export interface ExportRequestsOptions {
  store: Store;
  version: ModelVersion;
  settings: ProblemCard['monitoring'];
  cacheRoot: string;
  /** Only the slice showing the drift of the window. */
  drifted: boolean;
  /** e.g. `7d` (default: the card's `monitoring.window`). */
  window?: string;
  /** Most logged predictions read, newest first. */
  limit: number;
  now?: number;
}

/** What {@link exportRequests} found. */
export interface ExportRequestsResult {
  window: string;
  /** Logged predictions read. */
  read: number;
  /** JSONL records (Prodigy style: id, text, meta with the prediction and the drift reasons). */
  records: Record<string, unknown>[];
  /** The drifted signals the slice was chosen by (empty without --drifted or without drift). */
  drifted: DriftSignalName[];
  driftStatus: string | null;
  /** Things the user should know (no profile, no drift, sampling). */
  notes: string[];
}

/**
 * Exports logged predictions of a model version over a window for annotation: all of them, or (`drifted`) the
 * ones showing the drift the live sketches report against the reference profile.
 *
 * @example
 * const { records } = await exportRequests({ store, version, settings: card.monitoring, cacheRoot, drifted: true, limit: 10_000 });
 */
export async function exportRequests(options: ExportRequestsOptions): Promise<ExportRequestsResult> {
  const { store, version } = options;
  const window = options.window ?? options.settings.window;
  const now = options.now ?? Date.now();
  const since = new Date(now - parseWindow(window, '--window')).toISOString();
  const logged = await store.feedback.listPredictions({
    tenant: version.tenant,
    model: version.name,
    version: version.version,
    since,
    limit: options.limit,
  });
  const notes: string[] = [];
  if (!options.drifted)
    return {
      window,
      read: logged.length,
      records: logged.map((prediction) => sliceRecord({ prediction })),
      drifted: [],
      driftStatus: null,
      notes,
    };
  const { report, profile } = await storedLiveReport({
    store,
    version,
    settings: options.settings,
    window,
    cacheRoot: options.cacheRoot,
    now,
  });
  if (!profile || !report.drift) {
    notes.push(`${version.name}@${version.version}: ${NO_PROFILE_MESSAGE}`);
    return { window, read: logged.length, records: [], drifted: [], driftStatus: null, notes };
  }
  const drift = report.drift;
  if (drift.status !== 'drift')
    notes.push(
      drift.status === 'insufficient-data'
        ? `drift not judged: ${drift.items} predictions in the last ${window}, ${drift.minSamples} needed (monitoring.minSamples)`
        : `no drift over the thresholds in the last ${window}: nothing to export (drop --drifted to export every logged prediction)`,
    );
  const slice = driftedSlice(logged, drift, report, profile, options.settings.drift);
  if (logged.length === 0)
    notes.push(
      'the request log has no predictions in the window (serve.log.sample may be 0, or retention purged them)',
    );
  return {
    window,
    read: logged.length,
    records: slice.map(sliceRecord),
    drifted: drift.drifted,
    driftStatus: drift.status,
    notes,
  };
}
