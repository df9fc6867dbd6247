/** The streaming sketches against exact counts: on generated streams (fast-check) and on Banking77's texts. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { hash32 } from '../../src/core/hash32.ts';
import { parseCsv } from '../../src/data/formats/csv.ts';
import { indexProfile, PredictionSketch } from '../../src/monitor/live-sketch.ts';
import { HashSet32 } from '../../src/monitor/sketches/hash-set32.ts';
import { HyperLogLog } from '../../src/monitor/sketches/hyperloglog.ts';
import { QUANTILE_RELATIVE_ACCURACY, QuantileSketch } from '../../src/monitor/sketches/quantiles.ts';
import { SpaceSaving } from '../../src/monitor/sketches/space-saving.ts';
import {
  forEachMonitorToken,
  monitorTokens,
  NON_ASCII,
  type ReferenceProfile,
  scanMonitorTokens,
} from '../../src/train/reference-profile.ts';
import { SHARED } from '../cli/helpers.ts';

const BANKING = join(SHARED, 'classify', 'banking77');
const HAVE_BANKING = existsSync(join(BANKING, 'train.csv'));

/** Banking77 rows (text, category) in file order: the "real dataset stream". */
function banking(file: string): { text: string; label: string }[] {
  const { examples } = parseCsv(readFileSync(join(BANKING, file), 'utf8'), file, {
    textColumn: 'text',
    labelColumn: 'category',
  });
  return examples.map((e) => ({ text: e.text, label: e.labels![0]! }));
}

/** Equal up to floating-point rounding (a DDSketch state round trip recomputes bucket values). */
const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

function exactCounts(items: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i, (counts.get(i) ?? 0) + 1);
  return counts;
}

/** Checks every Space-Saving guarantee against the exact counts of the stream. */
function checkSpaceSaving(summary: SpaceSaving, stream: readonly string[]): void {
  const exact = exactCounts(stream);
  const n = stream.length;
  assert.equal(summary.n, n, 'N is exact');
  const bound = n / summary.capacity;
  for (const h of summary.top()) {
    const truth = exact.get(h.item) ?? 0;
    assert.ok(h.count >= truth, `${h.item}: count ${h.count} is an upper bound of ${truth}`);
    assert.ok(h.count - h.error <= truth, `${h.item}: ${h.count} − ${h.error} is a lower bound of ${truth}`);
    assert.ok(h.error <= bound + 1e-9, `${h.item}: error ${h.error} ≤ N/k = ${bound}`);
  }
  const held = new Set(summary.top().map((h) => h.item));
  for (const [item, count] of exact)
    if (count > bound) assert.ok(held.has(item), `${item} (count ${count} > N/k ${bound}) is reported`);
  if (exact.size <= summary.capacity)
    for (const [item, count] of exact)
      assert.deepEqual(summary.estimate(item), { item, count, error: 0 }, `${item} exact below capacity`);
}

/** The exact q-quantile candidates: the values at the floor and ceiling of rank q·(n − 1). */
function exactQuantiles(sorted: readonly number[], q: number): [number, number] {
  const rank = q * (sorted.length - 1);
  return [sorted[Math.floor(rank)]!, sorted[Math.ceil(rank)]!];
}

function checkQuantiles(sketch: QuantileSketch, values: readonly number[]): void {
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]) {
    const estimate = sketch.quantile(q)!;
    const [lo, hi] = exactQuantiles(sorted, q);
    const slack = QUANTILE_RELATIVE_ACCURACY * Math.max(lo, hi) + 1e-12;
    assert.ok(
      estimate >= lo - slack && estimate <= hi + slack,
      `q${q}: ${estimate} within ±1% of the exact ${lo}..${hi}`,
    );
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  assert.ok(Math.abs(sketch.mean! - mean) < 1e-9 * Math.max(1, mean), 'the mean is exact');
}

describe('Space-Saving heavy hitters', () => {
  test('bounds hold on any stream, and after merging two summaries', () => {
    const item = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'.split(''));
    fc.assert(
      fc.property(
        fc.array(item, { maxLength: 300 }),
        fc.array(item, { maxLength: 300 }),
        fc.integer({ min: 1, max: 12 }),
        (a, b, k) => {
          const left = new SpaceSaving(k);
          for (const x of a) left.add(x);
          checkSpaceSaving(left, a);
          const right = new SpaceSaving(k);
          for (const x of b) right.add(x);
          const merged = SpaceSaving.fromState(left.toState()).merge(right);
          const all = [...a, ...b];
          assert.equal(merged.n, all.length, 'merged N');
          const exact = exactCounts(all);
          for (const h of merged.top()) {
            const truth = exact.get(h.item) ?? 0;
            assert.ok(h.count >= truth && h.count - h.error <= truth, `merged ${h.item} bounds ${truth}`);
          }
          // Items not in the merged summary can have at most the summary's minimum.
          const held = new Set(merged.top().map((h) => h.item));
          for (const [x, count] of exact)
            if (!held.has(x))
              assert.ok(count <= merged.maxError, `absent ${x} count ${count} ≤ ${merged.maxError}`);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('Banking77 labels and tokens: within the bound against exact counts', { skip: !HAVE_BANKING }, () => {
    const rows = banking('train.csv');
    const labels = rows.map((r) => r.label);
    const small = new SpaceSaving(20);
    for (const l of labels) small.add(l);
    checkSpaceSaving(small, labels);
    const exactLabels = new SpaceSaving(512);
    for (const l of labels) exactLabels.add(l);
    checkSpaceSaving(exactLabels, labels);
    assert.equal(exactLabels.maxError, 0, '77 labels in 512 counters are exact');
    const tokens = rows.flatMap((r) => monitorTokens(r.text));
    const top = new SpaceSaving(128);
    for (const t of tokens) top.add(t);
    checkSpaceSaving(top, tokens);
    const exact = [...exactCounts(tokens)].sort((a, b) => b[1] - a[1]);
    assert.deepEqual(
      top.top(5).map((h) => h.item),
      exact.slice(0, 5).map(([t]) => t),
      'the five most frequent tokens are found',
    );
  });
});

describe('HyperLogLog', () => {
  test('Banking77 distinct texts and tokens within 3 standard errors; merge equals one counter', {
    skip: !HAVE_BANKING,
  }, () => {
    const rows = [...banking('train.csv'), ...banking('test.csv')];
    const tokens = rows.flatMap((r) => monitorTokens(r.text));
    for (const stream of [rows.map((r) => r.text), tokens]) {
      const hll = new HyperLogLog(12);
      for (const x of stream) hll.add(x);
      const exact = new Set(stream).size;
      const error = Math.abs(hll.estimate() - exact) / exact;
      assert.ok(
        error <= 3 * hll.relativeStandardError,
        `estimate ${hll.estimate()} vs exact ${exact} (${error})`,
      );
      const a = new HyperLogLog(12);
      const b = new HyperLogLog(12);
      stream.forEach((x, i) => {
        (i % 2 ? a : b).add(x);
      });
      const merged = HyperLogLog.fromState(a.toState()).merge(b);
      assert.deepEqual(merged.toState(), hll.toState(), 'merging halves gives the same registers');
    }
  });

  test('small cardinalities are near exact (linear counting)', () => {
    const hll = new HyperLogLog(12);
    for (let i = 0; i < 100; i++) hll.add(`x${i % 50}`);
    assert.ok(Math.abs(hll.estimate() - 50) <= 2, `estimate ${hll.estimate()} of 50`);
    assert.equal(new HyperLogLog().estimate(), 0, 'empty counter');
  });
});

describe('quantile sketch (DDSketch)', () => {
  test('Banking77 lengths and generated confidences within ±1% of exact quantiles; merge', {
    skip: !HAVE_BANKING,
  }, () => {
    const lengths = banking('train.csv').map((r) => monitorTokens(r.text).length);
    const sketch = new QuantileSketch();
    for (const n of lengths) sketch.add(n);
    checkQuantiles(sketch, lengths);
    const half = new QuantileSketch();
    const other = new QuantileSketch();
    lengths.forEach((n, i) => {
      (i % 2 ? half : other).add(n);
    });
    const merged = QuantileSketch.fromState(half.toState()).merge(other);
    for (const q of [0.5, 0.9, 0.99])
      assert.ok(
        close(merged.quantile(q)!, sketch.quantile(q)!),
        `merged q${q}: ${merged.quantile(q)} vs ${sketch.quantile(q)}`,
      );
  });

  test('any values in [0, 1]', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.001, max: 1, noNaN: true }), { minLength: 1, maxLength: 400 }),
        (values) => {
          const sketch = new QuantileSketch();
          for (const v of values) sketch.add(v);
          checkQuantiles(sketch, values);
        },
      ),
      { numRuns: 100 },
    );
  });

  test('cdf estimates the share of values at or below x', () => {
    const sketch = new QuantileSketch();
    for (let i = 1; i <= 1000; i++) sketch.add(i);
    assert.ok(Math.abs(sketch.cdf(500)! - 0.5) <= 0.02, `cdf(500) ${sketch.cdf(500)}`);
    assert.equal(sketch.cdf(2000), 1, 'above the max');
    assert.equal(sketch.cdf(0), 0, 'below the min');
    assert.equal(new QuantileSketch().quantile(0.5), null, 'empty');
  });
});

describe('PredictionSketch', () => {
  test('state round trip and merge equal one sketch over both streams', () => {
    const texts = [
      'where is my card',
      'top up failed',
      'exchange rate please',
      'card not here',
      'top up again',
    ];
    const answer = (i: number) => ({ labels: [{ label: `l${i % 3}`, score: 0.5 + i / 20 }] });
    const one = new PredictionSketch();
    const a = new PredictionSketch();
    const b = new PredictionSketch();
    texts.forEach((t, i) => {
      one.observe(t, answer(i), null);
      (i < 2 ? a : b).observe(t, answer(i), null);
    });
    const merged = PredictionSketch.fromState(JSON.parse(JSON.stringify(a.toState()))).merge(
      PredictionSketch.fromState(b.toState()),
    );
    assert.equal(merged.items, 5, 'items');
    assert.equal(merged.tokens, one.tokens, 'tokens');
    assert.deepEqual(merged.labels.top(), one.labels.top(), 'labels');
    assert.equal(merged.texts.estimate(), one.texts.estimate(), 'distinct texts');
    assert.ok(close(merged.confidence.quantile(0.5)!, one.confidence.quantile(0.5)!), 'median confidence');
    assert.ok(close(merged.confidence.mean!, one.confidence.mean!), 'mean confidence survives the state');
    assert.throws(() => PredictionSketch.fromState({ format: 2 }), /malformed monitoring sketch/);
  });

  test('observe counts tokens, OOV heavy hitters and distinct values exactly as the plain definitions do', () => {
    // The hot path (one ASCII pass, hash table vocabulary, cached OOV strings) against the definitions: tokens by
    // monitorTokens, vocabulary by string, heavy hitters and HyperLogLogs fed the plain strings in stream order.
    const vocabularyWords = ['where', 'is', 'my', 'card', 'top', 'up', 'ça', '10'];
    const profile = { vocabulary: vocabularyWords, entities: [] } as unknown as ReferenceProfile;
    const index = indexProfile(profile);
    const words = fc.constantFrom(
      'where',
      'Card',
      'CARD',
      'zebra',
      'Zebra',
      'ÇA',
      'coûte',
      '10€',
      'x',
      '𝒳y',
      'top-up',
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.array(words, { maxLength: 12 }).map((w) => w.join(' ')),
          { maxLength: 60 },
        ),
        (texts) => {
          const sketch = new PredictionSketch();
          const oov = new SpaceSaving(sketch.oov.capacity);
          const textsHll = new HyperLogLog(sketch.texts.p);
          const tokensHll = new HyperLogLog(sketch.vocabulary.p);
          let tokens = 0;
          let oovTokens = 0;
          for (const text of texts) {
            sketch.observe(text, { labels: [{ label: 'a', score: 0.9 }] }, index);
            textsHll.add(text);
            for (const token of monitorTokens(text)) {
              tokens++;
              tokensHll.add(token);
              if (!vocabularyWords.includes(token)) {
                oovTokens++;
                oov.add(token);
              }
            }
          }
          assert.equal(sketch.tokens, tokens, 'tokens');
          assert.equal(sketch.checkedTokens, tokens, 'checked tokens');
          assert.equal(sketch.oovTokens, oovTokens, 'OOV tokens');
          assert.deepEqual(sketch.oov.toState(), oov.toState(), 'OOV heavy hitters');
          assert.deepEqual(sketch.texts.toState(), textsHll.toState(), 'distinct texts registers');
          assert.deepEqual(sketch.vocabulary.toState(), tokensHll.toState(), 'distinct tokens registers');
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('HashSet32', () => {
  test('answers membership like a Set of the same 32 bits, 0 and signed/unsigned forms included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 })),
        fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 })),
        (held, probes) => {
          const set = new HashSet32([...held, 0]);
          const exact = new Set([...held, 0]);
          assert.equal(set.size, exact.size, 'size');
          for (const h of [...held, ...probes, 0]) {
            assert.equal(set.has(h), exact.has(h), `has ${h}`);
            assert.equal(set.has(h | 0), exact.has(h), `has ${h | 0} (signed)`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('monitorTokens', () => {
  test('the hand-written scan equals lowercased Unicode letter/digit runs, and hashes like hash32', () => {
    const reference = (t: string) => t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    for (const unit of ['grapheme', 'binary', 'grapheme-ascii'] as const)
      fc.assert(
        fc.property(fc.string({ unit }), (text) => {
          assert.deepEqual(monitorTokens(text), reference(text), JSON.stringify(text));
          forEachMonitorToken(text, (token, hash) => assert.equal(hash, hash32(token), token));
          // The hot path scans ASCII texts without lowercasing them first: same tokens, same hashes.
          const source = NON_ASCII.test(text) ? text.toLowerCase() : text;
          const scanned: string[] = [];
          scanMonitorTokens(source, (start, end, hash) => {
            const token = source.slice(start, end).toLowerCase();
            assert.equal(hash, hash32(token), token);
            scanned.push(token);
          });
          assert.deepEqual(scanned, reference(text));
        }),
        { numRuns: 300 },
      );
    assert.deepEqual(monitorTokens("Where's my NEW card? Ça coûte 10€ 𝒳y"), [
      'where',
      's',
      'my',
      'new',
      'card',
      'ça',
      'coûte',
      '10',
      '𝒳y',
    ]);
  });
});
