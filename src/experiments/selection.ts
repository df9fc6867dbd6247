import { SapphireError } from '../core/errors.ts';
import type { Example, TaskKind } from '../data/types.ts';
import type { DataSelection, TrainingData } from '../train/train.ts';
import { kFold, subsample } from './folds.ts';

/** One k-fold cut: which fold of which repeat, with the seed and stratification that made the folds. */
export interface FoldCut {
  k: number;
  index: number;
  repeat: number;
  seed: number;
  stratify: boolean;
}

/** The examples a study run trains and is scored on, as plain JSON (recorded with the run). */
export type SelectionSpec =
  | ({
      kind: 'fold';
      /** Splits pooled before folding (default: the config's train split). */
      pool: string[];
      /** For nested cross-validation: a fold of the outer fold's training part. */
      inner?: FoldCut | null;
    } & FoldCut)
  | { kind: 'subsample'; fraction: number; seed: number; stratify: boolean; size?: number };

function pooled(data: TrainingData, pool: string[]): Example[] {
  if (pool.length === 0) return data.train;
  const wanted = new Set(pool);
  const all = [...data.train, ...data.dev, ...data.test];
  const seen = new Set<string>();
  const examples = all.filter((e) => {
    if (!e.split || !wanted.has(e.split) || seen.has(e.id)) return false;
    seen.add(e.id);
    return true;
  });
  if (examples.length === 0) {
    throw new SapphireError(
      'DATA_INVALID',
      `${data.version.id} has no examples in the pooled splits ${pool.join(', ')}`,
      {
        path: 'pool',
        hint: `its splits are: ${Object.keys(data.version.splitCounts).join(', ') || 'none'}`,
      },
    );
  }
  return examples;
}

function cut(examples: Example[], spec: FoldCut, task: TaskKind) {
  const folds = kFold(examples, { k: spec.k, task, stratify: spec.stratify, seed: spec.seed + spec.repeat });
  const fold = folds[spec.index];
  if (!fold) {
    throw new SapphireError('BAD_INPUT', `fold ${spec.index} does not exist among ${folds.length} folds`, {
      hint: `use a fold index from 0 to ${spec.k - 1}`,
    });
  }
  return fold;
}

/**
 * Turns a selection spec into the {@link DataSelection} that `trainModel` applies: folds train on the rest of the
 * pool and are scored on the held-out fold (`heldout`) and the untouched test split; subsamples train on a fraction
 * of the train split and are scored on dev and test.
 *
 * @example
 * trainModel({ …, selection: selectionFor({ kind: 'fold', pool: [], k: 5, index: 0, repeat: 0, seed: 13, stratify: true }, 'classify') });
 */
export function selectionFor(spec: SelectionSpec, task: TaskKind): DataSelection {
  const describe: Record<string, unknown> = { ...spec };
  return {
    describe,
    apply(data): ReturnType<DataSelection['apply']> {
      if (spec.kind === 'subsample') {
        const train = subsample(data.train, spec.fraction, {
          seed: spec.seed,
          task,
          stratify: spec.stratify,
        });
        describe.size = train.length;
        return { train, dev: data.dev, evaluate: { dev: data.dev, test: data.test } };
      }
      const outer = cut(pooled(data, spec.pool), spec, task);
      if (spec.inner) {
        const inner = cut(outer.train, spec.inner, task);
        describe.size = inner.train.length;
        return { train: inner.train, dev: [], evaluate: { heldout: inner.heldOut } };
      }
      describe.size = outer.train.length;
      return { train: outer.train, dev: [], evaluate: { heldout: outer.heldOut, test: data.test } };
    },
  };
}
