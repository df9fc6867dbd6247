/**
 * Issue 7 acceptance: `sapphire ladder` on (a subset of) MIT Restaurant includes the neural rung (bilstm-crf.v1,
 * small and few epochs) and the ONNX rungs — an external.v1 trainer and an imported hf-onnx.v1 folder — through the
 * real CLI, kept fast by training on a slice of the data.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { COUNTING_TRAINER } from '../fixtures/onnx/tiny-hf-model.ts';
import { HAVE_SHARED, REPO, SHARED, sapphire, sapphireJson, tempDir } from './helpers.ts';

const skip = HAVE_SHARED ? false : `shared datasets not found at ${SHARED}`;
const MIT = join(SHARED, 'ner', 'mit_restaurant');

/** The first `n` sentences of a blank-line separated CoNLL-style file. */
function head(file: string, n: number): string {
  const blocks = readFileSync(file, 'utf8')
    .split(/\r?\n\s*\r?\n/)
    .filter((b) => b.trim());
  return `${blocks.slice(0, n).join('\n\n')}\n`;
}

interface LadderRow {
  name: string;
  architecture: string;
  summary: Record<string, { mean: number }>;
  failed: { run: string; error: string | null }[];
}

describe('the ladder on MIT Restaurant with neural and ONNX rungs', { skip }, () => {
  test('trains, imports and compares bilstm-crf.v1, external.v1 and hf-onnx.v1 in one table', (t) => {
    const dir = tempDir();
    assert.equal(sapphire(dir, 'init', '--task', 'ner').code, 0, 'init');
    writeFileSync(join(dir, 'train.bio'), head(join(MIT, 'restauranttrain.bio'), 600));
    writeFileSync(join(dir, 'dev.bio'), head(join(MIT, 'restaurantvalid.bio'), 150));
    writeFileSync(join(dir, 'test.bio'), head(join(MIT, 'restauranttest.bio'), 150));
    sapphireJson(
      dir,
      'data',
      'import',
      'train.bio',
      'dev.bio',
      'test.bio',
      '--name',
      'mit',
      '--splits',
      'train,dev,test',
    );

    const command = `[${COUNTING_TRAINER.map((a) => JSON.stringify(a)).join(', ')}]`;
    writeFileSync(
      join(dir, 'external.yaml'),
      `model: { architecture: external.v1, command: ${command}, cwd: ${JSON.stringify(REPO)} }\ndata: { dataset: mit }\noutput: models/counting\n`,
    );
    const trained = sapphireJson<{ test: { metrics: Record<string, number> } }>(
      dir,
      'train',
      'external.yaml',
    );
    assert.ok(
      trained.test.metrics.span_f1_micro > 0.2,
      `external.v1 learns something (${trained.test.metrics.span_f1_micro})`,
    );
    sapphireJson(dir, 'models', 'import-onnx', 'models/counting', '--name', 'imported');

    const card = readFileSync(join(dir, 'sapphire.yaml'), 'utf8').replace(/^ladder: null$/m, '');
    writeFileSync(
      join(dir, 'sapphire.yaml'),
      `${card}
ladder:
  dataset: mit
  seeds: 1
  rungs:
    - name: token-majority
      model: { architecture: token-majority.v1 }
    - name: bilstm-crf
      model: { architecture: bilstm-crf.v1, epochs: 2, wordDim: 32, hidden: 32, charDim: 16, charFilters: 16, threads: 1 }
    - name: external-onnx
      config: external.yaml
    - name: imported-onnx
      model: { architecture: hf-onnx.v1, path: ${JSON.stringify(join(dir, 'models', 'imported'))} }
`,
    );
    const ladder = sapphireJson<{ status: string; metric: string; rows: LadderRow[] }>(dir, 'ladder');
    assert.equal(ladder.status, 'finished');
    assert.deepEqual(
      ladder.rows.map((r) => [r.name, r.architecture, r.failed.length]),
      [
        ['token-majority', 'token-majority.v1', 0],
        ['bilstm-crf', 'bilstm-crf.v1', 0],
        ['external-onnx', 'external.v1', 0],
        ['imported-onnx', 'hf-onnx.v1', 0],
      ],
    );
    const score = (name: string) => ladder.rows.find((r) => r.name === name)!.summary[ladder.metric]!.mean;
    assert.equal(ladder.metric, 'test.span_f1_micro');
    t.diagnostic(ladder.rows.map((r) => `${r.name} ${score(r.name).toFixed(4)}`).join(' · '));
    assert.ok(score('bilstm-crf') > 0, `the neural rung scores (${score('bilstm-crf')})`);
    assert.ok(
      Math.abs(score('imported-onnx') - score('external-onnx')) < 1e-9,
      `the imported folder scores like the run that trained it (${score('imported-onnx')} vs ${score('external-onnx')})`,
    );
  });
});
