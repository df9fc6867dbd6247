/**
 * The coach end to end through the real CLI (the acceptance): `sapphire next` on a deliberately underfit
 * model recommends capacity, on an overfit one (a 5% training subsample) data or regularisation; `sapphire status`
 * shows the loop and the milestone. On 1,500 lines of Banking77 (linear.v1: one epoch, tiny features) when the
 * shared datasets are there, and always on the fashion example (crf.v1: one L-BFGS iteration).
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { Recommendation } from '../../src/analysis/coach/recommend.ts';
import { HAVE_SHARED, REPO, SHARED, sapphire, sapphireJson, tempDir } from './helpers.ts';

function ids(recs: Recommendation[]): string[] {
  return recs.map((r) => r.id);
}

function rec(recs: Recommendation[], id: string): Recommendation {
  const found = recs.find((r) => r.id === id);
  assert.ok(found, `expected "${id}" among ${ids(recs).join(', ')}`);
  return found;
}

/** A copy of a prepared project (its store is a file inside it), so each scenario starts from the same data. */
function copyProject(from: string): string {
  const dir = tempDir('sapphire-coach-');
  cpSync(from, dir, { recursive: true });
  return dir;
}

describe('the coach on 1,500 lines of Banking77', { skip: HAVE_SHARED ? false : `no ${SHARED}` }, () => {
  let prepared: string;

  before(() => {
    prepared = tempDir('sapphire-coach-');
    assert.equal(sapphire(prepared, 'init', '--task', 'classify').code, 0);
    const lines = readFileSync(join(SHARED, 'classify/banking77/train.csv'), 'utf8')
      .split('\n')
      .slice(0, 1501);
    writeFileSync(join(prepared, 'bank.csv'), `${lines.join('\n')}\n`);
    sapphireJson(prepared, 'data', 'import', 'bank.csv', '--name', 'bank');
    sapphireJson(prepared, 'data', 'split', 'bank');
  });

  test('next on an underfit linear.v1 (one epoch, 2^10 hashed character unigrams) recommends capacity', () => {
    const dir = copyProject(prepared);
    writeFileSync(
      join(dir, 'under.yaml'),
      [
        'model:',
        '  architecture: linear.v1',
        '  loss: logistic',
        '  features: { hashBits: 10, wordNgrams: null, charNgrams: [1, 1] }',
        '  trainer: { epochs: 1 }',
        'data: { dataset: bank }',
        '',
      ].join('\n'),
    );
    sapphireJson(dir, 'train', 'under.yaml');
    const recs = sapphireJson<Recommendation[]>(dir, 'next');
    assert.equal(recs[0]?.id, 'capacity', `first: ${ids(recs).join(', ')}`);
    assert.ok(!ids(recs).includes('variance'), 'an underfit model has no variance problem');
    const capacity = rec(recs, 'capacity');
    const train = capacity.evidence['train.macro_f1'] ?? 1;
    assert.ok(train < 0.8, `train macro F1 ${train} is low`);
    assert.match(capacity.command ?? '', /^sapphire train under\.yaml .*model\.trainer\.epochs=20/);
    assert.match(capacity.command ?? '', /model\.features\.hashBits=20/);

    const status = sapphireJson<{ milestone: { reached: number }; stages: { id: string; done: boolean }[] }>(
      dir,
      'status',
    );
    assert.equal(status.stages.find((s) => s.id === 'data')?.done, true);
    assert.equal(status.stages.find((s) => s.id === 'models')?.done, false, 'no baseline yet');
    assert.equal(status.milestone.reached, 1, 'examples only: no baseline has been trained');
  });

  test('next on an overfit linear.v1 (a 5% training subsample) recommends data or regularisation', () => {
    const dir = copyProject(prepared);
    writeFileSync(join(dir, 'linear.yaml'), 'model: { architecture: linear.v1 }\ndata: { dataset: bank }\n');
    sapphireJson(dir, 'curve', 'linear.yaml', '--fractions', '0.05', '--seeds', '1', '--workers', '1');
    const recs = sapphireJson<Recommendation[]>(dir, 'next');
    assert.equal(recs[0]?.id, 'variance', `first: ${ids(recs).join(', ')}`);
    assert.ok(!ids(recs).includes('capacity'), 'the subsample is fitted perfectly');
    const variance = rec(recs, 'variance');
    assert.ok((variance.evidence.train_dev_gap ?? 0) > 0.1, `gap ${variance.evidence.train_dev_gap}`);
    assert.equal(variance.evidence['selection.fraction'], 0.05);
    assert.equal(variance.command, 'sapphire train linear.yaml', 'first: train on the whole split');
    assert.ok(
      variance.alternatives.some((c) => c.startsWith("sapphire sweep linear.yaml --grid 'model.C=[")),
      `regularisation sweep among ${variance.alternatives.join(' | ')}`,
    );
  });
});

describe('the coach on the fashion example (NER, crf.v1)', () => {
  let prepared: string;

  before(() => {
    prepared = tempDir('sapphire-coach-');
    cpSync(join(REPO, 'examples', 'fashion'), prepared, { recursive: true });
    sapphireJson(prepared, 'data', 'import', 'data/titles.jsonl', '--name', 'fashion-titles');
    sapphireJson(prepared, 'data', 'split', 'fashion-titles');
  });

  test('one L-BFGS iteration underfits: capacity, then the status checklist', () => {
    const dir = copyProject(prepared);
    sapphireJson(dir, 'train', 'configs/4-crf.yaml', 'model.maxIterations=1');
    const recs = sapphireJson<Recommendation[]>(dir, 'next');
    const capacity = rec(recs, 'capacity');
    assert.equal(recs[0]?.id, 'capacity');
    assert.ok((capacity.evidence['train.span_f1_micro'] ?? 1) < 0.8, 'train F1 is low');
    assert.equal(capacity.evidence['acceptance.span_f1_micro'], 0.8);
    assert.equal(capacity.command, 'sapphire train configs/4-crf.yaml model.maxIterations=200');

    const status = sapphire(dir, 'status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /✓ {2}problem/);
    assert.match(status.stdout, /✓ {2}data .*fashion-titles@\w+: train \d+ · dev \d+ · test \d+/);
    assert.match(status.stdout, /✗ {2}productize {2}no registered model yet/);
    assert.match(status.stdout, /settings \(changed from defaults\): maxIterations=1/);
    assert.match(status.stdout, /Milestone 1 of 7: by-hand examples/);
  });

  test('a 5% subsample overfits: data or regularisation, on the chosen run', () => {
    const dir = copyProject(prepared);
    const curve = sapphireJson<{ curves: { points: { runs: string[] }[] }[] }>(
      dir,
      'curve',
      'configs/4-crf.yaml',
      '--fractions',
      '0.05',
      '--seeds',
      '1',
      '--workers',
      '1',
    );
    const point = curve.curves[0]?.points[0]?.runs[0] ?? '';
    const recs = sapphireJson<Recommendation[]>(dir, 'next', '--run', point.slice(-6));
    const variance = rec(recs, 'variance');
    assert.ok(!ids(recs).includes('capacity'), 'the subsample is fitted');
    assert.ok((variance.evidence.train_dev_gap ?? 0) > 0.1, `gap ${variance.evidence.train_dev_gap}`);
    assert.equal(variance.command, 'sapphire train configs/4-crf.yaml');
    assert.ok(
      variance.alternatives.includes("sapphire sweep configs/4-crf.yaml --grid 'model.c2=[0.5,1.5,5]'"),
      `a c2 sweep among ${variance.alternatives.join(' | ')}`,
    );
  });
});
