/**
 * The settings of each architecture that trade bias against variance, read from a run's filled config: which
 * overrides add capacity (more epochs, more features, less regularisation) and which sweep adds regularisation.
 */

/** Overrides and sweeps that move a model towards more capacity or more regularisation. */
export interface ModelKnobs {
  /** `key=value` overrides that add capacity, given the run's current settings (empty when none apply). */
  capacity: string[];
  /** A grid (`key=[a,b,c]`) that weakens regularisation, or null. */
  capacitySweep: string | null;
  /** A grid that strengthens regularisation (or otherwise lowers variance), or null. */
  regularizeSweep: string | null;
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function obj(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** A value rounded to 3 significant digits for a grid (`0.030000001` → `0.03`). */
function round(value: number): number {
  return Number(value.toPrecision(3));
}

/** `key=[a,b,c]` with each value rounded. */
export function grid(key: string, values: number[]): string {
  return `${key}=[${[...new Set(values.map(round))].join(',')}]`;
}

function linearKnobs(settings: Record<string, unknown>): ModelKnobs {
  const trainer = obj(settings.trainer);
  const features = obj(settings.features);
  const loss = settings.loss === 'logistic' ? 'logistic' : 'hinge';
  const C = num(settings.C, loss === 'logistic' ? 30 : 1);
  const capacity: string[] = [];
  const epochs = num(trainer.epochs, 5);
  if (loss === 'logistic' && epochs < 20) capacity.push(`model.trainer.epochs=${Math.max(20, epochs * 4)}`);
  const iterations = num(trainer.maxIterations, 1000);
  if (loss === 'hinge' && iterations < 1000) capacity.push('model.trainer.maxIterations=1000');
  if (num(features.hashBits, 20) < 18) capacity.push('model.features.hashBits=20');
  if (features.wordNgrams === null) capacity.push('model.features.wordNgrams=[1,2]');
  const chars = features.charNgrams;
  if (chars === null || (Array.isArray(chars) && num(chars[1], 5) < 4))
    capacity.push('model.features.charNgrams=[2,5]');
  return {
    capacity,
    capacitySweep: grid('model.C', [C, C * 3, C * 10]),
    regularizeSweep: grid('model.C', [C / 10, C / 3, C]),
  };
}

function crfKnobs(settings: Record<string, unknown>): ModelKnobs {
  const c2 = num(settings.c2, 0.5);
  const capacity: string[] = [];
  const iterations = num(settings.maxIterations, 100);
  if (iterations < 100) capacity.push(`model.maxIterations=${Math.max(200, iterations * 4)}`);
  return {
    capacity,
    capacitySweep: c2 > 0 ? grid('model.c2', [c2 / 10, c2 / 3, c2]) : null,
    regularizeSweep: grid('model.c2', c2 > 0 ? [c2, c2 * 3, c2 * 10] : [0.1, 0.5, 1]),
  };
}

function perceptronKnobs(settings: Record<string, unknown>): ModelKnobs {
  const epochs = num(settings.epochs, 10);
  return {
    capacity: epochs < 10 ? [`model.epochs=${Math.max(20, epochs * 4)}`] : [],
    capacitySweep: grid('model.epochs', [epochs, epochs * 2, epochs * 4]),
    regularizeSweep:
      epochs > 2 ? grid('model.epochs', [Math.ceil(epochs / 4), Math.ceil(epochs / 2), epochs]) : null,
  };
}

/**
 * The capacity and regularisation knobs of an architecture, given the run's filled settings; architectures
 * without such knobs (baselines, rules) get none, and the coach suggests the next rung of the ladder instead.
 *
 * @example
 * modelKnobs('linear.v1', { loss: 'logistic', C: 30, trainer: { epochs: 1 }, features: { hashBits: 10 } }).capacity;
 * // ['model.trainer.epochs=20', 'model.features.hashBits=20']
 */
export function modelKnobs(architecture: string, settings: Record<string, unknown>): ModelKnobs {
  if (architecture === 'linear.v1') return linearKnobs(settings);
  if (architecture === 'crf.v1') return crfKnobs(settings);
  if (architecture === 'perceptron.v1') return perceptronKnobs(settings);
  return { capacity: [], capacitySweep: null, regularizeSweep: null };
}
