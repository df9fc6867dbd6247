/**
 * End-to-end studies through the real CLI: the acceptance runs on the shared datasets (5-fold CV of the
 * linear classifier on Banking77, a 3-point CRF learning curve on MIT Restaurant), a sweep with a crashing trial
 * and the sapphire.yaml ladder on a tiny project.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { HAVE_SHARED, SHARED, sapphire, sapphireJson, tempDir } from './helpers.ts';

const skip = HAVE_SHARED ? false : `shared datasets not found at ${SHARED}`;

interface RunRow {
  id: string;
  kind: string;
  status: string;
  parentId: string | null;
}

function listRuns(cwd: string, ...args: string[]): RunRow[] {
  const listed = sapphireJson<RunRow[] | { runs: RunRow[] }>(
    cwd,
    'runs',
    'ls',
    '--all',
    '--limit',
    '1000',
    ...args,
  );
  return Array.isArray(listed) ? listed : listed.runs;
}

describe('studies on the shared datasets', { skip }, () => {
  test('5-fold cross-validation of linear.v1 on Banking77 completes and is listed', () => {
    const dir = tempDir();
    assert.equal(sapphire(dir, 'init', '--task', 'classify').code, 0);
    sapphireJson(
      dir,
      'data',
      'import',
      join(SHARED, 'classify/banking77/train.csv'),
      '--name',
      'banking77',
      '--split',
      'train',
    );
    writeFileSync(
      join(dir, 'linear.yaml'),
      'model:\n  architecture: linear.v1\ndata:\n  dataset: banking77\n  dev: null\n  test: null\n',
    );
    const cv = sapphireJson<{
      study: string;
      status: string;
      summary: Record<string, { n: number; mean: number; std: number }>;
      folds: { run: string; status: string }[];
    }>(dir, 'cv', 'linear.yaml', '--folds', '5', '--stratify');
    assert.equal(cv.status, 'finished');
    assert.equal(cv.folds.length, 5);
    assert.ok(cv.folds.every((f) => f.status === 'finished'));
    const f1 = cv.summary['heldout.macro_f1'];
    assert.equal(f1?.n, 5);
    assert.ok(f1 && f1.mean > 0.85 && f1.std < 0.05, `macro F1 ${f1?.mean} ± ${f1?.std}`);
    const runs = listRuns(dir);
    assert.ok(runs.some((r) => r.id === cv.study && r.kind === 'cv' && r.status === 'finished'));
    assert.equal(runs.filter((r) => r.parentId === cv.study && r.kind === 'fold').length, 5);
  });

  test('a 3-point learning curve of crf.v1 on MIT Restaurant completes and is listed', () => {
    const dir = tempDir();
    assert.equal(sapphire(dir, 'init', '--task', 'ner').code, 0);
    const mit = join(SHARED, 'ner/mit_restaurant');
    sapphireJson(
      dir,
      'data',
      'import',
      join(mit, 'restauranttrain.bio'),
      join(mit, 'restauranttest.bio'),
      '--name',
      'mit',
      '--splits',
      'train,test',
    );
    writeFileSync(
      join(dir, 'crf.yaml'),
      'model:\n  architecture: crf.v1\ndata:\n  dataset: mit\n  dev: null\n',
    );
    const run = sapphire(dir, 'curve', 'crf.yaml', '--fractions', '0.1,0.25,0.5', '--seeds', '1');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /766\s+0\.\d{4}/, 'the 10% point trains on 766 sentences');
    assert.match(run.stdout, /Doubling the data to 7660 examples: ≈ 0\.\d+/);
    const study = /Study (r-\S+):/.exec(run.stdout)?.[1] ?? assert.fail(run.stdout);
    const runs = listRuns(dir);
    assert.ok(runs.some((r) => r.id === study && r.kind === 'curve'));
    assert.equal(runs.filter((r) => r.parentId === study && r.kind === 'curve-point').length, 3);
  });
});

/** 90 short texts in three classes, as JSONL. */
function topicsJsonl(): string {
  const words: Record<string, string[]> = {
    fruit: ['apple', 'banana', 'cherry', 'mango', 'pear'],
    vehicle: ['car', 'truck', 'bus', 'bike', 'tram'],
    color: ['red', 'blue', 'green', 'yellow', 'purple'],
  };
  const lines: string[] = [];
  for (const [label, list] of Object.entries(words))
    for (let i = 0; i < 30; i++)
      lines.push(
        JSON.stringify({ text: `we like the ${list[i % 5]} and the ${list[(i * 3 + 1) % 5]} ${i}`, label }),
      );
  return `${lines.join('\n')}\n`;
}

describe('studies on a tiny project', () => {
  let dir: string;
  before(() => {
    dir = tempDir();
    assert.equal(sapphire(dir, 'init', '--task', 'classify').code, 0);
    writeFileSync(join(dir, 'topics.jsonl'), topicsJsonl());
    sapphireJson(dir, 'data', 'import', 'topics.jsonl', '--name', 'topics');
    sapphireJson(dir, 'data', 'split', 'topics');
    writeFileSync(
      join(dir, 'linear.yaml'),
      'model:\n  architecture: linear.v1\n  features: { hashBits: 12 }\ndata:\n  dataset: topics\n',
    );
  });

  test('a sweep whose trial crashes records it as failed and still finishes the rest', () => {
    const run = sapphire(dir, 'sweep', 'linear.yaml', '--grid', 'model.C=[0.1,-1,1]', '--name', 'c-sweep');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /failed: .*C/);
    assert.match(run.stdout, /Best: model\.C=/);
    const study = /Study (r-\S+):/.exec(run.stdout)?.[1] ?? assert.fail(run.stdout);
    assert.ok(existsSync(join(dir, 'models', study, 'training.json')), 'the best model is written out');
    const trials = listRuns(dir).filter((r) => r.parentId === study);
    assert.deepEqual(trials.map((t) => t.status).sort(), ['failed', 'finished', 'finished']);
  });

  test('random search draws the asked number of trials', () => {
    const sweep = sapphireJson<{ trials: { values: Record<string, number>; status: string }[] }>(
      dir,
      'sweep',
      'linear.yaml',
      '--random',
      '3',
      'model.C=loguniform(0.01,10)',
      '--workers',
      '0',
    );
    assert.equal(sweep.trials.length, 3);
    assert.deepEqual(
      sweep.trials.map((t) => t.status),
      ['finished', 'finished', 'finished'],
      'in-process trials (--workers 0) find the registered models',
    );
    for (const t of sweep.trials)
      assert.ok((t.values['model.C'] ?? 0) >= 0.01 && (t.values['model.C'] ?? 99) <= 10);
  });

  test('nested cross-validation reports the outer estimate and the choice per fold', () => {
    const nested = sapphireJson<{
      summary: Record<string, { n: number }>;
      outer: { chosen: Record<string, unknown> | null }[];
    }>(
      dir,
      'cv',
      'linear.yaml',
      '--folds',
      '2',
      '--nested',
      '2',
      '--search',
      'model.C=[0.1,1]',
      '--pool',
      'train,dev',
    );
    assert.equal(nested.outer.length, 2);
    assert.ok(nested.outer.every((f) => f.chosen !== null));
    assert.equal(nested.summary['heldout.macro_f1']?.n, 2);
  });

  test('the ladder of sapphire.yaml prints one table over seeds', () => {
    const card = readFileSync(join(dir, 'sapphire.yaml'), 'utf8');
    assert.match(card, /^ladder: null$/m, 'init writes an empty ladder section');
    writeFileSync(
      join(dir, 'sapphire.yaml'),
      card.replace(/^ladder: null$/m, '') +
        '\nladder:\n  dataset: topics\n  seeds: 2\n  rungs:\n    - name: majority\n      model: { architecture: majority.v1 }\n    - name: linear\n      config: linear.yaml\n',
    );
    const run = sapphire(dir, 'ladder');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /majority\s+majority\.v1\s+\d\.\d{4} ± \d\.\d{4}/);
    assert.match(run.stdout, /linear\s+linear\.v1/);
    assert.match(run.stdout, /2 seed\(s\): 13, 14/);
  });

  test('bad study arguments are explained', () => {
    const noGrid = sapphire(dir, 'sweep', 'linear.yaml');
    assert.equal(noGrid.code, 1);
    assert.match(noGrid.stderr, /needs --grid dimensions or --random N/);
    const badSpec = sapphire(dir, 'sweep', 'linear.yaml', '--random', '2', 'model.C=lognormal(1,2)');
    assert.equal(badSpec.code, 1);
    assert.match(badSpec.stderr, /error\[BAD_INPUT\]/);
    const badFolds = sapphire(dir, 'cv', 'linear.yaml', '--folds', '1');
    assert.match(badFolds.stderr, /--folds 1 must be a whole number ≥ 2/);
  });
});
