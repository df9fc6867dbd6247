import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SapphireError } from '../../src/core/errors.ts';
import { stratumOf } from '../../src/data/split.ts';
import type { Example, TaskKind } from '../../src/data/types.ts';
import { type Fold, kFold, subsample } from '../../src/experiments/folds.ts';

function cls(id: string, label?: string, meta: Record<string, unknown> = {}): Example {
  return { id, text: `text ${id}`, labels: label ? [label] : [], meta };
}

function ner(id: string, types: string[]): Example {
  return {
    id,
    text: `text ${id}`,
    spans: types.map((label, i) => ({ start: i, end: i + 1, label })),
    meta: {},
  };
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) m.set(key(it), (m.get(key(it)) ?? 0) + 1);
  return m;
}

const ids = (examples: readonly Example[]) => examples.map((e) => e.id);

/** Held-out id sets of one repeat, sorted, so two partitions can be compared regardless of fold numbering. */
function partition(folds: readonly Fold[]): string[] {
  return folds.map((f) => ids(f.heldOut).sort().join(',')).sort();
}

function throwsBadInput(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SapphireError);
    assert.equal(e.code, 'BAD_INPUT');
    assert.match(e.message, message);
    assert.ok(e.hint, 'has a hint');
    return true;
  });
}

const labelled = fc
  .array(fc.constantFrom('a', 'a', 'a', 'b', 'b', 'c', 'rare'), { minLength: 2, maxLength: 120 })
  .map((labels) => labels.map((l, i) => cls(`e${i}`, l)));

/** Checks the partition properties of every repeat: disjoint, complete, train = rest, input order kept. */
function checkPartition(
  examples: readonly Example[],
  folds: readonly Fold[],
  k: number,
  repeats: number,
): void {
  assert.equal(folds.length, k * repeats);
  for (let r = 0; r < repeats; r++) {
    const mine = folds.filter((f) => f.repeat === r);
    assert.deepEqual(
      mine.map((f) => f.index),
      Array.from({ length: k }, (_, i) => i),
    );
    const seen = mine.flatMap((f) => ids(f.heldOut));
    assert.deepEqual([...seen].sort(), ids(examples).sort(), 'held-out parts cover every example once');
    for (const f of mine) {
      assert.ok(f.heldOut.length > 0, 'no empty fold');
      const out = new Set(ids(f.heldOut));
      assert.deepEqual(
        ids(f.train),
        ids(examples).filter((id) => !out.has(id)),
        'train is everything else, in input order',
      );
      assert.deepEqual(
        ids(f.heldOut),
        ids(examples).filter((id) => out.has(id)),
        'held-out keeps input order',
      );
    }
  }
}

describe('kFold', () => {
  it('partitions each repeat into disjoint, covering folds whose sizes differ by at most 1 (property)', () => {
    fc.assert(
      fc.property(
        labelled,
        fc.integer({ min: 2, max: 10 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer(),
        (examples, kWanted, repeats, seed) => {
          const k = Math.min(kWanted, examples.length);
          const folds = kFold(examples, { k, task: 'classify', seed, repeats });
          checkPartition(examples, folds, k, repeats);
          for (let r = 0; r < repeats; r++) {
            const sizes = folds.filter((f) => f.repeat === r).map((f) => f.heldOut.length);
            assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${sizes}`);
          }
        },
      ),
    );
  });

  it('keeps each label within 1 of its share in every stratified fold, and sizes within 1 (property)', () => {
    fc.assert(
      fc.property(labelled, fc.integer({ min: 2, max: 7 }), fc.integer(), (examples, kWanted, seed) => {
        const k = Math.min(kWanted, examples.length);
        const folds = kFold(examples, { k, task: 'classify', seed, stratify: true });
        checkPartition(examples, folds, k, 1);
        const total = countBy(examples, (e) => e.labels![0]!);
        const sizes = folds.map((f) => f.heldOut.length);
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
        for (const fold of folds) {
          const counts = countBy(fold.heldOut, (e) => e.labels![0]!);
          for (const [label, n] of total) {
            const got = counts.get(label) ?? 0;
            assert.ok(Math.abs(got - n / k) < 1, `label ${label}: ${got} in a fold, ideal ${n / k}`);
          }
        }
      }),
    );
  });

  it('stratifies NER by the rarest entity type, with untagged examples as their own stratum', () => {
    const examples = [
      ...Array.from({ length: 12 }, (_, i) => ner(`p${i}`, ['PER'])),
      ...Array.from({ length: 6 }, (_, i) => ner(`o${i}`, ['PER', 'ORG'])),
      ...Array.from({ length: 3 }, (_, i) => ner(`l${i}`, ['LOC', 'PER', 'ORG'])),
      ...Array.from({ length: 9 }, (_, i) => ner(`n${i}`, [])),
    ];
    const folds = kFold(examples, { k: 3, task: 'ner', stratify: true, seed: 5 });
    checkPartition(examples, folds, 3, 1);
    for (const fold of folds) {
      const prefixes = countBy(fold.heldOut, (e) => e.id[0]!);
      assert.deepEqual(
        ['p', 'o', 'l', 'n'].map((p) => prefixes.get(p) ?? 0),
        [4, 2, 1, 3],
      );
    }
  });

  it('stratifies multi-label examples by their label set (property)', () => {
    const sets = fc.constantFrom<string[]>([], ['a'], ['a', 'b'], ['b', 'a'], ['c']);
    fc.assert(
      fc.property(fc.array(sets, { minLength: 3, maxLength: 60 }), fc.integer(), (rows, seed) => {
        const examples = rows.map((labels, i): Example => ({ id: `m${i}`, text: 't', labels, meta: {} }));
        const folds = kFold(examples, { k: 3, task: 'multilabel', seed, stratify: true });
        checkPartition(examples, folds, 3, 1);
        const key = (e: Example) => stratumOf(e, 'multilabel');
        const total = countBy(examples, key);
        for (const fold of folds) {
          const counts = countBy(fold.heldOut, key);
          for (const [set, n] of total) assert.ok(Math.abs((counts.get(set) ?? 0) - n / 3) < 1);
        }
      }),
    );
  });

  it('keeps groups whole and fold sizes as even as the groups allow (property)', () => {
    const rows = fc.array(
      fc.tuple(fc.option(fc.integer({ min: 0, max: 15 }), { nil: undefined }), fc.constantFrom('a', 'b')),
      { minLength: 4, maxLength: 100 },
    );
    fc.assert(
      fc.property(
        rows,
        fc.integer({ min: 2, max: 4 }),
        fc.boolean(),
        fc.integer(),
        (data, k, stratify, seed) => {
          const examples = data.map(([doc, l], i) => cls(`e${i}`, l, doc === undefined ? {} : { doc }));
          const groups = new Set(data.map(([doc], i) => (doc === undefined ? `solo${i}` : `doc${doc}`)));
          fc.pre(groups.size >= k);
          const folds = kFold(examples, { k, task: 'classify', seed, stratify, groupBy: 'meta.doc' });
          checkPartition(examples, folds, k, 1);
          const foldOfDoc = new Map<unknown, number>();
          for (const f of folds) {
            for (const e of f.heldOut) {
              if (e.meta.doc === undefined) continue;
              assert.equal(
                foldOfDoc.get(e.meta.doc) ?? f.index,
                f.index,
                `doc ${e.meta.doc} split across folds`,
              );
              foldOfDoc.set(e.meta.doc, f.index);
            }
          }
          if (!stratify) {
            // Largest-first onto the smallest fold: no fold exceeds another by more than the largest group.
            const largest = Math.max(
              ...countBy(
                data.map(([doc], i) => (doc === undefined ? `s${i}` : `${doc}`)),
                (g) => g,
              ).values(),
            );
            const sizes = folds.map((f) => f.heldOut.length);
            assert.ok(
              Math.max(...sizes) - Math.min(...sizes) <= largest,
              `sizes ${sizes}, largest ${largest}`,
            );
          }
        },
      ),
    );
  });

  it('is deterministic per seed; repeats and seeds give different folds; repeat r equals seed + r', () => {
    const examples = Array.from({ length: 40 }, (_, i) => cls(`e${i}`, i % 3 === 0 ? 'x' : 'y'));
    for (const stratify of [false, true]) {
      const options = { k: 5, task: 'classify' as TaskKind, seed: 11, repeats: 3, stratify };
      const a = kFold(examples, options);
      const b = kFold(examples, options);
      assert.deepEqual(a, b);
      const byRepeat = [0, 1, 2].map((r) => partition(a.filter((f) => f.repeat === r)));
      assert.notDeepEqual(byRepeat[0], byRepeat[1]);
      assert.notDeepEqual(byRepeat[1], byRepeat[2]);
      const seed12 = kFold(examples, { ...options, seed: 12, repeats: 1 });
      assert.deepEqual(
        seed12.map((f) => ids(f.heldOut)),
        a.filter((f) => f.repeat === 1).map((f) => ids(f.heldOut)),
      );
    }
  });

  it('returns the examples themselves and leaves the input untouched', () => {
    const examples = Array.from({ length: 6 }, (_, i) => cls(`e${i}`, 'a'));
    const before = structuredClone(examples);
    const folds = kFold(examples, { k: 3, task: 'classify' });
    assert.deepEqual(examples, before);
    assert.ok(folds[0]!.heldOut.every((e) => examples.includes(e)));
  });

  it('rejects k below 2, k above the number of examples or groups, and bad repeats', () => {
    const examples = Array.from({ length: 4 }, (_, i) => cls(`e${i}`, 'a', { doc: i % 2 }));
    throwsBadInput(() => kFold(examples, { k: 1, task: 'classify' }), /at least 2, got 1/);
    throwsBadInput(() => kFold(examples, { k: 2.5, task: 'classify' }), /integer/);
    throwsBadInput(() => kFold(examples, { k: 5, task: 'classify' }), /cannot make 5 folds from 4 examples/);
    throwsBadInput(
      () => kFold(examples, { k: 3, task: 'classify', groupBy: 'doc' }),
      /cannot make 3 folds from 2 groups \(by doc\)/,
    );
    throwsBadInput(() => kFold(examples, { k: 2, task: 'classify', repeats: 0 }), /repeats/);
    throwsBadInput(() => kFold([], { k: 2, task: 'ner' }), /from 0 examples/);
    assert.equal(kFold(examples, { k: 2, task: 'classify', groupBy: 'doc' }).length, 2);
  });
});

describe('subsample', () => {
  const examples = Array.from({ length: 100 }, (_, i) => cls(`e${i}`, i < 70 ? 'a' : i < 95 ? 'b' : 'c'));

  it('keeps round(fraction × n) examples in input order, all of them for fraction 1', () => {
    assert.deepEqual(subsample(examples, 1, { seed: 1, task: 'classify' }), examples);
    const part = subsample(examples, 0.25, { seed: 1, task: 'classify' });
    assert.equal(part.length, 25);
    const positions = part.map((e) => examples.indexOf(e));
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
    );
    assert.equal(new Set(positions).size, 25);
    assert.equal(subsample(examples.slice(0, 7), 0.5, { seed: 1, task: 'classify' }).length, 4);
  });

  it('is deterministic per seed, differs between seeds, and nests smaller fractions in larger ones', () => {
    for (const stratify of [false, true]) {
      const opts = { seed: 3, task: 'classify' as TaskKind, stratify };
      assert.deepEqual(subsample(examples, 0.3, opts), subsample(examples, 0.3, opts));
      assert.notDeepEqual(
        ids(subsample(examples, 0.3, opts)),
        ids(subsample(examples, 0.3, { ...opts, seed: 4 })),
      );
      let previous = new Set<string>();
      for (const fraction of [0.05, 0.1, 0.25, 0.5, 0.8, 1]) {
        const now = new Set(ids(subsample(examples, fraction, opts)));
        for (const id of previous) assert.ok(now.has(id), `${id} dropped going up to ${fraction}`);
        previous = now;
      }
    }
  });

  it('keeps every stratum within 1 of its share when stratifying (property)', () => {
    fc.assert(
      fc.property(
        labelled,
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        fc.integer(),
        (data, fraction, seed) => {
          const count = Math.round(fraction * data.length);
          fc.pre(count >= 1);
          const part = subsample(data, fraction, { seed, task: 'classify', stratify: true });
          assert.equal(part.length, count);
          const total = countBy(data, (e) => e.labels![0]!);
          const got = countBy(part, (e) => e.labels![0]!);
          for (const [label, n] of total) {
            const ideal = (count * n) / data.length;
            assert.ok(Math.abs((got.get(label) ?? 0) - ideal) < 1, `${label}: ${got.get(label)} vs ${ideal}`);
          }
        },
      ),
    );
  });

  it('gives a 70/25/5 split a 7/(2 or 3)/(0 or 1) 10% sample for every seed', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const counts = countBy(
        subsample(examples, 0.1, { seed, task: 'classify', stratify: true }),
        (e) => e.labels![0]!,
      );
      const [a, b, c] = ['a', 'b', 'c'].map((l) => counts.get(l) ?? 0);
      assert.equal(a, 7);
      assert.ok((b === 2 && c === 1) || (b === 3 && c === 0), `b ${b}, c ${c}`);
      seen.add(`${b}${c}`);
    }
    assert.equal(seen.size, 1, 'the stratum counts depend only on the data, not the seed');
  });

  it('rejects fractions outside (0, 1] and samples that would keep nothing', () => {
    const opts = { seed: 1, task: 'classify' as TaskKind };
    throwsBadInput(() => subsample(examples, 0, opts), /in \(0, 1\], got 0/);
    throwsBadInput(() => subsample(examples, 1.5, opts), /in \(0, 1\]/);
    throwsBadInput(() => subsample(examples, Number.NaN, opts), /in \(0, 1\]/);
    throwsBadInput(() => subsample(examples, 0.004, opts), /would keep none/);
    throwsBadInput(() => subsample([], 1, opts), /would keep none/);
    assert.equal(subsample(examples, 0.005, opts).length, 1);
  });
});
