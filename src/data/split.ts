import { ConfigError } from '../core/errors.ts';
import { createRng } from '../core/rng.ts';
import type { Example, TaskKind } from './types.ts';

/** Options for {@link splitExamples}. */
export interface SplitOptions {
  /** Fraction of examples per split; each positive, summing to 1 (e.g. `[0.8, 0.1, 0.1]`). */
  ratios: number[];
  /** Split names, one per ratio; defaults to `train,dev,test` for 3 ratios and `train,test` for 2. */
  names?: string[];
  /** Seed for the shuffle; the same seed and input give the same splits. */
  seed: number;
  /** Keep each stratum's label proportions in every split (see {@link stratumOf}). */
  stratify?: boolean;
  /** Metadata field path (`meta.doc` or `doc`); examples sharing a value always land in the same split. */
  groupBy?: string;
  /** Task used to pick strata; inferred from the examples when omitted (see {@link inferTask}). */
  task?: TaskKind;
}

/** Label written for examples without any label or entity when stratifying. */
export const NO_LABEL = '(none)';

const RATIO_TOLERANCE = 1e-6;

/**
 * Guesses the task from the data: class labels present → `classify` (or `multilabel` when any
 * example carries several), otherwise `ner`.
 */
export function inferTask(examples: readonly Example[]): TaskKind {
  let hasLabels = false;
  for (const ex of examples) {
    if (ex.labels && ex.labels.length > 1) return 'multilabel';
    if (ex.labels && ex.labels.length > 0) hasLabels = true;
  }
  return hasLabels ? 'classify' : 'ner';
}

/**
 * Splits `total` items into integer counts proportional to `ratios` (largest-remainder method);
 * the counts sum to `total` and each is the floor or ceiling of its ideal share.
 */
export function apportion(total: number, ratios: readonly number[]): number[] {
  const sum = ratios.reduce((a, b) => a + b, 0);
  const ideal = ratios.map((r) => (r / sum) * total);
  const counts = ideal.map((x) => Math.floor(x));
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = ideal.map((x, i) => ({ i, rem: x - counts[i]! })).sort((a, b) => b.rem - a.rem || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    counts[i]! += 1;
    left -= 1;
  }
  return counts;
}

/** Checks ratios and names, returning the names to use; throws a ConfigError explaining the fix. */
export function validateSplitOptions(ratios: readonly number[], names?: readonly string[]): string[] {
  const shown = `[${ratios.join(', ')}]`;
  if (ratios.length < 2) {
    throw new ConfigError(`split ratios ${shown} must list at least two splits`, {
      path: 'ratios',
      ratios: [...ratios],
      hint: 'use e.g. [0.8, 0.2] for train/test or [0.8, 0.1, 0.1] for train/dev/test',
    });
  }
  const bad = ratios.findIndex((r) => !Number.isFinite(r) || r <= 0);
  if (bad >= 0) {
    throw new ConfigError(`split ratio ${ratios[bad]} at position ${bad} in ${shown} must be positive`, {
      path: `ratios[${bad}]`,
      ratios: [...ratios],
      hint: 'drop splits you do not want instead of giving them 0, e.g. [0.8, 0.2]',
    });
  }
  const sum = ratios.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > RATIO_TOLERANCE) {
    const scaled = ratios.map((r) => Math.round((r / sum) * 1000) / 1000);
    throw new ConfigError(`split ratios ${shown} sum to ${Number(sum.toFixed(6))}, not 1`, {
      path: 'ratios',
      ratios: [...ratios],
      hint: `use fractions that sum to 1, e.g. [${scaled.join(', ')}]`,
    });
  }
  let resolved: string[];
  if (names) resolved = [...names];
  else if (ratios.length === 3) resolved = ['train', 'dev', 'test'];
  else if (ratios.length === 2) resolved = ['train', 'test'];
  else {
    throw new ConfigError(`${ratios.length} split ratios ${shown} need split names`, {
      path: 'names',
      ratios: [...ratios],
      hint: `pass names with ${ratios.length} entries, e.g. ${ratios.map((_, i) => `part${i + 1}`).join(',')}`,
    });
  }
  if (resolved.length !== ratios.length) {
    throw new ConfigError(
      `${resolved.length} split names [${resolved.join(', ')}] for ${ratios.length} ratios ${shown}`,
      { path: 'names', ratios: [...ratios], hint: 'give exactly one name per ratio' },
    );
  }
  const seen = new Set<string>();
  for (const [i, name] of resolved.entries()) {
    if (name.trim() === '' || seen.has(name)) {
      throw new ConfigError(
        `split name ${JSON.stringify(name)} is ${seen.has(name) ? 'repeated' : 'empty'}`,
        {
          path: `names[${i}]`,
          hint: 'use distinct, non-empty names such as train, dev, test',
        },
      );
    }
    seen.add(name);
  }
  return resolved;
}

/**
 * The stratum key of one example: for `classify` its first label, for `multilabel` its sorted
 * label set joined by `|`, for `ner` its rarest entity label (by `labelRarity`, the number of
 * examples containing each label; ties broken by name) — using the rarest label rather than the
 * full label set keeps strata few and large while still spreading rare types across splits.
 * Examples with nothing to go on get {@link NO_LABEL}.
 */
export function stratumOf(
  example: Example,
  task: TaskKind,
  labelRarity?: ReadonlyMap<string, number>,
): string {
  if (task === 'classify') return example.labels?.[0] ?? NO_LABEL;
  if (task === 'multilabel') {
    const set = [...new Set(example.labels ?? [])].sort();
    return set.length > 0 ? set.join('|') : NO_LABEL;
  }
  let best: string | undefined;
  let bestCount = Number.POSITIVE_INFINITY;
  for (const span of example.spans ?? []) {
    const count = labelRarity?.get(span.label) ?? 0;
    if (count < bestCount || (count === bestCount && best !== undefined && span.label < best)) {
      best = span.label;
      bestCount = count;
    }
  }
  return best ?? NO_LABEL;
}

/** Reads a metadata value by path: `meta.doc` from the example, anything else (`doc`, `a.b`) from `meta`. */
export function readGroupValue(example: Example, path: string): unknown {
  const parts = path.split('.');
  let value: unknown = example.meta;
  if (parts[0] === 'meta') parts.shift();
  for (const part of parts) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A set of examples that must stay together (one example unless grouped), with its stratum. */
export interface Unit {
  /** Indexes of the member examples. */
  members: number[];
  stratum: string;
}

function entityRarity(examples: readonly Example[]): Map<string, number> {
  const rarity = new Map<string, number>();
  for (const ex of examples) {
    for (const label of new Set((ex.spans ?? []).map((s) => s.label))) {
      rarity.set(label, (rarity.get(label) ?? 0) + 1);
    }
  }
  return rarity;
}

/** Stratum per example (see {@link stratumOf}), or '' for every example when not stratifying. */
export function exampleStrata(examples: readonly Example[], task: TaskKind, stratify: boolean): string[] {
  if (!stratify) return examples.map(() => '');
  const rarity = task === 'ner' ? entityRarity(examples) : undefined;
  return examples.map((ex) => stratumOf(ex, task, rarity));
}

/** Groups examples by the `groupBy` path (examples without a value stand alone); each group takes its majority stratum. */
export function groupUnits(
  examples: readonly Example[],
  strata: readonly string[],
  groupBy?: string | null,
): Unit[] {
  if (!groupBy) return examples.map((_, i) => ({ members: [i], stratum: strata[i]! }));
  const byGroup = new Map<string, number[]>();
  const units: number[][] = [];
  examples.forEach((ex, i) => {
    const value = readGroupValue(ex, groupBy);
    if (value === undefined || value === null || value === '') {
      units.push([i]);
      return;
    }
    const key = typeof value === 'string' ? value : JSON.stringify(value);
    const members = byGroup.get(key);
    if (members) members.push(i);
    else {
      const created = [i];
      byGroup.set(key, created);
      units.push(created);
    }
  });
  return units.map((members) => ({ members, stratum: majority(members.map((i) => strata[i]!)) }));
}

function buildUnits(examples: readonly Example[], options: SplitOptions, task: TaskKind): Unit[] {
  return groupUnits(examples, exampleStrata(examples, task, options.stratify === true), options.groupBy);
}

/** Most frequent value; ties go to the smallest value so the result does not depend on order. */
function majority(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = '';
  let bestCount = -1;
  for (const [v, c] of counts) {
    if (c > bestCount || (c === bestCount && v < best)) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

/**
 * Assigns every example to exactly one split, deterministically for a seed, returning new
 * examples in the input order with `split` set.
 *
 * Counts follow the ratios by largest remainder (per stratum when stratifying; the leftover
 * example of each stratum goes to the split furthest behind overall, so totals stay close too).
 * With `groupBy`, whole groups are the units: each group (in shuffled order) goes to the split
 * with the largest remaining shortfall in examples, so a split misses its ideal size by at most
 * (number of splits − 1) × the largest group, and usually by less than one group.
 *
 * @example
 * const split = splitExamples(examples, { ratios: [0.8, 0.1, 0.1], seed: 13, stratify: true });
 */
export function splitExamples(examples: readonly Example[], options: SplitOptions): Example[] {
  const names = validateSplitOptions(options.ratios, options.names);
  const ratioSum = options.ratios.reduce((a, b) => a + b, 0);
  const ratios = options.ratios.map((r) => r / ratioSum);
  const task = options.task ?? inferTask(examples);
  const units = buildUnits(examples, options, task);

  const byStratum = new Map<string, Unit[]>();
  for (const unit of units) {
    const list = byStratum.get(unit.stratum);
    if (list) list.push(unit);
    else byStratum.set(unit.stratum, [unit]);
  }
  const strata = [...byStratum.keys()].sort();
  const rng = createRng(options.seed);
  const assignment = new Array<number>(examples.length);
  // Running shortfall per split (ideal examples so far minus examples assigned so far).
  const deficit = ratios.map(() => 0);

  for (const stratum of strata) {
    const stratumUnits = rng.fork(`stratum:${stratum}`).shuffle([...byStratum.get(stratum)!]);
    const size = stratumUnits.reduce((n, u) => n + u.members.length, 0);
    for (let k = 0; k < ratios.length; k++) deficit[k]! += ratios[k]! * size;

    if (!options.groupBy) {
      const counts = quotaCounts(size, ratios, deficit);
      let k = 0;
      let filled = 0;
      for (const unit of stratumUnits) {
        while (filled >= counts[k]!) {
          k++;
          filled = 0;
        }
        assignment[unit.members[0]!] = k;
        filled++;
      }
      for (let j = 0; j < ratios.length; j++) deficit[j]! -= counts[j]!;
      continue;
    }
    for (const unit of stratumUnits) {
      let best = 0;
      for (let k = 1; k < ratios.length; k++) if (deficit[k]! > deficit[best]! + 1e-9) best = k;
      for (const i of unit.members) assignment[i] = best;
      deficit[best]! -= unit.members.length;
    }
  }
  return examples.map((ex, i) => ({ ...ex, split: names[assignment[i]!]! }));
}

/**
 * Per-split counts for one stratum: floor of each ideal share, with the leftover examples given
 * to splits with a fractional share, preferring those furthest behind overall (`deficit` already
 * includes this stratum's ideal shares).
 */
function quotaCounts(size: number, ratios: readonly number[], deficit: readonly number[]): number[] {
  const ideal = ratios.map((r) => r * size);
  const counts = ideal.map((x) => Math.floor(x));
  let left = size - counts.reduce((a, b) => a + b, 0);
  const order = ideal
    .map((x, i) => ({ i, frac: x - counts[i]!, behind: deficit[i]! - counts[i]! }))
    .sort((a, b) => Number(b.frac > 1e-9) - Number(a.frac > 1e-9) || b.behind - a.behind || a.i - b.i);
  for (let n = 0; left > 0; n++, left--) counts[order[n % order.length]!.i]! += 1;
  return counts;
}
