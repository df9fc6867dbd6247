import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../src/core/errors.ts';
import {
  apportion,
  inferTask,
  NO_LABEL,
  readGroupValue,
  splitExamples,
  stratumOf,
  validateSplitOptions,
} from '../../src/data/split.ts';
import type { Example } from '../../src/data/types.ts';

function cls(id: string, label?: string, meta: Record<string, unknown> = {}): Example {
  return { id, text: `text ${id}`, labels: label ? [label] : [], meta };
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) m.set(key(it), (m.get(key(it)) ?? 0) + 1);
  return m;
}

const NAMES3 = ['train', 'dev', 'test'];
const namesFor = (ratios: number[]) => (ratios.length === 3 ? NAMES3 : ['train', 'test']);
const ratioSets = fc
  .constantFrom([0.8, 0.1, 0.1], [0.5, 0.5], [0.7, 0.3], [0.6, 0.2, 0.2], [1 / 3, 1 / 3, 1 / 3])
  .map((r): number[] => [...r]);
const labelled = fc
  .array(fc.constantFrom('a', 'a', 'a', 'b', 'b', 'c', 'rare'), { maxLength: 150 })
  .map((labels) => labels.map((l, i) => cls(`e${i}`, l)));
const grouped = fc
  .array(
    fc.tuple(fc.option(fc.integer({ min: 0, max: 25 }), { nil: undefined }), fc.constantFrom('a', 'b')),
    {
      maxLength: 120,
    },
  )
  .map((rows) => rows.map(([doc, l], i) => cls(`e${i}`, l, doc === undefined ? {} : { doc })));

describe('validateSplitOptions', () => {
  it('defaults names to train,dev,test for 3 ratios and train,test for 2', () => {
    assert.deepEqual(validateSplitOptions([0.8, 0.1, 0.1]), ['train', 'dev', 'test']);
    assert.deepEqual(validateSplitOptions([0.7, 0.3]), ['train', 'test']);
    assert.deepEqual(validateSplitOptions([0.5, 0.25, 0.25], ['a', 'b', 'c']), ['a', 'b', 'c']);
  });

  it('rejects ratios that do not sum to 1, citing them and suggesting a fix', () => {
    assert.throws(
      () => validateSplitOptions([0.8, 0.1, 0.2]),
      (e: unknown) => e instanceof ConfigError && /\[0\.8, 0\.1, 0\.2\] sum to 1\.1, not 1/.test(e.message),
    );
    try {
      validateSplitOptions([8, 1, 1]);
      assert.fail('should throw');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.details.path, 'ratios');
      assert.deepEqual(e.details.ratios, [8, 1, 1]);
      assert.match(e.hint ?? '', /\[0\.8, 0\.1, 0\.1\]/);
    }
  });

  it('rejects zero, negative and non-finite ratios, and fewer than two splits', () => {
    assert.throws(() => validateSplitOptions([1, 0]), /must be positive/);
    assert.throws(() => validateSplitOptions([1.2, -0.2]), /ratio -0\.2 at position 1/);
    assert.throws(() => validateSplitOptions([Number.NaN, 1]), ConfigError);
    assert.throws(() => validateSplitOptions([1]), /at least two splits/);
  });

  it('needs names for 4+ splits, one per ratio, distinct and non-empty', () => {
    assert.throws(() => validateSplitOptions([0.25, 0.25, 0.25, 0.25]), /need split names/);
    assert.throws(() => validateSplitOptions([0.5, 0.5], ['a']), /1 split names \[a\] for 2 ratios/);
    assert.throws(() => validateSplitOptions([0.5, 0.5], ['a', 'a']), /repeated/);
    assert.throws(() => validateSplitOptions([0.5, 0.5], ['a', ' ']), /empty/);
  });

  it('property: random invalid ratio lists always throw ConfigError', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1, max: 2, noNaN: true }), { minLength: 2, maxLength: 3 }),
        (r) => {
          const valid = r.every((x) => x > 0) && Math.abs(r.reduce((a, b) => a + b, 0) - 1) <= 1e-6;
          if (valid) validateSplitOptions(r);
          else assert.throws(() => validateSplitOptions(r), ConfigError);
        },
      ),
    );
  });
});

describe('apportion', () => {
  it('uses largest remainders and sums to the total', () => {
    assert.deepEqual(apportion(10, [0.8, 0.1, 0.1]), [8, 1, 1]);
    assert.deepEqual(apportion(7, [0.5, 0.25, 0.25]), [3, 2, 2]);
    assert.deepEqual(apportion(5, [0.5, 0.3, 0.2]), [3, 1, 1]);
    assert.deepEqual(apportion(2, [1 / 3, 1 / 3, 1 / 3]), [1, 1, 0]);
    assert.deepEqual(apportion(0, [0.5, 0.5]), [0, 0]);
  });
});

describe('stratumOf / inferTask / readGroupValue', () => {
  it('uses the first label, the label set, or the rarest entity label', () => {
    assert.equal(stratumOf({ id: '1', text: '', labels: ['b', 'a'], meta: {} }, 'classify'), 'b');
    assert.equal(stratumOf({ id: '1', text: '', labels: ['b', 'a', 'b'], meta: {} }, 'multilabel'), 'a|b');
    assert.equal(stratumOf({ id: '1', text: '', meta: {} }, 'classify'), NO_LABEL);
    const spans = [
      { start: 0, end: 1, label: 'PER' },
      { start: 2, end: 3, label: 'LOC' },
      { start: 4, end: 5, label: 'ORG' },
    ];
    const rarity = new Map([
      ['PER', 10],
      ['LOC', 2],
      ['ORG', 2],
    ]);
    assert.equal(stratumOf({ id: '1', text: 'a b c', spans, meta: {} }, 'ner', rarity), 'LOC');
    assert.equal(stratumOf({ id: '1', text: 'x', spans: [], meta: {} }, 'ner', rarity), NO_LABEL);
  });

  it('infers the task from labels', () => {
    assert.equal(inferTask([cls('1', 'a'), cls('2')]), 'classify');
    assert.equal(inferTask([{ id: '1', text: '', labels: ['a', 'b'], meta: {} }]), 'multilabel');
    assert.equal(inferTask([{ id: '1', text: 'x', spans: [], meta: {} }]), 'ner');
  });

  it('reads group values from meta with or without the meta. prefix', () => {
    const ex: Example = { id: '1', text: '', meta: { doc: 'd1', src: { file: 'f' } } };
    assert.equal(readGroupValue(ex, 'meta.doc'), 'd1');
    assert.equal(readGroupValue(ex, 'doc'), 'd1');
    assert.equal(readGroupValue(ex, 'src.file'), 'f');
    assert.equal(readGroupValue(ex, 'doc.deeper'), undefined);
    assert.equal(readGroupValue(ex, 'missing'), undefined);
  });
});

describe('splitExamples', () => {
  it('returns new examples in input order with exact largest-remainder counts', () => {
    const input = Array.from({ length: 10 }, (_, i) => cls(`e${i}`, 'a'));
    const out = splitExamples(input, { ratios: [0.8, 0.1, 0.1], seed: 1 });
    assert.deepEqual(
      out.map((e) => e.id),
      input.map((e) => e.id),
    );
    assert.notEqual(out[0], input[0]);
    assert.equal(input[0]!.split, undefined, 'input is not mutated');
    const counts = countBy(out, (e) => e.split!);
    assert.deepEqual([counts.get('train'), counts.get('dev'), counts.get('test')], [8, 1, 1]);
  });

  it('uses custom names and overwrites an existing split', () => {
    const input = Array.from({ length: 4 }, (_, i) => ({ ...cls(`e${i}`, 'a'), split: 'old' }));
    const out = splitExamples(input, { ratios: [0.5, 0.5], names: ['fit', 'hold'], seed: 3 });
    assert.deepEqual([...countBy(out, (e) => e.split!).entries()].sort(), [
      ['fit', 2],
      ['hold', 2],
    ]);
  });

  it('handles an empty input', () => {
    assert.deepEqual(splitExamples([], { ratios: [0.5, 0.5], seed: 1 }), []);
  });

  it('different seeds give different assignments', () => {
    const input = Array.from({ length: 50 }, (_, i) => cls(`e${i}`, 'a'));
    const a = splitExamples(input, { ratios: [0.5, 0.5], seed: 1 }).map((e) => e.split);
    const b = splitExamples(input, { ratios: [0.5, 0.5], seed: 2 }).map((e) => e.split);
    assert.notDeepEqual(a, b);
  });

  it('stratifies: each label keeps its proportion in every split', () => {
    const input = [
      ...Array.from({ length: 80 }, (_, i) => cls(`a${i}`, 'a')),
      ...Array.from({ length: 20 }, (_, i) => cls(`b${i}`, 'b')),
    ];
    const out = splitExamples(input, { ratios: [0.5, 0.5], seed: 9, stratify: true });
    const counts = countBy(out, (e) => `${e.split}/${e.labels![0]}`);
    assert.deepEqual(
      ['train/a', 'test/a', 'train/b', 'test/b'].map((k) => counts.get(k)),
      [40, 40, 10, 10],
    );
  });

  it('stratifies NER data by the rarest entity label present', () => {
    const mk = (id: string, labels: string[]): Example => ({
      id,
      text: 'x '.repeat(labels.length),
      spans: labels.map((label, i) => ({ start: 2 * i, end: 2 * i + 1, label })),
      meta: {},
    });
    const input = [
      ...Array.from({ length: 6 }, (_, i) => mk(`p${i}`, ['PER'])),
      ...Array.from({ length: 4 }, (_, i) => mk(`pm${i}`, ['PER', 'MISC'])),
    ];
    const out = splitExamples(input, { ratios: [0.5, 0.5], seed: 4, stratify: true, task: 'ner' });
    const withMisc = countBy(
      out.filter((e) => e.spans!.some((s) => s.label === 'MISC')),
      (e) => e.split!,
    );
    assert.deepEqual([withMisc.get('train'), withMisc.get('test')], [2, 2]);
  });

  it('keeps groups together; examples without a group value are their own group', () => {
    const input = [
      cls('a1', 'x', { doc: 'A' }),
      cls('a2', 'x', { doc: 'A' }),
      cls('a3', 'x', { doc: 'A' }),
      cls('b1', 'x', { doc: 'B' }),
      cls('b2', 'x', { doc: 'B' }),
      cls('n1', 'x'),
      cls('n2', 'x', { doc: null }),
      cls('n3', 'x', { doc: '' }),
    ];
    for (let seed = 0; seed < 20; seed++) {
      const out = splitExamples(input, { ratios: [0.5, 0.5], seed, groupBy: 'meta.doc' });
      const split = new Map(out.map((e) => [e.id, e.split]));
      assert.equal(split.get('a1'), split.get('a2'));
      assert.equal(split.get('a1'), split.get('a3'));
      assert.equal(split.get('b1'), split.get('b2'));
      const sizes = countBy(out, (e) => e.split!);
      // 8 examples, groups of 3, 2, 1, 1, 1: the greedy lands within one group of 4/4.
      assert.ok(Math.abs((sizes.get('train') ?? 0) - 4) <= 2, `seed ${seed}: ${[...sizes]}`);
    }
  });

  it('with stratify + groupBy, a group follows its majority label', () => {
    const input = [
      cls('g1', 'a', { doc: 1 }),
      cls('g2', 'a', { doc: 1 }),
      cls('g3', 'b', { doc: 1 }),
      ...Array.from({ length: 6 }, (_, i) => cls(`s${i}`, 'b', { doc: 100 + i })),
      cls('h1', 'a', { doc: 2 }),
    ];
    const out = splitExamples(input, { ratios: [0.5, 0.5], seed: 2, stratify: true, groupBy: 'doc' });
    const split = new Map(out.map((e) => [e.id, e.split]));
    // Stratum "a" holds two groups (docs 1 and 2): one goes to each split.
    assert.notEqual(split.get('g1'), split.get('h1'));
    assert.equal(split.get('g1'), split.get('g3'));
  });

  it('property: disjoint and complete, deterministic, counts within 1 of ideal', () => {
    fc.assert(
      fc.property(labelled, ratioSets, fc.integer(), (examples, ratios, seed) => {
        const out = splitExamples(examples, { ratios, seed });
        const names = namesFor(ratios);
        assert.equal(out.length, examples.length);
        out.forEach((e, i) => {
          assert.equal(e.id, examples[i]!.id);
          assert.ok(names.includes(e.split!));
        });
        assert.deepEqual(splitExamples(examples, { ratios, seed }), out);
        const counts = countBy(out, (e) => e.split!);
        names.forEach((n, k) => {
          assert.ok(Math.abs((counts.get(n) ?? 0) - ratios[k]! * examples.length) < 1);
        });
      }),
      { numRuns: 150 },
    );
  });

  it('property: stratified counts within 1 of ideal per stratum, and within 1 overall', () => {
    fc.assert(
      fc.property(labelled, ratioSets, fc.integer(), (examples, ratios, seed) => {
        const out = splitExamples(examples, { ratios, seed, stratify: true });
        assert.deepEqual(splitExamples(examples, { ratios, seed, stratify: true }), out);
        const names = namesFor(ratios);
        const perStratum = countBy(examples, (e) => e.labels![0]!);
        const cells = countBy(out, (e) => `${e.split}/${e.labels![0]}`);
        const totals = countBy(out, (e) => e.split!);
        names.forEach((n, k) => {
          for (const [label, size] of perStratum) {
            assert.ok(Math.abs((cells.get(`${n}/${label}`) ?? 0) - ratios[k]! * size) < 1);
          }
          assert.ok(Math.abs((totals.get(n) ?? 0) - ratios[k]! * examples.length) < 1 + 1e-9);
        });
      }),
      { numRuns: 150 },
    );
  });

  it('property: groups never cross splits and split sizes are within one group per split of ideal', () => {
    fc.assert(
      fc.property(grouped, ratioSets, fc.integer(), fc.boolean(), (examples, ratios, seed, stratify) => {
        const out = splitExamples(examples, { ratios, seed, stratify, groupBy: 'doc' });
        assert.deepEqual(splitExamples(examples, { ratios, seed, stratify, groupBy: 'doc' }), out);
        const names = namesFor(ratios);
        const docSplit = new Map<unknown, string>();
        for (const e of out) {
          assert.ok(names.includes(e.split!));
          if (e.meta.doc === undefined) continue;
          const seen = docSplit.get(e.meta.doc);
          if (seen !== undefined) assert.equal(e.split, seen, `doc ${e.meta.doc} crosses splits`);
          docSplit.set(e.meta.doc, e.split!);
        }
        const maxGroup = Math.max(1, ...countBy(out, (e) => String(e.meta.doc ?? e.id)).values());
        const totals = countBy(out, (e) => e.split!);
        names.forEach((n, k) => {
          const dev = Math.abs((totals.get(n) ?? 0) - ratios[k]! * examples.length);
          assert.ok(
            dev <= (names.length - 1) * maxGroup + 1e-9,
            `${n}: off by ${dev}, max group ${maxGroup}`,
          );
        });
      }),
      { numRuns: 150 },
    );
  });
});
