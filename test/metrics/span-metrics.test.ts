import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SapphireError } from '../../src/core/errors.ts';
import { joinTokens } from '../../src/data/formats/conll.ts';
import { tagsToSpans } from '../../src/data/formats/tagging.ts';
import type { Span } from '../../src/data/types.ts';
import {
  addSpans,
  compareSpans,
  createSpanCounts,
  mergeSpanCounts,
  type SpanCounts,
  spanProblems,
  spanScores,
} from '../../src/metrics/span-metrics.ts';
import type { PredictedSpan } from '../../src/models/model.ts';

const close = (actual: number, expected: number, what = '') =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} ≠ ${expected}`);

/** Decodes one sentence's tags to character-offset spans, as readers do before evaluation. */
function charSpans(words: string[], tags: string[]): Span[] {
  const { tokens } = joinTokens(words);
  return tagsToSpans(tags).map((s) => ({
    start: tokens[s.start]!.start,
    end: tokens[s.end - 1]!.end,
    label: s.label,
  }));
}

/** conlleval-style sentences: words, gold tags, predicted tags. */
const SENTENCES: [string[], string[], string[]][] = [
  // Boundary error: the predicted LOC stops one token early.
  [
    ['John', 'lives', 'in', 'New', 'York', 'City'],
    ['B-PER', 'O', 'O', 'B-LOC', 'I-LOC', 'I-LOC'],
    ['B-PER', 'O', 'O', 'B-LOC', 'I-LOC', 'O'],
  ],
  // I- without B- starts a chunk (ORG matches); a type change inside a chunk splits it in two.
  [
    ['Acme', 'Corp', 'hired', 'Mary', 'Jane', 'Smith'],
    ['B-ORG', 'I-ORG', 'O', 'B-PER', 'I-PER', 'I-PER'],
    ['I-ORG', 'I-ORG', 'O', 'B-PER', 'I-PER', 'I-LOC'],
  ],
  // IOB1 gold: B- separates two adjacent LOCs; the prediction merges them into one.
  [
    ['Paris', 'Berlin', 'Rome'],
    ['I-LOC', 'B-LOC', 'I-LOC'],
    ['I-LOC', 'I-LOC', 'I-LOC'],
  ],
  // Right span, wrong type.
  [
    ['the', 'EU', 'and', 'UN'],
    ['O', 'B-ORG', 'O', 'B-ORG'],
    ['O', 'B-ORG', 'O', 'B-MISC'],
  ],
];

describe('span metrics with conlleval semantics (tags → spans → metrics)', () => {
  const counts = createSpanCounts();
  for (const [words, gold, predicted] of SENTENCES)
    addSpans(counts, charSpans(words, gold), charSpans(words, predicted));
  const scores = spanScores(counts);
  const row = (label: string) => scores.perLabel.find((r) => r.label === label)!;

  it('decodes the tricky IOB cases the way conlleval does', () => {
    assert.deepEqual(tagsToSpans(['I-ORG', 'I-ORG', 'O', 'B-PER', 'I-PER', 'I-LOC']), [
      { start: 0, end: 2, label: 'ORG' },
      { start: 3, end: 5, label: 'PER' },
      { start: 5, end: 6, label: 'LOC' },
    ]);
    assert.deepEqual(tagsToSpans(['I-LOC', 'B-LOC', 'I-LOC']), [
      { start: 0, end: 1, label: 'LOC' },
      { start: 1, end: 3, label: 'LOC' },
    ]);
  });

  it('counts tp/fp/fn per label by exact match', () => {
    // PER: John ✓; "Mary Jane" ✗ (fp) and "Mary Jane Smith" missed (fn).
    assert.deepEqual(
      { tp: row('PER').tp, fp: row('PER').fp, fn: row('PER').fn, support: row('PER').support },
      { tp: 1, fp: 1, fn: 1, support: 2 },
    );
    // LOC: three wrong predictions, three gold missed.
    assert.deepEqual({ tp: row('LOC').tp, fp: row('LOC').fp, fn: row('LOC').fn }, { tp: 0, fp: 3, fn: 3 });
    // ORG: Acme Corp ✓, EU ✓, UN missed.
    assert.deepEqual({ tp: row('ORG').tp, fp: row('ORG').fp, fn: row('ORG').fn }, { tp: 2, fp: 0, fn: 1 });
    // MISC: only a false positive; support 0.
    assert.deepEqual({ tp: row('MISC').tp, fp: row('MISC').fp, fn: row('MISC').fn }, { tp: 0, fp: 1, fn: 0 });
    assert.equal(scores.examples, 4);
  });

  it('gives hand-computed per-label, micro and macro scores', () => {
    close(row('PER').precision, 0.5, 'PER p');
    close(row('PER').f1, 0.5, 'PER f1');
    close(row('ORG').precision, 1, 'ORG p');
    close(row('ORG').recall, 2 / 3, 'ORG r');
    close(row('ORG').f1, 0.8, 'ORG f1');
    assert.deepEqual(
      [row('LOC').f1, row('MISC').precision, row('MISC').recall, row('MISC').f1],
      [0, 0, 0, 0],
    );
    // micro: tp 3, fp 5, fn 5.
    assert.deepEqual([scores.micro.tp, scores.micro.fp, scores.micro.fn], [3, 5, 5]);
    close(scores.micro.precision, 3 / 8, 'micro p');
    close(scores.micro.recall, 3 / 8, 'micro r');
    close(scores.micro.f1, 3 / 8, 'micro f1');
    // macro over the 4 labels in gold ∪ predicted (MISC included, as seqeval does).
    close(scores.macro.precision, (0.5 + 0 + 1 + 0) / 4, 'macro p');
    close(scores.macro.recall, (0.5 + 0 + 2 / 3 + 0) / 4, 'macro r');
    close(scores.macro.f1, (0.5 + 0 + 0.8 + 0) / 4, 'macro f1');
  });

  it('matches the seqeval README example (f1 0.5)', () => {
    const c = createSpanCounts();
    const gold = [
      ['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'],
      ['B-PER', 'I-PER', 'O'],
    ];
    const pred = [
      ['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'],
      ['B-PER', 'I-PER', 'O'],
    ];
    gold.forEach((g, i) => {
      addSpans(c, tagsToSpans(g), tagsToSpans(pred[i]!));
    });
    const s = spanScores(c);
    assert.deepEqual([s.micro.precision, s.micro.recall, s.micro.f1], [0.5, 0.5, 0.5]);
    assert.deepEqual([s.macro.precision, s.macro.recall, s.macro.f1], [0.5, 0.5, 0.5]);
    assert.deepEqual(
      s.perLabel.map((r) => [r.label, r.f1, r.support]),
      [
        ['MISC', 0, 1],
        ['PER', 1, 1],
      ],
    );
  });
});

describe('compareSpans', () => {
  const gold: Span[] = [
    { start: 0, end: 4, label: 'BRAND' },
    { start: 5, end: 9, label: 'COLOR' },
    { start: 10, end: 15, label: 'TYPE' },
  ];
  const predicted: PredictedSpan[] = [
    { start: 0, end: 4, label: 'BRAND', score: 0.9 },
    { start: 5, end: 9, label: 'TYPE', score: 0.6 },
    { start: 10, end: 14, label: 'TYPE', score: 0.3 },
  ];

  it('lists exact matches, false positives and misses, keeping the span objects', () => {
    const result = compareSpans(gold, predicted);
    assert.deepEqual(result.truePositives, [predicted[0]]);
    assert.equal(result.truePositives[0]!.score, 0.9);
    assert.deepEqual(result.falsePositives, [predicted[1], predicted[2]]);
    assert.deepEqual(result.falseNegatives, [gold[1], gold[2]]);
  });

  it('treats exact duplicates as one span, like seqeval sets', () => {
    const result = compareSpans([gold[0]!, gold[0]!], [predicted[2]!, predicted[2]!]);
    assert.equal(result.falsePositives.length, 1);
    assert.equal(result.falseNegatives.length, 1);
  });

  it('matches overlapping (nested) spans independently', () => {
    const nested: Span[] = [
      { start: 0, end: 10, label: 'ORG' },
      { start: 0, end: 4, label: 'LOC' },
    ];
    const result = compareSpans(nested, [{ start: 0, end: 4, label: 'LOC' }]);
    assert.deepEqual(result.truePositives, [{ start: 0, end: 4, label: 'LOC' }]);
    assert.deepEqual(result.falseNegatives, [{ start: 0, end: 10, label: 'ORG' }]);
  });

  it('rejects malformed spans with every problem, its place and a hint', () => {
    const bad = [
      { start: 3, end: 3, label: 'X' },
      { start: 1.5, end: 4, label: 'X' },
      { start: 0, end: 2, label: '' },
    ];
    assert.throws(
      () => compareSpans(gold, bad, { predicted: { exampleId: 'ex7', path: 'predictions[2].spans' } }),
      (err: unknown) => {
        assert.ok(err instanceof SapphireError);
        assert.equal(err.code, 'DATA_INVALID');
        assert.equal(err.details.problems?.length, 3);
        assert.equal(err.details.exampleId, 'ex7');
        assert.match(err.message, /predictions\[2\]\.spans\[0\]/);
        assert.ok(err.hint);
        return true;
      },
    );
    assert.equal(spanProblems(gold).length, 0);
  });
});

describe('span counts accumulate and merge', () => {
  it('addSpans mutates and returns the counts; merge leaves its inputs alone', () => {
    const a = createSpanCounts();
    assert.equal(addSpans(a, [{ start: 0, end: 1, label: 'A' }], []), a);
    const b = addSpans(createSpanCounts(), [], [{ start: 0, end: 1, label: 'A' }]);
    const before = JSON.stringify([a, b]);
    const merged = mergeSpanCounts(a, b);
    assert.equal(JSON.stringify([a, b]), before);
    assert.equal(merged.examples, 2);
    assert.deepEqual({ ...merged.labels.A }, { tp: 0, fp: 1, fn: 1 });
  });

  it('handles labels that are Object.prototype names', () => {
    const c = addSpans(
      createSpanCounts(),
      [{ start: 0, end: 1, label: '__proto__' }],
      [{ start: 0, end: 1, label: 'constructor' }],
    );
    const s = spanScores(c);
    assert.deepEqual(
      s.perLabel.map((r) => [r.label, r.fp, r.fn]),
      [
        ['__proto__', 0, 1],
        ['constructor', 1, 0],
      ],
    );
    assert.deepEqual(spanScores(JSON.parse(JSON.stringify(c)) as SpanCounts), s);
  });

  it('reports listed labels with zeros but leaves them out of the macro average', () => {
    const c = addSpans(
      createSpanCounts(),
      [{ start: 0, end: 1, label: 'A' }],
      [{ start: 0, end: 1, label: 'A' }],
    );
    const s = spanScores(c, { labels: ['Z', 'A'] });
    assert.deepEqual(
      s.perLabel.map((r) => [r.label, r.f1, r.support]),
      [
        ['Z', 0, 0],
        ['A', 1, 1],
      ],
    );
    assert.equal(s.macro.f1, 1);
  });

  it('gives all zeros for no data at all', () => {
    const s = spanScores(createSpanCounts());
    assert.deepEqual(
      [s.micro.precision, s.micro.recall, s.micro.f1, s.macro.f1, s.perLabel.length],
      [0, 0, 0, 0, 0],
    );
  });
});

const LABELS = ['PER', 'LOC', 'ORG'];
const spanArb = fc
  .record({ start: fc.nat(12), length: fc.integer({ min: 1, max: 3 }), label: fc.constantFrom(...LABELS) })
  .map(({ start, length, label }) => ({ start, end: start + length, label }));
const exampleArb = fc.record({
  gold: fc.array(spanArb, { maxLength: 5 }),
  predicted: fc.array(spanArb, { maxLength: 5 }),
});
const datasetArb = fc.array(exampleArb, { maxLength: 12 });

function countAll(examples: { gold: Span[]; predicted: Span[] }[]): SpanCounts {
  const counts = createSpanCounts();
  for (const ex of examples) addSpans(counts, ex.gold, ex.predicted);
  return counts;
}

describe('span metric properties', () => {
  it('precision, recall and F1 stay within [0, 1]', () => {
    fc.assert(
      fc.property(datasetArb, (examples) => {
        const s = spanScores(countAll(examples));
        for (const r of [s.micro, s.macro, ...s.perLabel]) {
          for (const v of [r.precision, r.recall, r.f1]) assert.ok(v >= 0 && v <= 1, `${v} outside [0, 1]`);
        }
      }),
    );
  });

  it('counts merged from batches equal the counts of one pass', () => {
    fc.assert(
      fc.property(datasetArb, fc.array(fc.nat(), { maxLength: 4 }), (examples, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (examples.length + 1)))].sort((a, b) => a - b);
        const bounds = [0, ...points, examples.length];
        let merged = createSpanCounts();
        for (let i = 0; i + 1 < bounds.length; i++) {
          merged = mergeSpanCounts(merged, countAll(examples.slice(bounds[i], bounds[i + 1])));
        }
        const whole = countAll(examples);
        assert.deepEqual(merged, whole);
        assert.deepEqual(spanScores(merged), spanScores(whole));
      }),
    );
  });

  it('perfect predictions score 1 and empty predictions have recall 0', () => {
    fc.assert(
      fc.property(
        datasetArb.filter((d) => d.some((ex) => ex.gold.length > 0)),
        (examples) => {
          const perfect = spanScores(
            countAll(examples.map((ex) => ({ gold: ex.gold, predicted: [...ex.gold].reverse() }))),
          );
          assert.deepEqual(
            [perfect.micro.precision, perfect.micro.recall, perfect.micro.f1, perfect.macro.f1],
            [1, 1, 1, 1],
          );
          for (const r of perfect.perLabel) assert.equal(r.f1, 1);

          const empty = spanScores(countAll(examples.map((ex) => ({ gold: ex.gold, predicted: [] }))));
          assert.equal(empty.micro.recall, 0);
          assert.equal(empty.micro.f1, 0);
          assert.equal(empty.micro.tp + empty.micro.fp, 0);
          const distinctGold = examples.reduce(
            (n, ex) => n + new Set(ex.gold.map((s) => `${s.start}:${s.end}:${s.label}`)).size,
            0,
          );
          assert.equal(empty.micro.fn, distinctGold);
        },
      ),
    );
  });
});
