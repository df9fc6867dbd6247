import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SapphireError } from '../../src/core/errors.ts';
import type { Example, Span, TaskKind } from '../../src/data/types.ts';
import { evaluatePredictions } from '../../src/metrics/evaluate.ts';
import {
  approximateRandomization,
  compareSystems,
  DEFAULT_BOOTSTRAP_SAMPLES,
  DEFAULT_PERMUTATIONS,
  pairedBootstrap,
  pairedStatistics,
  significanceMarker,
  significanceMetricNames,
} from '../../src/metrics/significance.ts';
import type { LabelScore, PredictedSpan, Prediction } from '../../src/models/model.ts';

// Every assert.ok carries a message: without one, a failing assert.ok under tsx here can hang while
// node rebuilds the message from the source.

/** Gold examples with two systems' predictions on them, in the same order. */
interface PairCase {
  task: TaskKind;
  gold: Example[];
  a: Prediction[];
  b: Prediction[];
  labels?: string[];
}

const TEXT = 'abcdefghijklmn';

// Small offset and label spaces, so that random predictions often match gold spans exactly.
const spanArb: fc.Arbitrary<Span> = fc
  .record({
    start: fc.integer({ min: 0, max: 8 }),
    length: fc.integer({ min: 1, max: 2 }),
    label: fc.constantFrom('PER', 'ORG', 'LOC'),
  })
  .map(({ start, length, label }) => ({ start, end: start + length, label }));
const predictedSpanArb: fc.Arbitrary<PredictedSpan> = fc
  .tuple(spanArb, fc.constantFrom(0.2, 0.6, 0.9))
  .map(([span, score]) => ({ ...span, score }));

const scoresArb = (labels: string[]): fc.Arbitrary<LabelScore[]> =>
  fc.array(fc.record({ label: fc.constantFrom(...labels), score: fc.constantFrom(0.1, 0.5, 0.7, 0.9) }), {
    maxLength: 3,
  });

const classPredictionArb: fc.Arbitrary<Prediction> = fc.oneof(
  fc.constant({}),
  fc.constantFrom('a', 'b', 'c', 'd').map((label) => ({ labels: [label] })),
  scoresArb(['a', 'b', 'c', 'd']).map((scores) => ({ scores })),
);
const multiPredictionArb: fc.Arbitrary<Prediction> = fc.oneof(
  fc.subarray(['x', 'y', 'z', 'w']).map((labels) => ({ labels })),
  scoresArb(['x', 'y', 'z', 'w']).map((scores) => ({ scores })),
);

/** One example: gold fields, and each system's prediction. */
interface PairRow {
  gold: Pick<Example, 'spans' | 'labels'>;
  a: Prediction;
  b: Prediction;
}

function caseArb(task: TaskKind, labelPool: string[]): fc.Arbitrary<PairCase> {
  const row: fc.Arbitrary<PairRow> =
    task === 'ner'
      ? fc.record({
          gold: fc.array(spanArb, { maxLength: 3 }).map((spans) => ({ spans })),
          a: fc.array(predictedSpanArb, { maxLength: 3 }).map((spans) => ({ spans })),
          b: fc.array(predictedSpanArb, { maxLength: 3 }).map((spans) => ({ spans })),
        })
      : task === 'classify'
        ? fc.record({
            gold: fc.constantFrom('a', 'b', 'c').map((label) => ({ labels: [label] })),
            a: classPredictionArb,
            b: classPredictionArb,
          })
        : fc.record({
            gold: fc.subarray(['x', 'y', 'z']).map((labels) => ({ labels })),
            a: multiPredictionArb,
            b: multiPredictionArb,
          });
  return fc
    .record({
      rows: fc.array(row, { minLength: 1, maxLength: 12 }),
      labels: fc.option(fc.subarray(labelPool, { minLength: 1 }), { nil: undefined }),
    })
    .map(({ rows, labels }) => ({
      task,
      gold: rows.map((r, i) => ({ id: `e${i}`, text: TEXT, meta: {}, ...r.gold })),
      a: rows.map((r) => r.a),
      b: rows.map((r) => r.b),
      labels,
    }));
}

const CASES: [TaskKind, fc.Arbitrary<PairCase>][] = [
  ['ner', caseArb('ner', ['LOC', 'MISC', 'PER'])],
  ['classify', caseArb('classify', ['c', 'e', 'a'])],
  ['multilabel', caseArb('multilabel', ['z', 'v', 'x'])],
];

function metricsOf(c: PairCase, predictions: Prediction[], gold: Example[] = c.gold): Record<string, number> {
  return evaluatePredictions(c.task, gold, predictions, { labels: c.labels }).metrics;
}

describe('pairedStatistics: the metric on full, resampled and swapped sets equals evaluatePredictions', () => {
  for (const task of ['ner', 'classify', 'multilabel'] as const) {
    it(`supports every ${task} metric of the evaluation report except ece`, () => {
      const gold: Example[] = [
        { id: 'e', text: TEXT, meta: {}, labels: ['a'], spans: [{ start: 0, end: 1, label: 'PER' }] },
      ];
      const reported = Object.keys(evaluatePredictions(task, gold, [{}]).metrics).filter((m) => m !== 'ece');
      assert.deepEqual([...significanceMetricNames(task)].sort(), reported.sort());
    });
  }

  for (const [task, arb] of CASES) {
    it(`${task}: full-set values are exactly the evaluation's, for every metric`, () => {
      fc.assert(
        fc.property(arb, (c) => {
          const expectedA = metricsOf(c, c.a);
          const expectedB = metricsOf(c, c.b);
          for (const metric of significanceMetricNames(task)) {
            const stats = pairedStatistics(task, c.gold, c.a, c.b, { metric, labels: c.labels });
            assert.equal(stats.a, expectedA[metric], `${metric} (baseline)`);
            assert.equal(stats.b, expectedB[metric], `${metric} (candidate)`);
          }
        }),
        { numRuns: 150 },
      );
    });

    it(`${task}: a resample (with repeats) scores exactly like evaluating that multiset`, () => {
      fc.assert(
        fc.property(arb, fc.array(fc.nat(), { minLength: 1, maxLength: 20 }), (c, draws) => {
          const indices = draws.map((d) => d % c.gold.length);
          const gold = indices.map((i) => c.gold[i]!);
          const expectedA = metricsOf(
            c,
            indices.map((i) => c.a[i]!),
            gold,
          );
          const expectedB = metricsOf(
            c,
            indices.map((i) => c.b[i]!),
            gold,
          );
          for (const metric of significanceMetricNames(task)) {
            const got = pairedStatistics(task, c.gold, c.a, c.b, { metric, labels: c.labels }).scoreResample(
              indices,
            );
            assert.equal(got.a, expectedA[metric], `${metric} (baseline)`);
            assert.equal(got.b, expectedB[metric], `${metric} (candidate)`);
          }
        }),
        { numRuns: 100 },
      );
    });

    it(`${task}: swapping predictions scores exactly like evaluating the swapped systems`, () => {
      fc.assert(
        fc.property(arb, fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), (c, coins) => {
          const swap = c.gold.map((_, i) => coins[i]!);
          const expectedA = metricsOf(
            c,
            c.a.map((p, i) => (swap[i] ? c.b[i]! : p)),
          );
          const expectedB = metricsOf(
            c,
            c.b.map((p, i) => (swap[i] ? c.a[i]! : p)),
          );
          for (const metric of significanceMetricNames(task)) {
            const got = pairedStatistics(task, c.gold, c.a, c.b, { metric, labels: c.labels }).scoreSwapped(
              swap,
            );
            assert.equal(got.a, expectedA[metric], `${metric} (baseline)`);
            assert.equal(got.b, expectedB[metric], `${metric} (candidate)`);
          }
        }),
        { numRuns: 100 },
      );
    });
  }

  it('agrees with a hand-computed NER example', () => {
    const gold: Example[] = [
      { id: '1', text: TEXT, meta: {}, spans: [{ start: 0, end: 2, label: 'PER' }] },
      { id: '2', text: TEXT, meta: {}, spans: [{ start: 3, end: 5, label: 'LOC' }] },
    ];
    const a: Prediction[] = [{ spans: [{ start: 0, end: 2, label: 'PER', score: 0.9 }] }, { spans: [] }];
    const b: Prediction[] = [
      { spans: [{ start: 0, end: 2, label: 'PER', score: 0.9 }] },
      { spans: [{ start: 3, end: 5, label: 'LOC', score: 0.8 }] },
    ];
    const stats = pairedStatistics('ner', gold, a, b, { metric: 'span_f1_micro' });
    assert.equal(stats.a, 2 / 3); // tp 1, fn 1
    assert.equal(stats.b, 1);
    assert.deepEqual(stats.scoreResample([0, 0]), { a: 1, b: 1 });
    assert.deepEqual(stats.scoreResample([1]), { a: 0, b: 1 });
    assert.deepEqual(stats.scoreSwapped([true, true]), { a: 1, b: 2 / 3 });
  });
});

// A deterministic single-label fixture: baseline right on 60% of examples, candidate on 90%.
const SENTIMENTS = ['neg', 'neu', 'pos'];
function sentimentCase(size: number): { gold: Example[]; weak: Prediction[]; strong: Prediction[] } {
  const gold: Example[] = [];
  const weak: Prediction[] = [];
  const strong: Prediction[] = [];
  for (let i = 0; i < size; i++) {
    const label = SENTIMENTS[i % 3]!;
    const wrong = SENTIMENTS[(i + 1) % 3]!;
    gold.push({ id: `s${i}`, text: `text ${i}`, labels: [label], meta: {} });
    weak.push({ labels: [i % 5 < 3 ? label : wrong] });
    strong.push({ labels: [i % 10 < 9 ? label : wrong] });
  }
  return { gold, weak, strong };
}

// A deterministic NER fixture: three entities per example; the baseline misses every other LOC.
function nerCase(size: number): { gold: Example[]; weak: Prediction[]; strong: Prediction[] } {
  const gold: Example[] = [];
  const weak: Prediction[] = [];
  const strong: Prediction[] = [];
  for (let i = 0; i < size; i++) {
    const spans: Span[] = [
      { start: 0, end: 3, label: 'PER' },
      { start: 4, end: 7, label: i % 4 === 0 ? 'ORG' : 'LOC' },
      { start: 8, end: 12, label: 'LOC' },
    ];
    gold.push({ id: `n${i}`, text: TEXT, spans, meta: {} });
    const scored = (list: Span[]) => list.map((s) => ({ ...s, score: 0.8 }));
    weak.push({ spans: scored(i % 2 === 0 ? spans.slice(0, 2) : spans) });
    strong.push({ spans: scored(i % 17 === 0 ? spans.slice(1) : spans) });
  }
  return { gold, weak, strong };
}

describe('pairedBootstrap and approximateRandomization', () => {
  const sentiment = sentimentCase(300);
  const ner = nerCase(200);

  it('identical systems: delta 0, p = 1, interval [0, 0]', () => {
    for (const test of [pairedBootstrap, approximateRandomization]) {
      const r = test('ner', ner.gold, ner.weak, ner.weak, { metric: 'span_f1_micro', samples: 500 });
      assert.equal(r.delta, 0);
      assert.equal(r.a, r.b);
      assert.equal(r.pValue, 1);
      assert.deepEqual(r.ci, [0, 0]);
      assert.equal(r.examples, 200);
    }
  });

  it('a clearly better candidate: p < 0.01 and the interval excludes 0 (default samples)', () => {
    const bootstrap = pairedBootstrap('classify', sentiment.gold, sentiment.weak, sentiment.strong, {
      metric: 'accuracy',
    });
    assert.equal(bootstrap.method, 'paired-bootstrap');
    assert.equal(bootstrap.samples, DEFAULT_BOOTSTRAP_SAMPLES);
    assert.equal(bootstrap.a, 0.6);
    assert.equal(bootstrap.b, 0.9);
    assert.ok(Math.abs(bootstrap.delta - 0.3) < 1e-12, `delta = ${bootstrap.delta}`);
    assert.ok(bootstrap.pValue < 0.01, `p = ${bootstrap.pValue}`);
    assert.ok(
      bootstrap.ci[0] > 0 && bootstrap.ci[0] < bootstrap.delta && bootstrap.ci[1] > bootstrap.delta,
      `ci = ${bootstrap.ci}`,
    );

    const randomization = approximateRandomization(
      'classify',
      sentiment.gold,
      sentiment.weak,
      sentiment.strong,
      {
        metric: 'macro_f1',
      },
    );
    assert.equal(randomization.method, 'approximate-randomization');
    assert.equal(randomization.samples, DEFAULT_PERMUTATIONS);
    assert.ok(randomization.delta > 0.2, `delta = ${randomization.delta}`);
    assert.equal(randomization.pValue, 1 / (DEFAULT_PERMUTATIONS + 1)); // no permutation is as extreme
    assert.ok(randomization.ci[0] > 0, `ci = ${randomization.ci}`);
  });

  it('a clearly better NER candidate is significant on micro and macro F1', () => {
    for (const metric of ['span_f1_micro', 'span_f1_macro', 'span_recall']) {
      const { bootstrap, randomization, significant } = compareSystems(
        'ner',
        ner.gold,
        ner.weak,
        ner.strong,
        {
          metric,
          samples: 2000,
        },
      );
      assert.ok(bootstrap.delta > 0, metric);
      assert.ok(bootstrap.pValue < 0.01 && randomization.pValue < 0.01, metric);
      assert.ok(bootstrap.ci[0] > 0, metric);
      assert.equal(significant, true);
    }
  });

  it('the test is two-sided: a worse candidate is as significant, with a negative interval', () => {
    const better = pairedBootstrap('classify', sentiment.gold, sentiment.weak, sentiment.strong, {
      metric: 'accuracy',
      samples: 1000,
    });
    const worse = pairedBootstrap('classify', sentiment.gold, sentiment.strong, sentiment.weak, {
      metric: 'accuracy',
      samples: 1000,
    });
    assert.equal(worse.delta, -better.delta);
    assert.ok(worse.ci[1] < 0, `ci = ${worse.ci}`);
    assert.ok(worse.pValue < 0.01, `p = ${worse.pValue}`);
  });

  it('a small difference on few examples is not significant', () => {
    // 20 examples; the candidate fixes one more than the baseline.
    const gold = sentiment.gold.slice(0, 20);
    const a = gold.map((e, i) => ({ labels: [i < 10 ? e.labels![0]! : 'other'] }));
    const b = gold.map((e, i) => ({ labels: [i < 11 ? e.labels![0]! : 'other'] }));
    const { bootstrap, randomization, significant } = compareSystems('classify', gold, a, b, {
      metric: 'accuracy',
      samples: 2000,
    });
    assert.ok(Math.abs(bootstrap.delta - 0.05) < 1e-12, `delta = ${bootstrap.delta}`);
    assert.ok(bootstrap.ci[0] <= 0 && bootstrap.ci[1] > 0, `ci = ${bootstrap.ci}`);
    assert.ok(randomization.pValue > 0.5, `p = ${randomization.pValue}`);
    assert.equal(significant, false);
  });

  it('one differing example: every permutation is as extreme, so randomization gives p = 1', () => {
    const gold = sentiment.gold.slice(0, 5);
    const a = gold.map((e) => ({ labels: e.labels! }));
    const b = gold.map((e, i) => ({ labels: i === 0 ? ['other'] : e.labels! }));
    const r = approximateRandomization('classify', gold, a, b, { metric: 'accuracy', samples: 200 });
    assert.ok(Math.abs(r.delta + 0.2) < 1e-12, `delta = ${r.delta}`);
    assert.equal(r.pValue, 1);
  });

  it('is deterministic for a seed and varies with it', () => {
    const options = { metric: 'span_f1_macro', samples: 300, ciSamples: 300 };
    const run = (seed?: number) =>
      compareSystems('ner', ner.gold, ner.weak, ner.strong, { ...options, seed });
    assert.deepEqual(run(7), run(7));
    assert.deepEqual(run(), run(13));
    assert.equal(run().bootstrap.seed, 13);
    const [x, y] = [run(1), run(2)];
    assert.notDeepEqual([x.bootstrap.ci, x.bootstrap.pValue], [y.bootstrap.ci, y.bootstrap.pValue]);
  });

  it('compareSystems returns what the two tests return on their own', () => {
    const options = { metric: 'micro_f1', samples: 400, ciSamples: 400, seed: 5 };
    const args = ['classify', sentiment.gold, sentiment.weak, sentiment.strong, options] as const;
    const both = compareSystems(...args);
    assert.deepEqual(both.bootstrap, pairedBootstrap(...args));
    assert.deepEqual(both.randomization, approximateRandomization(...args));
    assert.deepEqual(both.randomization.ci, both.bootstrap.ci);
  });

  it('a higher confidence gives a wider interval from the same resamples', () => {
    const run = (confidence: number) =>
      pairedBootstrap('ner', ner.gold, ner.weak, ner.strong, {
        metric: 'span_f1_micro',
        samples: 1000,
        confidence,
      }).ci;
    const [narrow, wide] = [run(0.8), run(0.99)];
    assert.ok(wide[0] < narrow[0] && wide[1] > narrow[1], `${wide} vs ${narrow}`);
  });

  it('p-values lie in (0, 1] and intervals are ordered, on random data', () => {
    fc.assert(
      fc.property(CASES[1]![1], fc.integer({ min: 1, max: 40 }), fc.nat(), (c, samples, seed) => {
        for (const test of [pairedBootstrap, approximateRandomization]) {
          const r = test(c.task, c.gold, c.a, c.b, { metric: 'macro_f1', samples, ciSamples: samples, seed });
          assert.ok(r.pValue > 0 && r.pValue <= 1, `p = ${r.pValue}`);
          assert.ok(r.ci[0] <= r.ci[1], `ci = ${r.ci}`);
          assert.equal(r.samples, samples);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('input checks', () => {
  const { gold, weak, strong } = sentimentCase(3);
  const code = (code: string, message?: RegExp) => (error: unknown) =>
    error instanceof SapphireError && error.code === code && (!message || message.test(error.message));

  it('rejects predictions whose lengths differ from the gold examples, naming the lengths', () => {
    assert.throws(
      () => pairedBootstrap('classify', gold, weak.slice(0, 2), strong, { metric: 'accuracy' }),
      code('BAD_INPUT', /3 gold examples, 2 baseline predictions and 3 candidate predictions/),
    );
    assert.throws(
      () => compareSystems('classify', gold, weak, [...strong, {}], { metric: 'accuracy' }),
      code('BAD_INPUT', /4 candidate predictions/),
    );
  });

  it('rejects an empty comparison', () => {
    assert.throws(
      () => approximateRandomization('classify', [], [], [], { metric: 'accuracy' }),
      code('BAD_INPUT', /no examples/),
    );
  });

  it('rejects an unsupported metric, naming the supported ones', () => {
    assert.throws(
      () => pairedBootstrap('classify', gold, weak, strong, { metric: 'ece' }),
      (error: unknown) =>
        code('BAD_INPUT', /"ece"/)(error) &&
        /accuracy, macro_f1, micro_f1, weighted_f1/.test((error as SapphireError).hint ?? ''),
    );
    assert.throws(
      () => pairedBootstrap('ner', [], [], [], { metric: 'accuracy' }),
      code('BAD_INPUT', /no examples/),
    );
    assert.throws(
      () => pairedStatistics('ner', gold, weak, strong, { metric: 'accuracy' }),
      code('BAD_INPUT', /not supported.*ner/),
    );
  });

  it('rejects sample counts that are not positive integers and confidences outside (0, 1)', () => {
    for (const samples of [0, -5, 1.5, Number.NaN]) {
      assert.throws(
        () => pairedBootstrap('classify', gold, weak, strong, { metric: 'accuracy', samples }),
        code('BAD_INPUT', /samples must be a positive integer/),
      );
    }
    assert.throws(
      () => approximateRandomization('classify', gold, weak, strong, { metric: 'accuracy', ciSamples: 0 }),
      code('BAD_INPUT', /ciSamples/),
    );
    for (const confidence of [0, 1, 1.5, Number.NaN]) {
      assert.throws(
        () => pairedBootstrap('classify', gold, weak, strong, { metric: 'accuracy', confidence }),
        code('BAD_INPUT', /confidence/),
      );
    }
  });

  it("reports malformed predictions like evaluation does, saying which system's", () => {
    const bad: Prediction[] = [{ scores: [{ label: 'neg', score: 3 }] }, ...strong.slice(1)];
    assert.throws(
      () => pairedBootstrap('classify', gold, weak, bad, { metric: 'accuracy' }),
      code('DATA_INVALID', /^candidate predictions: .*outside \[0, 1\]/),
    );
  });

  it('rejects resample indices and swap masks that do not fit the examples', () => {
    const stats = pairedStatistics('classify', gold, weak, strong, { metric: 'accuracy' });
    assert.throws(() => stats.scoreResample([0, 3]), code('BAD_INPUT', /index 3/));
    assert.throws(() => stats.scoreSwapped([true]), code('BAD_INPUT', /1 entries for 3 examples/));
  });
});

describe('significanceMarker', () => {
  it('marks p < 0.05, p < 0.01 and p < 0.001', () => {
    const cases: [number, string][] = [
      [0, '***'],
      [0.0009, '***'],
      [0.001, '**'],
      [0.0099, '**'],
      [0.01, '*'],
      [0.0499, '*'],
      [0.05, ''],
      [0.5, ''],
      [1, ''],
    ];
    for (const [p, marker] of cases) assert.equal(significanceMarker(p), marker, `p = ${p}`);
  });

  it('rejects values that are not p-values', () => {
    for (const p of [-0.1, 1.2, Number.NaN]) {
      assert.throws(
        () => significanceMarker(p),
        (e: unknown) => e instanceof SapphireError && e.code === 'BAD_INPUT',
      );
    }
  });
});
