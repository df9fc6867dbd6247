/**
 * Import speed: `sapphire data import` end to end (read + validate + hash + store in SQLite) on the
 * largest shared NER sets and on Banking77, side by side with plain Python parsing the same files.
 *
 * Run: `node --import tsx bench/import-speed.ts` (writes bench/results/import-speed.json).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importDataset } from '../src/data/dataset-ops.ts';
import { readDataset } from '../src/data/formats/index.ts';
import { openStore } from '../src/store/open-store.ts';

const DATA = join(import.meta.dirname, '..', '..', 'shared', 'datasets');
const REPEATS = 5;

interface Case {
  name: string;
  path: string;
  kind: 'conll' | 'jsonl' | 'csv';
}

const cases: Case[] = [
  {
    name: 'fashion_brands train (JSONL, largest NER set)',
    path: 'ner/fashion_brands/fashion_brands_training.jsonl',
    kind: 'jsonl',
  },
  {
    name: 'MIT Restaurant train (CoNLL, largest CoNLL set)',
    path: 'ner/mit_restaurant/restauranttrain.bio',
    kind: 'conll',
  },
  { name: 'WNUT-17 train (CoNLL)', path: 'ner/wnut17/wnut17train.conll', kind: 'conll' },
  { name: 'Banking77 train (CSV)', path: 'classify/banking77/train.csv', kind: 'csv' },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function pythonSeconds(kind: string, path: string): number | null {
  try {
    const out = execFileSync(
      '/usr/bin/python3',
      [join(import.meta.dirname, 'reference', 'parse_only.py'), kind, path, String(REPEATS)],
      {
        encoding: 'utf8',
      },
    );
    return (JSON.parse(out) as { seconds: number }).seconds;
  } catch {
    return null;
  }
}

if (!existsSync(DATA)) {
  console.error(`shared datasets not found at ${DATA}; nothing to measure`);
  process.exit(1);
}

const results = [];
for (const c of cases) {
  const path = join(DATA, c.path);
  const mb = statSync(path).size / 1e6;
  const parseTimes: number[] = [];
  const importTimes: number[] = [];
  let examples = 0;
  for (let i = 0; i < REPEATS; i++) {
    let start = performance.now();
    const read = await readDataset(path, { format: 'auto' });
    parseTimes.push((performance.now() - start) / 1000);
    examples = read.examples.length;
    const dir = mkdtempSync(join(tmpdir(), 'sapphire-bench-'));
    const store = await openStore({ projectDir: dir });
    start = performance.now();
    await importDataset(store, { name: 'bench', sources: [{ path }] });
    importTimes.push((performance.now() - start) / 1000);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const python = pythonSeconds(c.kind, path);
  const parse = median(parseTimes);
  const full = median(importTimes);
  results.push({
    dataset: c.name,
    file: c.path,
    megabytes: Number(mb.toFixed(3)),
    examples,
    sapphireParseMBs: Number((mb / parse).toFixed(2)),
    sapphireImportMBs: Number((mb / full).toFixed(2)),
    pythonParseMBs: python ? Number((mb / python).toFixed(2)) : null,
    parseRatioVsPython: python ? Number((python / parse).toFixed(2)) : null,
  });
}

console.log(
  '| data | MB | examples | sapphire parse MB/s | sapphire full import MB/s | python parse-only MB/s | parse speed ratio (sapphire/python) |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  console.log(
    `| ${r.dataset} | ${r.megabytes} | ${r.examples} | ${r.sapphireParseMBs} | ${r.sapphireImportMBs} | ${r.pythonParseMBs ?? 'n/a'} | ${r.parseRatioVsPython ?? 'n/a'} |`,
  );
}
writeFileSync(
  join(import.meta.dirname, 'results', 'import-speed.json'),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, repeats: REPEATS, results }, null, 2)}\n`,
);
