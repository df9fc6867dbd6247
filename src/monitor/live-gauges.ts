import type { ProblemCard } from '../core/project.ts';
import { computeDrift } from './drift.ts';
import type { LiveMonitor, MonitoredVersion } from './live-monitor.ts';
import { parseWindow } from './window.ts';

/** The live monitoring numbers of one served model version over the drift window (what the gauges show). */
export interface LiveGaugeValues {
  tenant: string;
  model: string;
  version: number;
  items: number;
  oovRate: number | null;
  signals: Record<string, number>;
  drifted: Record<string, number>;
  hasProfile: boolean;
}

/**
 * Computes the drift gauges of every loaded model version over the card's `monitoring.window`, merging every
 * replica's sketches (one store query per version).
 *
 * @example
 * const rows = await liveGaugeRows(live, pool.loaded(), card.monitoring);
 */
export async function liveGaugeRows(
  live: LiveMonitor,
  served: readonly { version: MonitoredVersion }[],
  settings: ProblemCard['monitoring'],
): Promise<LiveGaugeValues[]> {
  const windowMs = parseWindow(settings.window, 'monitoring.window');
  const seen = new Set<string>();
  const rows: LiveGaugeValues[] = [];
  for (const { version } of served) {
    const key = `${version.tenant}\u0000${version.name}\u0000${version.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const ref = { tenant: version.tenant, name: version.name, version: version.version };
    const [view, profile] = await Promise.all([live.view(ref, windowMs), live.profileFor(ref)]);
    const row: LiveGaugeValues = {
      ...{ tenant: ref.tenant, model: ref.name, version: ref.version },
      items: view.sketch.items,
      oovRate: view.sketch.checkedTokens > 0 ? view.sketch.oovTokens / view.sketch.checkedTokens : null,
      signals: {},
      drifted: {},
      hasProfile: profile !== null,
    };
    if (profile) {
      const report = computeDrift(profile, view.sketch, settings.drift, settings.minSamples);
      for (const signal of report.signals) {
        if (signal.value !== null) row.signals[signal.name] = signal.value;
        row.drifted[signal.name] = signal.drifted ? 1 : 0;
      }
    }
    rows.push(row);
  }
  return rows;
}
