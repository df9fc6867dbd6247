/**
 * Small readers of tracked runs the coach relies on: which architecture and dataset a run used, whether it is a
 * baseline, and its scores on each evaluated set for the project's primary metric.
 */
import type { Run } from '../../store/store.ts';

/** Architectures the coach counts as baselines: trivial predictors and hand-written or learnt rules. */
export const BASELINE_ARCHITECTURES: readonly string[] = ['majority.v1', 'random.v1', 'token-majority.v1'];

/** Run kinds that train and score one model (a plain training run or a member of a study). */
export const MODEL_RUN_KINDS: readonly string[] = ['train', 'trial', 'rung', 'curve-point', 'fold'];

/** Run kinds that group other runs: comparing models on the same data. */
export const STUDY_KINDS: readonly string[] = ['sweep', 'cv', 'nested-cv', 'curve', 'ladder'];

/** True for a baseline architecture: `majority.v1`, `random.v1`, `token-majority.v1` or any `rules-*`. */
export function isBaselineArchitecture(architecture: string): boolean {
  return BASELINE_ARCHITECTURES.includes(architecture) || architecture.startsWith('rules-');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `model.architecture` a run recorded, or null (studies record the config they vary, too). */
export function runArchitecture(run: Run): string | null {
  const model = run.config.model;
  if (isRecord(model) && typeof model.architecture === 'string') return model.architecture;
  return null;
}

/** A run's model settings: its `model` section without the architecture (the filled config for training runs). */
export function runSettings(run: Run): Record<string, unknown> {
  const model = run.config.model;
  if (!isRecord(model)) return {};
  const { architecture: _architecture, ...settings } = model;
  return settings;
}

/** The dataset version a run used (its first), or null. */
export function runDatasetVersion(run: Run): string | null {
  return run.datasetVersions[0] ?? null;
}

/** The dataset name of a version id (`bank@1a2b3c` → `bank`). */
export function datasetName(versionId: string): string {
  const at = versionId.indexOf('@');
  return at > 0 ? versionId.slice(0, at) : versionId;
}

/** What share of the training split a study member trained on (`config.selection`), when it was a subsample. */
export function runSelection(run: Run): { fraction: number | null; size: number | null } | null {
  const selection = run.config.selection;
  if (!isRecord(selection)) return null;
  return {
    fraction: typeof selection.fraction === 'number' ? selection.fraction : null,
    size: typeof selection.size === 'number' ? selection.size : null,
  };
}

/** A finite metric of a run, or null. */
export function metric(run: Run, key: string): number | null {
  const value = run.metrics[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The run's primary-metric score on the first of `sets` it recorded, with the key used. */
export function firstScore(
  run: Run,
  primary: string,
  sets: readonly string[],
): { key: string; value: number } | null {
  for (const set of sets) {
    const key = `${set}.${primary}`;
    const value = metric(run, key);
    if (value !== null) return { key, value };
  }
  return null;
}
