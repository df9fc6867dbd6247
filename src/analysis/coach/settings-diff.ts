import { createModel } from '../../models/index.ts';

/** Flattens nested settings to dotted keys (`features.hashBits`); arrays stay values. */
export function flattenSettings(settings: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      Object.assign(out, flattenSettings(value as Record<string, unknown>, path));
    else out[path] = value;
  }
  return out;
}

/**
 * The settings of a run that differ from its architecture's defaults, flattened (`{ 'trainer.epochs': 1 }`);
 * every setting when the defaults cannot be made (an architecture that needs settings, or an unknown one).
 *
 * @example
 * changedSettings('linear.v1', 'classify', { loss: 'logistic', trainer: { epochs: 1, … }, … }); // { loss: 'logistic', 'trainer.epochs': 1 }
 */
export function changedSettings(
  architecture: string,
  task: string,
  settings: Record<string, unknown>,
): Record<string, unknown> {
  const flat = flattenSettings(settings);
  let defaults: Record<string, unknown>;
  try {
    defaults = flattenSettings(createModel(architecture, { task }).config());
  } catch {
    return flat;
  }
  const changed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    if (key === 'task') continue;
    if (JSON.stringify(defaults[key]) !== JSON.stringify(value)) changed[key] = value;
  }
  return changed;
}
