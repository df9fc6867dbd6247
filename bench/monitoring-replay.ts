/**
 * Live monitoring cost and memory: Banking77's test texts predicted by linear.v1 (trained on Banking77 train), then
 * replayed 1,000,000 times through the live monitor's sketches with a clock that advances so the replay spans two
 * days of 5-minute buckets (24 h retention). Side by side in the same run: the model's own predict time per text
 * (one text per call, as the server does), and the sketches' observe time per prediction, plus predict alone vs
 * predict + observe interleaved in 400 pairs of blocks of 50 texts (the answer object built in both, as the server builds it either way) (so machine load hits both alike; the median
 * pair ratio is robust to the load spikes of a shared machine); heapUsed is sampled every
 * 50,000 predictions after a full GC.
 *
 * Run: `node --expose-gc --import tsx bench/monitoring-replay.ts [--predictions 1000000]`
 * (writes bench/results/monitoring-replay.json and prints a markdown table).
 */
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { readDataset } from '../src/data/formats/index.ts';
import type { Example } from '../src/data/types.ts';
import { createModel } from '../src/models/index.ts';
import { LiveMonitor } from '../src/monitor/live-monitor.ts';
import type { MonitoredAnswer } from '../src/monitor/live-sketch.ts';
import { buildReferenceProfile } from '../src/train/reference-profile.ts';
import { loadLine, machineInfo, writeResult } from './results-file.ts';

const REPO = resolve(import.meta.dirname, '..');
const DATASETS = process.env.SAPPHIRE_DATASETS ?? join(REPO, '..', 'shared', 'datasets');
const args = process.argv.slice(2);
const at = args.indexOf('--predictions');
const PREDICTIONS = at >= 0 ? Number(args[at + 1]) : 1_000_000;
const gc = (globalThis as { gc?: () => void }).gc;

async function read(file: string): Promise<Example[]> {
  const { examples } = await readDataset(file, {
    format: 'csv',
    textColumn: 'text',
    labelColumn: 'category',
    task: 'classify',
  } as never);
  return examples;
}

function heapMiB(): number {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

async function main(): Promise<void> {
  const banking = join(DATASETS, 'classify', 'banking77');
  const [train, test] = await Promise.all([
    read(join(banking, 'train.csv')),
    read(join(banking, 'test.csv')),
  ]);
  const model = createModel('linear.v1', { task: 'classify' });
  await model.fit(train, undefined, { seed: 1 });
  const profile = buildReferenceProfile({
    task: 'classify',
    architecture: model.name,
    train,
    reference: {
      name: 'test',
      examples: test,
      predictions: model.predict(test.map((e) => ({ text: e.text }))),
    },
  });

  // The model's predict time per text, one text per call (as `POST /predict {text}` does).
  const texts = test.map((e) => e.text);
  const answers: MonitoredAnswer[] = [];
  const predictRounds = 3;
  const predictStart = performance.now();
  for (let r = 0; r < predictRounds; r++)
    for (let i = 0; i < texts.length; i++) {
      const p = model.predict([{ text: texts[i]! }])[0]!;
      if (r === 0) {
        const label = p.labels![0]!;
        answers.push({ labels: [{ label, score: p.scores!.find((s) => s.label === label)!.score }] });
      }
    }
  const predictUs = ((performance.now() - predictStart) * 1000) / (predictRounds * texts.length);

  // Side by side, interleaved in blocks so machine load hits both alike: predict alone vs predict + observe.
  const sideBySide = new LiveMonitor({ profiles: async () => profile });
  const sideVersion = { tenant: 'default', name: 'side', version: 1 };
  await sideBySide.profileFor(sideVersion);
  let alone = 0;
  let monitored = 0;
  let sink = 0;
  const ratios: number[] = [];
  const blocks = 400;
  const block = 50;
  for (let b = 0; b < blocks; b++) {
    const offset = (b * block) % texts.length;
    const pair: number[] = [0, 0];
    for (const withMonitor of b % 2 ? [true, false] : [false, true]) {
      const start = performance.now();
      for (let k = 0; k < block; k++) {
        const i = (offset + k) % texts.length;
        const p = model.predict([{ text: texts[i]! }])[0]!;
        // The served answer is built with monitoring on or off (as the server does); only observe differs.
        const label = p.labels![0]!;
        const answer = { labels: [{ label, score: p.scores!.find((s) => s.label === label)!.score }] };
        sink += answer.labels[0]!.score;
        if (withMonitor) sideBySide.observe(sideVersion, texts[i]!, answer);
      }
      const ms = performance.now() - start;
      pair[withMonitor ? 1 : 0] = ms;
      if (withMonitor) monitored += ms;
      else alone += ms;
    }
    ratios.push(pair[1]! / pair[0]!);
  }
  ratios.sort((a, b) => a - b);
  const medianRatio = ratios[ratios.length >> 1]!;
  const aloneUs = (alone * 1000) / (blocks * block);
  const monitoredUs = (monitored * 1000) / (blocks * block);

  // 1M predictions over two simulated days: the clock advances 172.8 ms per prediction.
  let clock = Date.UTC(2026, 0, 1);
  const step = (2 * 86_400_000) / PREDICTIONS;
  const live = new LiveMonitor({
    bucketSeconds: 300,
    retentionHours: 24,
    profiles: async () => profile,
    now: () => clock,
  });
  const version = { tenant: 'default', name: 'bank', version: 1 };
  await live.profileFor(version);
  const samples: { predictions: number; heapMiB: number; buckets: number }[] = [
    { predictions: 0, heapMiB: heapMiB(), buckets: 0 },
  ];
  let observeMs = 0;
  const every = 50_000;
  for (let done = 0; done < PREDICTIONS; done += every) {
    const n = Math.min(every, PREDICTIONS - done);
    const start = performance.now();
    for (let k = 0; k < n; k++) {
      const i = (done + k) % texts.length;
      live.observe(version, texts[i]!, answers[i]!);
      clock += step;
    }
    observeMs += performance.now() - start;
    samples.push({ predictions: done + n, heapMiB: heapMiB(), buckets: live.bucketCount });
  }
  const observeUs = (observeMs * 1000) / PREDICTIONS;
  const view = await live.view(version, 3_600_000);

  const afterDay = samples.filter((s) => s.predictions >= PREDICTIONS / 2);
  const heapValues = afterDay.map((s) => s.heapMiB);
  const output = {
    ...machineInfo(),
    gc: gc !== undefined,
    predictions: PREDICTIONS,
    predictUsPerText: predictUs,
    interleaved: {
      blocks,
      block,
      predictUs: aloneUs,
      predictAndObserveUs: monitoredUs,
      ratio: monitoredUs / aloneUs,
      medianPairRatio: medianRatio,
    },
    observeUsPerPrediction: observeUs,
    observeShareOfPredict: observeUs / predictUs,
    heapMiBSecondDay: { min: Math.min(...heapValues), max: Math.max(...heapValues) },
    lastHourItems: view.sketch.items,
    scoreSink: sink,
    samples,
    command: `node --expose-gc --import tsx bench/monitoring-replay.ts ${args.join(' ')}`.trim(),
  };
  writeResult('monitoring-replay', output);
  console.log(`${loadLine()}; ${cpus().length} CPUs; gc ${gc ? 'forced' : 'not exposed'}`);
  console.log('| measure | value |');
  console.log('|---|---:|');
  console.log(`| linear.v1 predict, one text per call | ${predictUs.toFixed(1)} µs/text |`);
  console.log(
    `| sketches observe (labels, HLL ×2, DDSketch ×2, OOV) | ${observeUs.toFixed(2)} µs/prediction |`,
  );
  console.log(`| observe / predict | ${((observeUs / predictUs) * 100).toFixed(1)}% |`);
  console.log(
    `| interleaved blocks: predict ${aloneUs.toFixed(1)} µs vs predict + observe ${monitoredUs.toFixed(1)} µs | ×${(monitoredUs / aloneUs).toFixed(3)} |`,
  );
  console.log(
    `| interleaved, median of ${blocks} paired blocks of ${block} texts | ×${medianRatio.toFixed(3)} |`,
  );
  console.log(
    `| heapUsed over the 2nd simulated day (after GC) | ${output.heapMiBSecondDay.min.toFixed(1)}–${output.heapMiBSecondDay.max.toFixed(1)} MiB |`,
  );
  console.log('');
  console.log('| predictions | heapUsed MiB | buckets |');
  console.log('|---:|---:|---:|');
  for (const s of samples.filter((_, i) => i % 4 === 0 || i === samples.length - 1))
    console.log(`| ${s.predictions.toLocaleString('en-US')} | ${s.heapMiB.toFixed(1)} | ${s.buckets} |`);
}

await main();
