/**
 * Banking77 intent classification: linear.v1 (hinge and logistic) against scikit-learn (TF-IDF word 1–2 +
 * char_wb 2–5 + LinearSVC) and `fasttext supervised`, in the same run.
 *
 * Run: node --import tsx bench/classify-banking77.ts [--skip-reference] [--runs N]
 * Writes bench/results/classify-banking77.json and prints a markdown table.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDataset } from '../src/data/formats/index.ts';
import type { Example } from '../src/data/types.ts';
import { LinearModel } from '../src/models/linear/index.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = resolve(repoRoot, '..', 'shared', 'datasets', 'classify', 'banking77');
const resultsFile = join(repoRoot, 'bench', 'results', 'classify-banking77.json');
const args = process.argv.slice(2);
const skipReference = args.includes('--skip-reference');
const runs = Number(args[args.indexOf('--runs') + 1]) || 1;

async function readSplit(name: string): Promise<Example[]> {
  const file = join(dataDir, `${name}.csv`);
  const { examples, problems } = await readDataset(file, {
    format: 'csv',
    textColumn: 'text',
    labelColumn: 'category',
    task: 'classify',
  });
  if (problems.length > 0) console.error(`${file}: ${problems.length} problem rows left out`);
  return examples;
}

function macroF1(gold: string[], predicted: string[]): number {
  const labels = new Set(gold);
  let sum = 0;
  for (const label of labels) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    gold.forEach((g, i) => {
      const p = predicted[i];
      if (p === label && g === label) tp++;
      else if (p === label) fp++;
      else if (g === label) fn++;
    });
    sum += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return sum / labels.size;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface OursResult {
  tool: string;
  config: Record<string, unknown>;
  trainSeconds: number;
  trainSecondsRuns: number[];
  accuracy: number;
  macroF1: number;
  predictSeconds: number;
  throughputPerSecond: number;
  singlePredictMedianMs: number;
  features: unknown;
}

async function benchOurs(label: string, config: Record<string, unknown>, train: Example[], test: Example[]) {
  const times: number[] = [];
  let model = new LinearModel(config);
  let report: Awaited<ReturnType<LinearModel['fit']>> | null = null;
  for (let r = 0; r < runs; r++) {
    model = new LinearModel(config);
    const start = performance.now();
    report = await model.fit(train, undefined, { seed: 1 });
    times.push((performance.now() - start) / 1000);
  }
  const inputs = test.map((e) => ({ text: e.text }));
  const start = performance.now();
  const predictions = model.predict(inputs);
  const predictSeconds = (performance.now() - start) / 1000;
  const predicted = predictions.map((p) => p.labels![0]!);
  const gold = test.map((e) => e.labels![0]!);
  const accuracy = predicted.filter((p, i) => p === gold[i]).length / gold.length;
  const single = inputs.slice(0, 1000);
  for (const input of single.slice(0, 100)) model.predict([input]); // warm-up
  const latencies = single.map((input) => {
    const t0 = performance.now();
    model.predict([input]);
    return performance.now() - t0;
  });
  const result: OursResult = {
    tool: label,
    config: model.config(),
    trainSeconds: median(times),
    trainSecondsRuns: times,
    accuracy,
    macroF1: macroF1(gold, predicted),
    predictSeconds,
    throughputPerSecond: inputs.length / predictSeconds,
    singlePredictMedianMs: median(latencies),
    features: report?.info?.features,
  };
  console.error(`${label}: ${JSON.stringify({ ...result, config: undefined })}`);
  return result;
}

function runReference(command: string, commandArgs: string[]): Record<string, unknown> | null {
  const run = spawnSync(command, [...commandArgs, dataDir], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (run.error || run.status !== 0) {
    console.error(`${command} ${commandArgs.join(' ')} failed: ${run.error?.message ?? run.stderr}`);
    return null;
  }
  const line = run.stdout.trim().split('\n').pop()!;
  try {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    console.error(`${commandArgs.at(-1)}: ${line}`);
    return parsed.error ? null : parsed;
  } catch {
    console.error(`could not parse the output of ${command}: ${line}`);
    return null;
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(dataDir, 'train.csv'))) {
    console.error(`banking77 not found at ${dataDir}; see ../shared/datasets/README.md`);
    process.exit(1);
  }
  const train = await readSplit('train');
  const test = await readSplit('test');
  const ours = [
    await benchOurs('linear.v1 hinge', { loss: 'hinge' }, train, test),
    await benchOurs('linear.v1 logistic', { loss: 'logistic' }, train, test),
  ];
  const sklearn =
    !skipReference && existsSync('/usr/bin/python3')
      ? runReference('/usr/bin/python3', [join('bench', 'reference', 'sklearn_banking77.py')])
      : null;
  const fasttext = !skipReference
    ? runReference('bash', [join('bench', 'reference', 'fasttext_banking77.sh')])
    : null;

  const fmt = (v: unknown, digits = 3) => (typeof v === 'number' ? v.toFixed(digits) : '–');
  const ratio = (a: unknown, b: unknown) =>
    typeof a === 'number' && typeof b === 'number' && b !== 0 ? `${(a / b).toFixed(2)}×` : '–';
  const lines = [
    `Banking77 (train ${train.length}, test ${test.length}), ${cpus().length} CPUs, Node ${process.version}`,
    '',
    '| tool | train s | accuracy | macro-F1 | single predict ms (median) | throughput texts/s | train time vs sklearn | train time vs fastText |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of ours) {
    lines.push(
      `| ${r.tool} | ${fmt(r.trainSeconds, 2)} | ${fmt(r.accuracy, 4)} | ${fmt(r.macroF1, 4)} | ${fmt(r.singlePredictMedianMs)} | ${fmt(r.throughputPerSecond, 0)} | ${ratio(r.trainSeconds, sklearn?.trainSeconds)} | ${ratio(r.trainSeconds, fasttext?.trainSeconds)} |`,
    );
  }
  if (sklearn) {
    lines.push(
      `| scikit-learn ${sklearn.version} LinearSVC | ${fmt(sklearn.trainSeconds, 2)} | ${fmt(sklearn.accuracy, 4)} | ${fmt(sklearn.macroF1, 4)} | ${fmt(sklearn.singlePredictMedianMs)} | ${fmt(sklearn.throughputPerSecond, 0)} | 1.00× | ${ratio(sklearn.trainSeconds, fasttext?.trainSeconds)} |`,
    );
  }
  if (fasttext) {
    lines.push(
      `| fastText ${fasttext.version} | ${fmt(fasttext.trainSeconds, 2)} | ${fmt(fasttext.accuracy, 4)} | – | – | – | ${ratio(fasttext.trainSeconds, sklearn?.trainSeconds)} | 1.00× |`,
    );
  }
  console.log(lines.join('\n'));
  await mkdir(dirname(resultsFile), { recursive: true });
  await writeFile(
    resultsFile,
    `${JSON.stringify(
      {
        dataset: 'banking77',
        date: new Date().toISOString(),
        machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
        command: ['node --import tsx bench/classify-banking77.ts', ...args].join(' '),
        ours,
        reference: { sklearn, fasttext },
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nresults written to ${resultsFile}`);
}

await main();
