/**
 * `sapphire analyze` end to end through the real CLI — the acceptance of issue 5's error analysis: on a CRF
 * trained on WNUT-17, the taxonomy counts add up to the evaluation's false positives and false negatives, the
 * analysis is recorded as a run, and the HTML report is a well-formed standalone page.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { DOMParser } from 'linkedom';
import { HAVE_SHARED, SHARED, sapphire, sapphireJson, tempDir } from './helpers.ts';

const skip = HAVE_SHARED ? false : `shared datasets not found at ${SHARED}`;

type Counts = Record<
  'missed' | 'spurious' | 'wrong-type' | 'wrong-boundary' | 'wrong-type-and-boundary',
  number
>;

interface LabelRow {
  label: string;
  tp: number;
  fp: number;
  fn: number;
}

interface AnalysisJson {
  run: string | null;
  model: { name: string; dir: string | null; run: string | null };
  datasets: {
    name: string;
    split: string;
    report: {
      examples: number;
      evaluation: { metrics: Record<string, number>; perLabel: LabelRow[] };
      taxonomy: { counts: Counts; falsePositives: number; falseNegatives: number; truePositives: number };
      slices: { rows: { name: string; delta: number | null }[] };
      bugs: { failed: number; checks: { name: string; passed: boolean }[] };
    };
  }[];
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('sapphire analyze on a CRF trained on WNUT-17', { skip }, () => {
  let project: string;
  let trainRun: string;

  before(() => {
    project = tempDir('sapphire-analyze-');
    assert.equal(sapphire(project, 'init', '--task', 'ner').code, 0);
    const imported = sapphire(
      project,
      'data',
      'import',
      join(SHARED, 'ner/wnut17/wnut17train.conll'),
      join(SHARED, 'ner/wnut17/emerging.dev.conll'),
      '--splits',
      'train,dev',
      '--name',
      'wnut17',
    );
    assert.equal(imported.code, 0, imported.stderr);
    writeFileSync(
      join(project, 'crf.yaml'),
      'model: { architecture: crf.v1, maxIterations: 30 }\ndata: { dataset: wnut17, dev: null, test: null }\noutput: models/crf\n',
    );
    trainRun = sapphireJson<{ run: string }>(project, 'train', 'crf.yaml').run;
  });

  test('--json: the taxonomy adds up to the evaluation; the analysis is recorded as a run', () => {
    const analysis = sapphireJson<AnalysisJson>(project, 'analyze', 'models/crf', '--data', 'wnut17:dev');
    assert.equal(analysis.model.name, 'crf.v1');
    assert.equal(analysis.model.run, trainRun, 'the training run comes from training.json');
    const [dev] = analysis.datasets;
    assert.ok(dev, 'one dataset analysed');
    assert.equal(dev.name, 'wnut17:dev');
    assert.equal(dev.report.examples, 1009);

    // The evaluation of `sapphire evaluate` on the same split, independently of the analysis.
    const evaluation = sapphireJson<{ perLabel: LabelRow[]; metrics: Record<string, number> }>(
      project,
      'evaluate',
      'models/crf',
      'wnut17:dev',
    );
    const fp = sum(evaluation.perLabel.map((l) => l.fp));
    const fn = sum(evaluation.perLabel.map((l) => l.fn));
    const { counts } = dev.report.taxonomy;
    const wrong = counts['wrong-type'] + counts['wrong-boundary'] + counts['wrong-type-and-boundary'];
    assert.ok(fn > 0 && fp > 0, `an underfit CRF makes errors (fp ${fp}, fn ${fn})`);
    assert.equal(counts.missed + wrong, fn, 'FN = missed + wrong-*');
    assert.equal(counts.spurious + wrong, fp, 'FP = spurious + wrong-*');
    assert.equal(dev.report.taxonomy.truePositives, sum(evaluation.perLabel.map((l) => l.tp)));
    assert.equal(dev.report.evaluation.metrics.span_f1_micro, evaluation.metrics.span_f1_micro);

    // Bug checks, the seed check included, pass for the CRF and are reported apart.
    assert.deepEqual(
      dev.report.bugs.checks.map((c) => [c.name, c.passed]),
      [
        ['valid-output', true],
        ['batch-equals-single', true],
        ['repeat-determinism', true],
        ['tokenization-lossless', true],
        ['seed-determinism', true],
      ],
    );
    const slices = dev.report.slices.rows.map((r) => r.name);
    for (const name of ['short', 'length-short', 'unseen-entities'])
      assert.ok(slices.includes(name), `slice ${name} in ${slices.join(', ')}`);

    const shown = sapphireJson<{
      run: { kind: string; metrics: Record<string, number>; config: { modelDir: string; sourceRun: string } };
      artifacts: { name: string }[];
    }>(project, 'runs', 'show', analysis.run ?? assert.fail('the analysis is recorded'));
    assert.equal(shown.run.kind, 'analyze');
    assert.equal(shown.run.config.sourceRun, trainRun);
    assert.equal(shown.run.metrics['bugs.failed'], 0);
    assert.equal(shown.run.metrics['taxonomy.missed'], counts.missed);
    assert.equal(shown.run.metrics['wnut17:dev.span_f1_micro'], evaluation.metrics.span_f1_micro);
    const unseen = dev.report.slices.rows.find((r) => r.name === 'unseen-entities');
    assert.equal(shown.run.metrics['slice.unseen-entities.delta'], unseen?.delta);
    assert.ok(shown.artifacts.some((a) => a.name === 'analysis/report.json'));
  });

  test('--format html --out: a well-formed standalone page with every section', () => {
    const out = join(project, 'reports', 'report.html');
    const run = sapphire(
      project,
      'analyze',
      trainRun.slice(-6),
      '--data',
      'wnut17:dev',
      '--format',
      'html',
      '--out',
      out,
      '--no-seed-check',
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Wrote the html analysis to .*report\.html \(recorded as run r-/);
    assert.match(run.stderr, /wnut17:dev: predicting 1,009 examples/);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.doesNotMatch(html, /\b(src|href)\s*=|<script|<link|url\(/i);
    const doc = new DOMParser().parseFromString(html, 'text/html') as unknown as Document;
    assert.equal(doc.querySelector('title')?.textContent, 'Analysis of crf.v1 on wnut17:dev');
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
      assert.ok(doc.querySelector(`section.dataset section.${cls}`), `section ${cls}`);
    }
    const header = [...doc.querySelectorAll('table.confusion thead th')].map((th) => th.textContent);
    assert.equal(header.at(-1), 'none');
    for (const label of ['person', 'location', 'group', 'creative-work', 'corporation', 'product'])
      assert.ok(header.includes(label), `confusion column ${label}`);
    assert.ok(doc.querySelectorAll('.taxonomy mark').length > 0, 'error spans are highlighted');
    assert.ok(doc.querySelector('section.per-label svg'), 'per-label bars');
  });

  test('text output by default; several datasets give the aggregate view', () => {
    const run = sapphire(
      project,
      'analyze',
      'models/crf',
      '--data',
      'wnut17:dev',
      '--data',
      'wnut17:train',
      '--no-seed-check',
      '--no-record',
      '--howlers',
      '3',
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Across 2 datasets \(primary: span_f1_micro\)/);
    assert.match(run.stdout, /^mean\s/m);
    assert.match(run.stdout, /── wnut17:dev .*\n[\s\S]*── wnut17:train /);
    assert.match(run.stdout, /Howlers: the 3 most confident errors/);
    assert.doesNotMatch(run.stdout, /Recorded as run/);
  });

  test('clear errors: no dataset, an unknown run', () => {
    const none = sapphire(project, 'analyze', 'models/crf');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /error\[BAD_INPUT\]: no dataset to analyse on\nhint: pass --data/);
    const unknown = sapphire(project, 'analyze', 'r-nope', '--data', 'wnut17:dev');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /error\[NOT_FOUND\]: "r-nope" is neither a model folder nor a run/);
  });
});
