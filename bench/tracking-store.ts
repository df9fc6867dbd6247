/**
 * Tracking-store speed: (a) logging 100,000 metric points to one run through `Store.logMetricPoints`, beside
 * the floor — a hand-written prepared-statement insert loop in one transaction into an identical table
 * (better-sqlite3 for SQLite; one `unnest` insert through `pg` for PostgreSQL); (b) `runs ls` over 10,000 runs
 * through `queryRuns`: the default listing (newest 50 top-level runs) and a metric filter + sort over all of
 * them. SQLite always; PostgreSQL too when `SAPPHIRE_TEST_PG_URL` or `--pg <url>` is given (in a fresh schema
 * that is dropped afterwards).
 *
 * Run: `node --import tsx bench/tracking-store.ts [--pg <url>] [--runs 10000] [--repeats 5]`
 * (writes bench/results/tracking-store.json).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Insertable } from 'kysely';
import pg from 'pg';
import { initProject } from '../src/core/project.ts';
import { queryRuns } from '../src/experiments/run-query.ts';
import type { RunsTable } from '../src/store/database.ts';
import { newRunId } from '../src/store/ids.ts';
import { openStore } from '../src/store/open-store.ts';
import { collectProvenance } from '../src/store/provenance.ts';
import type { SqlStore } from '../src/store/sql-store.ts';
import type { MetricPoint } from '../src/store/store.ts';

const args = process.argv.slice(2);
function flag(name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
const PG_URL = flag('--pg') ?? process.env.SAPPHIRE_TEST_PG_URL ?? null;
const RUNS = Number(flag('--runs') ?? 10_000);
const REPEATS = Number(flag('--repeats') ?? 5);
const KEYS = 10;
const STEPS = 10_000;
/** Runs made through createRun + finishRun (timed); the rest are inserted in bulk through the store's kysely handle. */
const API_RUNS = 500;
const REPO = join(import.meta.dirname, '..');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function seconds(start: number): number {
  return (performance.now() - start) / 1000;
}

function metricPoints(): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (let step = 0; step < STEPS; step++)
    for (let k = 0; k < KEYS; k++) points.push({ key: `metric_${k}`, step, value: Math.sin(step + k) });
  return points;
}

/** A deterministic pseudo-random number in [0, 1) for run i (no Math.random: results repeat). */
function noise(i: number, salt: number): number {
  const x = Math.sin(i * 12.9898 + salt * 78.233) * 43758.5453;
  return x - Math.floor(x);
}

const ARCHITECTURES = ['crf.v1', 'linear.v1', 'perceptron.v1', 'token-majority.v1'];

/** A realistic run record: a filled CRF-sized config, 21 final metrics, tags and provenance. */
function runFields(i: number) {
  const architecture = ARCHITECTURES[i % ARCHITECTURES.length]!;
  const config = {
    model: {
      architecture,
      task: 'ner',
      c1: Number(noise(i, 1).toFixed(3)),
      c2: Number(noise(i, 2).toFixed(3)),
      max_iterations: 100,
      features: { window: 2, shapes: true, prefixes: [1, 2, 3], suffixes: [1, 2, 3], lowercase: true },
      tag_scheme: 'BILOU',
    },
    data: { dataset: 'bench', train: 'train', dev: 'dev', test: 'test' },
    seed: i % 5,
    output: null,
    name: null,
    tags: [],
  };
  const metrics: Record<string, number> = { train_seconds: 1 + noise(i, 3) * 30 };
  for (const set of ['train', 'dev', 'test'])
    for (const m of [
      'span_f1_micro',
      'span_f1_macro',
      'span_precision',
      'span_recall',
      'ece',
      'macro_f1',
      'accuracy',
    ])
      metrics[`${set}.${m}`] = Number(noise(i, set.length * 7 + m.length).toFixed(6));
  const tags = i % 10 === 0 ? ['baseline'] : i % 3 === 0 ? ['crf', 'candidate'] : [];
  return { config, metrics, tags, seed: i % 5, name: `${architecture} #${i}` };
}

interface StoreResult {
  dialect: string;
  logMetricPoints: {
    points: number;
    storeSeconds: number;
    storeBatchedSeconds: number;
    floorSeconds: number;
  };
  runs: {
    count: number;
    members: number;
    apiCreateFinishPerSecond: number;
    queries: { name: string; returned: number; medianSeconds: number; firstSeconds: number }[];
  };
  cli: { runsLsSeconds: number; versionSeconds: number } | null;
}

async function benchLogging(
  store: SqlStore,
  floor: () => Promise<number>,
): Promise<StoreResult['logMetricPoints']> {
  const points = metricPoints();
  const one = await store.createRun({ kind: 'bench' });
  let start = performance.now();
  await store.logMetricPoints(one.id, points);
  const storeSeconds = seconds(start);
  if ((await store.metricHistory(one.id, 'metric_3')).length !== STEPS)
    throw new Error('points went missing');
  // As training logs them: batches of 1,000 points (MetricBuffer in src/train/train.ts).
  const batched = await store.createRun({ kind: 'bench' });
  start = performance.now();
  for (let i = 0; i < points.length; i += 1000)
    await store.logMetricPoints(batched.id, points.slice(i, i + 1000));
  const storeBatchedSeconds = seconds(start);
  await store.deleteRun(one.id);
  await store.deleteRun(batched.id);
  return { points: points.length, storeSeconds, storeBatchedSeconds, floorSeconds: await floor() };
}

/** The SQLite floor: a fresh database with the store's pragmas and an identical table, one prepared insert per point. */
function sqliteFloor(dir: string): Promise<number> {
  const db = new BetterSqlite3(join(dir, 'floor.db'));
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  db.pragma('journal_mode = WAL');
  db.exec('create table runs (id text not null unique)');
  db.exec(
    'create table run_metrics (run_id text not null references runs (id), key text not null, step integer not null, ' +
      'value double precision not null, constraint run_metrics_pk primary key (run_id, key, step))',
  );
  db.prepare('insert into runs (id) values (?)').run('r-floor');
  const insert = db.prepare('insert into run_metrics (run_id, key, step, value) values (?, ?, ?, ?)');
  const points = metricPoints();
  const start = performance.now();
  db.transaction(() => {
    for (const p of points) insert.run('r-floor', p.key, p.step, p.value);
  })();
  const took = seconds(start);
  db.close();
  return Promise.resolve(took);
}

/** The PostgreSQL floor: an identical table, the 100,000 points sent as four arrays in one `unnest` insert. */
async function postgresFloor(url: string, schema: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`set search_path to "${schema}"`);
    await client.query('create table floor_runs (id text not null unique)');
    await client.query(
      'create table floor_metrics (run_id text not null references floor_runs (id), key text not null, ' +
        'step integer not null, value double precision not null, primary key (run_id, key, step))',
    );
    await client.query(`insert into floor_runs (id) values ('r-floor')`);
    const points = metricPoints();
    const start = performance.now();
    await client.query('begin');
    await client.query(
      'insert into floor_metrics (run_id, key, step, value) select * from unnest($1::text[], $2::text[], $3::int[], $4::float8[])',
      [
        points.map(() => 'r-floor'),
        points.map((p) => p.key),
        points.map((p) => p.step),
        points.map((p) => p.value),
      ],
    );
    await client.query('commit');
    return seconds(start);
  } finally {
    await client.end();
  }
}

/** Fills the store with RUNS runs: API_RUNS through createRun/finishRun (timed), the rest in bulk; 1 in 5 are study members. */
async function fillRuns(
  store: SqlStore,
  projectDir: string,
): Promise<{ perSecond: number; members: number }> {
  const provenance: Record<string, unknown> = {
    ...collectProvenance(projectDir, 'sapphire train bench.yaml'),
  };
  const start = performance.now();
  for (let i = 0; i < API_RUNS; i++) {
    const f = runFields(i);
    const run = await store.createRun({
      kind: 'train',
      name: f.name,
      config: f.config,
      seed: f.seed,
      tags: f.tags,
      provenance,
    });
    await store.finishRun(run.id, { status: 'finished', metrics: f.metrics });
  }
  const perSecond = API_RUNS / seconds(start);
  // Studies of 40 trials each make up a fifth of the rest, so `runs ls` has members to skip.
  const rows: Insertable<RunsTable>[] = [];
  let members = 0;
  let study: string | null = null;
  const base = Date.now() - RUNS * 1000;
  for (let i = API_RUNS; i < RUNS; i++) {
    const f = runFields(i);
    const at = new Date(base + i * 1000);
    const id = newRunId(at); // one second apart: unique
    let kind = 'train';
    let parent: string | null = null;
    if (i % 5 === 0) {
      if (study === null || i % 200 === 0) {
        study = id;
        kind = 'sweep';
      } else {
        kind = 'trial';
        parent = study;
        members++;
      }
    }
    rows.push({
      id,
      kind,
      name: f.name,
      status: 'finished',
      config: JSON.stringify(f.config),
      dataset_versions: '[]',
      seed: f.seed,
      metrics: JSON.stringify(f.metrics),
      tags: JSON.stringify(f.tags),
      error: null,
      started_at: at.toISOString(),
      ended_at: new Date(at.getTime() + 500).toISOString(),
      parent_id: parent,
      notes: null,
      provenance: JSON.stringify(provenance),
    });
  }
  await store.db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += 500)
      await trx
        .insertInto('runs')
        .values(rows.slice(i, i + 500))
        .execute();
  });
  return { perSecond, members };
}

async function timeQuery(
  name: string,
  run: () => Promise<unknown[]>,
): Promise<StoreResult['runs']['queries'][number]> {
  const times: number[] = [];
  let returned = 0;
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    returned = (await run()).length;
    times.push(seconds(start));
  }
  return { name, returned, medianSeconds: median(times), firstSeconds: times[0]! };
}

/** Wall time of the real CLI: `runs ls` on the filled store, and `--version` (process start-up alone). */
function timeCli(projectDir: string, storeUri: string): StoreResult['cli'] {
  const wall = (...cliArgs: string[]) => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      const out = spawnSync(process.execPath, [join(REPO, 'bin', 'sapphire.js'), ...cliArgs], {
        cwd: projectDir,
        encoding: 'utf8',
        env: { ...process.env, SAPPHIRE_STORE: storeUri },
      });
      if (out.status !== 0) throw new Error(`sapphire ${cliArgs.join(' ')} failed: ${out.stderr}`);
      times.push(seconds(start));
    }
    return median(times);
  };
  return { runsLsSeconds: wall('runs', 'ls'), versionSeconds: wall('--version') };
}

async function benchStore(
  dialect: string,
  open: () => Promise<{ store: SqlStore; projectDir: string; uri: string }>,
  floor: (projectDir: string) => Promise<number>,
): Promise<StoreResult> {
  const { store, projectDir, uri } = await open();
  try {
    console.error(`${dialect}: logging ${KEYS * STEPS} metric points…`);
    const logging = await benchLogging(store, () => floor(projectDir));
    console.error(`${dialect}: creating ${RUNS} runs…`);
    const filled = await fillRuns(store, projectDir);
    console.error(`${dialect}: querying…`);
    const queries = [
      await timeQuery('runs ls (newest 50 top-level runs)', () => queryRuns(store, { limit: 50 })),
      await timeQuery('runs ls --filter dev.span_f1_micro>0.5 --sort dev.span_f1_micro (all runs)', () =>
        queryRuns(store, {
          filters: ['dev.span_f1_micro>0.5'],
          sort: 'dev.span_f1_micro',
          limit: 50,
          includeMembers: true,
        }),
      ),
      await timeQuery('runs ls --tag crf --filter config.model.c2<0.5 --sort test.span_f1_micro', () =>
        queryRuns(store, {
          filters: ['tag=crf', 'config.model.c2<0.5'],
          sort: 'test.span_f1_micro',
          limit: 50,
        }),
      ),
    ];
    const cli = timeCli(projectDir, uri);
    return {
      dialect,
      logMetricPoints: logging,
      runs: { count: RUNS, members: filled.members, apiCreateFinishPerSecond: filled.perSecond, queries },
      cli,
    };
  } finally {
    await store.close();
  }
}

function newProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sapphire-bench-tracking-'));
  initProject(dir, { task: 'ner', labels: ['BRAND'] });
  return dir;
}

const results: StoreResult[] = [];
const cleanups: (() => Promise<void>)[] = [];
try {
  results.push(
    await benchStore(
      'sqlite',
      async () => {
        const projectDir = newProject();
        cleanups.push(async () => rmSync(projectDir, { recursive: true, force: true }));
        const uri = `sqlite:${join(projectDir, '.sapphire', 'sapphire.db')}`;
        return { store: await openStore({ projectDir, uri }), projectDir, uri };
      },
      (projectDir) => sqliteFloor(projectDir),
    ),
  );
  if (PG_URL) {
    const schema = `sapphire_bench_${process.pid}_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create schema "${schema}"`);
    cleanups.push(async () => {
      await admin.query(`drop schema if exists "${schema}" cascade`);
      await admin.end();
    });
    const separator = PG_URL.includes('?') ? '&' : '?';
    const uri = `${PG_URL}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    results.push(
      await benchStore(
        'postgres',
        async () => {
          const projectDir = newProject();
          cleanups.push(async () => rmSync(projectDir, { recursive: true, force: true }));
          return { store: await openStore({ projectDir, uri }), projectDir, uri };
        },
        () => postgresFloor(PG_URL, schema),
      ),
    );
  } else console.error('postgres: skipped (set SAPPHIRE_TEST_PG_URL or pass --pg <url>)');
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}

const fmt = (s: number) => s.toFixed(3);
console.log('| store | 100k points: logMetricPoints s | in 1k batches s | floor s | store/floor |');
console.log('|---|---:|---:|---:|---:|');
for (const r of results) {
  const l = r.logMetricPoints;
  console.log(
    `| ${r.dialect} | ${fmt(l.storeSeconds)} | ${fmt(l.storeBatchedSeconds)} | ${fmt(l.floorSeconds)} | ${(l.storeSeconds / l.floorSeconds).toFixed(1)}× |`,
  );
}
console.log('');
console.log(`| store | query over ${RUNS} runs | returned | median s | first s |`);
console.log('|---|---|---:|---:|---:|');
for (const r of results)
  for (const q of r.runs.queries)
    console.log(
      `| ${r.dialect} | ${q.name} | ${q.returned} | ${fmt(q.medianSeconds)} | ${fmt(q.firstSeconds)} |`,
    );
console.log('');
for (const r of results) {
  console.log(
    `${r.dialect}: createRun + finishRun ${r.runs.apiCreateFinishPerSecond.toFixed(0)} runs/s; ` +
      `CLI \`runs ls\` ${r.cli ? fmt(r.cli.runsLsSeconds) : 'n/a'} s wall (\`--version\` ${r.cli ? fmt(r.cli.versionSeconds) : 'n/a'} s)`,
  );
}
writeFileSync(
  join(import.meta.dirname, 'results', 'tracking-store.json'),
  `${JSON.stringify(
    { date: new Date().toISOString(), node: process.version, runs: RUNS, repeats: REPEATS, results },
    null,
    2,
  )}\n`,
);
