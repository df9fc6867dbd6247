/**
 * The drifted slice of the request log: the logged predictions that show the drift a live report found — texts
 * with new frequent tokens or many out-of-vocabulary tokens, unseen entities, low confidence, over-predicted
 * labels, unusual lengths — exported as JSONL for annotation (`sapphire requests export --drifted`).
 */
import type { LoggedPrediction } from '../store/serving-store.ts';
import { entityKey, monitorTokens, type ReferenceProfile } from '../train/reference-profile.ts';
import type { DriftReport, DriftSignalName, DriftThresholds } from './drift.ts';
import type { LiveReport } from './live-report.ts';

/** One logged prediction picked for annotation, with why. */
export interface SliceItem {
  prediction: LoggedPrediction;
  /** The drift signals it shows, e.g. `new_tokens: refund`, `oov_shift: 4/9 tokens unseen`. */
  reasons: string[];
}

interface Answer {
  labels?: { label: string; score: number }[];
  entities?: { label: string; text: string; score: number }[];
}

/**
 * Picks the logged predictions showing the drifted signals of a report (each with its reasons): texts unlike the
 * training data when an input-side signal drifted (new tokens, OOV, new entities, length), else the answers showing
 * the output-side shift (over-predicted labels, low confidence); with no drifted signal, nothing.
 *
 * @example
 * const slice = driftedSlice(logged, report.drift!, report, profile, card.monitoring.drift);
 */
export function driftedSlice(
  logged: readonly LoggedPrediction[],
  drift: DriftReport,
  live: LiveReport,
  profile: ReferenceProfile,
  thresholds: DriftThresholds,
): SliceItem[] {
  const drifted = new Set(drift.drifted);
  if (drifted.size === 0) return [];
  const vocabulary = new Set(profile.vocabulary);
  const newTokens = new Set(drift.newTokens.map((t) => t.item));
  const newEntities = new Set(drift.newEntities.map((t) => t.item));
  const refTotal = Object.values(profile.labels).reduce((a, b) => a + b, 0) || 1;
  const overPredicted = new Set(
    live.labels.filter((l) => l.share - (profile.labels[l.item] ?? 0) / refTotal > 0.02).map((l) => l.item),
  );
  const refMean = profile.meanConfidence ?? 0;
  const lengths = Object.keys(profile.lengths).map(Number);
  const [shortest, longest] = [Math.min(...lengths), Math.max(...lengths)];
  // Input-side signals (the texts differ from training) pick the slice when any drifted; output-side ones
  // (labels, confidence) only when nothing on the input side did, so in-distribution texts stay out.
  const inputSide = ['new_tokens', 'oov_shift', 'new_entities', 'length_psi'].some((n) =>
    drifted.has(n as DriftSignalName),
  );
  const out: SliceItem[] = [];
  for (const prediction of logged) {
    const inputs: string[] = [];
    const outputs: string[] = [];
    const words = monitorTokens(prediction.text);
    const answer = prediction.output as Answer;
    if (drifted.has('new_tokens')) {
      const found = [...new Set(words.filter((w) => newTokens.has(w)))];
      if (found.length) inputs.push(`new_tokens: ${found.join(', ')}`);
    }
    if (drifted.has('oov_shift') && words.length > 0) {
      const unseen = words.filter((w) => !vocabulary.has(w)).length;
      if (unseen / words.length > profile.oovRate + thresholds.oovShift)
        inputs.push(`oov_shift: ${unseen}/${words.length} tokens unseen in training`);
    }
    if (drifted.has('new_entities'))
      for (const e of answer.entities ?? [])
        if (newEntities.has(entityKey(e.label, e.text))) inputs.push(`new_entities: ${e.label} ${e.text}`);
    if (drifted.has('length_psi') && (words.length < shortest || words.length > longest))
      inputs.push(`length_psi: ${words.length} tokens (reference ${shortest}..${longest})`);
    const scores = (answer.entities ?? answer.labels ?? []).map((x) => x.score);
    if (drifted.has('confidence_shift') && scores.some((c) => c < refMean - thresholds.confidenceShift))
      outputs.push(
        `confidence_shift: confidence ${Math.min(...scores).toFixed(3)} (reference mean ${refMean.toFixed(3)})`,
      );
    if (drifted.has('label_psi') || drifted.has('label_js')) {
      const labels = (answer.entities ?? answer.labels ?? [])
        .map((x) => x.label)
        .filter((l) => overPredicted.has(l));
      if (labels.length)
        outputs.push(
          `label shift: predicted ${[...new Set(labels)].join(', ')} more often than in the reference`,
        );
    }
    if (inputSide ? inputs.length > 0 : outputs.length > 0)
      out.push({ prediction, reasons: [...inputs, ...outputs] });
  }
  return out;
}

/** A logged prediction as a Prodigy-style JSONL record for annotation: the text, and the prediction in `meta`. */
export function sliceRecord(
  item: SliceItem | { prediction: LoggedPrediction; reasons?: string[] },
): Record<string, unknown> {
  const p = item.prediction;
  return {
    id: `${p.requestId}:${p.item}`,
    text: p.text,
    meta: {
      requestId: p.requestId,
      item: p.item,
      model: p.model,
      version: p.version,
      createdAt: p.createdAt,
      predicted: p.output,
      ...(item.reasons?.length ? { driftReasons: item.reasons } : {}),
    },
  };
}
