import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { NER_ERROR_KINDS, type NerErrorKind, nerErrorTaxonomy } from '../../src/analysis/error-taxonomy.ts';
import { createRng } from '../../src/core/rng.ts';
import { readDataset } from '../../src/data/formats/index.ts';
import type { Example, Span } from '../../src/data/types.ts';
import { evaluatePredictions } from '../../src/metrics/evaluate.ts';
import { TokenMajorityModel } from '../../src/models/baseline/token-majority.ts';
import type { PredictedSpan, Prediction } from '../../src/models/model.ts';

const TEXT = 'Paris Hilton visited New York City with Barack Obama yesterday';
//            0    5 6    12      20  24   29   34  38     45    51

function ex(spans: Span[], id = 'e1', text = TEXT): Example {
  return { id, text, spans, meta: {} };
}
function sp(start: number, end: number, label: string, score = 0.9): PredictedSpan {
  return { start, end, label, score };
}

/** Sums tp/fp/fn over the per-label rows of evaluatePredictions. */
function evaluationCounts(examples: Example[], predictions: Prediction[]) {
  const report = evaluatePredictions('ner', examples, predictions);
  return report.perLabel.reduce(
    (acc, row) => ({ tp: acc.tp + row.tp, fp: acc.fp + row.fp, fn: acc.fn + row.fn }),
    { tp: 0, fp: 0, fn: 0 },
  );
}

function assertInvariants(examples: Example[], predictions: Prediction[]): void {
  const t = nerErrorTaxonomy(examples, predictions);
  const paired = t.counts['wrong-type'] + t.counts['wrong-boundary'] + t.counts['wrong-type-and-boundary'];
  assert.equal(t.falseNegatives, t.counts.missed + paired, 'FN = missed + paired kinds');
  assert.equal(t.falsePositives, t.counts.spurious + paired, 'FP = spurious + paired kinds');
  const kinds = Object.fromEntries(NER_ERROR_KINDS.map((k) => [k, 0])) as Record<NerErrorKind, number>;
  for (const e of t.errors) kinds[e.kind]++;
  assert.deepEqual(kinds, t.counts, 'errors list agrees with counts');
  const counts = evaluationCounts(examples, predictions);
  assert.equal(t.truePositives, counts.tp, 'TP equals evaluatePredictions');
  assert.equal(t.falsePositives, counts.fp, 'FP equals evaluatePredictions');
  assert.equal(t.falseNegatives, counts.fn, 'FN equals evaluatePredictions');
}

describe('nerErrorTaxonomy', () => {
  it('classifies each kind of error', () => {
    const gold = ex([
      { start: 0, end: 12, label: 'PER' }, // Paris Hilton
      { start: 21, end: 34, label: 'LOC' }, // New York City
      { start: 40, end: 52, label: 'PER' }, // Barack Obama
      { start: 53, end: 62, label: 'DATE' }, // yesterday
    ]);
    const predicted: Prediction = {
      spans: [
        sp(0, 5, 'LOC', 0.8), // Paris: wrong type and boundary
        sp(21, 29, 'LOC', 0.7), // New York: wrong boundary
        sp(40, 52, 'ORG', 0.95), // Barack Obama as ORG: wrong type
        sp(13, 20, 'EVENT', 0.6), // visited: spurious
      ],
    };
    const t = nerErrorTaxonomy([gold], [predicted]);
    assert.deepEqual(t.counts, {
      missed: 1,
      spurious: 1,
      'wrong-type': 1,
      'wrong-boundary': 1,
      'wrong-type-and-boundary': 1,
    });
    assert.deepEqual(
      t.errors.map((e) => [e.kind, e.goldText, e.predictedText, e.confidence]),
      [
        ['wrong-type-and-boundary', 'Paris Hilton', 'Paris', 0.8],
        ['spurious', null, 'visited', 0.6],
        ['wrong-boundary', 'New York City', 'New York', 0.7],
        ['wrong-type', 'Barack Obama', 'Barack Obama', 0.95],
        ['missed', 'yesterday', null, null],
      ],
    );
    assert.equal(t.errors[0]!.text, TEXT);
    assert.equal(t.errors[0]!.exampleId, 'e1');
    assert.deepEqual([t.truePositives, t.falsePositives, t.falseNegatives], [0, 4, 4]);
    assertInvariants([gold], [predicted]);
  });

  it('counts exact matches as true positives and not as errors', () => {
    const gold = ex([{ start: 0, end: 12, label: 'PER' }]);
    const t = nerErrorTaxonomy([gold], [{ spans: [sp(0, 12, 'PER')] }]);
    assert.deepEqual(t.errors, []);
    assert.deepEqual([t.truePositives, t.falsePositives, t.falseNegatives], [1, 0, 0]);
  });

  it('pairs one to one: a second overlapping prediction is spurious', () => {
    const gold = ex([{ start: 21, end: 34, label: 'LOC' }]);
    // "York" overlaps the gold entity by 4 characters, "New" by 3: "York" is the pair.
    const t = nerErrorTaxonomy([gold], [{ spans: [sp(21, 24, 'LOC'), sp(25, 29, 'LOC')] }]);
    assert.deepEqual(
      t.errors.map((e) => [e.kind, e.predictedText]),
      [
        ['spurious', 'New'],
        ['wrong-boundary', 'York'],
      ],
    );
  });

  it('prefers exact-boundary pairs, then the largest overlap', () => {
    // Gold "New York City" LOC and "York" ORG; predicted "York" PER exact-matches the ORG boundaries.
    const gold = ex([
      { start: 21, end: 34, label: 'LOC' },
      { start: 25, end: 29, label: 'ORG' },
    ]);
    const t = nerErrorTaxonomy([gold], [{ spans: [sp(25, 29, 'PER')] }]);
    assert.deepEqual(
      t.errors.map((e) => [e.kind, e.goldText]),
      [
        ['missed', 'New York City'],
        ['wrong-type', 'York'],
      ],
    );
    // Largest overlap wins: "York City" overlaps "New York City" by 9, "City" gold by 4.
    const gold2 = ex([
      { start: 21, end: 34, label: 'LOC' },
      { start: 30, end: 34, label: 'ORG' },
    ]);
    const t2 = nerErrorTaxonomy([gold2], [{ spans: [sp(25, 34, 'LOC')] }]);
    const kinds = t2.errors.map((e) => [e.kind, e.goldText]);
    assert.deepEqual(kinds, [
      ['wrong-boundary', 'New York City'],
      ['missed', 'City'],
    ]);
  });

  it('counts exact duplicate spans once, as evaluatePredictions does', () => {
    const gold = ex([
      { start: 0, end: 12, label: 'PER' },
      { start: 0, end: 12, label: 'PER' },
    ]);
    const predicted = { spans: [sp(0, 5, 'PER'), sp(0, 5, 'PER', 0.4), sp(40, 52, 'PER')] };
    const t = nerErrorTaxonomy([gold], [predicted]);
    assert.deepEqual(t.counts, {
      missed: 0,
      spurious: 1,
      'wrong-type': 0,
      'wrong-boundary': 1,
      'wrong-type-and-boundary': 0,
    });
    assert.equal(t.errors[0]!.confidence, 0.9, 'the first of the duplicates is kept');
    assertInvariants([gold], [predicted]);
  });

  it('rejects misaligned input and malformed spans', () => {
    assert.throws(() => nerErrorTaxonomy([ex([])], []), /1 examples but 0 predictions/);
    assert.throws(() => nerErrorTaxonomy([ex([])], [{ spans: [sp(5, 2, 'PER')] }]), /start < end/);
  });

  it('keeps the FP/FN invariant and agrees with evaluatePredictions on random spans', () => {
    const text = 'abcdefghijklmnopqrstuvwxyz';
    const span = fc
      .tuple(fc.integer({ min: 0, max: 25 }), fc.integer({ min: 1, max: 6 }), fc.constantFrom('A', 'B', 'C'))
      .map(([start, len, label]) => ({ start, end: Math.min(26, start + len), label }));
    const predictedSpan = fc
      .tuple(span, fc.double({ min: 0, max: 1, noNaN: true }))
      .map(([s, score]) => ({ ...s, score }));
    const example = fc.tuple(fc.array(span, { maxLength: 6 }), fc.array(predictedSpan, { maxLength: 6 }));
    fc.assert(
      fc.property(fc.array(example, { minLength: 1, maxLength: 5 }), (rows) => {
        const examples = rows.map(([gold], i) => ex(gold, `x${i}`, text));
        const predictions = rows.map(([, predicted]) => ({ spans: predicted }));
        assertInvariants(examples, predictions);
      }),
      { numRuns: 300 },
    );
  });
});

const WNUT = fileURLToPath(new URL('../../../shared/datasets/ner/wnut17/', import.meta.url));
const skip = existsSync(WNUT) ? false : `shared datasets not found at ${WNUT}`;

describe('nerErrorTaxonomy on WNUT-17', { skip }, () => {
  it('sums to the false positives and negatives of evaluatePredictions', async () => {
    const train = (await readDataset(`${WNUT}wnut17train.conll`)).examples;
    const dev = (await readDataset(`${WNUT}emerging.dev.conll`)).examples;
    const model = new TokenMajorityModel();
    await model.fit(train);
    const predictions = model.predict(dev.map((e) => ({ text: e.text, tokens: e.tokens })));
    assertInvariants(dev, predictions);
    const t = nerErrorTaxonomy(dev, predictions);
    for (const kind of NER_ERROR_KINDS) assert.ok(t.counts[kind] > 0, `some ${kind} errors on WNUT dev`);

    // Randomly shifted and relabelled predictions exercise every pairing path on real texts.
    const rng = createRng(5);
    const labels = ['person', 'location', 'group', 'product'];
    const noisy = dev.map((e) => ({
      spans: (e.spans ?? []).flatMap((s) => {
        const r = rng.next();
        if (r < 0.2) return [];
        const start = r < 0.4 ? Math.max(0, s.start - 1) : s.start;
        const end = r > 0.8 ? Math.min(e.text.length, s.end + 2) : s.end;
        const label = r > 0.6 && r < 0.75 ? labels[rng.int(labels.length)]! : s.label;
        return [{ start, end, label, score: rng.next() }];
      }),
    }));
    assertInvariants(dev, noisy);
  });
});
