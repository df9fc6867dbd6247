/** Text, JSON and HTML renderings of an analysis. */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { DOMParser } from 'linkedom';
import { highlightSpans, renderAnalysisHtml } from '../../src/analysis/analysis-html.ts';
import {
  aggregateAnalyses,
  analyzeModel,
  type DatasetAnalysis,
  type ModelAnalysis,
} from '../../src/analysis/analyze.ts';
import {
  FAIL_MARK,
  LAGGING_MARK,
  PASS_MARK,
  renderAnalysisJson,
  renderAnalysisText,
} from '../../src/analysis/render-analysis.ts';
import type { Example, Span } from '../../src/data/types.ts';
import type { Model, ModelInput, Prediction } from '../../src/models/index.ts';

function ner(id: string, text: string, spans: [string, string][]): Example {
  return {
    id,
    text,
    meta: {},
    spans: spans.map(([word, label]) => {
      const start = text.indexOf(word);
      return { start, end: start + word.length, label };
    }),
  };
}

function span(text: string, word: string, label: string, score: number) {
  const start = text.indexOf(word);
  return { start, end: start + word.length, label, score };
}

/** A model answering from a table keyed by text. */
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

const HOSTILE = '<b>Nike</b> & "Co" shoes';
const EXAMPLES: Example[] = [
  ner('e1', HOSTILE, [['Nike', 'BRAND']]),
  ner('e2', 'Adidas blue socks', [
    ['Adidas', 'BRAND'],
    ['blue', 'COLOR'],
  ]),
  ner('e3', 'red Puma cap', [
    ['red', 'COLOR'],
    ['Puma', 'BRAND'],
  ]),
  ner('e4', 'a long title about green Asics running shoes for the track', [
    ['green', 'COLOR'],
    ['Asics', 'BRAND'],
  ]),
];

const PREDICTIONS: Prediction[] = [
  { spans: [span(HOSTILE, 'Nike</b>', 'BRAND', 0.8), span(HOSTILE, 'shoes', 'COLOR', 0.95)] },
  {
    spans: [
      span('Adidas blue socks', 'Adidas', 'BRAND', 0.9),
      span('Adidas blue socks', 'blue', 'COLOR', 0.9),
    ],
  },
  { spans: [span('red Puma cap', 'red', 'BRAND', 0.97)] },
  { spans: [] },
];

async function datasetAnalysis(name: string, broken = false): Promise<DatasetAnalysis> {
  const answers = new Map(
    EXAMPLES.map((e, i) => [
      e.text,
      broken ? { spans: [{ start: 0, end: 999, label: 'BRAND', score: 2 }] } : PREDICTIONS[i]!,
    ]),
  );
  const report = await analyzeModel({
    model: tableModel(answers),
    task: 'ner',
    labels: ['BRAND', 'COLOR'],
    primary: 'span_f1_micro',
    examples: EXAMPLES,
    predictions: PREDICTIONS,
    slices: [{ name: 'short', description: 'at most 4 tokens', where: { tokens: { max: 4 } } }],
    minSliceExamples: 1,
    lagThreshold: 0.01,
    noiseThreshold: 0.9,
  });
  return { name, version: `${name.split(':')[0]}@0123456789ab`, split: 'dev', report };
}

function analysisOf(datasets: DatasetAnalysis[]): ModelAnalysis {
  return {
    model: { name: 'table.v1', dir: '/models/table', run: 'r-1' },
    task: 'ner',
    primary: 'span_f1_micro',
    datasets,
    aggregate:
      datasets.length > 1
        ? aggregateAnalyses(datasets.map((d) => ({ dataset: d.name, report: d.report })))
        : null,
  };
}

function parse(html: string): Document {
  return new DOMParser().parseFromString(html, 'text/html') as unknown as Document;
}

let single: ModelAnalysis;
let several: ModelAnalysis;

before(async () => {
  single = analysisOf([await datasetAnalysis('shop:dev')]);
  several = analysisOf([await datasetAnalysis('shop:dev'), await datasetAnalysis('other:dev', true)]);
});

describe('renderAnalysisText', () => {
  test('has every section, taxonomy counts, flagged slices and bug checks', () => {
    const text = renderAnalysisText(single);
    assert.match(text, /^Analysis of table\.v1 \(\/models\/table\) on shop:dev/);
    for (const section of [
      'Per label',
      'Confusion (rows gold, columns predicted)',
      'Error taxonomy',
      'Slices (span_f1_micro',
      'Howlers: the',
      'Suspected label noise',
      'Bug checks (implementation problems, not model errors)',
    ]) {
      assert.ok(text.includes(section), `missing section "${section}"`);
    }
    const t = single.datasets[0]!.report.taxonomy!;
    for (const [kind, n] of Object.entries(t.counts)) {
      assert.match(text, new RegExp(`^${kind}\\s+${n}\\s`, 'm'), `taxonomy row of ${kind}`);
    }
    assert.match(text, new RegExp(`False negatives ${t.falseNegatives} = missed ${t.counts.missed}`));
    const lagging = single.datasets[0]!.report.slices.rows.filter((r) => r.lagging);
    assert.ok(lagging.length > 0, 'the fixture has a lagging slice');
    for (const row of lagging) assert.match(text, new RegExp(`^${LAGGING_MARK} ${row.name}\\s`, 'm'));
    assert.match(text, new RegExp(`^  ${PASS_MARK} valid-output: `, 'm'));
    // The most confident error comes first among the howlers.
    const howlers = text.slice(text.indexOf('Howlers'));
    assert.match(howlers.split('\n')[3] ?? '', /^0\.970\s+wrong-type\s+COLOR "red"\s+BRAND "red"/);
  });

  test('several datasets: the aggregate table with a mean row, then each dataset; failed checks marked', () => {
    const text = renderAnalysisText(several);
    assert.match(text, /Across 2 datasets \(primary: span_f1_micro\)/);
    assert.match(text, /^mean\s/m);
    assert.ok(text.indexOf('── shop:dev') < text.indexOf('── other:dev'), 'datasets in order');
    assert.match(text, new RegExp(`^  ${FAIL_MARK} valid-output: `, 'm'));
    assert.match(text, /1 of 4 FAILED/);
  });

  test('many labels: the most confused pairs instead of a matrix', async () => {
    const labels = Array.from({ length: 14 }, (_, i) => `class${i}`);
    const examples: Example[] = labels.map((label, i) => ({
      id: `c${i}`,
      text: `text ${i}`,
      labels: [label],
      meta: {},
    }));
    const predictions = examples.map((_, i) => ({
      labels: [labels[(i + 1) % labels.length]!],
      scores: [{ label: labels[(i + 1) % labels.length]!, score: 0.5 }],
    }));
    const report = await analyzeModel({
      model: tableModel(new Map(examples.map((e, i) => [e.text, predictions[i]!])), 'classify'),
      task: 'classify',
      labels,
      primary: 'accuracy',
      examples,
      predictions,
    });
    const text = renderAnalysisText({
      model: { name: 'table.v1', dir: null, run: null },
      task: 'classify',
      primary: 'accuracy',
      datasets: [{ name: 'intents', version: 'intents@1', split: null, report }],
      aggregate: null,
    });
    assert.match(text, /Most confused pairs \(14 labels; 14 pairs in all\)/);
    assert.doesNotMatch(text, /Error taxonomy/);
  });
});

describe('renderAnalysisJson', () => {
  test('is the analysis itself, with the extra fields first', () => {
    const parsed = JSON.parse(renderAnalysisJson(single, { run: 'r-9' }));
    assert.equal(parsed.run, 'r-9');
    assert.deepEqual(
      { ...parsed, run: undefined },
      { ...JSON.parse(JSON.stringify(single)), run: undefined },
    );
    assert.equal(Object.keys(parsed)[0], 'run');
  });
});

describe('renderAnalysisHtml', () => {
  test('a well-formed standalone page with every section', () => {
    const html = renderAnalysisHtml(single, { run: 'r-analysis' });
    assert.match(html, /^<!doctype html>\n<html lang="en">/);
    assert.ok(html.trimEnd().endsWith('</html>'), 'the page is closed');
    const doc = parse(html);
    assert.equal(doc.querySelector('title')?.textContent, 'Analysis of table.v1 on shop:dev');
    assert.match(doc.querySelector('p.meta')?.textContent ?? '', /recorded as run r-analysis/);
    const section = doc.querySelector('section.dataset');
    assert.ok(section, 'one section per dataset');
    for (const cls of [
      'overview',
      'per-label',
      'confusion',
      'taxonomy',
      'slices',
      'howlers',
      'label-noise',
      'bug-checks',
    ]) {
      assert.ok(section.querySelector(`section.${cls}`), `section ${cls}`);
    }
    const report = single.datasets[0]!.report;
    // Confusion heatmap: a header row and one row per gold label, with every count.
    const rows = doc.querySelectorAll('table.confusion tr');
    assert.equal(rows.length, report.confusion.labels.length + 1);
    const cells = [...doc.querySelectorAll('table.confusion tbody td')].map((td) => Number(td.textContent));
    assert.deepEqual(cells, report.confusion.matrix.flat());
    // Per-label bars and the taxonomy's examples with the spans highlighted.
    assert.ok(doc.querySelector('section.per-label svg'), 'per-label bars');
    const taxonomyRows = [...doc.querySelectorAll('table.taxonomy tbody tr')].map((tr) => [
      tr.querySelector('td')?.textContent,
      Number(tr.querySelectorAll('td')[1]?.textContent),
    ]);
    assert.deepEqual(taxonomyRows, Object.entries(report.taxonomy!.counts));
    const wrongType = doc.querySelector('.kind[data-kind="wrong-type"] li');
    assert.ok(wrongType, 'wrong-type examples are listed');
    assert.equal(wrongType.querySelector('mark.both')?.textContent, 'red');
    // Lagging slices are flagged, bug checks marked.
    const lagging = [...doc.querySelectorAll('table.slices tr.lagging')];
    assert.equal(lagging.length, report.slices.rows.filter((r) => r.lagging).length);
    assert.ok(lagging[0]?.textContent?.includes(LAGGING_MARK), 'the flag is shown');
    assert.equal(doc.querySelectorAll('ul.checks li.passed').length, report.bugs.checks.length);
    assert.equal(doc.querySelectorAll('table.howlers tbody tr').length, report.howlers.length);
    assert.equal(
      doc.querySelectorAll('table.label-noise tbody tr').length,
      report.labelNoise.suspects.length,
    );
  });

  test('escapes every text and refers to nothing outside the page', () => {
    const html = renderAnalysisHtml(single);
    const doc = parse(html);
    assert.equal(doc.querySelector('body b'), null, 'the example text is not markup');
    assert.ok(doc.body.textContent?.includes('<b>Nike</b> & "Co" shoes'), 'the text reads as written');
    assert.doesNotMatch(html, /\b(src|href)\s*=/i);
    assert.doesNotMatch(html, /url\(|@import|<script|<link/i);
    assert.deepEqual(
      html.match(/https?:\/\/[^\s"'<>]+/g)?.filter((u) => !u.startsWith('http://www.w3.org/')) ?? [],
      [],
    );
  });

  test('several datasets: the aggregate section, then one section each', () => {
    const doc = parse(renderAnalysisHtml(several));
    const aggregate = doc.querySelector('section.aggregate');
    assert.ok(aggregate, 'aggregate section');
    const names = [...aggregate.querySelectorAll('tbody tr')].map(
      (tr) => tr.querySelector('td')?.textContent,
    );
    assert.deepEqual(names, ['shop:dev', 'other:dev', 'mean']);
    assert.ok(aggregate.querySelector('svg'), 'a bar per dataset');
    assert.deepEqual(
      [...doc.querySelectorAll('section.dataset')].map((s) => s.getAttribute('data-dataset')),
      ['shop:dev', 'other:dev'],
    );
    assert.equal(doc.querySelectorAll('ul.checks li.failed').length, 1);
  });
});

describe('highlightSpans', () => {
  test('marks gold, predicted and both without nesting', () => {
    const html = highlightSpans(
      'Paris Hilton',
      [{ start: 0, end: 12, label: 'PER' }],
      [{ start: 0, end: 5, label: 'LOC' }],
    );
    const doc = parse(`<p>${html}</p>`);
    assert.deepEqual(
      [...doc.querySelectorAll('mark')].map((m) => [m.getAttribute('class'), m.textContent]),
      [
        ['both', 'Paris'],
        ['gold', ' Hilton'],
      ],
    );
  });

  test('property: the marked-up text reads as the original, with no nested marks', () => {
    const arbitrarySpans = (length: number) =>
      fc.array(
        fc
          .tuple(fc.nat(length), fc.nat(length))
          .map(([a, b]): Span => ({ start: Math.min(a, b), end: Math.max(a, b), label: 'X' })),
        { maxLength: 4 },
      );
    fc.assert(
      fc.property(
        fc
          .string({ unit: fc.constantFrom('a', ' ', '<', '>', '&', '"', "'", 'é'), maxLength: 30 })
          .chain((text) =>
            fc.tuple(fc.constant(text), arbitrarySpans(text.length), arbitrarySpans(text.length)),
          ),
        ([text, gold, predicted]) => {
          const doc = parse(`<p>${highlightSpans(text, gold, predicted)}</p>`);
          assert.equal(doc.querySelector('p')?.textContent, text);
          assert.equal(doc.querySelectorAll('mark mark').length, 0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
