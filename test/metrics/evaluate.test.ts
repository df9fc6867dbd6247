import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SapphireError } from '../../src/core/errors.ts';
import { METRICS_BY_TASK } from '../../src/core/project.ts';
import type { Example, Span } from '../../src/data/types.ts';
import {
  addPredictions,
  createEvaluationCounts,
  evaluatePredictions,
  evaluationReport,
  mergeEvaluationCounts,
  primaryMetricNames,
} from '../../src/metrics/evaluate.ts';
import type { Prediction } from '../../src/models/model.ts';

const close = (actual: number | undefined, expected: number, what = '') =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);

function span(text: string, surface: string, label: string): Span {
  const start = text.indexOf(surface);
  assert.ok(start >= 0, `${surface} not in ${text}`);
  return { start, end: start + surface.length, label };
}

const NER_GOLD: Example[] = [
  {
    id: 'n1',
    text: 'Nike red shoes',
    spans: [span('Nike red shoes', 'Nike', 'BRAND'), span('Nike red shoes', 'red', 'COLOR')],
    meta: {},
  },
  { id: 'n2', text: 'Adidas shirt', spans: [span('Adidas shirt', 'Adidas', 'BRAND')], meta: {} },
  { id: 'n3', text: 'blue hat', meta: {} },
];
const NER_PRED: Prediction[] = [
  { spans: [{ ...span('Nike red shoes', 'Nike', 'BRAND'), score: 0.9 }] },
  {
    spans: [
      { ...span('Adidas shirt', 'Adidas', 'BRAND'), score: 0.8 },
      { ...span('Adidas shirt', 'shirt', 'COLOR'), score: 0.4 },
    ],
  },
  { spans: [{ ...span('blue hat', 'blue', 'COLOR'), score: 0.7 }] },
];

describe('evaluatePredictions: ner', () => {
  const report = evaluatePredictions('ner', NER_GOLD, NER_PRED);

  it('reports the problem card metric names first, with hand-computed values', () => {
    assert.deepEqual(Object.keys(report.metrics).slice(0, 4), primaryMetricNames('ner'));
    // BRAND: tp 2; COLOR: tp 0, fp 2 (shirt, blue), fn 1 (red).
    close(report.metrics.span_precision, 2 / 4, 'precision');
    close(report.metrics.span_recall, 2 / 3, 'recall');
    close(report.metrics.span_f1_micro, 4 / 7, 'micro f1');
    close(report.metrics.span_f1_macro, (1 + 0) / 2, 'macro f1');
    assert.equal(report.examples, 3);
    assert.equal(report.task, 'ner');
    assert.equal(report.confusion, undefined);
  });

  it('lists per-label rows and calibrates on predicted spans', () => {
    assert.deepEqual(
      report.perLabel.map((r) => [r.label, r.tp, r.fp, r.fn]),
      [
        ['BRAND', 2, 0, 0],
        ['COLOR', 0, 2, 1],
      ],
    );
    assert.equal(report.calibration.count, 4);
    // bins: 0.9 ✓ | 0.8 ✓ | 0.7 ✗ | 0.4 ✗ → gaps 0.1, 0.2, 0.7, 0.4.
    close(report.calibration.ece, (0.1 + 0.2 + 0.7 + 0.4) / 4, 'ece');
    close(report.metrics.ece, report.calibration.ece);
  });

  it('is plain JSON', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  });
});

const CLS_GOLD: Example[] = ['pos', 'pos', 'neg', 'neg', 'neu'].map((label, i) => ({
  id: `c${i + 1}`,
  text: `text ${i + 1}`,
  labels: [label],
  meta: {},
}));
const scores = (top: string, p: number) => [
  { label: top, score: p },
  { label: top === 'pos' ? 'neg' : 'pos', score: 1 - p },
];
const CLS_PRED: Prediction[] = [
  { labels: ['pos'], scores: scores('pos', 0.9) },
  { scores: scores('neg', 0.6) }, // no labels: the top-scored class is the prediction
  { labels: ['neg'], scores: scores('neg', 0.8) },
  { labels: ['neg'] }, // no scores: not calibrated
  {}, // nothing: abstained
];

describe('evaluatePredictions: classify', () => {
  const report = evaluatePredictions('classify', CLS_GOLD, CLS_PRED, {
    labels: ['pos', 'neg', 'neu', 'other'],
  });

  it('computes accuracy and the averaged F1s', () => {
    assert.deepEqual(Object.keys(report.metrics).slice(0, 4), primaryMetricNames('classify'));
    close(report.metrics.accuracy, 3 / 5, 'accuracy');
    // pos: tp1 fn1 → f1 2/3; neg: tp2 fp1 → f1 0.8; neu: fn1 → 0; other: absent, not averaged.
    close(report.metrics.macro_f1, (2 / 3 + 0.8 + 0) / 3, 'macro f1');
    close(report.metrics.weighted_f1, ((2 / 3) * 2 + 0.8 * 2 + 0) / 5, 'weighted f1');
    // micro: tp 3, fp 1, fn 2.
    close(report.metrics.micro_f1, 6 / 9, 'micro f1');
  });

  it('keeps the given label order, the confusion matrix and abstentions', () => {
    assert.deepEqual(
      report.perLabel.map((r) => r.label),
      ['pos', 'neg', 'neu', 'other'],
    );
    assert.deepEqual(report.confusion, { neg: { neg: 2 }, pos: { neg: 1, pos: 1 } });
    assert.equal(report.abstained, 1);
    assert.deepEqual(report.unexpectedLabels, []);
    assert.equal(report.calibration.count, 3);
  });

  it('names labels outside the given label set', () => {
    const r = evaluatePredictions('classify', CLS_GOLD, CLS_PRED, { labels: ['pos'] });
    assert.deepEqual(r.unexpectedLabels, ['neg', 'neu']);
  });
});

describe('evaluatePredictions: multilabel', () => {
  const gold: Example[] = [
    { id: 'm1', text: 'a', labels: ['x', 'y'], meta: {} },
    { id: 'm2', text: 'b', labels: [], meta: {} },
    { id: 'm3', text: 'c', meta: {} },
  ];
  const predictions: Prediction[] = [
    { labels: ['x'] },
    {
      scores: [
        { label: 'x', score: 0.2 },
        { label: 'y', score: 0.7 },
      ],
    }, // no labels: scores ≥ 0.5 are chosen → {y}
    { labels: [] },
  ];
  const report = evaluatePredictions('multilabel', gold, predictions);

  it('computes the problem card metrics', () => {
    assert.deepEqual(Object.keys(report.metrics).slice(0, 4), primaryMetricNames('multilabel'));
    // x: tp1; y: fp1 fn1 → micro tp1 fp1 fn1.
    close(report.metrics.micro_f1, 0.5, 'micro f1');
    close(report.metrics.macro_f1, (1 + 0) / 2, 'macro f1');
    close(report.metrics.samples_f1, (2 / 3 + 0 + 1) / 3, 'samples f1');
    close(report.metrics.subset_accuracy, 1 / 3, 'subset accuracy');
    close(report.metrics.hamming_loss, 2 / (3 * 2), 'hamming loss');
    // Two decisions from m2's scores: x not chosen at 1−0.2 = 0.8 (right), y chosen at 0.7 (wrong).
    assert.equal(report.calibration.count, 2);
  });
});

describe('evaluation input checks', () => {
  it('names the metrics the problem card allows', () => {
    for (const task of ['ner', 'classify', 'multilabel'] as const) {
      assert.deepEqual(primaryMetricNames(task), [...METRICS_BY_TASK[task]]);
    }
    assert.throws(() => primaryMetricNames('regression' as 'ner'), SapphireError);
  });

  it('rejects a different number of predictions and examples', () => {
    assert.throws(
      () => evaluatePredictions('ner', NER_GOLD, NER_PRED.slice(1)),
      (e: unknown) =>
        e instanceof SapphireError && /3 gold examples but 2 predictions/.test(e.message) && !!e.hint,
    );
  });

  it('reports every bad example at once and leaves the counts unchanged', () => {
    const counts = createEvaluationCounts('classify');
    const before = JSON.stringify(counts);
    const gold: Example[] = [
      { id: 'ok', text: 'x', labels: ['a'], meta: {} },
      { id: 'none', text: 'x', meta: {} },
      { id: 'two', text: 'x', labels: ['a', 'b'], meta: {} },
      { id: 'badscore', text: 'x', labels: ['a'], meta: {} },
    ];
    const predictions: Prediction[] = [
      { labels: ['a'] },
      { labels: ['a'] },
      { labels: ['a'] },
      { scores: [{ label: 'a', score: 7 }] },
    ];
    assert.throws(
      () => addPredictions(counts, gold, predictions),
      (e: unknown) => {
        assert.ok(e instanceof SapphireError);
        assert.equal(e.code, 'DATA_INVALID');
        assert.deepEqual(
          e.details.problems?.map((p) => p.exampleId),
          ['none', 'two', 'badscore'],
        );
        assert.match(e.message, /predictions\[3\]\.scores\[0\]/);
        assert.match(e.hint ?? '', /multilabel/);
        return true;
      },
    );
    assert.equal(JSON.stringify(counts), before);
  });

  it('rejects NER spans past the text or without a valid score', () => {
    const gold: Example[] = [
      { id: 'e1', text: 'short', spans: [{ start: 0, end: 9, label: 'X' }], meta: {} },
    ];
    const predictions: Prediction[] = [{ spans: [{ start: 0, end: 5, label: 'X', score: Number.NaN }] }];
    assert.throws(
      () => evaluatePredictions('ner', gold, predictions),
      (e: unknown) => e instanceof SapphireError && e.details.problems?.length === 2,
    );
  });

  it('refuses to merge counts of different tasks', () => {
    assert.throws(
      () => mergeEvaluationCounts(createEvaluationCounts('ner'), createEvaluationCounts('classify')),
      SapphireError,
    );
  });
});

describe('evaluation counts merge across batches', () => {
  const LABELS = ['A', 'B'];
  const nerItem = fc
    .record({
      gold: fc.array(
        fc.record({
          start: fc.nat(8),
          len: fc.integer({ min: 1, max: 2 }),
          label: fc.constantFrom(...LABELS),
        }),
        {
          maxLength: 3,
        },
      ),
      predicted: fc.array(
        fc.record({
          start: fc.nat(8),
          len: fc.integer({ min: 1, max: 2 }),
          label: fc.constantFrom(...LABELS),
          score: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
        { maxLength: 3 },
      ),
    })
    .map(({ gold, predicted }): [Example, Prediction] => [
      {
        id: 'x',
        text: 'abcdefghijkl',
        spans: gold.map((s) => ({ start: s.start, end: s.start + s.len, label: s.label })),
        meta: {},
      },
      {
        spans: predicted.map((s) => ({
          start: s.start,
          end: s.start + s.len,
          label: s.label,
          score: s.score,
        })),
      },
    ]);

  it('gives the same report from merged batches as from one pass', () => {
    fc.assert(
      fc.property(fc.array(nerItem, { maxLength: 12 }), fc.nat(12), (items, cut) => {
        const at = cut % (items.length + 1);
        const gold = items.map((i) => i[0]);
        const predictions = items.map((i) => i[1]);
        const a = addPredictions(createEvaluationCounts('ner'), gold.slice(0, at), predictions.slice(0, at));
        const b = addPredictions(createEvaluationCounts('ner'), gold.slice(at), predictions.slice(at));
        const merged = evaluationReport(mergeEvaluationCounts(a, b));
        assert.deepEqual(merged, evaluatePredictions('ner', gold, predictions));
        for (const v of Object.values(merged.metrics)) assert.ok(v >= 0 && v <= 1);
      }),
    );
  });
});
