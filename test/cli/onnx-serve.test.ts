/**
 * End to end through the real binary: a BiLSTM-CRF is trained, exported with `sapphire models export-onnx`,
 * registered and promoted, then `sapphire serve` runs it natively and with `--runtime onnx` (onnxruntime-node):
 * both give the same entities. A model that cannot be exported gets a clear error.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { TINY_TRAIN } from '../models/features/tiny-ner.ts';
import { REPO, sapphire, sapphireJson, tempDir } from './helpers.ts';

let dir = '';
const servers: ChildProcess[] = [];

before(() => {
  dir = tempDir('sapphire-onnx-serve-');
  writeFileSync(
    join(dir, 'sapphire.yaml'),
    ['name: people', 'task: ner', 'labels: [PER, LOC, ORG]', 'metrics: { primary: span_f1_micro }', ''].join(
      '\n',
    ),
  );
  const lines: string[] = [];
  for (let copy = 0; copy < 4; copy++) {
    for (const e of TINY_TRAIN)
      lines.push(JSON.stringify({ id: `${e.id}-${copy}`, text: e.text, spans: e.spans }));
  }
  writeFileSync(join(dir, 'people.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(
    join(dir, 'bilstm.yaml'),
    [
      'model: { architecture: bilstm-crf.v1, wordDim: 12, charDim: 6, charFilters: 6, hidden: 8, dropout: 0, wordDropout: 0, epochs: 12, batchSize: 4, learningRate: 0.03, threads: 1 }',
      'data: { dataset: people }',
      'seed: 3',
      'output: models/ner',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'majority.yaml'),
    'model: { architecture: token-majority.v1 }\ndata: { dataset: people }\nseed: 3\noutput: models/majority\n',
  );
});

after(() => {
  for (const s of servers) s.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function ok(args: string[]): string {
  const run = sapphire(dir, ...args);
  assert.equal(run.code, 0, `sapphire ${args.join(' ')} failed: ${run.stderr}`);
  return run.stdout;
}

const TEXTS = [
  'Anna Schmidt works for Globex in Berlin .',
  'Bob flew from Paris to New York with Carla Diaz .',
  'Nothing here .',
  'Eve',
];

/** Starts `sapphire serve` with extra flags; returns its URL and the models line once ready. */
async function serve(...flags: string[]): Promise<{ url: string; models: { runtime: string }[] }> {
  const server = spawn(
    process.execPath,
    [join(REPO, 'bin', 'sapphire.js'), 'serve', '--port', '0', '--no-auth', '--json', ...flags],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SAPPHIRE_STORE: '' } },
  );
  servers.push(server);
  let stderr = '';
  server.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  for await (const line of createInterface({ input: server.stdout! })) {
    try {
      const parsed = JSON.parse(line) as { url?: string; ready?: boolean; models?: { runtime: string }[] };
      if (parsed.url) {
        assert.equal(parsed.ready, true, `the server is ready (stderr: ${stderr})`);
        return { url: parsed.url, models: parsed.models ?? [] };
      }
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
    }
  }
  throw new Error(`the server printed no URL (stderr: ${stderr})`);
}

type Entities = { start: number; end: number; label: string }[];

async function entities(url: string): Promise<Entities[]> {
  const response = await fetch(`${url}/v1/models/ner/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ texts: TEXTS }),
  });
  const body = (await response.json()) as { results: { entities: Entities }[] };
  assert.equal(response.status, 200, JSON.stringify(body));
  return body.results.map((r) => r.entities.map(({ start, end, label }) => ({ start, end, label })));
}

test('export-onnx + serve --runtime onnx gives the same entities as the native model', async () => {
  ok(['data', 'import', 'people.jsonl', '--name', 'people']);
  ok(['data', 'split', 'people', '--ratios', '0.75,0.25']);
  ok(['train', 'bilstm.yaml']);
  const exported = sapphireJson<{ file: string; inputs: string[]; output: string; maxAbsDiff: number }>(
    dir,
    'models',
    'export-onnx',
    'models/ner',
    '--out',
    'onnx-ner',
  );
  assert.ok(existsSync(join(dir, 'onnx-ner', 'model.onnx')), 'model.onnx written');
  assert.ok(existsSync(join(dir, 'onnx-ner', 'vocab.json')), 'vocabulary written beside it');
  assert.deepEqual(exported.inputs.sort(), ['char_ids', 'lengths', 'word_ids'], 'graph inputs');
  assert.equal(exported.output, 'emissions', 'graph output');
  assert.ok(exported.maxAbsDiff <= 1e-5, `ORT matches TS on the probe (${exported.maxAbsDiff})`);

  const text = TEXTS[1]!;
  const predicted = (runtime: string) =>
    sapphireJson<{ spans: Entities }[]>(
      dir,
      'predict',
      'onnx-ner',
      '--text',
      text,
      '--runtime',
      runtime,
    )[0]!.spans.map(({ start, end, label }) => ({ start, end, label }));
  const viaNativeCli = predicted('native');
  assert.ok(viaNativeCli.length > 0, 'the model finds entities in the predicted text');
  assert.deepEqual(predicted('onnx'), viaNativeCli, 'sapphire predict --runtime onnx gives the native spans');

  ok(['models', 'register', 'onnx-ner', '--name', 'ner']);
  ok(['promote', 'ner@1', '--force', '--reason', 'e2e test']);

  const native = await serve();
  assert.equal(native.models[0]?.runtime, 'native', 'served natively by default');
  const viaNative = await entities(native.url);
  servers.pop()?.kill('SIGTERM');

  const onnx = await serve('--runtime', 'onnx');
  assert.equal(onnx.models[0]?.runtime, 'onnx', 'served through ONNX Runtime');
  const viaOnnx = await entities(onnx.url);
  servers.pop()?.kill('SIGTERM');

  assert.ok(viaNative.flat().length > 0, `the model finds entities: ${JSON.stringify(viaNative)}`);
  assert.deepEqual(viaOnnx, viaNative, 'same entities through ONNX Runtime');
});

test('export-onnx refuses a model that cannot be exported, with a clear error', () => {
  ok(['train', 'majority.yaml']);
  const run = sapphire(dir, 'models', 'export-onnx', 'models/majority', '--out', 'onnx-majority');
  assert.notEqual(run.code, 0, 'exit code is non-zero');
  assert.match(run.stderr, /token-majority\.v1 models cannot be exported to ONNX/, run.stderr);
  assert.match(run.stderr, /crf\.v1/, 'the hint names the exportable architectures');
});
