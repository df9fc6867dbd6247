import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BugCheck,
  predictionDifference,
  runBugChecks,
  seedDeterminismCheck,
} from '../../src/analysis/bug-checks.ts';
import type { Example, TaskKind, Token } from '../../src/data/types.ts';
import { createModel } from '../../src/models/index.ts';
import type { Model, ModelInput, Prediction } from '../../src/models/model.ts';
import { tokenize } from '../../src/text/tokenizer.ts';

const ner = (id: string, text: string, spans: [number, number, string][] = []): Example => ({
  id,
  text,
  spans: spans.map(([start, end, label]) => ({ start, end, label })),
  meta: {},
});

const NER_DATA: Example[] = [
  ner('n1', 'Nike shoes are great', [[0, 4, 'BRAND']]),
  ner('n2', 'I love Adidas, really!', [[7, 13, 'BRAND']]),
  ner('n3', 'red shoes from Nike', [[15, 19, 'BRAND']]),
  ner('n4', 'nothing here.'),
];

/** A stub model that predicts with `predict(inputs)`; fit remembers the seed it was given. */
function stub(
  task: TaskKind,
  predict: (inputs: ModelInput[]) => Prediction[],
  fit?: (seed?: number) => void,
): Model {
  return {
    name: 'stub.v1',
    task,
    fit: async (_train, _dev, options) => {
      fit?.(options?.seed);
      return { epochs: 1 };
    },
    predict,
    explain: () => [],
    config: () => ({}),
    save: async () => {},
  };
}

/** NER stub: tags every occurrence of "Nike" or "Adidas" as BRAND with score 0.9. */
const brands = (inputs: ModelInput[]): Prediction[] =>
  inputs.map(({ text }) => ({
    spans: [...text.matchAll(/Nike|Adidas/g)].map((m) => ({
      start: m.index,
      end: m.index + m[0].length,
      label: 'BRAND',
      score: 0.9,
    })),
  }));

function byName(checks: BugCheck[]): Map<string, BugCheck> {
  return new Map(checks.map((c) => [c.name, c]));
}

function failedOnly(checks: BugCheck[]): string[] {
  return checks.filter((c) => !c.passed).map((c) => c.name);
}

describe('runBugChecks', () => {
  it('passes a correct model on every check', async () => {
    const model = createModel('token-majority.v1');
    await model.fit(NER_DATA, undefined, { seed: 1 });
    const checks = await runBugChecks(model, NER_DATA, { task: 'ner', labels: ['BRAND'] });
    assert.deepEqual(
      checks.map((c) => c.name),
      ['valid-output', 'batch-equals-single', 'repeat-determinism', 'tokenization-lossless'],
    );
    assert.deepEqual(failedOnly(checks), []);
    for (const c of checks) assert.deepEqual(c.examples, [], `${c.name} lists nothing`);
    assert.match(checks[0]!.summary, /4 predictions checked.*: ok$/);
    assert.deepEqual(failedOnly(await runBugChecks(stub('ner', brands), NER_DATA, { task: 'ner' })), []);
  });

  it('valid-output catches out-of-range, empty, overlapping and unknown-label spans', async () => {
    const buggy = stub('ner', (inputs) =>
      inputs.map(({ text }) => ({
        spans: [
          { start: 0, end: text.length + 3, label: 'BRAND', score: 0.5 },
          { start: 2, end: 2, label: 'BRAND', score: 0.5 },
          { start: 1, end: 3, label: 'COLOUR', score: 1.5 },
        ],
      })),
    );
    const check = byName(await runBugChecks(buggy, NER_DATA, { task: 'ner', labels: ['BRAND'] })).get(
      'valid-output',
    )!;
    assert.equal(check.passed, false);
    const details = check.examples.filter((e) => e.exampleId === 'n1').map((e) => e.detail);
    assert.ok(
      details.some((d) => /outside the text/.test(d)),
      'out of range',
    );
    assert.ok(
      details.some((d) => /start 2 ≥ end 2/.test(d)),
      'empty span',
    );
    assert.ok(
      details.some((d) => /"COLOUR" is not in the label set/.test(d)),
      'unknown label',
    );
    assert.ok(
      details.some((d) => /score 1.5 is not in \[0, 1\]/.test(d)),
      'score out of range',
    );
    assert.ok(
      details.some((d) => /overlap/.test(d)),
      'overlap',
    );
    assert.match(check.summary, /problem\(s\) in 4 example\(s\)/);
    const nested = await runBugChecks(buggy, NER_DATA, { task: 'ner', allowOverlaps: true, maxDetails: 100 });
    assert.equal(
      nested[0]!.examples.some((e) => /overlap/.test(e.detail)),
      false,
      'overlaps allowed for nested NER',
    );
  });

  it('valid-output only warns about spans off token boundaries', async () => {
    const offBoundary = stub('ner', (inputs) =>
      inputs.map(({ text }) => ({
        spans: text.startsWith('Nike') ? [{ start: 0, end: 3, label: 'BRAND', score: 1 }] : [],
      })),
    );
    const check = (await runBugChecks(offBoundary, NER_DATA, { task: 'ner' }))[0]!;
    assert.equal(check.passed, true);
    assert.deepEqual(check.examples, [
      { exampleId: 'n1', detail: 'warning: spans[0] "Nik" [0, 3) is not on token boundaries' },
    ]);
    assert.match(check.summary, /1 warning/);
  });

  it('valid-output catches classification labels outside the set and several labels for one class', async () => {
    const examples: Example[] = [{ id: 'c1', text: 'hello', labels: ['greet'], meta: {} }];
    const buggy = stub('classify', (inputs) =>
      inputs.map(() => ({
        labels: ['greet', 'bye'],
        scores: [
          { label: 'greet', score: 0.4 },
          { label: 'bye', score: 0.6 },
        ],
      })),
    );
    const check = (await runBugChecks(buggy, examples, { task: 'classify', labels: ['greet'] }))[0]!;
    assert.equal(check.passed, false);
    const details = check.examples.map((e) => e.detail);
    assert.ok(details.includes('label "bye" is not in the label set'), 'unknown label');
    assert.ok(details.includes('2 labels predicted for single-label classification'), 'two labels');
    assert.ok(
      details.includes('warning: scores are not sorted best first (scores[1] > scores[0])'),
      'unsorted',
    );
  });

  it('batch-equals-single catches predictions that depend on the batch', async () => {
    const batchDependent = stub('ner', (inputs) =>
      brands(inputs).map((p) => ({ spans: p.spans!.map((s) => ({ ...s, score: 1 / inputs.length })) })),
    );
    const checks = byName(await runBugChecks(batchDependent, NER_DATA, { task: 'ner' }));
    const check = checks.get('batch-equals-single')!;
    assert.equal(check.passed, false);
    assert.deepEqual(
      check.examples.map((e) => e.exampleId),
      ['n1', 'n2', 'n3'],
    );
    assert.equal(check.examples[0]!.detail, 'batch: BRAND[0,4)@0.25; single: BRAND[0,4)@1');
    assert.equal(checks.get('repeat-determinism')!.passed, true);
  });

  it('repeat-determinism catches predictions that change between calls', async () => {
    let calls = 0;
    const flaky = stub('classify', (inputs) => {
      calls++;
      return inputs.map(() => ({ labels: [`v${calls}`] }));
    });
    const examples: Example[] = [{ id: 'c1', text: 'x', labels: ['a'], meta: {} }];
    const checks = byName(await runBugChecks(flaky, examples, { task: 'classify' }));
    assert.equal(checks.get('repeat-determinism')!.passed, false);
    assert.equal(checks.get('repeat-determinism')!.examples[0]!.detail, 'first: [v1]; second: [v3]');
  });

  it('tokenization-lossless catches tokenizers that drop characters or misplace tokens', async () => {
    const dropsPunctuation = (text: string): Token[] => tokenize(text).filter((t) => /\w/.test(t.text));
    const model = stub('ner', brands);
    const check = byName(
      await runBugChecks(model, NER_DATA, { task: 'ner', tokenize: dropsPunctuation }),
    ).get('tokenization-lossless')!;
    assert.equal(check.passed, false);
    assert.deepEqual(check.examples, [
      { exampleId: 'n2', detail: '2 non-space character(s) in no token: "," at 13, "!" at 21' },
      { exampleId: 'n4', detail: '1 non-space character(s) in no token: "." at 12' },
    ]);
    const shifted = (text: string): Token[] =>
      tokenize(text).map((t) => ({ ...t, text: t.text.toUpperCase() }));
    const bad = byName(
      await runBugChecks(model, NER_DATA.slice(0, 1), { task: 'ner', tokenize: shifted }),
    ).get('tokenization-lossless')!;
    assert.equal(bad.passed, false);
    assert.match(bad.examples[0]!.detail, /token 0 text "NIKE" differs from the text at \[0, 4\): "Nike"/);
    const stored: Example = { ...NER_DATA[0]!, tokens: [{ text: 'Nike', start: 0, end: 4 }] };
    const storedCheck = byName(await runBugChecks(model, [stored], { task: 'ner' })).get(
      'tokenization-lossless',
    )!;
    assert.equal(storedCheck.passed, false, 'stored tokens are checked too');
    assert.match(
      storedCheck.examples[0]!.detail,
      /^stored tokens: 13 non-space character\(s\) in no token: "shoes" at 5, "are" at 11, "great" at 15$/,
    );
  });

  it('checks a seeded sample of at most `sample` examples', async () => {
    const many = Array.from({ length: 50 }, (_, i) => ner(`m${i}`, `Nike number ${i}`, [[0, 4, 'BRAND']]));
    const seen: number[] = [];
    const counting = stub('ner', (inputs) => {
      seen.push(inputs.length);
      return brands(inputs);
    });
    const checks = await runBugChecks(counting, many, { task: 'ner', sample: 7 });
    assert.match(checks[0]!.summary, /^7 predictions checked/);
    assert.deepEqual(seen, [7, 1, 1, 1, 1, 1, 1, 1, 7]);
  });

  it('refuses a model of another task', async () => {
    await assert.rejects(
      runBugChecks(stub('ner', brands), NER_DATA, { task: 'classify' }),
      /solves task ner/,
    );
  });
});

describe('predictionDifference', () => {
  it('compares spans, labels and scores within a tolerance', () => {
    const a: Prediction = { labels: ['x'], scores: [{ label: 'x', score: 0.5 }] };
    assert.equal(predictionDifference(a, { ...a, scores: [{ label: 'x', score: 0.5 + 1e-9 }] }, 1e-6), null);
    assert.equal(
      predictionDifference(a, { ...a, scores: [{ label: 'x', score: 0.6 }] }, 1e-6),
      'first: [x] x@0.5; second: [x] x@0.6',
    );
    assert.equal(predictionDifference({ labels: ['x'] }, {}, 0), 'first: [x]; second: (no labels)');
  });
});

describe('seedDeterminismCheck', () => {
  it('passes a seeded trainer and catches one that ignores the seed', async () => {
    const good = await seedDeterminismCheck(() => createModel('token-majority.v1'), NER_DATA, NER_DATA, 3);
    assert.equal(good.passed, true);
    assert.equal(good.name, 'seed-determinism');
    assert.match(good.summary, /seed 3 on 4 examples/);

    let fits = 0;
    const unseeded = () => {
      let bias = 0;
      return stub(
        'classify',
        (inputs) => inputs.map(() => ({ labels: ['a'], scores: [{ label: 'a', score: bias }] })),
        () => {
          fits++;
          bias = fits / 10; // depends on how many fits ran before, not on the seed
        },
      );
    };
    const examples: Example[] = [{ id: 'c1', text: 'x', labels: ['a'], meta: {} }];
    const bad = await seedDeterminismCheck(unseeded, examples, examples, 3);
    assert.equal(bad.passed, false);
    assert.deepEqual(bad.examples, [
      { exampleId: 'c1', detail: 'first fit: [a] a@0.1; second fit: [a] a@0.2' },
    ]);
  });
});
