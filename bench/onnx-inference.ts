/**
 * Inference of the BiLSTM-CRF tagger (`bilstm-crf.v1`) through onnxruntime-node, side by side with the
 * TypeScript engine (and PyTorch 1.13 from Debian when `/usr/bin/python3 -c 'import torch'` works), on the
 * workload of `../shared/notes/engine.md`: vocabulary 20k, word embedding 100, 100 LSTM units per direction,
 * 9 tags, batches of 32 sentences × 40 tokens; with the registered model's default char-CNN (25-d chars,
 * 30 filters) and without it (the notes' words-only network).
 *
 * Usage: node --import tsx bench/onnx-inference.ts [--seconds 2] [--no-torch]
 *
 * For each engine: "scores" = the network alone (emissions for prepared ids), "end to end" = `predict` /
 * `predictAsync` on raw texts (tokenisation, vocabulary lookup, scores, Viterbi and exact span
 * probabilities). Batched tokens/s over 32 × 40-token sentences; single-sentence latency (one 40-token
 * sentence) as median and p99. Writes bench/results/onnx-inference.json.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '../src/core/rng.ts';
import type { Example } from '../src/data/types.ts';
import '../src/models/index.ts';
import type { ModelInput } from '../src/models/model.ts';
import type { NeuralTagger } from '../src/models/neural/taggers/neural-tagger.ts';
import { createOrtSession, OnnxRuntimeModel, runFeeds } from '../src/models/onnx/onnx-runtime.ts';
import { OrtWorkerPool } from '../src/models/onnx/ort-pool.ts';
import { createModel } from '../src/models/registry.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1] || 2) || 2;
const withTorch = !args.includes('--no-torch');
const VOCAB = 20_000;
const BATCH = 32;
const LEN = 40;
const TYPES = ['LOC', 'MISC', 'ORG', 'PER']; // BIO over 4 types: 9 tags

/** Training data that makes a 20k-word vocabulary (each word once) with entities of every type. */
function syntheticTrain(): Example[] {
  const rng = createRng(11);
  const out: Example[] = [];
  for (let s = 0; s * LEN < VOCAB; s++) {
    const words = Array.from({ length: LEN }, (_, i) => `w${s * LEN + i}`);
    const text = words.join(' ');
    const spans = [0, 10, 20, 30].map((t, k) => {
      const start = words.slice(0, t).join(' ').length + (t > 0 ? 1 : 0);
      return { start, end: start + words[t]!.length, label: TYPES[(k + rng.int(4)) % 4]! };
    });
    out.push({ id: `s${s}`, text, spans, meta: {} });
  }
  return out;
}

/** Probe sentences: 40 tokens drawn from the vocabulary (a few unknown words). */
function probeTexts(n: number, seed: number): ModelInput[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => ({
    text: Array.from({ length: LEN }, () => (rng.next() < 0.05 ? 'unseen' : `w${rng.int(VOCAB)}`)).join(' '),
  }));
}

/** Runs `fn` for `seconds` (after one warm-up call); returns the per-call wall times in ms and the process CPU ms per call. */
async function timeCalls(fn: () => unknown): Promise<{ times: number[]; cpuMsPerCall: number }> {
  await fn();
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  return { times, cpuMsPerCall: (cpu.user + cpu.system) / 1000 / times.length };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p99 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;

interface Row {
  network: string;
  engine: string;
  part: 'scores' | 'end to end';
  batchTokensPerSecond: number;
  /** Batched tokens per second of process CPU time (all threads): what the work costs, less sensitive to a busy machine. */
  batchTokensPerCpuSecond?: number;
  singleMedianMs: number;
  singleP99Ms: number;
}

async function measure(
  network: string,
  engine: string,
  part: Row['part'],
  batch: () => unknown,
  single: () => unknown,
  tokensPerBatchCall = BATCH * LEN,
): Promise<Row> {
  const { times: bt, cpuMsPerCall } = await timeCalls(batch);
  const { times: st } = await timeCalls(single);
  const row = {
    network,
    engine,
    part,
    batchTokensPerSecond: Math.round(tokensPerBatchCall / (median(bt) / 1000)),
    batchTokensPerCpuSecond: Math.round(tokensPerBatchCall / (cpuMsPerCall / 1000)),
    singleMedianMs: Number(median(st).toFixed(3)),
    singleP99Ms: Number(p99(st).toFixed(3)),
  };
  console.log(
    `${network.padEnd(22)} ${engine.padEnd(38)} ${part.padEnd(10)} ${String(row.batchTokensPerSecond).padStart(9)} tok/s (${row.batchTokensPerCpuSecond} per CPU-s)  1 sentence ${row.singleMedianMs} ms (p99 ${row.singleP99Ms})`,
  );
  return row;
}

async function benchNetwork(name: string, config: Record<string, unknown>): Promise<Row[]> {
  const model = createModel('bilstm-crf.v1', {
    hidden: 100,
    wordDim: 100,
    epochs: 1,
    batchSize: 64,
    threads: 1,
    minWordCount: 1,
    ...config,
  }) as NeuralTagger;
  const t0 = performance.now();
  await model.fit(syntheticTrain(), undefined, { seed: 1 });
  console.log(
    `${name}: trained 1 epoch for the weights in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const batch = probeTexts(BATCH, 2);
  const one = probeTexts(1, 3);
  const rows: Row[] = [];
  const jobB = model.onnxScoring(batch);
  const jobS = model.onnxScoring(one);
  rows.push(
    await measure(
      name,
      'TypeScript engine (wasm GEMM)',
      'scores',
      () => jobB.nativeScores(0),
      () => jobS.nativeScores(0),
    ),
  );
  rows.push(
    await measure(
      name,
      'TypeScript engine (wasm GEMM)',
      'end to end',
      () => model.predict(batch),
      () => model.predict(one),
    ),
  );
  const graph = model.toOnnx();
  for (const [threads, spin] of [
    [1, false],
    [2, false],
    [2, true],
  ] as const) {
    const engine = `onnxruntime-node, ${threads} thread${threads > 1 ? 's' : ''}${spin ? ', spinning' : ''}`;
    const session = await createOrtSession(graph.bytes, { threads, spin });
    const feedsB = jobB.feeds(0);
    const feedsS = jobS.feeds(0);
    rows.push(
      await measure(
        name,
        engine,
        'scores',
        () => runFeeds(session, feedsB, graph.output),
        () => runFeeds(session, feedsS, graph.output),
      ),
    );
    await session.release();
    const ortModel = await OnnxRuntimeModel.fromModel(model, { threads, spin });
    rows.push(
      await measure(
        name,
        engine,
        'end to end',
        () => ortModel.predictAsync(batch),
        () => ortModel.predictAsync(one),
      ),
    );
    await ortModel.close();
  }
  // Data parallel: two worker threads with one single-threaded session each, on 4 chunks of 64 sentences
  // (predictions are scored in chunks of 64), so both cores score at once; throughput per token as above.
  const many = probeTexts(256, 5);
  const jobMany = model.onnxScoring(many);
  const pool = await OrtWorkerPool.create(graph.bytes, graph.output, { workers: 2, threads: 1 });
  const engine = 'onnxruntime-node, 2 workers × 1 thread';
  rows.push(
    await measure(
      name,
      engine,
      'scores',
      () => pool.score(jobMany),
      () => pool.run(jobS.feeds(0)),
      256 * LEN,
    ),
  );
  await pool.close();
  const pooled = await OnnxRuntimeModel.fromModel(model, { threads: 1, workers: 2 });
  rows.push(
    await measure(
      name,
      engine,
      'end to end',
      () => pooled.predictAsync(many),
      () => pooled.predictAsync(one),
      256 * LEN,
    ),
  );
  await pooled.close();
  return rows;
}

/** PyTorch rows from bench/reference/bilstm_crf_inference.py, or a reason why there are none. */
function torchRows(): { rows: Row[]; note?: string } {
  if (!withTorch) return { rows: [], note: 'skipped (--no-torch)' };
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch; print(torch.__version__)'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0)
    return { rows: [], note: 'PyTorch not installed (/usr/bin/python3 -c "import torch" fails)' };
  const run = spawnSync(
    '/usr/bin/python3',
    [join(root, 'bench', 'reference', 'bilstm_crf_inference.py'), '--seconds', String(seconds)],
    { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '2' } },
  );
  if (run.status !== 0) return { rows: [], note: `PyTorch reference failed: ${run.stderr.slice(-500)}` };
  const rows = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Row[];
  for (const r of rows)
    console.log(
      `${r.network.padEnd(22)} ${r.engine.padEnd(38)} ${r.part.padEnd(10)} ${String(r.batchTokensPerSecond).padStart(9)} tok/s  1 sentence ${r.singleMedianMs} ms (p99 ${r.singleP99Ms})`,
    );
  return { rows, note: `PyTorch ${probe.stdout.trim()} (Debian), scores only, no CRF decoding` };
}

const loadBefore = loadavg();
console.log(
  `load average before: ${loadBefore.map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} cores`,
);
const rows = [
  ...(await benchNetwork('words + char-CNN', {})),
  ...(await benchNetwork('words only', { charFilters: 0 })),
];
const torch = torchRows();
const loadAfter = loadavg();
console.log(`load average after: ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`);
await writeFile(
  join(root, 'bench', 'results', 'onnx-inference.json'),
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadAfter,
      workload: { vocab: VOCAB, wordDim: 100, hidden: 100, tags: 9, batch: BATCH, tokens: LEN },
      rows: [...rows, ...torch.rows],
      torch: torch.note ?? null,
    },
    null,
    2,
  )}\n`,
);
