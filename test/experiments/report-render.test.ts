import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Report } from '../../src/experiments/report.ts';
import { latexEscape, renderReport } from '../../src/experiments/report-render.ts';
import { summarize } from '../../src/experiments/summary.ts';

/** A hand-made report: a baseline, a better system with a tricky label, a curve and a note. */
function sampleReport(): Report {
  const cells = (f1: number[], seconds: number[]) => ({
    'test.macro_f1': summarize(f1),
    'test.accuracy': summarize(f1.map((v) => v + 0.01)),
    train_seconds: summarize(seconds),
  });
  return {
    title: 'Shop & co: 50% of #1 {runs}',
    task: 'classify',
    primary: 'macro_f1',
    sources: [{ id: 'r-study', kind: 'curve', name: 'curve', members: 6 }],
    columns: [
      { key: 'test.macro_f1', lowerIsBetter: false, best: [1] },
      { key: 'test.accuracy', lowerIsBetter: false, best: [1] },
      { key: 'train_seconds', lowerIsBetter: true, best: [0] },
    ],
    rows: [
      {
        label: 'n=10 (25%)',
        source: 'r-study',
        kind: 'curve-point',
        runs: ['r-a1', 'r-a2'],
        seeds: [1, 2],
        cells: cells([0.7, 0.72], [1, 1.2]),
        significance: null,
        perLabel: [
          { label: 'neg', f1: 0.7, support: 20 },
          { label: 'pos', f1: 0.72, support: 20 },
        ],
        examples: 40,
        curve: { size: 10, fraction: 0.25 },
      },
      {
        label: 'c2=1 | <b>$x_1</b> & "y"',
        source: 'r-study',
        kind: 'curve-point',
        runs: ['r-b1', 'r-b2'],
        seeds: [1, 2],
        cells: cells([0.91, 0.914], [3, 3.5]),
        significance: {
          split: 'test',
          metric: 'macro_f1',
          examples: 40,
          a: 0.71,
          b: 0.912,
          delta: 0.202,
          ci: [0.1, 0.3],
          pBootstrap: 0.002,
          pRandomization: 0.004,
          pValue: 0.004,
          marker: '**',
          significant: true,
        },
        perLabel: [
          { label: 'neg', f1: 0.9, support: 20 },
          { label: 'pos', f1: 0.92, support: 20 },
        ],
        examples: 40,
        curve: { size: 40, fraction: 1 },
      },
    ],
    baseline: 0,
    significance: {
      split: 'test',
      metric: 'macro_f1',
      column: 'test.macro_f1',
      samples: 1000,
      seed: 13,
      confidence: 0.95,
    },
    labels: ['neg', 'pos'],
    curves: [
      {
        label: 'curve',
        source: 'r-study',
        metric: 'test.macro_f1',
        points: [
          { row: 0, label: 'n=10 (25%)', size: 10, fraction: 0.25, summary: summarize([0.7, 0.72]) },
          { row: 1, label: 'n=40 (100%)', size: 40, fraction: 1, summary: summarize([0.91, 0.914]) },
        ],
        fit: { a: 1, b: 0.5, c: 1, r2: 1 },
        doubling: { size: 80, predicted: 0.93, gain: 0.02 },
        trend: [
          { size: 10, score: 0.7 },
          { size: 40, score: 0.91 },
          { size: 80, score: 0.93 },
        ],
      },
    ],
    notes: ['member r-c1 (curve-point) of curve r-study failed and is left out: out of memory'],
  };
}

/** RFC 4180 parser for the test: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  assert.equal(field, '', 'the last record ends with CRLF');
  return records;
}

describe('renderReport md', () => {
  it('renders a GitHub table with bold best values, markers, a legend and notes', () => {
    const md = renderReport(sampleReport(), 'md');
    const lines = md.split('\n');
    assert.equal(lines[0], '## Shop & co: 50% of #1 {runs}');
    const table = lines.filter((l) => l.startsWith('|'));
    assert.equal(table[0], '| Run | n | test.macro_f1 | test.accuracy | train_seconds ↓ |');
    assert.equal(table[1], '|:--|--:|--:|--:|--:|');
    assert.equal(table[2], '| n=10 (25%) (baseline) | 2 | 0.710 ± 0.014 | 0.720 ± 0.014 | **1.10 ± 0.14** |');
    assert.equal(
      table[3],
      '| c2=1 \\| \\<b>$x_1\\</b> & "y" | 2 | **0.912 ± 0.003**\\*\\* | **0.922 ± 0.003** | 3.25 ± 0.35 |',
    );
    // Every row of the results table has the header's number of cells.
    const cellsOf = (line: string) => line.split(/(?<!\\)\|/).length;
    for (const line of table.slice(0, 4)) assert.equal(cellsOf(line), cellsOf(table[0]!));
    assert.match(md, /Markers on test\.macro_f1: \\\* p < 0\.05/);
    assert.match(md, /against the baseline "n=10 \(25%\)"/);
    assert.match(md, /\| \+0\.202\\\*\\\* \| \[\+0\.100, \+0\.300\] \| 0\.0020 \| 0\.0040 \|/);
    assert.match(md, /doubling to 80 examples ≈ 0\.930 \(\+0\.020\)/);
    assert.match(md, /^- member r-c1 \(curve-point\) of curve r-study failed/m);
  });
});

describe('renderReport csv', () => {
  it('writes RFC 4180 records that parse back to the report values', () => {
    const report = sampleReport();
    const csv = renderReport(report, 'csv');
    assert.ok(csv.endsWith('\r\n'));
    const records = parseCsv(csv);
    assert.equal(records.length, 3);
    const [header, base, better] = records as [string[], string[], string[]];
    assert.deepEqual(header, [
      'row',
      'baseline',
      'n',
      'runs',
      'test.macro_f1_mean',
      'test.macro_f1_std',
      'test.accuracy_mean',
      'test.accuracy_std',
      'train_seconds_mean',
      'train_seconds_std',
      'p_value',
      'p_bootstrap',
      'p_randomization',
      'delta',
      'ci_low',
      'ci_high',
      'marker',
    ]);
    const field = (record: string[], name: string) => record[header.indexOf(name)]!;
    assert.equal(field(better, 'row'), report.rows[1]!.label);
    assert.equal(field(base, 'baseline'), 'true');
    assert.equal(field(better, 'runs'), 'r-b1 r-b2');
    assert.equal(Number(field(better, 'test.macro_f1_mean')), report.rows[1]!.cells['test.macro_f1']!.mean);
    assert.equal(Number(field(better, 'test.macro_f1_std')), report.rows[1]!.cells['test.macro_f1']!.std);
    assert.equal(Number(field(better, 'p_value')), 0.004);
    assert.equal(field(better, 'marker'), '**');
    assert.equal(field(base, 'p_value'), '');
    assert.ok(records.every((r) => r.length === header.length));
  });
});

describe('renderReport json', () => {
  it('round-trips the report object', () => {
    const report = sampleReport();
    assert.deepEqual(JSON.parse(renderReport(report, 'json')), report);
  });
});

describe('renderReport html', () => {
  const html = renderReport(sampleReport(), 'html');

  it('is one standalone page with the table, significance details and SVG plots', () => {
    assert.match(html, /^<!doctype html>\n<html lang="en">/);
    assert.ok(html.trimEnd().endsWith('</html>'));
    assert.match(html, /<table class="results">/);
    assert.match(html, /<td class="best"[^>]*>0\.912 ± 0\.003<sup>\*\*<\/sup><\/td>/);
    assert.match(html, /<table class="significance">/);
    assert.match(html, /\[\+0\.100, \+0\.300\]/);
    assert.match(html, /0\.0020<\/td><td>0\.0040<\/td>/);
    assert.equal(html.match(/<svg /g)?.length, 2, 'a learning curve and per-label bars');
    assert.match(html, /class="trend"[^>]*stroke-dasharray/);
    assert.match(html, /<li>member r-c1/);
  });

  it('uses no external resources', () => {
    assert.doesNotMatch(html, /\b(src|href)\s*=/i);
    assert.doesNotMatch(html, /url\(|@import|<script|<link/i);
    const urls = html.match(/https?:\/\/[^\s"'<>]+/g) ?? [];
    assert.deepEqual([...new Set(urls)], ['http://www.w3.org/2000/svg'], 'only the SVG namespace name');
  });

  it('escapes every text', () => {
    assert.doesNotMatch(html, /<b>/);
    assert.match(html, /c2=1 \| &lt;b&gt;\$x_1&lt;\/b&gt; &amp; &quot;y&quot;/);
    assert.match(html, /<title>Shop &amp; co: 50% of #1 \{runs\}<\/title>/);
  });
});

describe('renderReport latex', () => {
  const latex = renderReport(sampleReport(), 'latex');

  it('is a booktabs table environment with caption and label', () => {
    const lines = latex.trimEnd().split('\n');
    assert.match(lines[0]!, /^% .*\\usepackage\{booktabs\}/);
    assert.equal(lines[1], '\\begin{table}[htbp]');
    assert.ok(lines.includes('\\caption{Shop \\& co: 50\\% of \\#1 \\{runs\\}}'));
    assert.ok(lines.includes('\\label{tab:shop-co-50-of-1-runs}'));
    assert.ok(lines.includes('\\begin{tabular}{lrrrr}'));
    const order = ['\\toprule', '\\midrule', '\\bottomrule', '\\end{tabular}', '\\end{table}'].map((l) =>
      lines.indexOf(l),
    );
    assert.ok(
      order.every((i, k) => i > 0 && (k === 0 || i > order[k - 1]!)),
      `order ${order}`,
    );
    assert.ok(
      lines.includes('Run & $n$ & test.macro\\_f1 & test.accuracy & train\\_seconds $\\downarrow$ \\\\'),
    );
    assert.ok(
      lines.includes(
        'n=10 (25\\%) (baseline) & 2 & 0.710 $\\pm$ 0.014 & 0.720 $\\pm$ 0.014 & \\textbf{1.10 $\\pm$ 0.14} \\\\',
      ),
    );
    assert.ok(
      lines.includes(
        'c2=1 \\textbar{} \\textless{}b\\textgreater{}\\$x\\_1\\textless{}/b\\textgreater{} \\& "y" & 2 & \\textbf{0.912 $\\pm$ 0.003}$^{**}$ & \\textbf{0.922 $\\pm$ 0.003} & 3.25 $\\pm$ 0.35 \\\\',
      ),
    );
    assert.ok(
      lines.includes(
        '% note: member r-c1 (curve-point) of curve r-study failed and is left out: out of memory',
      ),
    );
  });

  it('escapes the LaTeX special characters', () => {
    assert.equal(
      latexEscape('a_b 50% & #1 $x {y} ~ ^ \\'),
      'a\\_b 50\\% \\& \\#1 \\$x \\{y\\} \\textasciitilde{} \\textasciicircum{} \\textbackslash{}',
    );
    assert.equal(latexEscape('0.91 ± 0.01'), '0.91 $\\pm$ 0.01');
  });

  const pdflatex = spawnSync('pdflatex', ['--version'], { encoding: 'utf8' });
  const missing = pdflatex.error || pdflatex.status !== 0 ? 'pdflatex is not on PATH' : false;

  it('compiles inside a minimal document with booktabs', { skip: missing }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'sapphire-latex-'));
    try {
      const doc = `\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n${latex}\\end{document}\n`;
      writeFileSync(join(dir, 'report.tex'), doc);
      const run = spawnSync(
        'pdflatex',
        ['-interaction=nonstopmode', '-halt-on-error', '-no-shell-escape', 'report.tex'],
        {
          cwd: dir,
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      assert.equal(run.status, 0, run.stdout.slice(-3000));
      assert.doesNotMatch(run.stdout, /Undefined control sequence|Missing \$ inserted/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('renderReport', () => {
  it('refuses an unknown format', () => {
    assert.throws(
      () => renderReport(sampleReport(), 'pdf' as never),
      (error: Error & { code?: string }) => error.code === 'BAD_INPUT',
    );
  });

  it('renders an empty report without failing', () => {
    const empty: Report = {
      ...sampleReport(),
      rows: [],
      columns: [],
      baseline: null,
      significance: null,
      labels: [],
      curves: [],
    };
    for (const format of ['md', 'latex', 'csv', 'json', 'html'] as const) {
      assert.ok(renderReport(empty, format).length > 0, format);
    }
    assert.match(renderReport(empty, 'md'), /No finished runs/);
  });
});
