/**
 * NER benchmark: Sapphire's `crf.v1` against Apache OpenNLP's name finder on the same splits.
 *
 * Usage: node --import tsx bench/ner-crf.ts [--dataset mit_restaurant|wnut17] [--config '{"c2":0.5}']
 *        [--no-reference] [--model perceptron.v1]
 *
 * Reports exact-span entity F1 (conlleval semantics), training time and tagging throughput
 * (tokens/s on the main thread), prints a markdown table and writes bench/results/ner-<dataset>.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Example } from '../src/data/types.ts';
import '../src/models/crf/index.ts';
import '../src/models/perceptron/index.ts';
import type { Model } from '../src/models/model.ts';
import { createModel, loadModel } from '../src/models/registry.ts';
import { machineInfo } from './machine.ts';
import { DATASETS, datasets, readConll, spanScores } from './ner-data.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function tokensPerSecond(model: Model, inputs: Example[]): number {
  const strip = inputs.map((e) => ({ text: e.text, tokens: e.tokens }));
  const n = inputs.reduce((s, e) => s + e.tokens!.length, 0);
  const t0 = performance.now();
  model.predict(strip);
  return n / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const name = arg('dataset') ?? 'mit_restaurant';
  const spec = DATASETS[name];
  if (!spec) throw new Error(`unknown dataset ${name}; use one of ${Object.keys(DATASETS).join(', ')}`);
  if (!existsSync(join(datasets, 'ner'))) {
    console.log(`skipped: ${join(datasets, 'ner')} not found (set SAPPHIRE_DATASETS)`);
    return;
  }
  const architecture = arg('model') ?? 'crf.v1';
  const config = { ...(architecture === 'crf.v1' ? spec.config : {}), ...JSON.parse(arg('config') ?? '{}') };
  const train = readConll(spec.train, datasets);
  const dev = spec.dev ? readConll(spec.dev, datasets) : undefined;
  const test = readConll(spec.test, datasets);
  const count = (xs: Example[]) => xs.reduce((s, e) => s + e.tokens!.length, 0);
  console.log(
    `${name}: train ${train.length} sentences / ${count(train)} tokens, ${dev ? `dev ${dev.length}, ` : ''}test ${test.length} / ${count(test)} tokens`,
  );

  const loadBefore = loadavg();
  const model = createModel(architecture, config);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await model.fit(train, dev, {
    seed: 1,
    onProgress: (e) => {
      if (e.epoch % 10 === 0 || e.devScore !== undefined) {
        const dev = e.devScore !== undefined ? ` dev F1 ${e.devScore.toFixed(4)}` : '';
        process.stderr.write(`  iteration ${e.epoch}/${e.epochs} loss ${e.loss?.toFixed(1)}${dev}\n`);
      }
    },
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const trainCpu = process.cpuUsage(cpu0);
  const trainCpuSeconds = (trainCpu.user + trainCpu.system) / 1e6;
  const predictions = model.predict(test.map((e) => ({ text: e.text, tokens: e.tokens })));
  const scores = spanScores(
    test,
    predictions.map((p) => p.spans ?? []),
  );

  // Throughput: a freshly loaded model (empty caches), JIT warmed on training sentences, then one
  // timed pass over the test set; "repeat" is a second pass (word cache warm on test words too).
  const dir = await mkdtemp(join(tmpdir(), 'sapphire-bench-'));
  let throughput: number;
  let throughputRepeat: number;
  try {
    await model.save(dir);
    const loaded = await loadModel(dir);
    tokensPerSecond(loaded, train.slice(0, 2000));
    throughput = tokensPerSecond(loaded, test);
    throughputRepeat = tokensPerSecond(loaded, test);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const sapphire = {
    tool: `Sapphire ${architecture}`,
    config: model.config(),
    fit: report,
    trainSeconds,
    trainCpuSeconds,
    ...scores,
    taggingTokensPerSecond: throughput,
    taggingTokensPerSecondRepeat: throughputRepeat,
  };

  let reference: Record<string, unknown> | null = null;
  if (!process.argv.includes('--no-reference')) {
    try {
      const out = execFileSync('bash', [join(root, 'bench/reference/opennlp_ner.sh'), name], {
        encoding: 'utf8',
        env: { ...process.env, SAPPHIRE_DATASETS: datasets },
        maxBuffer: 1 << 24,
      });
      reference = JSON.parse(out.trim().split('\n').pop()!);
    } catch (err) {
      reference = { error: String((err as { stdout?: string }).stdout || err) };
    }
  }

  const num = (v: unknown) => (typeof v === 'number' ? v : Number.NaN);
  const fmt = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
  const rows: [string, number, number, number, boolean][] = [
    ['entity F1 (exact span)', scores.f1, num(reference?.f1), 4, true],
    ['precision', scores.precision, num(reference?.precision), 4, true],
    ['recall', scores.recall, num(reference?.recall), 4, true],
    ['train time (s)', trainSeconds, num(reference?.trainSeconds), 1, false],
    ['tagging (tokens/s)', throughput, num(reference?.taggingTokensPerSecond), 0, true],
  ];
  console.log(`\n| ${name} | Sapphire ${architecture} | OpenNLP | ratio (Sapphire / OpenNLP) |`);
  console.log('|---|---:|---:|---:|');
  for (const [label, ours, theirs, digits, higherIsBetter] of rows) {
    const ratio = ours / theirs;
    const note = Number.isFinite(ratio)
      ? `${ratio.toFixed(2)}× ${(higherIsBetter ? ratio >= 1 : ratio <= 1) ? '✓' : '✗'}`
      : 'n/a';
    console.log(`| ${label} | ${fmt(ours, digits)} | ${fmt(theirs, digits)} | ${note} |`);
  }
  if (reference?.error) console.log(`\nOpenNLP reference failed: ${reference.error}`);

  const results = {
    dataset: name,
    date: new Date().toISOString(),
    machine: machineInfo(loadBefore, loadavg()),
    command: `node --import tsx bench/ner-crf.ts ${process.argv.slice(2).join(' ')}`.trim(),
    sapphire,
    reference,
  };
  await mkdir(join(root, 'bench/results'), { recursive: true });
  const suffix = architecture === 'crf.v1' ? '' : `-${architecture}`;
  const file = join(root, `bench/results/ner-${name}${suffix}.json`);
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
}

await main();
