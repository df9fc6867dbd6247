import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayWidth } from '../../src/core/table.ts';
import type { Example } from '../../src/data/types.ts';
import { evaluatePredictions } from '../../src/metrics/evaluate.ts';
import { renderEvaluation } from '../../src/metrics/render.ts';
import type { Prediction } from '../../src/models/model.ts';

function classifySet(pairs: [string, string, number][]): { gold: Example[]; predictions: Prediction[] } {
  return {
    gold: pairs.map(([label], i) => ({ id: `e${i}`, text: 't', labels: [label], meta: {} })),
    predictions: pairs.map(([, predicted, score]) => ({
      labels: [predicted],
      scores: [{ label: predicted, score }],
    })),
  };
}

const { gold, predictions } = classifySet([
  ['pos', 'pos', 0.9],
  ['pos', 'neg', 0.6],
  ['neg', 'neg', 0.8],
  ['neg', 'neg', 0.7],
  ['neu', 'pos', 0.55],
  ['pos', 'pos', 0.95],
  ['pos', 'pos', 0.99],
]);

describe('renderEvaluation', () => {
  const report = evaluatePredictions('classify', gold, predictions, {
    labels: ['pos', 'neg', 'neu', 'mixed'],
  });
  const text = renderEvaluation(report, {
    title: 'linear.v1 on test',
    throughput: { tokensPerSecond: 123456.7, examplesPerSecond: 42.123 },
  });
  const lines = text.split('\n');

  it('opens with the title and the headline metrics', () => {
    assert.equal(lines[0], 'linear.v1 on test · classification · 7 examples');
    assert.equal(lines[1], '  accuracy 71.43% · macro_f1 51.67% · micro_f1 71.43% · weighted_f1 65.71%');
  });

  it('shows a per-label table sorted by support, with – for undefined ratios', () => {
    const start = lines.indexOf('Per label (4 labels, by support)');
    assert.ok(start > 0, text);
    assert.deepEqual(lines.slice(start + 1, start + 7), [
      'label  support  precision  recall     f1  tp  fp  fn',
      '─────  ───────  ─────────  ──────  ─────  ──  ──  ──',
      'pos          4      75.0%   75.0%  75.0%   3   1   1',
      'neg          2      66.7%  100.0%  80.0%   2   1   0',
      'neu          1          –    0.0%   0.0%   0   0   1',
      'mixed        0          –       –      –   0   0   0',
    ]);
    assert.ok(lines.includes('– no predicted or no gold items: the score counts as 0'));
  });

  it('lists the most confused pairs and the calibration summary', () => {
    assert.ok(lines.includes('Most confused (gold → predicted)'), text);
    assert.ok(lines.some((l) => /^neu\s+pos\s+1\s+100\.0%$/.test(l)));
    assert.ok(
      lines.some((l) => l.startsWith('Calibration: ECE 25.86% · MCE 60.00% over 7 predictions in 10 bins')),
    );
    assert.ok(
      lines.some((l) => /^0\.90–1\.00\s+3\s+94\.7%\s+100\.0%\s+-5\.3%$/.test(l)),
      text,
    );
  });

  it('ends with the throughput line', () => {
    assert.equal(lines.at(-1), 'Throughput: 123,457 tokens/s · 42.1 examples/s');
  });

  it('stays within 110 columns even with long labels and many labels', () => {
    const many = classifySet(
      Array.from({ length: 60 }, (_, i) => {
        const label = `a-rather-long-intent-label-name-number-${i}-that-keeps-going`;
        return [label, i % 3 === 0 ? 'other-label' : label, 0.5 + (i % 5) / 10] as [string, string, number];
      }),
    );
    const out = renderEvaluation(
      evaluatePredictions('classify', many.gold, many.predictions, {
        labels: Array.from({ length: 12 }, (_, i) => `missing-label-with-a-long-name-${i}`),
      }),
    );
    for (const line of out.split('\n')) assert.ok(displayWidth(line) <= 110, `too wide: ${line}`);
    assert.match(out, /… 33 more labels with 20 gold items in all/);
    assert.match(out, /note: labels outside the project's label set: /);
  });

  it('renders NER and multi-label reports, and says when nothing can be calibrated', () => {
    const ner = renderEvaluation(
      evaluatePredictions(
        'ner',
        [{ id: 'n', text: 'Nike red', spans: [{ start: 0, end: 4, label: 'BRAND' }], meta: {} }],
        [{ spans: [{ start: 0, end: 4, label: 'BRAND', score: 0.9 }] }],
      ),
    );
    assert.match(ner, /^Evaluation · NER · 1 example\n {2}span_f1_micro 100\.00% · span_f1_macro 100\.00%/);
    assert.match(ner, /over 1 predicted entity in 10 bins/);
    const multi = renderEvaluation(
      evaluatePredictions(
        'multilabel',
        [{ id: 'm', text: 'x', labels: ['a'], meta: {} }],
        [{ labels: ['a', 'b'] }],
      ),
    );
    assert.match(multi, /samples_f1 66\.67% · subset_accuracy 0\.00%/);
    assert.match(multi, /hamming_loss 50\.00%/);
    assert.match(multi, /Calibration: no confidences to assess/);
    assert.doesNotMatch(multi, /Throughput/);
  });
});
