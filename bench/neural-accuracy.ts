/**
 * Accuracy of the neural rungs against the ladder-I references, trained in the same run:
 * MIT Restaurant and WNUT-17 — `bilstm-crf.v1` (or `idcnn-crf.v1`) with pretrained vectors vs `crf.v1`
 * (the tuned settings of bench/ner-crf.ts); Banking77 — `embedding-bag.v1` / `text-cnn.v1` with vectors
 * vs `linear.v1` (hinge, default).
 *
 * Usage: node --import tsx bench/neural-accuracy.ts [--task mit_restaurant|wnut17|banking77]
 *        [--model bilstm-crf.v1] [--config '{"epochs":20}'] [--vectors glove|wink|none]
 *        [--dev-only] [--no-reference] [--threads 2]
 *
 * Dev data only decides early stopping and tuning: MIT Restaurant holds out 15% of train (seeded
 * shuffle), WNUT-17 uses its dev set, Banking77 holds out 10% of train. `--dev-only` trains the neural
 * model and prints its dev score without touching the test set (use it to tune). The references train
 * on the full training set as in bench/ner-crf.ts and bench/classify-banking77.ts. Writes
 * bench/results/neural-accuracy-<task>[-<model>][-<vectors>].json and prints a markdown table with ratios.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '../src/core/rng.ts';
import { readDataset } from '../src/data/formats/index.ts';
import type { Example } from '../src/data/types.ts';
import '../src/models/crf/index.ts';
import '../src/models/linear/index.ts';
import '../src/models/neural/classifiers/index.ts';
import '../src/models/neural/taggers/index.ts';
import type { FitReport, Model } from '../src/models/model.ts';
import { createModel } from '../src/models/registry.ts';
import { machineInfo } from './machine.ts';
import { DATASETS, datasets, readConll, spanScores } from './ner-data.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const task = arg('task') ?? 'mit_restaurant';
const devOnly = process.argv.includes('--dev-only');
const withReference = !devOnly && !process.argv.includes('--no-reference');
const vectorsKind = arg('vectors') ?? 'glove';
const isNer = task !== 'banking77';
const architecture = arg('model') ?? (isNer ? 'bilstm-crf.v1' : 'embedding-bag.v1');

/** Pretrained vectors config for `--vectors`. */
function vectorsConfig(): Record<string, unknown> | undefined {
  if (vectorsKind === 'none') return undefined;
  if (vectorsKind === 'wink') return { wink: true };
  return { path: join(datasets, 'vectors/glove-50d-5k.json') };
}

/** Seeded split of `examples` into (rest, held-out share). */
function holdOut(examples: Example[], share: number): [Example[], Example[]] {
  const order = createRng(20261207).shuffle(examples.map((_, i) => i));
  const cut = Math.round(examples.length * share);
  const dev = new Set(order.slice(0, cut));
  return [examples.filter((_, i) => !dev.has(i)), examples.filter((_, i) => dev.has(i))];
}

async function readBanking(name: string): Promise<Example[]> {
  const { examples } = await readDataset(join(datasets, 'classify/banking77', `${name}.csv`), {
    format: 'csv',
    textColumn: 'text',
    labelColumn: 'category',
    task: 'classify',
  });
  return examples;
}

interface Splits {
  train: Example[];
  dev: Example[];
  test: Example[];
  /** What the reference trains on (and its dev set, if it uses one). */
  referenceTrain: Example[];
  referenceDev?: Example[];
  referenceArchitecture: string;
  referenceConfig: Record<string, unknown>;
}

async function loadSplits(): Promise<Splits> {
  if (task === 'banking77') {
    const full = await readBanking('train');
    const [train, dev] = holdOut(full, 0.1);
    return {
      train,
      dev,
      test: await readBanking('test'),
      referenceTrain: full,
      referenceArchitecture: 'linear.v1',
      referenceConfig: { loss: 'hinge' },
    };
  }
  const spec = DATASETS[task];
  if (!spec) throw new Error(`unknown task ${task}; use mit_restaurant, wnut17 or banking77`);
  const full = readConll(spec.train, datasets);
  const test = readConll(spec.test, datasets);
  if (spec.dev) {
    const dev = readConll(spec.dev, datasets);
    return {
      train: full,
      dev,
      test,
      referenceTrain: full,
      referenceDev: dev,
      referenceArchitecture: 'crf.v1',
      referenceConfig: spec.config,
    };
  }
  const [train, dev] = holdOut(full, 0.15);
  return {
    train,
    dev,
    test,
    referenceTrain: full,
    referenceArchitecture: 'crf.v1',
    referenceConfig: spec.config,
  };
}

/** Test score: exact-span entity F1 (NER) or accuracy (classification). */
function score(model: Model, test: Example[]): Record<string, number> {
  if (isNer) {
    const predicted = model.predict(test.map((e) => ({ text: e.text, tokens: e.tokens })));
    return spanScores(
      test,
      predicted.map((p) => p.spans ?? []),
    );
  }
  const predicted = model.predict(test.map((e) => ({ text: e.text })));
  const right = predicted.filter((p, i) => p.labels?.[0] === test[i]!.labels?.[0]).length;
  return { accuracy: right / test.length };
}

interface Trained {
  architecture: string;
  config: Record<string, unknown>;
  trainSeconds: number;
  fit: FitReport;
  test?: Record<string, number>;
}

async function train(
  name: string,
  config: Record<string, unknown>,
  trainSet: Example[],
  dev: Example[] | undefined,
  test: Example[] | undefined,
): Promise<Trained> {
  const model = createModel(name, config);
  const t0 = performance.now();
  const fit = await model.fit(trainSet, dev, {
    seed: 1,
    onProgress: (e) => {
      const d = e.devScore !== undefined ? ` dev ${e.devScore.toFixed(4)}` : '';
      const secs = ((performance.now() - t0) / 1000).toFixed(0);
      const loss = e.loss !== undefined ? ` loss ${e.loss.toFixed(3)}` : '';
      process.stderr.write(`  ${name} epoch ${e.epoch}/${e.epochs}${loss}${d} (${secs} s)\n`);
    },
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  return {
    architecture: name,
    config: model.config(),
    trainSeconds,
    fit,
    ...(test ? { test: score(model, test) } : {}),
  };
}

async function main(): Promise<void> {
  if (!existsSync(datasets)) {
    console.log(`skipped: ${datasets} not found (set SAPPHIRE_DATASETS)`);
    return;
  }
  const splits = await loadSplits();
  const threads = Number(arg('threads') ?? 2);
  const vectors = vectorsConfig();
  const config = { threads, ...(vectors ? { vectors } : {}), ...JSON.parse(arg('config') ?? '{}') };
  console.log(
    `${task}: train ${splits.train.length}, dev ${splits.dev.length}, test ${splits.test.length}; ${architecture} ${JSON.stringify(config)}`,
  );
  const loadBefore = loadavg();
  const neural = await train(
    architecture,
    config,
    splits.train,
    splits.dev,
    devOnly ? undefined : splits.test,
  );
  const metric = isNer ? 'f1' : 'accuracy';
  console.log(
    `${architecture}: best dev ${neural.fit.bestDevScore?.toFixed(4)} after ${neural.fit.epochs} epochs, ${neural.trainSeconds.toFixed(1)} s`,
  );
  if (devOnly) return;
  const reference = withReference
    ? await train(
        splits.referenceArchitecture,
        splits.referenceConfig,
        splits.referenceTrain,
        splits.referenceDev,
        splits.test,
      )
    : undefined;
  const loadAfter = loadavg();

  const label = isNer ? 'entity F1 (test)' : 'accuracy (test)';
  const ours = neural.test![metric]!;
  const theirs = reference?.test?.[metric];
  const fmt = (v: number | undefined, d: number) => (v === undefined ? '–' : v.toFixed(d));
  const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(2)}×` : '–');
  console.log(`\n| ${task} | ${architecture} | ${reference?.architecture ?? 'reference'} | ratio |`);
  console.log('|---|---:|---:|---:|');
  console.log(`| ${label} | ${fmt(ours, 4)} | ${fmt(theirs, 4)} | ${ratio(ours, theirs)} |`);
  console.log(
    `| train time (s) | ${fmt(neural.trainSeconds, 1)} | ${fmt(reference?.trainSeconds, 1)} | ${ratio(neural.trainSeconds, reference?.trainSeconds)} |`,
  );
  console.log(`| epochs (best dev) | ${neural.fit.epochs} (${fmt(neural.fit.bestDevScore, 4)}) | – | |`);
  console.log(
    `\nload average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} → ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const results = {
    task,
    date: new Date().toISOString(),
    machine: machineInfo(loadBefore, loadAfter),
    command: `node --import tsx bench/neural-accuracy.ts ${process.argv.slice(2).join(' ')}`.trim(),
    split: { train: splits.train.length, dev: splits.dev.length, test: splits.test.length },
    neural,
    reference,
  };
  await mkdir(join(root, 'bench/results'), { recursive: true });
  const suffix =
    (architecture === (isNer ? 'bilstm-crf.v1' : 'embedding-bag.v1') ? '' : `-${architecture}`) +
    (vectorsKind === 'glove' ? '' : `-${vectorsKind}`);
  const file = join(root, `bench/results/neural-accuracy-${task}${suffix}.json`);
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

await main();
