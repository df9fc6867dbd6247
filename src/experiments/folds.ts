import { SapphireError } from '../core/errors.ts';
import { createRng, type Rng } from '../core/rng.ts';
import { exampleStrata, groupUnits, type Unit } from '../data/split.ts';
import type { Example, TaskKind } from '../data/types.ts';

/** One cross-validation fold: train on `train`, evaluate on `heldOut`. */
export interface Fold {
  /** 0-based fold number within its repeat. */
  index: number;
  /** 0-based repeat number (repeat r shuffles with seed + r). */
  repeat: number;
  /** Every example not held out, in input order. */
  train: Example[];
  /** This fold's examples, in input order. */
  heldOut: Example[];
}

/** Options for {@link kFold}. */
export interface FoldOptions {
  /** Number of folds, at least 2 and at most the number of examples (or groups). */
  k: number;
  /** Task used to pick strata (see `stratumOf` in data/split.ts). */
  task: TaskKind;
  /** Keep each stratum's share the same in every fold (default false). */
  stratify?: boolean;
  /** Seed for the shuffle (default 0); repeat r uses seed + r. */
  seed?: number;
  /** Number of times to repeat the k folds with a fresh shuffle (default 1). */
  repeats?: number;
  /** Metadata path (`doc` or `meta.doc`); examples sharing its value stay in one fold. */
  groupBy?: string;
}

function badInput(message: string, hint: string, path?: string): SapphireError {
  return new SapphireError('BAD_INPUT', message, path === undefined ? { hint } : { path, hint });
}

/** Units per stratum, strata in name order, each stratum's units shuffled by its own fork of `rng`. */
function shuffledStrata(units: readonly Unit[], rng: Rng): Unit[][] {
  const byStratum = new Map<string, Unit[]>();
  for (const unit of units) {
    const list = byStratum.get(unit.stratum);
    if (list) list.push(unit);
    else byStratum.set(unit.stratum, [unit]);
  }
  return [...byStratum.keys()].sort().map((s) => rng.fork(`stratum:${s}`).shuffle([...byStratum.get(s)!]));
}

/**
 * Fold number per example for one repeat. Single examples are dealt round-robin over the strata laid end to
 * end, so every stratum (and the whole set) splits into counts that differ by at most 1 between folds. Groups,
 * largest first, go to the fold with the fewest examples of their stratum, then the fewest examples overall.
 */
function assignFolds(units: readonly Unit[], n: number, k: number, rng: Rng, grouped: boolean): number[] {
  const assignment = new Array<number>(n);
  // A random fold order, so which folds get the extra example varies with the seed.
  const foldOrder = rng.fork('fold-order').shuffle(Array.from({ length: k }, (_, f) => f));
  const strata = shuffledStrata(units, rng);
  if (!grouped) {
    let position = 0;
    for (const stratum of strata) {
      for (const unit of stratum) assignment[unit.members[0]!] = foldOrder[position++ % k]!;
    }
    return assignment;
  }
  const total = new Array<number>(k).fill(0);
  for (const stratum of strata) {
    const inStratum = new Array<number>(k).fill(0);
    // Stable sort keeps the shuffled order among groups of equal size.
    const bySize = [...stratum].sort((a, b) => b.members.length - a.members.length);
    for (const unit of bySize) {
      let best = foldOrder[0]!;
      for (const f of foldOrder) {
        if (
          inStratum[f]! < inStratum[best]! ||
          (inStratum[f] === inStratum[best] && total[f]! < total[best]!)
        ) {
          best = f;
        }
      }
      for (const i of unit.members) assignment[i] = best;
      inStratum[best]! += unit.members.length;
      total[best]! += unit.members.length;
    }
  }
  return assignment;
}

/**
 * Splits examples into `repeats` × `k` cross-validation folds (repeat-major order); within a repeat the held-out
 * parts are disjoint and cover every example once, and `train` is everything else.
 *
 * Without groups, fold sizes differ by at most 1 and, when stratifying, so does each stratum's count (strata as
 * in the train/dev/test split: the label, the sorted label set, or an example's rarest entity type). With
 * `groupBy`, whole groups are placed, largest first, on the fold with the fewest examples of their stratum
 * and then the fewest overall, so sizes are balanced as far as the groups allow. The same seed gives the same
 * folds; the examples themselves are returned, not copies.
 *
 * @example
 * for (const fold of kFold(examples, { k: 5, task: 'classify', stratify: true, seed: 13 })) {
 *   const model = fit(fold.train);
 *   scores.push(evaluate(model, fold.heldOut));
 * }
 */
export function kFold(examples: readonly Example[], options: FoldOptions): Fold[] {
  const { k, task, stratify = false, seed = 0, repeats = 1, groupBy } = options;
  if (!Number.isSafeInteger(k) || k < 2) {
    throw badInput(
      `k-fold needs k to be an integer of at least 2, got ${k}`,
      'use e.g. k = 5 or k = 10',
      'k',
    );
  }
  if (!Number.isSafeInteger(repeats) || repeats < 1) {
    throw badInput(`repeats must be a positive integer, got ${repeats}`, 'use 1 for plain k-fold', 'repeats');
  }
  if (!Number.isFinite(seed)) {
    throw badInput(`seed must be a finite number, got ${seed}`, 'use an integer seed such as 13', 'seed');
  }
  const units = groupUnits(examples, exampleStrata(examples, task, stratify), groupBy);
  if (k > units.length) {
    const what = groupBy
      ? `${units.length} group${units.length === 1 ? '' : 's'} (by ${groupBy})`
      : `${units.length} example${units.length === 1 ? '' : 's'}`;
    throw badInput(
      `cannot make ${k} folds from ${what}: every fold needs at least one`,
      units.length >= 2 ? `use k of at most ${units.length}` : 'add more examples before cross-validating',
      'k',
    );
  }
  const grouped = units.some((u) => u.members.length > 1);
  const folds: Fold[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    const assignment = assignFolds(units, examples.length, k, createRng(seed + repeat), grouped);
    const heldOut: Example[][] = Array.from({ length: k }, () => []);
    examples.forEach((ex, i) => {
      heldOut[assignment[i]!]!.push(ex);
    });
    for (let index = 0; index < k; index++) {
      const train = examples.filter((_, i) => assignment[i] !== index);
      folds.push({ index, repeat, train, heldOut: heldOut[index]! });
    }
  }
  return folds;
}

/**
 * Orders examples so that every prefix is a stratified sample: each step takes the next shuffled example of the
 * stratum furthest behind its share, which keeps every stratum's count within 1 of its proportional share in
 * every prefix.
 */
function stratifiedOrder(strata: readonly Unit[][], n: number, count: number): number[] {
  const share = strata.map((s) => s.length / n);
  const taken = strata.map(() => 0);
  const order: number[] = [];
  for (let m = 1; m <= count; m++) {
    let best = -1;
    let bestDeficit = Number.NEGATIVE_INFINITY;
    for (let s = 0; s < strata.length; s++) {
      if (taken[s]! >= strata[s]!.length) continue;
      const deficit = m * share[s]! - taken[s]!;
      if (deficit > bestDeficit + 1e-12) {
        best = s;
        bestDeficit = deficit;
      }
    }
    order.push(strata[best]![taken[best]!]!.members[0]!);
    taken[best]! += 1;
  }
  return order;
}

/**
 * Draws `round(fraction × n)` examples without replacement, in input order (all of them for fraction 1), e.g.
 * for a learning curve; with the same seed a smaller fraction gives a subset of a larger one, and stratifying
 * keeps each stratum within 1 example of its proportional share.
 *
 * @example
 * const quarter = subsample(train, 0.25, { seed: 13, task: 'ner', stratify: true });
 */
export function subsample(
  examples: readonly Example[],
  fraction: number,
  options: { seed: number; task: TaskKind; stratify?: boolean },
): Example[] {
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction <= 1)) {
    throw badInput(
      `subsample fraction must be in (0, 1], got ${fraction}`,
      'pass the share of examples to keep, e.g. 0.25 for a quarter',
      'fraction',
    );
  }
  if (!Number.isFinite(options.seed)) {
    throw badInput(
      `seed must be a finite number, got ${options.seed}`,
      'use an integer seed such as 13',
      'seed',
    );
  }
  const n = examples.length;
  const count = Math.round(fraction * n);
  if (count < 1) {
    throw badInput(
      `subsampling ${fraction} of ${n} example${n === 1 ? '' : 's'} would keep none`,
      n === 0
        ? 'add examples first'
        : `use a fraction of at least ${(0.5 / n).toPrecision(2)} to keep one example`,
      'fraction',
    );
  }
  if (fraction === 1) return [...examples];
  const rng = createRng(options.seed);
  let chosen: number[];
  if (options.stratify) {
    const strata = exampleStrata(examples, options.task, true);
    const units = examples.map((_, i) => ({ members: [i], stratum: strata[i]! }));
    chosen = stratifiedOrder(shuffledStrata(units, rng), n, count);
  } else {
    chosen = rng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, count);
  }
  return chosen.sort((a, b) => a - b).map((i) => examples[i]!);
}
