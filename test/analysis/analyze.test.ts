/** `analyzeModel`, `aggregateAnalyses`, `recordAnalysis` and the loaders behind `sapphire analyze`, on a small trained CRF. */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  ANALYSIS_ARTIFACT,
  type AnalysisProgress,
  type AnalysisReport,
  aggregateAnalyses,
  analysisMetrics,
  analyzeModel,
  loadAnalysisData,
  loadModelFolder,
  loadRunModel,
  loadTrainingExamples,
  type ModelAnalysis,
  recordAnalysis,
} from '../../src/analysis/analyze.ts';
import { NER_ERROR_KINDS } from '../../src/analysis/error-taxonomy.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { problemCardSchema } from '../../src/core/project.ts';
import type { Example } from '../../src/data/types.ts';
import { createModel, type Model, type ModelInput, type Prediction } from '../../src/models/index.ts';
import { openStore } from '../../src/store/open-store.ts';
import { trainModel } from '../../src/train/train.ts';
import { trainConfigSchema } from '../../src/train/train-config.ts';

function ner(id: string, text: string, spans: [string, string][], split: string): Example {
  return {
    id,
    text,
    split,
    meta: {},
    spans: spans.map(([word, label]) => {
      const start = text.indexOf(word);
      assert.ok(start >= 0, `${word} is in "${text}"`);
      return { start, end: start + word.length, label };
    }),
  };
}

const TRAIN: Example[] = [
  ner(
    't1',
    'Nike red shoes',
    [
      ['Nike', 'BRAND'],
      ['red', 'COLOR'],
    ],
    'train',
  ),
  ner(
    't2',
    'Adidas blue socks',
    [
      ['Adidas', 'BRAND'],
      ['blue', 'COLOR'],
    ],
    'train',
  ),
  ner(
    't3',
    'red Adidas shirt for men',
    [
      ['red', 'COLOR'],
      ['Adidas', 'BRAND'],
    ],
    'train',
  ),
  ner(
    't4',
    'Puma black cap',
    [
      ['Puma', 'BRAND'],
      ['black', 'COLOR'],
    ],
    'train',
  ),
  ner(
    't5',
    'green Nike hoodie with a zip',
    [
      ['green', 'COLOR'],
      ['Nike', 'BRAND'],
    ],
    'train',
  ),
  ner(
    't6',
    'Reebok white sneakers',
    [
      ['Reebok', 'BRAND'],
      ['white', 'COLOR'],
    ],
    'train',
  ),
  ner(
    't7',
    'a blue Puma bag',
    [
      ['blue', 'COLOR'],
      ['Puma', 'BRAND'],
    ],
    'train',
  ),
  ner(
    't8',
    'Nike black shorts',
    [
      ['Nike', 'BRAND'],
      ['black', 'COLOR'],
    ],
    'train',
  ),
];

const DEV: Example[] = [
  ner(
    'd1',
    'Nike blue cap',
    [
      ['Nike', 'BRAND'],
      ['blue', 'COLOR'],
    ],
    'dev',
  ),
  ner(
    'd2',
    'Asics yellow running shoes',
    [
      ['Asics', 'BRAND'],
      ['yellow', 'COLOR'],
    ],
    'dev',
  ),
  ner(
    'd3',
    'red Puma socks',
    [
      ['red', 'COLOR'],
      ['Puma', 'BRAND'],
    ],
    'dev',
  ),
  ner(
    'd4',
    'Fila orange jacket for the winter',
    [
      ['Fila', 'BRAND'],
      ['orange', 'COLOR'],
    ],
    'dev',
  ),
  ner('d5', 'plain white tee', [['white', 'COLOR']], 'dev'),
  ner(
    'd6',
    'Adidas green shorts',
    [
      ['Adidas', 'BRAND'],
      ['green', 'COLOR'],
    ],
    'dev',
  ),
];

const card = problemCardSchema.parse({
  name: 'shop',
  task: 'ner',
  labels: ['BRAND', 'COLOR'],
  slices: [{ name: 'short', description: 'at most 3 tokens', where: { tokens: { max: 3 } } }],
});

async function trainedCrf(): Promise<Model> {
  const model = createModel('crf.v1', { task: 'ner', maxIterations: 30 });
  await model.fit(TRAIN, undefined, { seed: 13 });
  return model;
}

/** A model that answers from a table (by text), whatever the answers are (valid or not). */
function tableModel(answers: Map<string, Prediction>, task: Model['task'] = 'ner'): Model {
  return {
    name: 'table.v1',
    task,
    fit: async () => ({ epochs: 0 }),
    predict: (inputs: ModelInput[]) => inputs.map((i) => structuredClone(answers.get(i.text) ?? {})),
    explain: () => [],
    config: () => ({ task }),
    save: async () => undefined,
  };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

describe('analyzeModel on a trained CRF', () => {
  test('combines evaluation, confusion, taxonomy, slices, howlers, label noise and bug checks', async () => {
    const model = await trainedCrf();
    const steps: AnalysisProgress['step'][] = [];
    const report = await analyzeModel({
      model,
      task: 'ner',
      labels: card.labels,
      primary: card.metrics.primary,
      examples: DEV,
      train: TRAIN,
      slices: card.slices,
      onProgress: (e) => steps.push(e.step),
    });
    assert.equal(report.examples, DEV.length);
    assert.equal(report.model, 'crf.v1');
    assert.equal(report.primary.metric, 'span_f1_micro');
    assert.equal(report.primary.value, report.evaluation.metrics.span_f1_micro);
    // The taxonomy explains every false positive and false negative of the evaluation.
    const taxonomy = report.taxonomy ?? assert.fail('NER analyses have a taxonomy');
    const fp = sum(report.evaluation.perLabel.map((l) => l.fp));
    const fn = sum(report.evaluation.perLabel.map((l) => l.fn));
    const wrong =
      taxonomy.counts['wrong-type'] +
      taxonomy.counts['wrong-boundary'] +
      taxonomy.counts['wrong-type-and-boundary'];
    assert.equal(taxonomy.counts.missed + wrong, fn);
    assert.equal(taxonomy.counts.spurious + wrong, fp);
    assert.equal(taxonomy.truePositives, sum(report.evaluation.perLabel.map((l) => l.tp)));
    assert.equal(report.confusion.labels.at(-1), 'none');
    assert.deepEqual(report.confusion.labels.slice(0, 2), ['BRAND', 'COLOR']);
    // Declared and automatic slices (the unseen-entities slice needs the training data).
    const slices = report.slices.rows.map((r) => r.name);
    assert.ok(slices.includes('short'), slices.join(', '));
    assert.ok(slices.includes('unseen-entities'), slices.join(', '));
    assert.equal(report.slices.overall, report.primary.value);
    // Howlers come most confident first.
    const confidences = report.howlers.map((h) => h.confidence);
    assert.deepEqual(
      confidences,
      [...confidences].sort((a, b) => b - a),
    );
    assert.equal(report.labelNoise.predictionSets, 1);
    // A correct implementation passes every bug check.
    assert.deepEqual(
      report.bugs.checks.map((c) => c.name),
      ['valid-output', 'batch-equals-single', 'repeat-determinism', 'tokenization-lossless'],
    );
    assert.equal(report.bugs.failed, 0, JSON.stringify(report.bugs.checks));
    assert.deepEqual(
      [...new Set(steps)],
      ['predict', 'evaluate', 'taxonomy', 'slices', 'howlers', 'label-noise', 'bug-checks'],
    );
    // The report is plain JSON.
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  });

  test('runs the seed-determinism check when asked, next to the other bug checks', async () => {
    const model = await trainedCrf();
    const report = await analyzeModel({
      model,
      task: 'ner',
      primary: 'span_f1_micro',
      examples: DEV,
      seedCheck: { create: () => createModel('crf.v1', model.config()), train: TRAIN, seed: 13 },
    });
    const seed = report.bugs.checks.find((c) => c.name === 'seed-determinism');
    assert.ok(seed, 'the seed check is reported');
    assert.equal(seed.passed, true, seed.summary);
  });
});

describe('analyzeModel with given predictions', () => {
  const gold = DEV.slice(0, 3);
  const predictions: Prediction[] = [
    // d1: BRAND right, COLOR missed.
    { spans: [{ start: 0, end: 4, label: 'BRAND', score: 0.9 }] },
    // d2: wrong type on "Asics", spurious "running".
    {
      spans: [
        { start: 0, end: 5, label: 'COLOR', score: 0.95 },
        { start: 13, end: 20, label: 'BRAND', score: 0.6 },
      ],
    },
    // d3: wrong boundary on "Puma socks" (gold BRAND "Puma"), COLOR "red" missed.
    { spans: [{ start: 4, end: 14, label: 'BRAND', score: 0.7 }] },
  ];

  test('counts each error kind, keeps examples of each and lists howlers by confidence', async () => {
    const report = await analyzeModel({
      model: tableModel(new Map(gold.map((e, i) => [e.text, predictions[i]!]))),
      task: 'ner',
      labels: ['BRAND', 'COLOR'],
      primary: 'span_f1_micro',
      examples: gold,
      predictions,
      examplesPerKind: 1,
    });
    const t = report.taxonomy!;
    assert.deepEqual(t.counts, {
      missed: 3,
      spurious: 1,
      'wrong-type': 1,
      'wrong-boundary': 1,
      'wrong-type-and-boundary': 0,
    });
    for (const kind of NER_ERROR_KINDS) assert.ok(t.examples[kind].length <= 1, kind);
    assert.equal(t.examples['wrong-type'][0]?.exampleId, 'd2');
    assert.deepEqual(
      report.howlers.map((h) => [h.kind, h.confidence]),
      [
        ['wrong-type', 0.95],
        ['wrong-boundary', 0.7],
        ['spurious', 0.6],
      ],
    );
    assert.equal(report.labelNoise.total, 1, 'one disagreement has confidence ≥ 0.9');
    assert.equal(report.labelNoise.suspects[0]?.exampleId, 'd2');
  });

  test('label-noise suspects need the agreement of the extra prediction sets', async () => {
    const model = tableModel(new Map(gold.map((e, i) => [e.text, predictions[i]!])));
    const base = { model, task: 'ner' as const, primary: 'span_f1_micro', examples: gold, predictions };
    const agreeing = await analyzeModel({ ...base, extraPredictionSets: [predictions, predictions] });
    assert.equal(agreeing.labelNoise.predictionSets, 3);
    assert.equal(agreeing.labelNoise.suspects[0]?.agreeing, 3);
    const empty = gold.map(() => ({ spans: [] }));
    const outvoted = await analyzeModel({ ...base, extraPredictionSets: [empty, empty] });
    assert.equal(outvoted.labelNoise.total, 0, 'one set of three is no majority');
  });

  test('reports implementation bugs apart from the model errors', async () => {
    const broken: Prediction[] = gold.map((e) => ({
      spans: [{ start: 0, end: e.text.length + 5, label: 'BRAND', score: 1.5 }],
    }));
    const report = await analyzeModel({
      model: tableModel(new Map(gold.map((e, i) => [e.text, broken[i]!]))),
      task: 'ner',
      primary: 'span_f1_micro',
      examples: gold,
      predictions,
    });
    // The model errors come from the given (valid) predictions; the bug checks from the broken model.
    assert.equal(report.taxonomy?.counts.missed, 3);
    const valid = report.bugs.checks.find((c) => c.name === 'valid-output');
    assert.equal(valid?.passed, false, 'spans past the text and scores above 1 are bugs');
    assert.ok(report.bugs.failed >= 1, `failed ${report.bugs.failed}`);
  });

  test('classification has a confusion matrix and no taxonomy', async () => {
    const examples: Example[] = [
      { id: 'c1', text: 'where is my card', labels: ['card'], meta: {} },
      { id: 'c2', text: 'refund please', labels: ['refund'], meta: {} },
      { id: 'c3', text: 'card not working', labels: ['card'], meta: {} },
    ];
    const answer = (label: string, score: number): Prediction => ({
      labels: [label],
      scores: [
        { label, score },
        { label: label === 'card' ? 'refund' : 'card', score: 1 - score },
      ],
    });
    const preds = [answer('card', 0.8), answer('card', 0.97), answer('card', 0.6)];
    const report = await analyzeModel({
      model: tableModel(new Map(examples.map((e, i) => [e.text, preds[i]!])), 'classify'),
      task: 'classify',
      labels: ['card', 'refund'],
      primary: 'accuracy',
      examples,
    });
    assert.equal(report.taxonomy, null);
    assert.deepEqual(report.confusion.labels, ['card', 'refund']);
    assert.deepEqual(report.confusion.matrix, [
      [2, 0],
      [1, 0],
    ]);
    assert.equal(report.primary.value, 2 / 3);
    assert.equal(report.howlers[0]?.exampleId, 'c2');
    assert.equal(report.labelNoise.suspects[0]?.predicted, 'card');
  });

  test('refuses an unknown primary metric and an empty example set', async () => {
    const model = tableModel(new Map());
    await assert.rejects(
      analyzeModel({ model, task: 'ner', primary: 'accuracy', examples: gold, predictions }),
      (e: unknown) => e instanceof ConfigError && /accuracy/.test(e.message),
    );
    await assert.rejects(
      analyzeModel({ model, task: 'ner', primary: 'span_f1_micro', examples: [] }),
      /no examples/,
    );
  });

  test('property: the taxonomy always adds up to the evaluation counts', async () => {
    const arbitrarySpan = (length: number) =>
      fc
        .tuple(
          fc.nat(length - 1),
          fc.integer({ min: 1, max: 6 }),
          fc.constantFrom('BRAND', 'COLOR'),
          fc.double({ min: 0, max: 1, noNaN: true }),
        )
        .map(([start, width, label, score]) => ({
          start,
          end: Math.min(length, start + width),
          label,
          score,
        }));
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(...DEV.map((e) => fc.array(arbitrarySpan(e.text.length), { maxLength: 4 }))),
        async (spanSets) => {
          const preds = spanSets.map((spans) => ({ spans }));
          const report = await analyzeModel({
            model: tableModel(new Map()),
            task: 'ner',
            primary: 'span_f1_micro',
            examples: DEV,
            predictions: preds,
            bugSample: 1,
          });
          const t = report.taxonomy!;
          const wrong =
            t.counts['wrong-type'] + t.counts['wrong-boundary'] + t.counts['wrong-type-and-boundary'];
          assert.equal(t.counts.missed + wrong, sum(report.evaluation.perLabel.map((l) => l.fn)));
          assert.equal(t.counts.spurious + wrong, sum(report.evaluation.perLabel.map((l) => l.fp)));
        },
      ),
      { numRuns: 40 },
    );
  });
});

function fakeReport(score: number, missed: number, failed: number): AnalysisReport {
  return {
    task: 'ner',
    model: 'crf.v1',
    examples: 10,
    primary: { metric: 'span_f1_micro', value: score },
    evaluation: {
      task: 'ner',
      examples: 10,
      metrics: {
        span_f1_micro: score,
        span_f1_macro: score / 2,
        span_precision: 0.5,
        span_recall: 0.5,
        ece: 0.1,
      },
      perLabel: [
        { label: 'PER', precision: 0.5, recall: 0.5, f1: 0.5, tp: 3, fp: 1, fn: missed, support: 3 + missed },
      ],
      calibration: { ece: 0.1, mce: 0.1, count: 0, bins: [] },
    },
    confusion: {
      labels: ['PER', 'none'],
      matrix: [
        [3, missed],
        [1, 0],
      ],
      none: 'none',
    },
    taxonomy: {
      counts: { missed, spurious: 1, 'wrong-type': 0, 'wrong-boundary': 0, 'wrong-type-and-boundary': 0 },
      truePositives: 3,
      falsePositives: 1,
      falseNegatives: missed,
      examples: {
        missed: [],
        spurious: [],
        'wrong-type': [],
        'wrong-boundary': [],
        'wrong-type-and-boundary': [],
      },
    },
    slices: {
      overall: score,
      rows: [
        {
          name: 'short',
          kind: 'declared',
          examples: 5,
          metrics: {},
          score: score - 0.1,
          delta: -0.1,
          lagging: true,
        },
      ],
      lagThreshold: 0.05,
      minExamples: 1,
    },
    howlers: [],
    labelNoise: { threshold: 0.9, predictionSets: 1, total: 0, suspects: [] },
    bugs: {
      failed,
      checks: [{ name: 'valid-output', passed: failed === 0, summary: 'checked', examples: [] }],
    },
  } as AnalysisReport;
}

describe('aggregateAnalyses', () => {
  test('lists each dataset and the mean of the primary metric and the key counts', () => {
    const agg = aggregateAnalyses([
      { dataset: 'music:test', report: fakeReport(0.6, 2, 0) },
      { dataset: 'science:test', report: fakeReport(0.4, 6, 1) },
    ]);
    assert.equal(agg.primary, 'span_f1_micro');
    assert.deepEqual(agg.columns.slice(0, 2), ['examples', 'span_f1_micro']);
    assert.deepEqual(
      agg.rows.map((r) => r.dataset),
      ['music:test', 'science:test'],
    );
    assert.equal(agg.mean.span_f1_micro, 0.5);
    assert.equal(agg.mean.missed, 4);
    assert.equal(agg.mean.false_negatives, 4);
    assert.equal(agg.mean.bugs_failed, 0.5);
    assert.equal(agg.rows[1]?.values.lagging_slices, 1);
  });

  test('refuses nothing to aggregate and mixed tasks', () => {
    assert.throws(() => aggregateAnalyses([]), /no analyses/);
    const other = { ...fakeReport(0.5, 1, 0), task: 'classify' as const };
    assert.throws(
      () =>
        aggregateAnalyses([
          { dataset: 'a', report: fakeReport(0.5, 1, 0) },
          { dataset: 'b', report: other },
        ]),
      /cannot aggregate/,
    );
  });
});

describe('analysisMetrics', () => {
  test('one dataset: <dataset>.<metric>, taxonomy, slice score and delta, bugs.failed', () => {
    const analysis: ModelAnalysis = {
      model: { name: 'crf.v1', dir: null, run: null },
      task: 'ner',
      primary: 'span_f1_micro',
      datasets: [{ name: 'wnut17:dev', version: 'wnut17@abc', split: 'dev', report: fakeReport(0.6, 2, 1) }],
      aggregate: null,
    };
    const metrics = analysisMetrics(analysis);
    assert.equal(metrics['wnut17:dev.span_f1_micro'], 0.6);
    assert.equal(metrics['taxonomy.missed'], 2);
    assert.equal(metrics['taxonomy.spurious'], 1);
    assert.ok(Math.abs(metrics['slice.short.score']! - 0.5) < 1e-12);
    assert.equal(metrics['slice.short.delta'], -0.1);
    assert.equal(metrics['slices.lagging'], 1);
    assert.equal(metrics['bugs.failed'], 1);
    assert.ok(!('mean.span_f1_micro' in metrics), 'no mean for one dataset');
  });

  test('several datasets: sums, means and per-dataset prefixed values', () => {
    const datasets = [
      { name: 'a', version: 'a@1', split: null, report: fakeReport(0.6, 2, 1) },
      { name: 'b', version: 'b@1', split: null, report: fakeReport(0.4, 6, 1) },
    ];
    const metrics = analysisMetrics({
      model: { name: 'crf.v1', dir: null, run: null },
      task: 'ner',
      primary: 'span_f1_micro',
      datasets,
      aggregate: aggregateAnalyses(datasets.map((d) => ({ dataset: d.name, report: d.report }))),
    });
    assert.equal(metrics['mean.span_f1_micro'], 0.5);
    assert.equal(metrics['taxonomy.missed'], 8);
    assert.equal(metrics['b.taxonomy.missed'], 6);
    assert.equal(metrics['a.slice.short.delta'], -0.1);
    assert.equal(metrics['bugs.failed'], 1, 'a check failing on both datasets counts once');
  });
});

describe('recording and loading for `sapphire analyze`', () => {
  test('loads a model folder or a run with its training data, analyses and records an analyze run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sapphire-analyze-'));
    const store = await openStore({ projectDir: dir });
    try {
      const { version } = await store.putDatasetVersion({
        name: 'shop',
        examples: [...TRAIN, ...DEV],
        operation: { kind: 'import', params: {} },
      });
      const config = trainConfigSchema.parse({
        model: { architecture: 'crf.v1', maxIterations: 20 },
        data: { dataset: 'shop', test: null },
        seed: 7,
      });
      const trained = await trainModel({ store, card, config, projectDir: dir });

      const fromFolder = await loadModelFolder(trained.modelDir!);
      assert.equal(fromFolder.run, trained.run.id);
      assert.deepEqual(fromFolder.training, { dataset: version.id, split: 'train', seed: 7 });
      const fromRun = await loadRunModel(store, trained.run.id);
      assert.equal(fromRun.dir, null);
      assert.deepEqual(fromRun.training, fromFolder.training);
      assert.deepEqual(fromRun.model.predict(DEV), fromFolder.model.predict(DEV));
      const train = await loadTrainingExamples(store, fromRun.training!);
      assert.deepEqual(
        train?.map((e) => e.id),
        TRAIN.map((e) => e.id),
      );
      assert.equal(
        await loadTrainingExamples(store, { dataset: 'gone@123456', split: 'train', seed: null }),
        null,
      );

      const data = await loadAnalysisData(store, 'shop:dev');
      assert.equal(data.name, 'shop:dev');
      assert.equal(data.examples.length, DEV.length);
      await assert.rejects(loadAnalysisData(store, 'shop:test'), /no examples in split "test"/);

      const report = await analyzeModel({
        model: fromRun.model,
        task: 'ner',
        labels: card.labels,
        primary: card.metrics.primary,
        examples: data.examples,
        train: train!,
        slices: card.slices,
      });
      const analysis: ModelAnalysis = {
        model: { name: 'crf.v1', dir: null, run: trained.run.id },
        task: 'ner',
        primary: card.metrics.primary,
        datasets: [{ name: data.name, version: data.version.id, split: data.split, report }],
        aggregate: null,
      };
      const run = await recordAnalysis(store, {
        analysis,
        modelConfig: fromRun.model.config(),
        projectDir: dir,
      });
      assert.equal(run.kind, 'analyze');
      assert.equal(run.status, 'finished');
      assert.deepEqual(run.datasetVersions, [version.id]);
      assert.equal(run.config.sourceRun, trained.run.id);
      assert.deepEqual(run.config.datasets, [{ name: 'shop:dev', dataset: version.id, split: 'dev' }]);
      assert.equal(run.metrics['shop:dev.span_f1_micro'], report.primary.value);
      assert.equal(run.metrics['bugs.failed'], 0);
      assert.equal(run.metrics['taxonomy.missed'], report.taxonomy!.counts.missed);
      assert.ok('slice.short.delta' in run.metrics, Object.keys(run.metrics).join(', '));
      const artifact = (await store.listRunArtifacts(run.id)).find((a) => a.name === ANALYSIS_ARTIFACT);
      assert.ok(artifact, 'the report is stored as an artifact');
      const stored = JSON.parse(Buffer.from(await store.getArtifact(artifact.hash)).toString('utf8'));
      assert.deepEqual(stored, JSON.parse(JSON.stringify(analysis)));
    } finally {
      await store.close();
    }
  });
});
