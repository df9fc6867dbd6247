import type { ProblemCard } from '../core/project.ts';
import { materializeVersion } from '../registry/materialize.ts';
import type { ModelVersion } from '../store/serving-store.ts';
import type { Store } from '../store/store.ts';
import { loadReferenceProfile, type ReferenceProfile } from '../train/reference-profile.ts';
import { mergedView } from './live-monitor.ts';
import { type LiveReport, liveReport } from './live-report.ts';
import { parseWindow } from './window.ts';

/** Options for {@link storedLiveReport}. */
export interface StoredLiveOptions {
  store: Store;
  /** The registered version to report on. */
  version: ModelVersion;
  settings: ProblemCard['monitoring'];
  /** e.g. `1h` (default: the card's `monitoring.window`). */
  window?: string;
  /** Folder registered versions are materialized into, to read their reference profile. */
  cacheRoot: string;
  now?: number;
}

/** A version's reference profile, read from its registered files (null when it was saved without one). */
export async function versionProfile(
  store: Store,
  version: ModelVersion,
  cacheRoot: string,
): Promise<ReferenceProfile | null> {
  return loadReferenceProfile(await materializeVersion(store, version, cacheRoot));
}

/**
 * The live report of a registered version from the sketches every server replica published to the store — what
 * `sapphire monitor <name>`, `sapphire requests export --drifted` and `sapphire next` read, without a server.
 *
 * @example
 * const report = await storedLiveReport({ store, version, settings: card.monitoring, cacheRoot });
 * report.drift?.status; // 'drift'
 */
export async function storedLiveReport(options: StoredLiveOptions): Promise<{
  report: LiveReport;
  profile: ReferenceProfile | null;
}> {
  const { store, version, settings } = options;
  const window = options.window ?? settings.window;
  const windowMs = parseWindow(window, '--window');
  const ref = { tenant: version.tenant, name: version.name, version: version.version };
  const [view, profile] = await Promise.all([
    mergedView(store, ref, windowMs, settings.bucketSeconds, options.now ? { now: options.now } : {}),
    versionProfile(store, version, options.cacheRoot),
  ]);
  return { report: liveReport(view, profile, settings, window), profile };
}
