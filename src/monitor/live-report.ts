/**
 * The live view of a served model as the API and `sapphire monitor <name>` show it: what was predicted over a
 * window (top labels and entities, distinct texts and tokens, confidence and length quantiles, OOV rate) with
 * each sketch's error bound stated, and the drift verdict against the model's reference profile.
 */
import type { ProblemCard } from '../core/project.ts';
import { formatPercent, renderTable } from '../core/table.ts';
import type { ReferenceProfile } from '../train/reference-profile.ts';
import { computeDrift, type DriftReport } from './drift.ts';
import type { LiveView } from './live-monitor.ts';
import { QUANTILE_RELATIVE_ACCURACY } from './sketches/quantiles.ts';

/** The message shown for a model version saved without a reference profile. */
export const NO_PROFILE_MESSAGE =
  'no reference profile: retrain with this version of sapphire (profiles are saved with every model trained since), then register and promote the new model';

/** One heavy hitter with its share of predictions and its maximum overestimation. */
export interface LiveCount {
  item: string;
  count: number;
  /** The true count lies in [count − error, count]. */
  error: number;
  share: number;
}

/** Quantiles of a live distribution. */
export interface LiveQuantiles {
  count: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

/** The body of `GET /v1/models/{name}/live` (and `sapphire monitor <name> --json`). */
export interface LiveReport {
  tenant: string;
  model: string;
  version: number;
  window: string;
  from: string;
  to: string;
  buckets: number;
  replicas: string[];
  /** Predictions observed in the window (exact). */
  items: number;
  labels: LiveCount[];
  entities: LiveCount[];
  distinct: { texts: number; tokens: number };
  confidence: LiveQuantiles;
  length: LiveQuantiles;
  /** OOV tokens / tokens checked against the training vocabulary (null without a reference profile). */
  oovRate: number | null;
  oovTokens: LiveCount[];
  /** The error bound of each figure, in words and numbers. */
  bounds: {
    counts: string;
    heavyHitters: string;
    labelsMaxError: number;
    distinct: string;
    distinctRelativeStandardError: number;
    quantiles: string;
    quantileRelativeAccuracy: number;
  };
  /** Drift against the reference profile, or null with `profile` saying why. */
  drift: DriftReport | null;
  profile: { referenceSet: string; createdAt: string; architecture: string } | { missing: string };
}

function quantiles(sketch: LiveView['sketch']['confidence']): LiveQuantiles {
  return {
    count: sketch.count,
    mean: sketch.mean,
    p50: sketch.quantile(0.5),
    p90: sketch.quantile(0.9),
    p99: sketch.quantile(0.99),
  };
}

/**
 * Builds the live report of a merged view, judging drift when the version has a reference profile.
 *
 * @example
 * const report = liveReport(await live.view(version, 3_600_000), profile, card.monitoring, '1h');
 */
export function liveReport(
  view: LiveView,
  profile: ReferenceProfile | null,
  settings: ProblemCard['monitoring'],
  window: string,
): LiveReport {
  const s = view.sketch;
  const items = s.items;
  const counts = (top: { item: string; count: number; error: number }[]): LiveCount[] =>
    top.map((h) => ({ ...h, share: items > 0 ? h.count / items : 0 }));
  return {
    tenant: view.tenant,
    model: view.model,
    version: view.version,
    window,
    from: view.from,
    to: view.to,
    buckets: view.buckets,
    replicas: view.replicas,
    items,
    labels: counts(s.labels.top(20)),
    entities: counts(s.entities.top(20)),
    distinct: { texts: Math.round(s.texts.estimate()), tokens: Math.round(s.vocabulary.estimate()) },
    confidence: quantiles(s.confidence),
    length: quantiles(s.length),
    oovRate: s.checkedTokens > 0 ? s.oovTokens / s.checkedTokens : null,
    oovTokens: counts(s.oov.top(20)),
    bounds: {
      counts: 'items, tokens and OOV rate are exact',
      heavyHitters: `label, entity and token counts are upper bounds: the true count lies in [count − error, count]; label counts are exact (error 0) while a window has at most ${s.labels.capacity} distinct labels`,
      labelsMaxError: s.labels.maxError,
      distinct: `distinct counts are HyperLogLog estimates with ${formatPercent(s.texts.relativeStandardError)} relative standard error (about 95% of estimates within twice that)`,
      distinctRelativeStandardError: s.texts.relativeStandardError,
      quantiles: `quantiles are within ±${formatPercent(QUANTILE_RELATIVE_ACCURACY)} of the exact value (DDSketch); means are exact`,
      quantileRelativeAccuracy: QUANTILE_RELATIVE_ACCURACY,
    },
    drift: profile ? computeDrift(profile, s, settings.drift, settings.minSamples) : null,
    profile: profile
      ? {
          referenceSet: profile.referenceSet,
          createdAt: profile.createdAt,
          architecture: profile.architecture,
        }
      : { missing: NO_PROFILE_MESSAGE },
  };
}

const num = (v: number | null, digits = 3): string => (v === null ? '–' : v.toFixed(digits));

/** The live report as text for `sapphire monitor <name>`. */
export function renderLiveReport(report: LiveReport): string {
  const lines: string[] = [];
  lines.push(
    `${report.model}@${report.version} (tenant ${report.tenant}), last ${report.window}: ${report.items.toLocaleString('en-US')} predictions from ${report.replicas.length} replica(s), ${report.from.slice(0, 16).replace('T', ' ')} → ${report.to.slice(0, 16).replace('T', ' ')} UTC`,
  );
  if (report.items === 0) {
    lines.push('No predictions in this window (is `sapphire serve` running with monitoring.enabled?).');
  } else {
    lines.push(
      `Distinct texts ≈ ${report.distinct.texts.toLocaleString('en-US')}, distinct tokens ≈ ${report.distinct.tokens.toLocaleString('en-US')}; ` +
        `confidence p50 ${num(report.confidence.p50)} p90 ${num(report.confidence.p90)} mean ${num(report.confidence.mean)}; ` +
        `length (tokens) p50 ${num(report.length.p50, 0)} p99 ${num(report.length.p99, 0)}; ` +
        `OOV rate ${report.oovRate === null ? '–' : formatPercent(report.oovRate)}`,
    );
    lines.push('');
    lines.push(
      renderTable(
        report.labels.map((l) => [
          l.item,
          l.count.toLocaleString('en-US'),
          formatPercent(l.share),
          l.error ? `±${l.error}` : 'exact',
        ]),
        { header: ['label', 'count', 'share', 'error'] },
      ),
    );
  }
  lines.push('');
  if (!report.drift) lines.push(`Drift: ${'missing' in report.profile ? report.profile.missing : ''}`);
  else {
    const d = report.drift;
    lines.push(
      d.status === 'insufficient-data'
        ? `Drift: not judged yet (${d.items} of the ${d.minSamples} predictions needed; monitoring.minSamples)`
        : d.status === 'drift'
          ? `Drift: YES — ${d.drifted.join(', ')}`
          : 'Drift: none over the thresholds',
    );
    lines.push(
      renderTable(
        d.signals.map((sig) => [
          sig.name,
          sig.value === null ? '–' : sig.value.toFixed(4),
          String(sig.threshold),
          sig.drifted ? 'DRIFT' : '',
          sig.detail,
        ]),
        {
          header: ['signal', 'value', 'threshold', '', 'what'],
          maxWidth: [undefined, undefined, undefined, undefined, 70],
        },
      ),
    );
    if (d.newTokens.length > 0)
      lines.push(
        `New frequent tokens (unseen in training): ${d.newTokens
          .slice(0, 10)
          .map((t) => `${t.item} (${formatPercent(t.share)})`)
          .join(', ')}`,
      );
    if (d.newEntities.length > 0)
      lines.push(
        `New frequent entities: ${d.newEntities
          .slice(0, 10)
          .map((t) => `${t.item.replace('\t', ':')} (${formatPercent(t.share)})`)
          .join(', ')}`,
      );
    if (d.status === 'drift')
      lines.push(
        `Collect and label the drifted slice: sapphire requests export ${report.model} --drifted --out drifted.jsonl`,
      );
  }
  lines.push(
    '',
    `Bounds: ${report.bounds.counts}; ${report.bounds.heavyHitters}; ${report.bounds.distinct}; ${report.bounds.quantiles}.`,
  );
  return lines.join('\n');
}
