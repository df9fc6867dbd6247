/**
 * Micro-benchmark of the pure-TypeScript neural engine, on the workload of `../shared/notes/engine.md`
 * so the numbers compare with its table: BiLSTM tagger, vocab 20k, embedding 100, 100 units per
 * direction, 9 tags (softmax, and the same with a CRF), batch 32 × 40 tokens, Adam.
 *
 * Usage: node --import tsx bench/neural-engine.ts [--steps 10] [--no-crf] [--no-threads] [--no-torch]
 *        SAPPHIRE_GEMM=js node --import tsx bench/neural-engine.ts   (the plain-TypeScript GEMM)
 *
 * Prints GEMM GFLOP/s (256³, plain and transposed operands, against a naive loop), training tokens/s
 * on 1 thread and data-parallel on 2 threads, single-sentence (40 tokens) inference latency and
 * batched inference tokens/s; writes bench/results/neural-engine.json (neural-engine-js.json with
 * the TypeScript GEMM).
 *
 * In the same run, the reference: the same BiLSTM-CRF in Debian's PyTorch
 * (`bench/reference/torch_bilstm_crf.py`, run by `/usr/bin/python3`), once stock (Debian's reference
 * BLAS, torch's default threads) and once with OpenBLAS (torch threads 1, OPENBLAS_NUM_THREADS=2).
 * The BLAS is chosen per process with LD_LIBRARY_PATH (Debian resolves `libblas.so.3` through
 * update-alternatives; the machine's setting is left alone). Needs `python3-torch`, `libblas3`,
 * `liblapack3` and `libopenblas0-pthread`; skipped with a note when missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '../src/core/rng.ts';
import { DataParallel } from '../src/models/neural/engine/data-parallel.ts';
import { gemm, gemmNaive } from '../src/models/neural/engine/gemm.ts';
import { Adam } from '../src/models/neural/engine/optim.ts';
import { zeroGrad } from '../src/models/neural/engine/tensor.ts';
import { type BenchSentence, BenchTagger, WORKLOAD } from './neural-engine-model.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const steps = Number(args[args.indexOf('--steps') + 1] || 10) || 10;
const withCrf = !args.includes('--no-crf');
const withThreads = !args.includes('--no-threads');
const withTorch = !args.includes('--no-torch');
const jsGemm = process.env.SAPPHIRE_GEMM === 'js';
const BATCH = 32;
const LEN = 40;
const LR = 1e-3;

function timeIt(fn: () => void, minMs = 400): number {
  fn();
  let reps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    fn();
    reps++;
  }
  return (performance.now() - t0) / reps;
}

function gemmGflops(): Record<string, number> {
  const n = 256;
  const rng = createRng(1);
  const a = Float32Array.from({ length: n * n }, () => rng.next() - 0.5);
  const b = Float32Array.from({ length: n * n }, () => rng.next() - 0.5);
  const c = new Float32Array(n * n);
  const flops = 2 * n * n * n;
  const out: Record<string, number> = {};
  for (const [name, ta, tb] of [
    ['A·B', false, false],
    ['Aᵀ·B', true, false],
    ['A·Bᵀ', false, true],
  ] as const) {
    for (let w = 0; w < 20; w++) gemm(ta, tb, n, n, n, 1, a, 0, n, b, 0, n, 0, c, 0, n);
    const ms = timeIt(() => gemm(ta, tb, n, n, n, 1, a, 0, n, b, 0, n, 0, c, 0, n), 1000);
    out[name] = +(flops / ms / 1e6).toFixed(2);
  }
  const naiveMs = timeIt(() => gemmNaive(false, false, n, n, n, 1, a, 0, n, b, 0, n, 0, c, 0, n), 1000);
  out['naive A·B'] = +(flops / naiveMs / 1e6).toFixed(2);
  return out;
}

function randomBatches(count: number, batch: number): BenchSentence[][] {
  const rng = createRng(7);
  return Array.from({ length: count }, () =>
    Array.from({ length: batch }, () => ({
      ids: Array.from({ length: LEN }, () => rng.int(WORKLOAD.vocab)),
      tags: Array.from({ length: LEN }, () => rng.int(WORKLOAD.tags)),
    })),
  );
}

async function benchTagger(crf: boolean) {
  const batches = randomBatches(4, BATCH);
  const model = new BenchTagger({ crf });
  const adam = new Adam(model.params());
  const step = (b: BenchSentence[]) => {
    zeroGrad(model.params());
    model.lossAndGrad(b);
    adam.step(LR);
  };
  for (let w = 0; w < 6; w++) step(batches[w % batches.length]!); // warm-up (JIT, wasm tier-up)
  let t0 = performance.now();
  for (let s = 0; s < steps; s++) step(batches[s % batches.length]!);
  const trainSec = (performance.now() - t0) / 1000;
  const one = randomBatches(1, 1)[0]!;
  const latencyMs = timeIt(() => model.predict(one), 1000);
  const batchMs = timeIt(() => model.predict(batches[0]!), 1000);
  let twoThreads: number | undefined;
  if (withThreads) {
    const dp = await DataParallel.start(
      {
        module: new URL('./neural-engine-model.ts', import.meta.url).href,
        factory: 'createBenchTagger',
        options: { crf },
      },
      { threads: 2 },
    );
    try {
      const dpAdam = new Adam(dp.model.params());
      for (let w = 0; w < 3; w++) {
        await dp.lossAndGrad(batches[w]!);
        dpAdam.step(LR);
      }
      t0 = performance.now();
      for (let s = 0; s < steps; s++) {
        await dp.lossAndGrad(batches[s % batches.length]!);
        dpAdam.step(LR);
      }
      twoThreads = Math.round((steps * BATCH * LEN) / ((performance.now() - t0) / 1000));
    } finally {
      await dp.close();
    }
  }
  return {
    trainTokensPerSec: Math.round((steps * BATCH * LEN) / trainSec),
    trainTokensPerSec2Threads: twoThreads,
    sentenceLatencyMs: +latencyMs.toFixed(2),
    inferenceTokensPerSec: Math.round((BATCH * LEN) / (batchMs / 1000)),
  };
}

const LIB = '/usr/lib/x86_64-linux-gnu';
/** The PyTorch reference settings: which BLAS directories come first, and the thread counts. */
const TORCH_SETTINGS = [
  {
    name: 'PyTorch stock (reference BLAS)',
    key: 'stock',
    libraryPath: `${LIB}/blas:${LIB}/lapack`,
    env: {},
    threads: 0,
  },
  {
    name: 'PyTorch + OpenBLAS (torch 1 thread, OpenBLAS 2)',
    key: 'openblas',
    libraryPath: `${LIB}/openblas-pthread`,
    env: { OPENBLAS_NUM_THREADS: '2' },
    threads: 1,
  },
] as const;

/** Runs the PyTorch reference once per setting; an `error` entry says why one could not run. */
function benchTorch(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of TORCH_SETTINGS) {
    const dir = s.libraryPath.split(':')[0]!;
    if (!existsSync('/usr/bin/python3') || !existsSync(`${dir}/libblas.so.3`)) {
      out[s.key] = { error: `needs /usr/bin/python3 with python3-torch and ${dir}/libblas.so.3` };
      continue;
    }
    const run = spawnSync(
      '/usr/bin/python3',
      [
        join(root, 'bench/reference/torch_bilstm_crf.py'),
        '--steps',
        String(steps),
        '--threads',
        String(s.threads),
      ],
      {
        encoding: 'utf8',
        timeout: 900_000,
        env: { ...process.env, ...s.env, LD_LIBRARY_PATH: s.libraryPath },
      },
    );
    const line = run.stdout?.trim().split('\n').pop() ?? '';
    try {
      out[s.key] = { setting: s.name, ...(JSON.parse(line) as Record<string, unknown>) };
    } catch {
      out[s.key] = { error: `${run.error?.message ?? ''} ${run.stderr?.slice(-500) ?? ''}`.trim() };
    }
    console.log(`${s.name}:`, out[s.key]);
  }
  return out;
}

const loadBefore = loadavg()[0]!;
const gemmResults = gemmGflops();
console.log('GEMM 256³ GFLOP/s:', gemmResults);
const softmax = await benchTagger(false);
console.log('BiLSTM + softmax:', softmax);
const crf = withCrf ? await benchTagger(true) : undefined;
if (crf) console.log('BiLSTM + CRF:', crf);
const torch = withTorch && crf ? benchTorch() : undefined;
const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  gemmBackend: jsGemm ? 'js' : 'wasm-simd',
  loadAverageBefore: loadBefore,
  loadAverageAfter: loadavg()[0]!,
  workload: { ...WORKLOAD, batch: BATCH, tokens: LEN, steps },
  gemm256GFlops: gemmResults,
  bilstmSoftmax: softmax,
  bilstmCrf: crf,
  pytorchBilstmCrf: torch,
};
const file = join(root, 'bench', 'results', `neural-engine${jsGemm ? '-js' : ''}.json`);
await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `\nGEMM backend: ${result.gemmBackend}; load average ${loadBefore.toFixed(2)} → ${result.loadAverageAfter.toFixed(2)}`,
);
console.log(
  '| model | train tokens/s (1 thread) | train tokens/s (2 threads) | 1 sentence (40 tok) | inference tokens/s (batch 32) |',
);
console.log('|---|---|---|---|---|');
for (const [name, r] of [
  ['BiLSTM + softmax', softmax],
  ['BiLSTM + CRF', crf],
] as const) {
  if (!r) continue;
  console.log(
    `| ${name} | ${r.trainTokensPerSec} | ${r.trainTokensPerSec2Threads ?? '–'} | ${r.sentenceLatencyMs} ms | ${r.inferenceTokensPerSec} |`,
  );
}
if (torch && crf) {
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const stock = num(torch.stock?.trainTokensPerSec);
  const openblas = num(torch.openblas?.trainTokensPerSec);
  const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}×` : '–');
  console.log('\nBiLSTM-CRF training, same architecture and sizes:');
  console.log('| engine | train tokens/s | vs PyTorch stock | vs PyTorch + OpenBLAS |');
  console.log('|---|---:|---:|---:|');
  const rows: [string, number | undefined][] = [
    [`Sapphire (${result.gemmBackend}), 1 thread`, crf.trainTokensPerSec],
    [`Sapphire (${result.gemmBackend}), 2 threads`, crf.trainTokensPerSec2Threads],
    [TORCH_SETTINGS[0].name, stock],
    [TORCH_SETTINGS[1].name, openblas],
  ];
  for (const [name, v] of rows) {
    console.log(`| ${name} | ${v ?? '–'} | ${ratio(v, stock)} | ${ratio(v, openblas)} |`);
  }
}
console.log(`wrote ${file}`);
